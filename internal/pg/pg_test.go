package pg_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"

	"github.com/jackc/pgx/v5"

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

// Two transactions taking the same rows in opposite order deadlock; the
// victim is run again, so both callers succeed.
func TestTxRunsADeadlockVictimAgain(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.New(t, "pgtest", schema)
	if _, err := pool.Exec(ctx, `INSERT INTO things VALUES (1, 'a', 1), (2, 'b', 1)`); err != nil {
		t.Fatal(err)
	}
	var runs atomic.Int32
	var ready sync.WaitGroup
	ready.Add(2)
	first := func(a, b int) error {
		once := true
		return pg.Tx(ctx, pool, func(tx pgx.Tx) error {
			runs.Add(1)
			if _, err := tx.Exec(ctx, `UPDATE things SET n = n + 1 WHERE id = $1`, a); err != nil {
				return err
			}
			if once { // both hold their first row before either takes the second
				once = false
				ready.Done()
				ready.Wait()
			}
			_, err := tx.Exec(ctx, `UPDATE things SET n = n + 1 WHERE id = $1`, b)
			return err
		})
	}
	errs := make(chan error, 2)
	go func() { errs <- first(1, 2) }()
	go func() { errs <- first(2, 1) }()
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatalf("a transaction failed: %v", err)
		}
	}
	var total int
	if err := pool.QueryRow(ctx, `SELECT sum(n) FROM things`).Scan(&total); err != nil {
		t.Fatal(err)
	}
	if total != 6 || runs.Load() != 3 {
		t.Errorf("sum %d (want 6), %d runs (want 3: one deadlock victim run again)", total, runs.Load())
	}
}
