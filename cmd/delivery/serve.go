package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/delivery/platform/internal/auth"
	"github.com/delivery/platform/internal/config"
	"github.com/delivery/platform/internal/devstack"
	"github.com/delivery/platform/internal/httpx"
	"github.com/delivery/platform/internal/pg"
	"github.com/delivery/platform/services/customers"
	"github.com/delivery/platform/services/deliverymen"
	"github.com/delivery/platform/services/products"
	"github.com/delivery/platform/services/users"
)

// mountFunc registers a service's routes on app. cleanup, when not nil, runs
// after the server stopped.
// ready holds the /readyz checks; a service adds what it depends on.
type mountFunc func(ctx context.Context, cfg config.Config, log *slog.Logger, app *fiber.App, pool *pgxpool.Pool, guard auth.Guard, ready map[string]func(context.Context) error) (cleanup func(), err error)

type serviceDef struct {
	migrations func() fs.FS
	mount      mountFunc
	// ownGuard is set for the users service, which verifies with its own keys.
	ownGuard bool
}

var services = map[string]serviceDef{
	config.Users:       {migrations: users.Migrations, mount: mountUsers, ownGuard: true},
	config.Products:    {migrations: products.Migrations, mount: entity(products.New, products.Routes)},
	config.Customers:   {migrations: customers.Migrations, mount: entity(customers.New, customers.Routes)},
	config.DeliveryMen: {migrations: deliverymen.Migrations, mount: entity(deliverymen.New, deliverymen.Routes)},
	config.Orders:      {migrations: ordersMigrations, mount: mountOrders},
}

// mountUsers bootstraps the first admin, the worker's account and the signing
// key, then serves the users API, which verifies tokens with its own keys.
func mountUsers(ctx context.Context, cfg config.Config, _ *slog.Logger, app *fiber.App, pool *pgxpool.Pool, _ auth.Guard, _ map[string]func(context.Context) error) (func(), error) {
	if err := users.Bootstrap(ctx, pool, cfg); err != nil {
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	s, err := users.New(pool, cfg)
	if err != nil {
		return nil, err
	}
	users.Routes(app, s)
	return nil, nil
}

// entity mounts a service that needs only its pool and the guard.
func entity[S any](newService func(*pgxpool.Pool) S, routes func(fiber.Router, S, auth.Guard)) mountFunc {
	return func(_ context.Context, _ config.Config, _ *slog.Logger, app *fiber.App, pool *pgxpool.Pool, guard auth.Guard, _ map[string]func(context.Context) error) (func(), error) {
		routes(app, newService(pool), guard)
		return nil, nil
	}
}

func setup(getenv func(string) string, stderr io.Writer) (config.Config, *slog.Logger, error) {
	cfg, err := config.Load(getenv)
	if err != nil {
		return cfg, nil, err
	}
	log := newLogger(stderr, cfg.LogLevel, cfg.LogFormat)
	slog.SetDefault(log)
	return cfg, log, nil
}

func lookup(name string) (serviceDef, error) {
	def, ok := services[name]
	if !ok {
		names := make([]string, 0, len(services))
		for n := range services {
			names = append(names, n)
		}
		slices.Sort(names)
		return def, fmt.Errorf("unknown service %q: one of %s", name, strings.Join(names, ", "))
	}
	return def, nil
}

// serve runs one service until ctx is done, then drains in-flight requests.
func serve(ctx context.Context, cfg config.Config, log *slog.Logger, name string) error {
	def, err := lookup(name)
	if err != nil {
		return err
	}
	svc := cfg.Services[name]
	log = log.With("service", name)
	// Take the port first: a port in use is the most common start-up failure
	// and deserves a plain message before anything else happens.
	ln, err := listen(svc.Addr, name)
	if err != nil {
		return err
	}
	defer ln.Close()

	if cfg.AutoMigrate {
		if err := pg.EnsureDatabase(ctx, svc.DatabaseURL); err != nil {
			return dbError(name, svc.DatabaseURL, err)
		}
	}
	pool, err := pg.Connect(ctx, svc.DatabaseURL, cfg.DBMaxConns)
	if err != nil {
		return dbError(name, svc.DatabaseURL, err)
	}
	defer pool.Close()
	if cfg.AutoMigrate {
		if _, err := pg.Migrate(ctx, pool, def.migrations()); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	} else if err := pg.CheckVersion(ctx, pool, def.migrations()); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}

	metrics := httpx.NewMetrics(name)
	pg.RegisterPoolMetrics(metrics.Registry, pool)
	app := httpx.New(httpx.Options{Name: name, Logger: log, Metrics: metrics})
	app.Get("/metrics", metrics.Handler())
	ready := map[string]func(context.Context) error{"postgres": pool.Ping}

	var guard auth.Guard
	if !def.ownGuard {
		keys, err := auth.RemoteKeys(ctx, cfg.JWKSURL)
		if err != nil {
			return fmt.Errorf("%s: jwks: %w", name, err)
		}
		// Tokens of deactivated, deleted or demoted users: learnt by polling
		// the users service's revocation feed, never asked per request.
		revoked := auth.NewRevocationFeed(cfg.RevocationsURL, cfg.RevocationPoll, log)
		go revoked.Run(ctx)
		// Verified tokens are cached until they expire: a verification costs
		// more than the rest of a lookup (BENCHMARKS.md); revocation is still
		// checked on every request.
		v := auth.NewVerifier(keys.Keyfunc, cfg.JWTIssuer, cfg.JWTAudience, revoked).CacheTokens(cfg.AuthCacheSize)
		guard = auth.NewGuard(v)
	}
	cleanup, err := def.mount(ctx, cfg, log, app, pool, guard, ready)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	httpx.Readiness(app, ready)
	if cleanup != nil {
		defer cleanup()
	}

	errc := make(chan error, 1)
	go func() { errc <- app.Listener(ln) }()
	log.Info("listening", "addr", svc.Addr, "url", svc.URL)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing in-flight requests")
	if err := app.ShutdownWithTimeout(20 * time.Second); err != nil {
		return err
	}
	return nil
}

func listen(addr, name string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return nil, fmt.Errorf("%s: address %s is already in use: stop what holds it or set %s_ADDR", name, addr, strings.ToUpper(name))
	}
	if err != nil {
		return nil, fmt.Errorf("%s: cannot listen on %s: %w", name, addr, err)
	}
	return ln, nil
}

func dbError(name, dsn string, err error) error {
	return fmt.Errorf("%s: cannot use the database %s (%s): is PostgreSQL running? set DATABASE_URL or %s_DATABASE_URL",
		name, pg.Redact(dsn), devstack.OneLine(rootCause(err)), strings.ToUpper(name))
}

func rootCause(err error) error {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return err
		}
		err = u
	}
}

// migrate creates and migrates the databases of the named services (all when
// none is named).
func migrate(ctx context.Context, cfg config.Config, log *slog.Logger, names []string) error {
	if len(names) == 0 {
		names = config.Services
	}
	for _, name := range names {
		def, err := lookup(name)
		if err != nil {
			return err
		}
		dsn := cfg.Services[name].DatabaseURL
		if err := pg.EnsureDatabase(ctx, dsn); err != nil {
			return dbError(name, dsn, err)
		}
		pool, err := pg.Connect(ctx, dsn, 2)
		if err != nil {
			return dbError(name, dsn, err)
		}
		v, err := pg.Migrate(ctx, pool, def.migrations())
		pool.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		log.Info("migrated", "service", name, "database", pg.DatabaseName(dsn), "version", v)
	}
	return nil
}
