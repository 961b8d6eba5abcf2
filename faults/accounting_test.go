package faults

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/delivery/platform/internal/config"
)

// world is a scenario's fixtures: what the accounting is checked against.
type world struct {
	initial   map[uuid.UUID]int // product → stock when created
	products  []uuid.UUID       // plenty of stock
	scarce    uuid.UUID         // runs out: some orders are refused for stock
	customers []uuid.UUID
	couriers  []uuid.UUID // capacity 20 each
	busy      uuid.UUID   // capacity 1: some orders are refused at capacity
}

// newWorld creates products, customers and delivery men enough for orders
// orders that all stay active at once.
func (s *stack) newWorld(t *testing.T, orders int) *world {
	t.Helper()
	w := &world{initial: map[uuid.UUID]int{}}
	for range 4 {
		id := s.newProduct(t, 10000)
		w.products = append(w.products, id)
		w.initial[id] = 10000
	}
	w.scarce = s.newProduct(t, 5)
	w.initial[w.scarce] = 5
	for range 3 {
		w.customers = append(w.customers, s.newCustomer(t))
	}
	for range orders/15 + 1 {
		w.couriers = append(w.couriers, s.newDeliveryMan(t, 20))
	}
	w.busy = s.newDeliveryMan(t, 1)
	return w
}

// valid is order i, which every service accepts.
func (w *world) valid(i int) orderReq {
	items := []line{{w.products[i%len(w.products)], 1 + i%3}}
	if i%2 == 1 {
		items = append(items, line{w.products[(i+1)%len(w.products)], 1})
	}
	return newOrderReq(w.customers[i%len(w.customers)], w.couriers[i%len(w.couriers)], items...)
}

// mixed is order i of a realistic mix: most are valid; among every ten, one
// names an unknown customer (refused after its stock and courier may have been
// taken, so compensation runs), one asks for the scarce product (refused once
// it ran out) and one goes to the busy courier (refused while he carries one).
func (w *world) mixed(i int) orderReq {
	r := w.valid(i)
	switch i % 10 {
	case 7:
		r.CustomerID = uuid.New()
	case 3:
		r.Items = append(r.Items, line{w.scarce, 2})
	case 5:
		r.DeliveryManID = w.busy
	}
	return r
}

// tally is what one accounting check counted.
type tally struct {
	orders   int
	byStatus map[string]int
	products int
	couriers int
	perOrder int // reservations and assignments checked one by one
}

func (c tally) String() string {
	keys := make([]string, 0, len(c.byStatus))
	for k := range c.byStatus {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, c.byStatus[k])
	}
	return fmt.Sprintf("%d orders (%s); %d products, %d delivery men, %d reservations+assignments checked",
		c.orders, strings.Join(parts, ", "), c.products, c.couriers, c.perOrder)
}

// checkAccounting is the check that closes every scenario: once no order is
// PENDING, for every product reserved = the quantities of its CONFIRMED
// orders and stock + reserved + fulfilled (picked up or delivered) = its
// initial stock; for every delivery man active_orders = his CONFIRMED and
// PICKED_UP orders; and each order's own reservation and assignment are in
// the state its status implies (a rejected or cancelled order holds
// nothing). The platform may still be finishing a compensation when the
// check starts, so it is repeated for up to wait.
func (s *stack) checkAccounting(t *testing.T, w *world, wait time.Duration) tally {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		c, problems := s.account(w)
		if len(problems) == 0 {
			t.Logf("accounting: %s", c)
			return c
		}
		if time.Now().After(deadline) {
			if len(problems) > 20 {
				problems = append(problems[:20], fmt.Sprintf("... and %d more", len(problems)-20))
			}
			t.Errorf("accounting does not add up after %s:\n  %s", wait, strings.Join(problems, "\n  "))
			return c
		}
		time.Sleep(time.Second)
	}
}

func (s *stack) account(w *world) (tally, []string) {
	c := tally{byStatus: map[string]int{}}
	orders, err := s.orders()
	if err != nil {
		return c, []string{err.Error()}
	}
	c.orders = len(orders)
	var problems []string
	reserved := map[uuid.UUID]int{}
	fulfilled := map[uuid.UUID]int{}
	active := map[uuid.UUID]int{}
	for _, o := range orders {
		c.byStatus[o.Status]++
		switch o.Status {
		case "PENDING":
			problems = append(problems, fmt.Sprintf("order %s is still PENDING", o.ID))
		case "CONFIRMED":
			active[o.DeliveryManID]++
			for _, it := range o.Items {
				reserved[it.ProductID] += it.Quantity
			}
		case "PICKED_UP":
			active[o.DeliveryManID]++
			for _, it := range o.Items {
				fulfilled[it.ProductID] += it.Quantity
			}
		case "DELIVERED":
			for _, it := range o.Items {
				fulfilled[it.ProductID] += it.Quantity
			}
		}
	}
	if len(problems) > 0 {
		return c, problems
	}
	var mu sync.Mutex
	fail := func(format string, args ...any) {
		mu.Lock()
		problems = append(problems, fmt.Sprintf(format, args...))
		mu.Unlock()
	}
	for p, initial := range w.initial {
		var v struct{ Stock, Reserved int }
		a, err := s.call("GET", config.Products, "/products/"+p.String(), s.admin, nil)
		if err != nil || a.status != 200 || a.decode(&v) != nil {
			fail("product %s: %v %d %s", p, err, a.status, a.body)
			continue
		}
		c.products++
		if v.Reserved != reserved[p] {
			fail("product %s: reserved %d, but its confirmed orders hold %d", p, v.Reserved, reserved[p])
		}
		if v.Stock+v.Reserved+fulfilled[p] != initial {
			fail("product %s: stock %d + reserved %d + fulfilled %d = %d, initial %d",
				p, v.Stock, v.Reserved, fulfilled[p], v.Stock+v.Reserved+fulfilled[p], initial)
		}
	}
	for _, d := range append(append([]uuid.UUID{}, w.couriers...), w.busy) {
		var v struct {
			ActiveOrders int `json:"active_orders"`
		}
		a, err := s.call("GET", config.DeliveryMen, "/delivery-men/"+d.String(), s.admin, nil)
		if err != nil || a.status != 200 || a.decode(&v) != nil {
			fail("delivery man %s: %v %d %s", d, err, a.status, a.body)
			continue
		}
		c.couriers++
		if v.ActiveOrders != active[d] {
			fail("delivery man %s: active_orders %d, but %d of his orders are confirmed or picked up", d, v.ActiveOrders, active[d])
		}
	}
	// Each order's reservation and assignment, as its status implies.
	wantRes := map[string][]string{"CONFIRMED": {"active"}, "PICKED_UP": {"fulfilled"}, "DELIVERED": {"fulfilled"},
		"REJECTED": {"released", "none"}, "CANCELLED": {"released", "none"}}
	wantAsg := map[string][]string{"CONFIRMED": {"active"}, "PICKED_UP": {"active"}, "DELIVERED": {"released"},
		"REJECTED": {"released", "none"}, "CANCELLED": {"released", "none"}}
	state := func(svc, path string) (string, error) {
		a, err := s.call("GET", svc, path, s.admin, nil)
		if err != nil {
			return "", err
		}
		if a.status == 404 {
			return "none", nil
		}
		var v struct{ Status string }
		if a.status != 200 || a.decode(&v) != nil {
			return "", fmt.Errorf("%d %s", a.status, a.body)
		}
		return v.Status, nil
	}
	var n sync.WaitGroup
	var checked int
	sem := make(chan struct{}, 4)
	for _, o := range orders {
		n.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; n.Done() }()
			for _, chk := range []struct {
				what, svc, path string
				want            []string
			}{
				{"reservation", config.Products, "/reservations/" + o.ID.String(), wantRes[o.Status]},
				{"assignment", config.DeliveryMen, "/assignments/" + o.ID.String(), wantAsg[o.Status]},
			} {
				st, err := state(chk.svc, chk.path)
				switch {
				case err != nil:
					fail("order %s: %s: %v", o.ID, chk.what, err)
				case !contains(chk.want, st):
					fail("order %s is %s but its %s is %s (want %s)", o.ID, o.Status, chk.what, st, strings.Join(chk.want, " or "))
				}
				mu.Lock()
				checked++
				mu.Unlock()
			}
		}()
	}
	n.Wait()
	c.perOrder = checked
	return c, problems
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// waitSettled waits until no order is PENDING (or the deadline) and answers
// how long it took.
func (s *stack) waitSettled(t *testing.T, wait time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		var pending int
		err := s.ordersDB.QueryRow(context.Background(), `SELECT count(*) FROM orders WHERE status = 'PENDING'`).Scan(&pending)
		if err == nil && pending == 0 {
			return time.Since(start)
		}
		if time.Since(start) > wait {
			t.Fatalf("%d orders still PENDING after %s (err %v)", pending, wait, err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// rowsPerKey checks that every Idempotency-Key has exactly one order row and
// that there are want rows in all; it answers the row count.
func (s *stack) rowsPerKey(t *testing.T, want int) int {
	t.Helper()
	var rows, keys int
	if err := s.ordersDB.QueryRow(context.Background(),
		`SELECT count(*), count(DISTINCT idempotency_key) FROM orders`).Scan(&rows, &keys); err != nil {
		t.Fatal(err)
	}
	if rows != want || keys != want {
		t.Errorf("%d order rows for %d Idempotency-Keys, want %d of each", rows, keys, want)
	}
	return rows
}

// finish moves every order of ids that is not final to a final state, as a
// dispatcher would: about a third of the confirmed ones are cancelled, the
// others picked up and delivered. A transition that answers 202 or fails is
// sent again until the order is final or wait passes.
func (s *stack) finish(t *testing.T, ids []uuid.UUID, wait time.Duration) (cancelled, delivered int) {
	t.Helper()
	deadline := time.Now().Add(wait)
	var mu sync.Mutex
	parallel(len(ids), 6, func(i int) {
		id := ids[i]
		cancel := id[15]%3 == 0
		for time.Now().Before(deadline) {
			o, err := s.getOrder(id)
			if err != nil {
				time.Sleep(500 * time.Millisecond)
				continue
			}
			var what string
			switch o.Status {
			case "CONFIRMED":
				what = "pickup"
				if cancel {
					what = "cancel"
				}
			case "PICKED_UP":
				what = "deliver"
			case "PENDING":
				time.Sleep(300 * time.Millisecond)
				continue
			default:
				mu.Lock()
				switch o.Status {
				case "CANCELLED":
					cancelled++
				case "DELIVERED":
					delivered++
				}
				mu.Unlock()
				return
			}
			if code, err := s.transition(id, what); err != nil || code != 200 {
				time.Sleep(300 * time.Millisecond)
			}
		}
		t.Errorf("order %s did not reach a final state within %s", id, wait)
	})
	return cancelled, delivered
}
