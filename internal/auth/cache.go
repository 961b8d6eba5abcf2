package auth

import (
	"strings"
	"sync"
	"time"
)

// DefaultTokenCacheSize bounds the verified-token cache of a service: about
// 1 KB an entry, so at most ~10 MB for the 10 000 most recent distinct tokens.
const DefaultTokenCacheSize = 10000

// tokenCache remembers tokens whose signature and claims were verified, keyed
// by the raw token, until they expire. A client sends the same token on every
// request for up to 15 minutes; a hit costs a map lookup instead of a parse
// and an Ed25519 verification (about 60 µs on our 2-core machines: more than
// the rest of a GET /products/{id}; see BENCHMARKS.md). Only the signature
// work is cached: revocation is checked again on every hit.
type tokenCache struct {
	max int
	now func() time.Time

	mu sync.RWMutex
	m  map[string]cachedToken
}

type cachedToken struct {
	p   Principal
	iat time.Time // for the revocation check on each hit
}

func newTokenCache(max int) *tokenCache {
	return &tokenCache{max: max, now: time.Now, m: make(map[string]cachedToken)}
}

// get returns the cached principal of raw while the token has not expired.
func (c *tokenCache) get(raw string) (cachedToken, bool) {
	c.mu.RLock()
	t, ok := c.m[raw]
	c.mu.RUnlock()
	if !ok || !c.now().Before(t.p.ExpiresAt) {
		return cachedToken{}, false
	}
	return t, true
}

// put stores a verified token. When the cache is full, expired entries go
// first, and everything when none has expired (a flood of distinct tokens
// then costs verifications, never memory).
func (c *tokenCache) put(raw string, t cachedToken) {
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		for k, v := range c.m {
			if !now.Before(v.p.ExpiresAt) {
				delete(c.m, k)
			}
		}
		if len(c.m) >= c.max {
			clear(c.m)
		}
	}
	// raw may point into a reused request buffer (Fiber): keep a copy.
	c.m[strings.Clone(raw)] = t
}

// CacheTokens makes v remember up to size verified tokens until they expire
// (0: no cache). Revocation is still checked on every request. It returns v.
func (v *Verifier) CacheTokens(size int) *Verifier {
	if size > 0 {
		v.cache = newTokenCache(size)
	} else {
		v.cache = nil
	}
	return v
}
