package auth_test

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/delivery/platform/internal/auth"
)

const (
	issuer   = "delivery-users"
	audience = "delivery"
)

func newSigner(t *testing.T, keys ...auth.SigningKey) (*auth.Signer, auth.SigningKey) {
	t.Helper()
	if len(keys) == 0 {
		k, err := auth.NewSigningKey()
		if err != nil {
			t.Fatal(err)
		}
		keys = []auth.SigningKey{k}
	}
	s, err := auth.NewSigner(keys, issuer, audience, 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	return s, keys[0]
}

type revoked map[uuid.UUID]bool

func (r revoked) Revoked(_ context.Context, id uuid.UUID) bool { return r[id] }

func validClaims(id uuid.UUID) auth.Claims {
	now := time.Now()
	return auth.Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: issuer, Audience: jwt.ClaimStrings{audience}, Subject: id.String(),
			IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(5 * time.Minute)), ID: uuid.NewString(),
		},
		Role: auth.RoleOperator,
	}
}

func mint(t *testing.T, method jwt.SigningMethod, key any, kid string, claims jwt.Claims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	raw, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestSignedTokenVerifies(t *testing.T) {
	s, key := newSigner(t)
	v := auth.NewVerifier(s.Keyfunc, issuer, audience, nil)
	id := uuid.Must(uuid.NewV7())
	raw, err := s.Sign(id, auth.RoleCourier)
	if err != nil {
		t.Fatal(err)
	}
	p, err := v.Verify(context.Background(), raw)
	if err != nil {
		t.Fatalf("own token refused: %v", err)
	}
	if p.UserID != id || p.Role != auth.RoleCourier {
		t.Fatalf("principal = %+v", p)
	}

	// Header and claims as a client decoding the token sees them.
	parts := strings.Split(raw, ".")
	var header map[string]any
	var claims map[string]any
	decodePart(t, parts[0], &header)
	decodePart(t, parts[1], &claims)
	if header["alg"] != "EdDSA" || header["kid"] != key.KID || header["typ"] != "JWT" {
		t.Fatalf("header = %v", header)
	}
	for _, c := range []string{"iss", "aud", "sub", "role", "iat", "nbf", "exp", "jti"} {
		if _, ok := claims[c]; !ok {
			t.Errorf("claim %s missing: %v", c, claims)
		}
	}
	if claims["iss"] != issuer || claims["sub"] != id.String() || claims["role"] != "courier" {
		t.Fatalf("claims = %v", claims)
	}
	life := time.Duration(claims["exp"].(float64)-claims["iat"].(float64)) * time.Second
	if life <= 0 || life > 15*time.Minute {
		t.Fatalf("token lives %s", life)
	}
	if !p.ExpiresAt.After(time.Now()) || p.ExpiresAt.After(time.Now().Add(15*time.Minute+time.Second)) {
		t.Fatalf("expires at %s", p.ExpiresAt)
	}
	other, _ := s.Sign(id, auth.RoleCourier)
	var claims2 map[string]any
	decodePart(t, strings.Split(other, ".")[1], &claims2)
	if claims2["jti"] == claims["jti"] {
		t.Fatal("two tokens share a jti")
	}
}

func decodePart(t *testing.T, part string, v any) {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(part)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

func TestVerifierRejects(t *testing.T) {
	s, key := newSigner(t)
	id := uuid.Must(uuid.NewV7())
	pub := key.Key.Public().(ed25519.PublicKey)
	stranger, err := auth.NewSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	with := func(f func(*auth.Claims)) auth.Claims {
		c := validClaims(id)
		f(&c)
		return c
	}
	valid := mint(t, jwt.SigningMethodEdDSA, key.Key, key.KID, validClaims(id))
	parts := strings.Split(valid, ".")
	var payload map[string]any
	decodePart(t, parts[1], &payload)
	payload["role"] = "admin"
	forged, _ := json.Marshal(payload)
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString(forged) + "." + parts[2]

	cases := map[string]string{
		"alg none":                        mint(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, key.KID, validClaims(id)),
		"HS256 keyed with the public key": mint(t, jwt.SigningMethodHS256, []byte(pub), key.KID, validClaims(id)),
		"HS256 keyed with the public key as base64": mint(t, jwt.SigningMethodHS256,
			[]byte(base64.RawURLEncoding.EncodeToString(pub)), key.KID, validClaims(id)),
		"expired": mint(t, jwt.SigningMethodEdDSA, key.Key, key.KID, with(func(c *auth.Claims) {
			c.ExpiresAt = jwt.NewNumericDate(time.Now().Add(-2 * time.Minute))
		})),
		"no exp": mint(t, jwt.SigningMethodEdDSA, key.Key, key.KID, with(func(c *auth.Claims) { c.ExpiresAt = nil })),
		"nbf in the future": mint(t, jwt.SigningMethodEdDSA, key.Key, key.KID, with(func(c *auth.Claims) {
			c.NotBefore = jwt.NewNumericDate(time.Now().Add(5 * time.Minute))
		})),
		"iat in the future": mint(t, jwt.SigningMethodEdDSA, key.Key, key.KID, with(func(c *auth.Claims) {
			c.IssuedAt = jwt.NewNumericDate(time.Now().Add(5 * time.Minute))
		})),
		"wrong iss": mint(t, jwt.SigningMethodEdDSA, key.Key, key.KID, with(func(c *auth.Claims) { c.Issuer = "someone-else" })),
		"no iss":    mint(t, jwt.SigningMethodEdDSA, key.Key, key.KID, with(func(c *auth.Claims) { c.Issuer = "" })),
		"wrong aud": mint(t, jwt.SigningMethodEdDSA, key.Key, key.KID, with(func(c *auth.Claims) {
			c.Audience = jwt.ClaimStrings{"another-system"}
		})),
		"no aud":               mint(t, jwt.SigningMethodEdDSA, key.Key, key.KID, with(func(c *auth.Claims) { c.Audience = nil })),
		"tampered payload":     tampered,
		"unknown kid":          mint(t, jwt.SigningMethodEdDSA, stranger.Key, stranger.KID, validClaims(id)),
		"no kid":               mint(t, jwt.SigningMethodEdDSA, key.Key, "", validClaims(id)),
		"known kid, other key": mint(t, jwt.SigningMethodEdDSA, stranger.Key, key.KID, validClaims(id)),
		"subject not a uuid": mint(t, jwt.SigningMethodEdDSA, key.Key, key.KID, with(func(c *auth.Claims) {
			c.Subject = "admin"
		})),
		"unknown role": mint(t, jwt.SigningMethodEdDSA, key.Key, key.KID, with(func(c *auth.Claims) { c.Role = "root" })),
		"garbage":      "not.a.token",
		"empty":        "",
	}
	v := auth.NewVerifier(s.Keyfunc, issuer, audience, nil)
	if _, err := v.Verify(context.Background(), valid); err != nil {
		t.Fatalf("the control token is refused: %v", err)
	}
	for name, raw := range cases {
		t.Run(name, func(t *testing.T) {
			if p, err := v.Verify(context.Background(), raw); err == nil {
				t.Fatalf("accepted: %+v", p)
			}
		})
	}
	t.Run("revoked user", func(t *testing.T) {
		v := auth.NewVerifier(s.Keyfunc, issuer, audience, revoked{id: true})
		if _, err := v.Verify(context.Background(), valid); err == nil {
			t.Fatal("a revoked user's token was accepted")
		}
	})
}

func TestJWKS(t *testing.T) {
	older, _ := auth.NewSigningKey()
	newer, _ := auth.NewSigningKey()
	s, _ := newSigner(t, newer, older)
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(s.JWKS(), &set); err != nil {
		t.Fatal(err)
	}
	if len(set.Keys) != 2 {
		t.Fatalf("want both keys published, got %s", s.JWKS())
	}
	kids := map[any]bool{}
	for _, k := range set.Keys {
		if k["kty"] != "OKP" || k["crv"] != "Ed25519" || k["alg"] != "EdDSA" || k["use"] != "sig" || k["x"] == nil {
			t.Fatalf("key %v", k)
		}
		if _, private := k["d"]; private {
			t.Fatal("the JWKS publishes a private key")
		}
		kids[k["kid"]] = true
	}
	if !kids[newer.KID] || !kids[older.KID] {
		t.Fatalf("kids %v", kids)
	}

	// A service verifying through the published JWKS accepts the tokens, and a
	// token of the older key as well (rotation).
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(s.JWKS())
	}))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	kf, err := auth.RemoteKeys(ctx, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	v := auth.NewVerifier(kf.Keyfunc, issuer, audience, nil)
	id := uuid.Must(uuid.NewV7())
	raw, _ := s.Sign(id, auth.RoleAdmin)
	if p, err := v.Verify(ctx, raw); err != nil || p.UserID != id {
		t.Fatalf("verify through JWKS: %+v %v", p, err)
	}
	old := mint(t, jwt.SigningMethodEdDSA, older.Key, older.KID, validClaims(id))
	if _, err := v.Verify(ctx, old); err != nil {
		t.Fatalf("token of the older key: %v", err)
	}
	hs := mint(t, jwt.SigningMethodHS256, []byte(newer.Key.Public().(ed25519.PublicKey)), newer.KID, validClaims(id))
	if _, err := v.Verify(ctx, hs); err == nil {
		t.Fatal("HS256 accepted through the JWKS")
	}
}

func TestSignerKeyFromSeed(t *testing.T) {
	k, _ := auth.NewSigningKey()
	again, err := auth.SigningKeyFromSeed(k.KID, k.Key.Seed())
	if err != nil || !again.Key.Equal(k.Key) {
		t.Fatalf("seed round trip: %v", err)
	}
	if auth.Thumbprint(k.Key.Public().(ed25519.PublicKey)) != k.KID {
		t.Fatal("kid is not the key's thumbprint")
	}
	if _, err := auth.SigningKeyFromSeed("x", []byte("short")); err == nil {
		t.Fatal("short seed accepted")
	}
}

func TestNewSignerRefuses(t *testing.T) {
	k, _ := auth.NewSigningKey()
	for name, f := range map[string]func() error{
		"long ttl": func() error {
			_, err := auth.NewSigner([]auth.SigningKey{k}, issuer, audience, 16*time.Minute)
			return err
		},
		"zero ttl": func() error { _, err := auth.NewSigner([]auth.SigningKey{k}, issuer, audience, 0); return err },
		"no key":   func() error { _, err := auth.NewSigner(nil, issuer, audience, time.Minute); return err },
		"no iss":   func() error { _, err := auth.NewSigner([]auth.SigningKey{k}, "", audience, time.Minute); return err },
	} {
		if f() == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
