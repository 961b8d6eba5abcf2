package auth_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/delivery/platform/internal/auth"
)

// loginServer is a stand-in for POST /auth/login that counts logins; the real
// users service is exercised by services/users' tests.
type loginServer struct {
	*httptest.Server
	logins    atomic.Int32
	expiresIn atomic.Int64
	status    atomic.Int32
	delay     time.Duration
}

func newLoginServer(t *testing.T, delay time.Duration) *loginServer {
	s := &loginServer{delay: delay}
	s.expiresIn.Store(900)
	s.status.Store(http.StatusOK)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]string
		if r.Method != http.MethodPost || r.URL.Path != "/auth/login" || r.Header.Get("Content-Type") != "application/json" ||
			json.NewDecoder(r.Body).Decode(&body) != nil || body["email"] != "worker@x.test" || body["password"] != "pw-0123456789" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		n := s.logins.Add(1)
		time.Sleep(s.delay)
		if st := int(s.status.Load()); st != http.StatusOK {
			w.WriteHeader(st)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":"token-%d","token_type":"Bearer","expires_in":%d}`, n, s.expiresIn.Load())
	}))
	t.Cleanup(s.Close)
	return s
}

func TestTokenSourceCachesAndShares(t *testing.T) {
	srv := newLoginServer(t, 50*time.Millisecond)
	ts := auth.NewTokenSource(srv.URL+"/", "worker@x.test", "pw-0123456789", nil)
	ctx := context.Background()
	var wg sync.WaitGroup
	got := make([]string, 50)
	errs := make([]error, 50)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], errs[i] = ts.Token(ctx)
		}()
	}
	wg.Wait()
	for i := range got {
		if errs[i] != nil || got[i] != "token-1" {
			t.Fatalf("caller %d: %q %v", i, got[i], errs[i])
		}
	}
	if n := srv.logins.Load(); n != 1 {
		t.Fatalf("50 concurrent callers made %d logins, want 1", n)
	}
	if tok, _ := ts.Token(ctx); tok != "token-1" || srv.logins.Load() != 1 {
		t.Fatalf("cached token not reused: %q after %d logins", tok, srv.logins.Load())
	}
	ts.Invalidate()
	if tok, err := ts.Token(ctx); err != nil || tok != "token-2" {
		t.Fatalf("after Invalidate: %q %v", tok, err)
	}
}

func TestTokenSourceRefreshesBeforeExpiry(t *testing.T) {
	srv := newLoginServer(t, 0)
	srv.expiresIn.Store(2) // renewed after 1s (half the lifetime when it is this short)
	ts := auth.NewTokenSource(srv.URL, "worker@x.test", "pw-0123456789", nil)
	ctx := context.Background()
	if tok, _ := ts.Token(ctx); tok != "token-1" {
		t.Fatalf("first token %q", tok)
	}
	if tok, _ := ts.Token(ctx); tok != "token-1" {
		t.Fatalf("token renewed too early: %q", tok)
	}
	time.Sleep(1100 * time.Millisecond)
	if tok, err := ts.Token(ctx); err != nil || tok != "token-2" {
		t.Fatalf("token not renewed before expiry: %q %v", tok, err)
	}
}

func TestTokenSourceErrors(t *testing.T) {
	srv := newLoginServer(t, 0)
	ctx := context.Background()
	srv.status.Store(http.StatusUnauthorized)
	ts := auth.NewTokenSource(srv.URL, "worker@x.test", "pw-0123456789", nil)
	if _, err := ts.Token(ctx); !errors.Is(err, auth.ErrLoginRefused) {
		t.Fatalf("401: %v", err)
	}
	srv.status.Store(http.StatusServiceUnavailable)
	if _, err := ts.Token(ctx); err == nil || errors.Is(err, auth.ErrLoginRefused) {
		t.Fatalf("503 must be a retryable error: %v", err)
	}
	srv.status.Store(http.StatusOK)
	if tok, err := ts.Token(ctx); err != nil || tok == "" {
		t.Fatalf("recovery: %q %v", tok, err)
	}

	down := auth.NewTokenSource("http://127.0.0.1:1", "worker@x.test", "pw-0123456789", nil)
	if _, err := down.Token(ctx); err == nil {
		t.Fatal("no error when the users service is down")
	}
}

func TestTokenSourceWaitHonoursContext(t *testing.T) {
	srv := newLoginServer(t, 500*time.Millisecond)
	ts := auth.NewTokenSource(srv.URL, "worker@x.test", "pw-0123456789", nil)
	go ts.Token(context.Background()) //nolint:errcheck // holds the login
	time.Sleep(50 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := ts.Token(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("want the caller's deadline, got %v", err)
	}
	if time.Since(start) > 300*time.Millisecond {
		t.Fatal("a waiting caller ignored its context")
	}
}
