package portal

import (
	"fmt"
	"strings"
)

// AppInstall is the data of ONAPPINSTALL.
type AppInstall struct {
	Version    string
	Active     bool
	Installed  bool
	LanguageID string
}

// AppUpdate is the data of ONAPPUPDATE.
type AppUpdate struct {
	Version         string
	PreviousVersion string
	LanguageID      string
}

// AppUninstall is the data of ONAPPUNINSTALL.
type AppUninstall struct {
	LanguageID string
	// Clean is CLEAN=1: the administrator ticked "Clear application data",
	// so everything stored for the portal is to be deleted.
	Clean bool
}

// AppPayment is the data of ONAPPPAYMENT. Bitrix24 sends it without tokens
// and the installer re-reads the licence with app.info, so these values are
// informational.
type AppPayment struct {
	Code           string
	Version        string
	Status         string
	PaymentExpired bool
	Days           *int64 // nil when the licence has no end
	LanguageID     string
}

// AppInstall decodes the data of ONAPPINSTALL.
func (e *Event) AppInstall() (*AppInstall, error) {
	if err := e.expect(EventAppInstall); err != nil {
		return nil, err
	}
	return &AppInstall{
		Version:    e.Data.Value("VERSION"),
		Active:     flag(e.Data.Value("ACTIVE")),
		Installed:  flag(e.Data.Value("INSTALLED")),
		LanguageID: e.Data.Value("LANGUAGE_ID"),
	}, nil
}

// AppUpdate decodes the data of ONAPPUPDATE.
func (e *Event) AppUpdate() (*AppUpdate, error) {
	if err := e.expect(EventAppUpdate); err != nil {
		return nil, err
	}
	return &AppUpdate{
		Version:         e.Data.Value("VERSION"),
		PreviousVersion: e.Data.Value("PREVIOUS_VERSION"),
		LanguageID:      e.Data.Value("LANGUAGE_ID"),
	}, nil
}

// AppUninstall decodes the data of ONAPPUNINSTALL. CLEAN arrives as "1" or
// "0"; anything but a true value keeps the data.
func (e *Event) AppUninstall() (*AppUninstall, error) {
	if err := e.expect(EventAppUninstall); err != nil {
		return nil, err
	}
	return &AppUninstall{
		LanguageID: e.Data.Value("LANGUAGE_ID"),
		Clean:      flag(e.Data.Value("CLEAN")),
	}, nil
}

// AppPayment decodes the data of ONAPPPAYMENT.
func (e *Event) AppPayment() (*AppPayment, error) {
	if err := e.expect(EventAppPayment); err != nil {
		return nil, err
	}
	p := &AppPayment{
		Code:           e.Data.Value("CODE"),
		Version:        e.Data.Value("VERSION"),
		Status:         e.Data.Value("STATUS"),
		PaymentExpired: flag(e.Data.Value("PAYMENT_EXPIRED")),
		LanguageID:     e.Data.Value("LANGUAGE_ID"),
	}
	if days := strings.TrimSpace(e.Data.Value("DAYS")); days != "" {
		n := parseInt(days)
		p.Days = &n
	}
	return p, nil
}

func (e *Event) expect(name string) error {
	if e.Name != name {
		return fmt.Errorf("%w: got %s, want %s", ErrMalformedEvent, e.Name, name)
	}
	return nil
}
