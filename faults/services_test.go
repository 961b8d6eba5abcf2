package faults

import (
	"fmt"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/delivery/platform/internal/config"
)

// TestEntityServiceDown: each entity service in turn is killed and kept down
// while orders are placed. Every order the workflow checks against it: each
// answers 202 while it is down, and all are confirmed once it is back (the
// activities retry within the retry window); none lost.
func TestEntityServiceDown(t *testing.T) {
	services := size([]string{config.Users, config.Products},
		[]string{config.Users, config.Customers, config.Products, config.DeliveryMen})
	n := size(10, 100)
	outage := size(5*time.Second, 30*time.Second)
	s := startStack(t, stackOptions{verdictWait: 2 * time.Second})
	w := s.newWorld(t, n)
	total := 0
	for round, svc := range services {
		t.Run(svc, func(t *testing.T) {
			s.kill(svc, syscall.SIGKILL)
			downAt := time.Now()
			ps := s.placeAll(n, 20, "down-"+svc, func(i int) orderReq { return w.valid(round*n + i) }, time.Minute, nil)
			placedIn := time.Since(downAt)
			time.Sleep(time.Until(downAt.Add(outage)))
			s.restart(svc)
			upAt := time.Now()
			ids, codes := checkPlaced(t, ps)
			for _, p := range ps {
				if p.status != 202 {
					t.Errorf("order %s answered %d while %s was down (want 202)", p.key, p.status, svc)
				}
				if p.at.After(upAt) {
					t.Errorf("order %s was answered after %s came back", p.key, svc)
				}
			}
			s.waitSettled(t, 3*time.Minute)
			settle := time.Since(upAt)
			confirmed := 0
			for _, id := range ids {
				if o, err := s.getOrder(id); err != nil || o.Status != "CONFIRMED" {
					t.Errorf("order %s: %v %s %+v (want CONFIRMED)", id, err, o.Status, o.Reasons)
				} else {
					confirmed++
				}
			}
			c := s.checkAccounting(t, w, 30*time.Second)
			figure(t, "%s down %s; %d orders placed in %s meanwhile (20 clients): answers %v; all %d confirmed %s after it came back; %s",
				svc, outage, n, placedIn.Round(100*time.Millisecond), codes, confirmed, settle.Round(100*time.Millisecond), c)
			// Deliver them, so the next round starts with free couriers.
			s.finish(t, ids, 2*time.Minute)
		})
		total += n
	}
	s.rowsPerKey(t, total)
	s.checkAccounting(t, w, 30*time.Second)
}

// TestSameIdempotencyKey: 50 clients send the same POST /orders with the same
// Idempotency-Key at once: one order, and 50 answers about it.
func TestSameIdempotencyKey(t *testing.T) {
	const clients = 50
	rounds := size(1, 5)
	s := startStack(t, stackOptions{verdictWait: 5 * time.Second})
	w := s.newWorld(t, rounds)
	for r := range rounds {
		key := fmt.Sprintf("same-%d-%s", r, uuid.NewString()[:8])
		req := w.valid(r)
		type result struct {
			code int
			id   uuid.UUID
			err  error
		}
		results := make([]result, clients)
		var ready, wg sync.WaitGroup
		gate := make(chan struct{})
		ready.Add(clients)
		wg.Add(clients)
		start := time.Now()
		for i := range clients {
			go func() {
				defer wg.Done()
				ready.Done()
				<-gate
				a, err := s.call("POST", config.Orders, "/orders", s.admin, req, "Idempotency-Key", key)
				if err != nil {
					results[i].err = err
					return
				}
				var o order
				results[i].code = a.status
				if err := a.decode(&o); err != nil {
					results[i].err = fmt.Errorf("%d %s", a.status, a.body)
				}
				results[i].id = o.ID
			}()
		}
		ready.Wait()
		close(gate)
		wg.Wait()
		took := time.Since(start)
		codes := map[int]int{}
		ids := map[uuid.UUID]int{}
		for _, r := range results {
			if r.err != nil {
				t.Errorf("answer: %v", r.err)
				continue
			}
			codes[r.code]++
			ids[r.id]++
			if r.code != 201 && r.code != 202 {
				t.Errorf("answer %d (want 201, or 202 while checked)", r.code)
			}
		}
		if len(ids) != 1 {
			t.Errorf("%d clients, %d different orders: %v", clients, len(ids), ids)
		}
		var rows int
		if err := s.ordersDB.QueryRow(t.Context(), `SELECT count(*) FROM orders WHERE idempotency_key = $1`, key).Scan(&rows); err != nil || rows != 1 {
			t.Errorf("%d rows with the key (%v), want 1", rows, err)
		}
		figure(t, "round %d: %d concurrent POST /orders with one key answered in %s: %v, %d order(s), %d row(s)",
			r+1, clients, took.Round(time.Millisecond), codes, len(ids), rows)
	}
	s.waitSettled(t, time.Minute)
	s.rowsPerKey(t, rounds)
	c := s.checkAccounting(t, w, 30*time.Second)
	if c.byStatus["CONFIRMED"] != rounds {
		t.Errorf("%v, want %d CONFIRMED", c.byStatus, rounds)
	}
}
