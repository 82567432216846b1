package simulator

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"

	"github.com/wabridge/b24wa/connector/wa"
)

func TestPairQRScheduleAndFormat(t *testing.T) {
	f := newFixture(t)
	sess, rec, items := f.pairing(t, wa.OpenOptions{})

	qrEvent := next[*events.QR](t, rec)
	if len(qrEvent.Codes) != 6 {
		t.Fatalf("events.QR has %d codes, want 6", len(qrEvent.Codes))
	}
	var keys string
	seen := map[string]bool{}
	for i := range 6 {
		item := nextItem(t, items)
		if item.Kind != wa.PairQRCode {
			t.Fatalf("item %d kind = %s, want code", i, item.Kind)
		}
		want := 20 * time.Second
		if i == 0 {
			want = 60 * time.Second
		}
		if item.Timeout != want {
			t.Errorf("code %d timeout = %s, want %s", i, item.Timeout, want)
		}
		if item.Code != qrEvent.Codes[i] {
			t.Errorf("code %d differs from events.QR", i)
		}
		parts := strings.Split(item.Code, ",")
		if len(parts) != 4 {
			t.Fatalf("code %d has %d comma-separated parts, want 4", i, len(parts))
		}
		if !strings.HasPrefix(parts[0], "2@") || seen[parts[0]] {
			t.Errorf("code %d ref %q is not a fresh 2@ ref", i, parts[0])
		}
		seen[parts[0]] = true
		for j, part := range parts[1:] {
			raw, err := base64.StdEncoding.DecodeString(part)
			if err != nil || len(raw) != 32 {
				t.Errorf("code %d key %d: %d bytes, err %v; want 32 bytes of base64", i, j, len(raw), err)
			}
		}
		if i == 0 {
			keys = strings.Join(parts[1:], ",")
		} else if got := strings.Join(parts[1:], ","); got != keys {
			t.Errorf("code %d keys changed between codes", i)
		}
		if current, ok := f.sim.CurrentQR(sess); !ok || current != item.Code {
			t.Errorf("CurrentQR = %q, %v; want code %d", current, ok, i)
		}
		f.clock.Advance(item.Timeout - time.Second)
		select {
		case early := <-items:
			t.Fatalf("item %+v arrived before code %d expired", early, i)
		default:
		}
		f.clock.Advance(time.Second)
	}

	if item := nextItem(t, items); item.Kind != wa.PairTimeout {
		t.Fatalf("final item = %+v, want timeout", item)
	}
	requireClosed(t, items)
	if sess.IsConnected() {
		t.Error("session still connected after the QR timeout")
	}
	if f.clock.Pending() != 0 {
		t.Errorf("%d timers left after the pairing ended", f.clock.Pending())
	}
}

func TestScanUnknownOrExpiredCode(t *testing.T) {
	f := newFixture(t)
	_, _, items := f.pairing(t, wa.OpenOptions{})
	first := nextItem(t, items)

	if _, err := f.sim.Scan("2@nothing,a,b,c", "79001234567", "Shop"); !errors.Is(err, ErrQRUnknown) {
		t.Errorf("scan of unknown code: err = %v, want ErrQRUnknown", err)
	}
	f.clock.Advance(first.Timeout)
	nextItem(t, items)
	if _, err := f.sim.Scan(first.Code, "79001234567", "Shop"); !errors.Is(err, ErrQRUnknown) {
		t.Errorf("scan of superseded code: err = %v, want ErrQRUnknown", err)
	}
	if got := f.sim.State().Devices; len(got) != 0 {
		t.Errorf("devices after failed scans = %v, want none", got)
	}
}

func TestScanRejectedByPrePair(t *testing.T) {
	f := newFixture(t)
	var asked types.JID
	opts := wa.OpenOptions{PrePair: func(jid types.JID, platform, business string) bool {
		asked = jid
		return false
	}}
	sess, rec, items := f.pairing(t, opts)
	code := nextItem(t, items)

	_, err := f.sim.Scan(code.Code, "+7 900 123-45-67", "Shop")
	if !errors.Is(err, ErrNumberRejected) {
		t.Fatalf("scan err = %v, want ErrNumberRejected", err)
	}
	if asked.User != "79001234567" {
		t.Errorf("PrePair got %s, want user 79001234567", asked)
	}
	pairErr := next[*events.PairError](t, rec)
	if !errors.Is(pairErr.Error, whatsmeow.ErrPairRejectedLocally) {
		t.Errorf("PairError.Error = %v, want ErrPairRejectedLocally", pairErr.Error)
	}
	item := nextItem(t, items)
	if item.Kind != wa.PairError || !errors.Is(item.Err, wa.ErrPairRejected) {
		t.Errorf("final item = %+v, want error wrapping wa.ErrPairRejected", item)
	}
	requireClosed(t, items)
	if sess.IsConnected() || sess.IsLoggedIn() {
		t.Error("rejected session is still connected or logged in")
	}
	if devices, _ := f.sim.Devices(t.Context()); len(devices) != 0 {
		t.Errorf("devices = %v, want none", devices)
	}
}

func TestScanLinksDevice(t *testing.T) {
	f := newFixture(t)
	sess, rec, items := f.pairing(t, wa.OpenOptions{})
	code := nextItem(t, items)
	if latest, ok := f.sim.LatestQR(); !ok || latest != code.Code {
		t.Errorf("LatestQR = %q, %v; want the shown code", latest, ok)
	}

	jid, err := f.sim.Scan(code.Code, "8 (900) 123-45-67", "Flower shop")
	if err != nil {
		t.Fatalf("scan: %v", err)
	}
	if jid.User != "79001234567" || jid.Device == 0 {
		t.Errorf("linked JID = %s, want a companion device of 79001234567", jid)
	}
	success := next[*events.PairSuccess](t, rec)
	if success.ID != jid || success.LID.Server != types.HiddenUserServer || success.Platform != "smba" {
		t.Errorf("PairSuccess = %+v", success)
	}
	item := nextItem(t, items)
	if item.Kind != wa.PairSuccess || item.JID != jid || item.PushName != "Flower shop" || item.Platform != "smba" {
		t.Errorf("success item = %+v", item)
	}
	requireClosed(t, items)
	next[*events.Connected](t, rec)
	if !sess.IsLoggedIn() || !sess.IsConnected() {
		t.Error("paired session is not connected and logged in")
	}
	if sess.JID() != jid {
		t.Errorf("session JID = %s, want %s", sess.JID(), jid)
	}
	devices, _ := f.sim.Devices(t.Context())
	if len(devices) != 1 || devices[0] != jid {
		t.Errorf("devices = %v, want [%s]", devices, jid)
	}
	if _, err := f.sim.Scan(code.Code, "79001234567", "Again"); !errors.Is(err, ErrQRUnknown) {
		t.Errorf("second scan of a used code: err = %v, want ErrQRUnknown", err)
	}
	if _, err := sess.PairQR(t.Context()); !errors.Is(err, whatsmeow.ErrQRStoreContainsID) {
		t.Errorf("PairQR on a paired session: err = %v, want ErrQRStoreContainsID", err)
	}
}

func TestPairPhone(t *testing.T) {
	f := newFixture(t)
	rec := newRecorder()
	idle, err := f.sim.Open(t.Context(), types.EmptyJID, rec.handle, wa.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := idle.PairPhone(t.Context(), "79001234567"); !errors.Is(err, wa.ErrPairingNotRunning) {
		t.Errorf("PairPhone without pairing: err = %v, want ErrPairingNotRunning", err)
	}

	sess, rec, items := f.pairing(t, wa.OpenOptions{})
	nextItem(t, items)
	tests := []struct {
		phone string
		want  error
	}{
		{"12345", wa.ErrPhoneTooShort},
		{"0123456789", wa.ErrPhoneNotInternational},
	}
	for _, tt := range tests {
		if _, err := sess.PairPhone(t.Context(), tt.phone); !errors.Is(err, tt.want) {
			t.Errorf("PairPhone(%q) err = %v, want %v", tt.phone, err, tt.want)
		}
	}

	code, err := sess.PairPhone(t.Context(), "+7 900 123 45 67")
	if err != nil {
		t.Fatalf("PairPhone: %v", err)
	}
	if len(code) != 9 || code[4] != '-' {
		t.Errorf("code %q is not XXXX-XXXX", code)
	}
	if _, err := f.sim.EnterCode(code, "79990000000", "Other"); !errors.Is(err, ErrPairCodeUnknown) {
		t.Errorf("code typed on another phone: err = %v, want ErrPairCodeUnknown", err)
	}
	jid, err := f.sim.EnterCode(strings.ReplaceAll(code, "-", ""), "79001234567", "Shop")
	if err != nil {
		t.Fatalf("EnterCode: %v", err)
	}
	if next[*events.PairSuccess](t, rec).ID != jid {
		t.Error("PairSuccess does not carry the linked JID")
	}
	if item := nextItem(t, items); item.Kind != wa.PairSuccess {
		t.Errorf("final item = %+v, want success", item)
	}
}

func TestPairPhoneRateLimit(t *testing.T) {
	f := newFixture(t)
	sess, _, items := f.pairing(t, wa.OpenOptions{})
	nextItem(t, items)
	for i := range 3 {
		if _, err := sess.PairPhone(t.Context(), "79001234567"); err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
	}
	_, err := sess.PairPhone(t.Context(), "79001234567")
	if !errors.Is(err, wa.ErrPairRateLimited) || !errors.Is(err, whatsmeow.ErrIQRateOverLimit) {
		t.Errorf("fourth request err = %v, want ErrPairRateLimited wrapping ErrIQRateOverLimit", err)
	}
}

func TestPairQRCancelledContext(t *testing.T) {
	f := newFixture(t)
	rec := newRecorder()
	sess, err := f.sim.Open(t.Context(), types.EmptyJID, rec.handle, wa.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := contextWithCancel(t)
	items, err := sess.PairQR(ctx)
	if err != nil {
		t.Fatal(err)
	}
	code := nextItem(t, items)
	cancel()
	requireClosed(t, items)
	if sess.IsConnected() {
		t.Error("session connected after its pairing context ended")
	}
	if _, err := f.sim.Scan(code.Code, "79001234567", "Shop"); !errors.Is(err, ErrQRUnknown) {
		t.Errorf("scan after cancel: err = %v, want ErrQRUnknown", err)
	}
}

func TestPairQRWhileOutdated(t *testing.T) {
	f := newFixture(t)
	f.sim.SetOutdated(true)
	_, rec, items := f.pairing(t, wa.OpenOptions{})
	item := nextItem(t, items)
	if item.Kind != wa.PairError || !errors.Is(item.Err, wa.ErrClientOutdated) {
		t.Errorf("item = %+v, want ErrClientOutdated", item)
	}
	requireClosed(t, items)
	next[*events.ClientOutdated](t, rec)
}

func TestDropDuringPairingTimesOut(t *testing.T) {
	f := newFixture(t)
	sess, rec, items := f.pairing(t, wa.OpenOptions{})
	code := nextItem(t, items)

	if n := f.sim.DropAll(); n != 1 {
		t.Fatalf("dropped %d connections, want the pairing's", n)
	}
	next[*events.Disconnected](t, rec)
	if item := nextItem(t, items); item.Kind != wa.PairTimeout {
		t.Errorf("item after drop = %+v, want timeout", item)
	}
	requireClosed(t, items)
	if sess.IsConnected() {
		t.Error("pairing session still connected after the drop")
	}
	if _, err := f.sim.Scan(code.Code, shopPhone, "Shop"); !errors.Is(err, ErrQRUnknown) {
		t.Errorf("scan after drop: err = %v, want ErrQRUnknown", err)
	}
	f.clock.Advance(time.Hour)
	none[*events.Connected](t, rec)
}
