package httpx_test

import (
	"bytes"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"

	"github.com/delivery/platform/internal/httpx"
)

func TestAccessLogLevels(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	app := httpx.New(httpx.Options{Name: "t", Logger: log, Metrics: httpx.NewMetrics("t")})
	app.Get("/things/:id", func(c *fiber.Ctx) error { return c.SendString("ok") })
	app.Post("/things", func(c *fiber.Ctx) error { return c.SendStatus(201) })
	cases := []struct {
		method, path, requestID string
		logged                  bool
	}{
		{"GET", "/things/1", "", false},           // a plain read: metrics only
		{"GET", "/things/2", "trace-me-2", true},  // a traced read (the workflow's calls)
		{"POST", "/things", "", true},             // every write
		{"GET", "/nothing-here", "", true},        // every failure
		{"GET", "/healthz", "trace-probe", false}, // probes
	}
	for _, c := range cases {
		buf.Reset()
		req := httptest.NewRequest(c.method, c.path, nil)
		if c.requestID != "" {
			req.Header.Set(httpx.RequestIDHeader, c.requestID)
		}
		resp, err := app.Test(req, -1)
		if err != nil {
			t.Fatal(err)
		}
		if got := resp.Header.Get(httpx.RequestIDHeader); got == "" || (c.requestID != "" && got != c.requestID) {
			t.Errorf("%s %s: X-Request-Id %q", c.method, c.path, got)
		}
		line := buf.String()
		if logged := strings.Contains(line, `"msg":"request"`); logged != c.logged {
			t.Errorf("%s %s (id %q): logged=%v, want %v: %s", c.method, c.path, c.requestID, logged, c.logged, line)
		}
		if c.logged && c.requestID != "" && !strings.Contains(line, c.requestID) {
			t.Errorf("the access line lacks the request id: %s", line)
		}
	}
}
