package bridge

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/wabridge/b24wa/connector"
)

// Media is a re-hosted file opened for serving.
type Media struct {
	Name     string
	MimeType string
	Size     int64
	Created  time.Time
	Content  io.ReadSeekCloser
}

// rehost writes data under DataDir/media with a random name and records it
// under the SHA-256 of a new 256-bit token. It returns the public URL, which
// is valid for MediaTTL; only the URL carries the token.
func (b *Bridge) rehost(ctx context.Context, lineID uint64, name, mimeType string, data []byte) (string, error) {
	rel := filepath.Join(randomHex(1), randomHex(16))
	if err := writeFileAtomic(filepath.Join(b.mediaDir, rel), data); err != nil {
		return "", err
	}

	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("generate media token: %w", err)
	}
	token := base64.RawURLEncoding.EncodeToString(raw)
	now := b.now()
	row := connector.MediaFile{
		LineID:      lineID,
		TokenHash:   hashToken(token),
		Name:        truncate(name, 255),
		MimeType:    truncate(mimeType, 128),
		Size:        int64(len(data)),
		StoragePath: rel,
		CreatedAt:   now,
		ExpiresAt:   now.Add(b.opts.MediaTTL),
	}
	if err := b.db.WithContext(ctx).Create(&row).Error; err != nil {
		_ = os.Remove(filepath.Join(b.mediaDir, rel))
		return "", fmt.Errorf("record media file: %w", err)
	}
	return b.opts.PublicURL + "/media/" + token + "/" + url.PathEscape(name), nil
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func writeFileAtomic(name string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(name), 0o700); err != nil {
		return fmt.Errorf("create media directory: %w", err)
	}
	tmp := name + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("write media file: %w", err)
	}
	if err := os.Rename(tmp, name); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write media file: %w", err)
	}
	return nil
}

// OpenMedia returns the re-hosted file of a media URL token. It returns
// ErrMediaNotFound for an unknown token and ErrMediaExpired after the URL's
// lifetime; the caller must close Content.
func (b *Bridge) OpenMedia(ctx context.Context, token string) (*Media, error) {
	if len(token) < 32 || len(token) > 64 {
		return nil, ErrMediaNotFound
	}
	var rows []connector.MediaFile
	if err := b.db.WithContext(ctx).Where("token_hash = ?", hashToken(token)).Limit(1).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("look up media file: %w", err)
	}
	if len(rows) == 0 {
		return nil, ErrMediaNotFound
	}
	row := rows[0]
	if !b.now().Before(row.ExpiresAt) {
		return nil, ErrMediaExpired
	}
	f, err := os.Open(filepath.Join(b.mediaDir, filepath.Clean(row.StoragePath)))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("media file %d: %w", row.ID, ErrMediaNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("open media file %d: %w", row.ID, err)
	}
	return &Media{Name: row.Name, MimeType: row.MimeType, Size: row.Size, Created: row.CreatedAt, Content: f}, nil
}

// sweepMedia deletes expired media rows and their files, in batches.
func (b *Bridge) sweepMedia(ctx context.Context) {
	for range 20 {
		var rows []connector.MediaFile
		err := b.db.WithContext(ctx).Where("expires_at <= ?", b.now()).Order("id").Limit(500).Find(&rows).Error
		if err != nil {
			b.log.ErrorContext(ctx, "List expired media failed", "error", err)
			return
		}
		if len(rows) == 0 {
			return
		}
		ids := make([]uint64, 0, len(rows))
		for _, r := range rows {
			if err := os.Remove(filepath.Join(b.mediaDir, filepath.Clean(r.StoragePath))); err != nil && !errors.Is(err, os.ErrNotExist) {
				b.log.WarnContext(ctx, "Delete expired media file failed", "media_id", r.ID, "error", err)
			}
			ids = append(ids, r.ID)
		}
		if err := b.db.WithContext(ctx).Where("id IN ?", ids).Delete(&connector.MediaFile{}).Error; err != nil {
			b.log.ErrorContext(ctx, "Delete expired media rows failed", "error", err)
			return
		}
		b.log.DebugContext(ctx, "Expired media deleted", "count", len(ids))
	}
}

// commonExtensions gives the file extension of the media types WhatsApp
// uses, independent of the host's MIME table.
var commonExtensions = map[string]string{
	"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp", "image/gif": ".gif",
	"video/mp4": ".mp4", "video/3gpp": ".3gp", "audio/ogg": ".ogg", "audio/mpeg": ".mp3",
	"audio/mp4": ".m4a", "audio/aac": ".aac", "audio/amr": ".amr", "application/pdf": ".pdf",
	"text/vcard": ".vcf", "text/plain": ".txt",
}

// fileName returns a safe file name with an extension that matches the MIME
// type: the sender's name when there is one, else base plus the extension.
func fileName(given, base, mimeType string) string {
	mediaType, _, _ := mime.ParseMediaType(mimeType)
	ext := commonExtensions[mediaType]
	if ext == "" {
		if exts, _ := mime.ExtensionsByType(mediaType); len(exts) > 0 {
			ext = exts[0]
		} else {
			ext = ".bin"
		}
	}
	name := strings.Map(func(r rune) rune {
		if r < 0x20 || strings.ContainsRune(`/\:*?"<>|`, r) {
			return '_'
		}
		return r
	}, path.Base(strings.ReplaceAll(given, `\`, "/")))
	name = strings.Trim(name, ". ")
	if name == "" || name == "_" {
		return base + ext
	}
	if path.Ext(name) == "" {
		name += ext
	}
	if len([]rune(name)) > 120 {
		ext := path.Ext(name)
		name = string([]rune(strings.TrimSuffix(name, ext))[:100]) + limitRunes(ext, 16)
	}
	return name
}
