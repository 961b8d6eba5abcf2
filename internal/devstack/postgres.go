package devstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// LocalPostgresURL is the server a developer machine usually has.
const LocalPostgresURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// PrivatePostgresPort is where a private cluster listens.
const PrivatePostgresPort = 55432

// Postgres is the server the platform will use, and the process when it was
// started here.
type Postgres struct {
	URL     string
	Private bool
	cmd     *exec.Cmd
}

// Wait waits for a private server to exit.
func (p *Postgres) Wait() error {
	if p.cmd == nil {
		return nil
	}
	return p.cmd.Wait()
}

// FindOrStartPostgres returns the server at url when url is set, else the local
// server when it answers, else a private cluster under dataDir started from
// the installed PostgreSQL binaries (as a child that stops with ctx).
func FindOrStartPostgres(ctx context.Context, url, dataDir string, logs io.Writer) (*Postgres, error) {
	if url != "" {
		if err := ping(ctx, url); err != nil {
			return nil, fmt.Errorf("DATABASE_URL does not answer (%s): start that server or unset DATABASE_URL", OneLine(err))
		}
		return &Postgres{URL: url}, nil
	}
	if ping(ctx, LocalPostgresURL) == nil {
		return &Postgres{URL: LocalPostgresURL}, nil
	}
	bin, err := postgresBinaries()
	if err != nil {
		return nil, err
	}
	dir, err := filepath.Abs(filepath.Join(dataDir, "postgres"))
	if err != nil {
		return nil, err
	}
	if err := initCluster(ctx, bin, dir, logs); err != nil {
		return nil, err
	}
	if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", PrivatePostgresPort), time.Second); err == nil {
		c.Close()
		return nil, fmt.Errorf("port %d, where the private PostgreSQL listens, is taken: stop what holds it or set DATABASE_URL", PrivatePostgresPort)
	}
	cmd := asPostgresUser(ctx, filepath.Join(bin, "postgres"), "-D", dir, "-p", strconv.Itoa(PrivatePostgresPort),
		"-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="+dir, "-c", "max_connections=200")
	cmd.Stdout, cmd.Stderr = logs, logs
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGINT) } // fast shutdown
	cmd.WaitDelay = 15 * time.Second
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start PostgreSQL: %w", err)
	}
	url = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", PrivatePostgresPort)
	deadline := time.Now().Add(30 * time.Second)
	for ping(ctx, url) != nil {
		if time.Now().After(deadline) || ctx.Err() != nil {
			_ = cmd.Process.Kill()
			return nil, fmt.Errorf("the private PostgreSQL in %s did not start: see its log above", dir)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return &Postgres{URL: url, Private: true, cmd: cmd}, nil
}

func ping(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	return c.Close(ctx)
}

// postgresBinaries finds the newest installed PostgreSQL server binaries.
func postgresBinaries() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) < version(dirs[j]) })
	for i := len(dirs) - 1; i >= 0; i-- {
		if _, err := os.Stat(filepath.Join(dirs[i], "initdb")); err == nil {
			return dirs[i], nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", errors.New("no PostgreSQL answers on 127.0.0.1:5432 and no PostgreSQL server binaries are installed: " +
		"install them (Debian/Ubuntu: apt-get install postgresql; macOS: brew install postgresql) or set DATABASE_URL")
}

func version(dir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return n
}

func initCluster(ctx context.Context, bin, dir string, logs io.Writer) error {
	if _, err := os.Stat(filepath.Join(dir, "PG_VERSION")); err == nil {
		return nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if os.Geteuid() == 0 {
		// initdb and postgres refuse to run as root: the cluster belongs to postgres.
		u, err := user.Lookup("postgres")
		if err != nil {
			return errors.New("running as root needs a 'postgres' system user for the private PostgreSQL (it comes with the postgresql package)")
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			return err
		}
	}
	cmd := asPostgresUser(ctx, filepath.Join(bin, "initdb"), "-D", dir, "-U", "postgres", "--auth=trust", "-E", "UTF8")
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("initdb %s: %w", dir, err)
	}
	return nil
}

func asPostgresUser(ctx context.Context, name string, args ...string) *exec.Cmd {
	if os.Geteuid() == 0 {
		return exec.CommandContext(ctx, "runuser", append([]string{"-u", "postgres", "--", name}, args...)...)
	}
	return exec.CommandContext(ctx, name, args...)
}

// OneLine flattens an error for a one-line message (pgconn errors span lines).
func OneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}
