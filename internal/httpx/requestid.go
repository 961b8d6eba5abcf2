package httpx

import (
	"context"
	"crypto/rand"
	"encoding/hex"

	"github.com/gofiber/fiber/v2"
)

type requestIDKey struct{}

// tracedKey marks a request that arrived with its own request id: a call
// another service (or a client) is following.
type tracedKey struct{}

// WithRequestID returns ctx carrying the request id.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID is the request id carried by ctx, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// ValidRequestID accepts a client's id only when it is short and made of safe
// characters, so that it cannot forge log lines.
func ValidRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
		default:
			return false
		}
	}
	return true
}

// requestIDMiddleware accepts or creates the request id, echoes it in the
// response and puts it in the user context for outgoing calls and workflows.
func requestIDMiddleware(c *fiber.Ctx) error {
	id := c.Get(RequestIDHeader)
	if !ValidRequestID(id) {
		id = newRequestID()
	} else {
		id = string([]byte(id)) // Fiber reuses its buffers: keep a copy.
		c.Locals(tracedKey{}, true)
	}
	c.Set(RequestIDHeader, id)
	c.SetUserContext(WithRequestID(c.UserContext(), id))
	return c.Next()
}
