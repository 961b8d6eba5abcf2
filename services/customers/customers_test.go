package customers_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/delivery/platform/internal/auth"
	"github.com/delivery/platform/internal/httpx"
	"github.com/delivery/platform/internal/pgtest"
	"github.com/delivery/platform/internal/testenv"
	"github.com/delivery/platform/services/customers"
)

type env struct {
	api   *testenv.API
	users *testenv.Users
	admin string
}

func setup(t *testing.T) *env {
	t.Helper()
	users := testenv.StartUsers(t)
	pool := pgtest.New(t, "customers", customers.Migrations())
	app := httpx.New(httpx.Options{Name: "customers"})
	customers.Routes(app, customers.New(pool), users.Guard)
	return &env{api: testenv.NewAPI(t, app, customers.OpenAPIDoc), users: users, admin: users.AdminToken}
}

type customer struct {
	ID              uuid.UUID `json:"id"`
	FirstName       string    `json:"first_name"`
	PaternalSurname string    `json:"paternal_surname"`
	MaternalSurname string    `json:"maternal_surname"`
	NationalID      string    `json:"national_id"`
	Email           string    `json:"email"`
	Phone           string    `json:"phone"`
	Address         string    `json:"address"`
	BirthDate       string    `json:"birth_date"`
	Sex             string    `json:"sex"`
	CreatedAt       time.Time `json:"created_at"`
	UpdatedAt       time.Time `json:"updated_at"`
}

var seq atomic.Int64

// body is a valid customer; each call gets its own national id and email.
func body(over ...any) map[string]any {
	n := seq.Add(1)
	b := map[string]any{
		"first_name": "Ana", "paternal_surname": "Quispe", "maternal_surname": "Mamani",
		"national_id": fmt.Sprintf("%08d", 10000000+n), "email": fmt.Sprintf("ana%d@example.com", n),
		"phone": "987654321", "address": "Av. Arequipa 123, Lima", "birth_date": "1990-05-04", "sex": "female",
	}
	return testenv.Override(b, over...)
}

func (e *env) create(t *testing.T, b map[string]any) customer {
	t.Helper()
	return testenv.Expect[customer](t, e.api, 201, "POST", "/customers", e.admin, b)
}

func (e *env) get(t *testing.T, id uuid.UUID) customer {
	t.Helper()
	return testenv.Expect[customer](t, e.api, 200, "GET", "/customers/"+id.String(), e.admin, nil)
}

func TestCustomerLifecycle(t *testing.T) {
	e := setup(t)
	r := e.api.Do(t, "POST", "/customers", e.admin, body("first_name", "  Ana Lucía ", "email", " Ana.Quispe@Example.COM "))
	if r.Status != 201 {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	var c customer
	r.JSON(t, &c)
	if loc := r.Header.Get("Location"); loc != "/customers/"+c.ID.String() {
		t.Errorf("Location = %q", loc)
	}
	if c.FirstName != "Ana Lucía" || c.Email != "ana.quispe@example.com" || c.BirthDate != "1990-05-04" || c.Sex != "female" {
		t.Errorf("created %+v", c)
	}
	if got := e.get(t, c.ID); got != c {
		t.Errorf("get = %+v, want %+v", got, c)
	}

	// PUT replaces everything: the omitted address becomes empty.
	put := body("first_name", "Rosa", "address", testenv.Absent, "birth_date", "1985-12-31", "sex", "other")
	r = e.api.Do(t, "PUT", "/customers/"+c.ID.String(), e.admin, put)
	if r.Status != 200 {
		t.Fatalf("put: %d %s", r.Status, r.Body)
	}
	got := e.get(t, c.ID)
	if got.FirstName != "Rosa" || got.Address != "" || got.BirthDate != "1985-12-31" || got.Sex != "other" ||
		got.NationalID != put["national_id"] || !got.UpdatedAt.After(c.UpdatedAt) || !got.CreatedAt.Equal(c.CreatedAt) {
		t.Errorf("after put %+v", got)
	}

	// PATCH changes only what it names.
	r = e.api.Do(t, "PATCH", "/customers/"+c.ID.String(), e.admin, map[string]any{"phone": "912345678"})
	if r.Status != 200 {
		t.Fatalf("patch: %d %s", r.Status, r.Body)
	}
	patched := e.get(t, c.ID)
	if patched.Phone != "912345678" || patched.FirstName != "Rosa" || patched.BirthDate != "1985-12-31" {
		t.Errorf("after patch %+v", patched)
	}
	// A PATCH that breaks a rule changes nothing.
	r = e.api.Do(t, "PATCH", "/customers/"+c.ID.String(), e.admin, map[string]any{"first_name": "Eva", "phone": "123"})
	if r.Status != 422 || !slices.Equal(r.Fields(t), []string{"phone"}) {
		t.Fatalf("bad patch: %d %s", r.Status, r.Body)
	}
	if again := e.get(t, c.ID); again.FirstName != "Rosa" {
		t.Errorf("a refused patch changed the customer: %+v", again)
	}
	// A PATCH cannot blank a required field.
	r = e.api.Do(t, "PATCH", "/customers/"+c.ID.String(), e.admin, map[string]any{"birth_date": nil, "sex": ""})
	if r.Status != 422 || !slices.Equal(r.Fields(t), []string{"birth_date", "sex"}) {
		t.Errorf("blanking patch: %d %s", r.Status, r.Body)
	}

	if r := e.api.Do(t, "DELETE", "/customers/"+c.ID.String(), e.admin, nil); r.Status != 204 {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	for _, m := range []string{"GET", "DELETE"} {
		if r := e.api.Do(t, m, "/customers/"+c.ID.String(), e.admin, nil); r.Status != 404 {
			t.Errorf("%s after delete: %d %s", m, r.Status, r.Body)
		}
	}
	if r := e.api.Do(t, "PUT", "/customers/"+c.ID.String(), e.admin, body()); r.Status != 404 {
		t.Errorf("PUT after delete: %d", r.Status)
	}
	if r := e.api.Do(t, "PATCH", "/customers/"+c.ID.String(), e.admin, map[string]any{"phone": "912345678"}); r.Status != 404 {
		t.Errorf("PATCH after delete: %d", r.Status)
	}
}

func TestCustomerUniqueness(t *testing.T) {
	e := setup(t)
	a := e.create(t, body())
	b := e.create(t, body())

	for name, c := range map[string]struct {
		method, path string
		body         map[string]any
		field        string
	}{
		"national id":         {"POST", "/customers", body("national_id", a.NationalID), "national_id"},
		"email in other case": {"POST", "/customers", body("email", strings.ToUpper(a.Email)), "email"},
		"put onto another":    {"PUT", "/customers/" + b.ID.String(), body("email", a.Email), "email"},
		"patch onto another":  {"PATCH", "/customers/" + b.ID.String(), map[string]any{"national_id": a.NationalID}, "national_id"},
	} {
		r := e.api.Do(t, c.method, c.path, e.admin, c.body)
		if r.Status != 409 {
			t.Errorf("%s: %d %s", name, r.Status, r.Body)
			continue
		}
		if f := r.Fields(t); !slices.Equal(f, []string{c.field}) {
			t.Errorf("%s: fields %v, want %s", name, f, c.field)
		}
	}
	if got := e.get(t, b.ID); got != b {
		t.Errorf("a refused write changed b: %+v", got)
	}
	// Keeping one's own values is not a conflict.
	if r := e.api.Do(t, "PATCH", "/customers/"+a.ID.String(), e.admin, map[string]any{"email": strings.ToUpper(a.Email)}); r.Status != 200 {
		t.Errorf("patch own email: %d %s", r.Status, r.Body)
	}
}

func TestCustomerBadInput(t *testing.T) {
	e := setup(t)
	c := e.create(t, body())
	path := "/customers/" + c.ID.String()

	for name, tc := range map[string]struct {
		method, path string
		body         any
		headers      []string
		status       int
	}{
		"malformed":       {"POST", "/customers", `{"first_name": "Ana",`, nil, 400},
		"not an object":   {"POST", "/customers", `[1,2]`, nil, 400},
		"two values":      {"POST", "/customers", `{} {}`, nil, 400},
		"empty":           {"POST", "/customers", ``, nil, 400},
		"unknown field":   {"POST", "/customers", body("nickname", "ani"), nil, 400},
		"unknown (patch)": {"PATCH", path, map[string]any{"dni": "12345678"}, nil, 400},
		"text/plain":      {"POST", "/customers", `{}`, []string{"Content-Type", "text/plain"}, 415},
		"wrong type":      {"PUT", path, body("phone", 987654321), nil, 422},
		"malformed id":    {"GET", "/customers/not-a-uuid", nil, nil, 404},
		"missing id":      {"GET", "/customers/" + uuid.NewString(), nil, nil, 404},
		"bad id (put)":    {"PUT", "/customers/42", body(), nil, 404},
		"bad id (delete)": {"DELETE", "/customers/42", nil, nil, 404},
	} {
		r := e.api.Do(t, tc.method, tc.path, e.admin, tc.body, tc.headers...)
		if r.Status != tc.status {
			t.Errorf("%s: %d, want %d: %s", name, r.Status, tc.status, r.Body)
			continue
		}
		r.Problem(t)
	}

	// Over 1 MiB: app.Test cannot observe the 413 (the connection ends with
	// an error), so this goes through a real listener.
	big := `{"address":"` + strings.Repeat("x", httpx.BodyLimit) + `"}`
	if r := testenv.PostRaw(t, e.api.App, "/customers", e.admin, big); r.Status != 413 {
		t.Errorf("too large: %d %s", r.Status, r.Body)
	} else {
		r.Problem(t)
	}

	// Every invalid field is named at once.
	r := e.api.Do(t, "POST", "/customers", e.admin, map[string]any{
		"first_name": "", "paternal_surname": strings.Repeat("x", 101), "national_id": "1234567",
		"email": "ana@", "phone": "98765432a", "address": strings.Repeat("y", 101), "birth_date": "1990-02-30", "sex": "F",
	})
	want := []string{"first_name", "paternal_surname", "maternal_surname", "national_id", "email", "phone", "address", "birth_date", "sex"}
	if r.Status != 422 || !slices.Equal(r.Fields(t), want) {
		t.Errorf("invalid: %d %s", r.Status, r.Body)
	}
	for _, bd := range []string{time.Now().AddDate(0, 0, 1).Format(time.DateOnly), time.Now().AddDate(-15, 0, 0).Format(time.DateOnly), "1890-01-01", "04/05/1990"} {
		r := e.api.Do(t, "POST", "/customers", e.admin, body("birth_date", bd))
		if r.Status != 422 || !slices.Equal(r.Fields(t), []string{"birth_date"}) {
			t.Errorf("birth_date %s: %d %s", bd, r.Status, r.Body)
		}
	}
	// 16 is old enough for a customer.
	if r := e.api.Do(t, "POST", "/customers", e.admin, body("birth_date", time.Now().AddDate(-16, 0, -1).Format(time.DateOnly))); r.Status != 201 {
		t.Errorf("16-year-old: %d %s", r.Status, r.Body)
	}
	if got := e.get(t, c.ID); got != c {
		t.Errorf("bad input changed the customer: %+v", got)
	}
}

func TestCustomerPagination(t *testing.T) {
	e := setup(t)
	var want []uuid.UUID
	for range 5 {
		want = append(want, e.create(t, body()).ID)
	}
	var got []uuid.UUID
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("pagination does not end")
		}
		r := e.api.Do(t, "GET", "/customers?limit=2&cursor="+cursor, e.admin, nil)
		if r.Status != 200 {
			t.Fatalf("list: %d %s", r.Status, r.Body)
		}
		var page struct {
			Items      []customer `json:"items"`
			NextCursor *string    `json:"next_cursor"`
		}
		r.JSON(t, &page)
		if len(page.Items) > 2 {
			t.Fatalf("page of %d", len(page.Items))
		}
		for _, c := range page.Items {
			got = append(got, c.ID)
		}
		if page.NextCursor == nil {
			break
		}
		cursor = *page.NextCursor
	}
	if !slices.Equal(got, want) {
		t.Errorf("pages gave %v, want creation order %v", got, want)
	}
	var all struct {
		Items []customer `json:"items"`
	}
	e.api.Do(t, "GET", "/customers", e.admin, nil).JSON(t, &all)
	if len(all.Items) != 5 {
		t.Errorf("default page holds %d", len(all.Items))
	}
	for _, q := range []string{"limit=0", "limit=101", "limit=abc", "cursor=%%%", "cursor=AAAA"} {
		r := e.api.Do(t, "GET", "/customers?"+q, e.admin, nil)
		if r.Status != 422 {
			t.Errorf("%s: %d %s", q, r.Status, r.Body)
		}
	}
}

func TestCustomerFilters(t *testing.T) {
	e := setup(t)
	ana := e.create(t, body("first_name", "Ana", "paternal_surname", "Quispe", "maternal_surname", "Mamani"))
	luis := e.create(t, body("first_name", "Luis", "paternal_surname", "Quispe", "maternal_surname", "Flores"))
	pct := e.create(t, body("first_name", "Ana%", "paternal_surname", "Rojas", "maternal_surname", "Vega"))

	list := func(q string) []uuid.UUID {
		t.Helper()
		r := e.api.Do(t, "GET", "/customers?"+q, e.admin, nil)
		if r.Status != 200 {
			t.Fatalf("%s: %d %s", q, r.Status, r.Body)
		}
		var page struct {
			Items []customer `json:"items"`
		}
		r.JSON(t, &page)
		var ids []uuid.UUID
		for _, c := range page.Items {
			ids = append(ids, c.ID)
		}
		return ids
	}
	for q, want := range map[string][]uuid.UUID{
		"q=quispe":                               {ana.ID, luis.ID},
		"q=ANA":                                  {ana.ID, pct.ID},
		"q=ana+quispe":                           {ana.ID},
		"q=ana%25":                               {pct.ID}, // % is a character, not a wildcard
		"q=zzz":                                  nil,
		"national_id=" + luis.NationalID:         {luis.ID},
		"email=" + strings.ToUpper(ana.Email):    {ana.ID},
		"q=quispe&national_id=" + pct.NationalID: nil,
	} {
		if got := list(q); !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", q, got, want)
		}
	}
	if r := e.api.Do(t, "GET", "/customers?q="+strings.Repeat("a", 101), e.admin, nil); r.Status != 422 {
		t.Errorf("long q: %d", r.Status)
	}
}

// TestCustomerRoles calls every route with every role: admin and operator
// may do everything, the service account may only read, a courier nothing.
func TestCustomerRoles(t *testing.T) {
	e := setup(t)
	c := e.create(t, body())
	missing := "/customers/" + uuid.NewString()
	type route struct {
		method, path string
		body         func() any
		ok           int
		roles        []auth.Role
	}
	read := []auth.Role{auth.RoleAdmin, auth.RoleOperator, auth.RoleService}
	write := []auth.Role{auth.RoleAdmin, auth.RoleOperator}
	routes := []route{
		{"GET", "/customers", nil, 200, read},
		{"GET", "/customers/" + c.ID.String(), nil, 200, read},
		{"POST", "/customers", func() any { return body() }, 201, write},
		{"PUT", missing, func() any { return body() }, 404, write},
		{"PATCH", missing, func() any { return map[string]any{"phone": "999999999"} }, 404, write},
		{"DELETE", missing, nil, 404, write},
	}
	for _, rt := range routes {
		var b any
		if rt.body != nil {
			b = rt.body()
		}
		if r := e.api.Do(t, rt.method, rt.path, "", b); r.Status != http.StatusUnauthorized {
			t.Errorf("%s %s without token: %d", rt.method, rt.path, r.Status)
		}
		if r := e.api.Do(t, rt.method, rt.path, "not.a.token", b); r.Status != http.StatusUnauthorized {
			t.Errorf("%s %s bad token: %d", rt.method, rt.path, r.Status)
		}
		for _, role := range auth.Roles {
			if rt.body != nil {
				b = rt.body()
			}
			r := e.api.Do(t, rt.method, rt.path, e.users.Token(t, role), b)
			want := http.StatusForbidden
			if slices.Contains(rt.roles, role) {
				want = rt.ok
			}
			if r.Status != want {
				t.Errorf("%s %s as %s: %d, want %d: %s", rt.method, rt.path, role, r.Status, want, r.Body)
			}
		}
	}
	if r := e.api.Do(t, "GET", "/openapi.yaml", "", nil); r.Status != 200 || !strings.Contains(string(r.Body), "openapi: 3.0.3") {
		t.Errorf("openapi: %d", r.Status)
	}
}
