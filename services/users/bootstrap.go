package users

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/delivery/platform/internal/auth"
	"github.com/delivery/platform/internal/config"
	"github.com/delivery/platform/internal/httpx"
	"github.com/delivery/platform/internal/pg"
	"github.com/delivery/platform/services/users/db"
)

// Bootstrap prepares a users database on start: the first admin
// (cfg.AdminEmail/AdminPassword), the order worker's service account
// (cfg.ServiceEmail/ServicePassword) and the signing key. It is idempotent:
// existing accounts and keys are left as they are, whatever their password.
// Replicas starting together serialize on an advisory lock.
func Bootstrap(ctx context.Context, pool *pgxpool.Pool, cfg config.Config) error {
	accounts := []struct {
		email, password, name string
		role                  auth.Role
	}{
		{cfg.AdminEmail, cfg.AdminPassword, "Administrator", auth.RoleAdmin},
		{cfg.ServiceEmail, cfg.ServicePassword, "Order worker", auth.RoleService},
	}
	hashes := make([]string, len(accounts))
	for i, a := range accounts {
		var v httpx.Check
		v.Email("email", a.email)
		checkPassword(&v, "password", a.password)
		if errs := v.Errors(); len(errs) > 0 {
			return fmt.Errorf("users: bootstrap %s account %q: %s %s", a.role, a.email, errs[0].Field, errs[0].Message)
		}
		h, err := hashPassword(a.password)
		if err != nil {
			return err
		}
		hashes[i] = h
	}
	q := db.New(pool)
	return pg.Tx(ctx, pool, func(tx pgx.Tx) error {
		qtx := q.WithTx(tx)
		if err := qtx.LockBootstrap(ctx); err != nil {
			return err
		}
		for i, a := range accounts {
			n, err := qtx.CreateUserIfAbsent(ctx, db.CreateUserIfAbsentParams{
				ID: uuid.Must(uuid.NewV7()), Email: a.email, Name: a.name, PasswordHash: hashes[i], Role: string(a.role),
			})
			if err != nil {
				return fmt.Errorf("users: bootstrap %s account: %w", a.role, err)
			}
			if n > 0 {
				slog.InfoContext(ctx, "created account", "role", a.role, "email", a.email)
			}
		}
		return ensureSigningKey(ctx, qtx)
	})
}

// ensureSigningKey creates the first signing key when there is none. It runs
// in a transaction holding the bootstrap lock, so that two replicas never
// create two keys.
func ensureSigningKey(ctx context.Context, q *db.Queries) error {
	if err := q.LockBootstrap(ctx); err != nil {
		return err
	}
	keys, err := q.ListSigningKeys(ctx)
	if err != nil || len(keys) > 0 {
		return err
	}
	k, err := auth.NewSigningKey()
	if err != nil {
		return err
	}
	if err := q.CreateSigningKey(ctx, db.CreateSigningKeyParams{Kid: k.KID, PrivateKey: k.Key.Seed()}); err != nil {
		return err
	}
	slog.InfoContext(ctx, "created the token signing key", "kid", k.KID)
	return nil
}
