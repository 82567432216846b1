package mail_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/wabridge/b24wa/connector/mail"
	"github.com/wabridge/b24wa/connector/mail/mailtest"
)

func TestParseURL(t *testing.T) {
	cases := []struct {
		raw      string
		host     string
		port     int
		security string
		user     string
		password string
	}{
		{"smtp://user:p%40ss@mail.example.com", "mail.example.com", 587, mail.SecurityStartTLS, "user", "p@ss"},
		{"smtp://mail.example.com:2525", "mail.example.com", 2525, mail.SecurityStartTLS, "", ""},
		{"smtps://u:p@mail.example.com", "mail.example.com", 465, mail.SecurityTLS, "u", "p"},
		{"smtp://127.0.0.1:25?tls=none", "127.0.0.1", 25, mail.SecurityNone, "", ""},
	}
	for _, tc := range cases {
		cfg, err := mail.ParseURL(tc.raw, "Bridge <noreply@example.com>")
		if err != nil {
			t.Errorf("ParseURL(%q): %v", tc.raw, err)
			continue
		}
		if cfg.Host != tc.host || cfg.Port != tc.port || cfg.Security != tc.security {
			t.Errorf("ParseURL(%q) = %s:%d %s, want %s:%d %s", tc.raw, cfg.Host, cfg.Port, cfg.Security, tc.host, tc.port, tc.security)
		}
		if cfg.Username != tc.user || cfg.Password != tc.password {
			t.Errorf("ParseURL(%q) credentials = %q, %q; want %q, %q", tc.raw, cfg.Username, cfg.Password, tc.user, tc.password)
		}
	}
}

func TestParseURLRejects(t *testing.T) {
	cases := map[string][2]string{
		"scheme":  {"http://mail.example.com", "noreply@example.com"},
		"no host": {"smtp://", "noreply@example.com"},
		"port":    {"smtp://mail.example.com:99999", "noreply@example.com"},
		"from":    {"smtp://mail.example.com", "not an address"},
	}
	for name, in := range cases {
		if _, err := mail.ParseURL(in[0], in[1]); !errors.Is(err, mail.ErrInvalidConfig) {
			t.Errorf("%s: ParseURL(%q, %q) = %v, want ErrInvalidConfig", name, in[0], in[1], err)
		}
	}
}

func TestParseAddress(t *testing.T) {
	good := map[string]string{"a@example.com": "a@example.com", "  b.c@example.co.uk ": "b.c@example.co.uk"}
	for in, want := range good {
		if got, err := mail.ParseAddress(in); err != nil || got != want {
			t.Errorf("ParseAddress(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "a", "a@b", "A <a@example.com>", "a@example.com, b@example.com", "a@example.com\r\nBcc: x@example.com"} {
		if _, err := mail.ParseAddress(in); !errors.Is(err, mail.ErrInvalidAddress) {
			t.Errorf("ParseAddress(%q) = %v, want ErrInvalidAddress", in, err)
		}
	}
}

// testCertificate returns the certificate of net/http/httptest, valid for
// 127.0.0.1 and example.com, and a pool that trusts it.
func testCertificate(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	srv := httptest.NewTLSServer(nil)
	defer srv.Close()
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	return srv.TLS.Certificates[0], pool
}

func TestSendStartTLSWithAuth(t *testing.T) {
	cert, pool := testCertificate(t)
	srv := mailtest.Start(t, mailtest.Options{TLS: &tls.Config{Certificates: []tls.Certificate{cert}}, Username: "bridge", Password: "secret"})
	cfg := srv.Config(t, "smtp://bridge:secret@"+srv.Addr, "Bridge <noreply@example.com>")
	cfg.TLS = &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}

	sender, err := mail.NewSender(cfg)
	if err != nil {
		t.Fatal(err)
	}
	err = sender.Send(context.Background(), mail.Message{
		To: "helper@example.com", Subject: "Ссылка для подключения", Text: "Откройте ссылку", HTML: "<p>Откройте <b>ссылку</b></p>",
	})
	if err != nil {
		t.Fatal(err)
	}

	msgs := srv.Messages()
	if len(msgs) != 1 {
		t.Fatalf("server received %d messages, want 1", len(msgs))
	}
	got := msgs[0]
	if got.From != "noreply@example.com" || len(got.To) != 1 || got.To[0] != "helper@example.com" {
		t.Errorf("envelope from %q to %v, want noreply@example.com to helper@example.com", got.From, got.To)
	}
	if !got.TLS || got.User != "bridge" {
		t.Errorf("message sent with TLS=%v as %q, want TLS as bridge", got.TLS, got.User)
	}
	if got.Subject != "Ссылка для подключения" {
		t.Errorf("subject = %q", got.Subject)
	}
	if !strings.Contains(got.Text, "Откройте ссылку") || !strings.Contains(got.HTML, "<b>ссылку</b>") {
		t.Errorf("bodies text=%q html=%q, want both parts", got.Text, got.HTML)
	}
}

func TestSendWrongPassword(t *testing.T) {
	cert, pool := testCertificate(t)
	srv := mailtest.Start(t, mailtest.Options{TLS: &tls.Config{Certificates: []tls.Certificate{cert}}, Username: "bridge", Password: "secret"})
	cfg := srv.Config(t, "smtp://bridge:wrong@"+srv.Addr, "noreply@example.com")
	cfg.TLS = &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
	sender, err := mail.NewSender(cfg)
	if err != nil {
		t.Fatal(err)
	}

	err = sender.Send(context.Background(), mail.Message{To: "helper@example.com", Subject: "s", Text: "t"})
	if !errors.Is(err, mail.ErrSendFailed) {
		t.Errorf("Send with a wrong password = %v, want ErrSendFailed", err)
	}
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("server received %d messages, want none", n)
	}
}

func TestSendRequiresStartTLS(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{})
	sender, err := mail.NewSender(srv.Config(t, "smtp://"+srv.Addr, "noreply@example.com"))
	if err != nil {
		t.Fatal(err)
	}
	err = sender.Send(context.Background(), mail.Message{To: "helper@example.com", Subject: "s", Text: "t"})
	if !errors.Is(err, mail.ErrSendFailed) {
		t.Errorf("Send to a server without STARTTLS = %v, want ErrSendFailed", err)
	}
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("server received %d messages over plain text, want none", n)
	}
}

func TestSendImplicitTLS(t *testing.T) {
	cert, pool := testCertificate(t)
	srv := mailtest.Start(t, mailtest.Options{TLS: &tls.Config{Certificates: []tls.Certificate{cert}}, ImplicitTLS: true})
	cfg := srv.Config(t, "smtps://"+srv.Addr, "noreply@example.com")
	cfg.TLS = &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
	sender, err := mail.NewSender(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := sender.Send(context.Background(), mail.Message{To: "helper@example.com", Subject: "s", Text: "t"}); err != nil {
		t.Fatal(err)
	}
	if msgs := srv.Messages(); len(msgs) != 1 || !msgs[0].TLS {
		t.Errorf("messages = %+v, want one over TLS", msgs)
	}
}

func TestSendRejectsBadRecipient(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{})
	sender, err := mail.NewSender(srv.Config(t, "smtp://"+srv.Addr+"?tls=none", "noreply@example.com"))
	if err != nil {
		t.Fatal(err)
	}
	err = sender.Send(context.Background(), mail.Message{To: "x@example.com\r\nBcc: y@example.com", Subject: "s", Text: "t"})
	if !errors.Is(err, mail.ErrInvalidAddress) {
		t.Errorf("Send = %v, want ErrInvalidAddress", err)
	}
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("server received %d messages, want none", n)
	}
}

func TestSendServerDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	cfg, err := mail.ParseURL("smtp://"+addr+"?tls=none", "noreply@example.com")
	if err != nil {
		t.Fatal(err)
	}
	sender, err := mail.NewSender(cfg)
	if err != nil {
		t.Fatal(err)
	}
	err = sender.Send(context.Background(), mail.Message{To: "helper@example.com", Subject: "s", Text: "t"})
	if !errors.Is(err, mail.ErrSendFailed) {
		t.Errorf("Send to a closed port = %v, want ErrSendFailed", err)
	}
}
