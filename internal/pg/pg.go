// Package pg holds what every service does with its PostgreSQL database: the
// pool, migrations, mapping database errors to client errors, and numerics.
package pg

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/delivery/platform/internal/httpx"
)

// Connect opens a pool on dsn and checks it answers.
func Connect(ctx context.Context, dsn string, maxConns int32) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	if maxConns > 0 {
		cfg.MaxConns = maxConns
	}
	cfg.MaxConnIdleTime = 5 * time.Minute
	cfg.HealthCheckPeriod = 15 * time.Second
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := pool.Ping(pctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("cannot reach the database %s: %w", Redact(dsn), err)
	}
	return pool, nil
}

// WithDatabase returns dsn with its database name replaced by name.
func WithDatabase(dsn, name string) (string, error) {
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", fmt.Errorf("database url must look like postgres://user@host:5432/db, got %q", Redact(dsn))
	}
	u.Path = "/" + name
	return u.String(), nil
}

// DatabaseName is the database a dsn names.
func DatabaseName(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return ""
	}
	return strings.TrimPrefix(u.Path, "/")
}

// Redact hides the password of a dsn for messages.
func Redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "(unparsable url)"
	}
	return u.Redacted()
}

// EnsureDatabase creates the database named by dsn when it does not exist,
// connecting to the server's maintenance database to do so.
func EnsureDatabase(ctx context.Context, dsn string) error {
	name := DatabaseName(dsn)
	if name == "" {
		return fmt.Errorf("database url %s names no database", Redact(dsn))
	}
	admin, err := WithDatabase(dsn, "postgres")
	if err != nil {
		return err
	}
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return fmt.Errorf("cannot reach PostgreSQL at %s: %w", Redact(admin), err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P04" { // created meanwhile by another process
		return nil
	}
	return err
}

// Tx runs fn in a transaction, committing when it returns nil. A transaction
// that PostgreSQL aborts as a deadlock victim or a serialization failure is run
// again (a few times), so fn must set its results afresh on each run.
func Tx(ctx context.Context, pool *pgxpool.Pool, fn func(pgx.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := pgx.BeginFunc(ctx, pool, fn)
		var pgErr *pgconn.PgError
		if attempt < 4 && errors.As(err, &pgErr) && (pgErr.Code == "40P01" || pgErr.Code == "40001") {
			continue
		}
		return err
	}
}

// Error maps a database error to the error a client sees: no rows is not
// found, a unique violation a conflict, a check violation invalid. Anything
// else stays internal.
func Error(err error, entity string, id any) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return httpx.NotFound(entity, id)
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "23505": // unique_violation
			field := constraintField(pgErr.ConstraintName)
			return &httpx.Error{Code: httpx.CodeConflict, Detail: fmt.Sprintf("a %s with this %s already exists", entity, field),
				Fields: []httpx.FieldError{{Field: field, Message: "already in use"}}}
		case "23514", "22001", "22003", "22007", "22008": // check, too long, out of range, bad datetime
			return &httpx.Error{Code: httpx.CodeInvalid, Detail: fmt.Sprintf("the %s breaks a rule of the database", entity),
				Fields: []httpx.FieldError{{Field: constraintField(pgErr.ConstraintName), Message: "is not allowed"}}}
		case "23503": // foreign_key_violation
			return httpx.Errorf(httpx.CodeConflict, "the %s is still referenced", entity)
		}
	}
	return err
}

// constraintField turns "customers_email_key" into "email": constraints are
// named <table>_<field>_key / _check by convention.
func constraintField(constraint string) string {
	_, rest, ok := strings.Cut(constraint, "_")
	if !ok {
		return constraint
	}
	for _, suffix := range []string{"_key", "_check", "_idx", "_unique"} {
		rest = strings.TrimSuffix(rest, suffix)
	}
	return rest
}
