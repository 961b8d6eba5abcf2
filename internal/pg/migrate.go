package pg

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// Migrate applies every pending migration of migrations (a directory of goose
// SQL files) to the database behind pool, under an advisory lock so that
// replicas starting together do not race. It refuses a database whose schema is
// newer than this binary knows.
func Migrate(ctx context.Context, pool *pgxpool.Pool, migrations fs.FS) (int64, error) {
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	p, err := provider(db, migrations)
	if err != nil {
		return 0, err
	}
	if err := CheckSchema(ctx, p); err != nil {
		return 0, err
	}
	if _, err := p.Up(ctx); err != nil {
		return 0, fmt.Errorf("migrate: %w", err)
	}
	return p.GetDBVersion(ctx)
}

// CheckVersion fails when the database's schema is newer than the embedded
// migrations, or older (pending migrations not applied yet).
func CheckVersion(ctx context.Context, pool *pgxpool.Pool, migrations fs.FS) error {
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	p, err := provider(db, migrations)
	if err != nil {
		return err
	}
	if err := CheckSchema(ctx, p); err != nil {
		return err
	}
	pending, err := p.HasPending(ctx)
	if err != nil {
		return err
	}
	if pending {
		return fmt.Errorf("the database schema is behind this binary: run `delivery migrate` first")
	}
	return nil
}

// CheckSchema refuses a database migrated by a newer binary.
func CheckSchema(ctx context.Context, p *goose.Provider) error {
	db, err := p.GetDBVersion(ctx)
	if err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	sources := p.ListSources()
	var known int64
	if len(sources) > 0 {
		known = sources[len(sources)-1].Version
	}
	if db > known {
		return fmt.Errorf("the database schema is at version %d, newer than this binary knows (%d): refusing to start; deploy the newer binary", db, known)
	}
	return nil
}

func provider(db *sql.DB, migrations fs.FS) (*goose.Provider, error) {
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return nil, err
	}
	return goose.NewProvider(goose.DialectPostgres, db, migrations, goose.WithSessionLocker(locker))
}
