package b24fake

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"path"
	"time"
)

// maxFileBytes bounds one downloaded file.
const maxFileBytes = 64 << 20

// fetchFiles downloads message.files[] as the portal does: GET with the
// "Bitrix Connector Client" user agent and the element's headers, redirects
// followed, HTTP 200 required. A failed download is recorded and skipped
// silently. Unlike the real portal, only loopback URLs are fetched, so tests
// never reach another host.
func (p *Portal) fetchFiles(req *request, v any) []FetchedFile {
	list, _ := asList(v)
	var out []FetchedFile
	for _, item := range list {
		f := asMap(item)
		if f == nil {
			continue
		}
		out = append(out, fetchFile(req, f))
	}
	return out
}

var errNotLoopback = errors.New("b24fake fetches only loopback URLs")

func fetchFile(req *request, f map[string]any) FetchedFile {
	raw := asString(f["url"])
	got := FetchedFile{URL: raw, Name: asString(f["name"]), ContentType: asString(f["type"])}
	if err := checkLoopback(raw); err != nil {
		got.Err = err.Error()
		return got
	}
	hreq, err := http.NewRequestWithContext(req.ctx, http.MethodGet, raw, nil)
	if err != nil {
		got.Err = err.Error()
		return got
	}
	hreq.Header.Set("User-Agent", "Bitrix Connector Client")
	headers, _ := asList(f["headers"])
	for _, h := range headers {
		hm := asMap(h)
		hreq.Header.Set(asString(hm["name"]), asString(hm["value"]))
	}
	res, err := loopbackClient().Do(hreq)
	if err != nil {
		got.Err = err.Error()
		return got
	}
	defer res.Body.Close()
	got.Status = res.StatusCode
	if res.StatusCode != http.StatusOK {
		got.Err = fmt.Sprintf("HTTP %d", res.StatusCode)
		return got
	}
	got.Body, err = io.ReadAll(io.LimitReader(res.Body, maxFileBytes))
	if err != nil {
		got.Err = err.Error()
		return got
	}
	fillFileMeta(&got, res)
	return got
}

func fillFileMeta(got *FetchedFile, res *http.Response) {
	if got.ContentType == "" {
		got.ContentType = res.Header.Get("Content-Type")
	}
	if got.Name == "" {
		if _, params, err := mime.ParseMediaType(res.Header.Get("Content-Disposition")); err == nil {
			got.Name = params["filename"]
		}
	}
	if got.Name == "" {
		got.Name = path.Base(res.Request.URL.Path)
	}
}

func loopbackClient() *http.Client {
	return &http.Client{
		Timeout: 30 * time.Second,
		// The portal downloads with SSL verification off, so self-signed test
		// servers work too.
		Transport: &http.Transport{Proxy: nil, TLSClientConfig: &tls.Config{InsecureSkipVerify: true}},
		CheckRedirect: func(r *http.Request, via []*http.Request) error {
			if len(via) >= 10 {
				return errors.New("too many redirects")
			}
			return checkLoopback(r.URL.String())
		},
	}
}

// checkLoopback accepts only http(s) URLs whose host is a loopback IP
// literal or "localhost".
func checkLoopback(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return fmt.Errorf("%q is not an http(s) URL", raw)
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("%w: %q", errNotLoopback, raw)
}
