package users

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/delivery/platform/internal/auth"
	"github.com/delivery/platform/services/users/db"
)

// stateTTL is how long an account's state is trusted from memory. A change
// made through this replica is seen at once (it forgets the entry); one made
// through another replica within stateTTL.
const stateTTL = 5 * time.Second

// maxStates bounds the cache; it is simply emptied when full.
const maxStates = 10000

type userState struct {
	exists bool
	active bool
	role   auth.Role
	// notBefore voids the tokens issued before it (zero: none revoked).
	notBefore time.Time
	at        time.Time
}

// stateCache is the users service's auth.RevocationChecker: tokens of an
// account that was deactivated or deleted are refused, backed by the database
// with a short in-memory cache.
type stateCache struct {
	q   *db.Queries
	ttl time.Duration
	now func() time.Time

	mu sync.Mutex
	m  map[uuid.UUID]userState
}

func newStateCache(q *db.Queries, ttl time.Duration) *stateCache {
	return &stateCache{q: q, ttl: ttl, now: time.Now, m: map[uuid.UUID]userState{}}
}

func (c *stateCache) get(ctx context.Context, id uuid.UUID) (userState, error) {
	now := c.now()
	c.mu.Lock()
	st, ok := c.m[id]
	c.mu.Unlock()
	if ok && now.Sub(st.at) < c.ttl {
		return st, nil
	}
	row, err := c.q.UserState(ctx, id)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		st = userState{at: now}
	case err != nil:
		return userState{}, err
	default:
		st = userState{exists: true, active: row.Active, role: auth.Role(row.Role), at: now}
		if row.TokensNotBefore != nil {
			st.notBefore = *row.TokensNotBefore
		}
	}
	c.mu.Lock()
	if len(c.m) >= maxStates {
		clear(c.m)
	}
	c.m[id] = st
	c.mu.Unlock()
	return st, nil
}

// forget drops the cached state of id after it changed.
func (c *stateCache) forget(id uuid.UUID) {
	c.mu.Lock()
	delete(c.m, id)
	c.mu.Unlock()
}

// Revoked implements auth.RevocationChecker. When the database cannot be read
// the token is refused: failing closed is the safe side for the service that
// manages accounts.
func (c *stateCache) Revoked(ctx context.Context, id uuid.UUID) bool {
	st, err := c.get(ctx, id)
	return err != nil || !st.exists || !st.active
}

// RevokedToken implements auth.TokenRevocationChecker, with the rule every
// other service applies through the revocation feed: a token issued before
// the account's latest revocation (deactivated, deleted, given another role)
// is void, so a demoted admin's token is refused by the guard itself (401)
// rather than by each handler after the body was read.
func (c *stateCache) RevokedToken(ctx context.Context, id uuid.UUID, issuedAt time.Time) bool {
	st, err := c.get(ctx, id)
	return err != nil || !st.exists || !st.active || issuedAt.Before(st.notBefore)
}

// RevocationState implements auth.RevocationStateChecker: when the database
// cannot be read the guard answers 503 (try again), not 401, so a client (the
// order worker) keeps its valid token instead of logging in again and again.
func (c *stateCache) RevocationState(ctx context.Context, id uuid.UUID, issuedAt time.Time) (bool, error) {
	st, err := c.get(ctx, id)
	if err != nil {
		return false, err
	}
	return !st.exists || !st.active || issuedAt.Before(st.notBefore), nil
}
