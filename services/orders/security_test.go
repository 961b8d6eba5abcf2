package orders_test

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/delivery/platform/internal/auth"
	"github.com/delivery/platform/internal/testenv"
	"github.com/delivery/platform/services/orders"
)

// roles is the orders service's role × route matrix, as routes.go declares
// it. A route the app has without an entry here fails TestRoleMatrix.
var roles = testenv.Matrix{
	"POST /orders":             {auth.RoleAdmin, auth.RoleOperator},
	"GET /orders":              auth.Roles,
	"GET /orders/:id":          auth.Roles,
	"POST /orders/:id/pickup":  {auth.RoleAdmin, auth.RoleCourier},
	"POST /orders/:id/deliver": {auth.RoleAdmin, auth.RoleCourier},
	"POST /orders/:id/cancel":  {auth.RoleAdmin, auth.RoleOperator},
}

func securityStack(t *testing.T) (*testenv.Stack, *testenv.API) {
	t.Helper()
	s := testenv.StartStack(t, temporal, testenv.StackOptions{})
	return s, testenv.NewAPI(t, s.Orders, orders.OpenAPIDoc)
}

func TestRoleMatrix(t *testing.T) {
	t.Parallel()
	s, api := securityStack(t)
	testenv.CheckRoleMatrix(t, "orders", api, s.Users, roles)
}

func TestBadTokens(t *testing.T) {
	t.Parallel()
	s, api := securityStack(t)
	testenv.CheckTokenAttacks(t, "orders", api, s.Users)
}

// A courier sees and acts on only the orders assigned to them; SQL
// metacharacters in an order's text come back literally.
func TestCourierScopingAndLiteralText(t *testing.T) {
	t.Parallel()
	s, api := securityStack(t)
	operator := s.Users.Token(t, auth.RoleOperator)
	mine, myTok := s.NewCourier(t, 3)
	_, otherTok := s.NewCourier(t, 3)
	address := `Av. O'Higgins 1"; DROP TABLE orders; -- \x00 %_ $1 ${x}`
	r := api.Do(t, "POST", "/orders", operator, map[string]any{
		"customer_id": s.NewCustomer(t), "delivery_man_id": mine,
		"items":            []map[string]any{{"product_id": s.NewProduct(t, "9.90", 5), "quantity": 1}},
		"phone":            "987654321",
		"delivery_address": address,
		"deliver_at":       time.Now().Add(2 * time.Hour).UTC().Format(time.RFC3339),
	})
	if r.Status != 201 {
		t.Fatalf("place: %d %s", r.Status, r.Body)
	}
	var o struct {
		ID              uuid.UUID `json:"id"`
		DeliveryAddress string    `json:"delivery_address"`
	}
	r.JSON(t, &o)
	path := "/orders/" + o.ID.String()
	if r := api.Do(t, "GET", path, operator, nil); r.Status != 200 {
		t.Fatalf("get: %d", r.Status)
	} else if r.JSON(t, &o); o.DeliveryAddress != address {
		t.Errorf("delivery_address came back as %q, want %q", o.DeliveryAddress, address)
	}

	// The other courier: not found, whatever they try.
	checks := 0
	for _, c := range []struct{ method, path string }{
		{"GET", path}, {"POST", path + "/pickup"}, {"POST", path + "/deliver"},
	} {
		checks++
		if r := api.Do(t, c.method, c.path, otherTok, nil); r.Status != 404 && r.Status != 403 {
			t.Errorf("another courier %s %s: %d, want 404/403: %s", c.method, c.path, r.Status, r.Body)
		}
	}
	checks++
	if r := api.Do(t, "POST", path+"/cancel", myTok, nil); r.Status != 403 {
		t.Errorf("a courier cancels: %d, want 403", r.Status)
	}
	var list struct {
		Items []struct {
			ID uuid.UUID `json:"id"`
		} `json:"items"`
	}
	checks++
	if r := api.Do(t, "GET", "/orders?limit=100", otherTok, nil); r.Status != 200 {
		t.Errorf("another courier's list: %d", r.Status)
	} else if r.JSON(t, &list); len(list.Items) != 0 {
		t.Errorf("another courier's list holds %d orders", len(list.Items))
	}
	// Their own courier may.
	if r := api.Do(t, "GET", path, myTok, nil); r.Status != 200 {
		t.Errorf("own courier reads: %d %s", r.Status, r.Body)
	}
	if r := api.Do(t, "POST", path+"/pickup", myTok, nil); r.Status != 200 {
		t.Errorf("own courier picks up: %d %s", r.Status, r.Body)
	}
	checks++
	if r := api.Do(t, "POST", path+"/deliver", otherTok, nil); r.Status != 404 && r.Status != 403 {
		t.Errorf("another courier delivers a picked-up order: %d", r.Status)
	}
	t.Logf("figure: orders courier scoping: %d cross-courier attempts refused", checks)
}

// Bad input: NUL and invalid UTF-8 refused (the database cannot store them:
// it was a 500), huge JSON refused within a memory bound, a body over 1 MiB
// 413.
func TestHostileInput(t *testing.T) {
	t.Parallel()
	s, api := securityStack(t)
	operator := s.Users.Token(t, auth.RoleOperator)
	valid := map[string]any{
		"customer_id": uuid.New(), "delivery_man_id": uuid.New(),
		"items":            []map[string]any{{"product_id": uuid.New(), "quantity": 1}},
		"phone":            "987654321",
		"delivery_address": "Av. Arequipa 123",
		"deliver_at":       time.Now().Add(2 * time.Hour).UTC().Format(time.RFC3339),
	}
	n := testenv.CheckBadText(t, api, operator, "/orders", valid, []string{"delivery_address"}, []string{"status", "customer_id"})
	peak := testenv.CheckHugeBodies(t, s.OrdersURL+"/orders", operator)
	testenv.CheckOverLimit(t, s.OrdersURL, "/orders", operator, "delivery_address")
	t.Logf("figure: orders bad input: %d NUL/UTF-8 checks, %d huge bodies (peak %.1f MiB), 413 over 1 MiB",
		n, len(testenv.HugeBodies()), float64(peak)/(1<<20))
}
