package deliverymen

import (
	"github.com/gofiber/fiber/v2"

	"github.com/delivery/platform/internal/auth"
	"github.com/delivery/platform/internal/httpx"
)

// Routes lists the whole delivery men API; guard states the roles of each route.
// A courier sees only the delivery man whose user_id is the courier's account:
// any other is 404 to them, and their list holds only that one.
//
//	GET    /openapi.yaml                     public   this API as OpenAPI 3
//	GET    /delivery-men                     admin, operator, service, courier   ?q= &national_id= &email= &driver_license= &available= &user_id= &limit= &cursor=
//	GET    /delivery-men/me                  courier   the caller's own record
//	GET    /delivery-men/{id}                admin, operator, service, courier
//	POST   /delivery-men                     admin, operator
//	PUT    /delivery-men/{id}                admin, operator
//	PATCH  /delivery-men/{id}                admin, operator
//	DELETE /delivery-men/{id}                admin, operator   409 while he has active orders
//	POST   /assignments                      admin, service   assign a delivery man to an order (idempotent by order_id)
//	GET    /assignments/{order_id}           admin, operator, service
//	POST   /assignments/{order_id}/release   admin, service   free the delivery man (idempotent)
func Routes(r fiber.Router, s *Service, guard auth.Guard) {
	httpx.OpenAPI(r, OpenAPIDoc)
	// Before the resource, so that "me" is not taken for an id.
	r.Get("/delivery-men/me", guard(auth.RoleCourier), s.me)
	s.resource().Mount(r,
		guard(auth.RoleAdmin, auth.RoleOperator, auth.RoleService, auth.RoleCourier),
		guard(auth.RoleAdmin, auth.RoleOperator))
	assign := guard(auth.RoleAdmin, auth.RoleService)
	r.Post("/assignments", assign, s.assign)
	r.Get("/assignments/:id", guard(auth.RoleAdmin, auth.RoleOperator, auth.RoleService), s.getAssignment)
	r.Post("/assignments/:id/release", assign, s.release)
}
