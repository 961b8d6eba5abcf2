package main

import (
	"bytes"
	"context"
	"net"
	"os/exec"
	"strings"
	"testing"
)

func env(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

// Start-up failures are one line that says what to do, not a stack trace.
func TestStartupErrorsSayWhatToDo(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cases := []struct {
		name string
		args []string
		env  func(string) string
		want string
	}{
		{"no command", nil, env(), "usage:"},
		{"unknown command", []string{"fly"}, env(), `unknown command "fly"`},
		{"unknown service", []string{"serve", "payments"}, env(), `unknown service "payments"`},
		{"port taken", []string{"serve", "products"}, env("PRODUCTS_ADDR", ln.Addr().String()), "is already in use: stop what holds it or set PRODUCTS_ADDR"},
		{"database down", []string{"migrate", "products"}, env("DATABASE_URL", "postgres://postgres@127.0.0.1:1/postgres"), "is PostgreSQL running? set DATABASE_URL or PRODUCTS_DATABASE_URL"},
		{"bad duration", []string{"worker"}, env("ORDER_VERDICT_WAIT", "soon"), `ORDER_VERDICT_WAIT="soon" is not a duration`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out, errs bytes.Buffer
			err := run(context.Background(), c.args, c.env, &out, &errs)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want it to say %q", err, c.want)
			}
			if strings.Contains(err.Error(), "\n") && !strings.HasPrefix(err.Error(), "usage:") && !strings.Contains(err.Error(), "usage:") {
				t.Errorf("not one line: %q", err)
			}
		})
	}
}

// The service binary must not link the Temporal server (it lives in its own
// modfile, tools/temporal.mod, and runs as a separate process).
func TestBinaryDoesNotLinkTheTemporalServer(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasPrefix(pkg, "go.temporal.io/server") {
			t.Fatalf("cmd/delivery imports %s", pkg)
		}
	}
	if !strings.Contains(string(out), "go.temporal.io/sdk/client") {
		t.Fatal("the dependency list does not look right: no Temporal SDK client")
	}
}
