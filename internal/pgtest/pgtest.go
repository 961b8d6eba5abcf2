// Package pgtest gives each test a fresh, migrated database of its own, cloned
// from a template that is migrated once per schema version.
package pgtest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/delivery/platform/internal/pg"
)

// ServerURL is the PostgreSQL server tests use: TEST_DATABASE_URL, else
// DATABASE_URL, else the local server.
func ServerURL() string {
	for _, k := range []string{"TEST_DATABASE_URL", "DATABASE_URL"} {
		if v := os.Getenv(k); v != "" {
			return v
		}
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// New returns a pool on a new database holding the schema of migrations. The
// database is dropped when the test ends.
func New(t testing.TB, name string, migrations fs.FS) *pgxpool.Pool {
	t.Helper()
	dsn := NewURL(t, name, migrations)
	ctx := context.Background()
	pool, err := pg.Connect(ctx, dsn, 8)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// NewURL creates the database like New and returns its URL.
func NewURL(t testing.TB, name string, migrations fs.FS) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	admin, err := pgx.Connect(ctx, ServerURL())
	if err != nil {
		t.Fatalf("PostgreSQL is not reachable at %s: %v", pg.Redact(ServerURL()), err)
	}
	defer admin.Close(context.Background())
	tmpl, err := template(ctx, admin, name, migrations)
	if err != nil {
		t.Fatal(err)
	}
	db := fmt.Sprintf("test_%s_%s", name, strings.ReplaceAll(uuid.NewString()[:13], "-", ""))
	// Cloning takes a lock on the template; retry while another test clones it.
	for i := 0; ; i++ {
		_, err = admin.Exec(ctx, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s", db, tmpl))
		if err == nil || i > 50 || !strings.Contains(err.Error(), "being accessed by other users") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, ServerURL())
		if err != nil {
			return
		}
		defer c.Close(ctx)
		_, _ = c.Exec(ctx, fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", db))
	})
	u, err := pg.WithDatabase(ServerURL(), db)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// template returns the name of a template database migrated with migrations,
// creating it when this schema has not been seen before. Its name carries a
// hash of the migrations, so a changed schema gets a new template.
func template(ctx context.Context, admin *pgx.Conn, name string, migrations fs.FS) (string, error) {
	h := sha256.New()
	err := fs.WalkDir(migrations, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(migrations, path)
		h.Write([]byte(path))
		h.Write(b)
		return err
	})
	if err != nil {
		return "", err
	}
	tmpl := fmt.Sprintf("tmpl_%s_%s", name, hex.EncodeToString(h.Sum(nil))[:12])
	// Test binaries of several packages run at once: one creates the template,
	// the others wait on the advisory lock.
	if _, err := admin.Exec(ctx, "SELECT pg_advisory_lock(hashtext($1))", tmpl); err != nil {
		return "", err
	}
	defer admin.Exec(context.Background(), "SELECT pg_advisory_unlock(hashtext($1))", tmpl) //nolint:errcheck
	var ready bool
	if err := admin.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1 AND datistemplate)", tmpl).Scan(&ready); err != nil {
		return "", err
	}
	if ready {
		return tmpl, nil
	}
	if _, err := admin.Exec(ctx, fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", tmpl)); err != nil {
		return "", err
	}
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+tmpl); err != nil {
		return "", err
	}
	dsn, err := pg.WithDatabase(ServerURL(), tmpl)
	if err != nil {
		return "", err
	}
	pool, err := pg.Connect(ctx, dsn, 2)
	if err != nil {
		return "", err
	}
	_, err = pg.Migrate(ctx, pool, migrations)
	pool.Close()
	if err != nil {
		return "", fmt.Errorf("migrate template %s: %w", tmpl, err)
	}
	if _, err := admin.Exec(ctx, fmt.Sprintf("ALTER DATABASE %s WITH is_template true", tmpl)); err != nil {
		return "", err
	}
	return tmpl, nil
}
