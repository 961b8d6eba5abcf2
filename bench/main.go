// Command bench measures the delivery platform against the targets of issue 6
// and prints a table of ratios. Every measurement runs beside its baseline in
// the same run (these machines are shared: absolute figures drift from run to
// run, ratios taken together do not).
//
//	go run ./bench            the full table (about 3 minutes on 2 cores)
//	go run ./bench -smoke     a few seconds: only shows that everything runs
//
// It starts what it needs on 127.0.0.1: databases of its own on the local
// PostgreSQL (DATABASE_URL, else 127.0.0.1:5432, else a private cluster), a
// Temporal dev server with its file database in a temp folder, and the five
// services and the worker as processes of the freshly built binary; it removes
// all of it at the end.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"
)

// Options size a run.
type Options struct {
	Clients     int           // N concurrent clients of the lookup measurement
	LookupTime  time.Duration // each lookup trial (pgbench and HTTP alternate)
	Rounds      int           // alternations of each throughput pair
	LatencyRuns int           // sequential orders (and floor workflows) for p50/p99
	DelayRuns   int           // sequential orders with the 50 ms dependency delay
	Starters    int           // closed-loop concurrency of the sustained measurement
	Sustain     time.Duration // each sustained trial
	Choices     bool          // also measure the tuning choices
	Bin         string        // a built cmd/delivery to use instead of building one
	Part        string        // "lookup": only the lookup measurements (for tuning)
	Out, Log    io.Writer
}

// Full is the size of `make bench`.
func Full() Options {
	return Options{Clients: 8, LookupTime: 3 * time.Second, Rounds: 3, LatencyRuns: 200, DelayRuns: 40,
		Starters: 32, Sustain: 8 * time.Second, Choices: true}
}

// Smoke is the size of `make bench-smoke` and of the test: seconds.
func Smoke() Options {
	return Options{Clients: 4, LookupTime: time.Second, Rounds: 1, LatencyRuns: 3, DelayRuns: 2,
		Starters: 4, Sustain: time.Second}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	o := Full()
	smoke := flag.Bool("smoke", false, "a few seconds: check that the harness runs and prints the table")
	flag.IntVar(&o.Clients, "clients", o.Clients, "concurrent clients of the lookup measurement")
	flag.IntVar(&o.Starters, "starters", o.Starters, "closed-loop concurrency of the sustained measurement")
	noChoices := flag.Bool("no-choices", false, "skip the tuning choices")
	part := flag.String("part", "", `"lookup": only the lookup measurements and their choices (while tuning)`)
	bin := flag.String("bin", "", "use this built cmd/delivery instead of building one")
	flag.Parse()
	if *smoke {
		o = Smoke()
	}
	o.Choices = o.Choices && !*noChoices
	o.Bin = *bin
	o.Part = *part
	o.Out, o.Log = os.Stdout, os.Stderr
	if err := Run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// Run brings the platform up, measures, prints the table and cleans up.
func Run(ctx context.Context, o Options) error {
	// The whole table in under 5 minutes, whatever happens.
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	start := time.Now()
	s, err := startStack(ctx, o)
	if err != nil {
		return err
	}
	defer s.close()
	s.logf("platform up in %.1fs (logs in %s)", time.Since(start).Seconds(), s.dir)
	t := &table{}
	if err := measure(ctx, s, t); err != nil {
		return err
	}
	fmt.Fprintf(o.Out, "\n%s (nproc %d, %s, whole run %.0fs)\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"),
		runtime.NumCPU(), runtime.Version(), time.Since(start).Seconds())
	t.print(o.Out)
	return nil
}

func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}
