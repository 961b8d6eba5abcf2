package deliverymen_test

import (
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/delivery/platform/internal/httpx"
	"github.com/delivery/platform/internal/testenv"
)

type assignment struct {
	OrderID       uuid.UUID  `json:"order_id"`
	DeliveryManID *uuid.UUID `json:"delivery_man_id"`
	Status        string     `json:"status"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
}

// same compares assignments; times by instant (JSON may spell a zone differently).
func same(a, b assignment) bool {
	return a.OrderID == b.OrderID && a.Status == b.Status && a.CreatedAt.Equal(b.CreatedAt) && a.UpdatedAt.Equal(b.UpdatedAt) &&
		(a.DeliveryManID == nil) == (b.DeliveryManID == nil) && (a.DeliveryManID == nil || *a.DeliveryManID == *b.DeliveryManID)
}

func (e *env) assign(t *testing.T, order, dm uuid.UUID) testenv.Response {
	t.Helper()
	return e.api.Do(t, "POST", "/assignments", e.svc, map[string]any{"order_id": order, "delivery_man_id": dm})
}

func (e *env) release(t *testing.T, order uuid.UUID) {
	t.Helper()
	if r := e.api.Do(t, "POST", "/assignments/"+order.String()+"/release", e.svc, nil); r.Status != 204 {
		t.Fatalf("release: %d %s", r.Status, r.Body)
	}
}

func (e *env) assignment(t *testing.T, order uuid.UUID) assignment {
	t.Helper()
	r := e.api.Do(t, "GET", "/assignments/"+order.String(), e.svc, nil)
	if r.Status != 200 {
		t.Fatalf("get assignment: %d %s", r.Status, r.Body)
	}
	var a assignment
	r.JSON(t, &a)
	return a
}

// refused checks a problem of the given status and type whose detail says why.
func refused(t *testing.T, r testenv.Response, status int, typ, detail string) {
	t.Helper()
	if r.Status != status {
		t.Errorf("want %d %s, got %d %s", status, typ, r.Status, r.Body)
		return
	}
	p := r.Problem(t)
	if p.Type != httpx.ProblemTypeBase+typ || !strings.Contains(p.Detail, detail) {
		t.Errorf("want type %s and detail with %q, got %s: %q", typ, detail, p.Type, p.Detail)
	}
}

func TestAssignIsIdempotent(t *testing.T) {
	e := setup(t)
	d := e.create(t, body())
	other := e.create(t, body())
	order := uuid.New()

	r := e.assign(t, order, d.ID)
	if r.Status != 201 {
		t.Fatalf("assign: %d %s", r.Status, r.Body)
	}
	if loc := r.Header.Get("Location"); loc != "/assignments/"+order.String() {
		t.Errorf("Location = %q", loc)
	}
	var first assignment
	r.JSON(t, &first)
	if first.OrderID != order || first.DeliveryManID == nil || *first.DeliveryManID != d.ID || first.Status != "active" {
		t.Errorf("assignment %+v", first)
	}
	// The same call again answers the same assignment and takes nothing more.
	for range 2 {
		r := e.assign(t, order, d.ID)
		var again assignment
		r.JSON(t, &again)
		if r.Status != 200 || !same(again, first) {
			t.Errorf("retry: %d %+v", r.Status, again)
		}
	}
	if got := e.assignment(t, order); !same(got, first) {
		t.Errorf("GET = %+v", got)
	}
	if n := e.get(t, d.ID).ActiveOrders; n != 1 {
		t.Errorf("active_orders = %d, want 1", n)
	}
	// The same order to another delivery man is a conflict.
	refused(t, e.assign(t, order, other.ID), 409, "assignment-mismatch", order.String())
	if n := e.get(t, other.ID).ActiveOrders; n != 0 {
		t.Errorf("other's active_orders = %d", n)
	}
	// A retry is answered even when the delivery man has since become unavailable.
	e.api.Do(t, "PATCH", "/delivery-men/"+d.ID.String(), e.admin, map[string]any{"available": false})
	if r := e.assign(t, order, d.ID); r.Status != 200 {
		t.Errorf("retry after unavailable: %d %s", r.Status, r.Body)
	}
}

func TestAssignRefusals(t *testing.T) {
	e := setup(t)
	d := e.create(t, body("capacity", 2))
	off := e.create(t, body("available", false))
	ghost := uuid.New()

	refused(t, e.assign(t, uuid.New(), ghost), 422, "delivery-man-not-found", ghost.String())
	refused(t, e.assign(t, uuid.New(), off.ID), 422, "delivery-man-unavailable", "delivery man "+off.ID.String()+" is not available")

	a, b := uuid.New(), uuid.New()
	for _, o := range []uuid.UUID{a, b} {
		if r := e.assign(t, o, d.ID); r.Status != 201 {
			t.Fatalf("assign: %d %s", r.Status, r.Body)
		}
	}
	late := uuid.New()
	refused(t, e.assign(t, late, d.ID), 422, "delivery-man-at-capacity", "delivery man "+d.ID.String()+" is at capacity (2 active orders)")
	// A refused order was not stored: it can be assigned once there is room.
	if r := e.api.Do(t, "GET", "/assignments/"+late.String(), e.admin, nil); r.Status != 404 {
		t.Errorf("refused order stored: %d", r.Status)
	}
	e.release(t, a)
	if r := e.assign(t, late, d.ID); r.Status != 201 {
		t.Errorf("assign after release: %d %s", r.Status, r.Body)
	}
	// Lowering capacity below the load keeps the orders and refuses new ones.
	e.api.Do(t, "PATCH", "/delivery-men/"+d.ID.String(), e.admin, map[string]any{"capacity": 1})
	if got := e.get(t, d.ID); got.ActiveOrders != 2 || got.Capacity != 1 {
		t.Errorf("after lowering capacity: %+v", got)
	}
	refused(t, e.assign(t, uuid.New(), d.ID), 422, "delivery-man-at-capacity", "(2 active orders)")

	// Bad requests.
	for name, c := range map[string]struct {
		body   any
		status int
	}{
		"empty object": {map[string]any{}, 422},
		"nil ids":      {map[string]any{"order_id": uuid.Nil, "delivery_man_id": uuid.Nil}, 422},
		"bad uuid":     {map[string]any{"order_id": "order-1", "delivery_man_id": d.ID}, 400},
		"unknown":      {map[string]any{"order_id": uuid.New(), "delivery_man_id": d.ID, "force": true}, 400},
		"malformed":    {`{"order_id":`, 400},
	} {
		r := e.api.Do(t, "POST", "/assignments", e.svc, c.body)
		if r.Status != c.status {
			t.Errorf("%s: %d %s", name, r.Status, r.Body)
		}
	}
	r := e.api.Do(t, "POST", "/assignments", e.svc, map[string]any{})
	if f := r.Fields(t); len(f) != 2 || f[0] != "order_id" || f[1] != "delivery_man_id" {
		t.Errorf("fields %v", f)
	}
	if r := e.api.Do(t, "POST", "/assignments", e.svc, `{}`, "Content-Type", "text/plain"); r.Status != 415 {
		t.Errorf("text/plain: %d", r.Status)
	}
	for _, p := range []string{"/assignments/nope", "/assignments/" + uuid.NewString()} {
		if r := e.api.Do(t, "GET", p, e.svc, nil); r.Status != 404 {
			t.Errorf("GET %s: %d", p, r.Status)
		}
	}
	if r := e.api.Do(t, "POST", "/assignments/nope/release", e.svc, nil); r.Status != 404 {
		t.Errorf("release malformed id: %d", r.Status)
	}
}

func TestReleaseIsIdempotentAndLeavesTombstone(t *testing.T) {
	e := setup(t)
	d := e.create(t, body("capacity", 1))
	order := uuid.New()
	if r := e.assign(t, order, d.ID); r.Status != 201 {
		t.Fatalf("assign: %d %s", r.Status, r.Body)
	}
	e.release(t, order)
	e.release(t, order)
	if got := e.assignment(t, order); got.Status != "released" || got.DeliveryManID == nil || *got.DeliveryManID != d.ID {
		t.Errorf("after release: %+v", got)
	}
	if n := e.get(t, d.ID).ActiveOrders; n != 0 {
		t.Errorf("active_orders = %d after two releases, want 0", n)
	}
	// A late retry of the assignment is refused and takes no capacity.
	refused(t, e.assign(t, order, d.ID), 409, "assignment-released", order.String())
	if n := e.get(t, d.ID).ActiveOrders; n != 0 {
		t.Errorf("active_orders = %d after a refused retry", n)
	}

	// Releasing an order never assigned leaves a tombstone.
	never := uuid.New()
	e.release(t, never)
	e.release(t, never)
	if got := e.assignment(t, never); got.Status != "released" || got.DeliveryManID != nil {
		t.Errorf("tombstone: %+v", got)
	}
	refused(t, e.assign(t, never, d.ID), 409, "assignment-released", never.String())
	if r := e.assign(t, uuid.New(), d.ID); r.Status != 201 {
		t.Errorf("capacity leaked: %d %s", r.Status, r.Body)
	}
}

func TestDeleteDeliveryManWithActiveOrders(t *testing.T) {
	e := setup(t)
	d := e.create(t, body())
	order := uuid.New()
	if r := e.assign(t, order, d.ID); r.Status != 201 {
		t.Fatalf("assign: %d %s", r.Status, r.Body)
	}
	r := e.api.Do(t, "DELETE", "/delivery-men/"+d.ID.String(), e.admin, nil)
	refused(t, r, 409, "conflict", "1 active orders")
	e.release(t, order)
	if r := e.api.Do(t, "DELETE", "/delivery-men/"+d.ID.String(), e.admin, nil); r.Status != 204 {
		t.Fatalf("delete after release: %d %s", r.Status, r.Body)
	}
	// The released assignment stays, so the order cannot be assigned again.
	if got := e.assignment(t, order); got.Status != "released" {
		t.Errorf("assignment after delete: %+v", got)
	}
	refused(t, e.assign(t, order, d.ID), 409, "assignment-released", "")
}

// TestConcurrentAssignmentsNeverOverbook: 50 orders race for a delivery man
// who can carry 3; exactly 3 win.
func TestConcurrentAssignmentsNeverOverbook(t *testing.T) {
	e := setup(t)
	d := e.create(t, body("capacity", 3))
	const n = 50
	statuses := make([]int, n)
	types := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			r := testenv.Do(t, e.api.App, "POST", "/assignments", e.svc, map[string]any{"order_id": uuid.New(), "delivery_man_id": d.ID})
			statuses[i] = r.Status
			if r.Status != 201 {
				var p testenv.Problem
				r.JSON(t, &p)
				types[i] = p.Type
			}
		})
	}
	wg.Wait()
	won := 0
	for i, s := range statuses {
		switch {
		case s == 201:
			won++
		case s == 422 && types[i] == httpx.ProblemTypeBase+"delivery-man-at-capacity":
		default:
			t.Errorf("request %d: %d %s", i, s, types[i])
		}
	}
	if won != 3 {
		t.Errorf("%d assignments succeeded, want 3", won)
	}
	if got := e.get(t, d.ID).ActiveOrders; got != 3 {
		t.Errorf("active_orders = %d, want 3", got)
	}
}

// TestConcurrentRetriesOfOneOrder: the same assignment sent 20 times at once
// is made once.
func TestConcurrentRetriesOfOneOrder(t *testing.T) {
	e := setup(t)
	d := e.create(t, body("capacity", 5))
	order := uuid.New()
	var mu sync.Mutex
	count := map[int]int{}
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			r := testenv.Do(t, e.api.App, "POST", "/assignments", e.svc, map[string]any{"order_id": order, "delivery_man_id": d.ID})
			mu.Lock()
			count[r.Status]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if count[201] != 1 || count[200] != 19 {
		t.Errorf("statuses %v, want one 201 and 19 200", count)
	}
	if got := e.get(t, d.ID).ActiveOrders; got != 1 {
		t.Errorf("active_orders = %d, want 1", got)
	}
}

// TestConcurrentAssignAndRelease mixes assignments and releases of the same
// orders across delivery men; afterwards each one's active_orders is exactly
// his number of active assignments and never above capacity.
func TestConcurrentAssignAndRelease(t *testing.T) {
	e := setup(t)
	var dms []uuid.UUID
	for range 3 {
		dms = append(dms, e.create(t, body("capacity", 4)).ID)
	}
	orders := make([]uuid.UUID, 15)
	for i := range orders {
		orders[i] = uuid.New()
	}
	var wg sync.WaitGroup
	for i := range 90 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(i), 7))
			o := orders[rng.IntN(len(orders))]
			var r testenv.Response
			if rng.IntN(3) == 0 {
				r = testenv.Do(t, e.api.App, "POST", "/assignments/"+o.String()+"/release", e.svc, nil)
			} else {
				r = testenv.Do(t, e.api.App, "POST", "/assignments", e.svc, map[string]any{"order_id": o, "delivery_man_id": dms[rng.IntN(len(dms))]})
			}
			if r.Status >= 500 {
				t.Errorf("%d %s", r.Status, r.Body)
			}
		})
	}
	wg.Wait()
	active := map[uuid.UUID]int32{}
	for _, o := range orders {
		r := e.api.Do(t, "GET", "/assignments/"+o.String(), e.svc, nil)
		if r.Status == http.StatusNotFound {
			continue
		}
		var a assignment
		r.JSON(t, &a)
		if a.Status == "active" {
			active[*a.DeliveryManID]++
		}
	}
	for _, id := range dms {
		d := e.get(t, id)
		if d.ActiveOrders != active[id] || d.ActiveOrders > d.Capacity {
			t.Errorf("delivery man %s: active_orders %d, active assignments %d, capacity %d", id, d.ActiveOrders, active[id], d.Capacity)
		}
	}
}
