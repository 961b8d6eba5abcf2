package auth

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/google/uuid"
)

// Revocation voids the tokens of one user issued before NotBefore: the
// account was deactivated, deleted or given another role.
type Revocation struct {
	UserID    uuid.UUID `json:"user_id"`
	NotBefore time.Time `json:"not_before"`
}

// Revocations is the body of the users service's GET /auth/revocations: the
// revocations recorded after ?since=, read at AsOf.
type Revocations struct {
	AsOf        time.Time    `json:"as_of"`
	Revocations []Revocation `json:"revocations"`
}

// TokenRevocationChecker is a RevocationChecker that can tell a token issued
// after a revocation (the user logged in again with their new role) from one
// issued before it.
type TokenRevocationChecker interface {
	RevocationChecker
	RevokedToken(ctx context.Context, userID uuid.UUID, issuedAt time.Time) bool
}

// revocationOverlap is how far back each poll reaches before the previous
// answer's as_of, so that a revocation whose transaction committed after a
// poll but was stamped before it is still seen.
const revocationOverlap = time.Minute

// revocationWindow is how long a revocation is kept: after it no token issued
// before it is alive any more.
const revocationWindow = MaxTTL + Leeway

// RevocationFeed is the RevocationChecker of the services other than users:
// it polls the users service's revocation feed in the background and checks
// each token's iat against what it holds, so that a request never waits on
// the users service. A token of a deactivated, deleted or demoted user is
// refused at most one poll interval (plus one request) after the change.
//
// When the feed cannot be read it FAILS OPEN: it keeps enforcing every
// revocation it already knows (each is kept for the whole token lifetime) and
// logs that it is stale. Failing closed would turn an outage of the users
// service into an outage of every service, including order intake, which
// must keep answering while an entity service is down; and while the users
// service is down nobody can deactivate an account anyway. The residual risk
// is a revocation made while this service alone cannot reach the users
// service: it takes effect when the feed is back, at worst when the token
// expires (15 minutes).
type RevocationFeed struct {
	url      string
	interval time.Duration
	client   *http.Client
	log      *slog.Logger
	now      func() time.Time

	mu        sync.RWMutex
	notBefore map[uuid.UUID]time.Time
	asOf      time.Time // the feed's time of the last successful poll
	synced    time.Time // our time of the last successful poll
	failing   bool
}

// NewRevocationFeed returns a feed reading url (the users service's
// /auth/revocations) every interval once Run is called.
func NewRevocationFeed(url string, interval time.Duration, log *slog.Logger) *RevocationFeed {
	if log == nil {
		log = slog.Default()
	}
	if interval <= 0 {
		interval = 2 * time.Second
	}
	return &RevocationFeed{
		url: url, interval: interval, log: log, now: time.Now,
		client:    &http.Client{Timeout: min(5*time.Second, 2*interval+time.Second)},
		notBefore: map[uuid.UUID]time.Time{},
	}
}

// Run polls until ctx is done. The first poll is immediate.
func (f *RevocationFeed) Run(ctx context.Context) {
	t := time.NewTicker(f.interval)
	defer t.Stop()
	for {
		err := f.Sync(ctx)
		f.mu.Lock()
		switch {
		case err != nil && ctx.Err() == nil && !f.failing:
			f.failing = true
			f.log.WarnContext(ctx, "revocation feed unreachable: known revocations still enforced, new ones unseen until it is back",
				"url", f.url, "err", err.Error())
		case err == nil && f.failing:
			f.failing = false
			f.log.InfoContext(ctx, "revocation feed reachable again", "url", f.url)
		}
		f.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Sync polls the feed once.
func (f *RevocationFeed) Sync(ctx context.Context) error {
	f.mu.RLock()
	asOf := f.asOf
	f.mu.RUnlock()
	u := f.url
	if !asOf.IsZero() {
		u += "?since=" + url.QueryEscape(asOf.Add(-revocationOverlap).UTC().Format(time.RFC3339Nano))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := f.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("revocation feed: %s", resp.Status)
	}
	var body Revocations
	// The feed holds at most the revocations of one token lifetime.
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(&body); err != nil {
		return fmt.Errorf("revocation feed: %w", err)
	}
	now := f.now()
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range body.Revocations {
		if r.NotBefore.After(f.notBefore[r.UserID]) {
			f.notBefore[r.UserID] = r.NotBefore
		}
	}
	for id, nb := range f.notBefore {
		if now.Sub(nb) > revocationWindow {
			delete(f.notBefore, id)
		}
	}
	if body.AsOf.After(f.asOf) {
		f.asOf = body.AsOf
	}
	f.synced = now
	return nil
}

// Staleness is how long ago the feed was last read successfully (the zero
// duration and false before the first success).
func (f *RevocationFeed) Staleness() (time.Duration, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	if f.synced.IsZero() {
		return 0, false
	}
	return f.now().Sub(f.synced), true
}

// RevokedToken implements TokenRevocationChecker: a token issued before the
// user's latest revocation is void. iat has whole seconds, so a token issued
// in the same second as the revocation is refused too (the safe side).
func (f *RevocationFeed) RevokedToken(_ context.Context, id uuid.UUID, issuedAt time.Time) bool {
	f.mu.RLock()
	nb, ok := f.notBefore[id]
	f.mu.RUnlock()
	return ok && issuedAt.Before(nb)
}

// Revoked implements RevocationChecker without a token at hand: any recent
// revocation counts.
func (f *RevocationFeed) Revoked(_ context.Context, id uuid.UUID) bool {
	f.mu.RLock()
	_, ok := f.notBefore[id]
	f.mu.RUnlock()
	return ok
}
