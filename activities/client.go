package activities

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/delivery/platform/internal/httpx"
)

// service is one entity service reached over REST with the service token.
type service struct {
	name   string
	base   string
	tokens TokenSource
	http   *http.Client
	delay  time.Duration
}

// problem is the part of a problem+json answer the activities read.
type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	Errors []struct {
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"errors"`
}

// suffix is the stable part of the problem type, e.g. "reservation-refused".
func (p problem) suffix() string {
	return p.Type[strings.LastIndexByte(p.Type, '/')+1:]
}

// answer is a response the caller interprets (2xx, 404, 409, 422).
type answer struct {
	status  int
	body    []byte
	problem problem
}

// decode reads a 2xx body into v.
func (a answer) decode(v any) error {
	if err := json.Unmarshal(a.body, v); err != nil {
		return fmt.Errorf("decode answer: %w", err)
	}
	return nil
}

// call sends one request. It returns an error (retryable unless said
// otherwise) for everything that is a technical failure: no connection, a
// timeout, 5xx, 429, 401 (after dropping the token) and 403 (a
// misconfigured service account); 2xx, 404, 409 and 422 are answers for the
// caller to read. Other statuses are non-retryable: retrying the same request
// cannot help.
func (s *service) call(ctx context.Context, method, path string, in any) (answer, error) {
	if s.delay > 0 {
		select {
		case <-time.After(s.delay):
		case <-ctx.Done():
			return answer{}, ctx.Err()
		}
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return answer{}, temporal.NewNonRetryableApplicationError("encode request", ErrUnexpected, err)
		}
		body = bytes.NewReader(b)
	}
	tok, err := s.tokens.Token(ctx)
	if err != nil {
		return answer{}, fmt.Errorf("%s: service token: %w", s.name, err)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.base+path, body)
	if err != nil {
		return answer{}, temporal.NewNonRetryableApplicationError("build request", ErrUnexpected, err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	if id := httpx.RequestID(ctx); id != "" {
		// The id of the request that placed the order, carried by the
		// workflow, so every service logs this call under it.
		req.Header.Set(httpx.RequestIDHeader, id)
	}
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return answer{}, fmt.Errorf("%s %s %s: %w", s.name, method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return answer{}, fmt.Errorf("%s %s %s: read answer: %w", s.name, method, path, err)
	}
	a := answer{status: resp.StatusCode, body: b}
	if resp.StatusCode >= 400 {
		_ = json.Unmarshal(b, &a.problem) // a proxy's HTML error page leaves it empty
	}
	switch {
	case resp.StatusCode < 300, resp.StatusCode == 404, resp.StatusCode == 409, resp.StatusCode == 422:
		return a, nil
	case resp.StatusCode == http.StatusUnauthorized:
		s.tokens.Invalidate()
		return answer{}, fmt.Errorf("%s %s %s: the service token was refused (401): logging in again", s.name, method, path)
	case resp.StatusCode == http.StatusForbidden, resp.StatusCode == http.StatusTooManyRequests, resp.StatusCode >= 500:
		return answer{}, fmt.Errorf("%s %s %s: %d %s", s.name, method, path, resp.StatusCode, a.problem.Detail)
	default:
		return answer{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("%s %s %s: unexpected %d %s", s.name, method, path, resp.StatusCode, a.problem.Detail), ErrUnexpected, nil)
	}
}

// unexpected is the error for an answer the contract does not allow here.
func (s *service) unexpected(a answer, what string) error {
	return temporal.NewNonRetryableApplicationError(
		fmt.Sprintf("%s: unexpected answer to %s: %d %s %s", s.name, what, a.status, a.problem.suffix(), a.problem.Detail), ErrUnexpected, nil)
}
