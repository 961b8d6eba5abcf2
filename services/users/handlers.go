// Package users is the users service: system accounts, login, and the only
// holder of the key that signs the platform's access tokens.
package users

import (
	"context"
	"crypto/rand"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/crypto/bcrypt"

	"github.com/delivery/platform/internal/auth"
	"github.com/delivery/platform/internal/config"
	"github.com/delivery/platform/internal/httpx"
	"github.com/delivery/platform/internal/pg"
	"github.com/delivery/platform/services/users/db"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Migrations is the schema of the users database.
func Migrations() fs.FS {
	sub, _ := fs.Sub(migrations, "migrations")
	return sub
}

// OpenAPIDoc is the API this service publishes at /openapi.yaml.
//
//go:embed openapi.yaml
var OpenAPIDoc []byte

// bcryptCost is the work factor of password hashes.
const bcryptCost = bcrypt.DefaultCost

// Service is the users service: its pool, queries, the token signer and the
// verifier of its own tokens.
type Service struct {
	pool     *pgxpool.Pool
	q        *db.Queries
	signer   *auth.Signer
	verifier *auth.Verifier
	states   *stateCache
	// perAccount and perAddress count failed logins (429 beyond them).
	perAccount, perAddress *attemptLimiter
	// dummyHash is compared against for unknown emails, so that a login takes
	// as long whether or not the account exists.
	dummyHash []byte
}

// New returns the service on pool. It loads the signing keys, creating the
// first one when the database has none (as Bootstrap does).
func New(pool *pgxpool.Pool, cfg config.Config) (*Service, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	q := db.New(pool)
	if err := pg.Tx(ctx, pool, func(tx pgx.Tx) error { return ensureSigningKey(ctx, q.WithTx(tx)) }); err != nil {
		return nil, fmt.Errorf("users: signing key: %w", err)
	}
	rows, err := q.ListSigningKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("users: signing keys: %w", err)
	}
	keys := make([]auth.SigningKey, 0, len(rows))
	for _, r := range rows {
		k, err := auth.SigningKeyFromSeed(r.Kid, r.PrivateKey)
		if err != nil {
			return nil, fmt.Errorf("users: %w", err)
		}
		keys = append(keys, k)
	}
	signer, err := auth.NewSigner(keys, cfg.JWTIssuer, cfg.JWTAudience, cfg.JWTTTL)
	if err != nil {
		return nil, fmt.Errorf("users: %w", err)
	}
	dummy, err := bcrypt.GenerateFromPassword([]byte(rand.Text()), bcryptCost)
	if err != nil {
		return nil, err
	}
	states := newStateCache(q, stateTTL)
	return &Service{
		pool:       pool,
		q:          q,
		signer:     signer,
		verifier:   auth.NewVerifier(signer.Keyfunc, cfg.JWTIssuer, cfg.JWTAudience, states),
		states:     states,
		dummyHash:  dummy,
		perAccount: newAttemptLimiter(cfg.LoginAccountPerMin, cfg.LoginAccountBurst),
		perAddress: newAttemptLimiter(cfg.LoginAddressPerMin, cfg.LoginAddressBurst),
	}, nil
}

// Guard admits the tokens this service signed, verified with its own keys (no
// HTTP), and refuses those of deactivated or deleted accounts.
func (s *Service) Guard() auth.Guard { return auth.NewGuard(s.verifier) }

// Verifier is the verifier behind Guard.
func (s *Service) Verifier() *auth.Verifier { return s.verifier }

func hashPassword(pw string) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcryptCost)
	return string(h), err
}

var errBadLogin = httpx.Errorf(httpx.CodeUnauthorized, "the email or password is wrong, or the account is inactive")

// login exchanges an email and password for an access token. A wrong
// password, an unknown email and an inactive account answer the same 401 in
// about the same time.
func (s *Service) login(c *fiber.Ctx) error {
	var req LoginRequest
	if err := httpx.Bind(c, &req); err != nil {
		return err
	}
	// Brute force: failed attempts are limited per client address, then per
	// account, before any password is compared.
	addr, account := strings.Clone(c.IP()), strings.ToLower(req.Email)
	if ok, wait := s.perAddress.take(addr); !ok {
		return tooManyLogins(c, wait, "from this address")
	}
	if ok, wait := s.perAccount.take(account); !ok {
		return tooManyLogins(c, wait, "for this account")
	}
	ctx := c.UserContext()
	u, err := s.q.GetUserByEmail(ctx, req.Email)
	if errors.Is(err, pgx.ErrNoRows) {
		_ = bcrypt.CompareHashAndPassword(s.dummyHash, []byte(req.Password))
		return errBadLogin
	}
	if err != nil {
		return err
	}
	// Longer passwords are never set; bcrypt would compare only their first
	// 72 bytes.
	if bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(req.Password)) != nil ||
		len(req.Password) > MaxPassword || !u.Active {
		return errBadLogin
	}
	s.perAddress.give(addr)
	s.perAccount.give(account)
	// The token must be younger than the account's latest revocation, and
	// iat has whole seconds: right after one, wait for the next second.
	if st, err := s.q.UserState(ctx, u.ID); err == nil && st.TokensNotBefore != nil {
		if wait := time.Until(st.TokensNotBefore.Truncate(time.Second).Add(time.Second)); wait > 0 && wait <= time.Second {
			time.Sleep(wait)
		}
	}
	tok, err := s.signer.Sign(u.ID, auth.Role(u.Role))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(LoginResponse{AccessToken: tok, TokenType: "Bearer", ExpiresIn: int64(s.signer.TTL() / time.Second)})
}

// tooManyLogins answers 429 with the seconds until the next attempt.
func tooManyLogins(c *fiber.Ctx, wait time.Duration, from string) error {
	c.Set(fiber.HeaderRetryAfter, strconv.Itoa(max(1, int(math.Ceil(wait.Seconds())))))
	return httpx.Errorf(httpx.CodeTooManyRequests, "too many failed logins %s: try again later", from)
}

// jwks publishes the public keys every service verifies tokens with.
func (s *Service) jwks(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "public, max-age=300")
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return c.Send(s.signer.JWKS())
}

// caller returns the authenticated caller, refusing a token whose role is no
// longer the account's (an admin demoted a minute ago must not keep managing
// users until the token expires).
func (s *Service) caller(ctx context.Context) (auth.Principal, error) {
	p, ok := auth.FromContext(ctx)
	if !ok {
		return p, httpx.Errorf(httpx.CodeUnauthorized, "a bearer token is required")
	}
	st, err := s.states.get(ctx, p.UserID)
	if err != nil {
		return p, err
	}
	if !st.exists || !st.active || st.role != p.Role {
		return p, httpx.Errorf(httpx.CodeUnauthorized, "the token no longer matches the account: log in again")
	}
	return p, nil
}

// admin returns the caller when it is an admin.
func (s *Service) admin(ctx context.Context) (auth.Principal, error) {
	p, err := s.caller(ctx)
	if err == nil && p.Role != auth.RoleAdmin {
		err = httpx.Errorf(httpx.CodeForbidden, "role %s may not do this", p.Role)
	}
	return p, err
}

func (s *Service) resource() httpx.Resource[UserRequest, User] {
	return httpx.Resource[UserRequest, User]{
		Entity:  "user",
		Path:    "/users",
		ID:      func(u User) uuid.UUID { return u.ID },
		NewReq:  newUserRequest,
		Current: toUserRequest,
		Get: func(ctx context.Context, id uuid.UUID) (User, error) {
			if _, err := s.caller(ctx); err != nil {
				return User{}, err
			}
			u, err := s.q.GetUser(ctx, id)
			return toUser(u), pg.Error(err, "user", id)
		},
		List: func(ctx context.Context, page httpx.Page, q httpx.Query) ([]User, error) {
			if _, err := s.admin(ctx); err != nil {
				return nil, err
			}
			f := httpx.NewFilters(q)
			params := db.ListUsersParams{
				After: page.After, Lim: page.Limit + 1,
				Role: f.OneOf("role", roleNames...), Active: f.Bool("active"), Q: f.Text("q", 100),
			}
			if err := f.Err(); err != nil {
				return nil, err
			}
			rows, err := s.q.ListUsers(ctx, params)
			out := make([]User, len(rows))
			for i, r := range rows {
				out[i] = toUser(r)
			}
			return out, err
		},
		Create: func(ctx context.Context, r *UserRequest) (User, error) {
			if _, err := s.admin(ctx); err != nil {
				return User{}, err
			}
			if r.Password == "" {
				return User{}, httpx.Invalid(httpx.FieldError{Field: "password", Message: "is required"})
			}
			hash, err := hashPassword(r.Password)
			if err != nil {
				return User{}, err
			}
			u, err := s.q.CreateUser(ctx, db.CreateUserParams{
				ID: uuid.Must(uuid.NewV7()), Email: r.Email, Name: r.Name, PasswordHash: hash,
				Role: string(r.Role), Active: r.Active,
			})
			return toUser(u), pg.Error(err, "user", nil)
		},
		Update: func(ctx context.Context, id uuid.UUID, r *UserRequest) (User, error) {
			p, err := s.admin(ctx)
			if err != nil {
				return User{}, err
			}
			if id == p.UserID && (r.Role != auth.RoleAdmin || !r.Active) {
				return User{}, httpx.Errorf(httpx.CodeConflict,
					"you cannot deactivate or demote your own account: another admin must do it")
			}
			var hash string
			if r.Password != "" {
				if hash, err = hashPassword(r.Password); err != nil {
					return User{}, err
				}
			}
			var u db.User
			err = pg.Tx(ctx, s.pool, func(tx pgx.Tx) error {
				q := s.q.WithTx(tx)
				before, err := q.UserState(ctx, id)
				if err != nil {
					return err
				}
				if u, err = q.UpdateUser(ctx, db.UpdateUserParams{
					ID: id, Email: r.Email, Name: r.Name, Role: string(r.Role), Active: r.Active, PasswordHash: hash,
				}); err != nil {
					return err
				}
				// Deactivated or given another role: its tokens are void everywhere.
				if !u.Active || u.Role != before.Role {
					return revoke(ctx, q, id)
				}
				return nil
			})
			s.states.forget(id)
			return toUser(u), pg.Error(err, "user", id)
		},
		Delete: func(ctx context.Context, id uuid.UUID) error {
			p, err := s.admin(ctx)
			if err != nil {
				return err
			}
			if id == p.UserID {
				return httpx.Errorf(httpx.CodeConflict, "you cannot delete your own account: another admin must do it")
			}
			var n int64
			err = pg.Tx(ctx, s.pool, func(tx pgx.Tx) error {
				q := s.q.WithTx(tx)
				if n, err = q.DeleteUser(ctx, id); err != nil || n == 0 {
					return err
				}
				return revoke(ctx, q, id)
			})
			s.states.forget(id)
			if err != nil {
				return pg.Error(err, "user", id)
			}
			if n == 0 {
				return httpx.NotFound("user", id)
			}
			return nil
		},
	}
}

// me answers the caller's own account.
func (s *Service) me(c *fiber.Ctx) error {
	ctx := c.UserContext()
	p, err := s.caller(ctx)
	if err != nil {
		return err
	}
	u, err := s.q.GetUser(ctx, p.UserID)
	if err != nil {
		return pg.Error(err, "user", p.UserID)
	}
	return c.JSON(toUser(u))
}

// patchMe lets a user change their own name and password, nothing else.
func (s *Service) patchMe(c *fiber.Ctx) error {
	ctx := c.UserContext()
	p, err := s.caller(ctx)
	if err != nil {
		return err
	}
	var req MeRequest
	if err := httpx.Bind(c, &req); err != nil {
		return err
	}
	cur, err := s.q.GetUser(ctx, p.UserID)
	if err != nil {
		return pg.Error(err, "user", p.UserID)
	}
	switch {
	case req.Role != nil && string(*req.Role) != cur.Role:
		return httpx.Errorf(httpx.CodeForbidden, "you cannot change your own role: an admin must do it")
	case req.Active != nil && *req.Active != cur.Active:
		return httpx.Errorf(httpx.CodeForbidden, "you cannot change whether your own account is active: an admin must do it")
	case req.Email != nil && *req.Email != cur.Email:
		return httpx.Errorf(httpx.CodeForbidden, "you cannot change your own email: an admin must do it")
	}
	name := cur.Name
	if req.Name != nil {
		name = *req.Name
	}
	var hash string
	if req.Password != nil && *req.Password != "" {
		if bcrypt.CompareHashAndPassword([]byte(cur.PasswordHash), []byte(*req.CurrentPassword)) != nil ||
			len(*req.CurrentPassword) > MaxPassword {
			return httpx.Invalid(httpx.FieldError{Field: "current_password", Message: "is not your current password"})
		}
		if hash, err = hashPassword(*req.Password); err != nil {
			return err
		}
	}
	u, err := s.q.UpdateOwnProfile(ctx, db.UpdateOwnProfileParams{ID: p.UserID, Name: name, PasswordHash: hash})
	if errors.Is(err, pgx.ErrNoRows) { // deactivated or deleted meanwhile
		s.states.forget(p.UserID)
		return httpx.Errorf(httpx.CodeUnauthorized, "the token no longer matches the account: log in again")
	}
	if err != nil {
		return pg.Error(err, "user", p.UserID)
	}
	return c.JSON(toUser(u))
}
