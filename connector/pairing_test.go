package connector

import (
	"context"
	"errors"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/wabridge/b24wa/connector/wa"
	"github.com/wabridge/b24wa/connector/wa/simulator"
	"github.com/wabridge/b24wa/internal/dbtest"
)

func TestPairingSuccessLinksAndActivates(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		h := newHarness(t, db)
		m := h.manager("a")
		line := h.line("7")

		jid := h.pair(m, line.ID, "79001112233")

		got := h.get(line.ID)
		if got.WaJID != jid.String() || got.Phone != "79001112233" || got.PushName != "Shop 79001112233" {
			t.Errorf("linked line = jid %q phone %q push name %q, want %s, 79001112233, Shop 79001112233",
				got.WaJID, got.Phone, got.PushName, jid)
		}
		rows := h.sessions(line.ID)
		if len(rows) != 1 {
			t.Fatalf("%d device sessions, want 1", len(rows))
		}
		if rows[0].LinkedVia != LinkedViaQR || rows[0].Platform != "smba" || rows[0].WaJID != jid.String() {
			t.Errorf("device session = %+v, want linked via qr on smba for %s", rows[0], jid)
		}
		st, err := m.PairingStatus(context.Background(), line.ID)
		if err != nil {
			t.Fatal(err)
		}
		if st.Step != PairingSuccess || st.Phone != "79001112233" || st.QR != "" {
			t.Errorf("status = step %q phone %q qr %q, want success with the phone and no QR", st.Step, st.Phone, st.QR)
		}
		if _, ok := m.Session(line.ID); !ok {
			t.Error("Session of a connected line is missing")
		}

		calls := h.b24.Calls()
		var methods []string
		for _, c := range calls {
			if c.Method == methodActivate || c.Method == methodDataSet {
				methods = append(methods, c.Method)
			}
		}
		if len(methods) != 2 || methods[0] != methodActivate || methods[1] != methodDataSet {
			t.Fatalf("Bitrix24 calls = %v, want activate then connector.data.set", methods)
		}
		status, ok := h.b24.LineStatus(testConnector, 7)
		if !ok || !status.Status() {
			t.Errorf("portal line status = %+v, want active", status)
		}
		wantData := map[string]string{
			"ID": "79001112233", "URL": "https://wa.me/79001112233",
			"URL_IM": "https://wa.me/79001112233", "NAME": "WhatsApp +79001112233",
		}
		for k, want := range wantData {
			if got := paramText(status.Data[k]); got != want {
				t.Errorf("DATA.%s = %q, want %q", k, got, want)
			}
		}
	})
}

func TestStartPairingReusesRunningAttempt(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		h := newHarness(t, db)
		m := h.manager("a")
		line := h.line("1")

		first, err := m.StartPairing(ctx, line.ID, PairingOptions{})
		if err != nil {
			t.Fatal(err)
		}
		h.waitQR(m, line.ID)
		h.clock.Advance(10 * time.Second)
		second, err := m.StartPairing(ctx, line.ID, PairingOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if !second.StartedAt.Equal(first.StartedAt) || second.Step != PairingQR {
			t.Errorf("second StartPairing = started %v step %q, want the running attempt from %v", second.StartedAt, second.Step, first.StartedAt)
		}
		if n := h.sim.State().Pairings; n != 1 {
			t.Errorf("simulator runs %d pairings, want 1", n)
		}
		if got := h.get(line.ID).State; got != StatePairing {
			t.Errorf("line state = %q, want %q", got, StatePairing)
		}
	})
}

// advancePolling moves the clock through a whole QR session (60 s and five
// times 20 s) in steps, reading PairingStatus before each step when poll is
// set.
func advancePolling(h *harness, m *Manager, lineID uint64, poll bool) {
	h.t.Helper()
	for range 8 {
		if poll {
			if _, err := m.PairingStatus(context.Background(), lineID); err != nil {
				h.t.Fatal(err)
			}
		}
		h.clock.Advance(20 * time.Second)
	}
}

func TestPairingRestartsOnlyWhilePolled(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		h := newHarness(t, db)
		m := h.manager("a")
		line := h.line("1")

		if _, err := m.StartPairing(ctx, line.ID, PairingOptions{}); err != nil {
			t.Fatal(err)
		}
		first := h.waitQR(m, line.ID)

		advancePolling(h, m, line.ID, true)
		h.waitFor("a restart", func() bool { return peek(m, line.ID).Restarts == 1 })
		second := h.waitQR(m, line.ID)
		if second == first {
			t.Error("restarted pairing shows the first QR code again")
		}
		if _, err := h.sim.Scan(first, "79001112233", "Shop"); !errors.Is(err, simulator.ErrQRUnknown) {
			t.Errorf("scan of the expired code: %v, want ErrQRUnknown", err)
		}

		advancePolling(h, m, line.ID, false)
		h.waitFor("expiry", func() bool { return peek(m, line.ID).Step == PairingExpired })
		if got := peek(m, line.ID).Restarts; got != 1 {
			t.Errorf("restarts = %d, want 1", got)
		}
		h.waitState(line.ID, StateNew)
		if m.Owns(line.ID) {
			t.Error("an expired attempt kept the lease of a line without a device")
		}
		if n := h.sim.State().Pairings; n != 0 {
			t.Errorf("simulator runs %d pairings after expiry, want 0", n)
		}
	})
}

func TestPairingStopsRestartingAtUntil(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		h := newHarness(t, db)
		m := h.manager("a")
		line := h.line("1")

		until := testStart.Add(100 * time.Second)
		if _, err := m.StartPairing(ctx, line.ID, PairingOptions{Via: LinkedViaScanLink, Until: until}); err != nil {
			t.Fatal(err)
		}
		h.waitQR(m, line.ID)
		h.clock.Advance(60 * time.Second)
		st, err := m.PairingStatus(ctx, line.ID)
		if err != nil {
			t.Fatal(err)
		}
		if st.Step != PairingQR || !st.Until.Equal(until) {
			t.Errorf("status before Until = step %q until %v, want qr until %v", st.Step, st.Until, until)
		}

		h.clock.Advance(45 * time.Second)
		st, err = m.PairingStatus(ctx, line.ID)
		if err != nil {
			t.Fatal(err)
		}
		if st.Step != PairingExpired || st.QR != "" {
			t.Errorf("status after Until = step %q qr %q, want expired without a code", st.Step, st.QR)
		}
		if st.Restarts != 0 {
			t.Errorf("restarts = %d, want 0", st.Restarts)
		}
	})
}

func TestPairingRejectsNumberLinkedElsewhere(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		h := newHarness(t, db)
		m := h.manager("a")
		line := h.line("1")

		other, err := NewLineStore(db).Ensure(ctx, h.otherPortal(), "5", testConnector, "")
		if err != nil {
			t.Fatal(err)
		}
		jid, err := h.sim.LinkDevice("79001112233", "Shop")
		if err != nil {
			t.Fatal(err)
		}
		if err := NewLineStore(db).SetLinked(ctx, other.ID, jid.String(), jid.User, "Shop"); err != nil {
			t.Fatal(err)
		}

		if _, err := m.StartPairing(ctx, line.ID, PairingOptions{}); err != nil {
			t.Fatal(err)
		}
		qr := h.waitQR(m, line.ID)
		if _, err := h.sim.Scan(qr, "+7 900 111-22-33", "Shop"); !errors.Is(err, simulator.ErrNumberRejected) {
			t.Fatalf("scan with a number linked elsewhere: %v, want ErrNumberRejected", err)
		}
		h.waitFor("failure", func() bool { return peek(m, line.ID).Step == PairingFailed })
		if key := peek(m, line.ID).ErrorKey; key != PairingErrNumberLinkedElsewhere {
			t.Errorf("error key = %q, want %q", key, PairingErrNumberLinkedElsewhere)
		}
		got := h.waitState(line.ID, StateNew)
		if got.WaJID != "" {
			t.Errorf("rejected pairing linked the line to %q", got.WaJID)
		}
		if rows := h.sessions(line.ID); len(rows) != 0 {
			t.Errorf("rejected pairing added %d device sessions", len(rows))
		}
	})
}

func TestPairingEnforcesExpectedPhone(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		h := newHarness(t, db)
		m := h.manager("a")
		line := h.line("1")
		if err := db.Model(&Line{}).Where("id = ?", line.ID).Update("expected_phone", "+7 (900) 111-22-33").Error; err != nil {
			t.Fatal(err)
		}

		if _, err := m.StartPairing(ctx, line.ID, PairingOptions{}); err != nil {
			t.Fatal(err)
		}
		h.waitQR(m, line.ID)
		if _, err := m.PairPhone(ctx, line.ID, "79005556677"); !errors.Is(err, ErrWrongNumber) {
			t.Errorf("PairPhone with another number: %v, want ErrWrongNumber", err)
		}
		qr := h.waitQR(m, line.ID)
		if _, err := h.sim.Scan(qr, "79005556677", "Other"); !errors.Is(err, simulator.ErrNumberRejected) {
			t.Fatalf("scan with another number: %v, want ErrNumberRejected", err)
		}
		h.waitFor("failure", func() bool { return peek(m, line.ID).Step == PairingFailed })
		if key := peek(m, line.ID).ErrorKey; key != PairingErrWrongNumber {
			t.Errorf("error key = %q, want %q", key, PairingErrWrongNumber)
		}

		jid := h.pair(m, line.ID, "79001112233")
		if got := h.get(line.ID).WaJID; got != jid.String() {
			t.Errorf("expected number linked as %q, want %s", got, jid)
		}
	})
}

func TestPairPhoneLinksByCode(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		h := newHarness(t, db)
		m := h.manager("a")
		line := h.line("1")

		if _, err := m.PairPhone(ctx, line.ID, "79001112233"); !errors.Is(err, ErrPairingNotRunning) {
			t.Errorf("PairPhone without an attempt: %v, want ErrPairingNotRunning", err)
		}
		if _, err := m.StartPairing(ctx, line.ID, PairingOptions{}); err != nil {
			t.Fatal(err)
		}
		h.waitQR(m, line.ID)
		if _, err := m.PairPhone(ctx, line.ID, "0123"); !errors.Is(err, wa.ErrPhoneTooShort) {
			t.Errorf("PairPhone with a short number: %v, want wa.ErrPhoneTooShort", err)
		}
		st, err := m.PairPhone(ctx, line.ID, "8 (900) 111-22-33")
		if err != nil {
			t.Fatal(err)
		}
		if st.Step != PairingCode || len(st.PairCode) != 9 {
			t.Fatalf("status = step %q code %q, want a code like ABCD-EFGH", st.Step, st.PairCode)
		}
		if _, err := h.sim.EnterCode(st.PairCode, "79001112233", "Shop"); err != nil {
			t.Fatal(err)
		}
		h.waitState(line.ID, StateConnected)
		rows := h.sessions(line.ID)
		if len(rows) != 1 || rows[0].LinkedVia != LinkedViaPhoneCode {
			t.Errorf("device sessions = %+v, want one linked via phone_code", rows)
		}
	})
}

func TestRelinkAddsSecondSession(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		h := newHarness(t, db)
		m := h.manager("a")
		line := h.line("1")

		old := h.pair(m, line.ID, "79001112233")
		fresh := h.pair(m, line.ID, "79001112233")

		if old == fresh {
			t.Fatalf("re-link reused device %s", old)
		}
		if h.hasDevice(old) {
			t.Error("the old device is still in the store after re-linking")
		}
		rows := h.sessions(line.ID)
		if len(rows) != 2 {
			t.Fatalf("%d device sessions, want 2", len(rows))
		}
		if rows[0].WaJID != fresh.String() || rows[0].LoggedOutAt != nil {
			t.Errorf("newest session = %+v, want open for %s", rows[0], fresh)
		}
		if rows[1].LogoutReason != ReasonRelinked || rows[1].LoggedOutAt == nil {
			t.Errorf("old session = %+v, want closed with %q", rows[1], ReasonRelinked)
		}
		if got := h.get(line.ID); got.WaJID != fresh.String() || !got.B24Active {
			t.Errorf("line = jid %q active %v, want %s and active", got.WaJID, got.B24Active, fresh)
		}
	})
}

func TestPairingMarksScanLinkUsed(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		h := newHarness(t, db)
		m := h.manager("a")
		line := h.line("1")
		link := ScanLink{LineID: line.ID, TokenHash: "ab12", Lang: "en", CreatedAt: testStart, ExpiresAt: testStart.Add(15 * time.Minute)}
		if err := db.Create(&link).Error; err != nil {
			t.Fatal(err)
		}

		_, err := m.StartPairing(ctx, line.ID, PairingOptions{Via: LinkedViaScanLink, Until: link.ExpiresAt, ScanLinkID: link.ID})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.sim.Scan(h.waitQR(m, line.ID), "79001112233", "Shop"); err != nil {
			t.Fatal(err)
		}
		h.waitState(line.ID, StateConnected)

		var got ScanLink
		if err := db.First(&got, link.ID).Error; err != nil {
			t.Fatal(err)
		}
		if got.UsedAt == nil || !got.UsedAt.Equal(testStart) {
			t.Errorf("scan link used_at = %v, want %v", got.UsedAt, testStart)
		}
		if rows := h.sessions(line.ID); len(rows) != 1 || rows[0].LinkedVia != LinkedViaScanLink {
			t.Errorf("device sessions = %+v, want one linked via scan_link", rows)
		}
	})
}

func TestScanLinkJoinsRunningAttempt(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		h := newHarness(t, db)
		m := h.manager("a")
		line := h.line("1")
		link := ScanLink{LineID: line.ID, TokenHash: "cd34", Lang: "en", CreatedAt: testStart, ExpiresAt: testStart.Add(15 * time.Minute)}
		if err := db.Create(&link).Error; err != nil {
			t.Fatal(err)
		}

		if _, err := m.StartPairing(ctx, line.ID, PairingOptions{}); err != nil {
			t.Fatal(err)
		}
		h.waitQR(m, line.ID)
		st, err := m.StartPairing(ctx, line.ID, PairingOptions{Via: LinkedViaScanLink, Until: link.ExpiresAt, ScanLinkID: link.ID})
		if err != nil {
			t.Fatal(err)
		}
		if !st.Until.Equal(link.ExpiresAt) {
			t.Errorf("joined attempt until = %v, want the link's expiry %v", st.Until, link.ExpiresAt)
		}
		if _, err := h.sim.Scan(h.waitQR(m, line.ID), testPhone, "Shop"); err != nil {
			t.Fatal(err)
		}
		h.waitState(line.ID, StateConnected)

		var got ScanLink
		if err := db.First(&got, link.ID).Error; err != nil {
			t.Fatal(err)
		}
		if got.UsedAt == nil {
			t.Error("scan link that joined a running attempt was not marked used")
		}
	})
}

func TestCancelPairingRestoresLine(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		h := newHarness(t, db)
		m := h.manager("a")
		line := h.line("1")

		if err := m.CancelPairing(ctx, line.ID); !errors.Is(err, ErrPairingNotRunning) {
			t.Errorf("CancelPairing without an attempt: %v, want ErrPairingNotRunning", err)
		}
		if _, err := m.StartPairing(ctx, line.ID, PairingOptions{}); err != nil {
			t.Fatal(err)
		}
		qr := h.waitQR(m, line.ID)
		if err := m.CancelPairing(ctx, line.ID); err != nil {
			t.Fatal(err)
		}

		if _, err := m.PairingStatus(ctx, line.ID); !errors.Is(err, ErrPairingNotRunning) {
			t.Errorf("PairingStatus after cancel: %v, want ErrPairingNotRunning", err)
		}
		if got := h.get(line.ID).State; got != StateNew {
			t.Errorf("line state after cancel = %q, want %q", got, StateNew)
		}
		if _, err := h.sim.Scan(qr, "79001112233", "Shop"); !errors.Is(err, simulator.ErrQRUnknown) {
			t.Errorf("scan after cancel: %v, want ErrQRUnknown", err)
		}
		if m.Owns(line.ID) {
			t.Error("a cancelled attempt kept the lease")
		}
	})
}

func TestPairingFailsOnOutdatedClient(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		h := newHarness(t, db)
		m := h.manager("a")
		line := h.line("1")
		h.sim.SetOutdated(true)

		if _, err := m.StartPairing(ctx, line.ID, PairingOptions{}); err != nil {
			t.Fatal(err)
		}
		h.waitFor("failure", func() bool { return peek(m, line.ID).Step == PairingFailed })
		if key := peek(m, line.ID).ErrorKey; key != PairingErrClientOutdated {
			t.Errorf("error key = %q, want %q", key, PairingErrClientOutdated)
		}
	})
}

func TestStartPairingRefusesSuspendedLine(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		h := newHarness(t, db)
		m := h.manager("a")
		line := h.line("1")

		if err := m.Logout(ctx, line.ID, ReasonPayment); err != nil {
			t.Fatal(err)
		}
		if got := h.get(line.ID).State; got != StateSuspended {
			t.Fatalf("state after a payment logout = %q, want %q", got, StateSuspended)
		}
		if _, err := m.StartPairing(ctx, line.ID, PairingOptions{}); !errors.Is(err, ErrLineSuspended) {
			t.Errorf("StartPairing on a suspended line: %v, want ErrLineSuspended", err)
		}
		if _, err := m.StartPairing(ctx, 404, PairingOptions{}); !errors.Is(err, ErrLineNotFound) {
			t.Errorf("StartPairing on a missing line: %v, want ErrLineNotFound", err)
		}
	})
}
