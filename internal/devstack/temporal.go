// Package devstack starts what the platform needs on a developer's machine:
// the Temporal dev server and, when none answers, a private PostgreSQL.
package devstack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// SearchAttributes are the custom search attributes of the order workflow.
var SearchAttributes = map[string]string{
	"OrderStatus":   "Keyword",
	"CustomerId":    "Keyword",
	"DeliveryManId": "Keyword",
}

// TemporalTuning is how the dev server is started, here and in tests. The
// defaults rate-limit task dispatch (about 50 ms a hop: a 5-activity order took
// 250 ms of waiting, not work); these settings remove that, and WAL with
// synchronous=normal keeps the file database fast while still surviving a
// restart of the server. An in-memory database froze under load in earlier
// measurements, so the state stays in a file.
var TemporalTuning = []string{
	"--dynamic-config-value", "history.transferProcessorMaxPollRPS=10000",
	"--dynamic-config-value", "matching.numTaskqueueReadPartitions=1",
	"--dynamic-config-value", "matching.numTaskqueueWritePartitions=1",
	"--dynamic-config-value", "system.enableActivityEagerExecution=true",
	"--sqlite-pragma", "journal_mode=wal",
	"--sqlite-pragma", "synchronous=normal",
}

// TemporalArgs are the arguments of `temporal` for a dev server on 127.0.0.1
// with state in dbFile (empty: in memory) and the search attributes registered.
func TemporalArgs(port, uiPort int, dbFile string) []string {
	args := []string{"server", "start-dev", "--ip", "127.0.0.1", "--port", strconv.Itoa(port),
		"--log-level", "error"}
	if uiPort > 0 {
		args = append(args, "--ui-port", strconv.Itoa(uiPort))
	} else {
		args = append(args, "--headless")
	}
	if dbFile != "" {
		args = append(args, "--db-filename", dbFile)
	}
	for k, v := range SearchAttributes {
		args = append(args, "--search-attribute", k+"="+v)
	}
	return append(args, TemporalTuning...)
}

// RepoRoot finds the module root (the directory holding go.mod) from dir up.
func RepoRoot(dir string) (string, error) {
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("not inside the repository (no go.mod found)")
		}
		dir = parent
	}
}

// TemporalBinary returns the path of the pinned temporal CLI: $TEMPORAL_CLI when
// set, else the Go tool of tools/temporal.mod (built on first use, which takes
// a couple of minutes once).
func TemporalBinary(ctx context.Context, root string) (string, error) {
	if p := os.Getenv("TEMPORAL_CLI"); p != "" {
		return p, nil
	}
	cmd := exec.CommandContext(ctx, "go", "tool", "-modfile=tools/temporal.mod", "-n", "temporal")
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("build the temporal CLI (go tool -modfile=tools/temporal.mod temporal): %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}

// FreePort returns a TCP port on 127.0.0.1 that nothing listens on now.
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// WaitTCP waits until addr accepts connections, for at most d.
func WaitTCP(ctx context.Context, addr string, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}
