package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

// TestSmoke runs the harness at its smallest size: it must bring everything
// up, measure every row, print the table and clean up, in seconds. It asserts
// that the harness works, not the figures (those belong to `make bench`).
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the platform")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out, log bytes.Buffer
	o := Smoke()
	o.Out, o.Log = &out, &log
	start := time.Now()
	if err := Run(ctx, o); err != nil {
		t.Fatalf("bench: %v\n%s", err, log.String())
	}
	t.Logf("smoke run in %s:\n%s", time.Since(start).Round(time.Second), out.String())
	for _, want := range []string{"TARGETS", "GET /products/{id} req/s", "pgbench", "order verdict p50", "no-op workflow",
		"4 dependencies +50 ms", "sustained orders/s", "price of durability", "idle RSS worker", "idle RSS orders"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the table has no %q", want)
		}
	}
}
