package testenv

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"

	"github.com/delivery/platform/activities"
	"github.com/delivery/platform/internal/auth"
	"github.com/delivery/platform/internal/devstack"
	"github.com/delivery/platform/internal/httpx"
	"github.com/delivery/platform/internal/pgtest"
	"github.com/delivery/platform/internal/temporalx"
	"github.com/delivery/platform/services/customers"
	"github.com/delivery/platform/services/deliverymen"
	"github.com/delivery/platform/services/orders"
	"github.com/delivery/platform/services/products"
	"github.com/delivery/platform/workflows"
)

// Temporal is a Temporal dev server (the pinned temporal CLI) on a free
// loopback port, with the order search attributes registered. Start one per
// test package, in TestMain.
type Temporal struct {
	Server    *testsuite.DevServer
	Client    client.Client
	Address   string
	Namespace string
	dir       string
}

// StartTemporal starts the dev server. It finds the repository root from the
// working directory and the CLI through `go tool -modfile=tools/temporal.mod`
// (or $TEMPORAL_CLI).
func StartTemporal(ctx context.Context) (*Temporal, error) {
	wd, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	root, err := devstack.RepoRoot(wd)
	if err != nil {
		return nil, err
	}
	bin, err := devstack.TemporalBinary(ctx, root)
	if err != nil {
		return nil, err
	}
	port, err := devstack.FreePort()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "temporal-test-")
	if err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	srv, err := testsuite.StartDevServer(ctx, testsuite.DevServerOptions{
		ExistingPath:  bin,
		ClientOptions: &client.Options{HostPort: addr, Namespace: "default", Logger: tlog.NewStructuredLogger(quiet)},
		DBFilename:    filepath.Join(dir, "temporal.db"),
		LogLevel:      "error",
		ExtraArgs:     append([]string{"--headless"}, devstack.TemporalTuning...),
		Stdout:        io.Discard,
		Stderr:        serverLog(),
	})
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start the Temporal dev server: %w", err)
	}
	tp := &Temporal{Server: srv, Client: srv.Client(), Address: addr, Namespace: "default", dir: dir}
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := temporalx.EnsureSearchAttributes(sctx, tp.Client, tp.Namespace, workflows.SearchAttributes()...); err != nil {
		tp.Stop()
		return nil, err
	}
	return tp, nil
}

// Stop stops the server and removes its files.
func (tp *Temporal) Stop() {
	tp.Client.Close()
	_ = tp.Server.Stop()
	os.RemoveAll(tp.dir)
}

// serverLog is where the dev server writes: nowhere unless TEMPORAL_TEST_LOG
// is set (it logs every stopped worker's cancelled poll as an error).
func serverLog() io.Writer {
	if os.Getenv("TEMPORAL_TEST_LOG") != "" {
		return os.Stderr
	}
	return io.Discard
}

// StackOptions tune a Stack; zero values take test-friendly defaults.
type StackOptions struct {
	VerdictWait    time.Duration // default 10 s
	RetryWindow    time.Duration // default 1 min
	PickupDeadline time.Duration // default 1 h
	// LateCustomers reserves the customers service's address but starts it
	// only on StartCustomers: the service is down meanwhile.
	LateCustomers bool
}

// Stack is the whole platform for one test: the five services on loopback
// listeners, each on its own fresh database, and the order worker in-process
// on its own task queue of the shared Temporal server.
type Stack struct {
	Users    *Users
	Temporal *Temporal
	// TaskQueue is this stack's own: other tests' workers never see its orders.
	TaskQueue string

	Products, Customers, DeliveryMen, Orders *fiber.App
	ProductsURL, CustomersURL                string
	DeliveryMenURL, OrdersURL                string

	OrdersPool    *pgxpool.Pool
	OrdersService *orders.Service

	customersLn net.Listener
	customersUp atomic.Bool
}

var stackSeq atomic.Int64

// StartStack starts the platform for t on tp.
func StartStack(t testing.TB, tp *Temporal, o StackOptions) *Stack {
	t.Helper()
	if o.VerdictWait == 0 {
		o.VerdictWait = 10 * time.Second
	}
	if o.RetryWindow == 0 {
		o.RetryWindow = time.Minute
	}
	if o.PickupDeadline == 0 {
		o.PickupDeadline = time.Hour
	}
	s := &Stack{Users: StartUsers(t), Temporal: tp,
		TaskQueue: fmt.Sprintf("orders-test-%d-%s", stackSeq.Add(1), uuid.NewString()[:8])}
	guard := s.Users.Guard

	s.Products = httpx.New(httpx.Options{Name: "products"})
	products.Routes(s.Products, products.New(pgtest.New(t, "products", products.Migrations())), guard)
	s.ProductsURL = Serve(t, s.Products)

	s.DeliveryMen = httpx.New(httpx.Options{Name: "deliverymen"})
	deliverymen.Routes(s.DeliveryMen, deliverymen.New(pgtest.New(t, "deliverymen", deliverymen.Migrations())), guard)
	s.DeliveryMenURL = Serve(t, s.DeliveryMen)

	s.Customers = httpx.New(httpx.Options{Name: "customers"})
	customers.Routes(s.Customers, customers.New(pgtest.New(t, "customers", customers.Migrations())), guard)
	if o.LateCustomers {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		s.CustomersURL = "http://" + ln.Addr().String()
		// Keep the address but refuse connections until StartCustomers.
		ln.Close()
		s.customersLn = ln
	} else {
		s.CustomersURL = Serve(t, s.Customers)
		s.customersUp.Store(true)
	}

	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	s.OrdersPool = pgtest.New(t, "orders", orders.Migrations())
	cfg := UsersConfig(t)
	acts := activities.New(activities.Config{
		UsersURL: s.Users.URL, CustomersURL: s.CustomersURL, ProductsURL: s.ProductsURL, DeliveryMenURL: s.DeliveryMenURL,
		Tokens: auth.NewTokenSource(s.Users.URL, cfg.ServiceEmail, cfg.ServicePassword, nil),
		Pool:   s.OrdersPool,
	})
	w := worker.New(tp.Client, s.TaskQueue, worker.Options{WorkerStopTimeout: 5 * time.Second})
	workflows.Register(w, acts)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	// Registered after the databases' cleanups, so it runs before them.
	t.Cleanup(w.Stop)

	s.OrdersService = orders.New(s.OrdersPool, orders.Options{
		Temporal: tp.Client, TaskQueue: s.TaskQueue,
		VerdictWait: o.VerdictWait, RetryWindow: o.RetryWindow, PickupDeadline: o.PickupDeadline,
		DeliveryMenURL: s.DeliveryMenURL, Logger: log,
	})
	s.Orders = httpx.New(httpx.Options{Name: "orders", Logger: log})
	orders.Routes(s.Orders, s.OrdersService, guard)
	s.OrdersURL = Serve(t, s.Orders)
	return s
}

// StartCustomers starts the customers service that LateCustomers held back,
// on the address the worker already calls.
func (s *Stack) StartCustomers(t testing.TB) {
	t.Helper()
	if s.customersUp.Load() {
		return
	}
	addr := s.customersLn.Addr().String()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("customers: listen on %s again: %v", addr, err)
	}
	go func() { _ = s.Customers.Listener(ln) }()
	t.Cleanup(func() { _ = s.Customers.ShutdownWithTimeout(5 * time.Second) })
	s.customersUp.Store(true)
}

// NewProduct creates an active product and returns its id.
func (s *Stack) NewProduct(t testing.TB, price string, stock int) uuid.UUID {
	t.Helper()
	r := Do(t, s.Products, "POST", "/products", s.Users.AdminToken,
		map[string]any{"name": "Product " + uuid.NewString()[:8], "price": price, "stock": stock})
	return created(t, r)
}

// Stock returns a product's stock (units still reservable) and reserved units.
func (s *Stack) Stock(t testing.TB, id uuid.UUID) (stock, reserved int) {
	t.Helper()
	var p struct{ Stock, Reserved int }
	r := Do(t, s.Products, "GET", "/products/"+id.String(), s.Users.AdminToken, nil)
	if r.Status != 200 {
		t.Fatalf("GET product: %d %s", r.Status, r.Body)
	}
	r.JSON(t, &p)
	return p.Stock, p.Reserved
}

var personSeq atomic.Int64

func personBody(extra ...any) map[string]any {
	n := personSeq.Add(1) + time.Now().UnixNano()%1000000*100
	b := map[string]any{
		"first_name": "Ana", "paternal_surname": "Quispe", "maternal_surname": "Mamani",
		"national_id": fmt.Sprintf("%08d", 10000000+n%89999999), "email": fmt.Sprintf("p%d-%s@example.com", n, uuid.NewString()[:6]),
		"phone": "987654321", "address": "Av. Arequipa 123, Lima", "birth_date": "1990-05-04", "sex": "female",
	}
	for i := 0; i+1 < len(extra); i += 2 {
		b[extra[i].(string)] = extra[i+1]
	}
	return b
}

// NewCustomer creates a customer and returns its id.
func (s *Stack) NewCustomer(t testing.TB) uuid.UUID {
	t.Helper()
	return created(t, Do(t, s.Customers, "POST", "/customers", s.Users.AdminToken, personBody()))
}

// NewDeliveryMan creates an available delivery man of capacity, linked to the
// courier account user when it is not uuid.Nil, and returns his id.
func (s *Stack) NewDeliveryMan(t testing.TB, capacity int, user uuid.UUID) uuid.UUID {
	t.Helper()
	b := personBody("driver_license", fmt.Sprintf("Q%08d", personSeq.Add(1)%100000000), "available", true, "capacity", capacity)
	if user != uuid.Nil {
		b["user_id"] = user
	}
	return created(t, Do(t, s.DeliveryMen, "POST", "/delivery-men", s.Users.AdminToken, b))
}

// NewCourier creates a courier account and its delivery man; it returns the
// delivery man's id and the courier's token.
func (s *Stack) NewCourier(t testing.TB, capacity int) (uuid.UUID, string) {
	t.Helper()
	user, tok := s.Users.NewUser(t, auth.RoleCourier)
	return s.NewDeliveryMan(t, capacity, user), tok
}

// ActiveOrders is how many orders a delivery man carries now.
func (s *Stack) ActiveOrders(t testing.TB, id uuid.UUID) int {
	t.Helper()
	var d struct {
		ActiveOrders int `json:"active_orders"`
	}
	r := Do(t, s.DeliveryMen, "GET", "/delivery-men/"+id.String(), s.Users.AdminToken, nil)
	if r.Status != 200 {
		t.Fatalf("GET delivery man: %d %s", r.Status, r.Body)
	}
	r.JSON(t, &d)
	return d.ActiveOrders
}

func created(t testing.TB, r Response) uuid.UUID {
	t.Helper()
	if r.Status != 201 {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	var v struct {
		ID uuid.UUID `json:"id"`
	}
	r.JSON(t, &v)
	return v.ID
}
