// Package mail sends e-mail over SMTP, for scan links that a portal owner
// passes on to the person who holds the phone. The message text is rendered
// by the caller; this package only builds the MIME message and delivers it.
package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	netmail "net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Errors returned by ParseURL, ParseAddress and Sender.Send.
var (
	// ErrInvalidConfig means SMTP_URL or SMTP_FROM cannot be used.
	ErrInvalidConfig = errors.New("invalid SMTP configuration")
	// ErrInvalidAddress means a recipient is not a single plain e-mail address.
	ErrInvalidAddress = errors.New("invalid e-mail address")
	// ErrSendFailed wraps every failure to deliver a message to the server.
	ErrSendFailed = errors.New("send e-mail failed")
)

// Transport security of the SMTP connection.
const (
	SecurityStartTLS = "starttls" // smtp://: plain connection upgraded with STARTTLS, which is required
	SecurityTLS      = "tls"      // smtps://: TLS from the first byte
	SecurityNone     = "none"     // smtp://...?tls=none: no encryption, for local relays and tests
)

// Config is where and how to send mail.
type Config struct {
	Host     string
	Port     int
	Username string
	Password string
	Security string
	From     string
	// Timeout bounds connecting and every SMTP command; zero means 30 s.
	Timeout time.Duration
	// TLS overrides the TLS settings, for example to trust a test server's
	// certificate. Nil uses the system roots and Host as the server name.
	TLS *tls.Config
}

// ParseURL reads SMTP_URL and SMTP_FROM. The URL has the form
// smtp://user:password@host:587 (STARTTLS required, port 587 by default),
// smtps://user:password@host:465 (TLS, port 465 by default) or
// smtp://host:25?tls=none for a relay without encryption. from is the sender
// address, optionally with a display name: "WhatsApp bridge <noreply@example.com>".
func ParseURL(raw, from string) (Config, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return Config{}, fmt.Errorf("%w: SMTP_URL is not a URL like smtp://user:password@host:587", ErrInvalidConfig)
	}
	cfg := Config{Host: u.Hostname(), From: from}
	switch u.Scheme {
	case "smtp":
		cfg.Security, cfg.Port = SecurityStartTLS, 587
		if u.Query().Get("tls") == "none" {
			cfg.Security = SecurityNone
		}
	case "smtps":
		cfg.Security, cfg.Port = SecurityTLS, 465
	default:
		return Config{}, fmt.Errorf("%w: SMTP_URL scheme %q is not smtp or smtps", ErrInvalidConfig, u.Scheme)
	}
	if p := u.Port(); p != "" {
		if cfg.Port, err = strconv.Atoi(p); err != nil || cfg.Port <= 0 || cfg.Port > 65535 {
			return Config{}, fmt.Errorf("%w: SMTP_URL port %q is not a TCP port", ErrInvalidConfig, p)
		}
	}
	if u.User != nil {
		cfg.Username = u.User.Username()
		cfg.Password, _ = u.User.Password()
	}
	if _, err := netmail.ParseAddress(from); err != nil {
		return Config{}, fmt.Errorf("%w: SMTP_FROM %q is not an e-mail address", ErrInvalidConfig, from)
	}
	return cfg, nil
}

// ParseAddress checks that s is one plain address such as name@example.com,
// without a display name or a list, and returns it trimmed.
func ParseAddress(s string) (string, error) {
	s = strings.TrimSpace(s)
	addr, err := netmail.ParseAddress(s)
	if err != nil || addr.Address != s || !strings.Contains(addr.Address[strings.LastIndexByte(addr.Address, '@')+1:], ".") {
		return "", fmt.Errorf("%w: %q", ErrInvalidAddress, s)
	}
	return addr.Address, nil
}

// Message is one e-mail with a plain text body and an optional HTML
// alternative.
type Message struct {
	To      string
	Subject string
	Text    string
	HTML    string
}

// Sender delivers messages through one SMTP server. It opens a connection
// per message, which suits the few messages a person triggers by hand.
type Sender struct {
	cfg Config
}

// NewSender checks cfg and returns a sender.
func NewSender(cfg Config) (*Sender, error) {
	if cfg.Host == "" || cfg.Port == 0 {
		return nil, fmt.Errorf("%w: host and port are required", ErrInvalidConfig)
	}
	if _, err := netmail.ParseAddress(cfg.From); err != nil {
		return nil, fmt.Errorf("%w: sender address %q: %v", ErrInvalidConfig, cfg.From, err)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 30 * time.Second
	}
	return &Sender{cfg: cfg}, nil
}

// Send delivers msg. Errors wrap ErrInvalidAddress for a bad recipient and
// ErrSendFailed for everything the server or the network rejected.
func (s *Sender) Send(ctx context.Context, msg Message) error {
	to, err := ParseAddress(msg.To)
	if err != nil {
		return err
	}
	m, err := s.build(to, msg)
	if err != nil {
		return err
	}
	client, err := gomail.NewClient(s.cfg.Host, s.clientOptions()...)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrSendFailed, err)
	}
	if err := client.DialAndSendWithContext(ctx, m); err != nil {
		return fmt.Errorf("%w to %s:%d: %w", ErrSendFailed, s.cfg.Host, s.cfg.Port, err)
	}
	return nil
}

func (s *Sender) build(to string, msg Message) (*gomail.Msg, error) {
	m := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	if err := m.From(s.cfg.From); err != nil {
		return nil, fmt.Errorf("%w: sender address %q: %w", ErrInvalidConfig, s.cfg.From, err)
	}
	if err := m.To(to); err != nil {
		return nil, fmt.Errorf("%w: %q: %w", ErrInvalidAddress, to, err)
	}
	m.Subject(msg.Subject)
	m.SetDate()
	m.SetMessageID()
	m.SetBodyString(gomail.TypeTextPlain, msg.Text)
	if msg.HTML != "" {
		m.AddAlternativeString(gomail.TypeTextHTML, msg.HTML)
	}
	return m, nil
}

func (s *Sender) clientOptions() []gomail.Option {
	opts := []gomail.Option{gomail.WithPort(s.cfg.Port), gomail.WithTimeout(s.cfg.Timeout)}
	switch s.cfg.Security {
	case SecurityTLS:
		opts = append(opts, gomail.WithSSL())
	case SecurityNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if s.cfg.TLS != nil {
		opts = append(opts, gomail.WithTLSConfig(s.cfg.TLS))
	}
	if s.cfg.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(s.cfg.Username), gomail.WithPassword(s.cfg.Password))
	}
	return opts
}
