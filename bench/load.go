package main

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// newHist records latencies from 1 µs to 1 min with 3 significant digits.
func newHist() *hdrhistogram.Histogram {
	return hdrhistogram.New(1, int64(time.Minute/time.Microsecond), 3)
}

// lat is a latency distribution read from a real histogram.
type lat struct {
	n        int64
	p50, p99 time.Duration
}

func latOf(h *hdrhistogram.Histogram) lat {
	return lat{
		n:   h.TotalCount(),
		p50: time.Duration(h.ValueAtQuantile(50)) * time.Microsecond,
		p99: time.Duration(h.ValueAtQuantile(99)) * time.Microsecond,
	}
}

func (l lat) String() string {
	return fmt.Sprintf("p50 %s p99 %s (n=%d)", ms(l.p50), ms(l.p99), l.n)
}

func ms(d time.Duration) string {
	return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
}

// load is the result of a closed loop.
type load struct {
	ok, errs int64
	elapsed  time.Duration
	lat      lat
	firstErr error
}

func (l load) rate() float64 { return float64(l.ok) / l.elapsed.Seconds() }

// closedLoop runs clients workers for d, each calling do back to back (a
// closed loop: a new request as soon as the previous answered). Each worker
// gets its own state from newWorker.
func closedLoop(ctx context.Context, clients int, d time.Duration, newWorker func(i int) func() error) load {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var ok, errs atomic.Int64
	var mu sync.Mutex
	total := newHist()
	var firstErr error
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < clients; i++ {
		do := newWorker(i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := newHist()
			for ctx.Err() == nil {
				t := time.Now()
				err := do()
				if err != nil {
					if ctx.Err() != nil {
						break // cut by the end of the run, not a failure
					}
					if errs.Add(1) == 1 {
						mu.Lock()
						firstErr = err
						mu.Unlock()
					}
					continue
				}
				_ = h.RecordValue(int64(time.Since(t) / time.Microsecond))
				ok.Add(1)
			}
			mu.Lock()
			total.Merge(h)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return load{ok: ok.Load(), errs: errs.Load(), elapsed: time.Since(start), lat: latOf(total), firstErr: firstErr}
}

// sequential runs each of fs in turn, n times, interleaved (f0, f1, f0, f1,
// ...) so that drift in the machine's load hits every series alike; it
// returns one histogram per function.
func sequential(ctx context.Context, n int, fs ...func() error) ([]lat, error) {
	hs := make([]*hdrhistogram.Histogram, len(fs))
	for i := range hs {
		hs[i] = newHist()
	}
	for range n {
		for i, f := range fs {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			t := time.Now()
			if err := f(); err != nil {
				return nil, err
			}
			_ = hs[i].RecordValue(int64(time.Since(t) / time.Microsecond))
		}
	}
	out := make([]lat, len(hs))
	for i, h := range hs {
		out[i] = latOf(h)
	}
	return out, nil
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
