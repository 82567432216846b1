package main

import (
	"bytes"
	"strings"
	"testing"
)

func lookupFrom(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}
}

func TestConfigDefaultsAreValid(t *testing.T) {
	cfg, err := LoadConfig(lookupFrom(nil))
	if err != nil {
		t.Fatalf("defaults rejected: %v", err)
	}
	if cfg.HTTPAddr != "127.0.0.1:8080" {
		t.Errorf("HTTPAddr = %q", cfg.HTTPAddr)
	}
	if cfg.WhatsAppBackend != "whatsmeow" {
		t.Errorf("WhatsAppBackend = %q, want whatsmeow by default", cfg.WhatsAppBackend)
	}
	if cfg.AllowInsecureHTTP {
		t.Error("ALLOW_INSECURE_HTTP must be off by default")
	}
	if cfg.InstanceID == "" {
		t.Error("InstanceID has no default")
	}
}

func TestConfigRejectsBadValues(t *testing.T) {
	cases := []struct {
		name     string
		env      map[string]string
		variable string
	}{
		{"unknown backend", map[string]string{"WHATSAPP_BACKEND": "twilio"}, "WHATSAPP_BACKEND"},
		{"malformed database url", map[string]string{"DATABASE_URL": "postgres://x/y"}, "DATABASE_URL"},
		{"mysql url without database", map[string]string{"DATABASE_URL": "mysql://root@127.0.0.1:3306/"}, "DATABASE_URL"},
		{"production without secret", map[string]string{"APP_ENV": "production", "PUBLIC_URL": "https://wa.example.com",
			"B24_CLIENT_ID": "app.1", "B24_CLIENT_SECRET": "s"}, "SECRET_KEY"},
		{"production over http", map[string]string{"APP_ENV": "production", "SECRET_KEY": strings.Repeat("k", 32),
			"B24_CLIENT_ID": "app.1", "B24_CLIENT_SECRET": "s"}, "PUBLIC_URL"},
		{"short secret", map[string]string{"SECRET_KEY": "short"}, "SECRET_KEY"},
		{"bad log level", map[string]string{"LOG_LEVEL": "loud"}, "LOG_LEVEL"},
		{"connector id with dot", map[string]string{"B24_CONNECTOR_ID": "acme.wa"}, "B24_CONNECTOR_ID"},
		{"not a number", map[string]string{"B24_RATE_BURST": "many"}, "B24_RATE_BURST"},
		{"address without port", map[string]string{"HTTP_ADDR": "garbage"}, "HTTP_ADDR"},
		{"smtp url of another scheme", map[string]string{"SMTP_URL": "http://mail.example.com"}, "SMTP_URL"},
		{"short old secret", map[string]string{"SECRET_KEYS_OLD": "short"}, "SECRET_KEYS_OLD"},
		{"negative shutdown timeout", map[string]string{"SHUTDOWN_TIMEOUT": "-1s"}, "SHUTDOWN_TIMEOUT"},
		{"negative media lifetime", map[string]string{"MEDIA_TTL": "-1h"}, "MEDIA_TTL"},
		{"zero REST timeout", map[string]string{"B24_TIMEOUT": "0s"}, "B24_TIMEOUT"},
		{"script url with javascript", map[string]string{"BX24_SCRIPT_URL": "javascript:alert(1)"}, "BX24_SCRIPT_URL"},
		{"short operator key", map[string]string{"OPERATOR_API_KEY": "k"}, "OPERATOR_API_KEY"},
		{"negative trial", map[string]string{"BILLING_TRIAL_DAYS": "-3"}, "BILLING_TRIAL_DAYS"},
		{"billing without price", map[string]string{"BILLING_ENABLED": "true", "BILLING_PRICE_PER_MONTH": "0"}, "BILLING_PRICE_PER_MONTH"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadConfig(lookupFrom(tc.env))
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), tc.variable) {
				t.Errorf("error %q does not name %s", err, tc.variable)
			}
		})
	}
}

func TestPrintConfigRedactsSecrets(t *testing.T) {
	cfg, err := LoadConfig(lookupFrom(map[string]string{
		"SECRET_KEY": strings.Repeat("s", 40), "B24_CLIENT_SECRET": "client-secret-value",
		"DATABASE_URL": "mysql://u:dbpass@127.0.0.1:3306/app", "OPERATOR_API_KEY": "operator-key-value-0123456789abcdef",
	}))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cfg.Print(&out)
	for _, secret := range []string{strings.Repeat("s", 40), "client-secret-value", "dbpass", "operator-key-value"} {
		if strings.Contains(out.String(), secret) {
			t.Errorf("printed configuration contains the secret %q", secret)
		}
	}
	if !strings.Contains(out.String(), "SECRET_KEY=[redacted]") {
		t.Errorf("SECRET_KEY line missing or not redacted:\n%s", out.String())
	}
}
