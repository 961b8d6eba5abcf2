package faults

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/delivery/platform/internal/config"
	"github.com/delivery/platform/internal/devstack"
	"github.com/delivery/platform/internal/pg"
	"github.com/delivery/platform/internal/pgtest"
	"github.com/delivery/platform/internal/temporalx"
	"github.com/delivery/platform/workflows"
)

// long is set by `make test-faults`: the sizes of issue 5 instead of the
// short versions that run in `make test`.
var long = os.Getenv("FAULTS") == "long"

// size picks the short or the long figure.
func size[T any](short, full T) T {
	if long {
		return full
	}
	return short
}

var (
	buildOnce  sync.Once
	buildDir   string
	binPath    string
	cliPath    string
	errBuild   error
	repoRoot   string
	quietSlog  = slog.New(slog.NewTextHandler(io.Discard, nil))
	httpClient = &http.Client{Timeout: 15 * time.Second}
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// binaries builds cmd/delivery once per run and finds the pinned temporal CLI.
func binaries(t *testing.T) (bin, cli string) {
	t.Helper()
	buildOnce.Do(func() {
		wd, _ := os.Getwd()
		if repoRoot, errBuild = devstack.RepoRoot(wd); errBuild != nil {
			return
		}
		if buildDir, errBuild = os.MkdirTemp("", "faults-bin-"); errBuild != nil {
			return
		}
		binPath = filepath.Join(buildDir, "delivery")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/delivery")
		cmd.Dir = repoRoot
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			errBuild = fmt.Errorf("go build ./cmd/delivery: %v: %s", err, stderr.String())
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		cliPath, errBuild = devstack.TemporalBinary(ctx, repoRoot)
	})
	if errBuild != nil {
		t.Fatal(errBuild)
	}
	return binPath, cliPath
}

// proc is one process this package started, in its own process group.
type proc struct {
	name string
	args []string
	env  []string
	log  string
	cmd  *exec.Cmd
	done chan struct{}
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

func (p *proc) alive() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// signal sends sig to the process group and waits up to wait for the exit
// (then kills it).
func (p *proc) signal(sig syscall.Signal, wait time.Duration) {
	if !p.alive() {
		return
	}
	_ = syscall.Kill(-p.pid(), sig)
	select {
	case <-p.done:
		return
	case <-time.After(wait):
	}
	// Stuck: SIGQUIT makes a Go process write every goroutine's stack to its
	// log before it dies, so the teardown's failure can be read afterwards.
	_ = syscall.Kill(-p.pid(), syscall.SIGQUIT)
	select {
	case <-p.done:
	case <-time.After(3 * time.Second):
		_ = syscall.Kill(-p.pid(), syscall.SIGKILL)
		<-p.done
	}
}

// stack is one scenario's platform: the five services and the worker as
// processes of the built binary, a Temporal dev server of its own (state in a
// file, so it can be restarted), and fresh databases on a PostgreSQL server.
type stack struct {
	t      *testing.T
	dir    string
	pgURL  string // server URL
	prefix string // of this stack's databases
	env    map[string]string
	urls   map[string]string // service → base URL
	procs  map[string]*proc  // by service name, "worker", "temporal"
	mu     sync.Mutex

	temporalPort int
	temporalDB   string
	tc           client.Client

	admin    string // admin token
	ordersDB *pgxpool.Pool
}

type stackOptions struct {
	pgURL       string // PostgreSQL server; "" = the test server (pgtest.ServerURL)
	verdictWait time.Duration
	retryWindow time.Duration
}

var stackSeq int

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startStack brings the whole platform up for t and registers its teardown.
func startStack(t *testing.T, o stackOptions) *stack {
	t.Helper()
	if testing.Short() {
		t.Skip("fault scenarios start the whole platform")
	}
	bin, _ := binaries(t)
	if o.pgURL == "" {
		o.pgURL = pgtest.ServerURL()
	}
	if o.verdictWait == 0 {
		o.verdictWait = 3 * time.Second
	}
	if o.retryWindow == 0 {
		o.retryWindow = 5 * time.Minute
	}
	stackSeq++
	began := time.Now()
	s := &stack{
		t: t, dir: t.TempDir(), pgURL: o.pgURL,
		prefix: fmt.Sprintf("faults_%d_%d_", os.Getpid(), stackSeq),
		urls:   map[string]string{}, procs: map[string]*proc{},
	}
	t.Cleanup(s.teardown)

	s.temporalPort = freePort(t)
	s.temporalDB = filepath.Join(s.dir, "temporal.db")
	s.startTemporal()

	s.env = map[string]string{
		"PATH":                os.Getenv("PATH"),
		"HOME":                os.Getenv("HOME"),
		"DATABASE_URL":        o.pgURL,
		"TEMPORAL_ADDRESS":    s.temporalAddr(),
		"TEMPORAL_NAMESPACE":  "default",
		"TEMPORAL_TASK_QUEUE": "faults",
		"WORKER_ADDR":         fmt.Sprintf("127.0.0.1:%d", freePort(t)),
		"ORDER_VERDICT_WAIT":  o.verdictWait.String(),
		"ORDER_RETRY_WINDOW":  o.retryWindow.String(),
		// Modest pools: the local server is shared with other tests and
		// benchmarks (six processes hold at most 24 connections).
		"DB_MAX_CONNS":    "4",
		"LOG_FORMAT":      "text",
		"REVOCATION_POLL": "1s",
	}
	for _, name := range config.Services {
		key := strings.ToUpper(name)
		addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
		s.env[key+"_ADDR"] = addr
		dsn, err := pg.WithDatabase(o.pgURL, s.prefix+name)
		if err != nil {
			t.Fatal(err)
		}
		s.env[key+"_DATABASE_URL"] = dsn
		s.urls[name] = "http://" + addr
	}
	s.urls["worker"] = "http://" + s.env["WORKER_ADDR"]
	for _, name := range config.Services {
		s.start(name, bin, "serve", name)
	}
	s.start("worker", bin, "worker")

	var err error
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if s.ordersDB, err = pg.Connect(ctx, s.env["ORDERS_DATABASE_URL"], 2); err != nil {
		t.Fatal(err)
	}
	s.admin = s.login(t)
	t.Logf("platform up in %s (Temporal, five services, worker)", time.Since(began).Round(100*time.Millisecond))
	return s
}

func (s *stack) temporalAddr() string { return fmt.Sprintf("127.0.0.1:%d", s.temporalPort) }

// startTemporal starts the dev server on the stack's port and file (again,
// after a restart) and waits until it answers with the search attributes.
func (s *stack) startTemporal() {
	t := s.t
	t.Helper()
	_, cli := binaries(t)
	p := s.spawn("temporal", cli, nil, devstack.TemporalArgs(s.temporalPort, 0, s.temporalDB)...)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	for {
		c, err := net.DialTimeout("tcp", s.temporalAddr(), time.Second)
		if err == nil {
			c.Close()
			break
		}
		if !p.alive() || ctx.Err() != nil {
			t.Fatalf("the Temporal dev server did not start: %s", s.tail("temporal"))
		}
		time.Sleep(100 * time.Millisecond)
	}
	if s.tc == nil {
		tc, err := temporalx.DialAddress(ctx, s.temporalAddr(), "default", quietSlog)
		if err != nil {
			t.Fatal(err)
		}
		s.tc = tc
	}
	// After a restart the client's connection may still be in its reconnect
	// backoff: repeat until the server answers.
	for {
		err := temporalx.EnsureSearchAttributes(ctx, s.tc, "default", workflows.SearchAttributes()...)
		if err == nil {
			break
		}
		if !p.alive() || ctx.Err() != nil {
			t.Fatalf("temporal: %v%s", err, s.tail("temporal"))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// spawn starts one process in its own process group, logging to a file.
func (s *stack) spawn(name, bin string, env []string, args ...string) *proc {
	t := s.t
	t.Helper()
	logPath := filepath.Join(s.dir, name+".log")
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatalf("start %s: %v", name, err)
	}
	p := &proc{name: name, args: args, env: env, log: logPath, cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); logf.Close(); close(p.done) }()
	s.mu.Lock()
	s.procs[name] = p
	s.mu.Unlock()
	return p
}

func (s *stack) environ() []string {
	env := make([]string, 0, len(s.env))
	for k, v := range s.env {
		env = append(env, k+"="+v)
	}
	return env
}

// start runs `delivery args...` as name and waits until it is ready: /readyz
// answers 200 (and, for the worker, it polls the task queue).
func (s *stack) start(name, bin string, args ...string) *proc {
	t := s.t
	t.Helper()
	p := s.spawn(name, bin, s.environ(), args...)
	deadline := time.Now().Add(60 * time.Second)
	for !s.ready(name) {
		if !p.alive() || time.Now().After(deadline) {
			t.Fatalf("%s did not become ready: %s", name, s.tail(name))
		}
		time.Sleep(100 * time.Millisecond)
	}
	if name == "worker" {
		s.waitPolling(p)
	}
	return p
}

// restart starts a stopped process again with the same arguments.
func (s *stack) restart(name string) *proc {
	s.t.Helper()
	if name == "temporal" {
		s.startTemporal()
		return s.proc(name)
	}
	p := s.proc(name)
	bin, _ := binaries(s.t)
	return s.start(name, bin, p.args...)
}

func (s *stack) proc(name string) *proc {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.procs[name]
}

// kill stops name with sig and waits for it to exit.
func (s *stack) kill(name string, sig syscall.Signal) {
	s.proc(name).signal(sig, 20*time.Second)
}

// waitPolling waits until the worker process p polls both task queue types.
func (s *stack) waitPolling(p *proc) {
	t := s.t
	t.Helper()
	prefix := fmt.Sprintf("%d@", p.pid())
	deadline := time.Now().Add(60 * time.Second)
	for {
		polling := 0
		for _, typ := range []enumspb.TaskQueueType{enumspb.TASK_QUEUE_TYPE_WORKFLOW, enumspb.TASK_QUEUE_TYPE_ACTIVITY} {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			r, err := s.tc.DescribeTaskQueue(ctx, "faults", typ)
			cancel()
			if err != nil {
				continue
			}
			for _, pl := range r.GetPollers() {
				if strings.HasPrefix(pl.GetIdentity(), prefix) {
					polling++
					break
				}
			}
		}
		if polling == 2 {
			return
		}
		if !p.alive() || time.Now().After(deadline) {
			t.Fatalf("the worker does not poll: %s", s.tail("worker"))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// ready reports whether name's /readyz answers 200.
func (s *stack) ready(name string) bool {
	return s.readyz(name) == http.StatusOK
}

// readyz is the status of name's /readyz (0: no answer).
func (s *stack) readyz(name string) int {
	c := &http.Client{Timeout: 3 * time.Second}
	resp, err := c.Get(s.urls[name] + "/readyz")
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// tail is the end of name's log, for failure messages.
func (s *stack) tail(name string) string {
	b, _ := os.ReadFile(filepath.Join(s.dir, name+".log"))
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return fmt.Sprintf("\n--- %s log (end) ---\n%s", name, b)
}

// teardown stops every process (services and worker first, Temporal last)
// and drops the stack's databases.
func (s *stack) teardown() {
	s.mu.Lock()
	procs := make([]*proc, 0, len(s.procs))
	for _, p := range s.procs {
		procs = append(procs, p)
	}
	s.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range procs {
		if p.name == "temporal" {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			t0 := time.Now()
			p.signal(syscall.SIGTERM, 10*time.Second)
			if d := time.Since(t0); d > 2*time.Second {
				s.t.Logf("teardown: %s took %s to stop", p.name, d.Round(100*time.Millisecond))
			}
		}()
	}
	wg.Wait()
	if s.t.Failed() {
		for _, p := range procs {
			if p.name != "temporal" {
				s.t.Log(s.tail(p.name))
			}
		}
	}
	if p := s.proc("temporal"); p != nil {
		p.signal(syscall.SIGTERM, 10*time.Second)
	}
	// FAULTS_LOGS=<dir> keeps every process's log (the temp dir goes away).
	if keep := os.Getenv("FAULTS_LOGS"); keep != "" {
		dst := filepath.Join(keep, strings.ReplaceAll(s.t.Name(), "/", "_"))
		if err := os.MkdirAll(dst, 0o755); err == nil {
			logs, _ := filepath.Glob(filepath.Join(s.dir, "*.log"))
			for _, l := range logs {
				if b, err := os.ReadFile(l); err == nil {
					_ = os.WriteFile(filepath.Join(dst, filepath.Base(l)), b, 0o644)
				}
			}
		}
	}
	if s.tc != nil {
		s.tc.Close()
	}
	if s.ordersDB != nil {
		s.ordersDB.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, s.pgURL)
	if err != nil {
		return
	}
	defer c.Close(ctx)
	for _, name := range config.Services {
		_, _ = c.Exec(ctx, fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", pgx.Identifier{s.prefix + name}.Sanitize()))
	}
}
