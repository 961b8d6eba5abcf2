package customers

import (
	"github.com/gofiber/fiber/v2"

	"github.com/delivery/platform/internal/auth"
	"github.com/delivery/platform/internal/httpx"
)

// Routes lists the whole customers API; guard states the roles of each route.
//
//	GET    /openapi.yaml     public   this API as OpenAPI 3
//	GET    /customers        admin, operator, service   ?q= &national_id= &email= &limit= &cursor=
//	GET    /customers/{id}   admin, operator, service
//	POST   /customers        admin, operator
//	PUT    /customers/{id}   admin, operator
//	PATCH  /customers/{id}   admin, operator
//	DELETE /customers/{id}   admin, operator
func Routes(r fiber.Router, s *Service, guard auth.Guard) {
	httpx.OpenAPI(r, OpenAPIDoc)
	s.resource().Mount(r,
		guard(auth.RoleAdmin, auth.RoleOperator, auth.RoleService),
		guard(auth.RoleAdmin, auth.RoleOperator))
}
