package httpx

import (
	"log/slog"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds a service's Prometheus registry and its HTTP instruments.
type Metrics struct {
	Registry *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

// NewMetrics creates a registry with Go and process collectors and the HTTP
// request count and latency by route and status.
func NewMetrics(service string) *Metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := &Metrics{
		Registry: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name:        "http_requests_total",
			Help:        "HTTP requests by method, route and status.",
			ConstLabels: prometheus.Labels{"service": service},
		}, []string{"method", "route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:        "http_request_duration_seconds",
			Help:        "HTTP request latency by method and route.",
			ConstLabels: prometheus.Labels{"service": service},
			Buckets:     []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"method", "route"}),
	}
	reg.MustRegister(m.requests, m.latency)
	return m
}

// observe records every request under its route pattern (not its raw path,
// which would make one series per id) and writes one access log line with the
// request id, so a request can be followed from the edge to every service.
// Probes (/healthz, /readyz, /metrics) log at debug level only.
func observe(log *slog.Logger, m *Metrics) fiber.Handler {
	return func(c *fiber.Ctx) error {
		start := time.Now()
		err := c.Next()
		status := c.Response().StatusCode()
		if err != nil {
			if fe, ok := err.(*fiber.Error); ok {
				status = fe.Code
			} else {
				status = ErrorCode(err).Status()
			}
		}
		route := c.Route().Path
		if route == "" || route == "/" && c.Path() != "/" {
			route = "unmatched"
		}
		took := time.Since(start)
		if m != nil {
			method := string([]byte(c.Method()))
			m.requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
			m.latency.WithLabelValues(method, route).Observe(took.Seconds())
		}
		if level := accessLevel(c, route, status, took); log.Enabled(c.UserContext(), level) {
			log.LogAttrs(c.UserContext(), level, "request",
				slog.String("request_id", RequestID(c.UserContext())),
				slog.String("method", c.Method()), slog.String("path", c.Path()), slog.String("route", route),
				slog.Int("status", status), slog.Float64("ms", float64(took.Microseconds())/1000))
		}
		return err
	}
}

// accessLevel decides how loud a request's access line is. Every write, every
// failure, every slow request and every request that arrived with its own
// request id (the calls the order workflow makes, a client tracing a call) is
// logged at info; a plain successful read is only counted in the metrics and
// logged at debug: at thousands of reads a second the log line cost 12–26 %
// of the throughput (BENCHMARKS.md). Probes are debug too.
func accessLevel(c *fiber.Ctx, route string, status int, took time.Duration) slog.Level {
	switch {
	case route == "/healthz" || route == "/readyz" || route == "/metrics":
		return slog.LevelDebug
	case status >= 400 || took > 500*time.Millisecond || c.Locals(tracedKey{}) != nil:
		return slog.LevelInfo
	case c.Method() == fiber.MethodGet || c.Method() == fiber.MethodHead:
		return slog.LevelDebug
	}
	return slog.LevelInfo
}

// Handler serves the registry at /metrics.
func (m *Metrics) Handler() fiber.Handler {
	return adaptor.HTTPHandler(promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{}))
}
