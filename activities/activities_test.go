package activities_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/delivery/platform/activities"
	"github.com/delivery/platform/internal/pgtest"
	"github.com/delivery/platform/services/orders"
)

// tokens counts invalidations; the services here are stand-ins that answer
// what the real ones answer in situations hard to provoke (a 503, a token the
// service stops accepting).
type tokens struct{ invalidated atomic.Int32 }

func (t *tokens) Token(context.Context) (string, error) { return "tok", nil }
func (t *tokens) Invalidate()                           { t.invalidated.Add(1) }

func problem(w http.ResponseWriter, status int, typ string, fields ...[2]string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	errs := []map[string]string{}
	for _, f := range fields {
		errs = append(errs, map[string]string{"field": f[0], "message": f[1]})
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"type": "https://delivery.example/problems/" + typ, "title": "x", "status": status, "errors": errs})
}

func run(t *testing.T, status int, typ string, fields ...[2]string) (*tokens, error) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok" {
			t.Errorf("no service token")
		}
		problem(w, status, typ, fields...)
	}))
	defer srv.Close()
	tk := &tokens{}
	a := activities.New(activities.Config{UsersURL: srv.URL, CustomersURL: srv.URL, ProductsURL: srv.URL, DeliveryMenURL: srv.URL, Tokens: tk})
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(a)
	p1, p2 := uuid.New(), uuid.New()
	_, err := env.ExecuteActivity(a.ReserveStock, activities.ReserveInput{OrderID: uuid.New(),
		Items: []activities.Item{{ProductID: p1, Quantity: 1}, {ProductID: p2, Quantity: 3}}})
	return tk, err
}

func appError(t *testing.T, err error) *temporal.ApplicationError {
	t.Helper()
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) {
		t.Fatalf("want an application error, got %v", err)
	}
	return appErr
}

func TestTechnicalFailuresAreRetryable(t *testing.T) {
	for _, status := range []int{500, 502, 503, 429, 403} {
		_, err := run(t, status, "internal")
		if appErr := appError(t, err); appErr.NonRetryable() {
			t.Errorf("%d is not retried: %v", status, err)
		}
	}
}

func TestRefusedTokenIsDroppedAndRetried(t *testing.T) {
	tk, err := run(t, 401, "unauthorized")
	if appErr := appError(t, err); appErr.NonRetryable() || tk.invalidated.Load() != 1 {
		t.Fatalf("401: %v, invalidated %d", err, tk.invalidated.Load())
	}
}

func TestStockRefusalNamesEachProduct(t *testing.T) {
	_, err := run(t, 422, "reservation-refused", [2]string{"items[1]", "insufficient stock: 3 requested, 1 available"})
	appErr := appError(t, err)
	if !appErr.NonRetryable() || appErr.Type() != activities.ErrRefused {
		t.Fatalf("refusal: %v", err)
	}
	var reasons []activities.Reason
	if err := appErr.Details(&reasons); err != nil || len(reasons) != 1 ||
		reasons[0].Entity != "product" || reasons[0].Reason != "insufficient stock: 3 requested, 1 available" {
		t.Fatalf("reasons %+v %v", reasons, err)
	}
}

func TestUnexpectedAnswerIsNotRetried(t *testing.T) {
	_, err := run(t, 400, "bad-request")
	if appErr := appError(t, err); !appErr.NonRetryable() || appErr.Type() != activities.ErrUnexpected {
		t.Fatalf("400: %v", err)
	}
}

func TestConnectionRefusedIsRetryable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	a := activities.New(activities.Config{UsersURL: url, Tokens: &tokens{}})
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(a)
	_, err := env.ExecuteActivity(a.CheckUser, uuid.New())
	if err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("want connection refused, got %v", err)
	}
	if appErr := appError(t, err); appErr.NonRetryable() {
		t.Fatalf("not retried: %v", err)
	}
}

func TestConfirmTwiceWritesOnce(t *testing.T) {
	pool := pgtest.New(t, "orders", orders.Migrations())
	ctx := context.Background()
	id, p := uuid.Must(uuid.NewV7()), uuid.New()
	if _, err := pool.Exec(ctx, `INSERT INTO orders (id, user_id, customer_id, delivery_man_id, phone, delivery_address, deliver_at, request_hash)
		VALUES ($1, $2, $2, $2, '987654321', 'Av. Sol 1', now() + interval '1 day', 'x')`, id, uuid.New()); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO order_items (order_id, line, product_id, quantity) VALUES ($1, 0, $2, 2)`, id, p); err != nil {
		t.Fatal(err)
	}
	a := activities.New(activities.Config{Pool: pool, Tokens: &tokens{}})
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(a)
	in := activities.ConfirmInput{OrderID: id, Items: []activities.PricedItem{{ProductID: p, Quantity: 2, UnitPrice: "12.50"}}, Total: "25.00"}
	for range 2 {
		if _, err := env.ExecuteActivity(a.ConfirmOrder, in); err != nil {
			t.Fatal(err)
		}
	}
	var status, total, price string
	if err := pool.QueryRow(ctx, `SELECT o.status, o.total::text, i.unit_price::text FROM orders o JOIN order_items i ON i.order_id = o.id WHERE o.id = $1`, id).
		Scan(&status, &total, &price); err != nil {
		t.Fatal(err)
	}
	if status != "CONFIRMED" || total != "25.00" || price != "12.50" {
		t.Fatalf("%s %s %s", status, total, price)
	}
	// A status write repeated changes nothing; a missing order is not retried.
	st := activities.StatusInput{OrderID: id, Status: "PICKED_UP"}
	for range 2 {
		if _, err := env.ExecuteActivity(a.SetStatus, st); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := env.ExecuteActivity(a.SetStatus, activities.StatusInput{OrderID: uuid.New(), Status: "DELIVERED"}); err == nil ||
		appError(t, err).Type() != activities.ErrOrderGone {
		t.Fatalf("missing order: %v", err)
	}
	if _, err := env.ExecuteActivity(a.ConfirmOrder, in); err == nil {
		t.Fatal("a picked-up order was confirmed again")
	}
}
