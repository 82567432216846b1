package bridge

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strings"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"google.golang.org/protobuf/proto"

	"github.com/wabridge/b24wa/portal"
)

// maxRedirects bounds the redirects followed when fetching a portal file.
const maxRedirects = 5

// fileError is a file that the portal refused with a 4xx status, so
// retrying the download does not help.
type fileError struct{ err error }

func (e *fileError) Error() string { return e.err.Error() }
func (e *fileError) Unwrap() error { return e.err }

// isFileProblem reports failures that skip the file with a note instead of
// retrying the whole message.
func isFileProblem(err error) bool {
	var fe *fileError
	return errors.As(err, &fe) || errors.Is(err, ErrFileTooLarge) || errors.Is(err, ErrFileOrigin) ||
		errors.Is(err, portal.ErrInvalidEndpoint)
}

// fileMessage downloads an operator's file from the portal, uploads it to
// WhatsApp and builds the message of the matching media type.
func (b *Bridge) fileMessage(ctx context.Context, j *outJob, f outFile) (*waE2E.Message, error) {
	if f.Size > b.opts.MaxOutboundFile {
		return nil, fmt.Errorf("file %q of %d bytes: %w", f.Name, f.Size, ErrFileTooLarge)
	}
	data, contentType, err := b.downloadPortalFile(ctx, j.line.PortalID, f.Link)
	if err != nil {
		return nil, err
	}
	mimeType := mediaTypeOf(f, contentType, data)
	kind, mediaType := whatsAppKind(mimeType, data)
	up, err := j.sess.Upload(ctx, data, mediaType)
	if err != nil {
		return nil, fmt.Errorf("upload %q: %w", f.Name, err)
	}
	return buildMediaMessage(kind, mimeType, f.Name, up), nil
}

// mediaTypeOf picks the file's MIME type: the event's type, else the
// portal's Content-Type, else a sniff of the content.
func mediaTypeOf(f outFile, contentType string, data []byte) string {
	for _, t := range []string{f.Type, contentType} {
		if mt, _, err := mime.ParseMediaType(t); err == nil && mt != "application/octet-stream" {
			if strings.Contains(mt, "/") {
				return mt
			}
		}
	}
	if mt := mime.TypeByExtension(strings.ToLower(path.Ext(f.Name))); mt != "" {
		base, _, _ := mime.ParseMediaType(mt)
		return base
	}
	base, _, _ := mime.ParseMediaType(http.DetectContentType(data))
	return base
}

// whatsAppKind maps a MIME type to the WhatsApp message kind. A voice note
// needs Ogg with Opus; other audio WhatsApp plays is sent as audio, and
// anything else as a document.
func whatsAppKind(mimeType string, data []byte) (string, whatsmeow.MediaType) {
	switch mimeType {
	case "image/jpeg", "image/png", "image/webp":
		return "image", whatsmeow.MediaImage
	case "video/mp4":
		return "video", whatsmeow.MediaVideo
	case "audio/ogg", "audio/opus":
		if isOggOpus(data) {
			return "voice", whatsmeow.MediaAudio
		}
	case "audio/mpeg", "audio/mp4", "audio/aac", "audio/amr":
		return "audio", whatsmeow.MediaAudio
	}
	return "document", whatsmeow.MediaDocument
}

// isOggOpus reports an Ogg stream whose first packet is an Opus header.
func isOggOpus(data []byte) bool {
	head := data[:min(len(data), 128)]
	return bytes.HasPrefix(head, []byte("OggS")) && bytes.Contains(head, []byte("OpusHead"))
}

func buildMediaMessage(kind, mimeType, name string, up whatsmeow.UploadResponse) *waE2E.Message {
	switch kind {
	case "image":
		return &waE2E.Message{ImageMessage: &waE2E.ImageMessage{
			URL: proto.String(up.URL), DirectPath: proto.String(up.DirectPath), MediaKey: up.MediaKey,
			Mimetype: proto.String(mimeType), FileEncSHA256: up.FileEncSHA256, FileSHA256: up.FileSHA256,
			FileLength: proto.Uint64(up.FileLength),
		}}
	case "video":
		return &waE2E.Message{VideoMessage: &waE2E.VideoMessage{
			URL: proto.String(up.URL), DirectPath: proto.String(up.DirectPath), MediaKey: up.MediaKey,
			Mimetype: proto.String(mimeType), FileEncSHA256: up.FileEncSHA256, FileSHA256: up.FileSHA256,
			FileLength: proto.Uint64(up.FileLength),
		}}
	case "voice", "audio":
		if kind == "voice" {
			mimeType = "audio/ogg; codecs=opus"
		}
		return &waE2E.Message{AudioMessage: &waE2E.AudioMessage{
			URL: proto.String(up.URL), DirectPath: proto.String(up.DirectPath), MediaKey: up.MediaKey,
			Mimetype: proto.String(mimeType), FileEncSHA256: up.FileEncSHA256, FileSHA256: up.FileSHA256,
			FileLength: proto.Uint64(up.FileLength), PTT: proto.Bool(kind == "voice"),
		}}
	}
	name = fileName(name, "file", mimeType)
	return &waE2E.Message{DocumentMessage: &waE2E.DocumentMessage{
		URL: proto.String(up.URL), DirectPath: proto.String(up.DirectPath), MediaKey: up.MediaKey,
		Mimetype: proto.String(mimeType), FileEncSHA256: up.FileEncSHA256, FileSHA256: up.FileSHA256,
		FileLength: proto.Uint64(up.FileLength), FileName: proto.String(name), Title: proto.String(name),
	}}
}

// downloadPortalFile fetches a file link of an operator message. Only links
// on the portal's own origin are fetched, each address is checked like the
// REST client's endpoints (no private, loopback or metadata addresses unless
// AllowInsecureHTTP), redirects must stay on that origin, and the size is
// capped at MaxOutboundFile.
func (b *Bridge) downloadPortalFile(ctx context.Context, portalID uint64, link string) ([]byte, string, error) {
	var p portal.Portal
	if err := b.db.WithContext(ctx).Where("id = ?", portalID).Take(&p).Error; err != nil {
		return nil, "", fmt.Errorf("load portal %d: %w", portalID, err)
	}
	origin := strings.ToLower(p.Origin())
	u, err := b.checkFileURL(link, origin)
	if err != nil {
		return nil, "", err
	}

	client := *b.http
	client.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= maxRedirects {
			return &fileError{fmt.Errorf("file link %s redirects more than %d times", u.Path, maxRedirects)}
		}
		_, err := b.checkFileURL(req.URL.String(), origin)
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, b.opts.DownloadTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, "", &fileError{err}
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, "", fmt.Errorf("download file from portal %d: %w", portalID, err)
	}
	defer resp.Body.Close()
	return b.readFileBody(resp)
}

func (b *Bridge) readFileBody(resp *http.Response) ([]byte, string, error) {
	switch {
	case resp.StatusCode >= 500:
		return nil, "", fmt.Errorf("download file: portal responded with HTTP %d", resp.StatusCode)
	case resp.StatusCode != http.StatusOK:
		return nil, "", &fileError{fmt.Errorf("download file: portal responded with HTTP %d", resp.StatusCode)}
	case resp.ContentLength > b.opts.MaxOutboundFile:
		return nil, "", fmt.Errorf("file of %d bytes: %w", resp.ContentLength, ErrFileTooLarge)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, b.opts.MaxOutboundFile+1))
	if err != nil {
		return nil, "", fmt.Errorf("download file: %w", err)
	}
	if int64(len(data)) > b.opts.MaxOutboundFile {
		return nil, "", fmt.Errorf("file larger than %d bytes: %w", b.opts.MaxOutboundFile, ErrFileTooLarge)
	}
	return data, resp.Header.Get("Content-Type"), nil
}

// checkFileURL strips the fragment (Bitrix24 appends #img.<ext> to image
// links) and accepts only URLs on origin whose host passes the endpoint
// checks.
func (b *Bridge) checkFileURL(raw, origin string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return nil, &fileError{fmt.Errorf("file link is not a URL: %w", err)}
	}
	u.Fragment, u.RawFragment = "", ""
	if origin == "" || strings.ToLower(u.Scheme+"://"+u.Host) != origin {
		return nil, fmt.Errorf("file link on %s: %w", u.Host, ErrFileOrigin)
	}
	if _, err := portal.ValidateEndpoint(u.String(), b.opts.AllowInsecureHTTP); err != nil {
		return nil, err
	}
	return u, nil
}
