package products_test

import (
	"testing"

	"github.com/delivery/platform/internal/auth"
	"github.com/delivery/platform/internal/testenv"
)

// roles is the products service's role × route matrix, as routes.go declares
// it. A route the app has without an entry here fails TestRoleMatrix.
var roles = testenv.Matrix{
	"GET /products":                  {auth.RoleAdmin, auth.RoleOperator, auth.RoleService},
	"GET /products/:id":              {auth.RoleAdmin, auth.RoleOperator, auth.RoleService},
	"POST /products":                 {auth.RoleAdmin, auth.RoleOperator},
	"PUT /products/:id":              {auth.RoleAdmin, auth.RoleOperator},
	"PATCH /products/:id":            {auth.RoleAdmin, auth.RoleOperator},
	"DELETE /products/:id":           {auth.RoleAdmin, auth.RoleOperator},
	"POST /reservations":             {auth.RoleAdmin, auth.RoleService},
	"GET /reservations/:id":          {auth.RoleAdmin, auth.RoleOperator, auth.RoleService},
	"POST /reservations/:id/release": {auth.RoleAdmin, auth.RoleService},
	"POST /reservations/:id/fulfill": {auth.RoleAdmin, auth.RoleService},
}

func TestRoleMatrix(t *testing.T) {
	t.Parallel()
	e := setup(t)
	testenv.CheckRoleMatrix(t, "products", e.api, e.users, roles)
}

func TestBadTokens(t *testing.T) {
	t.Parallel()
	e := setup(t)
	testenv.CheckTokenAttacks(t, "products", e.api, e.users)
}

// Bad input: metacharacters stored literally, NUL and invalid UTF-8 refused,
// huge JSON refused within a memory bound, a body over 1 MiB 413.
func TestHostileInput(t *testing.T) {
	t.Parallel()
	e := setup(t)
	n := testenv.CheckLiteral(t, e.api, e.admin, "/products",
		map[string]any{"name": testenv.Meta, "description": testenv.Meta + " (description)", "price": "1.00"},
		[]string{"name", "description"}, map[string]string{"q": testenv.Meta})
	n += testenv.CheckBadText(t, e.api, e.admin, "/products", map[string]any{"name": "Tea", "price": "1"},
		[]string{"name", "description"}, []string{"q"})
	url := testenv.Serve(t, e.api.App)
	peak := max(testenv.CheckHugeBodies(t, url+"/products", e.admin), testenv.CheckHugeBodies(t, url+"/reservations", e.svc))
	testenv.CheckOverLimit(t, url, "/products", e.admin, "description")
	t.Logf("figure: products bad input: %d literal/NUL/UTF-8 checks, 2 routes × %d huge bodies (peak %.1f MiB), 413 over 1 MiB",
		n, len(testenv.HugeBodies()), float64(peak)/(1<<20))
}
