package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"go.temporal.io/sdk/worker"

	"github.com/delivery/platform/activities"
	"github.com/delivery/platform/internal/auth"
	"github.com/delivery/platform/internal/config"
	"github.com/delivery/platform/internal/httpx"
	"github.com/delivery/platform/internal/pg"
	"github.com/delivery/platform/internal/temporalx"
	"github.com/delivery/platform/services/orders"
	"github.com/delivery/platform/workflows"
)

// Reconciler timing: every reconcileEvery, PENDING orders older than
// reconcileAfter get their workflow started if it never was.
const (
	reconcileEvery = 30 * time.Second
	reconcileAfter = time.Minute
)

// runWorker runs the order workflow and its activities on the task queue
// until ctx is cancelled; then it stops polling and lets the activities it
// holds finish (up to 30 s).
func runWorker(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	log = log.With("component", "worker")
	// Take the port of /metrics and /readyz first: a port in use is a plain
	// one-line error before anything else starts.
	ln, err := listen(cfg.WorkerAddr, "worker")
	if err != nil {
		return err
	}
	defer ln.Close()
	metrics := httpx.NewMetrics("worker")
	mh, closer := temporalx.NewMetricsHandler(metrics.Registry)
	defer closer.Close()
	c, err := temporalx.DialRetry(ctx, cfg, log, temporalx.WithMetrics(mh))
	if err != nil {
		return err
	}
	defer c.Close()
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	err = temporalx.EnsureSearchAttributes(sctx, c, cfg.TemporalNamespace, workflows.SearchAttributes()...)
	cancel()
	if err != nil {
		return err
	}

	dsn := cfg.Services[config.Orders].DatabaseURL
	if cfg.AutoMigrate {
		if err := pg.EnsureDatabase(ctx, dsn); err != nil {
			return dbError(config.Orders, dsn, err)
		}
	}
	pool, err := pg.Connect(ctx, dsn, cfg.DBMaxConns)
	if err != nil {
		return dbError(config.Orders, dsn, err)
	}
	defer pool.Close()
	if cfg.AutoMigrate {
		if _, err := pg.Migrate(ctx, pool, orders.Migrations()); err != nil {
			return fmt.Errorf("worker: %w", err)
		}
	} else if err := pg.CheckVersion(ctx, pool, orders.Migrations()); err != nil {
		return fmt.Errorf("worker: %w", err)
	}

	acts := activities.New(activities.Config{
		UsersURL:       cfg.Services[config.Users].URL,
		CustomersURL:   cfg.Services[config.Customers].URL,
		ProductsURL:    cfg.Services[config.Products].URL,
		DeliveryMenURL: cfg.Services[config.DeliveryMen].URL,
		Tokens:         auth.NewTokenSource(cfg.Services[config.Users].URL, cfg.ServiceEmail, cfg.ServicePassword, nil),
		Pool:           pool,
		Delay:          cfg.DependencyDelay,
	})
	pg.RegisterPoolMetrics(metrics.Registry, pool)
	app := httpx.New(httpx.Options{Name: "worker", Logger: log})
	app.Get("/metrics", metrics.Handler())
	httpx.Readiness(app, map[string]func(context.Context) error{"postgres": pool.Ping, "temporal": temporalx.Healthy(c)})
	go func() { _ = app.Listener(ln) }()
	defer func() { _ = app.ShutdownWithTimeout(5 * time.Second) }()

	w := worker.New(c, cfg.TaskQueue, worker.Options{WorkerStopTimeout: 30 * time.Second})
	workflows.Register(w, acts)
	if err := w.Start(); err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	log.Info("worker polling", "task_queue", cfg.TaskQueue, "temporal", cfg.TemporalAddress, "namespace", cfg.TemporalNamespace)

	svc := orders.New(pool, orders.Options{
		Temporal: c, TaskQueue: cfg.TaskQueue, RetryWindow: cfg.RetryWindow, PickupDeadline: cfg.PickupDeadline, Logger: log,
	})
	done := make(chan struct{})
	go func() {
		defer close(done)
		svc.RunReconciler(ctx, reconcileEvery, reconcileAfter)
	}()

	<-ctx.Done()
	log.Info("worker stopping: finishing the activities it holds")
	w.Stop()
	<-done
	return nil
}
