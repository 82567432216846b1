package wastore

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/wabridge/b24wa/internal/secrets"
)

// Kinds of sealed values, the third part of their additional data.
const (
	kindNoiseKey        = "noise_key"
	kindIdentityKey     = "identity_key"
	kindSignedPreKey    = "signed_pre_key"
	kindAdvKey          = "adv_key"
	kindAdvAccount      = "adv_account"
	kindIdentity        = "identity"
	kindPreKey          = "pre_key"
	kindSession         = "session"
	kindSenderKey       = "sender_key"
	kindAppStateSyncKey = "app_state_sync_key"
	kindAppStateHash    = "app_state_hash"
	kindMessageSecret   = "message_secret"
	kindPrivacyToken    = "privacy_token"
	kindEventPlaintext  = "event_plaintext"
	kindSentMessage     = "sent_message"
)

// additionalData binds a sealed value to its device, kind and row, for
// example wa:"123:4@s.whatsapp.net":session:"456:0". Every variable part is
// quoted so that parts containing ':' cannot be shifted into a neighbour and
// a value copied to another row fails to open.
func additionalData(ourJID, kind string, keys ...string) string {
	var b strings.Builder
	b.WriteString("wa:")
	b.WriteString(strconv.Quote(ourJID))
	b.WriteString(":")
	b.WriteString(kind)
	for _, key := range keys {
		b.WriteString(":")
		b.WriteString(strconv.Quote(key))
	}
	return b.String()
}

// sealer seals and opens the values of one device.
type sealer struct {
	box    *secrets.Box
	ourJID string
}

// seal encrypts plain, keeping nil as nil so that a NULL column stays NULL.
func (s sealer) seal(plain []byte, kind string, keys ...string) []byte {
	if plain == nil {
		return nil
	}
	return s.box.Seal(plain, additionalData(s.ourJID, kind, keys...))
}

// open decrypts a value made by seal. NULL opens to nil and a sealed empty
// value opens to an empty non-nil slice, as the plain column would scan.
func (s sealer) open(sealed []byte, kind string, keys ...string) ([]byte, error) {
	if sealed == nil {
		return nil, nil
	}
	plain, err := s.box.Open(sealed, additionalData(s.ourJID, kind, keys...))
	if err != nil {
		return nil, fmt.Errorf("open %s of %s: %w", kind, s.ourJID, err)
	}
	if plain == nil {
		plain = []byte{}
	}
	return plain, nil
}

// openKey32 opens a sealed 32-byte key.
func (s sealer) openKey32(sealed []byte, kind string, keys ...string) (*[32]byte, error) {
	plain, err := s.open(sealed, kind, keys...)
	if err != nil {
		return nil, err
	}
	if len(plain) != 32 {
		return nil, fmt.Errorf("%w: %s of %s is %d bytes, want 32", ErrInvalidLength, kind, s.ourJID, len(plain))
	}
	return (*[32]byte)(plain), nil
}
