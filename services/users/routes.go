package users

import (
	"github.com/gofiber/fiber/v2"

	"github.com/delivery/platform/internal/auth"
	"github.com/delivery/platform/internal/httpx"
)

// Routes lists the whole users API; the service's own Guard states the roles
// of each route.
//
//	POST   /auth/login               public   {email, password} → {access_token, token_type, expires_in}
//	GET    /.well-known/jwks.json    public   the public keys tokens are verified with
//	GET    /auth/revocations         public   ?since= users whose tokens issued before a time are void
//	GET    /openapi.yaml             public
//	GET    /users/me                 every role
//	PATCH  /users/me                 every role   own name and password only
//	GET    /users                    admin    ?role= &active= &q= &limit= &cursor=
//	GET    /users/{id}               admin, service (the order worker checks a user is active)
//	POST   /users                    admin
//	PUT    /users/{id}               admin    an admin cannot demote or deactivate themselves
//	PATCH  /users/{id}               admin
//	DELETE /users/{id}               admin    nor delete themselves
func Routes(r fiber.Router, s *Service) {
	guard := s.Guard()
	httpx.OpenAPI(r, OpenAPIDoc)
	r.Post("/auth/login", s.login)
	r.Get("/.well-known/jwks.json", s.jwks)
	r.Get("/auth/revocations", s.revocations)
	// Before /users/:id, which would take "me" for an id.
	everyone := guard(auth.Roles...)
	r.Get("/users/me", everyone, s.me)
	r.Patch("/users/me", everyone, s.patchMe)
	// List is narrowed to admins in the resource itself.
	s.resource().Mount(r, guard(auth.RoleAdmin, auth.RoleService), guard(auth.RoleAdmin))
}
