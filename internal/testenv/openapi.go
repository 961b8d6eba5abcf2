package testenv

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/gofiber/fiber/v2"
)

// API sends requests through a service's real Fiber app and checks every
// answer against the service's published OpenAPI document: a status the
// document does not list, or a body that does not match its schema, fails the
// test.
type API struct {
	App    *fiber.App
	router routers.Router
}

// NewAPI loads the OpenAPI document spec (YAML or JSON) of app.
func NewAPI(t testing.TB, app *fiber.App, spec []byte) *API {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(spec)
	if err != nil {
		t.Fatalf("openapi: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("openapi document is invalid: %v", err)
	}
	doc.Servers = nil // match any host
	r, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatalf("openapi router: %v", err)
	}
	return &API{App: app, router: r}
}

// Do is testenv.Do plus the contract check of the response.
func (a *API) Do(t testing.TB, method, path, token string, body any, headers ...string) Response {
	t.Helper()
	resp := Do(t, a.App, method, path, token, body, headers...)
	a.Check(t, method, path, resp)
	return resp
}

// Check validates one response against the document.
func (a *API) Check(t testing.TB, method, path string, resp Response) {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	route, params, err := a.router.FindRoute(req)
	if err != nil {
		if resp.Status == http.StatusNotFound || resp.Status == http.StatusMethodNotAllowed {
			return // a path or method the API does not have
		}
		t.Fatalf("openapi: %s %s is not documented: %v", method, path, err)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request: req, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
		},
		Status: resp.Status,
		Header: resp.Header,
		Body:   io.NopCloser(bytes.NewReader(resp.Body)),
		Options: &openapi3filter.Options{
			IncludeResponseStatus: true,
			MultiError:            true,
		},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		t.Errorf("openapi: %s %s → %d does not match the document: %v\nbody: %s", method, path, resp.Status, err, resp.Body)
	}
}
