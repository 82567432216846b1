package main

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"reflect"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"

	"github.com/wabridge/b24wa/connector/mail"
	"github.com/wabridge/b24wa/internal/database"
)

// Config is every setting of the service, read from the environment. Field
// tags give the variable, its default and whether it is a secret that the
// -print-config dump redacts.
type Config struct {
	Env       string `env:"APP_ENV" envDefault:"development" help:"production or development; production requires SECRET_KEY, B24 credentials and an https PUBLIC_URL"`
	HTTPAddr  string `env:"HTTP_ADDR" envDefault:"127.0.0.1:8080" help:"address the HTTP server listens on"`
	PublicURL string `env:"PUBLIC_URL" envDefault:"http://127.0.0.1:8080" help:"base URL Bitrix24 and browsers reach the app at, used in every URL handed to Bitrix24; it does not follow HTTP_ADDR, so set both when moving the app"`
	DataDir   string `env:"DATA_DIR" envDefault:"./data" help:"directory for the SQLite database, re-hosted media and the development secret key"`

	DatabaseURL string `env:"DATABASE_URL" secret:"true" help:"empty for SQLite in DATA_DIR, sqlite:///path/app.db, or mysql://user:password@host:3306/dbname"`
	DBMigrate   bool   `env:"DB_MIGRATE" envDefault:"true" help:"apply pending migrations on start; when false a stale schema stops the app"`

	B24ClientID     string        `env:"B24_CLIENT_ID" help:"application client_id from the Bitrix24 vendor or local-app page"`
	B24ClientSecret string        `env:"B24_CLIENT_SECRET" secret:"true" help:"application client_secret; sent only to the OAuth server"`
	B24ConnectorID  string        `env:"B24_CONNECTOR_ID" envDefault:"b24wa_whatsapp" help:"Open Lines connector id, lower case letters, digits and underscores"`
	B24RateBurst    int           `env:"B24_RATE_BURST" envDefault:"50" help:"leaky-bucket size of REST calls per portal"`
	B24RatePerSec   float64       `env:"B24_RATE_PER_SEC" envDefault:"2" help:"REST calls per second per portal once the bucket is full"`
	B24Timeout      time.Duration `env:"B24_TIMEOUT" envDefault:"30s" help:"timeout of one REST call"`

	SecretKey     string `env:"SECRET_KEY" secret:"true" help:"at least 32 bytes (raw, hex or base64) for encryption at rest and signing"`
	SecretKeysOld string `env:"SECRET_KEYS_OLD" secret:"true" help:"comma-separated previous SECRET_KEY values, oldest first, still accepted for decryption"`

	WhatsAppBackend string `env:"WHATSAPP_BACKEND" envDefault:"whatsmeow" help:"whatsmeow (real WhatsApp) or simulator (offline, plays the phone)"`
	SimulatorState  string `env:"SIMULATOR_STATE" help:"JSON file where WHATSAPP_BACKEND=simulator keeps linked devices, unacknowledged messages, sent messages and media across restarts; empty keeps them in memory"`

	LogLevel  string `env:"LOG_LEVEL" envDefault:"info" help:"debug, info, warn or error"`
	LogFormat string `env:"LOG_FORMAT" envDefault:"text" help:"text or json"`

	AllowInsecureHTTP bool `env:"ALLOW_INSECURE_HTTP" envDefault:"false" help:"allow portals and the OAuth server over plain http on loopback addresses (tests, local tryouts)"`

	MediaTTL        time.Duration `env:"MEDIA_TTL" envDefault:"168h" help:"lifetime of the links under which customer media are re-hosted for the portal"`
	MaxOutboundFile int64         `env:"MAX_OUTBOUND_FILE_BYTES" envDefault:"67108864" help:"largest operator file sent to WhatsApp, in bytes"`
	SendInterval    time.Duration `env:"WA_SEND_INTERVAL" envDefault:"1s" help:"pause between messages sent from one WhatsApp number after a short burst"`

	SMTPURL  string `env:"SMTP_URL" secret:"true" help:"smtp://user:password@host:587 (STARTTLS), smtps://...:465 or smtp://host:25?tls=none; empty hides e-mailing scan links"`
	SMTPFrom string `env:"SMTP_FROM" help:"sender address of e-mails, e.g. WhatsApp connector <noreply@example.com>"`

	BillingEnabled       bool          `env:"BILLING_ENABLED" envDefault:"false" help:"charge per line; when false lines never expire"`
	BillingTrialDays     int           `env:"BILLING_TRIAL_DAYS" envDefault:"7" help:"trial days of a new line"`
	BillingGraceDays     int           `env:"BILLING_GRACE_DAYS" envDefault:"3" help:"days a line keeps working after paid_until before it is suspended"`
	BillingRemindDays    int           `env:"BILLING_REMIND_DAYS" envDefault:"5" help:"days before paid_until when reminders start"`
	BillingPrice         int64         `env:"BILLING_PRICE_PER_MONTH" envDefault:"150000" help:"price of one line per month in minor units (150000 = 1500.00)"`
	BillingCurrency      string        `env:"BILLING_CURRENCY" envDefault:"RUB" help:"ISO 4217 code of the price"`
	BillingCheckInterval time.Duration `env:"BILLING_CHECK_INTERVAL" envDefault:"10m" help:"time between two checks for expiring lines"`
	SellerDetails        string        `env:"SELLER_DETAILS" help:"seller name, tax id, address and bank printed on invoices; \\n breaks lines"`
	OperatorAPIKey       string        `env:"OPERATOR_API_KEY" secret:"true" help:"bearer key of the operator API that records payments; empty disables it"`

	BX24ScriptURL string `env:"BX24_SCRIPT_URL" help:"address of Bitrix24's BX24.js on iframe pages; empty for api.bitrix24.com, - to leave it out (offline tryouts)"`

	TrustedProxies string `env:"TRUSTED_PROXIES" help:"comma-separated CIDRs of reverse proxies whose X-Forwarded-For names the client, e.g. 10.0.0.0/8; empty trusts none"`

	ShutdownTimeout time.Duration `env:"SHUTDOWN_TIMEOUT" envDefault:"20s" help:"time given to each shutdown step"`
	InstanceID      string        `env:"INSTANCE_ID" help:"name of this instance in line leases and delivery locks, stable across restarts and unique among instances sharing a database; default the host name"`
}

// LoadConfig reads the environment and validates the result.
func LoadConfig(lookup func(string) (string, bool)) (Config, error) {
	var cfg Config
	environ := map[string]string{}
	for _, f := range configFields() {
		if v, ok := lookup(f.env); ok {
			environ[f.env] = v
		}
	}
	if err := env.ParseWithOptions(&cfg, env.Options{Environment: environ}); err != nil {
		return cfg, describeParseError(err)
	}
	if cfg.InstanceID == "" {
		// The host name stays the same across restarts, so a restarted
		// process takes back its own leases and delivery locks at once.
		cfg.InstanceID, _ = os.Hostname()
	}
	return cfg, cfg.Validate()
}

// describeParseError names the variable behind each value that does not
// parse, instead of the Go field name the env library reports.
func describeParseError(err error) error {
	var agg env.AggregateError
	if !errors.As(err, &agg) {
		return fmt.Errorf("read configuration: %w", err)
	}
	byField := map[string]string{}
	t := reflect.TypeOf(Config{})
	for i := range t.NumField() {
		byField[t.Field(i).Name] = t.Field(i).Tag.Get("env")
	}
	var errs []error
	for _, e := range agg.Errors {
		var pe env.ParseError
		if errors.As(e, &pe) {
			errs = append(errs, fmt.Errorf("%s: not a valid %s: %w", byField[pe.Name], pe.Type, pe.Err))
			continue
		}
		errs = append(errs, e)
	}
	return errors.Join(errs...)
}

// Validate checks every setting and names the variable at fault.
func (c *Config) Validate() error {
	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{name}, args...)...))
	}
	if c.Env != "production" && c.Env != "development" {
		bad("APP_ENV", "%q is not valid; expected production or development", c.Env)
	}
	u, err := url.Parse(c.PublicURL)
	switch {
	case err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https"):
		bad("PUBLIC_URL", "%q is not an absolute http(s) URL", c.PublicURL)
	case c.Env == "production" && u.Scheme != "https":
		bad("PUBLIC_URL", "%q must use https in production, because Bitrix24 calls only https handlers", c.PublicURL)
	}

	if c.WhatsAppBackend != "whatsmeow" && c.WhatsAppBackend != "simulator" {
		bad("WHATSAPP_BACKEND", "%q is not valid; expected whatsmeow or simulator", c.WhatsAppBackend)
	}
	if _, err := parseLevel(c.LogLevel); err != nil {
		bad("LOG_LEVEL", "%v", err)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		bad("LOG_FORMAT", "%q is not valid; expected text or json", c.LogFormat)
	}

	if c.SecretKey != "" {
		if _, err := decodeKey(c.SecretKey); err != nil {
			bad("SECRET_KEY", "%v", err)
		}
	} else if c.Env == "production" {
		bad("SECRET_KEY", "is required in production: set at least 32 random bytes, for example the output of `openssl rand -hex 32`")
	}
	if c.Env == "production" && (c.B24ClientID == "" || c.B24ClientSecret == "") {
		bad("B24_CLIENT_ID", "and B24_CLIENT_SECRET are required in production")
	}

	if !validConnectorID(c.B24ConnectorID) {
		bad("B24_CONNECTOR_ID", "%q is not valid; use lower case letters, digits and underscores", c.B24ConnectorID)
	}
	if c.B24RateBurst < 1 || c.B24RatePerSec <= 0 {
		bad("B24_RATE_BURST", "and B24_RATE_PER_SEC must be positive, got %d and %g", c.B24RateBurst, c.B24RatePerSec)
	}

	if c.DataDir == "" {
		bad("DATA_DIR", "must not be empty")
	}
	if _, err := c.ProxyNetworks(); err != nil {
		bad("TRUSTED_PROXIES", "%v", err)
	}
	if _, err := database.ParseURL(c.DatabaseURL, c.DataDir); err != nil {
		bad("DATABASE_URL", "%v", err)
	}
	c.validateMore(bad)
	return errors.Join(errs...)
}

// validateMore checks the settings of the services beyond the HTTP server
// and the database: addresses, keys, durations, limits and billing.
func (c *Config) validateMore(bad func(name, format string, args ...any)) {
	if _, _, err := net.SplitHostPort(c.HTTPAddr); err != nil {
		bad("HTTP_ADDR", "%q is not host:port, for example 127.0.0.1:8080 or :8080", c.HTTPAddr)
	}
	for _, s := range strings.Split(c.SecretKeysOld, ",") {
		if s = strings.TrimSpace(s); s != "" {
			if _, err := decodeKey(s); err != nil {
				bad("SECRET_KEYS_OLD", "%v", err)
			}
		}
	}
	if c.SMTPURL != "" {
		if _, err := mail.ParseURL(c.SMTPURL, c.SMTPFrom); err != nil {
			bad("SMTP_URL", "%v", err)
		}
	}
	if c.OperatorAPIKey != "" && len(c.OperatorAPIKey) < 32 {
		bad("OPERATOR_API_KEY", "is %d characters; use at least 32, for example the output of `openssl rand -hex 32`", len(c.OperatorAPIKey))
	}
	switch {
	case c.BX24ScriptURL == "" || c.BX24ScriptURL == "-":
	case !strings.HasPrefix(c.BX24ScriptURL, "https://") && !(c.AllowInsecureHTTP && strings.HasPrefix(c.BX24ScriptURL, "http://")):
		bad("BX24_SCRIPT_URL", "%q is not an https URL; leave it empty for Bitrix24's own or - to leave the script out", c.BX24ScriptURL)
	}
	for name, d := range map[string]time.Duration{
		"SHUTDOWN_TIMEOUT": c.ShutdownTimeout, "MEDIA_TTL": c.MediaTTL, "B24_TIMEOUT": c.B24Timeout,
		"BILLING_CHECK_INTERVAL": c.BillingCheckInterval,
	} {
		if d <= 0 {
			bad(name, "must be a positive duration such as 30s or 10m, got %s", d)
		}
	}
	if c.SendInterval < 0 {
		bad("WA_SEND_INTERVAL", "must not be negative, got %s", c.SendInterval)
	}
	if c.MaxOutboundFile <= 0 {
		bad("MAX_OUTBOUND_FILE_BYTES", "must be positive, got %d", c.MaxOutboundFile)
	}
	for name, n := range map[string]int{
		"BILLING_TRIAL_DAYS": c.BillingTrialDays, "BILLING_GRACE_DAYS": c.BillingGraceDays,
		"BILLING_REMIND_DAYS": c.BillingRemindDays,
	} {
		if n < 0 {
			bad(name, "must not be negative, got %d", n)
		}
	}
	if c.BillingEnabled && c.BillingPrice <= 0 {
		bad("BILLING_PRICE_PER_MONTH", "must be positive when BILLING_ENABLED is true, got %d", c.BillingPrice)
	}
}

func validConnectorID(id string) bool {
	if id == "" {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}

// decodeKey accepts a key as hex, base64 or raw text of at least 32 bytes.
func decodeKey(s string) ([]byte, error) {
	if b, err := hex.DecodeString(s); err == nil && len(b) >= 32 {
		return b, nil
	}
	if b, err := base64.StdEncoding.DecodeString(s); err == nil && len(b) >= 32 {
		return b, nil
	}
	if len(s) >= 32 {
		return []byte(s), nil
	}
	return nil, fmt.Errorf("key is too short: need at least 32 bytes (64 hex digits)")
}

// PublicBase returns PUBLIC_URL without a trailing slash.
func (c *Config) PublicBase() string { return strings.TrimRight(c.PublicURL, "/") }

type configField struct {
	env, def, help string
	secret         bool
	index          int
}

func configFields() []configField {
	t := reflect.TypeOf(Config{})
	fields := make([]configField, 0, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		fields = append(fields, configField{
			env: f.Tag.Get("env"), def: f.Tag.Get("envDefault"), help: f.Tag.Get("help"),
			secret: f.Tag.Get("secret") == "true", index: i,
		})
	}
	return fields
}

// Print writes every setting as NAME=value with secrets redacted.
func (c *Config) Print(w io.Writer) {
	v := reflect.ValueOf(*c)
	for _, f := range configFields() {
		value := fmt.Sprint(v.Field(f.index).Interface())
		if f.secret && value != "" {
			value = "[redacted]"
		}
		fmt.Fprintf(w, "%s=%s\n", f.env, value)
	}
}

// ProxyNetworks parses TRUSTED_PROXIES.
func (c *Config) ProxyNetworks() ([]*net.IPNet, error) {
	var nets []*net.IPNet
	for _, part := range strings.Split(c.TrustedProxies, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		_, n, err := net.ParseCIDR(part)
		if err != nil {
			return nil, fmt.Errorf("%q is not a CIDR such as 10.0.0.0/8", part)
		}
		nets = append(nets, n)
	}
	return nets, nil
}
