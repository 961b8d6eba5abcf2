package deliverymen_test

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
	"github.com/delivery/platform/services/deliverymen"
)

type env struct {
	api   *testenv.API
	users *testenv.Users
	admin string
	svc   string
}

func setup(t *testing.T) *env {
	t.Helper()
	users := testenv.StartUsers(t)
	pool := pgtest.New(t, "deliverymen", deliverymen.Migrations())
	app := httpx.New(httpx.Options{Name: "deliverymen"})
	deliverymen.Routes(app, deliverymen.New(pool), users.Guard)
	return &env{
		api: testenv.NewAPI(t, app, deliverymen.OpenAPIDoc), users: users,
		admin: users.AdminToken, svc: users.Token(t, auth.RoleService),
	}
}

type deliveryMan struct {
	ID              uuid.UUID  `json:"id"`
	FirstName       string     `json:"first_name"`
	PaternalSurname string     `json:"paternal_surname"`
	MaternalSurname string     `json:"maternal_surname"`
	NationalID      string     `json:"national_id"`
	Email           string     `json:"email"`
	Phone           string     `json:"phone"`
	Address         string     `json:"address"`
	BirthDate       string     `json:"birth_date"`
	Sex             string     `json:"sex"`
	DriverLicense   string     `json:"driver_license"`
	Available       bool       `json:"available"`
	UserID          *uuid.UUID `json:"user_id"`
	Capacity        int32      `json:"capacity"`
	ActiveOrders    int32      `json:"active_orders"`
	CreatedAt       time.Time  `json:"created_at"`
	UpdatedAt       time.Time  `json:"updated_at"`
}

var seq atomic.Int64

// body is a valid delivery man; each call gets its own unique fields.
func body(over ...any) map[string]any {
	n := seq.Add(1)
	b := map[string]any{
		"first_name": "Jorge", "paternal_surname": "Huamán", "maternal_surname": "Torres",
		"national_id": fmt.Sprintf("%08d", 20000000+n), "email": fmt.Sprintf("jorge%d@example.com", n),
		"phone": "955555555", "address": "Jr. Cusco 456", "birth_date": "1995-08-20", "sex": "male",
		"driver_license": fmt.Sprintf("Q%08d", n),
	}
	return testenv.Override(b, over...)
}

func (e *env) create(t *testing.T, b map[string]any) deliveryMan {
	t.Helper()
	return testenv.Expect[deliveryMan](t, e.api, 201, "POST", "/delivery-men", e.admin, b)
}

func (e *env) get(t *testing.T, id uuid.UUID) deliveryMan {
	t.Helper()
	return testenv.Expect[deliveryMan](t, e.api, 200, "GET", "/delivery-men/"+id.String(), e.admin, nil)
}

func TestDeliveryManLifecycle(t *testing.T) {
	e := setup(t)
	r := e.api.Do(t, "POST", "/delivery-men", e.admin, body("driver_license", "q1234567x", "email", "Jorge.H@Example.com"))
	if r.Status != 201 {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	var d deliveryMan
	r.JSON(t, &d)
	if loc := r.Header.Get("Location"); loc != "/delivery-men/"+d.ID.String() {
		t.Errorf("Location = %q", loc)
	}
	// Defaults: available, capacity 3, no account, no orders.
	if !d.Available || d.Capacity != 3 || d.UserID != nil || d.ActiveOrders != 0 ||
		d.DriverLicense != "Q1234567X" || d.Email != "jorge.h@example.com" || d.BirthDate != "1995-08-20" {
		t.Errorf("created %+v", d)
	}
	if got := e.get(t, d.ID); got != d {
		t.Errorf("get = %+v, want %+v", got, d)
	}

	// PATCH links a courier account and changes capacity, nothing else.
	user := uuid.New()
	r = e.api.Do(t, "PATCH", "/delivery-men/"+d.ID.String(), e.admin, map[string]any{"user_id": user, "capacity": 5, "available": false})
	if r.Status != 200 {
		t.Fatalf("patch: %d %s", r.Status, r.Body)
	}
	got := e.get(t, d.ID)
	if got.UserID == nil || *got.UserID != user || got.Capacity != 5 || got.Available || got.FirstName != "Jorge" || got.DriverLicense != "Q1234567X" {
		t.Errorf("after patch %+v", got)
	}
	// Omitting user_id in a PATCH keeps it; null clears it.
	e.api.Do(t, "PATCH", "/delivery-men/"+d.ID.String(), e.admin, map[string]any{"phone": "911111111"})
	if got := e.get(t, d.ID); got.UserID == nil || got.Phone != "911111111" {
		t.Errorf("patch without user_id: %+v", got)
	}
	if r := e.api.Do(t, "PATCH", "/delivery-men/"+d.ID.String(), e.admin, map[string]any{"user_id": nil}); r.Status != 200 {
		t.Fatalf("clear user_id: %d %s", r.Status, r.Body)
	}
	if got := e.get(t, d.ID); got.UserID != nil || got.Capacity != 5 {
		t.Errorf("after clearing user_id: %+v", got)
	}

	// PUT replaces everything: omitted fields take their defaults.
	put := body("first_name", "Carlos", "address", testenv.Absent)
	if r := e.api.Do(t, "PUT", "/delivery-men/"+d.ID.String(), e.admin, put); r.Status != 200 {
		t.Fatalf("put: %d %s", r.Status, r.Body)
	}
	got = e.get(t, d.ID)
	if got.FirstName != "Carlos" || got.Address != "" || !got.Available || got.Capacity != 3 || got.UserID != nil ||
		got.DriverLicense != put["driver_license"] || !got.CreatedAt.Equal(d.CreatedAt) {
		t.Errorf("after put %+v", got)
	}

	// Refused changes change nothing.
	for _, bad := range []map[string]any{{"capacity": 0}, {"capacity": 21}, {"driver_license": "Q123"}, {"driver_license": "Q1234567-"},
		{"user_id": uuid.Nil}, {"birth_date": time.Now().AddDate(-17, 0, 0).Format(time.DateOnly)}} {
		r := e.api.Do(t, "PATCH", "/delivery-men/"+d.ID.String(), e.admin, bad)
		var field string
		for k := range bad {
			field = k
		}
		if r.Status != 422 || !slices.Equal(r.Fields(t), []string{field}) {
			t.Errorf("patch %v: %d %s", bad, r.Status, r.Body)
		}
	}
	if again := e.get(t, d.ID); again != got {
		t.Errorf("a refused patch changed the delivery man: %+v", again)
	}

	if r := e.api.Do(t, "DELETE", "/delivery-men/"+d.ID.String(), e.admin, nil); r.Status != 204 {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	for _, m := range []string{"GET", "DELETE"} {
		if r := e.api.Do(t, m, "/delivery-men/"+d.ID.String(), e.admin, nil); r.Status != 404 {
			t.Errorf("%s after delete: %d", m, r.Status)
		}
	}
}

func TestDeliveryManUniqueness(t *testing.T) {
	e := setup(t)
	user := uuid.New()
	a := e.create(t, body("user_id", user))
	b := e.create(t, body())
	for name, c := range map[string]struct {
		method, path string
		body         map[string]any
		field        string
	}{
		"national id":           {"POST", "/delivery-men", body("national_id", a.NationalID), "national_id"},
		"email (case)":          {"POST", "/delivery-men", body("email", strings.ToUpper(a.Email)), "email"},
		"driver license (case)": {"POST", "/delivery-men", body("driver_license", strings.ToLower(a.DriverLicense)), "driver_license"},
		"user id":               {"POST", "/delivery-men", body("user_id", user), "user_id"},
		"patch onto another":    {"PATCH", "/delivery-men/" + b.ID.String(), map[string]any{"user_id": user}, "user_id"},
		"put onto another":      {"PUT", "/delivery-men/" + b.ID.String(), body("driver_license", a.DriverLicense), "driver_license"},
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
}

func TestDeliveryManBadInput(t *testing.T) {
	e := setup(t)
	d := e.create(t, body())
	path := "/delivery-men/" + d.ID.String()
	for name, tc := range map[string]struct {
		method, path string
		body         any
		headers      []string
		status       int
	}{
		"malformed":       {"POST", "/delivery-men", `{"first_name":`, nil, 400},
		"unknown field":   {"POST", "/delivery-men", body("licence", "x"), nil, 400},
		"unknown (patch)": {"PATCH", path, map[string]any{"active_orders": 0}, nil, 400},
		"bad uuid":        {"PATCH", path, map[string]any{"user_id": "nope"}, nil, 400},
		"text/plain":      {"PUT", path, `{}`, []string{"Content-Type", "text/plain"}, 415},
		"wrong type":      {"POST", "/delivery-men", body("capacity", "3"), nil, 422},
		"malformed id":    {"GET", "/delivery-men/xyz", nil, nil, 404},
		"missing id":      {"GET", "/delivery-men/" + uuid.NewString(), nil, nil, 404},
		"missing (patch)": {"PATCH", "/delivery-men/" + uuid.NewString(), map[string]any{"capacity": 4}, nil, 404},
	} {
		r := e.api.Do(t, tc.method, tc.path, e.admin, tc.body, tc.headers...)
		if r.Status != tc.status {
			t.Errorf("%s: %d, want %d: %s", name, r.Status, tc.status, r.Body)
			continue
		}
		r.Problem(t)
	}
	big := `{"address":"` + strings.Repeat("x", httpx.BodyLimit) + `"}`
	if r := testenv.PostRaw(t, e.api.App, "/delivery-men", e.admin, big); r.Status != 413 {
		t.Errorf("too large: %d %s", r.Status, r.Body)
	} else {
		r.Problem(t)
	}
	r := e.api.Do(t, "POST", "/delivery-men", e.admin, map[string]any{"capacity": 0})
	want := []string{"first_name", "paternal_surname", "maternal_surname", "national_id", "email", "phone", "birth_date", "sex", "driver_license", "capacity"}
	if r.Status != 422 || !slices.Equal(r.Fields(t), want) {
		t.Errorf("empty: %d %s", r.Status, r.Body)
	}
	// A delivery man must be an adult (a customer may be 16).
	r = e.api.Do(t, "POST", "/delivery-men", e.admin, body("birth_date", time.Now().AddDate(-17, 0, 0).Format(time.DateOnly)))
	if r.Status != 422 || !slices.Equal(r.Fields(t), []string{"birth_date"}) {
		t.Errorf("17-year-old: %d %s", r.Status, r.Body)
	}
}

func (e *env) list(t *testing.T, token, query string) ([]uuid.UUID, *string) {
	t.Helper()
	r := e.api.Do(t, "GET", "/delivery-men?"+query, token, nil)
	if r.Status != 200 {
		t.Fatalf("list %s: %d %s", query, r.Status, r.Body)
	}
	var page struct {
		Items      []deliveryMan `json:"items"`
		NextCursor *string       `json:"next_cursor"`
	}
	r.JSON(t, &page)
	var ids []uuid.UUID
	for _, d := range page.Items {
		ids = append(ids, d.ID)
	}
	return ids, page.NextCursor
}

func TestDeliveryManListing(t *testing.T) {
	e := setup(t)
	user := uuid.New()
	a := e.create(t, body("first_name", "Ana", "paternal_surname", "Rojas"))
	b := e.create(t, body("available", false, "user_id", user))
	c := e.create(t, body("first_name", "Ana", "paternal_surname", "Paz"))

	var got []uuid.UUID
	cursor := ""
	for range 4 {
		ids, next := e.list(t, e.admin, "limit=1&cursor="+cursor)
		got = append(got, ids...)
		if next == nil {
			break
		}
		cursor = *next
	}
	if want := []uuid.UUID{a.ID, b.ID, c.ID}; !slices.Equal(got, want) {
		t.Errorf("pages %v, want %v", got, want)
	}
	for q, want := range map[string][]uuid.UUID{
		"q=ana":                    {a.ID, c.ID},
		"q=ana+paz":                {c.ID},
		"available=false":          {b.ID},
		"available=true&q=rojas":   {a.ID},
		"user_id=" + user.String(): {b.ID},
		"driver_license=" + strings.ToLower(c.DriverLicense): {c.ID},
		"national_id=" + a.NationalID:                        {a.ID},
		"email=" + strings.ToUpper(b.Email):                  {b.ID},
	} {
		if ids, _ := e.list(t, e.admin, q); !slices.Equal(ids, want) {
			t.Errorf("%s: %v, want %v", q, ids, want)
		}
	}
	for _, q := range []string{"limit=0", "limit=101", "cursor=zz", "available=maybe", "user_id=42"} {
		if r := e.api.Do(t, "GET", "/delivery-men?"+q, e.admin, nil); r.Status != 422 {
			t.Errorf("%s: %d %s", q, r.Status, r.Body)
		}
	}
}

// TestCourierSeesOwnRecord: a courier reads the delivery man linked to their
// account, and nothing else exists for them.
func TestCourierSeesOwnRecord(t *testing.T) {
	e := setup(t)
	courierID, courier := e.users.NewUser(t, auth.RoleCourier)
	_, stranger := e.users.NewUser(t, auth.RoleCourier)
	other := e.create(t, body("user_id", uuid.New()))
	own := e.create(t, body("user_id", courierID))
	unlinked := e.create(t, body())

	r := e.api.Do(t, "GET", "/delivery-men/me", courier, nil)
	var me deliveryMan
	if r.Status != 200 {
		t.Fatalf("me: %d %s", r.Status, r.Body)
	}
	r.JSON(t, &me)
	if me.ID != own.ID {
		t.Errorf("me = %s, want %s", me.ID, own.ID)
	}
	if r := e.api.Do(t, "GET", "/delivery-men/"+own.ID.String(), courier, nil); r.Status != 200 {
		t.Errorf("own record: %d", r.Status)
	}
	for _, d := range []deliveryMan{other, unlinked} {
		if r := e.api.Do(t, "GET", "/delivery-men/"+d.ID.String(), courier, nil); r.Status != 404 {
			t.Errorf("someone else's record: %d %s", r.Status, r.Body)
		}
	}
	// The list holds only their own record, whatever the filter asks.
	for _, q := range []string{"", "user_id=" + other.UserID.String(), "available=true"} {
		if ids, _ := e.list(t, courier, q); !slices.Equal(ids, []uuid.UUID{own.ID}) {
			t.Errorf("courier list %q: %v", q, ids)
		}
	}
	if ids, _ := e.list(t, courier, "available=false"); len(ids) != 0 {
		t.Errorf("courier list available=false: %v", ids)
	}
	// A courier without a record has none.
	if r := e.api.Do(t, "GET", "/delivery-men/me", stranger, nil); r.Status != 404 {
		t.Errorf("unlinked courier me: %d", r.Status)
	}
	if ids, _ := e.list(t, stranger, ""); len(ids) != 0 {
		t.Errorf("unlinked courier list: %v", ids)
	}
	// After unlinking, the record is gone for the courier.
	e.api.Do(t, "PATCH", "/delivery-men/"+own.ID.String(), e.admin, map[string]any{"user_id": nil})
	if r := e.api.Do(t, "GET", "/delivery-men/me", courier, nil); r.Status != 404 {
		t.Errorf("me after unlinking: %d", r.Status)
	}
	if r := e.api.Do(t, "GET", "/delivery-men/"+own.ID.String(), courier, nil); r.Status != 404 {
		t.Errorf("record after unlinking: %d", r.Status)
	}
}

// TestDeliveryMenRoles calls every route with every role and without a token.
func TestDeliveryMenRoles(t *testing.T) {
	e := setup(t)
	d := e.create(t, body("capacity", 20))
	missing := "/delivery-men/" + uuid.NewString()
	all := []auth.Role{auth.RoleAdmin, auth.RoleOperator, auth.RoleService, auth.RoleCourier}
	staff := []auth.Role{auth.RoleAdmin, auth.RoleOperator, auth.RoleService}
	write := []auth.Role{auth.RoleAdmin, auth.RoleOperator}
	assign := []auth.Role{auth.RoleAdmin, auth.RoleService}
	type route struct {
		method, path string
		body         func() any
		ok           map[auth.Role]int // status when admitted
		roles        []auth.Role
	}
	same := func(status int) map[auth.Role]int {
		return map[auth.Role]int{auth.RoleAdmin: status, auth.RoleOperator: status, auth.RoleService: status, auth.RoleCourier: status}
	}
	getOne := same(200)
	getOne[auth.RoleCourier] = 404 // not their record
	routes := []route{
		{"GET", "/delivery-men", nil, same(200), all},
		{"GET", "/delivery-men/me", nil, same(404), []auth.Role{auth.RoleCourier}},
		{"GET", "/delivery-men/" + d.ID.String(), nil, getOne, all},
		{"POST", "/delivery-men", func() any { return body() }, same(201), write},
		{"PUT", missing, func() any { return body() }, same(404), write},
		{"PATCH", missing, func() any { return map[string]any{"capacity": 4} }, same(404), write},
		{"DELETE", missing, nil, same(404), write},
		{"POST", "/assignments", func() any { return map[string]any{"order_id": uuid.New(), "delivery_man_id": d.ID} }, same(201), assign},
		{"GET", "/assignments/" + uuid.NewString(), nil, same(404), staff},
		{"POST", "/assignments/" + uuid.NewString() + "/release", nil, same(204), assign},
	}
	for _, rt := range routes {
		var b any
		if rt.body != nil {
			b = rt.body()
		}
		if r := e.api.Do(t, rt.method, rt.path, "", b); r.Status != http.StatusUnauthorized {
			t.Errorf("%s %s without token: %d", rt.method, rt.path, r.Status)
		}
		if r := e.api.Do(t, rt.method, rt.path, e.svc+"x", b); r.Status != http.StatusUnauthorized {
			t.Errorf("%s %s forged token: %d", rt.method, rt.path, r.Status)
		}
		for _, role := range auth.Roles {
			if rt.body != nil {
				b = rt.body()
			}
			r := e.api.Do(t, rt.method, rt.path, e.users.Token(t, role), b)
			want := http.StatusForbidden
			if slices.Contains(rt.roles, role) {
				want = rt.ok[role]
			}
			if r.Status != want {
				t.Errorf("%s %s as %s: %d, want %d: %s", rt.method, rt.path, role, r.Status, want, r.Body)
			}
		}
	}
	if r := e.api.Do(t, "GET", "/openapi.yaml", "", nil); r.Status != 200 || !strings.Contains(string(r.Body), "/assignments/{order_id}/release") {
		t.Errorf("openapi: %d", r.Status)
	}
}
