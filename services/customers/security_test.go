package customers_test

import (
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
	n := testenv.CheckMatrix(t, e.api, e.users, roles)
	t.Logf("figure: customers role matrix: %d routes × %d roles = %d checks", len(testenv.ProtectedRoutes(e.api.App)), len(auth.Roles), n)
}

func TestBadTokens(t *testing.T) {
	t.Parallel()
	e := setup(t)
	bad := e.users.BadTokens(t)
	revoked, stale := e.users.RevokedTokens(t)
	if stale > 2*time.Second {
		t.Errorf("a revoked token was accepted for %s after the change, want at most 2 s", stale)
	}
	n := testenv.CheckBadTokens(t, e.api, e.users.ForgedAdmin(t), append(bad, revoked...))
	t.Logf("figure: customers JWT attacks: %d routes × %d tokens = %d checks, revocation seen after %s",
		len(testenv.ProtectedRoutes(e.api.App)), len(bad)+len(revoked), n, stale.Round(time.Millisecond))
}
