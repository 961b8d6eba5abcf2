// Package testenv starts the real pieces tests need (the users service that
// issues tokens, databases) and sends requests through real Fiber apps.
package testenv

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
)

// Response is a recorded HTTP answer.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v, failing the test when it cannot.
func (r Response) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %q: %v", r.Body, err)
	}
}

// Problem is a decoded problem+json body.
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	Errors []struct {
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"errors"`
}

// Problem decodes a problem+json body, failing the test when the response is
// not one or its status disagrees.
func (r Response) Problem(t testing.TB) Problem {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("want application/problem+json, got %q: %s", ct, r.Body)
	}
	var p Problem
	r.JSON(t, &p)
	if p.Status != r.Status || p.Type == "" || p.Title == "" {
		t.Fatalf("malformed problem for status %d: %s", r.Status, r.Body)
	}
	return p
}

// Do sends one request through app. body may be nil, a []byte / string sent as
// is, or a value encoded as JSON. token may be "".
func Do(t testing.TB, app *fiber.App, method, path, token string, body any, headers ...string) Response {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = bytes.NewReader([]byte(b))
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(buf)
	}
	req := httptest.NewRequest(method, path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := app.Test(req, -1)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// Serve runs app on a loopback port until the test ends and returns its base
// URL, for tests that need a real connection (e.g. a body over the limit,
// which the server refuses before the app sees it).
func Serve(t testing.TB, app *fiber.App) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = app.Listener(ln) }()
	t.Cleanup(func() { _ = app.ShutdownWithTimeout(5 * time.Second) })
	return "http://" + ln.Addr().String()
}

// Send sends one request over a real connection.
func Send(t testing.TB, method, url, token string, body []byte, headers ...string) Response {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// Expect sends one request through api, fails the test unless it answers
// status, and decodes the body into a T.
func Expect[T any](t testing.TB, api *API, status int, method, path, token string, body any) T {
	t.Helper()
	r := api.Do(t, method, path, token, body)
	if r.Status != status {
		t.Fatalf("%s %s: %d, want %d: %s", method, path, r.Status, status, r.Body)
	}
	var v T
	r.JSON(t, &v)
	return v
}

// Fields lists the fields named by a problem's field errors.
func (r Response) Fields(t testing.TB) []string {
	t.Helper()
	var out []string
	for _, f := range r.Problem(t).Errors {
		out = append(out, f.Field)
	}
	return out
}

// Absent, as a value given to Override, removes the field from the body.
var Absent = &struct{ absent bool }{}

// Override sets pairs of field name and value on a request body: a value
// Absent removes the field, nil sends JSON null. It returns b.
func Override(b map[string]any, over ...any) map[string]any {
	for i := 0; i+1 < len(over); i += 2 {
		k := over[i].(string)
		if over[i+1] == Absent {
			delete(b, k)
		} else {
			b[k] = over[i+1]
		}
	}
	return b
}
