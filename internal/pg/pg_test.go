package pg_test

import (
	"context"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/delivery/platform/internal/httpx"
	"github.com/delivery/platform/internal/pg"
	"github.com/delivery/platform/internal/pgtest"
)

var schema = fstest.MapFS{
	"00001_things.sql": {Data: []byte(`-- +goose Up
CREATE TABLE things (id int PRIMARY KEY, name text NOT NULL CONSTRAINT things_name_key UNIQUE,
  n int NOT NULL CONSTRAINT things_n_check CHECK (n > 0));
-- +goose Down
DROP TABLE things;
`)},
}

func TestMigrateRefusesANewerSchema(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.New(t, "pgtest", schema)
	// Migrating again is a no-op.
	if v, err := pg.Migrate(ctx, pool, schema); err != nil || v != 1 {
		t.Fatalf("migrate again: version %d, %v", v, err)
	}
	if err := pg.CheckVersion(ctx, pool, schema); err != nil {
		t.Fatalf("check current: %v", err)
	}
	// A newer binary migrated this database further.
	if _, err := pool.Exec(ctx, `INSERT INTO goose_db_version (version_id, is_applied) VALUES (2, true)`); err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"migrate": func() error { _, err := pg.Migrate(ctx, pool, schema); return err }(),
		"check":   pg.CheckVersion(ctx, pool, schema),
	} {
		if err == nil || !strings.Contains(err.Error(), "newer than this binary") {
			t.Errorf("%s on a newer schema: %v", name, err)
		}
	}
}

func TestErrorMapping(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.New(t, "pgtest", schema)
	if _, err := pool.Exec(ctx, `INSERT INTO things VALUES (1, 'a', 1)`); err != nil {
		t.Fatal(err)
	}
	_, err := pool.Exec(ctx, `INSERT INTO things VALUES (2, 'a', 1)`)
	var e *httpx.Error
	if mapped := pg.Error(err, "thing", nil); !asError(mapped, &e) || e.Code != httpx.CodeConflict || e.Fields[0].Field != "name" {
		t.Errorf("unique violation → %v", mapped)
	}
	_, err = pool.Exec(ctx, `INSERT INTO things VALUES (3, 'b', 0)`)
	if mapped := pg.Error(err, "thing", nil); !asError(mapped, &e) || e.Code != httpx.CodeInvalid || e.Fields[0].Field != "n" {
		t.Errorf("check violation → %v", mapped)
	}
	err = pool.QueryRow(ctx, `SELECT id FROM things WHERE id = 42`).Scan(new(int))
	if mapped := pg.Error(err, "thing", 42); !asError(mapped, &e) || e.Code != httpx.CodeNotFound {
		t.Errorf("no rows → %v", mapped)
	}
}

func asError(err error, target **httpx.Error) bool {
	e, ok := err.(*httpx.Error)
	*target = e
	return ok
}
