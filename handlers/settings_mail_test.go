package handlers

import (
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"gorm.io/gorm"

	"github.com/wabridge/b24wa/connector/mail"
	"github.com/wabridge/b24wa/connector/mail/mailtest"
	"github.com/wabridge/b24wa/internal/dbtest"
)

// newMailEnv is a pages environment whose scan links are mailed through a
// test SMTP server on 127.0.0.1.
func newMailEnv(t *testing.T, db *gorm.DB) (*pagesEnv, *mailtest.Server) {
	t.Helper()
	srv := mailtest.Start(t, mailtest.Options{})
	sender, err := mail.NewSender(srv.Config(t, "smtp://"+srv.Addr+"?tls=none", "WhatsApp bridge <noreply@example.com>"))
	if err != nil {
		t.Fatal(err)
	}
	return newPagesEnv(t, db, pagesEnvOptions{Mailer: sender}), srv
}

func TestScanLinkEmail(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		env, srv := newMailEnv(t, db)
		page := env.openSettings(1, "ru")
		if !strings.Contains(page.body, `data-role="mail-form"`) {
			t.Fatal("the e-mail form is missing although SMTP is configured")
		}
		token, _ := env.createLink(page)

		rec := env.api(page, http.MethodPost, "/scan-links/email", url.Values{"token": {token}, "email": {" helper@example.com "}})
		if rec.Code != http.StatusOK {
			t.Fatalf("send: %d %s", rec.Code, rec.Body.String())
		}
		msgs := srv.Messages()
		if len(msgs) != 1 {
			t.Fatalf("server received %d messages, want 1", len(msgs))
		}
		msg := msgs[0]
		link := pagesPublicURL + "/link/" + token
		if len(msg.To) != 1 || msg.To[0] != "helper@example.com" {
			t.Errorf("recipients %v, want helper@example.com", msg.To)
		}
		if !strings.Contains(msg.Subject, "Подключение WhatsApp") || !strings.Contains(msg.Subject, env.fake.Domain()) {
			t.Errorf("subject %q is not the Russian subject naming the portal", msg.Subject)
		}
		for _, part := range []string{msg.Text, html.UnescapeString(msg.HTML)} {
			for _, want := range []string{link, "Открытая линия 3", "2026-03-02 09:15 UTC"} {
				if !strings.Contains(part, want) {
					t.Errorf("mail part lacks %q:\n%s", want, part)
				}
			}
		}
		if strings.Contains(env.logs.String(), token) {
			t.Error("the log contains the mailed token")
		}
	})
}

func TestScanLinkEmailRejects(t *testing.T) {
	env, srv := newMailEnv(t, dbtest.SQLite(t))
	page := env.openSettings(1, "en")
	token, _ := env.createLink(page)

	cases := []struct {
		name   string
		form   url.Values
		status int
		text   string
	}{
		{"bad address", url.Values{"token": {token}, "email": {"not-an-address"}}, http.StatusBadRequest, "one e-mail address"},
		{"header injection", url.Values{"token": {token}, "email": {"a@example.com\r\nBcc: b@example.com"}}, http.StatusBadRequest, "one e-mail address"},
		{"unknown token", url.Values{"token": {strings.Repeat("x", 43)}, "email": {"a@example.com"}}, http.StatusNotFound, "does not exist"},
	}
	for _, tc := range cases {
		rec := env.api(page, http.MethodPost, "/scan-links/email", tc.form)
		if msg := jsonOf[errorJSON](t, rec).Message; rec.Code != tc.status || !strings.Contains(msg, tc.text) {
			t.Errorf("%s: %d %q, want %d with %q", tc.name, rec.Code, msg, tc.status, tc.text)
		}
	}
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("server received %d messages for rejected requests", n)
	}

	var last int
	for range 6 {
		last = env.api(page, http.MethodPost, "/scan-links/email", url.Values{"token": {token}, "email": {"a@example.com"}}).Code
	}
	if last != http.StatusTooManyRequests {
		t.Errorf("sixth e-mail for a line: %d, want 429", last)
	}
}

func TestScanLinkEmailDisabled(t *testing.T) {
	env := newPagesEnv(t, dbtest.SQLite(t), pagesEnvOptions{})
	page := env.openSettings(1, "en")
	if strings.Contains(page.body, `data-role="mail-form"`) {
		t.Error("the e-mail form is shown although SMTP is not configured")
	}
	token, _ := env.createLink(page)
	rec := env.api(page, http.MethodPost, "/scan-links/email", url.Values{"token": {token}, "email": {"a@example.com"}})
	if rec.Code != http.StatusNotFound || !strings.Contains(jsonOf[errorJSON](t, rec).Message, "not configured") {
		t.Errorf("send without SMTP: %d, want 404 saying it is not configured", rec.Code)
	}
}
