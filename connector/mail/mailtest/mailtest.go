// Package mailtest runs a real SMTP server (github.com/emersion/go-smtp) on
// 127.0.0.1 for tests, and keeps every message it accepted, decoded into
// subject, plain text and HTML.
package mailtest

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	netmail "net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/wabridge/b24wa/connector/mail"
)

// Options configure the test server.
type Options struct {
	// TLS enables STARTTLS with these certificates, or TLS from the first
	// byte when ImplicitTLS is set.
	TLS         *tls.Config
	ImplicitTLS bool
	// Username and Password, when set, are the only accepted PLAIN login,
	// and AUTH is required before MAIL.
	Username string
	Password string
}

// Message is one accepted message.
type Message struct {
	From    string
	To      []string
	User    string
	TLS     bool
	Subject string
	Text    string
	HTML    string
	Raw     []byte
}

// Server is a running SMTP server.
type Server struct {
	Addr string

	opts     Options
	mu       sync.Mutex
	messages []Message
}

// Start runs a server on a free loopback port until the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	s := &Server{opts: opts}
	srv := smtp.NewServer(smtp.BackendFunc(s.newSession))
	srv.Domain = "localhost"
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	srv.AllowInsecureAuth = opts.TLS == nil
	srv.TLSConfig = opts.TLS

	var ln net.Listener
	var err error
	if opts.ImplicitTLS {
		ln, err = tls.Listen("tcp", "127.0.0.1:0", opts.TLS)
	} else {
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		t.Fatal(err)
	}
	s.Addr = ln.Addr().String()
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return s
}

// Config returns the sender configuration for url and from, failing the test
// when they do not parse.
func (s *Server) Config(t testing.TB, url, from string) mail.Config {
	t.Helper()
	cfg, err := mail.ParseURL(url, from)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Timeout = 5 * time.Second
	return cfg
}

// Messages returns a copy of every accepted message, oldest first.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

func (s *Server) newSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{server: s, conn: c}, nil
}

type session struct {
	server *Server
	conn   *smtp.Conn
	user   string
	from   string
	to     []string
}

var errAuthRequired = &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Authentication required"}

func (s *session) AuthMechanisms() []string {
	if s.server.opts.Username == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != s.server.opts.Username || pass != s.server.opts.Password {
			return errors.New("invalid username or password")
		}
		s.user = user
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.server.opts.Username != "" && s.user == "" {
		return errAuthRequired
	}
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	_, isTLS := s.conn.TLSConnectionState()
	msg := Message{From: s.from, To: s.to, User: s.user, TLS: isTLS, Raw: raw}
	decode(&msg)
	s.server.mu.Lock()
	s.server.messages = append(s.server.messages, msg)
	s.server.mu.Unlock()
	return nil
}

func (s *session) Reset() { s.from, s.to = "", nil }

func (s *session) Logout() error { return nil }

// decode fills Subject, Text and HTML from the raw message. Parts it cannot
// read are left empty, which the test's checks then report.
func decode(msg *Message) {
	m, err := netmail.ReadMessage(bytes.NewReader(msg.Raw))
	if err != nil {
		return
	}
	dec := new(mime.WordDecoder)
	msg.Subject, _ = dec.DecodeHeader(m.Header.Get("Subject"))
	readPart(msg, m.Header.Get("Content-Type"), m.Header.Get("Content-Transfer-Encoding"), m.Body)
}

func readPart(msg *Message, contentType, encoding string, body io.Reader) {
	mediaType, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return
	}
	if strings.HasPrefix(mediaType, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err != nil {
				return
			}
			readPart(msg, p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p)
		}
	}
	if strings.EqualFold(encoding, "quoted-printable") {
		body = quotedprintable.NewReader(body)
	}
	data, _ := io.ReadAll(body)
	switch mediaType {
	case "text/plain":
		msg.Text = string(data)
	case "text/html":
		msg.HTML = string(data)
	}
}
