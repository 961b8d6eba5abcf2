package deliverymen_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/delivery/platform/internal/auth"
	"github.com/delivery/platform/internal/testenv"
)

// roles is the deliverymen service's role × route matrix, as routes.go declares
// it. A route the app has without an entry here fails TestRoleMatrix.
var roles = testenv.Matrix{
	"GET /delivery-men":             {auth.RoleAdmin, auth.RoleOperator, auth.RoleService, auth.RoleCourier},
	"GET /delivery-men/me":          {auth.RoleCourier},
	"GET /delivery-men/:id":         {auth.RoleAdmin, auth.RoleOperator, auth.RoleService, auth.RoleCourier},
	"POST /delivery-men":            {auth.RoleAdmin, auth.RoleOperator},
	"PUT /delivery-men/:id":         {auth.RoleAdmin, auth.RoleOperator},
	"PATCH /delivery-men/:id":       {auth.RoleAdmin, auth.RoleOperator},
	"DELETE /delivery-men/:id":      {auth.RoleAdmin, auth.RoleOperator},
	"POST /assignments":             {auth.RoleAdmin, auth.RoleService},
	"GET /assignments/:id":          {auth.RoleAdmin, auth.RoleOperator, auth.RoleService},
	"POST /assignments/:id/release": {auth.RoleAdmin, auth.RoleService},
}

func TestRoleMatrix(t *testing.T) {
	t.Parallel()
	e := setup(t)
	testenv.CheckRoleMatrix(t, "deliverymen", e.api, e.users, roles)
}

func TestBadTokens(t *testing.T) {
	t.Parallel()
	e := setup(t)
	testenv.CheckTokenAttacks(t, "deliverymen", e.api, e.users)
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
	n := testenv.CheckLiteral(t, e.api, e.admin, "/delivery-men", b, append(texts, "email"),
		map[string]string{"q": testenv.Meta, "email": email})
	n += testenv.CheckBadText(t, e.api, e.admin, "/delivery-men", body(), append(texts, "email"), []string{"q", "email", "national_id"})
	url := testenv.Serve(t, e.api.App)
	peak := testenv.CheckHugeBodies(t, url+"/delivery-men", e.admin)
	testenv.CheckOverLimit(t, url, "/delivery-men", e.admin, "address")
	t.Logf("figure: deliverymen bad input: %d literal/NUL/UTF-8 checks, %d huge bodies (peak %.1f MiB), 413 over 1 MiB",
		n, len(testenv.HugeBodies()), float64(peak)/(1<<20))
}
