package orders

import (
	"github.com/gofiber/fiber/v2"

	"github.com/delivery/platform/internal/auth"
	"github.com/delivery/platform/internal/httpx"
	"github.com/delivery/platform/workflows"
)

// Routes lists the whole orders API; guard states the roles of each route.
// A courier sees and acts on only the orders assigned to them: any other is
// 404 to them, and their list holds only theirs.
//
//	GET    /openapi.yaml              public   this API as OpenAPI 3
//	POST   /orders                    admin, operator   place an order (optional Idempotency-Key): 201 confirmed, 422 rejected, 202 still checked
//	GET    /orders                    admin, operator, service, courier   ?status= &customer_id= &delivery_man_id= &created_after= &created_before= &late= &limit= &cursor=
//	GET    /orders/{id}               admin, operator, service, courier
//	POST   /orders/{id}/pickup        admin, courier (the assigned one)
//	POST   /orders/{id}/deliver       admin, courier (the assigned one)
//	POST   /orders/{id}/cancel        admin, operator   before pickup
func Routes(r fiber.Router, s *Service, guard auth.Guard) {
	httpx.OpenAPI(r, OpenAPIDoc)
	read := guard(auth.RoleAdmin, auth.RoleOperator, auth.RoleService, auth.RoleCourier)
	courier := guard(auth.RoleAdmin, auth.RoleCourier)
	r.Post("/orders", guard(auth.RoleAdmin, auth.RoleOperator), s.create)
	r.Get("/orders", read, s.list)
	r.Get("/orders/:id", read, s.get)
	r.Post("/orders/:id/pickup", courier, s.transition(workflows.UpdatePickup))
	r.Post("/orders/:id/deliver", courier, s.transition(workflows.UpdateDeliver))
	r.Post("/orders/:id/cancel", guard(auth.RoleAdmin, auth.RoleOperator), s.transition(workflows.UpdateCancel))
}
