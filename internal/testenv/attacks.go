package testenv

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/delivery/platform/internal/auth"
	"github.com/delivery/platform/internal/httpx"
)

// PostRaw sends a POST through a real listener over a raw connection:
// fasthttp answers 413 and closes while a body over the limit is still
// arriving, which app.Test (and net/http's client) report as an error instead
// of a response.
func PostRaw(t testing.TB, app *fiber.App, path, token, body string) Response {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go app.Listener(ln) //nolint:errcheck // ends when the listener closes
	t.Cleanup(func() { _ = ln.Close() })
	return PostRawURL(t, "http://"+ln.Addr().String(), path, token, body)
}

// PostRawURL is PostRaw to an app already served at baseURL (see Serve).
func PostRawURL(t testing.TB, baseURL, path, token, body string) Response {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(baseURL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	go func() {
		// The server may stop reading: write errors are expected.
		_, _ = fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"+
			"Authorization: Bearer %s\r\nContent-Length: %d\r\n\r\n%s", path, token, len(body), body)
	}()
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// PublicPaths are the routes every service serves without a token.
var PublicPaths = []string{"/healthz", "/readyz", "/metrics", "/openapi.yaml",
	"/auth/login", "/auth/revocations", "/.well-known/jwks.json"}

// Route is one method and path pattern of an app (e.g. GET /products/:id).
type Route struct{ Method, Path string }

func (r Route) String() string { return r.Method + " " + r.Path }

// Key is the route's entry in a role matrix: HEAD is answered by the GET
// handlers, so it shares their entry.
func (r Route) Key() string {
	if r.Method == fiber.MethodHead {
		return fiber.MethodGet + " " + r.Path
	}
	return r.String()
}

// URL is the path with every parameter filled with a fresh id.
func (r Route) URL() string {
	parts := strings.Split(r.Path, "/")
	for i, p := range parts {
		if strings.HasPrefix(p, ":") {
			parts[i] = uuid.NewString()
		}
	}
	return strings.Join(parts, "/")
}

// ProtectedRoutes are the routes the app really has, but the public ones.
func ProtectedRoutes(app *fiber.App) []Route {
	var out []Route
	for _, r := range app.GetRoutes(true) {
		rt := Route{r.Method, r.Path}
		if slices.Contains(PublicPaths, r.Path) || slices.Contains(out, rt) {
			continue
		}
		out = append(out, rt)
	}
	slices.SortFunc(out, func(a, b Route) int { return strings.Compare(a.String(), b.String()) })
	return out
}

// Matrix is a service's declared role × route matrix: for each "METHOD /path"
// (as the app registers it), the roles admitted.
type Matrix map[string][]auth.Role

// CheckMatrix sends a request of every role to every protected route of the
// app: an admitted role must get past the guard (neither 401 nor 403, nor a
// 5xx), any other 403. A route without an entry, or an entry without a route,
// fails the test. It returns how many (route, role) pairs it checked.
func CheckMatrix(t *testing.T, api *API, u *Users, m Matrix) int {
	t.Helper()
	routes := ProtectedRoutes(api.App)
	seen := map[string]bool{}
	for _, r := range routes {
		seen[r.Key()] = true
		if _, ok := m[r.Key()]; !ok {
			t.Errorf("%s has no entry in the role matrix: declare its roles", r)
		}
	}
	for k := range m {
		if !seen[k] {
			t.Errorf("the role matrix names %s, which the app does not have", k)
		}
	}
	n := 0
	for _, r := range routes {
		admitted, ok := m[r.Key()]
		if !ok {
			continue
		}
		for _, role := range auth.Roles {
			resp := send(t, api, r.Method, r.URL(), u.Token(t, role))
			n++
			switch {
			case slices.Contains(admitted, role):
				if resp.Status == 401 || resp.Status == 403 || resp.Status >= 500 {
					t.Errorf("%s as %s (admitted): %d %s", r, role, resp.Status, resp.Body)
				}
			case resp.Status != 403:
				t.Errorf("%s as %s (not admitted): %d, want 403: %s", r, role, resp.Status, resp.Body)
			default:
				if r.Method != fiber.MethodHead {
					resp.Problem(t)
				}
			}
		}
	}
	return n
}

// BadToken is one attack on authentication: a bearer token (or Authorization
// header) that must be refused with 401.
type BadToken struct {
	Name   string
	Header string // the whole Authorization header; "" sends none
}

// Forge signs claims with the users service's real signing key under its
// real kid: a token every check but the one the claims break would accept.
func (u *Users) Forge(t testing.TB, claims jwt.MapClaims) string {
	t.Helper()
	key := u.signingKey(t)
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims)
	tok.Header["kid"] = key.KID
	s, err := tok.SignedString(key.Key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (u *Users) signingKey(t testing.TB) auth.SigningKey {
	t.Helper()
	var kid string
	var seed []byte
	if err := u.pool.QueryRow(context.Background(),
		"SELECT kid, private_key FROM signing_keys ORDER BY created_at DESC, kid DESC LIMIT 1").Scan(&kid, &seed); err != nil {
		t.Fatal(err)
	}
	k, err := auth.SigningKeyFromSeed(kid, seed)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// AdminClaims are valid claims of the bootstrap admin, as the users service
// would sign them now.
func (u *Users) AdminClaims(t testing.TB) jwt.MapClaims {
	t.Helper()
	var c auth.Claims
	if _, _, err := jwt.NewParser().ParseUnverified(u.AdminToken, &c); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	return jwt.MapClaims{
		"iss": u.cfg.JWTIssuer, "aud": []string{u.cfg.JWTAudience}, "sub": c.Subject, "role": "admin",
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(10 * time.Minute).Unix(), "jti": uuid.NewString(),
	}
}

// ForgedAdmin is a valid token of the bootstrap admin forged with the real
// key: the control that proves the attacks below fail for their one defect.
func (u *Users) ForgedAdmin(t testing.TB) string {
	t.Helper()
	return u.Forge(t, u.AdminClaims(t))
}

// BadTokens are the attacks on authentication every protected route must
// refuse: each differs from ForgedAdmin in one defect.
func (u *Users) BadTokens(t testing.TB) []BadToken {
	t.Helper()
	with := func(k string, v any) string {
		c := u.AdminClaims(t)
		c[k] = v
		return u.Forge(t, c)
	}
	now := time.Now()
	b64 := base64.RawURLEncoding.EncodeToString
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return b64(b)
	}
	key := u.signingKey(t)
	claims := enc(u.AdminClaims(t))

	// alg none, with the real kid.
	none := enc(map[string]string{"alg": "none", "typ": "JWT", "kid": key.KID}) + "." + claims + "."
	// HS256 keyed with the public key (the classic algorithm confusion).
	hs := jwt.NewWithClaims(jwt.SigningMethodHS256, u.AdminClaims(t))
	hs.Header["kid"] = key.KID
	hsTok, err := hs.SignedString([]byte(key.Key.Public().(ed25519.PublicKey)))
	if err != nil {
		t.Fatal(err)
	}
	// A courier's real token whose payload now says admin.
	courier := u.Token(t, auth.RoleCourier)
	parts := strings.Split(courier, ".")
	var payload map[string]any
	raw, _ := base64.RawURLEncoding.DecodeString(parts[1])
	if err := json.Unmarshal(raw, &payload); err != nil {
		t.Fatal(err)
	}
	payload["role"] = "admin"
	tampered := parts[0] + "." + enc(payload) + "." + parts[2]
	// A well-formed token signed by a key the users service never published.
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	unknown := jwt.NewWithClaims(jwt.SigningMethodEdDSA, u.AdminClaims(t))
	unknown.Header["kid"] = auth.Thumbprint(other.Public().(ed25519.PublicKey))
	unknownTok, err := unknown.SignedString(other)
	if err != nil {
		t.Fatal(err)
	}
	// The real key under a kid it does not have.
	otherKID := jwt.NewWithClaims(jwt.SigningMethodEdDSA, u.AdminClaims(t))
	otherKID.Header["kid"] = "no-such-kid"
	otherKIDTok, err := otherKID.SignedString(key.Key)
	if err != nil {
		t.Fatal(err)
	}
	bearer := func(s string) string { return "Bearer " + s }
	return []BadToken{
		{"no token", ""},
		{"empty bearer", "Bearer "},
		{"other scheme", "Basic " + b64([]byte(u.cfg.AdminEmail+":"+u.cfg.AdminPassword))},
		{"malformed", bearer("not-a-jwt")},
		{"malformed (three garbage parts)", bearer("a.b.c")},
		{"alg none", bearer(none)},
		{"HS256 signed with the public key", bearer(hsTok)},
		{"expired", bearer(with("exp", now.Add(-time.Hour).Unix()))},
		{"no exp", bearer(func() string { c := u.AdminClaims(t); delete(c, "exp"); return u.Forge(t, c) }())},
		{"not yet valid", bearer(with("nbf", now.Add(time.Hour).Unix()))},
		{"issued in the future", bearer(with("iat", now.Add(time.Hour).Unix()))},
		{"wrong issuer", bearer(with("iss", "someone-else"))},
		{"wrong audience", bearer(with("aud", []string{"another-platform"}))},
		{"unknown role", bearer(with("role", "superuser"))},
		{"tampered payload", bearer(tampered)},
		{"unknown kid (foreign key)", bearer(unknownTok)},
		{"unknown kid (real key)", bearer(otherKIDTok)},
	}
}

// RevokedTokens returns real tokens of admins (admitted on every route) that
// were then deactivated, deleted, or demoted to courier, once the Guard
// refuses them; staleness is the longest any of them was still accepted
// after the change. Each token is checked to work before the change.
func (u *Users) RevokedTokens(t testing.TB) (tokens []BadToken, staleness time.Duration) {
	t.Helper()
	ctx := context.Background()
	changes := []struct {
		name, method string
		body         any
	}{
		{"deactivated user", "PATCH", map[string]any{"active": false}},
		{"deleted user", "DELETE", nil},
		{"demoted user (admin token, now courier)", "PATCH", map[string]any{"role": "courier"}},
	}
	for _, c := range changes {
		id, tok := u.NewUser(t, auth.RoleAdmin)
		if _, err := u.Verifier.Verify(ctx, tok); err != nil {
			t.Fatalf("%s: the token is refused before the change: %v", c.name, err)
		}
		// The token must be older than the revocation (iat has whole seconds).
		time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second)))
		status, body := u.call(t, c.method, "/users/"+id.String(), u.AdminToken, c.body)
		if status >= 300 {
			t.Fatalf("%s: %s /users/%s: %d %s", c.name, c.method, id, status, body)
		}
		changed := time.Now()
		for {
			if _, err := u.Verifier.Verify(ctx, tok); err != nil {
				break
			}
			if time.Since(changed) > 10*time.Second {
				t.Fatalf("%s: the token is still accepted 10 s after the change", c.name)
			}
			time.Sleep(10 * time.Millisecond)
		}
		staleness = max(staleness, time.Since(changed))
		tokens = append(tokens, BadToken{c.name, "Bearer " + tok})
	}
	return tokens, staleness
}

// CheckBadTokens sends every bad token to every protected route of the app
// and wants 401 (a problem document with WWW-Authenticate); the control
// token must get past the guard on every route. It returns how many
// (route, token) pairs it checked.
func CheckBadTokens(t *testing.T, api *API, control string, bad []BadToken) int {
	t.Helper()
	n := 0
	for _, r := range ProtectedRoutes(api.App) {
		if resp := send(t, api, r.Method, r.URL(), control); resp.Status == 401 || resp.Status >= 500 {
			t.Errorf("%s with a valid forged admin token: %d %s", r, resp.Status, resp.Body)
		}
		for _, b := range bad {
			var resp Response
			if b.Header == "" {
				resp = send(t, api, r.Method, r.URL(), "")
			} else {
				resp = send(t, api, r.Method, r.URL(), "", "Authorization", b.Header)
			}
			n++
			if resp.Status != 401 {
				t.Errorf("%s with %s: %d, want 401: %s", r, b.Name, resp.Status, resp.Body)
				continue
			}
			if resp.Header.Get("WWW-Authenticate") == "" {
				t.Errorf("%s with %s: 401 without WWW-Authenticate", r, b.Name)
			}
			if r.Method != fiber.MethodHead {
				resp.Problem(t)
			}
		}
	}
	return n
}

// send is api.Do, but HEAD (which the OpenAPI documents do not list) is not
// contract-checked.
func send(t *testing.T, api *API, method, path, token string, headers ...string) Response {
	t.Helper()
	if method == fiber.MethodHead {
		return Do(t, api.App, method, path, token, nil, headers...)
	}
	return api.Do(t, method, path, token, nil, headers...)
}

// CheckRoleMatrix is CheckMatrix with the figure of the service logged.
func CheckRoleMatrix(t *testing.T, service string, api *API, u *Users, m Matrix) {
	t.Helper()
	n := CheckMatrix(t, api, u, m)
	t.Logf("figure: %s role matrix: %d routes × %d roles = %d checks", service, len(ProtectedRoutes(api.App)), len(auth.Roles), n)
}

// CheckTokenAttacks sends every bad token and the tokens of revoked users to
// every protected route of the service's api (each must be 401), requires a
// revocation to be seen within 2 s, and logs the figure.
func CheckTokenAttacks(t *testing.T, service string, api *API, u *Users) {
	t.Helper()
	bad := u.BadTokens(t)
	revoked, stale := u.RevokedTokens(t)
	if stale > 2*time.Second {
		t.Errorf("a revoked token was accepted for %s after the change, want at most 2 s", stale)
	}
	n := CheckBadTokens(t, api, u.ForgedAdmin(t), append(bad, revoked...))
	t.Logf("figure: %s JWT attacks: %d routes × %d tokens = %d checks, revocation seen after %s",
		service, len(ProtectedRoutes(api.App)), len(bad)+len(revoked), n, stale.Round(time.Millisecond))
}

// CheckOverLimit posts a body just over the 1 MiB limit (one huge string
// field) to path over a real connection: it must be refused with a 413
// problem, from the Content-Length alone.
func CheckOverLimit(t *testing.T, baseURL, path, token, field string) {
	t.Helper()
	big := `{"` + field + `":"` + strings.Repeat("x", httpx.BodyLimit) + `"}`
	if r := PostRawURL(t, baseURL, path, token, big); r.Status != 413 {
		t.Errorf("POST %s over 1 MiB: %d, want 413", path, r.Status)
	} else {
		r.Problem(t)
	}
}
