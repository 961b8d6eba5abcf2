// Package auth verifies the JWTs issued by the users service, carries the caller
// in the request context, and checks roles. The users service signs; every
// service (users included) verifies against its JWKS.
package auth

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/delivery/platform/internal/httpx"
)

// Role is what a user may do.
type Role string

const (
	RoleAdmin    Role = "admin"
	RoleOperator Role = "operator"
	RoleCourier  Role = "courier"
	RoleService  Role = "service"
)

// Roles lists every role, in the order they are documented.
var Roles = []Role{RoleAdmin, RoleOperator, RoleCourier, RoleService}

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	for _, k := range Roles {
		if r == k {
			return true
		}
	}
	return false
}

// Algorithm is the only signing algorithm accepted: Ed25519.
const Algorithm = "EdDSA"

// Claims are the claims of an access token.
type Claims struct {
	jwt.RegisteredClaims
	Role Role `json:"role"`
}

// Principal is the authenticated caller.
type Principal struct {
	UserID    uuid.UUID
	Role      Role
	ExpiresAt time.Time
}

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the caller; ok is false for an anonymous request.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// RevocationChecker reports whether tokens of this user must no longer be
// accepted (the account was deactivated or deleted).
type RevocationChecker interface {
	Revoked(ctx context.Context, userID uuid.UUID) bool
}

// RevocationStateChecker is a checker that can also say it cannot tell now
// (its store is unreachable): such a request is answered 503, to be repeated,
// rather than 401, which would make a client throw a valid token away.
type RevocationStateChecker interface {
	RevocationState(ctx context.Context, userID uuid.UUID, issuedAt time.Time) (revoked bool, err error)
}

// ErrRevocationUnknown is returned by Verify when the revocation checker
// cannot tell whether the token was revoked.
var ErrRevocationUnknown = errors.New("the revocation state cannot be read now")

// Verifier checks access tokens: signature against the JWKS, algorithm pinned,
// exp required, issuer and audience checked, a small leeway for clock skew.
type Verifier struct {
	parser  *jwt.Parser
	keyfunc jwt.Keyfunc
	revoked RevocationChecker
	cache   *tokenCache // nil: every token is verified (see CacheTokens)
}

// Leeway is the clock skew tolerated on exp, nbf and iat.
const Leeway = 30 * time.Second

// NewVerifier returns a verifier using keyfunc to find the key of a token's kid.
func NewVerifier(keyfunc jwt.Keyfunc, issuer, audience string, revoked RevocationChecker) *Verifier {
	return &Verifier{
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{Algorithm}),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithIssuer(issuer),
			jwt.WithAudience(audience),
			jwt.WithLeeway(Leeway),
		),
		keyfunc: keyfunc,
		revoked: revoked,
	}
}

// ErrInvalidToken is returned for every token that is not accepted; the reason
// is logged by nobody and never told to the client.
var ErrInvalidToken = errors.New("invalid token")

// Verify parses and checks a raw token.
func (v *Verifier) Verify(ctx context.Context, raw string) (Principal, error) {
	if v.cache != nil {
		if t, ok := v.cache.get(raw); ok {
			if revoked, err := v.isRevoked(ctx, t.p.UserID, t.iat); err != nil || revoked {
				return Principal{}, revocationError(err)
			}
			return t.p, nil
		}
	}
	var claims Claims
	tok, err := v.parser.ParseWithClaims(raw, &claims, v.keyfunc)
	if err != nil || !tok.Valid {
		return Principal{}, ErrInvalidToken
	}
	id, err := uuid.Parse(claims.Subject)
	if err != nil || !claims.Role.Valid() || claims.ExpiresAt == nil {
		return Principal{}, ErrInvalidToken
	}
	var iat time.Time // none: older than any revocation
	if claims.IssuedAt != nil {
		iat = claims.IssuedAt.Time
	}
	if revoked, err := v.isRevoked(ctx, id, iat); err != nil || revoked {
		return Principal{}, revocationError(err)
	}
	p := Principal{UserID: id, Role: claims.Role, ExpiresAt: claims.ExpiresAt.Time}
	if v.cache != nil {
		v.cache.put(raw, cachedToken{p: p, iat: iat})
	}
	return p, nil
}

// isRevoked asks the revocation checker, if any, about a token of id issued
// at iat.
func (v *Verifier) isRevoked(ctx context.Context, id uuid.UUID, iat time.Time) (bool, error) {
	switch r := v.revoked.(type) {
	case nil:
		return false, nil
	case RevocationStateChecker:
		return r.RevocationState(ctx, id, iat)
	case TokenRevocationChecker:
		return r.RevokedToken(ctx, id, iat), nil
	}
	return v.revoked.Revoked(ctx, id), nil
}

func revocationError(err error) error {
	if err != nil {
		return ErrRevocationUnknown
	}
	return ErrInvalidToken
}

// authenticate checks the bearer token of c and returns its principal.
func (v *Verifier) authenticate(c *fiber.Ctx) (Principal, error) {
	scheme, raw, ok := strings.Cut(c.Get(fiber.HeaderAuthorization), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(raw) == "" {
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="delivery"`)
		return Principal{}, httpx.Errorf(httpx.CodeUnauthorized, "a bearer token is required")
	}
	p, err := v.Verify(c.UserContext(), strings.TrimSpace(raw))
	if errors.Is(err, ErrRevocationUnknown) {
		return Principal{}, httpx.Errorf(httpx.CodeUnavailable, "the token cannot be checked now: try again")
	}
	if err != nil {
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="delivery", error="invalid_token"`)
		return Principal{}, httpx.Errorf(httpx.CodeUnauthorized, "the token is invalid or expired")
	}
	return p, nil
}

// Guard builds the handler that protects one route: it authenticates the
// bearer token (401) and admits only the given roles (403). Every route states
// its roles through it.
type Guard func(roles ...Role) fiber.Handler

// NewGuard returns the Guard of verifier v.
func NewGuard(v *Verifier) Guard {
	return func(roles ...Role) fiber.Handler {
		return func(c *fiber.Ctx) error {
			p, err := v.authenticate(c)
			if err != nil {
				return err
			}
			if !slices.Contains(roles, p.Role) {
				return httpx.Errorf(httpx.CodeForbidden, "role %s may not do this", p.Role)
			}
			c.SetUserContext(WithPrincipal(c.UserContext(), p))
			return c.Next()
		}
	}
}
