package customers_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/delivery/platform/internal/auth"
	"github.com/delivery/platform/internal/testenv"
)

// roles is the customers service's role × route matrix, as routes.go declares
// it. A route the app has without an entry here fails TestRoleMatrix.
var roles = testenv.Matrix{
	"GET /customers":        {auth.RoleAdmin, auth.RoleOperator, auth.RoleService},
	"GET /customers/:id":    {auth.RoleAdmin, auth.RoleOperator, auth.RoleService},
	"POST /customers":       {auth.RoleAdmin, auth.RoleOperator},
	"PUT /customers/:id":    {auth.RoleAdmin, auth.RoleOperator},
	"PATCH /customers/:id":  {auth.RoleAdmin, auth.RoleOperator},
	"DELETE /customers/:id": {auth.RoleAdmin, auth.RoleOperator},
}

func TestRoleMatrix(t *testing.T) {
	t.Parallel()
	e := setup(t)
	testenv.CheckRoleMatrix(t, "customers", e.api, e.users, roles)
}

func TestBadTokens(t *testing.T) {
	t.Parallel()
	e := setup(t)
	testenv.CheckTokenAttacks(t, "customers", e.api, e.users)
}

// Bad input: metacharacters stored literally in every text field, NUL and
// invalid UTF-8 refused, huge JSON refused within a memory bound, a body over
// 1 MiB 413.
func TestHostileInput(t *testing.T) {
	t.Parallel()
	e := setup(t)
	email := fmt.Sprintf("o'brien.%d+%%_x@example.com", time.Now().UnixNano())
	texts := []string{"first_name", "paternal_surname", "maternal_surname", "address"}
	b := body("email", email)
	for _, f := range texts {
		b[f] = testenv.Meta
	}
	n := testenv.CheckLiteral(t, e.api, e.admin, "/customers", b, append(texts, "email"),
		map[string]string{"q": testenv.Meta, "email": email})
	n += testenv.CheckBadText(t, e.api, e.admin, "/customers", body(), append(texts, "email"), []string{"q", "email", "national_id"})
	url := testenv.Serve(t, e.api.App)
	peak := testenv.CheckHugeBodies(t, url+"/customers", e.admin)
	testenv.CheckOverLimit(t, url, "/customers", e.admin, "address")
	t.Logf("figure: customers bad input: %d literal/NUL/UTF-8 checks, %d huge bodies (peak %.1f MiB), 413 over 1 MiB",
		n, len(testenv.HugeBodies()), float64(peak)/(1<<20))
}
