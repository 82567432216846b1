package connector

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// ScanLinkTTL is how long a scan link stays valid after it is created.
const ScanLinkTTL = 15 * time.Minute

// scanLinkTokenBytes is the token's entropy: 256 bits, 43 base64url
// characters without padding.
const scanLinkTokenBytes = 32

// Scan link errors returned by ScanLinks.Resolve. The link pages turn
// ErrScanLinkNotFound into 404 and the others into 410.
var (
	ErrScanLinkNotFound = errors.New("scan link not found")
	ErrScanLinkExpired  = errors.New("scan link has expired")
	ErrScanLinkRevoked  = errors.New("scan link was revoked")
	ErrScanLinkUsed     = errors.New("scan link was already used")
)

// ScanLinks creates, resolves and ends public pairing links. A link's token
// is shown to its creator once; the database keeps only its SHA-256, so a
// database leak does not leak usable links.
type ScanLinks struct {
	db  *gorm.DB
	now func() time.Time
}

// NewScanLinks returns the scan link store. now is the clock; nil means
// time.Now.
func NewScanLinks(db *gorm.DB, now func() time.Time) *ScanLinks {
	if now == nil {
		now = time.Now
	}
	return &ScanLinks{db: db, now: now}
}

// Create makes a new link for a line, valid for ScanLinkTTL, and revokes
// every earlier link of that line that is still open. It returns the token,
// which is not stored and cannot be recovered later.
func (s *ScanLinks) Create(ctx context.Context, lineID uint64, createdBy int64, lang string) (string, *ScanLink, error) {
	token, err := newScanLinkToken()
	if err != nil {
		return "", nil, err
	}
	now := s.now().UTC().Truncate(time.Second)
	link := &ScanLink{
		LineID:    lineID,
		TokenHash: HashScanLinkToken(token),
		CreatedBy: createdBy,
		Lang:      lang,
		CreatedAt: now,
		ExpiresAt: now.Add(ScanLinkTTL),
	}
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := revokeOpenLinks(tx, lineID, now); err != nil {
			return err
		}
		return tx.Create(link).Error
	})
	if err != nil {
		return "", nil, fmt.Errorf("create scan link for line %d: %w", lineID, err)
	}
	return token, link, nil
}

// Resolve finds the link of a token by its hash alone and checks that it can
// still be used. Expired, revoked and used links are returned together with
// the matching error, so a page can tell what happened to them.
func (s *ScanLinks) Resolve(ctx context.Context, token string) (*ScanLink, error) {
	if len(token) != base64.RawURLEncoding.EncodedLen(scanLinkTokenBytes) {
		return nil, ErrScanLinkNotFound
	}
	var link ScanLink
	err := s.db.WithContext(ctx).Where("token_hash = ?", HashScanLinkToken(token)).Take(&link).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrScanLinkNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("find scan link: %w", err)
	}
	return &link, s.check(&link)
}

func (s *ScanLinks) check(link *ScanLink) error {
	switch {
	case link.UsedAt != nil:
		return ErrScanLinkUsed
	case link.RevokedAt != nil:
		return ErrScanLinkRevoked
	case !s.now().Before(link.ExpiresAt):
		return ErrScanLinkExpired
	}
	return nil
}

// Open returns the line's link that can still be used, or nil when there is
// none.
func (s *ScanLinks) Open(ctx context.Context, lineID uint64) (*ScanLink, error) {
	var links []ScanLink
	err := s.db.WithContext(ctx).
		Where("line_id = ? AND revoked_at IS NULL AND used_at IS NULL AND expires_at > ?", lineID, s.now().UTC()).
		Order("id DESC").Limit(1).Find(&links).Error
	if err != nil {
		return nil, fmt.Errorf("find open scan link of line %d: %w", lineID, err)
	}
	if len(links) == 0 {
		return nil, nil
	}
	return &links[0], nil
}

// Revoke ends every open link of a line. It returns how many links it ended.
// Expired links are left as they are, so their page keeps saying expired.
func (s *ScanLinks) Revoke(ctx context.Context, lineID uint64) (int64, error) {
	now := s.now().UTC()
	res := s.db.WithContext(ctx).Model(&ScanLink{}).
		Where("line_id = ? AND revoked_at IS NULL AND used_at IS NULL AND expires_at > ?", lineID, now).
		Update("revoked_at", now)
	if res.Error != nil {
		return 0, fmt.Errorf("revoke scan links of line %d: %w", lineID, res.Error)
	}
	return res.RowsAffected, nil
}

// MarkUsed ends a link after a successful pairing through it. It reports
// false when the link was already used, so only one pairing counts.
func (s *ScanLinks) MarkUsed(ctx context.Context, id uint64) (bool, error) {
	res := s.db.WithContext(ctx).Model(&ScanLink{}).
		Where("id = ? AND used_at IS NULL", id).
		Update("used_at", s.now().UTC())
	if res.Error != nil {
		return false, fmt.Errorf("mark scan link %d used: %w", id, res.Error)
	}
	return res.RowsAffected == 1, nil
}

func revokeOpenLinks(tx *gorm.DB, lineID uint64, now time.Time) error {
	return tx.Model(&ScanLink{}).
		Where("line_id = ? AND revoked_at IS NULL AND used_at IS NULL AND expires_at > ?", lineID, now).
		Update("revoked_at", now).Error
}

// HashScanLinkToken returns the hex SHA-256 of a token, the only form of it
// that is stored.
func HashScanLinkToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func newScanLinkToken() (string, error) {
	raw := make([]byte, scanLinkTokenBytes)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("generate scan link token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(raw), nil
}
