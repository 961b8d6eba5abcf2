package faults

import (
	"fmt"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
)

// figure logs one line of RELIABILITY.md's figures.
func figure(t *testing.T, format string, args ...any) {
	t.Helper()
	t.Logf("FIGURE %s: %s", t.Name(), fmt.Sprintf(format, args...))
}

// placeAll places n orders (order(i), Idempotency-Key prefix+i) on at most
// workers clients at once; each client repeats its request while the answer
// is not definite, for up to patience.
func (s *stack) placeAll(n, workers int, prefix string, order func(int) orderReq, patience time.Duration, answered *atomic.Int32) []placed {
	out := make([]placed, n)
	parallel(n, workers, func(i int) {
		out[i] = s.place(order(i), fmt.Sprintf("%s-%d", prefix, i), patience)
		if answered != nil {
			answered.Add(1)
		}
	})
	return out
}

// checkPlaced fails for every order that got no definite answer and answers
// the ids and how many got each status.
func checkPlaced(t *testing.T, ps []placed) ([]uuid.UUID, map[int]int) {
	t.Helper()
	ids := make([]uuid.UUID, 0, len(ps))
	seen := map[uuid.UUID]string{}
	codes := map[int]int{}
	for _, p := range ps {
		codes[p.status]++
		if p.status <= 0 {
			t.Errorf("order %s: no definite answer after %d tries in %s: %s", p.key, p.tries, p.took.Round(time.Millisecond), p.err)
			continue
		}
		if other, dup := seen[p.id]; dup {
			t.Errorf("keys %s and %s answered about the same order %s", other, p.key, p.id)
		}
		seen[p.id] = p.key
		ids = append(ids, p.id)
	}
	return ids, codes
}

// TestWorkerKilled: the worker is SIGKILLed while orders are in flight and
// restarted; every order reaches a verdict, then a final state (the worker is
// killed once more while they are picked up, delivered and cancelled); one
// row per order; the stock and the couriers add up at every step.
func TestWorkerKilled(t *testing.T) {
	n := size(20, 100)
	down := size(2*time.Second, 10*time.Second)
	s := startStack(t, stackOptions{verdictWait: 2 * time.Second})
	w := s.newWorld(t, n)

	var answered atomic.Int32
	done := make(chan []placed)
	start := time.Now()
	go func() { done <- s.placeAll(n, 10, "kill", w.mixed, 2*time.Minute, &answered) }()
	for answered.Load() < int32(n/4) {
		time.Sleep(10 * time.Millisecond)
	}
	inFlight := n - int(answered.Load())
	s.kill("worker", syscall.SIGKILL)
	killedAt := time.Now()
	time.Sleep(down)
	s.restart("worker")
	restartedAt := time.Now()
	ps := <-done
	ids, codes := checkPlaced(t, ps)
	s.waitSettled(t, 3*time.Minute)
	settle := time.Since(restartedAt)
	verdicts := time.Since(start)
	t.Logf("killed after %d of %d answers (%d in flight), down %s; answers %v; every verdict %s after the restart",
		n-inFlight, n, inFlight, restartedAt.Sub(killedAt).Round(100*time.Millisecond), codes, settle.Round(100*time.Millisecond))
	rows := s.rowsPerKey(t, n)
	c1 := s.checkAccounting(t, w, 30*time.Second)
	for _, p := range ps {
		if p.status > 0 && p.key[len(p.key)-1] == '7' { // mixed(i): i%10 == 7 names an unknown customer
			if o, err := s.getOrder(p.id); err != nil || o.Status != "REJECTED" {
				t.Errorf("order %s with an unknown customer: %v %s", p.id, err, o.Status)
			}
		}
	}

	// Kill it again while the orders are moved on to a final state.
	finishStart := time.Now()
	finished := make(chan [2]int)
	go func() {
		c, d := s.finish(t, ids, 3*time.Minute)
		finished <- [2]int{c, d}
	}()
	time.Sleep(time.Second)
	s.kill("worker", syscall.SIGKILL)
	time.Sleep(down)
	s.restart("worker")
	cd := <-finished
	finishTook := time.Since(finishStart)
	final := s.checkAccounting(t, w, 30*time.Second)
	for st, k := range final.byStatus {
		if st != "REJECTED" && st != "CANCELLED" && st != "DELIVERED" {
			t.Errorf("%d orders are %s, not final", k, st)
		}
	}
	figure(t, "%d orders (10 clients), worker SIGKILLed after %d answers (10 requests open, %d still to answer), down %s, then again while moving them on; "+
		"answers %v; every verdict in %s after the restart (%s from the first order); %d rows for %d keys; "+
		"after verdicts: %s; final in %s: %s (%d cancelled, %d delivered)",
		n, n-inFlight, inFlight, down, codes, settle.Round(100*time.Millisecond), verdicts.Round(100*time.Millisecond), rows, n,
		c1, finishTook.Round(100*time.Millisecond), final, cd[0], cd[1])
}
