package products

import (
	"github.com/gofiber/fiber/v2"

	"github.com/delivery/platform/internal/auth"
	"github.com/delivery/platform/internal/httpx"
)

// Routes lists the whole products API; guard states the roles of each route.
//
//	GET    /products                     admin, operator, service   ?q= &active= &in_stock= &limit= &cursor=
//	GET    /products/{id}                admin, operator, service
//	POST   /products                     admin, operator
//	PUT    /products/{id}                admin, operator
//	PATCH  /products/{id}                admin, operator
//	DELETE /products/{id}                admin, operator
//	POST   /reservations                 admin, service   reserve stock for one order (idempotent by order_id)
//	GET    /reservations/{order_id}      admin, operator, service
//	POST   /reservations/{order_id}/release   admin, service   give the stock back (idempotent)
//	POST   /reservations/{order_id}/fulfill   admin, service   the stock left with the order (idempotent)
func Routes(r fiber.Router, s *Service, guard auth.Guard) {
	httpx.OpenAPI(r, OpenAPIDoc)
	s.resource().Mount(r,
		guard(auth.RoleAdmin, auth.RoleOperator, auth.RoleService),
		guard(auth.RoleAdmin, auth.RoleOperator))
	reserve := guard(auth.RoleAdmin, auth.RoleService)
	r.Post("/reservations", reserve, s.reserve)
	r.Get("/reservations/:id", guard(auth.RoleAdmin, auth.RoleOperator, auth.RoleService), s.getReservation)
	r.Post("/reservations/:id/release", reserve, s.release)
	r.Post("/reservations/:id/fulfill", reserve, s.fulfill)
}
