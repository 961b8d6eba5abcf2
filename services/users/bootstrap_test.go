package users_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/gofiber/fiber/v2"

	"github.com/delivery/platform/internal/auth"
	"github.com/delivery/platform/internal/httpx"
	"github.com/delivery/platform/internal/pgtest"
	"github.com/delivery/platform/internal/testenv"
	"github.com/delivery/platform/services/users"
)

func TestBootstrapIdempotent(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	kid := func() string {
		var k string
		if err := e.pool.QueryRow(ctx, "SELECT kid FROM signing_keys").Scan(&k); err != nil {
			t.Fatal(err)
		}
		return k
	}
	before := kid()

	// A second start with other passwords changes nothing.
	cfg := e.cfg
	cfg.AdminPassword = "another-admin-password"
	cfg.ServicePassword = "another-worker-password"
	if err := users.Bootstrap(ctx, e.pool, cfg); err != nil {
		t.Fatal(err)
	}
	var accounts, keys int
	if err := e.pool.QueryRow(ctx, "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM signing_keys)").Scan(&accounts, &keys); err != nil {
		t.Fatal(err)
	}
	if accounts != 2 || keys != 1 || kid() != before {
		t.Fatalf("after a second bootstrap: %d accounts, %d keys", accounts, keys)
	}
	e.login(t, e.cfg.AdminEmail, e.cfg.AdminPassword)
	svcTok := e.login(t, e.cfg.ServiceEmail, e.cfg.ServicePassword)
	if _, claims := claimsOf(t, svcTok); claims["role"] != "service" {
		t.Fatalf("the worker's account has role %v", claims["role"])
	}

	// A restarted replica signs with the same key: the tokens of one verify
	// with the other.
	again, err := users.New(e.pool, e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := again.Verifier().Verify(ctx, e.admin); err != nil {
		t.Fatalf("a token of the first instance is refused by the second: %v", err)
	}
}

func TestBootstrapConcurrentStarts(t *testing.T) {
	t.Parallel()
	cfg := testenv.UsersConfig(t)
	pool := pgtest.New(t, "users", users.Migrations())
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 8 {
		wg.Add(2)
		go func() { defer wg.Done(); errs <- users.Bootstrap(ctx, pool, cfg) }()
		go func() { defer wg.Done(); _, err := users.New(pool, cfg); errs <- err }()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("a concurrent start failed: %v", err)
		}
	}
	var accounts, keys int
	if err := pool.QueryRow(ctx, "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM signing_keys)").Scan(&accounts, &keys); err != nil {
		t.Fatal(err)
	}
	if accounts != 2 || keys != 1 {
		t.Fatalf("%d accounts and %d signing keys after concurrent starts", accounts, keys)
	}
}

func TestBootstrapRefusesWeakConfiguration(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t, "users", users.Migrations())
	for name, mutate := range map[string]func(c *struct{ email, pw *string }){
		"short admin password": func(c *struct{ email, pw *string }) { *c.pw = "short" },
		"bad admin email":      func(c *struct{ email, pw *string }) { *c.email = "admin" },
	} {
		cfg := testenv.UsersConfig(t)
		mutate(&struct{ email, pw *string }{&cfg.AdminEmail, &cfg.AdminPassword})
		if err := users.Bootstrap(context.Background(), pool, cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	var n int
	if err := pool.QueryRow(context.Background(), "SELECT count(*) FROM users").Scan(&n); err != nil || n != 0 {
		t.Fatalf("a refused bootstrap created %d accounts (%v)", n, err)
	}
}

// The worker's TokenSource against the real service over HTTP.
func TestTokenSourceAgainstUsersService(t *testing.T) {
	t.Parallel()
	u := testenv.StartUsers(t)
	cfg := testenv.UsersConfig(t)
	ctx := context.Background()
	ts := auth.NewTokenSource(u.URL, cfg.ServiceEmail, cfg.ServicePassword, nil)
	first, err := ts.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p, err := u.Verifier.Verify(ctx, first)
	if err != nil || p.Role != auth.RoleService {
		t.Fatalf("service token: %+v %v", p, err)
	}
	if again, _ := ts.Token(ctx); again != first {
		t.Fatal("the cached token was not reused")
	}
	ts.Invalidate()
	second, err := ts.Token(ctx)
	if err != nil || second == first {
		t.Fatalf("no new login after Invalidate: %v", err)
	}
	if _, err := u.Verifier.Verify(ctx, second); err != nil {
		t.Fatal(err)
	}

	bad := auth.NewTokenSource(u.URL, cfg.ServiceEmail, "not-the-password", nil)
	if _, err := bad.Token(ctx); !errors.Is(err, auth.ErrLoginRefused) {
		t.Fatalf("wrong password: %v", err)
	}
}

// The harness other services' tests rely on.
func TestStartUsersHarness(t *testing.T) {
	t.Parallel()
	u := testenv.StartUsers(t)
	ctx := context.Background()
	id, tok := u.NewUser(t, auth.RoleCourier)
	p, err := u.Verifier.Verify(ctx, tok)
	if err != nil || p.UserID != id || p.Role != auth.RoleCourier {
		t.Fatalf("NewUser token: %+v %v", p, err)
	}
	if a, b := u.Token(t, auth.RoleOperator), u.Token(t, auth.RoleOperator); a != b {
		t.Fatal("Token is not one user per role")
	}
	if p, err := u.Verifier.Verify(ctx, u.Token(t, auth.RoleService)); err != nil || p.Role != auth.RoleService {
		t.Fatalf("service token: %+v %v", p, err)
	}
	// Guard admits by role, as on every other service.
	app := httpx.New(httpx.Options{Name: "probe"})
	app.Get("/probe", u.Guard(auth.RoleAdmin), func(c *fiber.Ctx) error { return c.SendStatus(204) })
	for tok, want := range map[string]int{u.AdminToken: 204, tok: 403, "": 401} {
		if r := testenv.Do(t, app, "GET", "/probe", tok, nil); r.Status != want {
			t.Errorf("probe: %d, want %d", r.Status, want)
		}
	}
}
