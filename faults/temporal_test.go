package faults

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/delivery/platform/internal/config"
	"github.com/delivery/platform/workflows"
)

// TestTemporalRestarted: the Temporal dev server is killed and started again
// on the same file database while confirmed orders wait for pickup. While it
// is down, the orders service and the worker report it on /readyz (503) and
// orders can still be read; afterwards every workflow answers the status
// query and the orders are picked up, delivered or cancelled as usual.
func TestTemporalRestarted(t *testing.T) {
	n := size(6, 30)
	outage := size(3*time.Second, 20*time.Second)
	s := startStack(t, stackOptions{verdictWait: 5 * time.Second})
	w := s.newWorld(t, n)
	ps := s.placeAll(n, 5, "temporal", w.valid, time.Minute, nil)
	ids, codes := checkPlaced(t, ps)
	if codes[201] != n {
		t.Fatalf("answers %v, want %d × 201 before the restart", codes, n)
	}

	s.kill("temporal", syscall.SIGKILL)
	downAt := time.Now()
	unready := map[string]bool{}
	readable := 0
	for time.Since(downAt) < outage {
		for _, name := range []string{config.Orders, "worker"} {
			if s.readyz(name) == 503 {
				unready[name] = true
			}
		}
		if _, err := s.getOrder(ids[readable%len(ids)]); err == nil {
			readable++
		}
		time.Sleep(200 * time.Millisecond)
	}
	for _, name := range []string{config.Orders, "worker"} {
		if !unready[name] {
			t.Errorf("%s /readyz never reported Temporal down (503)", name)
		}
	}
	if readable == 0 {
		t.Error("no order could be read while Temporal was down")
	}
	s.restart("temporal")
	upAt := time.Now()
	for _, name := range []string{config.Orders, "worker"} {
		for !s.ready(name) {
			if time.Since(upAt) > time.Minute {
				t.Fatalf("%s not ready a minute after Temporal came back", name)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	recovered := time.Since(upAt)

	// Every workflow is still there and answers its status query.
	queried := 0
	for _, id := range ids {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		v, err := s.tc.QueryWorkflow(ctx, workflows.OrderWorkflowID(id), "", workflows.QueryStatus)
		var st workflows.OrderState
		if err == nil {
			err = v.Get(&st)
		}
		cancel()
		if err != nil || st.Status != workflows.StatusConfirmed {
			t.Errorf("order %s: status query after the restart: %v %s", id, err, st.Status)
			continue
		}
		queried++
	}
	c1 := s.checkAccounting(t, w, 30*time.Second)

	// And they move on: picked up and delivered, or cancelled.
	start := time.Now()
	cancelled, delivered := s.finish(t, ids, 2*time.Minute)
	finished := time.Since(start)
	// A new order after the restart goes through as before.
	extra := s.place(w.valid(n), "temporal-after", time.Minute)
	if extra.status != 201 {
		t.Errorf("an order placed after the restart: %d %s", extra.status, extra.err)
	}
	final := s.checkAccounting(t, w, 30*time.Second)
	if cancelled+delivered != n {
		t.Errorf("%d cancelled + %d delivered, want %d", cancelled, delivered, n)
	}
	figure(t, "%d confirmed orders waiting for pickup; dev server SIGKILLed, down %s (/readyz 503 on orders and worker, %d order reads served meanwhile); "+
		"ready again %s after the start; %d/%d status queries answered CONFIRMED; %s; then %d cancelled + %d delivered in %s, a new order %d (%s); %s",
		n, outage, readable, recovered.Round(100*time.Millisecond), queried, n, c1, cancelled, delivered,
		finished.Round(100*time.Millisecond), extra.status, extra.took.Round(time.Millisecond), final)
}
