package handlers

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/wabridge/b24wa/connector"
	"github.com/wabridge/b24wa/connector/billing"
)

// phoneOfflineWarnDays is when the page warns that the phone has not been
// online: WhatsApp unlinks companion devices after the phone has been
// offline for about 14 days, so a warning at 10 leaves time to act.
const phoneOfflineWarnDays = 10

// settingsPanel is the view model of the settings_panel template, the part
// of the settings page that is rendered again after pairing and logout.
type settingsPanel struct {
	Lang             string
	Admin            bool
	Linked           bool
	State            stateView
	Phone            string // formatted
	PushName         string
	PhoneOfflineDays int
	Sessions         []sessionView
	ActiveText       string
	Pairing          pairingView
	ScanLink         *scanLinkView
	MailEnabled      bool
	Billing          *bannerView
	Failures         *failuresView
}

// stateView is a line's device state in words.
type stateView struct {
	Key    string
	Tone   string // ok, progress, warn, error or muted: the colour of the dot
	Title  string
	Text   string
	Reason string
	Since  *timeView
	Until  *timeView
}

type sessionView struct {
	Phone       string // formatted
	PushName    string
	Platform    string
	Via         string
	LinkedAt    *timeView
	LoggedOutAt *timeView
	Reason      string
}

type scanLinkView struct {
	ExpiresAt time.Time
	ExpiresIn int
}

type bannerView struct {
	State string
	Level string
	Text  string
}

type failuresView struct {
	Total  int
	Recent []failureRow
}

type failureRow struct {
	At    *timeView
	Chat  string
	Error string
}

// stateTones gives each line state the colour of its dot.
var stateTones = map[string]string{
	connector.StateConnected:      "ok",
	connector.StatePairing:        "progress",
	connector.StateConnecting:     "progress",
	connector.StateReconnecting:   "progress",
	connector.StateNew:            "muted",
	connector.StateNeedsScan:      "warn",
	connector.StateLoggedOut:      "warn",
	connector.StateDisconnected:   "warn",
	connector.StateStreamReplaced: "error",
	connector.StateTemporaryBan:   "error",
	connector.StateClientOutdated: "error",
	connector.StateSuspended:      "error",
}

// newStateView describes a line's state. Known reasons are translated;
// others are shown as they are, because they name what WhatsApp reported.
func newStateView(pages *Pages, lang string, line *connector.Line) stateView {
	key := line.State
	if _, ok := stateTones[key]; !ok {
		key = connector.StateDisconnected
	}
	v := stateView{
		Key:   line.State,
		Tone:  stateTones[key],
		Title: pages.T(lang, "pages.state."+key+".title"),
		Text:  pages.T(lang, "pages.state."+key+".text"),
		Since: newTimeView(line.StateSince),
		Until: newTimeViewPtr(line.StateUntil),
	}
	if line.StateReason != "" {
		v.Reason = reasonText(pages, lang, line.StateReason)
	}
	return v
}

// reasonText translates a state or logout reason. A temporary ban or
// connection failure code without its own text gets a generic text with the
// code. Anything else is shown as it is.
func reasonText(pages *Pages, lang, reason string) string {
	if key := "pages.reason." + reason; pages.catalog.Has(key) {
		return pages.T(lang, key)
	}
	for _, prefix := range []string{"temp_ban", "connect_failure"} {
		code, ok := strings.CutPrefix(reason, prefix+"_")
		if n, err := strconv.Atoi(code); ok && err == nil {
			return pages.T(lang, "pages.reason."+prefix, n)
		}
	}
	return reason
}

func translatedOr(pages *Pages, lang, key, fallback string) string {
	if pages.catalog.Has(key) {
		return pages.T(lang, key)
	}
	return fallback
}

func newSessionViews(pages *Pages, lang string, rows []connector.DeviceSession) []sessionView {
	out := make([]sessionView, 0, len(rows))
	for _, r := range rows {
		v := sessionView{
			Phone:       FormatPhone(r.Phone),
			PushName:    r.PushName,
			Platform:    r.Platform,
			LinkedAt:    newTimeView(r.LinkedAt),
			LoggedOutAt: newTimeViewPtr(r.LoggedOutAt),
		}
		if r.LinkedVia != "" {
			v.Via = translatedOr(pages, lang, "pages.via."+r.LinkedVia, r.LinkedVia)
		}
		if r.LogoutReason != "" {
			v.Reason = reasonText(pages, lang, r.LogoutReason)
		}
		out = append(out, v)
	}
	return out
}

// phoneOfflineDays returns how many days the linked phone has not been seen
// online, when that is long enough to warn about.
func phoneOfflineDays(line *connector.Line, now time.Time) int {
	if line.PhoneSeenAt == nil || line.WaJID == "" {
		return 0
	}
	days := int(now.Sub(*line.PhoneSeenAt) / (24 * time.Hour))
	if days < phoneOfflineWarnDays {
		return 0
	}
	return days
}

// buildPanel loads everything the panel shows for one line.
func (h *settings) buildPanel(ctx context.Context, lang string, admin bool, line *connector.Line) (settingsPanel, error) {
	now := h.deps.now()
	panel := settingsPanel{
		Lang:             lang,
		Admin:            admin,
		Linked:           lineLinked(line),
		State:            newStateView(h.pages, lang, line),
		Phone:            FormatPhone(line.Phone),
		PushName:         line.PushName,
		PhoneOfflineDays: phoneOfflineDays(line, now),
		ActiveText:       h.pages.T(lang, "pages.sessions.active"),
		MailEnabled:      h.deps.Mailer != nil,
	}
	rows, err := h.deps.Lines.DeviceSessions(ctx, line.ID)
	if err != nil {
		return panel, err
	}
	panel.Sessions = newSessionViews(h.pages, lang, rows)

	if err := h.addPairing(ctx, &panel, line, now); err != nil {
		return panel, err
	}
	if panel.Billing, err = h.lineBilling(ctx, lang, line); err != nil {
		return panel, err
	}
	panel.Failures, err = h.failures(ctx, line.ID)
	return panel, err
}

// addPairing adds the running pairing attempt and the open scan link of a
// line that has no linked device.
func (h *settings) addPairing(ctx context.Context, panel *settingsPanel, line *connector.Line, now time.Time) error {
	panel.Pairing = pairingView{Lang: panel.Lang, CanAct: panel.Admin}
	if panel.Linked {
		return nil
	}
	st, err := h.deps.Sessions.PairingStatus(ctx, line.ID)
	switch {
	case err == nil && st.Step == connector.PairingSuccess:
		// The attempt linked a device that is gone since, logged out here or
		// on the phone, so the line needs a new attempt and not "Linked".
	case err == nil:
		panel.Pairing = newPairingView(panel.Lang, panel.Admin, st, now, h.pages)
	case !isNoPairing(err):
		return err
	}
	if !panel.Admin {
		return nil
	}
	link, err := h.deps.Links.Open(ctx, line.ID)
	if err != nil || link == nil {
		return err
	}
	panel.ScanLink = &scanLinkView{ExpiresAt: link.ExpiresAt, ExpiresIn: secondsUntil(link.ExpiresAt, now)}
	return nil
}

// lineBilling renders billing's banner for a line, or nil when billing is
// not wired or has no banner for it.
func (h *settings) lineBilling(ctx context.Context, lang string, line *connector.Line) (*bannerView, error) {
	if h.deps.Billing == nil {
		return nil, nil
	}
	view, err := h.deps.Billing.View(ctx, line)
	if err != nil {
		return nil, err
	}
	return newBannerView(h.pages, lang, view.State, view.Banner), nil
}

func newBannerView(pages *Pages, lang, state string, b billing.Banner) *bannerView {
	if b.Key == "" {
		return nil
	}
	return &bannerView{State: state, Level: b.Level, Text: pages.T(lang, b.Key, b.Args...)}
}

// failuresLimit is how many failed deliveries the page lists.
const failuresLimit = 10

func (h *settings) failures(ctx context.Context, lineID uint64) (*failuresView, error) {
	if h.deps.Failures == nil {
		return nil, nil
	}
	total, recent, err := h.deps.Failures.FailedDeliveries(ctx, lineID, failuresLimit)
	if err != nil || total == 0 {
		return nil, err
	}
	view := &failuresView{Total: total}
	for _, f := range recent {
		view.Recent = append(view.Recent, failureRow{At: newTimeView(f.At), Chat: f.Chat, Error: f.Error})
	}
	return view, nil
}
