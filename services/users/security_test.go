package users_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/delivery/platform/internal/auth"
	"github.com/delivery/platform/internal/testenv"
	"github.com/delivery/platform/services/users"
)

// roles is the users service's role × route matrix, as routes.go declares
// it. A route the app has without an entry here fails TestRoleMatrix.
var roles = testenv.Matrix{
	"GET /users/me":     auth.Roles,
	"PATCH /users/me":   auth.Roles,
	"GET /users":        {auth.RoleAdmin},
	"GET /users/:id":    {auth.RoleAdmin, auth.RoleService},
	"POST /users":       {auth.RoleAdmin},
	"PUT /users/:id":    {auth.RoleAdmin},
	"PATCH /users/:id":  {auth.RoleAdmin},
	"DELETE /users/:id": {auth.RoleAdmin},
}

func startUsers(t *testing.T) (*testenv.Users, *testenv.API) {
	t.Helper()
	u := testenv.StartUsers(t)
	return u, testenv.NewAPI(t, u.App, users.OpenAPIDoc)
}

func TestRoleMatrix(t *testing.T) {
	t.Parallel()
	u, api := startUsers(t)
	testenv.CheckRoleMatrix(t, "users", api, u, roles)
}

func TestBadTokens(t *testing.T) {
	t.Parallel()
	u, api := startUsers(t)
	testenv.CheckTokenAttacks(t, "users", api, u)
}

// Nobody gives themselves another role, or reactivates or renames their
// account's email, through any route.
func TestNoSelfPromotion(t *testing.T) {
	t.Parallel()
	u, api := startUsers(t)
	for _, role := range auth.Roles {
		id, tok := u.NewUser(t, role)
		other := auth.RoleAdmin
		if role == auth.RoleAdmin {
			other = auth.RoleCourier
		}
		for _, b := range []map[string]any{{"role": other}, {"role": other, "name": "New name"}, {"active": false}} {
			if r := api.Do(t, "PATCH", "/users/me", tok, b); r.Status != 403 {
				t.Errorf("%s PATCH /users/me %v: %d, want 403: %s", role, b, r.Status, r.Body)
			}
		}
		want := 403 // only admins reach /users/{id}
		if role == auth.RoleAdmin {
			want = 409 // and cannot demote themselves
		}
		for _, m := range []string{"PATCH", "PUT"} {
			b := map[string]any{"role": other, "email": fmt.Sprintf("%s@x.example", id), "name": "n", "active": true}
			if r := api.Do(t, m, "/users/"+id.String(), tok, b); r.Status != want {
				t.Errorf("%s %s own /users/{id} role %s: %d, want %d: %s", role, m, other, r.Status, want, r.Body)
			}
		}
		var me struct {
			Role auth.Role `json:"role"`
		}
		r := api.Do(t, "GET", "/users/me", tok, nil)
		r.JSON(t, &me)
		if r.Status != 200 || me.Role != role {
			t.Errorf("%s after the attempts: %d role %q", role, r.Status, me.Role)
		}
	}
}

// loginFrom posts a login from a chosen loopback address (127.0.0.x), over a
// real connection, so that the service sees distinct client addresses.
func loginFrom(t *testing.T, u *testenv.Users, from, email, password string) (int, http.Header) {
	t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: d.DialContext}}
	b, _ := json.Marshal(map[string]string{"email": email, "password": password})
	resp, err := c.Post(u.URL+"/auth/login", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == 429 && resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("429 is not a problem: %s", body)
	}
	return resp.StatusCode, resp.Header
}

// Brute force: failed logins are limited per account (default 5/min, burst
// 5) and per client address (20/min, burst 20), with Retry-After; successes
// do not count.
func TestLoginRateLimit(t *testing.T) {
	t.Parallel()
	u := testenv.StartUsers(t)
	cfg := testenv.UsersConfig(t)
	if cfg.LoginAccountBurst != 5 || cfg.LoginAddressBurst != 20 {
		t.Fatalf("defaults changed: %d %d", cfg.LoginAccountBurst, cfg.LoginAddressBurst)
	}
	admin := cfg.AdminEmail
	// Successful logins never run out.
	for i := range 8 {
		if st, _ := loginFrom(t, u, "127.0.0.2", admin, cfg.AdminPassword); st != 200 {
			t.Fatalf("successful login %d: %d", i, st)
		}
	}
	// untilRefused fails logins until 429 and checks how many got through:
	// the burst, plus what refilled meanwhile at perMin.
	untilRefused := func(what, from string, email func(int) string, burst, perMin int) int {
		start := time.Now()
		for n := 0; n < 3*burst; n++ {
			st, h := loginFrom(t, u, from, email(n), "wrong-password")
			if st == 401 {
				continue
			}
			ra, _ := strconv.Atoi(h.Get("Retry-After"))
			allowed := burst + int(time.Since(start).Minutes()*float64(perMin)) + 1
			if st != 429 || ra < 1 || ra > 60 || n < burst || n > allowed {
				t.Errorf("%s: after %d failures %d Retry-After %q, want 429 after %d..%d", what, n, st, h.Get("Retry-After"), burst, allowed)
			}
			return n
		}
		t.Fatalf("%s: never refused", what)
		return 0
	}
	// Per account: refused after the burst, then even with the right
	// password, from any address.
	nAccount := untilRefused("per account", "127.0.0.2", func(int) string { return admin }, cfg.LoginAccountBurst, cfg.LoginAccountPerMin)
	if st, _ := loginFrom(t, u, "127.0.0.3", admin, cfg.AdminPassword); st != 429 {
		t.Errorf("right password on the locked account from another address: %d, want 429", st)
	}
	// Per address: failures over many accounts from one address, then 429
	// for any account from it, while another address still logs in.
	nAddress := untilRefused("per address", "127.0.0.4", func(i int) string { return fmt.Sprintf("nobody%d@x.example", i) },
		cfg.LoginAddressBurst, cfg.LoginAddressPerMin)
	if st, _ := loginFrom(t, u, "127.0.0.4", cfg.ServiceEmail, cfg.ServicePassword); st != 429 {
		t.Errorf("right password from the refused address: %d, want 429", st)
	}
	if st, _ := loginFrom(t, u, "127.0.0.5", cfg.ServiceEmail, cfg.ServicePassword); st != 200 {
		t.Errorf("another address: %d, want 200", st)
	}
	t.Logf("figure: login brute force: 429 after %d failures per account and %d per address (8 successes not counted)", nAccount, nAddress)
}

// capture is a slog handler that keeps every record as JSON, as production
// logs them.
func capture() (*bytes.Buffer, *slog.Logger) {
	var buf bytes.Buffer
	return &buf, slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug, AddSource: true}))
}

// No password, password hash, signing key or bearer token appears in any
// response (but the login's own token) or in any log line of the routes
// that handle them, and no stack trace in any response.
func TestNoSecretsInResponsesOrLogs(t *testing.T) {
	buf, log := capture()
	prev := slog.Default()
	slog.SetDefault(log) // the users app logs through the default logger
	defer slog.SetDefault(prev)

	u, api := startUsers(t)
	cfg := testenv.UsersConfig(t)
	var responses []testenv.Response
	do := func(method, path, token string, body any) testenv.Response {
		r := api.Do(t, method, path, token, body)
		responses = append(responses, r)
		return r
	}
	pw, pw2, pw3 := "pw-"+rand.Text(), "pw-"+rand.Text(), "pw-"+rand.Text()
	r := do("POST", "/users", u.AdminToken, map[string]any{"email": "secret@x.example", "name": "S", "role": "operator", "password": pw})
	var created struct{ ID string }
	r.JSON(t, &created)
	do("POST", "/auth/login", "", map[string]string{"email": "secret@x.example", "password": pw})
	for range 6 { // wrong passwords up to 429
		do("POST", "/auth/login", "", map[string]string{"email": "secret@x.example", "password": pw3})
	}
	do("PUT", "/users/"+created.ID, u.AdminToken, map[string]any{"email": "secret@x.example", "name": "S", "role": "operator", "active": true, "password": pw2})
	do("PATCH", "/users/"+created.ID, u.AdminToken, map[string]any{"password": pw3})
	do("POST", "/users", u.AdminToken, map[string]any{"email": "bad", "name": "S", "role": "operator", "password": pw})
	do("POST", "/users", u.AdminToken, `{"email": "a@b.co", "password": "`+pw+`", "x": 1}`)
	tok := u.Login(t, cfg.ServiceEmail, cfg.ServicePassword)
	do("PATCH", "/users/me", tok, map[string]any{"password": pw2, "current_password": "wrong-" + pw})
	do("PATCH", "/users/me", tok, map[string]any{"password": pw2, "current_password": cfg.ServicePassword})
	do("GET", "/users/me", tok, nil)
	do("GET", "/users?limit=100", u.AdminToken, nil)
	// The worker's token source: login, cache, refresh after invalidation.
	ts := auth.NewTokenSource(u.URL, cfg.ServiceEmail, pw2, nil)
	wtok, err := ts.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ts.Invalidate()
	wtok2, err := ts.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}

	secrets := map[string]string{
		"password": pw, "new password": pw2, "third password": pw3, "admin password": cfg.AdminPassword,
		"service password": cfg.ServicePassword, "bcrypt hash": "$2a$", "admin token": u.AdminToken,
		"service token": tok, "worker token": wtok, "refreshed worker token": wtok2,
	}
	var kid string
	var seed []byte
	if err := u.DB().QueryRow(context.Background(), "SELECT kid, private_key FROM signing_keys LIMIT 1").Scan(&kid, &seed); err != nil {
		t.Fatal(err)
	}
	k, _ := auth.SigningKeyFromSeed(kid, seed)
	for name, enc := range map[string]func([]byte) string{
		"std": base64.StdEncoding.EncodeToString, "url": base64.RawURLEncoding.EncodeToString, "hex": hex.EncodeToString,
	} {
		secrets["private key seed ("+name+")"] = enc(seed)
		secrets["private key ("+name+")"] = enc(k.Key)
	}
	logs := buf.String()
	if !strings.Contains(logs, "created account") {
		t.Fatalf("the log capture saw nothing: %q", logs)
	}
	for name, s := range secrets {
		if strings.Contains(logs, s) {
			t.Errorf("the %s appears in the logs", name)
		}
		for i, r := range responses {
			if strings.Contains(string(r.Body), s) {
				if strings.Contains(string(r.Body), `"access_token"`) && strings.HasSuffix(name, "token") {
					continue // a login answer carries its own token
				}
				t.Errorf("the %s appears in response %d: %s", name, i, r.Body)
			}
		}
	}
	for i, r := range responses {
		for _, trace := range []string{"goroutine ", ".go:", "panic", "runtime."} {
			if strings.Contains(string(r.Body), trace) {
				t.Errorf("response %d looks like a stack trace (%q): %s", i, trace, r.Body)
			}
		}
	}
	t.Logf("figure: secrets: %d secrets × (%d responses + %d log bytes) clean", len(secrets), len(responses), len(logs))
}

// Bad input: metacharacters stored literally, NUL and invalid UTF-8 refused,
// huge JSON refused within a memory bound, a body over 1 MiB 413.
func TestHostileInput(t *testing.T) {
	t.Parallel()
	u, api := startUsers(t)
	email := fmt.Sprintf("o'brien.%d+%%_x@example.com", time.Now().UnixNano())
	n := testenv.CheckLiteral(t, api, u.AdminToken, "/users",
		map[string]any{"email": email, "name": testenv.Meta, "role": "operator", "password": "p'; DROP TABLE users;--"},
		[]string{"email", "name"}, map[string]string{"q": testenv.Meta})
	n += testenv.CheckBadText(t, api, u.AdminToken, "/users",
		map[string]any{"email": "nul@example.com", "name": "Nul", "role": "operator", "password": "0123456789"},
		[]string{"email", "name"}, []string{"q", "role", "active"})
	// The login too: a NUL in the email was a 500 from the database.
	n++
	if r := api.Do(t, "POST", "/auth/login", "", map[string]string{"email": "a\x00@example.com", "password": "x"}); r.Status != 422 {
		t.Errorf("login with a NUL: %d %s", r.Status, r.Body)
	}
	peak := max(testenv.CheckHugeBodies(t, u.URL+"/users", u.AdminToken), testenv.CheckHugeBodies(t, u.URL+"/auth/login", ""))
	testenv.CheckOverLimit(t, u.URL, "/users", u.AdminToken, "name")
	t.Logf("figure: users bad input: %d literal/NUL/UTF-8 checks, 2 routes × %d huge bodies (peak %.1f MiB), 413 over 1 MiB",
		n, len(testenv.HugeBodies()), float64(peak)/(1<<20))
}
