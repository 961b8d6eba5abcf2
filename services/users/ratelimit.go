package users

import (
	"math"
	"sync"
	"time"
)

// maxLimited bounds the keys one attemptLimiter remembers. A full table first
// forgets the keys whose budget refilled (they carry nothing); if it is still
// full it forgets arbitrary keys: memory stays bounded at the price of giving
// an attacker who controls that many addresses a fresh budget.
const maxLimited = 100_000

// attemptLimiter is a token bucket per key (an account's email or a client
// address) that counts failed logins: an attempt takes a token before the
// password is checked, so concurrent guesses cannot overdraw it, and a
// successful login gives it back, so that people who type their password
// right are never slowed down.
type attemptLimiter struct {
	perSec float64
	burst  float64
	now    func() time.Time

	mu sync.Mutex
	m  map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newAttemptLimiter(perMinute, burst int) *attemptLimiter {
	return &attemptLimiter{perSec: float64(perMinute) / 60, burst: float64(burst), now: time.Now, m: map[string]*bucket{}}
}

// refill brings b up to date; the caller holds mu.
func (l *attemptLimiter) refill(b *bucket, now time.Time) {
	b.tokens = math.Min(l.burst, b.tokens+now.Sub(b.at).Seconds()*l.perSec)
	b.at = now
}

// take spends one attempt of key. When none is left it answers how long until
// the next one.
func (l *attemptLimiter) take(key string) (ok bool, retryAfter time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b, found := l.m[key]
	if !found {
		if len(l.m) >= maxLimited {
			l.evict(now)
		}
		b = &bucket{tokens: l.burst, at: now}
		l.m[key] = b
	}
	l.refill(b, now)
	if b.tokens < 1 {
		return false, time.Duration((1 - b.tokens) / l.perSec * float64(time.Second))
	}
	b.tokens--
	return true, 0
}

// give returns the attempt of a successful login.
func (l *attemptLimiter) give(key string) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if b, ok := l.m[key]; ok {
		l.refill(b, now)
		b.tokens = math.Min(l.burst, b.tokens+1)
	}
}

// evict makes room; the caller holds mu.
func (l *attemptLimiter) evict(now time.Time) {
	for k, b := range l.m {
		if l.refill(b, now); b.tokens >= l.burst {
			delete(l.m, k)
		}
	}
	for k := range l.m {
		if len(l.m) < maxLimited*9/10 {
			break
		}
		delete(l.m, k)
	}
}

// size is how many keys the limiter remembers.
func (l *attemptLimiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.m)
}
