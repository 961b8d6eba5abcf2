package httpx

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// A database that is down or restarting is a 503 the client may repeat, not
// a 500: what every service answered while PostgreSQL restarted in faults/.
func TestUnreachableDependencyIs503(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, refused := pgx.Connect(ctx, "postgres://postgres@"+closed+"/x?sslmode=disable&connect_timeout=2")
	if refused == nil {
		t.Fatal("connected to a closed port")
	}
	for name, tc := range map[string]struct {
		err  error
		want int
	}{
		"connection refused":     {refused, 503},
		"cannot connect now":     {fmt.Errorf("get: %w", &pgconn.PgError{Code: "57P03", Message: "the database system is starting up"}), 503},
		"admin shutdown (57P01)": {&pgconn.PgError{Code: "57P01"}, 503},
		"connection failure":     {&pgconn.PgError{Code: "08006"}, 503},
		"conn closed":            {fmt.Errorf("list: %w", pgconn.ErrConnClosed), 503},
		"safe to retry":          {fmt.Errorf("list: %w", safeToRetry{}), 503},
		"broken mid-answer":      {fmt.Errorf("query: %w", io.ErrUnexpectedEOF), 503},
		"query canceled (57014)": {&pgconn.PgError{Code: "57014"}, 500},
		"unique violation":       {&pgconn.PgError{Code: "23505"}, 500},
		"anything else":          {errors.New("boom"), 500},
	} {
		app := New(Options{Name: "t"})
		app.Get("/", func(*fiber.Ctx) error { return tc.err })
		resp, err := app.Test(httptest.NewRequest("GET", "/", nil), -1)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		var p Problem
		_ = json.Unmarshal(b, &p)
		if resp.StatusCode != tc.want || p.Status != tc.want {
			t.Errorf("%s: %d %s, want %d", name, resp.StatusCode, b, tc.want)
		}
		if tc.want == 503 && p.Type != ProblemTypeBase+string(CodeUnavailable) {
			t.Errorf("%s: type %q", name, p.Type)
		}
	}
}

// safeToRetry stands for pgconn's errors that say nothing was sent, so the
// request may be repeated.
type safeToRetry struct{}

func (safeToRetry) Error() string     { return "conn closed" }
func (safeToRetry) SafeToRetry() bool { return true }
