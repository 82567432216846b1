package secrets

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Token errors returned by ParseToken.
var (
	ErrTokenMalformed = errors.New("token is malformed")
	ErrTokenSignature = errors.New("token signature is invalid")
	ErrTokenExpired   = errors.New("token has expired")
)

type envelope struct {
	Expires int64           `json:"exp"`
	Purpose string          `json:"p"`
	Claims  json.RawMessage `json:"c"`
}

// IssueToken returns a signed token carrying claims for one purpose until
// expires. The claims are readable by whoever holds the token, so they must
// not contain secrets.
func (b *Box) IssueToken(purpose string, claims any, expires time.Time) (string, error) {
	raw, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("encode token claims: %w", err)
	}
	body, err := json.Marshal(envelope{Expires: expires.Unix(), Purpose: purpose, Claims: raw})
	if err != nil {
		return "", fmt.Errorf("encode token: %w", err)
	}
	payload := base64.RawURLEncoding.EncodeToString(body)
	return payload + "." + b.Sign([]byte(payload)), nil
}

// ParseToken checks the signature, purpose and expiry of a token made by
// IssueToken and decodes its claims into dst.
func (b *Box) ParseToken(token, purpose string, now time.Time, dst any) error {
	payload, signature, ok := strings.Cut(token, ".")
	if !ok || payload == "" || signature == "" {
		return ErrTokenMalformed
	}
	if !b.Verify([]byte(payload), signature) {
		return ErrTokenSignature
	}
	body, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return ErrTokenMalformed
	}
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return ErrTokenMalformed
	}
	if env.Purpose != purpose {
		return fmt.Errorf("%w: made for %q, not %q", ErrTokenSignature, env.Purpose, purpose)
	}
	if now.Unix() >= env.Expires {
		return ErrTokenExpired
	}
	if err := json.Unmarshal(env.Claims, dst); err != nil {
		return fmt.Errorf("%w: claims: %v", ErrTokenMalformed, err)
	}
	return nil
}
