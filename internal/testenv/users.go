package testenv

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/delivery/platform/internal/auth"
	"github.com/delivery/platform/internal/config"
	"github.com/delivery/platform/internal/httpx"
	"github.com/delivery/platform/internal/pgtest"
	"github.com/delivery/platform/services/users"
)

// Users is a running users service (real Fiber app on a loopback port, its own
// fresh database) that issues real tokens.
type Users struct {
	URL   string     // base URL, e.g. http://127.0.0.1:41234
	Guard auth.Guard // verifies tokens against the service's JWKS over HTTP
	// Verifier backs Guard.
	Verifier *auth.Verifier
	// App is the users service's own Fiber app (served at URL).
	App *fiber.App
	// Revocations is the revocation feed behind Verifier.
	Revocations *auth.RevocationFeed
	// AdminToken is a token of the bootstrap admin.
	AdminToken string

	cfg    config.Config
	pool   *pgxpool.Pool // the users database (signing keys for forged tokens)
	client *http.Client
	mu     sync.Mutex
	tokens map[auth.Role]string
}

// RevocationPoll is how often the Guard of StartUsers reads the revocation
// feed: the bound on how long a revoked token is still accepted in tests.
const RevocationPoll = 200 * time.Millisecond

// UsersConfig is the configuration StartUsers runs the users service with
// (the development defaults: issuer, audience, bootstrap accounts).
func UsersConfig(t testing.TB) config.Config {
	t.Helper()
	cfg, err := config.Load(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// StartUsers starts the users service for the test; it stops with the test.
func StartUsers(t testing.TB) *Users {
	t.Helper()
	cfg := UsersConfig(t)
	pool := pgtest.New(t, "users", users.Migrations())
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := users.Bootstrap(ctx, pool, cfg); err != nil {
		t.Fatal(err)
	}
	svc, err := users.New(pool, cfg)
	if err != nil {
		t.Fatal(err)
	}
	app := httpx.New(httpx.Options{Name: "users"})
	users.Routes(app, svc)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go app.Listener(ln) //nolint:errcheck // ends with Shutdown
	// Registered after the database's cleanups, so it runs before them.
	t.Cleanup(func() { _ = app.ShutdownWithTimeout(5 * time.Second) })

	u := &Users{URL: "http://" + ln.Addr().String(), client: &http.Client{Timeout: 10 * time.Second},
		tokens: map[auth.Role]string{}, cfg: cfg, pool: pool, App: app}
	keys, err := auth.RemoteKeys(ctx, u.URL+"/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	// As `delivery serve` does, with a short poll so that tests see a
	// revocation quickly.
	u.Revocations = auth.NewRevocationFeed(u.URL+"/auth/revocations", RevocationPoll, nil)
	go u.Revocations.Run(ctx)
	u.Verifier = auth.NewVerifier(keys.Keyfunc, cfg.JWTIssuer, cfg.JWTAudience, u.Revocations)
	u.Guard = auth.NewGuard(u.Verifier)
	u.AdminToken = u.Login(t, cfg.AdminEmail, cfg.AdminPassword)
	return u
}

// Login logs in at the running service and returns the access token.
func (u *Users) Login(t testing.TB, email, password string) string {
	t.Helper()
	status, body := u.call(t, http.MethodPost, "/auth/login", "", map[string]string{"email": email, "password": password})
	if status != http.StatusOK {
		t.Fatalf("login %s: %d %s", email, status, body)
	}
	var lr struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(body, &lr); err != nil || lr.AccessToken == "" {
		t.Fatalf("login %s: %s", email, body)
	}
	return lr.AccessToken
}

// NewUser creates a new active user of role through the admin API and returns
// its id and a fresh access token.
func (u *Users) NewUser(t testing.TB, role auth.Role) (uuid.UUID, string) {
	t.Helper()
	email := fmt.Sprintf("%s-%s@test.example", role, uuid.NewString()[:8])
	password := rand.Text()
	status, body := u.call(t, http.MethodPost, "/users", u.AdminToken, map[string]any{
		"email": email, "name": "Test " + string(role), "role": role, "password": password,
	})
	if status != http.StatusCreated {
		t.Fatalf("create %s user: %d %s", role, status, body)
	}
	var created struct {
		ID uuid.UUID `json:"id"`
	}
	if err := json.Unmarshal(body, &created); err != nil {
		t.Fatal(err)
	}
	return created.ID, u.Login(t, email, password)
}

// Token returns an access token of a user of role (one user per role per
// Users, created on first use).
func (u *Users) Token(t testing.TB, role auth.Role) string {
	t.Helper()
	u.mu.Lock()
	defer u.mu.Unlock()
	if tok, ok := u.tokens[role]; ok {
		return tok
	}
	_, tok := u.NewUser(t, role)
	u.tokens[role] = tok
	return tok
}

func (u *Users) call(t testing.TB, method, path, token string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, u.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := u.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// DB is the users service's database.
func (u *Users) DB() *pgxpool.Pool { return u.pool }
