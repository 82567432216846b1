package meow

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/types"

	"github.com/wabridge/b24wa/connector/wa"
)

const (
	// maxPictureBytes bounds a profile picture download. Full-size profile
	// pictures are JPEGs of a few hundred kilobytes at most (an estimate
	// from observed pictures, not a documented limit).
	maxPictureBytes = 5 << 20
	// pictureTimeout bounds the lookup and the download together.
	pictureTimeout = 30 * time.Second
)

// ProfilePicture looks up the full-size picture of jid and downloads it from
// the URL WhatsApp returned. The URL points at WhatsApp's CDN and expires,
// so callers keep the bytes, not the URL.
func (s *Session) ProfilePicture(ctx context.Context, jid types.JID) (*wa.Picture, error) {
	ctx, cancel := context.WithTimeout(ctx, pictureTimeout)
	defer cancel()

	info, err := s.client.GetProfilePictureInfo(ctx, jid, &whatsmeow.GetProfilePictureParams{})
	info, err = pictureInfoResult(info, err)
	if err != nil {
		return nil, fmt.Errorf("look up profile picture of %s: %w", jid, err)
	}
	if info == nil {
		return nil, nil
	}

	data, mimeType, err := s.downloadPicture(ctx, info.URL)
	if err != nil {
		return nil, fmt.Errorf("download profile picture %s of %s: %w", info.ID, jid, err)
	}
	return &wa.Picture{ID: info.ID, Data: data, MimeType: mimeType}, nil
}

// pictureInfoResult maps the results of GetProfilePictureInfo that mean "no
// picture to show" to a nil info and a nil error: no picture set, a picture
// hidden by the contact's privacy settings, and an info without a URL.
func pictureInfoResult(info *types.ProfilePictureInfo, err error) (*types.ProfilePictureInfo, error) {
	if errors.Is(err, whatsmeow.ErrProfilePictureNotSet) || errors.Is(err, whatsmeow.ErrProfilePictureUnauthorized) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if info == nil || info.URL == "" {
		return nil, nil
	}
	return info, nil
}

// downloadPicture fetches url with the backend's HTTP client and rejects a
// body above maxPictureBytes.
func (s *Session) downloadPicture(ctx context.Context, url string) ([]byte, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, "", err
	}
	client := s.backend.opts.HTTPClient
	if client == nil {
		client = &http.Client{}
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()

	if resp.StatusCode != http.StatusOK {
		return nil, "", fmt.Errorf("unexpected HTTP status %s", resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxPictureBytes+1))
	if err != nil {
		return nil, "", err
	}
	if len(data) > maxPictureBytes {
		return nil, "", fmt.Errorf("picture is larger than %d bytes", maxPictureBytes)
	}
	return data, pictureMimeType(resp.Header.Get("Content-Type"), data), nil
}

// pictureMimeType returns the response's image type, or the type sniffed
// from the bytes when the header is missing or not an image.
func pictureMimeType(header string, data []byte) string {
	if mediaType, _, err := mime.ParseMediaType(header); err == nil && strings.HasPrefix(mediaType, "image/") {
		return mediaType
	}
	return http.DetectContentType(data)
}
