package auth_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/delivery/platform/internal/auth"
)

// Tokens naming kids nobody published must be refused at once, not queued
// behind the JWKS refresh limiter (which held each ~5 s longer than the
// previous, up to a minute).
func TestUnknownKIDDoesNotStall(t *testing.T) {
	s, _ := newSigner(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(s.JWKS())
	}))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	kf, err := auth.RemoteKeys(ctx, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	v := auth.NewVerifier(kf.Keyfunc, issuer, audience, nil)
	start := time.Now()
	for i := range 10 {
		k, _ := auth.NewSigningKey()
		raw := mint(t, jwt.SigningMethodEdDSA, k.Key, uuid.NewString(), validClaims(uuid.New()))
		if _, err := v.Verify(ctx, raw); err == nil {
			t.Fatalf("token %d of an unknown key accepted", i)
		}
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("10 tokens with unknown kids took %s to refuse", d)
	}
	// A real token still verifies right after.
	raw, _ := s.Sign(uuid.New(), auth.RoleAdmin)
	if _, err := v.Verify(ctx, raw); err != nil {
		t.Fatal(err)
	}
}

// feed is a stand-in for the users service's /auth/revocations.
type feed struct {
	mu     sync.Mutex
	rows   []auth.Revocation
	down   bool
	sinces []string
}

func (f *feed) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sinces = append(f.sinces, r.URL.Query().Get("since"))
	if f.down {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	_ = json.NewEncoder(w).Encode(auth.Revocations{AsOf: time.Now(), Revocations: f.rows})
}

func TestRevocationFeed(t *testing.T) {
	f := &feed{}
	srv := httptest.NewServer(f)
	defer srv.Close()
	ctx := context.Background()
	rf := auth.NewRevocationFeed(srv.URL, time.Hour, nil)
	s, key := newSigner(t)
	v := auth.NewVerifier(s.Keyfunc, issuer, audience, rf)

	alice, bob := uuid.New(), uuid.New()
	old := mint(t, jwt.SigningMethodEdDSA, key.Key, key.KID, issuedAt(validClaims(alice), time.Now().Add(-time.Minute)))
	if _, err := v.Verify(ctx, old); err != nil {
		t.Fatalf("before any revocation: %v", err)
	}
	revokedAt := time.Now()
	f.mu.Lock()
	f.rows = []auth.Revocation{{UserID: alice, NotBefore: revokedAt}}
	f.mu.Unlock()
	if err := rf.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(ctx, old); err == nil {
		t.Fatal("a token issued before the revocation is accepted")
	}
	fresh := mint(t, jwt.SigningMethodEdDSA, key.Key, key.KID, issuedAt(validClaims(alice), revokedAt.Add(2*time.Second)))
	if _, err := v.Verify(ctx, fresh); err != nil {
		t.Fatalf("a token issued after the revocation (logged in again): %v", err)
	}
	other := mint(t, jwt.SigningMethodEdDSA, key.Key, key.KID, issuedAt(validClaims(bob), time.Now().Add(-time.Minute)))
	if _, err := v.Verify(ctx, other); err != nil {
		t.Fatalf("another user's token: %v", err)
	}

	// Unreachable: what is known stays enforced (fail open on the unknown).
	f.mu.Lock()
	f.down = true
	f.mu.Unlock()
	if err := rf.Sync(ctx); err == nil {
		t.Fatal("a failing feed reports no error")
	}
	if _, err := v.Verify(ctx, old); err == nil {
		t.Fatal("a known revocation is forgotten while the feed is down")
	}
	if _, err := v.Verify(ctx, other); err != nil {
		t.Fatalf("fail open: an unrevoked token is refused while the feed is down: %v", err)
	}
	if st, ok := rf.Staleness(); !ok || st <= 0 {
		t.Fatalf("staleness %s %v", st, ok)
	}
	// After the first answer, each poll asks only for what is new (with an overlap).
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.sinces) != 2 || f.sinces[0] != "" || f.sinces[1] == "" {
		t.Fatalf("since parameters: %q", f.sinces)
	}
	since, err := time.Parse(time.RFC3339Nano, f.sinces[1])
	if err != nil || !since.Before(revokedAt) {
		t.Fatalf("since %q must reach back before the last answer: %v", f.sinces[1], err)
	}
}

func issuedAt(c auth.Claims, iat time.Time) auth.Claims {
	c.IssuedAt = jwt.NewNumericDate(iat)
	c.NotBefore = jwt.NewNumericDate(iat.Add(-time.Hour))
	return c
}
