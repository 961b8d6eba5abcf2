package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/worker"

	"github.com/delivery/platform/internal/auth"
	"github.com/delivery/platform/internal/config"
	"github.com/delivery/platform/internal/devstack"
)

// measureChoices measures the tuning choices, each against its alternative
// in the same run.
func measureChoices(ctx context.Context, s *stack, t *table, fl *floor) error {
	// Authentication: what one Ed25519 verification costs on this machine.
	keys, err := auth.RemoteKeys(ctx, s.urls[config.Users]+"/.well-known/jwks.json")
	if err != nil {
		return err
	}
	v := auth.NewVerifier(keys.Keyfunc, "delivery-users", "delivery", nil)
	if _, err := v.Verify(ctx, s.adminToken); err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	const n = 3000
	start := time.Now()
	for range n {
		if _, err := v.Verify(ctx, s.adminToken); err != nil {
			return err
		}
	}
	per := time.Since(start) / n
	v.CacheTokens(auth.DefaultTokenCacheSize)
	_, _ = v.Verify(ctx, s.adminToken)
	start = time.Now()
	for range n {
		if _, err := v.Verify(ctx, s.adminToken); err != nil {
			return err
		}
	}
	hit := time.Since(start) / n
	t.choice(row{measure: "auth: verify one token, cache hit (vs parse + Ed25519)", value: fmt.Sprintf("%.2f µs", float64(hit)/1e3),
		baseline: fmt.Sprintf("full verification %.1f µs", float64(per)/1e3), ratio: float64(hit) / float64(per), target: "lower is better"})

	// The lookup path: the same products database, one more process of the
	// binary per alternative, measured back to back with the default.
	alt := func(name string, env map[string]string) (float64, float64, error) {
		port, err := devstack.FreePort()
		if err != nil {
			return 0, 0, err
		}
		env["PRODUCTS_ADDR"] = fmt.Sprintf("127.0.0.1:%d", port)
		p, err := s.start(ctx, name, env, "serve", config.Products)
		if err != nil {
			return 0, 0, err
		}
		defer p.stop()
		var a, b []float64
		closedLoop(ctx, s.o.Clients, 300*time.Millisecond, s.getter(p.url))
		for range s.o.Rounds {
			la := closedLoop(ctx, s.o.Clients, s.o.LookupTime/2, s.getter(p.url))
			lb := closedLoop(ctx, s.o.Clients, s.o.LookupTime/2, s.getter(s.urls[config.Products]))
			if la.errs+lb.errs > 0 {
				return 0, 0, fmt.Errorf("%s: errors: %v %v", name, la.firstErr, lb.firstErr)
			}
			a, b = append(a, la.rate()), append(b, lb.rate())
		}
		return median(a), median(b), nil
	}
	s.logf("choices: lookup path alternatives")
	off, def, err := alt("products-nocache", map[string]string{"AUTH_CACHE_SIZE": "0"})
	if err != nil {
		return err
	}
	t.choice(row{measure: "GET req/s: no token cache (vs cache, the default)", value: fmt.Sprintf("%.0f req/s", off),
		baseline: fmt.Sprintf("cache %.0f req/s", def), ratio: off / def, target: "default wins if < 1"})
	for _, n := range []string{"4", "16"} { // 4: pgx's own default
		r, def, err := alt("products-pool"+n, map[string]string{"DB_MAX_CONNS": n})
		if err != nil {
			return err
		}
		t.choice(row{measure: "GET req/s: pgx pool " + n + " conns (vs default)", value: fmt.Sprintf("%.0f req/s", r),
			baseline: fmt.Sprintf("default %.0f req/s", def), ratio: r / def, target: "default wins if < 1"})
	}
	for _, e := range []struct{ k, v string }{{"LOG_LEVEL", "warn"}, {"GOGC", "400"}} {
		r, def, err := alt("products-"+strings.ToLower(e.k), map[string]string{e.k: e.v})
		if err != nil {
			return err
		}
		t.choice(row{measure: "GET req/s: " + e.k + "=" + e.v + " (vs default)", value: fmt.Sprintf("%.0f req/s", r),
			baseline: fmt.Sprintf("default %.0f req/s", def), ratio: r / def, target: "default wins if < 1"})
	}
	if s.o.Part == "lookup" {
		return nil
	}

	// Temporal: regular against local activities, on the floor workflow.
	s.logf("choices: floor regular vs local activities")
	runs := max(20, s.o.LatencyRuns/2)
	lats, err := sequential(ctx, runs,
		func() error { return fl.verdict(ctx, false) },
		func() error { return fl.verdict(ctx, true) })
	if err != nil {
		return err
	}
	t.choice(row{measure: "floor p50: local activities (vs regular)", value: ms(lats[1].p50), baseline: "regular " + ms(lats[0].p50),
		ratio: float64(lats[1].p50) / float64(lats[0].p50), target: "lower is better"})

	// Eager workflow start: needs the worker in the starting process.
	lats, err = sequential(ctx, runs,
		func() error { return fl.run(ctx, true, false) },
		func() error { return fl.run(ctx, true, true) })
	if err != nil {
		return err
	}
	t.choice(row{measure: "floor p50 start→result, local: eager start (vs not)", value: ms(lats[1].p50), baseline: "not eager " + ms(lats[0].p50),
		ratio: float64(lats[1].p50) / float64(lats[0].p50), target: "lower is better"})

	// Throughput of the floor: regular vs local, default worker vs more pollers.
	d := s.o.Sustain / 2
	reg := closedLoop(ctx, s.o.Starters, d, func(int) func() error { return func() error { return fl.verdict(ctx, false) } })
	loc := closedLoop(ctx, s.o.Starters, d, func(int) func() error { return func() error { return fl.verdict(ctx, true) } })
	t.choice(row{measure: fmt.Sprintf("floor wf/s, %d starters: local activities (vs regular)", s.o.Starters),
		value: fmt.Sprintf("%.1f/s", loc.rate()), baseline: fmt.Sprintf("regular %.1f/s", reg.rate()), ratio: loc.rate() / reg.rate(), target: "higher is better"})

	tuned, err := startFloor(s.tc, "bench-floor-tuned", worker.Options{
		MaxConcurrentWorkflowTaskPollers: 8, MaxConcurrentActivityTaskPollers: 8,
	})
	if err != nil {
		return err
	}
	defer tuned.stop()
	_ = tuned.verdict(ctx, false)
	tr := closedLoop(ctx, s.o.Starters, d, func(int) func() error { return func() error { return tuned.verdict(ctx, false) } })
	t.choice(row{measure: "floor wf/s regular: 8+8 pollers (vs default 2+2)", value: fmt.Sprintf("%.1f/s", tr.rate()),
		baseline: fmt.Sprintf("default %.1f/s", reg.rate()), ratio: tr.rate() / reg.rate(), target: "higher is better"})
	return nil
}
