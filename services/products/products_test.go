package products_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/delivery/platform/internal/auth"
	"github.com/delivery/platform/internal/httpx"
	"github.com/delivery/platform/internal/pgtest"
	"github.com/delivery/platform/internal/testenv"
	"github.com/delivery/platform/services/products"
)

type env struct {
	api   *testenv.API
	users *testenv.Users
	admin string // an admin token
	svc   string // a service-account token
}

func setup(t *testing.T) *env {
	t.Helper()
	users := testenv.StartUsers(t)
	pool := pgtest.New(t, "products", products.Migrations())
	app := httpx.New(httpx.Options{Name: "products"})
	products.Routes(app, products.New(pool), users.Guard)
	return &env{
		api:   testenv.NewAPI(t, app, products.OpenAPIDoc),
		users: users,
		admin: users.AdminToken,
		svc:   users.Token(t, auth.RoleService),
	}
}

type product struct {
	ID          uuid.UUID `json:"id"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	Price       string    `json:"price"`
	Stock       int32     `json:"stock"`
	Reserved    int32     `json:"reserved"`
	Active      bool      `json:"active"`
}

func (e *env) create(t *testing.T, name, price string, stock int) product {
	t.Helper()
	return testenv.Expect[product](t, e.api, 201, "POST", "/products", e.admin, map[string]any{"name": name, "price": price, "stock": stock})
}

func (e *env) get(t *testing.T, id uuid.UUID) product {
	t.Helper()
	return testenv.Expect[product](t, e.api, 200, "GET", "/products/"+id.String(), e.admin, nil)
}

func TestProductLifecycle(t *testing.T) {
	e := setup(t)
	r := e.api.Do(t, "POST", "/products", e.admin, map[string]any{
		"name": "Ceviche", "description": "fresh; DROP TABLE products;--", "price": "12.5", "stock": 7,
	})
	if r.Status != 201 {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	var p product
	r.JSON(t, &p)
	if loc := r.Header.Get("Location"); loc != "/products/"+p.ID.String() {
		t.Errorf("Location = %q", loc)
	}
	if p.Price != "12.50" || p.Stock != 7 || !p.Active || p.Description != "fresh; DROP TABLE products;--" {
		t.Errorf("created %+v", p)
	}

	// PUT replaces everything; a float-looking price stays exact.
	r = e.api.Do(t, "PUT", "/products/"+p.ID.String(), e.admin, map[string]any{
		"name": "Ceviche mixto", "price": 0.1, "stock": 3, "active": false,
	})
	if r.Status != 200 {
		t.Fatalf("put: %d %s", r.Status, r.Body)
	}
	got := e.get(t, p.ID)
	if got.Name != "Ceviche mixto" || got.Price != "0.10" || got.Stock != 3 || got.Active || got.Description != "" {
		t.Errorf("after put %+v", got)
	}

	// PATCH changes only what it names.
	r = e.api.Do(t, "PATCH", "/products/"+p.ID.String(), e.admin, map[string]any{"price": "19.99"})
	if r.Status != 200 {
		t.Fatalf("patch: %d %s", r.Status, r.Body)
	}
	got = e.get(t, p.ID)
	if got.Name != "Ceviche mixto" || got.Price != "19.99" || got.Stock != 3 {
		t.Errorf("after patch %+v", got)
	}
	// A PATCH that breaks a rule changes nothing.
	r = e.api.Do(t, "PATCH", "/products/"+p.ID.String(), e.admin, map[string]any{"price": "-1", "name": "x"})
	if r.Status != 422 {
		t.Fatalf("bad patch: %d %s", r.Status, r.Body)
	}
	if again := e.get(t, p.ID); again.Name != "Ceviche mixto" || again.Price != "19.99" {
		t.Errorf("a refused patch changed the product: %+v", again)
	}

	if r := e.api.Do(t, "DELETE", "/products/"+p.ID.String(), e.admin, nil); r.Status != 204 {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	for _, m := range []string{"GET", "DELETE"} {
		r := e.api.Do(t, m, "/products/"+p.ID.String(), e.admin, nil)
		if r.Status != 404 || !strings.HasSuffix(r.Problem(t).Type, "/not-found") {
			t.Errorf("%s deleted: %d %s", m, r.Status, r.Body)
		}
	}
	if r := e.api.Do(t, "GET", "/products/not-a-uuid", e.admin, nil); r.Status != 404 {
		t.Errorf("malformed id: %d", r.Status)
	}
}

func TestProductBadInput(t *testing.T) {
	e := setup(t)
	valid := `{"name":"Tea","price":"2.00","stock":1}`
	cases := []struct {
		name, body, ctype string
		status            int
		field             string
	}{
		{"malformed", `{"name":`, "application/json", 400, ""},
		{"not an object", `[1,2]`, "application/json", 400, ""},
		{"unknown field", `{"name":"Tea","price":"2.00","colour":"red"}`, "application/json", 400, ""},
		{"two values", valid + valid, "application/json", 400, ""},
		{"empty", ``, "application/json", 400, ""},
		{"not json", valid, "text/plain", 415, ""},
		{"wrong type", `{"name":"Tea","price":"2.00","stock":"many"}`, "application/json", 422, "stock"},
		{"stock overflow", `{"name":"Tea","price":"2.00","stock":99999999999}`, "application/json", 422, "stock"},
		{"zero price", `{"name":"Tea","price":"0"}`, "application/json", 422, "price"},
		{"negative price", `{"name":"Tea","price":"-3"}`, "application/json", 422, "price"},
		{"three decimals", `{"name":"Tea","price":"1.005"}`, "application/json", 422, "price"},
		{"huge price", `{"name":"Tea","price":"10000000000"}`, "application/json", 422, "price"},
		{"price not a number", `{"name":"Tea","price":"abc"}`, "application/json", 400, ""},
		{"blank name", `{"name":"  ","price":"1"}`, "application/json", 422, "name"},
		{"long name", `{"name":"` + strings.Repeat("é", 101) + `","price":"1"}`, "application/json", 422, "name"},
		{"negative stock", `{"name":"Tea","price":"1","stock":-1}`, "application/json", 422, "stock"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.api.Do(t, "POST", "/products", e.admin, []byte(c.body), "Content-Type", c.ctype)
			if r.Status != c.status {
				t.Fatalf("status %d, want %d: %s", r.Status, c.status, r.Body)
			}
			p := r.Problem(t)
			if c.field != "" && (len(p.Errors) == 0 || p.Errors[0].Field != c.field) {
				t.Errorf("want a field error on %q: %s", c.field, r.Body)
			}
		})
	}
	big := `{"name":"Tea","price":"1","description":"` + strings.Repeat("a", httpx.BodyLimit) + `"}`
	// Over a real connection: the server answers 413 from the Content-Length
	// alone and never reads the body.
	url := testenv.Serve(t, e.api.App)
	if r := testenv.PostRawURL(t, url, "/products", e.admin, big); r.Status != 413 {
		t.Errorf("body over 1 MiB: %d", r.Status)
	} else {
		r.Problem(t)
	}
	// Nothing of the above was stored.
	r := e.api.Do(t, "GET", "/products", e.admin, nil)
	var l httpx.List[product]
	r.JSON(t, &l)
	if len(l.Items) != 0 {
		t.Errorf("refused requests stored %d products", len(l.Items))
	}
}

func TestProductRoles(t *testing.T) {
	e := setup(t)
	p := e.create(t, "Juice", "3.00", 5)
	id := p.ID.String()
	tokens := map[string]string{
		"admin": e.admin, "operator": e.users.Token(t, auth.RoleOperator),
		"courier": e.users.Token(t, auth.RoleCourier), "service": e.svc, "none": "", "garbage": "not.a.token",
	}
	routes := []struct {
		method, path string
		body         any
		allowed      []string
	}{
		{"GET", "/products", nil, []string{"admin", "operator", "service"}},
		{"GET", "/products/" + id, nil, []string{"admin", "operator", "service"}},
		{"POST", "/products", map[string]any{"name": "x", "price": "1"}, []string{"admin", "operator"}},
		{"PUT", "/products/" + id, map[string]any{"name": "x", "price": "1", "stock": 5}, []string{"admin", "operator"}},
		{"PATCH", "/products/" + id, map[string]any{"name": "y"}, []string{"admin", "operator"}},
		{"GET", "/reservations/" + uuid.NewString(), nil, []string{"admin", "operator", "service"}},
		{"POST", "/reservations", map[string]any{"order_id": uuid.NewString(), "items": []any{map[string]any{"product_id": id, "quantity": 1}}}, []string{"admin", "service"}},
		{"POST", "/reservations/" + uuid.NewString() + "/release", nil, []string{"admin", "service"}},
		{"POST", "/reservations/" + uuid.NewString() + "/fulfill", nil, []string{"admin", "service"}},
	}
	for _, rt := range routes {
		for who, tok := range tokens {
			r := e.api.Do(t, rt.method, rt.path, tok, rt.body)
			allowed := false
			for _, a := range rt.allowed {
				allowed = allowed || a == who
			}
			switch {
			case who == "none" || who == "garbage":
				if r.Status != 401 || r.Header.Get("WWW-Authenticate") == "" {
					t.Errorf("%s %s as %s: %d, want 401 with WWW-Authenticate", rt.method, rt.path, who, r.Status)
				}
			case !allowed:
				if r.Status != 403 {
					t.Errorf("%s %s as %s: %d, want 403", rt.method, rt.path, who, r.Status)
				}
			default:
				if r.Status == 401 || r.Status == 403 || r.Status >= 500 {
					t.Errorf("%s %s as %s: %d, want admitted: %s", rt.method, rt.path, who, r.Status, r.Body)
				}
			}
		}
	}
	if r := e.api.Do(t, "DELETE", "/products/"+id, tokens["service"], nil); r.Status != 403 {
		t.Errorf("service deleting: %d", r.Status)
	}
}

func TestProductListPagesAndFilters(t *testing.T) {
	e := setup(t)
	want := map[uuid.UUID]bool{}
	for i := 0; i < 25; i++ {
		p := e.create(t, fmt.Sprintf("Item %02d", i), "1.00", i%2)
		want[p.ID] = true
	}
	special := e.create(t, "100% juice_box", "2.00", 1)
	want[special.ID] = true

	seen := map[uuid.UUID]bool{}
	var last uuid.UUID
	cursor, pages := "", 0
	for {
		r := e.api.Do(t, "GET", "/products?limit=10&cursor="+cursor, e.admin, nil)
		if r.Status != 200 {
			t.Fatalf("list: %d %s", r.Status, r.Body)
		}
		var l httpx.List[product]
		r.JSON(t, &l)
		pages++
		for _, p := range l.Items {
			if seen[p.ID] {
				t.Fatalf("%s on two pages", p.ID)
			}
			if strings.Compare(p.ID.String(), last.String()) <= 0 {
				t.Fatalf("order is not stable: %s after %s", p.ID, last)
			}
			seen[p.ID], last = true, p.ID
		}
		if l.NextCursor == nil {
			break
		}
		cursor = *l.NextCursor
	}
	if pages != 3 || len(seen) != len(want) {
		t.Errorf("%d pages, %d items; want 3 pages, %d items", pages, len(seen), len(want))
	}

	count := func(query string) int {
		r := e.api.Do(t, "GET", "/products?limit=100&"+query, e.admin, nil)
		if r.Status != 200 {
			t.Fatalf("%s: %d %s", query, r.Status, r.Body)
		}
		var l httpx.List[product]
		r.JSON(t, &l)
		return len(l.Items)
	}
	if n := count("in_stock=true"); n != 13 {
		t.Errorf("in_stock=true: %d, want 13", n)
	}
	if n := count("q=100%25"); n != 1 { // a literal %, not a wildcard
		t.Errorf("q=100%%: %d, want 1", n)
	}
	if n := count("q=_"); n != 1 {
		t.Errorf("q=_: %d, want 1", n)
	}
	for _, q := range []string{"limit=0", "limit=101", "limit=x", "cursor=zzz", "active=maybe"} {
		if r := e.api.Do(t, "GET", "/products?"+q, e.admin, nil); r.Status != 422 {
			t.Errorf("%s: %d, want 422", q, r.Status)
		}
	}
}

type reservation struct {
	OrderID uuid.UUID `json:"order_id"`
	Status  string    `json:"status"`
	Items   []struct {
		ProductID uuid.UUID `json:"product_id"`
		Quantity  int32     `json:"quantity"`
		UnitPrice string    `json:"unit_price"`
	} `json:"items"`
	Total string `json:"total"`
}

func reserveBody(order uuid.UUID, lines ...any) map[string]any {
	items := []any{}
	for i := 0; i+1 < len(lines); i += 2 {
		items = append(items, map[string]any{"product_id": lines[i], "quantity": lines[i+1]})
	}
	return map[string]any{"order_id": order, "items": items}
}

func TestReservations(t *testing.T) {
	e := setup(t)
	tea := e.create(t, "Tea", "2.50", 10)
	cake := e.create(t, "Cake", "4.10", 3)
	order := uuid.New()

	r := e.api.Do(t, "POST", "/reservations", e.svc, reserveBody(order, tea.ID, 4, cake.ID, 3))
	if r.Status != 201 {
		t.Fatalf("reserve: %d %s", r.Status, r.Body)
	}
	var res reservation
	r.JSON(t, &res)
	if res.Total != "22.30" || res.Status != "active" || len(res.Items) != 2 {
		t.Errorf("reservation %+v", res)
	}
	// The price snapshot does not follow later price changes.
	e.api.Do(t, "PATCH", "/products/"+tea.ID.String(), e.admin, map[string]any{"price": "9.00"})

	// The same order again: the same answer, stock taken once.
	r = e.api.Do(t, "POST", "/reservations", e.svc, reserveBody(order, tea.ID, 4, cake.ID, 3))
	var again reservation
	r.JSON(t, &again)
	if r.Status != 200 || again.Total != "22.30" {
		t.Errorf("repeat: %d %s", r.Status, r.Body)
	}
	if p := e.get(t, tea.ID); p.Stock != 6 || p.Reserved != 4 {
		t.Errorf("tea after reserve: stock %d reserved %d", p.Stock, p.Reserved)
	}
	// The same order with other items is a conflict.
	if r := e.api.Do(t, "POST", "/reservations", e.svc, reserveBody(order, tea.ID, 1)); r.Status != 409 {
		t.Errorf("mismatch: %d %s", r.Status, r.Body)
	}

	// All or nothing: one line short of stock, one product missing: nothing taken, every line named.
	ghost := uuid.New()
	r = e.api.Do(t, "POST", "/reservations", e.svc, reserveBody(uuid.New(), tea.ID, 1, cake.ID, 1, ghost, 1))
	if r.Status != 422 {
		t.Fatalf("refusal: %d %s", r.Status, r.Body)
	}
	p := r.Problem(t)
	if !strings.HasSuffix(p.Type, "/reservation-refused") || len(p.Errors) != 2 ||
		p.Errors[0].Field != "items[1]" || !strings.Contains(p.Errors[0].Message, "insufficient stock") ||
		p.Errors[1].Field != "items[2]" || p.Errors[1].Message != "product not found" {
		t.Errorf("refusal problem: %s", r.Body)
	}
	if p := e.get(t, tea.ID); p.Stock != 6 {
		t.Errorf("a refused reservation took stock: %d", p.Stock)
	}

	// Fulfil: reserved goes, stock stays out.
	if r := e.api.Do(t, "POST", "/reservations/"+order.String()+"/fulfill", e.svc, nil); r.Status != 204 {
		t.Fatalf("fulfill: %d %s", r.Status, r.Body)
	}
	if p := e.get(t, tea.ID); p.Stock != 6 || p.Reserved != 0 {
		t.Errorf("after fulfill: %+v", p)
	}
	if r := e.api.Do(t, "POST", "/reservations/"+order.String()+"/release", e.svc, nil); r.Status != 409 {
		t.Errorf("release after fulfill: %d", r.Status)
	}

	// Release gives stock back, twice is fine, and a released order cannot reserve again.
	o2 := uuid.New()
	e.api.Do(t, "POST", "/reservations", e.svc, reserveBody(o2, tea.ID, 6))
	for i := 0; i < 2; i++ {
		if r := e.api.Do(t, "POST", "/reservations/"+o2.String()+"/release", e.svc, nil); r.Status != 204 {
			t.Fatalf("release %d: %d %s", i, r.Status, r.Body)
		}
	}
	if p := e.get(t, tea.ID); p.Stock != 6 || p.Reserved != 0 {
		t.Errorf("after release: %+v", p)
	}
	if r := e.api.Do(t, "POST", "/reservations", e.svc, reserveBody(o2, tea.ID, 6)); r.Status != 409 {
		t.Errorf("reserve after release: %d", r.Status)
	}
	// Releasing first (a compensation racing a slow reservation) leaves a tombstone.
	o3 := uuid.New()
	if r := e.api.Do(t, "POST", "/reservations/"+o3.String()+"/release", e.svc, nil); r.Status != 204 {
		t.Fatalf("release unknown: %d", r.Status)
	}
	if r := e.api.Do(t, "POST", "/reservations", e.svc, reserveBody(o3, tea.ID, 1)); r.Status != 409 {
		t.Errorf("reserve after tombstone: %d %s", r.Status, r.Body)
	}
	if p := e.get(t, tea.ID); p.Stock != 6 {
		t.Errorf("tombstoned order took stock: %d", p.Stock)
	}

	for _, body := range []any{
		reserveBody(uuid.New()),                       // no items
		reserveBody(uuid.New(), tea.ID, 0),            // zero quantity
		reserveBody(uuid.New(), tea.ID, 1, tea.ID, 1), // duplicated line
		reserveBody(uuid.Nil, tea.ID, 1),              // no order
	} {
		if r := e.api.Do(t, "POST", "/reservations", e.svc, body); r.Status != 422 {
			t.Errorf("bad reservation %v: %d", body, r.Status)
		}
	}
}

func TestReservationsNeverOversell(t *testing.T) {
	e := setup(t)
	a := e.create(t, "A", "1.00", 10)
	b := e.create(t, "B", "1.00", 10)
	const n = 60
	var wg sync.WaitGroup
	statuses := make([]int, n)
	same := uuid.New()
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			order := uuid.New()
			lines := []any{a.ID, 1, b.ID, 1}
			if i%2 == 1 { // opposite line order: must not deadlock
				lines = []any{b.ID, 1, a.ID, 1}
			}
			if i%3 == 0 { // a third of the calls repeat one order
				order = same
				lines = []any{a.ID, 1, b.ID, 1}
			}
			statuses[i] = testenv.Do(t, e.api.App, "POST", "/reservations", e.svc, reserveBody(order, lines...)).Status
		}(i)
	}
	wg.Wait()
	created, repeats, refused := 0, 0, 0
	for _, s := range statuses {
		switch s {
		case http.StatusCreated:
			created++
		case http.StatusOK:
			repeats++
		case http.StatusUnprocessableEntity:
			refused++
		default:
			t.Errorf("unexpected status %d", s)
		}
	}
	pa, pb := e.get(t, a.ID), e.get(t, b.ID)
	if created != 10 || pa.Stock != 0 || pb.Stock != 0 || pa.Reserved != 10 || pb.Reserved != 10 {
		t.Errorf("created %d (want 10), A %d/%d, B %d/%d", created, pa.Stock, pa.Reserved, pb.Stock, pb.Reserved)
	}
	if repeats+refused+created != n {
		t.Errorf("lost answers: %d+%d+%d", created, repeats, refused)
	}
}

// A compensation (release) racing a slow reservation of the same order must
// never leave stock reserved: whichever lands first, the order ends released.
func TestReleaseRacingReserveNeverLeaks(t *testing.T) {
	e := setup(t)
	p := e.create(t, "Race", "1.00", 1000)
	const n = 40
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		order := uuid.New()
		wg.Add(2)
		go func() {
			defer wg.Done()
			testenv.Do(t, e.api.App, "POST", "/reservations", e.svc, reserveBody(order, p.ID, 3))
		}()
		go func() {
			defer wg.Done()
			if r := testenv.Do(t, e.api.App, "POST", "/reservations/"+order.String()+"/release", e.svc, nil); r.Status != 204 {
				t.Errorf("release: %d %s", r.Status, r.Body)
			}
		}()
	}
	wg.Wait()
	if got := e.get(t, p.ID); got.Stock != 1000 || got.Reserved != 0 {
		t.Errorf("after racing releases: stock %d reserved %d, want 1000 and 0", got.Stock, got.Reserved)
	}
}
