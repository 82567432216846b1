package b24fake

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"image"
	_ "image/gif" // image.DecodeConfig reads the size of attached images
	_ "image/jpeg"
	_ "image/png"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"
)

// imFilePath is the portal script that serves chat files by signed id.
const imFilePath = "/pub/im.file.php"

// DiskFile is a file an operator attaches in an open line chat. The portal
// stores it on Disk and lists it in message.files[] of ONIMCONNECTORMESSAGEADD.
type DiskFile struct {
	// Name includes the extension, which decides files[].type as on Disk.
	Name string
	// ContentType is the served Content-Type (default by the extension,
	// else sniffed from Body).
	ContentType string
	Body        []byte
	// Width and Height are the pixel size of an image (default decoded from
	// Body for JPEG, PNG and GIF).
	Width, Height int
}

// FileDownload is one request for an uploaded file, at its short link or at
// the im.file.php address the short link redirects to.
type FileDownload struct {
	Path      string // path and query, such as /~Ab3dE or /pub/im.file.php?FILE_ID=..
	FileID    int    // 0 when the short link or signature matched no file
	Status    int
	UserAgent string
	Time      time.Time
}

type hostedFile struct {
	id      int
	file    DiskFile
	longURL string
}

// diskTypes maps extensions to the files[].type values of Disk files.
// NOTE: these lists approximate Bitrix\Disk\TypeFile, and an extension
// missing here is typed "file".
var diskTypes = map[string]string{
	"jpg": "image", "jpeg": "image", "jpe": "image", "png": "image", "gif": "image", "bmp": "image", "webp": "image",
	"mp4": "video", "mov": "video", "avi": "video", "mkv": "video", "webm": "video", "3gp": "video", "m4v": "video",
	"mp3": "audio", "ogg": "audio", "oga": "audio", "opus": "audio", "wav": "audio", "m4a": "audio", "aac": "audio",
	"flac": "audio", "amr": "audio",
}

// UploadFile stores f as Disk stores a file attached in a chat and returns
// its message.files[] element, as CIMDisk::GetFileLink builds it: Type is
// "image", "video", "audio" or "file" by extension, and Link is a short link
// <portal>/~<code> that redirects (301) to the signed
// <portal>/pub/im.file.php?FILE_ID=<id>&SIGN=<id>.<hmac>, which serves the
// bytes. Image links end with "#img.<ext>".
func (p *Portal) UploadFile(f DiskFile) OutboundFile {
	ext := strings.TrimPrefix(path.Ext(f.Name), ".")
	kind := diskTypes[strings.ToLower(ext)]
	if kind == "" {
		kind = "file"
	}
	if f.ContentType == "" {
		f.ContentType = contentTypeOf(f.Name, f.Body)
	}
	if kind == "image" && f.Width == 0 {
		if cfg, _, err := image.DecodeConfig(bytes.NewReader(f.Body)); err == nil {
			f.Width, f.Height = cfg.Width, cfg.Height
		}
	}
	f.Body = bytes.Clone(f.Body)

	base := p.URL()
	p.mu.Lock()
	id := p.state.newID()
	longURL := base + imFilePath + "?FILE_ID=" + itoa(id) + "&SIGN=" + p.signFileLocked(id)
	if kind == "image" {
		longURL += "&img=y"
	}
	code := "~" + randomAlnum(5)
	p.state.files[id] = &hostedFile{id: id, file: f, longURL: longURL}
	p.state.shortLinks[code] = id
	p.mu.Unlock()

	out := OutboundFile{Name: f.Name, Type: kind, Link: base + "/" + code, Size: len(f.Body)}
	if kind == "image" {
		out.Link += "#img." + ext
		out.Width, out.Height = f.Width, f.Height
	}
	return out
}

// FileDownloads returns every request for an uploaded file, in order.
func (p *Portal) FileDownloads() []FileDownload {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]FileDownload(nil), p.state.downloads...)
}

func contentTypeOf(name string, body []byte) string {
	if t := mime.TypeByExtension(path.Ext(name)); t != "" {
		return t
	}
	return http.DetectContentType(body)
}

// signFileLocked signs a file id as Bitrix\Main\Security\Sign\Signer does:
// the value, a dot and the hex HMAC-SHA256 of the value.
func (p *Portal) signFileLocked(id int) string {
	mac := hmac.New(sha256.New, p.state.fileKey)
	mac.Write([]byte(itoa(id)))
	return itoa(id) + "." + hex.EncodeToString(mac.Sum(nil))
}

// serveShortLink redirects a short link to its im.file.php address with 301,
// as CBXShortUri stores new short links.
func (p *Portal) serveShortLink(w http.ResponseWriter, r *http.Request) {
	code := strings.TrimPrefix(r.URL.Path, "/")
	p.mu.Lock()
	id := p.state.shortLinks[code]
	f := p.state.files[id]
	p.mu.Unlock()
	if f == nil {
		p.recordDownload(r, 0, http.StatusNotFound)
		http.NotFound(w, r)
		return
	}
	p.recordDownload(r, id, http.StatusMovedPermanently)
	http.Redirect(w, r, f.longURL, http.StatusMovedPermanently)
}

// serveIMFile serves an uploaded file when SIGN matches FILE_ID: images
// (img=y) inline, other files as attachments.
// NOTE: the response to a wrong signature is not documented, so 404 is a guess.
func (p *Portal) serveIMFile(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		p.recordDownload(r, 0, http.StatusMethodNotAllowed)
		http.Error(w, "Method not allowed", http.StatusMethodNotAllowed)
		return
	}
	id, _ := strconv.Atoi(r.URL.Query().Get("FILE_ID"))
	p.mu.Lock()
	f := p.state.files[id]
	valid := f != nil && hmac.Equal([]byte(r.URL.Query().Get("SIGN")), []byte(p.signFileLocked(id)))
	p.mu.Unlock()
	if !valid {
		p.recordDownload(r, 0, http.StatusNotFound)
		http.NotFound(w, r)
		return
	}

	disposition := "attachment"
	if r.URL.Query().Get("img") == "y" {
		disposition = "inline"
	}
	w.Header().Set("Content-Type", f.file.ContentType)
	w.Header().Set("Content-Disposition", mime.FormatMediaType(disposition, map[string]string{"filename": f.file.Name}))
	p.recordDownload(r, id, http.StatusOK)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(f.file.Body))
}

func (p *Portal) recordDownload(r *http.Request, id, status int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.state.downloads = append(p.state.downloads, FileDownload{
		Path: r.URL.RequestURI(), FileID: id, Status: status, UserAgent: r.UserAgent(), Time: p.now(),
	})
}

// randomAlnum returns n random letters and digits, like the server's
// randString for short links.
func randomAlnum(n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
