package auth

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

// revokedSet is a revocation checker for tests: the listed users are revoked.
type revokedSet map[uuid.UUID]bool

func (r revokedSet) Revoked(_ context.Context, id uuid.UUID) bool { return r[id] }

func cacheFixture(t *testing.T, size int, revoked RevocationChecker) (*Signer, *Verifier, *atomic.Int64) {
	t.Helper()
	k, err := NewSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSigner([]SigningKey{k}, "iss", "aud", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	var lookups atomic.Int64
	kf := func(tok *jwt.Token) (any, error) { lookups.Add(1); return s.Keyfunc(tok) }
	return s, NewVerifier(kf, "iss", "aud", revoked).CacheTokens(size), &lookups
}

func TestTokenCacheSkipsVerificationUntilExpiry(t *testing.T) {
	s, v, lookups := cacheFixture(t, 10, nil)
	id := uuid.New()
	raw, _ := s.Sign(id, RoleOperator)
	for range 3 {
		p, err := v.Verify(context.Background(), raw)
		if err != nil || p.UserID != id || p.Role != RoleOperator {
			t.Fatalf("verify: %+v %v", p, err)
		}
	}
	if n := lookups.Load(); n != 1 {
		t.Fatalf("token verified %d times, want once", n)
	}
	// Past its expiry the cached entry is not used.
	v.cache.now = func() time.Time { return time.Now().Add(2 * time.Minute) }
	if _, ok := v.cache.get(raw); ok {
		t.Fatal("expired token served from the cache")
	}
	// A tampered token is never a hit.
	if _, err := v.Verify(context.Background(), raw[:len(raw)-2]+"xx"); err == nil {
		t.Fatal("tampered token accepted")
	}
}

func TestTokenCacheHonoursRevocation(t *testing.T) {
	revoked := revokedSet{}
	s, v, _ := cacheFixture(t, 10, revoked)
	id := uuid.New()
	raw, _ := s.Sign(id, RoleAdmin)
	if _, err := v.Verify(context.Background(), raw); err != nil {
		t.Fatal(err)
	}
	revoked[id] = true
	if _, err := v.Verify(context.Background(), raw); err == nil {
		t.Fatal("a cached token of a revoked user was accepted")
	}
}

func TestTokenCacheIsBounded(t *testing.T) {
	s, v, _ := cacheFixture(t, 5, nil)
	for range 23 {
		raw, _ := s.Sign(uuid.New(), RoleAdmin)
		if _, err := v.Verify(context.Background(), raw); err != nil {
			t.Fatal(err)
		}
		if n := len(v.cache.m); n > 5 {
			t.Fatalf("cache holds %d tokens, bound 5", n)
		}
	}
}

func TestCacheTokensZeroIsOff(t *testing.T) {
	s, v, lookups := cacheFixture(t, 0, nil)
	raw, _ := s.Sign(uuid.New(), RoleAdmin)
	for range 2 {
		if _, err := v.Verify(context.Background(), raw); err != nil {
			t.Fatal(err)
		}
	}
	if lookups.Load() != 2 {
		t.Fatal("size 0 still caches")
	}
}
