package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/delivery/platform/internal/config"
	"github.com/delivery/platform/internal/devstack"
	"github.com/delivery/platform/internal/pg"
	"github.com/delivery/platform/internal/temporalx"
	"github.com/delivery/platform/workflows"
)

// stack is everything the harness starts: PostgreSQL databases of its own on
// the local server, a Temporal dev server with its file database in a temp
// folder, and the platform as processes of the built binary. Everything
// listens on 127.0.0.1 and is removed by close.
type stack struct {
	o      Options
	dir    string
	pgURL  string // server URL
	prefix string // of this run's databases
	pgsrv  *devstack.Postgres
	pgStop context.CancelFunc // stops a private server

	temporal     *exec.Cmd
	temporalAddr string
	tc           client.Client

	bin   string
	procs []*proc
	env   map[string]string // shared environment of every process
	urls  map[string]string // service → base URL of the main set

	adminToken   string
	adminID      uuid.UUID
	productIDs   []uuid.UUID
	customerIDs  []uuid.UUID
	courierIDs   []uuid.UUID
	ordersPool   *pgxpool.Pool
	productsDSN  string
	cleanupFuncs []func()
}

// proc is one process of the built binary.
type proc struct {
	name string
	cmd  *exec.Cmd
	url  string // "" for the worker
	done chan struct{}
}

// Fixture sizes: enough rows that lookups are spread, enough delivery-man
// capacity for every order a full run places.
const (
	nProducts  = 1000
	nCustomers = 200
	nCouriers  = 500 // × capacity 20 = 10 000 assignments
)

func (s *stack) logf(format string, args ...any) {
	fmt.Fprintf(s.o.Log, "bench: "+format+"\n", args...)
}

func startStack(ctx context.Context, o Options) (_ *stack, err error) {
	dir, err := os.MkdirTemp("", "delivery-bench-")
	if err != nil {
		return nil, err
	}
	s := &stack{o: o, dir: dir, prefix: fmt.Sprintf("bench_%d_", os.Getpid()), urls: map[string]string{}}
	defer func() {
		if err != nil {
			s.close()
		}
	}()
	wd, _ := os.Getwd()
	root, err := devstack.RepoRoot(wd)
	if err != nil {
		return nil, err
	}

	// PostgreSQL: DATABASE_URL, else the local server, else a private cluster.
	pgctx, pgStop := context.WithCancel(context.Background())
	s.pgStop = pgStop
	s.pgsrv, err = devstack.FindOrStartPostgres(pgctx, os.Getenv("DATABASE_URL"), filepath.Join(dir, "pg"), io.Discard)
	if err != nil {
		return nil, err
	}
	s.pgURL = s.pgsrv.URL
	if !loopback(s.pgURL) {
		return nil, fmt.Errorf("DATABASE_URL %s is not on loopback: the harness only targets 127.0.0.1", pg.Redact(s.pgURL))
	}

	// The binary and the temporal CLI, built in parallel.
	var wg sync.WaitGroup
	var buildErr, cliErr error
	var cli string
	wg.Add(2)
	go func() {
		defer wg.Done()
		s.bin, buildErr = s.build(ctx, root)
	}()
	go func() {
		defer wg.Done()
		cli, cliErr = devstack.TemporalBinary(ctx, root)
	}()
	wg.Wait()
	if err := errors.Join(buildErr, cliErr); err != nil {
		return nil, err
	}

	// Temporal dev server with the platform's tuning, state in a file.
	port, err := devstack.FreePort()
	if err != nil {
		return nil, err
	}
	s.temporalAddr = fmt.Sprintf("127.0.0.1:%d", port)
	logf, err := os.Create(filepath.Join(dir, "temporal.log"))
	if err != nil {
		return nil, err
	}
	s.temporal = exec.Command(cli, devstack.TemporalArgs(port, 0, filepath.Join(dir, "temporal.db"))...)
	s.temporal.Stdout, s.temporal.Stderr = logf, logf
	s.temporal.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.temporal.Start(); err != nil {
		return nil, fmt.Errorf("start temporal: %w", err)
	}
	if err := devstack.WaitTCP(ctx, s.temporalAddr, 60*time.Second); err != nil {
		return nil, fmt.Errorf("temporal dev server: %w", err)
	}
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	s.tc, err = temporalx.DialAddress(dctx, s.temporalAddr, "default", quietLogger())
	if err == nil {
		err = temporalx.EnsureSearchAttributes(dctx, s.tc, "default", workflows.SearchAttributes()...)
	}
	cancel()
	if err != nil {
		return nil, err
	}

	// The platform: one process per service and the worker.
	s.env = map[string]string{
		"DATABASE_URL":        s.pgURL,
		"TEMPORAL_ADDRESS":    s.temporalAddr,
		"TEMPORAL_NAMESPACE":  "default",
		"TEMPORAL_TASK_QUEUE": "bench",
		"PATH":                os.Getenv("PATH"),
		"HOME":                os.Getenv("HOME"),
	}
	for _, name := range config.Services {
		p, err := devstack.FreePort()
		if err != nil {
			return nil, err
		}
		key := strings.ToUpper(name)
		addr := fmt.Sprintf("127.0.0.1:%d", p)
		s.env[key+"_ADDR"] = addr
		dsn, _ := pg.WithDatabase(s.pgURL, s.prefix+name)
		s.env[key+"_DATABASE_URL"] = dsn
		s.urls[name] = "http://" + addr
	}
	s.productsDSN = s.env["PRODUCTS_DATABASE_URL"]
	for _, name := range config.Services {
		if _, err := s.start(ctx, name, nil, "serve", name); err != nil {
			return nil, err
		}
	}
	// The worker migrates the orders database too: start it once orders did.
	if _, err := s.start(ctx, "worker", nil, "worker"); err != nil {
		return nil, err
	}
	s.ordersPool, err = pg.Connect(ctx, s.env["ORDERS_DATABASE_URL"], 4)
	if err != nil {
		return nil, err
	}
	if err := s.seed(ctx); err != nil {
		return nil, fmt.Errorf("seed: %w", err)
	}
	return s, nil
}

// build compiles cmd/delivery as the services run in production.
func (s *stack) build(ctx context.Context, root string) (string, error) {
	if s.o.Bin != "" {
		return s.o.Bin, nil
	}
	out := filepath.Join(s.dir, "delivery")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "./cmd/delivery")
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build ./cmd/delivery: %v: %s", err, stderr.String())
	}
	return out, nil
}

// start runs `delivery args...` with the shared environment plus extra and
// waits until it is ready (/readyz for a service; polling Temporal for a
// worker). A service named in extra's <SVC>_ADDR listens there.
func (s *stack) start(ctx context.Context, name string, extra map[string]string, args ...string) (*proc, error) {
	env := make([]string, 0, len(s.env)+len(extra))
	merged := map[string]string{}
	for k, v := range s.env {
		merged[k] = v
	}
	for k, v := range extra {
		merged[k] = v
	}
	if args[0] == "worker" && extra["WORKER_ADDR"] == "" {
		port, err := devstack.FreePort()
		if err != nil {
			return nil, err
		}
		merged["WORKER_ADDR"] = fmt.Sprintf("127.0.0.1:%d", port)
	}
	for k, v := range merged {
		env = append(env, k+"="+v)
	}
	// Logs go to a file, as to a collector in production (the default level
	// info writes one access line per request: that is part of the cost).
	logf, err := os.Create(filepath.Join(s.dir, name+".log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(s.bin, args...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); logf.Close(); close(p.done) }()
	s.procs = append(s.procs, p)
	if args[0] == "serve" {
		p.url = "http://" + merged[strings.ToUpper(args[1])+"_ADDR"]
		if err := waitReady(ctx, p, 60*time.Second); err != nil {
			return nil, fmt.Errorf("%s: %w (log: %s)", name, err, filepath.Join(s.dir, name+".log"))
		}
	} else if err := s.waitPollers(ctx, p, merged["TEMPORAL_TASK_QUEUE"]); err != nil {
		return nil, fmt.Errorf("%s: %w (log: %s)", name, err, filepath.Join(s.dir, name+".log"))
	}
	return p, nil
}

// waitPollers waits until a worker polls its task queue.
func (s *stack) waitPollers(ctx context.Context, p *proc, queue string) error {
	deadline := time.Now().Add(60 * time.Second)
	for {
		for _, typ := range []enumspb.TaskQueueType{enumspb.TASK_QUEUE_TYPE_WORKFLOW, enumspb.TASK_QUEUE_TYPE_ACTIVITY} {
			r, err := s.tc.DescribeTaskQueue(ctx, queue, typ)
			if err == nil && len(r.GetPollers()) > 0 && typ == enumspb.TASK_QUEUE_TYPE_ACTIVITY {
				return nil
			}
			if err != nil || len(r.GetPollers()) == 0 {
				break
			}
		}
		select {
		case <-p.done:
			return errors.New("exited")
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no worker polls task queue %s", queue)
		}
	}
}

// rss reads the process' resident set (VmRSS) and its anonymous (heap,
// stacks) and file-backed (the binary's pages) parts.
func (p *proc) rss() (total, anon, file int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0, 0, 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		f := strings.Fields(v)
		if !ok || len(f) == 0 {
			continue
		}
		kb, _ := strconv.ParseInt(f[0], 10, 64)
		switch k {
		case "VmRSS":
			total = kb * 1024
		case "RssAnon":
			anon = kb * 1024
		case "RssFile":
			file = kb * 1024
		}
	}
	if total == 0 {
		return 0, 0, 0, errors.New("no VmRSS")
	}
	return total, anon, file, nil
}

// pss is the proportional set size: the binary's pages shared by the
// processes of one host counted once among them.
func (p *proc) pss() int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", p.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Pss:"); ok {
			f := strings.Fields(v)
			if len(f) > 0 {
				kb, _ := strconv.ParseInt(f[0], 10, 64)
				return kb * 1024
			}
		}
	}
	return 0
}

func (p *proc) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// close stops every process and removes the databases and files.
func (s *stack) close() {
	for i := len(s.cleanupFuncs) - 1; i >= 0; i-- {
		s.cleanupFuncs[i]()
	}
	var wg sync.WaitGroup
	for _, p := range s.procs {
		wg.Add(1)
		go func() { defer wg.Done(); p.stop() }()
	}
	wg.Wait()
	if s.ordersPool != nil {
		s.ordersPool.Close()
	}
	if s.tc != nil {
		s.tc.Close()
	}
	if s.temporal != nil && s.temporal.Process != nil {
		_ = s.temporal.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = s.temporal.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = syscall.Kill(-s.temporal.Process.Pid, syscall.SIGKILL)
		}
	}
	if s.pgURL != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if conn, err := pgx.Connect(ctx, s.pgURL); err == nil {
			for _, name := range config.Services {
				_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{s.prefix + name}.Sanitize()+" WITH (FORCE)")
			}
			conn.Close(ctx)
		}
		cancel()
	}
	if s.pgStop != nil {
		s.pgStop()
		if s.pgsrv != nil {
			_ = s.pgsrv.Wait()
		}
	}
	if s.dir != "" && os.Getenv("BENCH_KEEP") == "" {
		os.RemoveAll(s.dir)
	}
}

// seed writes the fixtures straight into the service databases (the API
// would take longer than the measurements) and logs the admin in.
func (s *stack) seed(ctx context.Context) error {
	exec := func(svc, sql string, args ...any) error {
		conn, err := pgx.Connect(ctx, s.env[strings.ToUpper(svc)+"_DATABASE_URL"])
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, sql, args...)
		return err
	}
	// Ids are a function of a number, so that pgbench can compute them too.
	if err := exec(config.Products, `INSERT INTO products (id, name, description, price, stock, active)
		SELECT `+seqID("i")+`, 'Product '||i, 'A product to measure with', 12.50, 1000000, true
		FROM generate_series(1, $1) i`, nProducts); err != nil {
		return err
	}
	person := func(table, extra, extraVals string, n int) error {
		return exec(table, `INSERT INTO `+table+` (id, first_name, paternal_surname, maternal_surname, national_id, email, phone, address, birth_date, sex`+extra+`)
			SELECT `+seqID("i")+`, 'Ana', 'Quispe', 'Mamani', lpad(i::text, 8, '0'), 'p'||i||'@example.com', '987654321',
			'Av. Arequipa 123, Lima', '1990-05-04', 'female'`+extraVals+`
			FROM generate_series(1, $1) i`, n)
	}
	if err := person("customers", "", "", nCustomers); err != nil {
		return err
	}
	if err := exec(config.DeliveryMen, `INSERT INTO delivery_men (id, first_name, paternal_surname, maternal_surname, national_id, email, phone, address, birth_date, sex, driver_license, available, capacity)
		SELECT `+seqID("i")+`, 'Luis', 'Quispe', 'Mamani', lpad(i::text, 8, '0'), 'd'||i||'@example.com', '987654321',
		'Av. Arequipa 123, Lima', '1990-05-04', 'male', 'Q'||lpad(i::text, 8, '0'), true, 20
		FROM generate_series(1, $1) i`, nCouriers); err != nil {
		return err
	}
	for i := 1; i <= nProducts; i++ {
		s.productIDs = append(s.productIDs, idOf(i))
	}
	for i := 1; i <= nCustomers; i++ {
		s.customerIDs = append(s.customerIDs, idOf(i))
	}
	for i := 1; i <= nCouriers; i++ {
		s.courierIDs = append(s.courierIDs, idOf(i))
	}
	tok, err := login(ctx, s.urls[config.Users], config.DevAdminEmail, config.DevAdminPassword)
	if err != nil {
		return err
	}
	s.adminToken = tok
	s.adminID, err = tokenSubject(tok)
	return err
}

// seqID is the SQL of the uuid idOf(n) for the integer expression n.
func seqID(n string) string {
	return `('00000000-0000-7000-8000-' || lpad(to_hex(` + n + `), 12, '0'))::uuid`
}

func idOf(n int) uuid.UUID {
	return uuid.MustParse(fmt.Sprintf("00000000-0000-7000-8000-%012x", n))
}

func login(ctx context.Context, usersURL, email, password string) (string, error) {
	body, _ := json.Marshal(map[string]string{"email": email, "password": password})
	req, _ := http.NewRequestWithContext(ctx, "POST", usersURL+"/auth/login", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
	}
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		return "", fmt.Errorf("login: %d %s", resp.StatusCode, b)
	}
	return out.AccessToken, json.NewDecoder(resp.Body).Decode(&out)
}

// tokenSubject reads the sub claim of a token this harness was just given.
func tokenSubject(tok string) (uuid.UUID, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return uuid.Nil, errors.New("not a JWT")
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return uuid.Nil, err
	}
	var c struct {
		Sub string `json:"sub"`
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return uuid.Nil, err
	}
	return uuid.Parse(c.Sub)
}

func loopback(dsn string) bool {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return false
	}
	if strings.HasPrefix(cfg.Host, "/") { // a Unix socket is local too
		return true
	}
	ip := net.ParseIP(cfg.Host)
	return cfg.Host == "localhost" || ip != nil && ip.IsLoopback()
}

func waitReady(ctx context.Context, p *proc, d time.Duration) error {
	hc := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(d)
	for {
		resp, err := hc.Get(p.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		select {
		case <-p.done:
			return errors.New("exited")
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready at %s: %v", p.url, err)
		}
	}
}
