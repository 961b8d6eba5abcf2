package main

import (
	"context"
	"io/fs"
	"log/slog"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/delivery/platform/internal/auth"
	"github.com/delivery/platform/internal/config"
	"github.com/delivery/platform/internal/temporalx"
	"github.com/delivery/platform/services/orders"
)

// mountOrders registers the orders API. Its Temporal client connects on first
// use: the service starts while Temporal is still coming up, and an order
// placed meanwhile is answered 202 and started by the worker's reconciler.
func mountOrders(ctx context.Context, cfg config.Config, log *slog.Logger, app *fiber.App, pool *pgxpool.Pool, guard auth.Guard, ready map[string]func(context.Context) error) (func(), error) {
	c, err := temporalx.Lazy(cfg, log)
	if err != nil {
		return nil, err
	}
	svc := orders.New(pool, orders.Options{
		Temporal:       c,
		TaskQueue:      cfg.TaskQueue,
		VerdictWait:    cfg.VerdictWait,
		RetryWindow:    cfg.RetryWindow,
		PickupDeadline: cfg.PickupDeadline,
		DeliveryMenURL: cfg.Services[config.DeliveryMen].URL,
		Logger:         log,
	})
	orders.Routes(app, svc, guard)
	ready["temporal"] = temporalx.Healthy(c)
	return c.Close, nil
}

// ordersMigrations is the orders database schema.
func ordersMigrations() fs.FS { return orders.Migrations() }
