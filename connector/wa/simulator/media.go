package simulator

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"google.golang.org/protobuf/proto"
)

// mediaKind describes an attachment kind of the control API.
type mediaKind struct {
	defaultMIME string
	infoType    string // MessageInfo.MediaType as WhatsApp sends it
}

var mediaKinds = map[string]mediaKind{
	"image":    {"image/jpeg", "image"},
	"video":    {"video/mp4", "video"},
	"audio":    {"audio/mpeg", "audio"},
	"voice":    {"audio/ogg; codecs=opus", "ptt"},
	"document": {"application/octet-stream", "document"},
	"sticker":  {"image/webp", "sticker"},
}

// mediaURLPrefix makes simulated media URLs visibly unreachable: nothing
// may fetch them, Download reads the simulator's memory.
const mediaURLPrefix = "simulator://media"

// storeMediaLocked keeps data on the simulated media server and returns its
// direct path. The caller holds s.mu.
func (s *Simulator) storeMediaLocked(data []byte) string {
	path := "/v/t62.7118-24/sim-" + randomHex(16)
	s.media[path] = bytes.Clone(data)
	return path
}

// fileHashes are the fields WhatsApp uses to check media: the plaintext
// SHA-256, and a stand-in for the encrypted file's SHA-256 (the simulator
// does not encrypt).
func fileHashes(key, data []byte) (plain, enc []byte) {
	p := sha256.Sum256(data)
	e := sha256.Sum256(append(bytes.Clone(key), data...))
	return p[:], e[:]
}

// mediaMessage builds the waE2E attachment message for an inbound upload.
func mediaMessage(m *mediaUpload, caption string, ci *waE2E.ContextInfo) *waE2E.Message {
	key := []byte(randomHex(16))
	plain, enc := fileHashes(key, m.data)
	url := proto.String(mediaURLPrefix + m.path)
	size := proto.Uint64(uint64(len(m.data)))
	var text *string
	if caption != "" {
		text = proto.String(caption)
	}
	mime, path := proto.String(m.mime), proto.String(m.path)

	switch m.kind {
	case "image":
		return &waE2E.Message{ImageMessage: &waE2E.ImageMessage{URL: url, Mimetype: mime, Caption: text,
			FileSHA256: plain, FileEncSHA256: enc, FileLength: size, MediaKey: key, DirectPath: path, ContextInfo: ci}}
	case "video":
		return &waE2E.Message{VideoMessage: &waE2E.VideoMessage{URL: url, Mimetype: mime, Caption: text,
			FileSHA256: plain, FileEncSHA256: enc, FileLength: size, MediaKey: key, DirectPath: path, ContextInfo: ci}}
	case "audio", "voice":
		return &waE2E.Message{AudioMessage: &waE2E.AudioMessage{URL: url, Mimetype: mime, PTT: proto.Bool(m.kind == "voice"),
			FileSHA256: plain, FileEncSHA256: enc, FileLength: size, MediaKey: key, DirectPath: path, ContextInfo: ci}}
	case "sticker":
		return &waE2E.Message{StickerMessage: &waE2E.StickerMessage{URL: url, Mimetype: mime,
			FileSHA256: plain, FileEncSHA256: enc, FileLength: size, MediaKey: key, DirectPath: path, ContextInfo: ci}}
	default:
		name := m.name
		if name == "" {
			name = "file"
		}
		return &waE2E.Message{DocumentMessage: &waE2E.DocumentMessage{URL: url, Mimetype: mime, Caption: text,
			Title: proto.String(name), FileName: proto.String(name),
			FileSHA256: plain, FileEncSHA256: enc, FileLength: size, MediaKey: key, DirectPath: path, ContextInfo: ci}}
	}
}

// Upload keeps data on the simulated media server. Like whatsmeow it needs a
// live connection to get a media host.
func (sess *session) Upload(ctx context.Context, data []byte, kind whatsmeow.MediaType) (whatsmeow.UploadResponse, error) {
	s := sess.sim
	s.mu.Lock()
	defer s.mu.Unlock()
	if !sess.connected || !sess.loggedIn {
		return whatsmeow.UploadResponse{}, fmt.Errorf("upload %s: %w", kind, whatsmeow.ErrNotConnected)
	}
	path := s.storeMediaLocked(data)
	if err := s.saveLocked(); err != nil {
		delete(s.media, path)
		return whatsmeow.UploadResponse{}, fmt.Errorf("upload %s: %w", kind, err)
	}
	key := []byte(randomHex(16))
	plain, enc := fileHashes(key, data)
	return whatsmeow.UploadResponse{
		URL:           mediaURLPrefix + path,
		DirectPath:    path,
		MediaKey:      key,
		FileSHA256:    plain,
		FileEncSHA256: enc,
		FileLength:    uint64(len(data)),
	}, nil
}

// Download returns the bytes of a received or uploaded attachment. Unknown
// media fail like an expired file on WhatsApp's servers
// (whatsmeow.ErrMediaDownloadFailedWith404), a changed file with
// whatsmeow.ErrInvalidMediaSHA256.
func (sess *session) Download(ctx context.Context, msg whatsmeow.DownloadableMessage) ([]byte, error) {
	if msg == nil || msg.GetDirectPath() == "" {
		return nil, whatsmeow.ErrNoURLPresent
	}
	s := sess.sim
	s.mu.Lock()
	data, ok := s.media[msg.GetDirectPath()]
	s.mu.Unlock()
	if !ok {
		return nil, whatsmeow.ErrMediaDownloadFailedWith404
	}
	if want := msg.GetFileSHA256(); len(want) > 0 {
		got := sha256.Sum256(data)
		if !bytes.Equal(got[:], want) {
			return nil, whatsmeow.ErrInvalidMediaSHA256
		}
	}
	return bytes.Clone(data), nil
}

// ExpireMedia deletes an attachment from the simulated media server, so
// later downloads fail with 404 as old media on WhatsApp do. It reports
// whether the path was known.
func (s *Simulator) ExpireMedia(directPath string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.media[directPath]
	delete(s.media, directPath)
	if ok {
		s.persistLocked("media expiry")
	}
	return ok
}
