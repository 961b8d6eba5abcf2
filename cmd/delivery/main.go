// Command delivery runs every part of the delivery platform:
//
//	delivery serve <service>   run one service: users, products, customers, deliverymen, orders
//	delivery worker            run the Temporal worker of the order saga
//	delivery migrate [svc...]  create and migrate the service databases
//	delivery dev               run the whole platform on this machine (see README)
//	delivery orders ...        list, late, show and cancel orders through the API
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "delivery:", err)
		os.Exit(1)
	}
}

const usage = `usage:
  delivery serve <service>    run one service (users, products, customers, deliverymen, orders)
  delivery worker             run the order saga's Temporal worker
  delivery migrate [service]  create and migrate the databases (all services when none is named)
  delivery dev [--demo]       run the whole platform locally: Temporal, PostgreSQL, every service, the worker
  delivery orders ...         a dispatcher's view: list, late, show, cancel (see delivery orders)
Configuration comes from the environment; see README.md.`

var errUsage = errors.New(usage)

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errUsage
	}
	switch args[0] {
	case "serve":
		if len(args) != 2 {
			return errUsage
		}
		cfg, log, err := setup(getenv, stderr)
		if err != nil {
			return err
		}
		return serve(ctx, cfg, log, args[1])
	case "worker":
		cfg, log, err := setup(getenv, stderr)
		if err != nil {
			return err
		}
		return runWorker(ctx, cfg, log)
	case "migrate":
		cfg, log, err := setup(getenv, stderr)
		if err != nil {
			return err
		}
		return migrate(ctx, cfg, log, args[1:])
	case "dev":
		return dev(ctx, args[1:], getenv, stdout, stderr)
	case "orders":
		return ordersCmd(ctx, args[1:], getenv, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	return fmt.Errorf("unknown command %q\n%s", args[0], usage)
}

func newLogger(w io.Writer, level, format string) *slog.Logger {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		lv = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: lv}
	if strings.EqualFold(format, "text") {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}
