package users

import (
	"context"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/delivery/platform/internal/auth"
	"github.com/delivery/platform/internal/httpx"
	"github.com/delivery/platform/services/users/db"
)

// The revocation feed: every other service learns from it, by polling in the
// background (auth.RevocationFeed), which accounts lost their tokens, so that
// no request waits on the users service. A row says "tokens of this user
// issued before not_before are void"; it is written when an account is
// deactivated, deleted or given another role, and kept while a token issued
// before it could still be alive (the longest token lifetime plus the clock
// leeway).

// revocationWindow is how long a revocation matters.
const revocationWindow = auth.MaxTTL + auth.Leeway

// revoke voids the tokens user id holds now. not_before is this service's
// clock, the same clock that stamps iat on the tokens it signs.
func revoke(ctx context.Context, q *db.Queries, id uuid.UUID) error {
	now := time.Now()
	if err := q.RevokeTokens(ctx, db.RevokeTokensParams{UserID: id, NotBefore: now}); err != nil {
		return err
	}
	_, err := q.PruneRevocations(ctx, now.Add(-revocationWindow))
	return err
}

// revocations answers GET /auth/revocations?since=RFC 3339 time. It is public,
// like a certificate revocation list: it tells only opaque user ids and times,
// and the services that poll it hold no credentials of their own.
func (s *Service) revocations(c *fiber.Ctx) error {
	asOf := time.Now()
	oldest := asOf.Add(-revocationWindow)
	since := oldest
	if raw := c.Query("since"); raw != "" {
		t, err := time.Parse(time.RFC3339Nano, raw)
		if err != nil {
			return httpx.Invalid(httpx.FieldError{Field: "since", Message: "must be an RFC 3339 time such as 2025-01-02T15:04:05Z"})
		}
		if t.After(since) {
			since = t
		}
	}
	rows, err := s.q.ListRevocations(c.UserContext(), since)
	if err != nil {
		return err
	}
	out := auth.Revocations{AsOf: asOf.UTC(), Revocations: make([]auth.Revocation, 0, len(rows))}
	for _, r := range rows {
		out.Revocations = append(out.Revocations, auth.Revocation{UserID: r.UserID, NotBefore: r.NotBefore.UTC()})
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(out)
}
