package testenv

import (
	"testing"

	"github.com/google/uuid"

	"github.com/delivery/platform/internal/auth"
)

// Users is a running users service (real Fiber app on a loopback port, its own
// fresh database) that issues real tokens.
type Users struct {
	URL   string     // base URL, e.g. http://127.0.0.1:41234
	Guard auth.Guard // verifies tokens against the service's JWKS over HTTP
	// Verifier backs Guard.
	Verifier *auth.Verifier
	// AdminToken is a token of the bootstrap admin.
	AdminToken string
}

// StartUsers starts the users service for the test; it stops with the test.
func StartUsers(t testing.TB) *Users {
	t.Helper()
	panic("testenv.StartUsers: implemented with the users service")
}

// NewUser creates a new active user of role through the admin API and returns
// its id and a fresh access token.
func (u *Users) NewUser(t testing.TB, role auth.Role) (uuid.UUID, string) {
	t.Helper()
	panic("testenv.NewUser: implemented with the users service")
}

// Token returns an access token of a user of role (one user per role per
// Users, created on first use).
func (u *Users) Token(t testing.TB, role auth.Role) string {
	t.Helper()
	panic("testenv.Token: implemented with the users service")
}
