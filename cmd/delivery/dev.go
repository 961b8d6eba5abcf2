package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/delivery/platform/internal/config"
	"github.com/delivery/platform/internal/devstack"
)

// dev runs the whole platform in one foreground process group: PostgreSQL
// (found or started), the Temporal dev server with its Web UI, every service
// and the worker. Ctrl-C stops everything.
func dev(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("dev", flag.ContinueOnError)
	fs.SetOutput(stderr)
	demo := fs.Bool("demo", false, "load demo data (products, customers, delivery men, a courier account)")
	dataDir := fs.String("data", ".data", "folder for local state: Temporal's database, a private PostgreSQL, logs")
	if err := fs.Parse(args); err != nil {
		return err
	}
	start := time.Now()
	cwd, _ := os.Getwd()
	root, err := devstack.RepoRoot(cwd)
	if err != nil {
		return fmt.Errorf("run `delivery dev` from the repository: %w", err)
	}
	data := *dataDir
	if !filepath.IsAbs(data) {
		data = filepath.Join(root, data)
	}
	logDir := filepath.Join(data, "logs")
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	pgLog, err := os.OpenFile(filepath.Join(logDir, "postgres.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer pgLog.Close()
	pgsrv, err := devstack.FindOrStartPostgres(ctx, getenv("DATABASE_URL"), data, pgLog)
	if err != nil {
		return err
	}
	env := map[string]string{"DATABASE_URL": pgsrv.URL}
	if getenv("LOG_FORMAT") == "" {
		env["LOG_FORMAT"] = "text"
	}
	getenv2 := func(k string) string {
		if v := getenv(k); v != "" {
			return v
		}
		return env[k]
	}
	cfg, log, err := setup(getenv2, stderr)
	if err != nil {
		return err
	}

	var temporal *exec.Cmd
	uiURL := "(your Temporal server's Web UI)"
	if getenv("TEMPORAL_ADDRESS") == "" {
		temporal, err = startTemporal(ctx, root, data, logDir, stdout)
		if err != nil {
			return err
		}
		uiURL = "http://127.0.0.1:8233"
	}
	if err := devstack.WaitTCP(ctx, cfg.TemporalAddress, 60*time.Second); err != nil {
		return fmt.Errorf("Temporal does not answer at %s: %v (its log: %s)", cfg.TemporalAddress, err, filepath.Join(logDir, "temporal.log"))
	}
	if err := migrate(ctx, cfg, log, nil); err != nil {
		return err
	}

	g, gctx := errgroup.WithContext(ctx)
	// serve and runWorker name themselves in their errors.
	run := func(f func(context.Context) error) {
		g.Go(func() error {
			if err := f(gctx); err != nil && !errors.Is(err, context.Canceled) {
				return err
			}
			return nil
		})
	}
	for _, name := range config.Services {
		run(func(ctx context.Context) error { return serve(ctx, cfg, log, name) })
	}
	run(func(ctx context.Context) error { return runWorker(ctx, cfg, log) })
	if temporal != nil {
		g.Go(func() error {
			err := temporal.Wait()
			if gctx.Err() == nil {
				return fmt.Errorf("the Temporal dev server stopped: %v (its log: %s)", err, filepath.Join(logDir, "temporal.log"))
			}
			return nil
		})
	}
	if pgsrv.Private {
		g.Go(func() error {
			err := pgsrv.Wait()
			if gctx.Err() == nil {
				return fmt.Errorf("the private PostgreSQL stopped: %v (its log: %s)", err, filepath.Join(logDir, "postgres.log"))
			}
			return nil
		})
	}

	ready := make(chan error, 1)
	go func() { ready <- waitReady(gctx, cfg) }()
	select {
	case err := <-ready:
		if err != nil {
			cancel()
			if gerr := g.Wait(); gerr != nil {
				return gerr
			}
			return err
		}
	case <-gctx.Done():
		return g.Wait()
	}
	var demoInfo *demoData
	if *demo {
		demoInfo, err = loadDemo(gctx, cfg)
		if err != nil {
			log.Error("demo data", "err", err)
		}
	}
	printReady(stdout, cfg, getenv, uiURL, pgsrv, time.Since(start), demoInfo)
	err = g.Wait()
	if ctx.Err() != nil {
		fmt.Fprintln(stdout, "stopped")
	}
	return err
}

func startTemporal(ctx context.Context, root, data, logDir string, stdout io.Writer) (*exec.Cmd, error) {
	for _, port := range []string{"7233", "8233"} {
		if c, err := net.DialTimeout("tcp", "127.0.0.1:"+port, time.Second); err == nil {
			c.Close()
			return nil, fmt.Errorf("port %s is taken (another Temporal server?): stop it, or set TEMPORAL_ADDRESS to use it", port)
		}
	}
	if _, err := os.Stat(filepath.Join(root, "tools", "temporal.mod")); err != nil {
		return nil, errors.New("tools/temporal.mod is missing: run from a complete checkout")
	}
	fmt.Fprintln(stdout, "starting Temporal (the first run builds the temporal CLI: about 2 minutes, once)")
	bin, err := devstack.TemporalBinary(ctx, root)
	if err != nil {
		return nil, err
	}
	logf, err := os.OpenFile(filepath.Join(logDir, "temporal.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, bin, devstack.TemporalArgs(7233, 8233, filepath.Join(data, "temporal.db"))...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 15 * time.Second
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start the temporal CLI %s: %w", bin, err)
	}
	return cmd, nil
}

// waitReady waits until every service answers /readyz.
func waitReady(ctx context.Context, cfg config.Config) error {
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(60 * time.Second)
	for _, name := range config.Services {
		url := cfg.Services[name].URL + "/readyz"
		for {
			resp, err := client.Get(url)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					break
				}
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%s is not ready at %s", name, url)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	return nil
}

func printReady(w io.Writer, cfg config.Config, getenv func(string) string, uiURL string, pgsrv *devstack.Postgres, took time.Duration, demo *demoData) {
	var b strings.Builder
	fmt.Fprintf(&b, "\nThe delivery platform is up (ready in %.1fs).\n\n", took.Seconds())
	for _, name := range config.Services {
		fmt.Fprintf(&b, "  %-12s %s\n", name, cfg.Services[name].URL)
	}
	fmt.Fprintf(&b, "  %-12s %s\n", "Temporal UI", uiURL)
	fmt.Fprintf(&b, "  %-12s %s (namespace %s, task queue %s)\n", "Temporal", cfg.TemporalAddress, cfg.TemporalNamespace, cfg.TaskQueue)
	where := "the local server"
	if pgsrv.Private {
		where = "a private cluster in .data/postgres"
	}
	fmt.Fprintf(&b, "  %-12s %s\n\n", "PostgreSQL", where)
	if getenv("ADMIN_PASSWORD") == "" {
		fmt.Fprintf(&b, "Admin (development defaults; set ADMIN_EMAIL / ADMIN_PASSWORD to change): %s / %s\n", cfg.AdminEmail, cfg.AdminPassword)
	} else {
		fmt.Fprintf(&b, "Admin: %s (password from ADMIN_PASSWORD)\n", cfg.AdminEmail)
	}
	users := cfg.Services[config.Users].URL
	fmt.Fprintf(&b, "\nGet a token:\n  TOKEN=$(curl -s -X POST %s/auth/login -H 'Content-Type: application/json' -d '{\"email\":\"%s\",\"password\":\"%s\"}' | sed -E 's/.*\"access_token\":\"([^\"]+)\".*/\\1/')\n",
		users, cfg.AdminEmail, passwordShown(getenv, cfg))
	if demo != nil {
		fmt.Fprintf(&b, "\nDemo data loaded. Place an order:\n  curl -s -X POST %s/orders -H \"Authorization: Bearer $TOKEN\" -H 'Content-Type: application/json' -d '%s'\n",
			cfg.Services[config.Orders].URL, demo.OrderJSON)
		fmt.Fprintf(&b, "Courier account: %s / %s (delivery man %s)\n", demo.CourierEmail, demo.CourierPassword, demo.CourierDeliveryManID)
	} else {
		fmt.Fprintf(&b, "  curl -s %s/products -H \"Authorization: Bearer $TOKEN\"\n(start with --demo to load sample products, customers and delivery men)\n",
			cfg.Services[config.Products].URL)
	}
	fmt.Fprintf(&b, "\nLogs: this terminal; Temporal and PostgreSQL logs in .data/logs. Ctrl-C stops everything.\n")
	fmt.Fprint(w, b.String())
}

func passwordShown(getenv func(string) string, cfg config.Config) string {
	if getenv("ADMIN_PASSWORD") == "" {
		return cfg.AdminPassword
	}
	return "$ADMIN_PASSWORD"
}
