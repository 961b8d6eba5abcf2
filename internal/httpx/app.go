package httpx

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/jackc/pgx/v5/pgconn"
)

// BodyLimit is the largest request body any service accepts.
const BodyLimit = 1 << 20

// RequestIDHeader is accepted from the client (or created) and echoed back, so one
// request can be followed across services and logs.
const RequestIDHeader = "X-Request-Id"

// ProblemTypeBase prefixes every problem type; the suffix is stable and is what
// clients compare.
const ProblemTypeBase = "https://delivery.example/problems/"

// Problem is an RFC 9457 problem document.
type Problem struct {
	Type     string       `json:"type"`
	Title    string       `json:"title"`
	Status   int          `json:"status"`
	Detail   string       `json:"detail,omitempty"`
	Instance string       `json:"instance,omitempty"`
	Errors   []FieldError `json:"errors,omitempty"`
	// Extensions are written as members beside the standard ones.
	Extensions map[string]any `json:"-"`
}

// MarshalJSON writes the extension members beside the standard ones.
func (p Problem) MarshalJSON() ([]byte, error) {
	type plain Problem
	b, err := json.Marshal(plain(p))
	if err != nil || len(p.Extensions) == 0 {
		return b, err
	}
	ext, err := json.Marshal(p.Extensions)
	if err != nil {
		return nil, err
	}
	return append(append(b[:len(b)-1], ','), ext[1:]...), nil
}

// Options configure a service's Fiber app.
type Options struct {
	Name    string
	Logger  *slog.Logger
	Metrics *Metrics // nil: no metrics
}

// New returns the Fiber app every service uses: strict limits, request ids,
// panic recovery, access metrics and the problem+json error handler.
func New(o Options) *fiber.App {
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	app := fiber.New(fiber.Config{
		AppName:               o.Name,
		BodyLimit:             BodyLimit,
		ReadTimeout:           15 * time.Second,
		WriteTimeout:          30 * time.Second,
		IdleTimeout:           90 * time.Second,
		DisableStartupMessage: true,
		ErrorHandler:          ErrorHandler(log),
	})
	app.Use(recover.New())
	app.Use(requestIDMiddleware)
	app.Use(observe(log, o.Metrics))
	app.Get("/healthz", func(c *fiber.Ctx) error {
		return c.JSON(fiber.Map{"status": "ok"})
	})
	return app
}

// Readiness mounts /readyz answering 200 when every check passes, 503 otherwise.
func Readiness(app *fiber.App, checks map[string]func(context.Context) error) {
	app.Get("/readyz", func(c *fiber.Ctx) error {
		ctx, cancel := context.WithTimeout(c.UserContext(), 2*time.Second)
		defer cancel()
		out := fiber.Map{}
		ok := true
		for name, check := range checks {
			if err := check(ctx); err != nil {
				ok = false
				out[name] = "unavailable"
			} else {
				out[name] = "ok"
			}
		}
		if !ok {
			return c.Status(fiber.StatusServiceUnavailable).JSON(fiber.Map{"status": "unavailable", "checks": out})
		}
		return c.JSON(fiber.Map{"status": "ok", "checks": out})
	})
}

// ErrorHandler turns every error a handler returns into problem+json. Errors that
// are not ours are logged with the request id and answered with a bare 500.
func ErrorHandler(log *slog.Logger) fiber.ErrorHandler {
	return func(c *fiber.Ctx, err error) error {
		p := toProblem(err)
		if p.Status >= 500 && p.Status != fiber.StatusServiceUnavailable {
			rid := RequestID(c.UserContext())
			log.ErrorContext(c.UserContext(), "request failed",
				"request_id", rid, "method", c.Method(), "path", c.Path(), "err", err.Error())
		}
		c.Status(p.Status)
		c.Set(fiber.HeaderContentType, "application/problem+json")
		return c.JSON(p, "application/problem+json")
	}
}

func toProblem(err error) Problem {
	var e *Error
	if errors.As(err, &e) {
		typ := string(e.Code)
		if e.Type != "" {
			typ = e.Type
		}
		return Problem{
			Type:       ProblemTypeBase + typ,
			Title:      codeTitle[e.Code],
			Status:     e.Code.Status(),
			Detail:     e.Detail,
			Errors:     e.Fields,
			Extensions: e.Extensions,
		}
	}
	var fe *fiber.Error
	if errors.As(err, &fe) {
		code := fiberCode(fe.Code)
		detail := fe.Message
		if code == CodeInternal {
			detail = ""
		}
		return Problem{
			Type:   ProblemTypeBase + fiberType(fe.Code, code),
			Title:  titleFor(fe.Code, code),
			Status: fe.Code,
			Detail: detail,
		}
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return Problem{Type: ProblemTypeBase + string(CodeUnavailable), Title: codeTitle[CodeUnavailable], Status: 503,
			Detail: "a dependency did not answer in time"}
	}
	if unreachable(err) {
		return Problem{Type: ProblemTypeBase + string(CodeUnavailable), Title: codeTitle[CodeUnavailable], Status: 503,
			Detail: "a dependency is unavailable: try again"}
	}
	return Problem{Type: ProblemTypeBase + string(CodeInternal), Title: codeTitle[CodeInternal], Status: 500}
}

// unreachable reports a dependency that cannot be reached now: a refused or
// broken connection (also one the driver found closed, or that ended in the
// middle of an answer), or a database that is shutting down or starting up
// (SQLSTATE class 08, or 57P01-57P05). The same request may succeed when
// repeated, so it is a 503, not an internal error (found by the PostgreSQL
// restart in faults/).
func unreachable(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, pgconn.ErrConnClosed) || pgconn.SafeToRetry(err) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return strings.HasPrefix(pgErr.Code, "08") || strings.HasPrefix(pgErr.Code, "57P")
	}
	return false
}

func fiberCode(status int) Code {
	for c, s := range codeStatus {
		if s == status {
			return c
		}
	}
	if status >= 500 {
		return CodeInternal
	}
	return CodeBadRequest
}

func fiberType(status int, code Code) string {
	switch status {
	case fiber.StatusMethodNotAllowed:
		return "method-not-allowed"
	case fiber.StatusRequestTimeout:
		return "request-timeout"
	}
	if code == CodeBadRequest && status != 400 {
		return "http-" + strconv.Itoa(status)
	}
	return string(code)
}

func titleFor(status int, code Code) string {
	if t := fiberTitle(status); t != "" {
		return t
	}
	return codeTitle[code]
}

func fiberTitle(status int) string {
	switch status {
	case fiber.StatusMethodNotAllowed:
		return "Method not allowed"
	case fiber.StatusRequestTimeout:
		return "Request timeout"
	}
	return ""
}

// OpenAPI serves a service's OpenAPI document at /openapi.yaml (public).
func OpenAPI(r fiber.Router, doc []byte) {
	r.Get("/openapi.yaml", func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, "application/yaml")
		return c.Send(doc)
	})
}
