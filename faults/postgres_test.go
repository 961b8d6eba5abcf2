package faults

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/delivery/platform/internal/config"
)

// cluster is a private PostgreSQL cluster in a temp folder, run with pg_ctl
// (as the postgres user when the test runs as root), so it can be restarted.
type cluster struct {
	bin, dir, data string
	port           int
	url            string
}

func startCluster(t *testing.T) *cluster {
	t.Helper()
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool {
		a, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[i])))
		b, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[j])))
		return a < b
	})
	c := &cluster{}
	for i := len(dirs) - 1; i >= 0 && c.bin == ""; i-- {
		if _, err := os.Stat(filepath.Join(dirs[i], "pg_ctl")); err == nil {
			c.bin = dirs[i]
		}
	}
	if c.bin == "" {
		t.Skip("no PostgreSQL server binaries under /usr/lib/postgresql/*/bin: the restart scenario needs a private cluster")
	}
	dir, err := os.MkdirTemp("", "faults-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	c.dir, c.data = dir, filepath.Join(dir, "data")
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Skip("running as root needs a postgres system user for the private cluster")
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	c.run(t, "initdb", "-D", c.data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
	c.port = freePort(t)
	c.url = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", c.port)
	c.start(t)
	t.Cleanup(func() { _ = c.pgctl("-m", "immediate", "stop") })
	return c
}

func (c *cluster) command(name string, args ...string) *exec.Cmd {
	path := filepath.Join(c.bin, name)
	if os.Geteuid() == 0 {
		return exec.Command("runuser", append([]string{"-u", "postgres", "--", path}, args...)...)
	}
	return exec.Command(path, args...)
}

func (c *cluster) run(t *testing.T, name string, args ...string) {
	t.Helper()
	cmd := c.command(name, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\n%s", name, err, out.String())
	}
}

func (c *cluster) pgctl(args ...string) error {
	cmd := c.command("pg_ctl", append([]string{"-D", c.data, "-w", "-t", "60"}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("pg_ctl %v: %v: %s", args, err, out)
	}
	return nil
}

func (c *cluster) start(t *testing.T) {
	t.Helper()
	opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -c unix_socket_directories=%s -c max_connections=100", c.port, c.dir)
	if err := c.pgctl("-l", filepath.Join(c.dir, "server.log"), "-o", opts, "start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(c.dir, "server.log"))
		t.Fatalf("%v\n%s", err, log)
	}
}

// TestPostgresRestarted: the platform's PostgreSQL is stopped (immediate
// shutdown, as a crash) and started again while clients place orders. While
// it is down every service's /readyz answers 503; the services and the worker
// recover without a restart; every order a client was told about exists and
// gets its verdict; none is lost or doubled.
func TestPostgresRestarted(t *testing.T) {
	outage := size(5*time.Second, 20*time.Second)
	before := size(3*time.Second, 10*time.Second)
	after := size(3*time.Second, 10*time.Second)
	const clients = 4
	maxOrders := size(150, 400)
	c := startCluster(t)
	s := startStack(t, stackOptions{pgURL: c.url, verdictWait: 2 * time.Second})
	w := s.newWorld(t, maxOrders)
	pids := map[string]int{}
	for name, p := range s.procs {
		pids[name] = p.pid()
	}

	var stop atomic.Bool
	var mu sync.Mutex
	var all []placed
	var wg sync.WaitGroup
	var next atomic.Int64
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				i := int(next.Add(1)) - 1
				if i >= maxOrders {
					return
				}
				p := s.place(w.valid(i), fmt.Sprintf("pg-%d", i), 2*time.Minute)
				mu.Lock()
				all = append(all, p)
				mu.Unlock()
				time.Sleep(250 * time.Millisecond)
			}
		}()
	}
	time.Sleep(before)

	if err := c.pgctl("-m", "immediate", "stop"); err != nil {
		t.Fatal(err)
	}
	downAt := time.Now()
	services := append(append([]string{}, config.Services...), "worker")
	unready := map[string]bool{}
	for time.Since(downAt) < outage {
		for _, name := range services {
			if code := s.readyz(name); code == 503 {
				unready[name] = true
			} else if code != 0 && !unready[name] {
				t.Logf("%s /readyz answered %d %s after the stop", name, code, time.Since(downAt).Round(100*time.Millisecond))
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	c.start(t)
	upAt := time.Now()
	for _, name := range services {
		if !unready[name] {
			t.Errorf("%s /readyz never reported the outage (503)", name)
		}
	}
	for _, name := range services {
		for !s.ready(name) {
			if time.Since(upAt) > time.Minute {
				t.Fatalf("%s not ready a minute after PostgreSQL came back", name)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	recovered := time.Since(upAt)
	time.Sleep(after)
	stop.Store(true)
	wg.Wait()
	for name, p := range s.procs {
		if p.pid() != pids[name] || !p.alive() {
			t.Errorf("%s was restarted or died", name)
		}
	}

	ids, codes := checkPlaced(t, all)
	retried := 0
	failed := map[string]int{}
	for _, p := range all {
		if p.tries > 1 {
			retried++
		}
		for k, v := range p.failed {
			failed[k] += v
		}
	}
	for code, n := range failed {
		if code != "503" && code != "conn" {
			t.Errorf("%d answers %s while PostgreSQL was down (want 503: try again)", n, code)
		}
	}
	s.waitSettled(t, 3*time.Minute)
	settle := time.Since(upAt)
	confirmed := 0
	for _, id := range ids {
		if o, err := s.getOrder(id); err != nil || o.Status != "CONFIRMED" {
			t.Errorf("order %s: %v %s %+v (want CONFIRMED)", id, err, o.Status, o.Reasons)
		} else {
			confirmed++
		}
	}
	rows := s.rowsPerKey(t, len(all))
	acc := s.checkAccounting(t, w, 30*time.Second)
	figure(t, "%d clients placing orders; PostgreSQL stopped (immediate) for %s after %s; /readyz 503 on %d of %d processes; "+
		"all ready again %s after the start, none restarted; %d orders placed (%d needed a repeat of the same key; answers repeated: %v), answers %v; "+
		"%d rows; all %d confirmed %s after the start; %s",
		clients, outage, before, len(unready), len(services), recovered.Round(100*time.Millisecond), len(all), retried, failed, codes,
		rows, confirmed, settle.Round(100*time.Millisecond), acc)
}
