package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/valyala/fasthttp"
	"go.temporal.io/sdk/worker"

	"github.com/delivery/platform/activities"
	"github.com/delivery/platform/internal/auth"
	"github.com/delivery/platform/internal/config"
	"github.com/delivery/platform/internal/devstack"
	"github.com/delivery/platform/internal/pg"
	"github.com/delivery/platform/services/orders/db"
)

// row is one line of the table.
type row struct {
	measure, value, baseline string
	ratio                    float64 // 0: none
	target                   string
	met                      string // "yes", "NO", or "" (reported only)
}

type table struct {
	rows    []row
	choices []row
}

func (t *table) add(r row)    { t.rows = append(t.rows, r) }
func (t *table) choice(r row) { t.choices = append(t.choices, r) }

func (t *table) print(w io.Writer) {
	write := func(title string, rows []row) {
		if len(rows) == 0 {
			return
		}
		fmt.Fprintf(w, "\n%s\n", title)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "measure\tvalue\tbaseline (same run)\tratio\ttarget\tmet")
		for _, r := range rows {
			ratio := ""
			if r.ratio != 0 {
				ratio = fmt.Sprintf("%.2f", r.ratio)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.measure, r.value, r.baseline, ratio, r.target, r.met)
		}
		tw.Flush()
	}
	write("TARGETS", t.rows)
	write("CHOICES (each against the alternative, same run)", t.choices)
}

func yes(ok bool) string {
	if ok {
		return "yes"
	}
	return "NO"
}

func measure(ctx context.Context, s *stack, t *table) error {
	o := s.o
	fl, err := startFloor(s.tc, "bench-floor", worker.Options{})
	if err != nil {
		return err
	}
	defer fl.stop()

	// Warm up every path once: connections, prepared statements, tokens,
	// the worker's first poll.
	oc := newOrderClient(s, s.urls[config.Orders])
	if err := oc.place(ctx); err != nil {
		return fmt.Errorf("warm-up order: %w", err)
	}
	if err := fl.verdict(ctx, sagaLocal); err != nil {
		return err
	}
	orig := newOriginal(s)
	if err := orig.place(ctx); err != nil {
		return fmt.Errorf("original path: %w", err)
	}

	// Idle RSS first, before any load grew the heaps.
	time.Sleep(2 * time.Second)
	rss := map[string][4]int64{}
	for _, p := range s.procs {
		v, anon, file, err := p.rss()
		if err != nil {
			return err
		}
		rss[p.name] = [4]int64{v, anon, file, p.pss()}
	}

	// 1. Lookups: GET /products/{id} against pgbench select-only, same N.
	s.logf("lookups: GET /products/{id} vs pgbench -S, %d clients", o.Clients)
	httpRate, pgRate, err := lookupPair(ctx, s, s.urls[config.Products], o.Clients)
	if err != nil {
		return err
	}
	t.add(row{measure: fmt.Sprintf("GET /products/{id} req/s, %d clients (auth on)", o.Clients),
		value: fmt.Sprintf("%.0f req/s", httpRate), baseline: fmt.Sprintf("%s %.0f tps", lookupBaseline(), pgRate),
		ratio: httpRate / pgRate, target: "≥ 0.5", met: yes(httpRate/pgRate >= 0.5)})

	if o.Part == "lookup" {
		return measureChoices(ctx, s, t, fl)
	}

	// 2. Verdict latency, interleaved with the floor and the original path.
	s.logf("verdict latency: %d orders, floors and original-design orders interleaved", o.LatencyRuns)
	lats, err := sequential(ctx, o.LatencyRuns,
		func() error { return oc.place(ctx) },
		func() error { return fl.verdict(ctx, sagaLocal) },
		func() error { return orig.place(ctx) })
	if err != nil {
		return err
	}
	order, floorLat, original := lats[0], lats[1], lats[2]
	r50 := float64(order.p50) / float64(floorLat.p50)
	t.add(row{measure: "order verdict p50 (POST /orders → 201)", value: ms(order.p50),
		baseline: "no-op workflow 4+1 " + floorKind + " activities " + ms(floorLat.p50), ratio: r50, target: "≤ 1.3", met: yes(r50 <= 1.3)})
	t.add(row{measure: "order verdict p99", value: ms(order.p99), baseline: "no-op workflow " + ms(floorLat.p99),
		ratio: float64(order.p99) / float64(floorLat.p99), target: "reported"})

	// 3. Every dependency 50 ms slower: the checks run in parallel.
	s.logf("verdict with each dependency delayed by 50 ms: %d orders", o.DelayRuns)
	slowURL, err := s.startDelayed(ctx, 50*time.Millisecond)
	if err != nil {
		return err
	}
	slow := newOrderClient(s, slowURL)
	if err := slow.place(ctx); err != nil {
		return fmt.Errorf("warm-up delayed order: %w", err)
	}
	lats, err = sequential(ctx, o.DelayRuns,
		func() error { return slow.place(ctx) },
		func() error { return fl.verdict(ctx, sagaLocal) })
	if err != nil {
		return err
	}
	want := 50*time.Millisecond + lats[1].p50
	rd := float64(lats[0].p50) / float64(want)
	t.add(row{measure: "verdict p50, 4 dependencies +50 ms each", value: ms(lats[0].p50),
		baseline: "50 ms + floor " + ms(lats[1].p50) + " = " + ms(want), ratio: rd, target: "≤ 1.3", met: yes(rd <= 1.3)})

	// 4. Sustained orders/s against no-op workflows/s, closed loops.
	s.logf("sustained: %d starters, %s per trial, %d round(s)", o.Starters, o.Sustain, o.Rounds)
	var oRates, fRates []float64
	var oErrs int64
	var oFirst error
	for range o.Rounds {
		lo := closedLoop(ctx, o.Starters, o.Sustain, func(int) func() error {
			c := newOrderClient(s, s.urls[config.Orders])
			return func() error { return c.place(ctx) }
		})
		lf := closedLoop(ctx, o.Starters, o.Sustain, func(int) func() error {
			return func() error { return fl.verdict(ctx, sagaLocal) }
		})
		oRates, fRates = append(oRates, lo.rate()), append(fRates, lf.rate())
		oErrs += lo.errs + lf.errs
		if oFirst == nil {
			oFirst = lo.firstErr
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	or, fr := median(oRates), median(fRates)
	errNote := ""
	if oErrs > 0 {
		errNote = fmt.Sprintf(", %d errors: %v", oErrs, oFirst)
	}
	t.add(row{measure: fmt.Sprintf("sustained orders/s, closed loop %d", o.Starters), value: fmt.Sprintf("%.1f/s%s", or, errNote),
		baseline: fmt.Sprintf("no-op workflows/s %.1f", fr), ratio: or / fr, target: "≥ 0.8, no errors", met: yes(or/fr >= 0.8 && oErrs == 0)})

	// 5. The price of durability.
	t.add(row{measure: "price of durability: saga verdict p50 / p99", value: ms(order.p50) + " / " + ms(order.p99),
		baseline: "original path (4 sequential HTTP checks + INSERT) " + ms(original.p50) + " / " + ms(original.p99),
		ratio:    float64(order.p50) / float64(original.p50), target: "reported"})

	// 6. Idle RSS of each process of the built binary.
	for _, p := range s.procs {
		v, ok := rss[p.name]
		if !ok {
			continue
		}
		limit := int64(30)
		if p.name == "worker" {
			limit = 60
		}
		mb := float64(v[0]) / (1 << 20)
		t.add(row{measure: "idle RSS " + p.name, value: fmt.Sprintf("%.1f MB (anon %.1f + binary pages %.1f; PSS %.1f)", mb,
			float64(v[1])/(1<<20), float64(v[2])/(1<<20), float64(v[3])/(1<<20)), baseline: "—",
			target: fmt.Sprintf("≤ %d MB", limit), met: yes(mb <= float64(limit))})
	}

	if s.o.Choices {
		return measureChoices(ctx, s, t, fl)
	}
	return nil
}

// startDelayed starts a second worker with DEPENDENCY_DELAY on its own task
// queue and an orders service that starts its workflows there.
func (s *stack) startDelayed(ctx context.Context, d time.Duration) (string, error) {
	port, err := devstack.FreePort()
	if err != nil {
		return "", err
	}
	queue := "bench-delayed"
	if _, err := s.start(ctx, "worker-delayed", map[string]string{"TEMPORAL_TASK_QUEUE": queue, "DEPENDENCY_DELAY": d.String()}, "worker"); err != nil {
		return "", err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	p, err := s.start(ctx, "orders-delayed", map[string]string{"TEMPORAL_TASK_QUEUE": queue, "ORDERS_ADDR": addr}, "serve", config.Orders)
	if err != nil {
		return "", err
	}
	return p.url, nil
}

// lookupPair alternates pgbench and the HTTP lookup, o.Rounds times each,
// and returns the medians.
func lookupPair(ctx context.Context, s *stack, url string, clients int) (httpRate, pgRate float64, err error) {
	var hs, ps []float64
	// Warm the service's pool and prepared statements.
	closedLoop(ctx, clients, 500*time.Millisecond, s.getter(url))
	for range s.o.Rounds {
		p, err := s.pgbench(ctx, clients, s.o.LookupTime)
		if err != nil {
			return 0, 0, err
		}
		l := closedLoop(ctx, clients, s.o.LookupTime, s.getter(url))
		if l.errs > 0 {
			return 0, 0, fmt.Errorf("GET %s: %d errors, first: %v", url, l.errs, l.firstErr)
		}
		ps, hs = append(ps, p), append(hs, l.rate())
	}
	return median(hs), median(ps), nil
}

// getter is a lean keep-alive HTTP client (fasthttp, no allocation per
// request) so that the load generator takes as little of the 2 cores as
// pgbench's C client does.
func (s *stack) getter(base string) func(int) func() error {
	hc := &fasthttp.HostClient{Addr: strings.TrimPrefix(base, "http://"), MaxConns: 1024}
	auth := "Bearer " + s.adminToken
	return func(i int) func() error {
		rng := rand.New(rand.NewPCG(uint64(i), 42))
		req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		req.Header.Set("Authorization", auth)
		return func() error {
			req.SetRequestURI(base + "/products/" + s.productIDs[rng.IntN(len(s.productIDs))].String())
			if err := hc.Do(req, resp); err != nil {
				return err
			}
			if resp.StatusCode() != 200 {
				return fmt.Errorf("GET product: %d %s", resp.StatusCode(), resp.Body())
			}
			return nil
		}
	}
}

var tpsRE = regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection`)

// pgbench runs the select-only uuid lookup (pgbench -S's shape, on the
// products table) with the same clients, prepared statements as pgx uses.
func (s *stack) pgbench(ctx context.Context, clients int, d time.Duration) (float64, error) {
	bin, err := exec.LookPath("pgbench")
	if err != nil {
		return s.pgxLookups(ctx, clients, d)
	}
	script := filepath.Join(s.dir, "lookup.sql")
	body := fmt.Sprintf("\\set i random(1, %d)\nSELECT * FROM products WHERE id = %s;\n", nProducts, seqID(":i::integer"))
	if err := os.WriteFile(script, []byte(body), 0o644); err != nil {
		return 0, err
	}
	secs := max(1, int(d.Round(time.Second)/time.Second))
	cmd := exec.CommandContext(ctx, bin, "-n", "-M", "prepared", "-c", strconv.Itoa(clients),
		"-j", strconv.Itoa(min(clients, runtime.NumCPU())), "-T", strconv.Itoa(secs), "-f", script, s.productsDSN)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("pgbench: %v: %s", err, out)
	}
	m := tpsRE.FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("pgbench: no tps in %s", out)
	}
	return strconv.ParseFloat(string(m[1]), 64)
}

// pgxLookups is the baseline when pgbench is not installed (Debian package
// postgresql-client): the same select-only uuid lookup from Go, one pgx
// connection per client, prepared statement.
func (s *stack) pgxLookups(ctx context.Context, clients int, d time.Duration) (float64, error) {
	conns := make([]*pgx.Conn, clients)
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.Close(context.Background())
			}
		}
	}()
	for i := range conns {
		c, err := pgx.Connect(ctx, s.productsDSN)
		if err != nil {
			return 0, err
		}
		conns[i] = c
	}
	l := closedLoop(ctx, clients, d, func(i int) func() error {
		rng := rand.New(rand.NewPCG(uint64(i), 7))
		c := conns[i]
		return func() error {
			rows, err := c.Query(ctx, "SELECT * FROM products WHERE id = $1", s.productIDs[rng.IntN(len(s.productIDs))])
			if err != nil {
				return err
			}
			rows.Close()
			return rows.Err()
		}
	})
	if l.errs > 0 {
		return 0, l.firstErr
	}
	return l.rate(), nil
}

// lookupBaseline names the baseline the lookups were measured against.
func lookupBaseline() string {
	if _, err := exec.LookPath("pgbench"); err != nil {
		return "pgx select-only uuid lookup (pgbench not installed: apt-get install postgresql-client)"
	}
	return "pgbench -S -M prepared (uuid lookup)"
}

// orderClient places valid orders through POST /orders.
type orderClient struct {
	s    *stack
	url  string
	hc   *http.Client
	rng  *rand.Rand
	auth string
}

func newOrderClient(s *stack, base string) *orderClient {
	return &orderClient{s: s, url: base + "/orders", auth: "Bearer " + s.adminToken,
		hc:  &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256}},
		rng: rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))}
}

func (c *orderClient) body() []byte {
	s := c.s
	b, _ := json.Marshal(map[string]any{
		"customer_id":      s.customerIDs[c.rng.IntN(len(s.customerIDs))],
		"delivery_man_id":  s.courierIDs[c.rng.IntN(len(s.courierIDs))],
		"items":            []map[string]any{{"product_id": s.productIDs[c.rng.IntN(len(s.productIDs))], "quantity": 1}},
		"phone":            "987654321",
		"delivery_address": "Av. Arequipa 123, Lima",
		"deliver_at":       time.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339),
	})
	return b
}

func (c *orderClient) place(ctx context.Context) error {
	req, _ := http.NewRequestWithContext(ctx, "POST", c.url, bytes.NewReader(c.body()))
	req.Header.Set("Authorization", c.auth)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 201 {
		return fmt.Errorf("POST /orders: %d %s", resp.StatusCode, b)
	}
	return nil
}

// original is the original design's order path, in this process: the four
// checks one after the other over HTTP (the very calls the saga's activities
// make), then one INSERT of the order. No retries, no durability.
type original struct {
	s   *stack
	a   *activities.Activities
	q   *db.Queries
	rng *rand.Rand
}

func newOriginal(s *stack) *original {
	return &original{s: s, q: db.New(s.ordersPool), rng: rand.New(rand.NewPCG(7, 7)),
		a: activities.New(activities.Config{
			UsersURL: s.urls[config.Users], CustomersURL: s.urls[config.Customers],
			ProductsURL: s.urls[config.Products], DeliveryMenURL: s.urls[config.DeliveryMen],
			Tokens: auth.NewTokenSource(s.urls[config.Users], config.DevServiceEmail, config.DevServicePassword, nil),
			Pool:   s.ordersPool,
		})}
}

func (o *original) place(ctx context.Context) error {
	s := o.s
	id := uuid.Must(uuid.NewV7())
	cust := s.customerIDs[o.rng.IntN(len(s.customerIDs))]
	courier := s.courierIDs[o.rng.IntN(len(s.courierIDs))]
	item := activities.Item{ProductID: s.productIDs[o.rng.IntN(len(s.productIDs))], Quantity: 1}
	if err := o.a.CheckUser(ctx, s.adminID); err != nil {
		return err
	}
	if err := o.a.CheckCustomer(ctx, cust); err != nil {
		return err
	}
	if _, err := o.a.ReserveStock(ctx, activities.ReserveInput{OrderID: id, Items: []activities.Item{item}}); err != nil {
		return err
	}
	if err := o.a.AssignCourier(ctx, activities.AssignInput{OrderID: id, DeliveryManID: courier}); err != nil {
		return err
	}
	return pg.Tx(ctx, s.ordersPool, func(tx pgx.Tx) error {
		q := o.q.WithTx(tx)
		if _, err := q.CreateOrder(ctx, db.CreateOrderParams{ID: id, UserID: s.adminID, CustomerID: cust, DeliveryManID: courier,
			Phone: "987654321", DeliveryAddress: "Av. Arequipa 123, Lima", DeliverAt: time.Now().Add(24 * time.Hour),
			RequestHash: "original"}); err != nil {
			return err
		}
		return q.AddOrderItem(ctx, db.AddOrderItemParams{OrderID: id, Line: 0, ProductID: item.ProductID, Quantity: 1})
	})
}

// The saga runs its four checks and its commit as local activities (version 1
// of workflows' local-checks change), so its floor does too: the same number
// and kind of activities.
const (
	sagaLocal = true
	floorKind = "local"
)
