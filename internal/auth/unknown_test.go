package auth

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/delivery/platform/internal/httpx"
)

// storeDown is a revocation checker whose store cannot be read.
type storeDown struct{ down bool }

func (s *storeDown) Revoked(context.Context, uuid.UUID) bool { return s.down }
func (s *storeDown) RevocationState(context.Context, uuid.UUID, time.Time) (bool, error) {
	if s.down {
		return false, errors.New("connection refused")
	}
	return false, nil
}

// A token that cannot be checked because the revocation store is down is a
// 503 (try again), not a 401 that would make a client drop a valid token;
// also when it is in the cache.
func TestRevocationStoreDownIs503(t *testing.T) {
	store := &storeDown{}
	s, v, _ := cacheFixture(t, 10, store)
	app := httpx.New(httpx.Options{Name: "t"})
	app.Get("/x", NewGuard(v)(RoleOperator), func(c *fiber.Ctx) error { return c.SendString("ok") })
	raw, _ := s.Sign(uuid.New(), RoleOperator)
	get := func() int {
		req := httptest.NewRequest("GET", "/x", nil)
		req.Header.Set("Authorization", "Bearer "+raw)
		resp, err := app.Test(req, -1)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode
	}
	if got := get(); got != 200 {
		t.Fatalf("store up: %d", got)
	}
	store.down = true
	if got := get(); got != 503 {
		t.Fatalf("store down (cached token): %d, want 503", got)
	}
	v.cache = nil
	if got := get(); got != 503 {
		t.Fatalf("store down: %d, want 503", got)
	}
}
