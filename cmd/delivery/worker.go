package main

// Stub until the saga lands: replaced by the saga work.

import (
	"context"
	"errors"
	"log/slog"

	"github.com/delivery/platform/internal/config"
)

func runWorker(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	return errors.New("the worker is not built yet")
}
