package simulator

import (
	"errors"
	"slices"
	"testing"
	"time"

	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"

	"github.com/wabridge/b24wa/connector/wa"
)

// requireNoItem checks that the pairing channel holds no item right now.
func requireNoItem(t *testing.T, items <-chan wa.PairItem) {
	t.Helper()
	select {
	case item, ok := <-items:
		t.Fatalf("unexpected pairing item %+v (open %v)", item, ok)
	default:
	}
}

func TestScanWithPasskeyApproved(t *testing.T) {
	f := newFixture(t)
	sess, rec, items := f.pairing(t, wa.OpenOptions{})
	code := nextItem(t, items)

	if err := f.sim.ScanWithPasskey(code.Code, "+7 900 123-45-67", "Shop"); err != nil {
		t.Fatalf("scan with passkey: %v", err)
	}
	if item := nextItem(t, items); item.Kind != wa.PairPasskey {
		t.Fatalf("item after the scan = %+v, want passkey", item)
	}
	if got := f.sim.State().PasskeyWaits; !slices.Equal(got, []string{"79001234567"}) {
		t.Errorf("passkey waits = %v, want [79001234567]", got)
	}

	// Far past the whole QR schedule: no new code, no timeout.
	f.clock.Advance(10 * time.Minute)
	requireNoItem(t, items)
	if !sess.IsConnected() {
		t.Error("the pairing connection closed while the phone confirms its passkey")
	}
	if qr, ok := f.sim.LatestQR(); ok {
		t.Errorf("LatestQR = %q during the passkey step, want none", qr)
	}
	if _, err := f.sim.Scan(code.Code, "79005556677", "Other"); !errors.Is(err, ErrQRUnknown) {
		t.Errorf("second scan of the claimed code: %v, want ErrQRUnknown", err)
	}

	jid, err := f.sim.ConfirmPasskey("8 900 123 45 67", true)
	if err != nil {
		t.Fatalf("confirm passkey: %v", err)
	}
	if jid.User != "79001234567" || jid.Device == 0 {
		t.Errorf("linked JID = %s, want a companion device of 79001234567", jid)
	}
	if success := next[*events.PairSuccess](t, rec); success.ID != jid {
		t.Errorf("PairSuccess.ID = %s, want %s", success.ID, jid)
	}
	item := nextItem(t, items)
	if item.Kind != wa.PairSuccess || item.JID != jid || item.PushName != "Shop" {
		t.Errorf("final item = %+v, want success for %s with push name Shop", item, jid)
	}
	requireClosed(t, items)
	next[*events.Connected](t, rec)
	if !sess.IsConnected() || !sess.IsLoggedIn() {
		t.Error("session is not connected and logged in after the approval")
	}
	if got := f.sim.State().PasskeyWaits; len(got) != 0 {
		t.Errorf("passkey waits after the approval = %v, want none", got)
	}
}

func TestScanWithPasskeyRefused(t *testing.T) {
	f := newFixture(t)
	sess, rec, items := f.pairing(t, wa.OpenOptions{})
	code := nextItem(t, items)
	if err := f.sim.ScanWithPasskey(code.Code, shopPhone, "Shop"); err != nil {
		t.Fatal(err)
	}
	nextItem(t, items)

	jid, err := f.sim.ConfirmPasskey(shopPhone, false)
	if err != nil || !jid.IsEmpty() {
		t.Fatalf("refuse passkey = %s, %v; want an empty JID and no error", jid, err)
	}
	item := nextItem(t, items)
	if item.Kind != wa.PairError || !errors.Is(item.Err, wa.ErrPasskeyRejected) {
		t.Errorf("final item = %+v, want an error wrapping wa.ErrPasskeyRejected", item)
	}
	requireClosed(t, items)
	if sess.IsConnected() {
		t.Error("session still connected after the refusal")
	}
	none[*events.PairSuccess](t, rec)
	if devices, _ := f.sim.Devices(t.Context()); len(devices) != 0 {
		t.Errorf("devices after the refusal = %v, want none", devices)
	}
	if _, err := f.sim.ConfirmPasskey(shopPhone, true); !errors.Is(err, ErrPasskeyNotRequested) {
		t.Errorf("second confirmation: %v, want ErrPasskeyNotRequested", err)
	}
	if f.clock.Pending() != 0 {
		t.Errorf("%d timers left after the pairing ended", f.clock.Pending())
	}
}

func TestEnterCodeWithPasskeyRejectedByPrePair(t *testing.T) {
	f := newFixture(t)
	var asked types.JID
	opts := wa.OpenOptions{PrePair: func(jid types.JID, platform, business string) bool {
		asked = jid
		return false
	}}
	sess, _, items := f.pairing(t, opts)
	nextItem(t, items)
	code, err := sess.PairPhone(t.Context(), shopPhone)
	if err != nil {
		t.Fatal(err)
	}

	if err := f.sim.EnterCodeWithPasskey(code, "79990000000", "Other"); !errors.Is(err, ErrPairCodeUnknown) {
		t.Errorf("code typed on another phone: %v, want ErrPairCodeUnknown", err)
	}
	if err := f.sim.EnterCodeWithPasskey(code, shopPhone, "Shop"); err != nil {
		t.Fatalf("enter code with passkey: %v", err)
	}
	if item := nextItem(t, items); item.Kind != wa.PairPasskey {
		t.Fatalf("item after the code = %+v, want passkey", item)
	}
	if !asked.IsEmpty() {
		t.Errorf("PrePair ran with %s before the phone confirmed its passkey", asked)
	}

	if _, err := f.sim.ConfirmPasskey(shopPhone, true); !errors.Is(err, ErrNumberRejected) {
		t.Fatalf("confirm passkey of a rejected number: %v, want ErrNumberRejected", err)
	}
	if asked.User != shopPhone {
		t.Errorf("PrePair got %s, want user %s", asked, shopPhone)
	}
	item := nextItem(t, items)
	if item.Kind != wa.PairError || !errors.Is(item.Err, wa.ErrPairRejected) {
		t.Errorf("final item = %+v, want an error wrapping wa.ErrPairRejected", item)
	}
	requireClosed(t, items)
}

func TestPasskeyControlErrors(t *testing.T) {
	f := newFixture(t)
	_, _, first := f.pairing(t, wa.OpenOptions{})
	_, _, second := f.pairing(t, wa.OpenOptions{})
	firstCode := nextItem(t, first)
	secondCode := nextItem(t, second)

	if err := f.sim.ScanWithPasskey("2@nothing,a,b,c", shopPhone, "Shop"); !errors.Is(err, ErrQRUnknown) {
		t.Errorf("unknown code: %v, want ErrQRUnknown", err)
	}
	if err := f.sim.ScanWithPasskey(firstCode.Code, "12ab", "Shop"); !errors.Is(err, ErrInvalidRequest) {
		t.Errorf("malformed phone: %v, want ErrInvalidRequest", err)
	}
	if _, err := f.sim.ConfirmPasskey(shopPhone, true); !errors.Is(err, ErrPasskeyNotRequested) {
		t.Errorf("confirm without a prompt: %v, want ErrPasskeyNotRequested", err)
	}
	if _, err := f.sim.ConfirmPasskey("", true); !errors.Is(err, ErrInvalidRequest) {
		t.Errorf("confirm without a phone: %v, want ErrInvalidRequest", err)
	}

	if err := f.sim.ScanWithPasskey(firstCode.Code, shopPhone, "Shop"); err != nil {
		t.Fatal(err)
	}
	if err := f.sim.ScanWithPasskey(secondCode.Code, shopPhone, "Shop"); !errors.Is(err, ErrPasskeyPending) {
		t.Errorf("second prompt for one phone: %v, want ErrPasskeyPending", err)
	}
	if _, err := f.sim.Scan(secondCode.Code, "79005556677", "Other"); err != nil {
		t.Errorf("the rejected second prompt spoiled the other pairing's code: %v", err)
	}
}

func TestPairPhoneDropsPasskeyPrompt(t *testing.T) {
	f := newFixture(t)
	sess, _, items := f.pairing(t, wa.OpenOptions{})
	code := nextItem(t, items)
	if err := f.sim.ScanWithPasskey(code.Code, shopPhone, "Shop"); err != nil {
		t.Fatal(err)
	}
	nextItem(t, items)

	pairCode, err := sess.PairPhone(t.Context(), shopPhone)
	if err != nil {
		t.Fatalf("PairPhone during the passkey prompt: %v", err)
	}
	if _, err := f.sim.ConfirmPasskey(shopPhone, true); !errors.Is(err, ErrPasskeyNotRequested) {
		t.Errorf("confirm after a code request: %v, want ErrPasskeyNotRequested", err)
	}
	jid, err := f.sim.EnterCode(pairCode, shopPhone, "Shop")
	if err != nil {
		t.Fatalf("enter code: %v", err)
	}
	if item := nextItem(t, items); item.Kind != wa.PairSuccess || item.JID != jid {
		t.Errorf("final item = %+v, want success for %s", item, jid)
	}
}

func TestPasskeyPromptEndsWithContext(t *testing.T) {
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
	if err := f.sim.ScanWithPasskey(code.Code, shopPhone, "Shop"); err != nil {
		t.Fatal(err)
	}
	nextItem(t, items)

	cancel()
	requireClosed(t, items)
	if sess.IsConnected() {
		t.Error("session connected after its pairing context ended")
	}
	if _, err := f.sim.ConfirmPasskey(shopPhone, true); !errors.Is(err, ErrPasskeyNotRequested) {
		t.Errorf("confirm after cancel: %v, want ErrPasskeyNotRequested", err)
	}
}
