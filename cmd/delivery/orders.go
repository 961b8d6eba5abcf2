package main

// Stub until the orders service lands: replaced by the saga work.

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/delivery/platform/internal/auth"
	"github.com/delivery/platform/internal/config"
)

func mountOrders(ctx context.Context, cfg config.Config, log *slog.Logger, app *fiber.App, pool *pgxpool.Pool, guard auth.Guard) (func(), error) {
	return nil, errors.New("the orders service is not built yet")
}

// ordersMigrations is the orders database schema (orders.Migrations once the
// orders service lands).
func ordersMigrations() fs.FS { return nil }
