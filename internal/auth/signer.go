package auth

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

// MaxTTL is the longest an access token may live.
const MaxTTL = 15 * time.Minute

// SigningKey is one Ed25519 private key and its key id (the JWT header kid).
type SigningKey struct {
	KID string
	Key ed25519.PrivateKey
}

// NewSigningKey generates a key whose kid is its RFC 7638 JWK thumbprint.
func NewSigningKey() (SigningKey, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return SigningKey{}, err
	}
	return SigningKey{KID: Thumbprint(priv.Public().(ed25519.PublicKey)), Key: priv}, nil
}

// SigningKeyFromSeed rebuilds a stored key from its 32-byte seed.
func SigningKeyFromSeed(kid string, seed []byte) (SigningKey, error) {
	if len(seed) != ed25519.SeedSize {
		return SigningKey{}, fmt.Errorf("signing key %s: want a %d-byte Ed25519 seed, got %d bytes", kid, ed25519.SeedSize, len(seed))
	}
	return SigningKey{KID: kid, Key: ed25519.NewKeyFromSeed(seed)}, nil
}

// Thumbprint is the RFC 7638 SHA-256 thumbprint of an Ed25519 public key.
func Thumbprint(pub ed25519.PublicKey) string {
	// Members in lexicographic order, no whitespace (RFC 7638 §3, RFC 8037 §2).
	canon := fmt.Sprintf(`{"crv":"Ed25519","kty":"OKP","x":"%s"}`, base64.RawURLEncoding.EncodeToString(pub))
	sum := sha256.Sum256([]byte(canon))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// Signer issues access tokens. Only the users service holds one: the newest
// key signs, every key it knows is published in the JWKS.
type Signer struct {
	issuer   string
	audience string
	ttl      time.Duration
	current  SigningKey
	public   map[string]ed25519.PublicKey
	jwks     json.RawMessage
	now      func() time.Time
}

// NewSigner returns a signer that signs with keys[0] and publishes all keys.
func NewSigner(keys []SigningKey, issuer, audience string, ttl time.Duration) (*Signer, error) {
	if len(keys) == 0 {
		return nil, errors.New("signer: no signing key")
	}
	if ttl <= 0 || ttl > MaxTTL {
		return nil, fmt.Errorf("signer: token lifetime %s must be between 1s and %s", ttl, MaxTTL)
	}
	if issuer == "" || audience == "" {
		return nil, errors.New("signer: issuer and audience are required")
	}
	s := &Signer{issuer: issuer, audience: audience, ttl: ttl, current: keys[0],
		public: map[string]ed25519.PublicKey{}, now: time.Now}
	set := jwkset.NewMemoryStorage()
	ctx := context.Background()
	for _, k := range keys {
		if len(k.Key) != ed25519.PrivateKeySize || k.KID == "" {
			return nil, fmt.Errorf("signer: key %q is not an Ed25519 private key with a kid", k.KID)
		}
		pub := k.Key.Public().(ed25519.PublicKey)
		s.public[k.KID] = pub
		jwk, err := jwkset.NewJWKFromKey(pub, jwkset.JWKOptions{
			Metadata: jwkset.JWKMetadataOptions{ALG: jwkset.AlgEdDSA, KID: k.KID, USE: jwkset.UseSig},
		})
		if err != nil {
			return nil, fmt.Errorf("signer: key %s: %w", k.KID, err)
		}
		if err := set.KeyWrite(ctx, jwk); err != nil {
			return nil, err
		}
	}
	jwks, err := set.JSONPublic(ctx)
	if err != nil {
		return nil, err
	}
	s.jwks = jwks
	return s, nil
}

// TTL is the lifetime of the tokens this signer issues.
func (s *Signer) TTL() time.Duration { return s.ttl }

// Sign issues an access token for user id with role.
func (s *Signer) Sign(id uuid.UUID, role Role) (string, error) {
	now := s.now().Truncate(time.Second)
	claims := Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    s.issuer,
			Subject:   id.String(),
			Audience:  jwt.ClaimStrings{s.audience},
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(s.ttl)),
			ID:        uuid.NewString(),
		},
		Role: role,
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims)
	tok.Header["kid"] = s.current.KID
	return tok.SignedString(s.current.Key)
}

// JWKS is the JSON Web Key Set of the public keys.
func (s *Signer) JWKS() json.RawMessage { return s.jwks }

// Keyfunc finds the public key of a token by its kid, without any HTTP: the
// users service verifies its own tokens with it.
func (s *Signer) Keyfunc(t *jwt.Token) (any, error) {
	if t.Method != jwt.SigningMethodEdDSA {
		return nil, ErrInvalidToken
	}
	kid, _ := t.Header["kid"].(string)
	key, ok := s.public[kid]
	if !ok {
		return nil, ErrInvalidToken
	}
	return key, nil
}
