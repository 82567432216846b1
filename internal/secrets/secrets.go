// Package secrets seals values at rest with AES-256-GCM and signs short-lived
// tokens with HMAC-SHA256, both derived from the one SECRET_KEY.
package secrets

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"

	"golang.org/x/crypto/hkdf"
)

// ErrDecrypt is returned by Open when a sealed value is corrupt, truncated or
// was sealed with a key this Box does not have.
var ErrDecrypt = errors.New("decrypt sealed value")

// Box seals and opens values. A sealed value starts with one byte naming the
// key version, so keys can be rotated: new values use the newest version and
// old rows stay readable while their version is configured.
type Box struct {
	current byte
	aeads   map[byte]cipher.AEAD
	signKey []byte
}

// New derives the encryption and signing keys from secret. Older secrets,
// oldest first, keep values sealed before a rotation readable; the current
// secret gets version len(older)+1.
func New(secret []byte, older ...[]byte) (*Box, error) {
	if len(secret) < 32 {
		return nil, fmt.Errorf("secret key is %d bytes, need at least 32", len(secret))
	}
	b := &Box{aeads: make(map[byte]cipher.AEAD)}
	all := append(append([][]byte{}, older...), secret)
	for i, s := range all {
		aead, err := newAEAD(s)
		if err != nil {
			return nil, err
		}
		b.aeads[byte(i+1)] = aead
	}
	b.current = byte(len(all))
	b.signKey = derive(secret, "b24wa signing v1")
	return b, nil
}

func newAEAD(secret []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(derive(secret, "b24wa encryption v1"))
	if err != nil {
		return nil, fmt.Errorf("create cipher: %w", err)
	}
	return cipher.NewGCM(block)
}

func derive(secret []byte, purpose string) []byte {
	key := make([]byte, 32)
	r := hkdf.New(sha256.New, secret, nil, []byte(purpose))
	if _, err := io.ReadFull(r, key); err != nil {
		panic("hkdf read: " + err.Error()) // cannot happen for 32 bytes
	}
	return key
}

// Seal encrypts plaintext. The additional data binds the value to its row
// (for example "portal:<member_id>:access_token") so a sealed value copied to
// another row does not open.
func (b *Box) Seal(plaintext []byte, additional string) []byte {
	aead := b.aeads[b.current]
	out := make([]byte, 1, 1+aead.NonceSize()+len(plaintext)+aead.Overhead())
	out[0] = b.current
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic("crypto/rand: " + err.Error())
	}
	out = append(out, nonce...)
	return aead.Seal(out, nonce, plaintext, []byte(additional))
}

// Open decrypts a value made by Seal with the same additional data. An empty
// input opens to nil, so optional columns need no special case.
func (b *Box) Open(sealed []byte, additional string) ([]byte, error) {
	if len(sealed) == 0 {
		return nil, nil
	}
	aead, ok := b.aeads[sealed[0]]
	if !ok {
		return nil, fmt.Errorf("%w: unknown key version %d", ErrDecrypt, sealed[0])
	}
	rest := sealed[1:]
	if len(rest) < aead.NonceSize()+aead.Overhead() {
		return nil, fmt.Errorf("%w: value is %d bytes, too short", ErrDecrypt, len(sealed))
	}
	plain, err := aead.Open(nil, rest[:aead.NonceSize()], rest[aead.NonceSize():], []byte(additional))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDecrypt, err)
	}
	return plain, nil
}

// SealString and OpenString are Seal and Open for text columns.
func (b *Box) SealString(plaintext, additional string) []byte {
	if plaintext == "" {
		return nil
	}
	return b.Seal([]byte(plaintext), additional)
}

// OpenString opens a value sealed by SealString.
func (b *Box) OpenString(sealed []byte, additional string) (string, error) {
	plain, err := b.Open(sealed, additional)
	return string(plain), err
}

// Sign returns a URL-safe HMAC-SHA256 of message under the signing key.
func (b *Box) Sign(message []byte) string {
	mac := hmac.New(sha256.New, b.signKey)
	mac.Write(message)
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// Verify reports whether signature is Sign(message), in constant time.
func (b *Box) Verify(message []byte, signature string) bool {
	want := b.Sign(message)
	return hmac.Equal([]byte(want), []byte(signature))
}
