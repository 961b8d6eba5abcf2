package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// RefreshBefore is how long before its expiry a cached token is replaced.
const RefreshBefore = time.Minute

// ErrLoginRefused is returned when the users service refuses the credentials
// (401/403/422): retrying will not help until the configuration is fixed.
var ErrLoginRefused = errors.New("the users service refused the service account's credentials")

// TokenSource gives the worker access tokens of its service account. It logs
// in at the users service, keeps the token until shortly before it expires and
// logs in again on demand; concurrent callers share one login.
type TokenSource struct {
	url      string
	email    string
	password string
	client   *http.Client
	now      func() time.Time

	login chan struct{} // a one-slot semaphore: one login at a time
	mu    sync.Mutex
	token string
	renew time.Time // when the token must be replaced
}

// NewTokenSource returns a source that logs in at usersURL (the users
// service's base URL) as email/password. client may be nil.
func NewTokenSource(usersURL, email, password string, client *http.Client) *TokenSource {
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	return &TokenSource{
		url:      strings.TrimRight(usersURL, "/") + "/auth/login",
		email:    email,
		password: password,
		client:   client,
		now:      time.Now,
		login:    make(chan struct{}, 1),
	}
}

// Token returns a valid access token, logging in when none is cached or the
// cached one expires within RefreshBefore.
func (s *TokenSource) Token(ctx context.Context) (string, error) {
	if tok, ok := s.cached(); ok {
		return tok, nil
	}
	select {
	case s.login <- struct{}{}:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	defer func() { <-s.login }()
	// Another caller may have logged in while this one waited.
	if tok, ok := s.cached(); ok {
		return tok, nil
	}
	tok, ttl, err := s.fetch(ctx)
	if err != nil {
		return "", err
	}
	margin := RefreshBefore
	if ttl <= 2*margin {
		margin = ttl / 2
	}
	s.mu.Lock()
	s.token, s.renew = tok, s.now().Add(ttl-margin)
	s.mu.Unlock()
	return tok, nil
}

// Invalidate drops the cached token; call it after a 401 so that the next
// Token logs in again.
func (s *TokenSource) Invalidate() {
	s.mu.Lock()
	s.token = ""
	s.mu.Unlock()
}

func (s *TokenSource) cached() (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.token, s.token != "" && s.now().Before(s.renew)
}

// loginResponse is the body of POST /auth/login.
type loginResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
}

func (s *TokenSource) fetch(ctx context.Context) (string, time.Duration, error) {
	body, err := json.Marshal(map[string]string{"email": s.email, "password": s.password})
	if err != nil {
		return "", 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(body))
	if err != nil {
		return "", 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return "", 0, fmt.Errorf("log in at %s: %w", s.url, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return "", 0, fmt.Errorf("log in at %s: %w", s.url, err)
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized, resp.StatusCode == http.StatusForbidden,
		resp.StatusCode == http.StatusUnprocessableEntity:
		return "", 0, fmt.Errorf("%w (%s as %s)", ErrLoginRefused, resp.Status, s.email)
	case resp.StatusCode != http.StatusOK:
		return "", 0, fmt.Errorf("log in at %s: %s", s.url, resp.Status)
	}
	var lr loginResponse
	if err := json.Unmarshal(raw, &lr); err != nil {
		return "", 0, fmt.Errorf("log in at %s: malformed answer: %w", s.url, err)
	}
	if lr.AccessToken == "" || !strings.EqualFold(lr.TokenType, "Bearer") || lr.ExpiresIn <= 0 {
		return "", 0, fmt.Errorf("log in at %s: the answer holds no bearer token", s.url)
	}
	return lr.AccessToken, time.Duration(lr.ExpiresIn) * time.Second, nil
}
