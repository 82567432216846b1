package simulator

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"

	"github.com/wabridge/b24wa/connector/wa"
)

func TestUnackedMessageRedeliveredAfterReconnect(t *testing.T) {
	f := newFixture(t)
	_, rec := f.linked(t, shopPhone)
	rec.setFail(func(evt any) error {
		if msg, ok := evt.(*events.Message); ok && msg.Message.GetConversation() == "first" {
			return errNotStored
		}
		return nil
	})

	firstID, err := f.sim.Inbound(InboundMessage{To: shopPhone, From: customerPhone, Text: "first"})
	if err != nil {
		t.Fatal(err)
	}
	if got := nextMessage(t, rec); got.Info.ID != firstID {
		t.Fatalf("got %s, want the first message", got.Info.ID)
	}
	if _, err := f.sim.Inbound(InboundMessage{To: shopPhone, From: customerPhone, Text: "second"}); err != nil {
		t.Fatal(err)
	}
	if got := nextMessage(t, rec); got.Message.GetConversation() != "second" {
		t.Fatalf("got %q, want the second message delivered despite the failed first", got.Message.GetConversation())
	}
	none[*events.Message](t, rec)
	if queued := f.sim.State().Devices[0].Queued; queued != 1 {
		t.Errorf("queued = %d, want the unacknowledged message only", queued)
	}

	rec.setFail(nil)
	if n := f.sim.DropAll(); n != 1 {
		t.Fatalf("dropped %d connections, want 1", n)
	}
	next[*events.Disconnected](t, rec)
	f.clock.Advance(defaultReconnectDelay)
	next[*events.Connected](t, rec)
	again := nextMessage(t, rec)
	if again.Info.ID != firstID || again.Message.GetConversation() != "first" {
		t.Errorf("redelivered %s %q, want the first message", again.Info.ID, again.Message.GetConversation())
	}
	waitQueued(t, f.sim, 0)
}

func TestOfflineMessagesQueued(t *testing.T) {
	f := newFixture(t)
	sess, rec := f.linked(t, shopPhone)
	sess.Disconnect()
	if sess.IsConnected() {
		t.Fatal("still connected after Disconnect")
	}
	for i := range 3 {
		if _, err := f.sim.Inbound(InboundMessage{To: shopPhone, From: customerPhone, Text: fmt.Sprint("offline ", i)}); err != nil {
			t.Fatal(err)
		}
	}
	none[*events.Message](t, rec)
	f.clock.Advance(time.Hour)
	none[*events.Connected](t, rec)

	if err := sess.Connect(t.Context()); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if got := nextMessage(t, rec).Message.GetConversation(); got != fmt.Sprint("offline ", i) {
			t.Errorf("message %d = %q, want in order", i, got)
		}
	}
}

func TestOutboundRecordsAndReceipts(t *testing.T) {
	f := newFixture(t)
	sess, rec := f.linked(t, shopPhone)
	customer := types.NewJID(customerPhone, types.DefaultUserServer)

	id := sess.NewMessageID()
	res, err := sess.Send(t.Context(), customer, &waE2E.Message{Conversation: strPtr("Hi Anna")}, sendOpts(id))
	if err != nil {
		t.Fatal(err)
	}
	if res.ID != id || !res.Timestamp.Equal(testStart) {
		t.Errorf("result = %+v, want id %s at %s", res, id, testStart)
	}
	delivered := next[*events.Receipt](t, rec)
	if delivered.Type != types.ReceiptTypeDelivered || delivered.MessageIDs[0] != id || delivered.Chat != customer {
		t.Errorf("receipt = %+v, want delivered for %s", delivered, id)
	}

	upload, err := sess.Upload(t.Context(), []byte("PDFDATA"), whatsmeow.MediaDocument)
	if err != nil {
		t.Fatal(err)
	}
	doc := &waE2E.Message{DocumentMessage: &waE2E.DocumentMessage{
		Mimetype: strPtr("application/pdf"), FileName: strPtr("invoice.pdf"), DirectPath: &upload.DirectPath,
		FileLength: &upload.FileLength, FileSHA256: upload.FileSHA256,
	}}
	docRes, err := sess.Send(t.Context(), customer, doc, sendOpts(""))
	if err != nil {
		t.Fatal(err)
	}
	next[*events.Receipt](t, rec)
	edit := sess.BuildEdit(customer, id, &waE2E.Message{Conversation: strPtr("Hi, Anna")})
	if _, err := sess.Send(t.Context(), customer, edit, sendOpts("")); err != nil {
		t.Fatal(err)
	}
	if _, err := sess.Send(t.Context(), customer, sess.BuildRevoke(customer, types.EmptyJID, docRes.ID), sendOpts("")); err != nil {
		t.Fatal(err)
	}
	if _, err := sess.Send(t.Context(), customer, &waE2E.Message{Conversation: strPtr("Hi Anna")}, sendOpts(id)); err != nil {
		t.Fatal(err)
	}

	if err := f.sim.Read(ReadRequest{Phone: shopPhone, From: customerPhone, IDs: []string{id}}); err != nil {
		t.Fatal(err)
	}
	read := next[*events.Receipt](t, rec)
	if read.Type != types.ReceiptTypeRead || read.MessageIDs[0] != id {
		t.Errorf("receipt = %+v, want read for %s", read, id)
	}

	out, err := f.sim.Outbound(shopPhone)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 4 {
		t.Fatalf("outbound has %d messages, want 4: %+v", len(out), out)
	}
	checks := []struct {
		kind string
		ok   bool
	}{
		{"text", out[0].ID == id && out[0].Text == "Hi Anna" && out[0].Status == StatusRead && out[0].Attempts == 2 && out[0].To == customerPhone},
		{"document", out[1].Media != nil && out[1].Media.Size == 7 && out[1].Media.Name == "invoice.pdf" && out[1].Status == StatusDelivered},
		{"edit", out[2].EditOf == id && out[2].Text == "Hi, Anna"},
		{"revoke", out[3].RevokeOf == docRes.ID},
	}
	for i, c := range checks {
		if out[i].Kind != c.kind || !c.ok {
			t.Errorf("outbound[%d] = %+v, want a %s record", i, out[i], c.kind)
		}
	}
	if data, ok := f.sim.MediaData(upload.DirectPath); !ok || string(data) != "PDFDATA" {
		t.Errorf("uploaded media = %q, %v", data, ok)
	}
	if key := sess.BuildRevoke(customer, types.EmptyJID, id).GetProtocolMessage().GetKey(); !key.GetFromMe() {
		t.Error("revoke of an own message is not FromMe")
	}
}

func TestSendFailures(t *testing.T) {
	f := newFixture(t)
	sess, _ := f.linked(t, shopPhone)
	tests := []struct {
		phone   string
		failure SendFailure
		want    []error
	}{
		{"79110000001", SendNotOnWhatsApp, []error{wa.ErrNotOnWhatsApp, wa.ErrNoLID}},
		{"79110000002", SendReachoutTimelock, []error{wa.ErrReachoutTimelock, whatsmeow.ErrServerReturnedError}},
		{"79110000003", SendNoLID, []error{wa.ErrNoLID}},
	}
	for _, tt := range tests {
		t.Run(string(tt.failure), func(t *testing.T) {
			if err := f.sim.SetSendFailure(tt.phone, tt.failure); err != nil {
				t.Fatal(err)
			}
			to := types.NewJID(tt.phone, types.DefaultUserServer)
			_, err := sess.Send(t.Context(), to, &waE2E.Message{Conversation: strPtr("hi")}, sendOpts(""))
			for _, want := range tt.want {
				if !errors.Is(err, want) {
					t.Errorf("err = %v, want it to wrap %v", err, want)
				}
			}
			if tt.failure == SendReachoutTimelock && wa.ServerErrorCode(err) != 463 {
				t.Errorf("server error code = %d, want 463", wa.ServerErrorCode(err))
			}
			if err := f.sim.SetSendFailure(tt.phone, SendOK); err != nil {
				t.Fatal(err)
			}
			if _, err := sess.Send(t.Context(), to, &waE2E.Message{Conversation: strPtr("hi")}, sendOpts("")); err != nil {
				t.Errorf("send after clearing the failure: %v", err)
			}
		})
	}
	if err := f.sim.SetSendFailure("79110000004", "blocked"); !errors.Is(err, ErrInvalidRequest) {
		t.Errorf("unknown failure: err = %v, want ErrInvalidRequest", err)
	}
}

func TestSendWhileDisconnected(t *testing.T) {
	f := newFixture(t)
	sess, _ := f.linked(t, shopPhone)
	sess.Disconnect()
	customer := types.NewJID(customerPhone, types.DefaultUserServer)
	if _, err := sess.Send(t.Context(), customer, &waE2E.Message{Conversation: strPtr("hi")}, sendOpts("")); !errors.Is(err, whatsmeow.ErrNotConnected) {
		t.Errorf("err = %v, want ErrNotConnected", err)
	}
	device := customer
	device.Device = 3
	if err := sess.Connect(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := sess.Send(t.Context(), device, &waE2E.Message{Conversation: strPtr("hi")}, sendOpts("")); !errors.Is(err, whatsmeow.ErrRecipientADJID) {
		t.Errorf("send to a device JID: err = %v, want ErrRecipientADJID", err)
	}
}

func TestLogoutFromPhoneWhileConnected(t *testing.T) {
	f := newFixture(t)
	sess, rec := f.linked(t, shopPhone)
	if err := f.sim.LogoutFromPhone(shopPhone); err != nil {
		t.Fatal(err)
	}
	out := next[*events.LoggedOut](t, rec)
	if out.Reason != events.ConnectFailureLoggedOut || out.OnConnect {
		t.Errorf("LoggedOut = %+v, want reason 401 while connected", out)
	}
	if sess.IsLoggedIn() || sess.IsConnected() {
		t.Error("session still logged in or connected")
	}
	if devices, _ := f.sim.Devices(t.Context()); len(devices) != 0 {
		t.Errorf("devices = %v, want none", devices)
	}
	if _, err := f.sim.Inbound(InboundMessage{To: shopPhone, From: customerPhone, Text: "hi"}); !errors.Is(err, ErrNotLinked) {
		t.Errorf("inbound after logout: err = %v, want ErrNotLinked", err)
	}
}

func TestLogoutFromPhoneWhileOffline(t *testing.T) {
	f := newFixture(t)
	sess, rec := f.linked(t, shopPhone)
	jid := sess.JID()
	sess.Disconnect()
	if err := f.sim.LogoutFromPhone(shopPhone); err != nil {
		t.Fatal(err)
	}
	if devices, _ := f.sim.Devices(t.Context()); len(devices) != 1 {
		t.Fatalf("devices = %v, want the device kept until it connects", devices)
	}
	if err := sess.Connect(t.Context()); err != nil {
		t.Fatal(err)
	}
	out := next[*events.LoggedOut](t, rec)
	if !out.OnConnect || out.Reason != events.ConnectFailureLoggedOut {
		t.Errorf("LoggedOut = %+v, want a 401 connect failure", out)
	}
	if _, err := f.sim.Open(t.Context(), jid, rec.handle, wa.OpenOptions{}); !errors.Is(err, wa.ErrDeviceNotFound) {
		t.Errorf("open after logout: err = %v, want ErrDeviceNotFound", err)
	}
}

func TestAppLogout(t *testing.T) {
	f := newFixture(t)
	sess, _ := f.linked(t, shopPhone)
	if err := sess.Logout(t.Context()); err != nil {
		t.Fatalf("logout: %v", err)
	}
	if !sess.JID().IsEmpty() || sess.IsLoggedIn() {
		t.Error("session keeps its JID or login after logout")
	}
	if err := sess.Logout(t.Context()); !errors.Is(err, whatsmeow.ErrNotLoggedIn) {
		t.Errorf("second logout: err = %v, want ErrNotLoggedIn", err)
	}

	offline, _ := f.linked(t, "79005550000")
	offline.Disconnect()
	if err := offline.Logout(t.Context()); !errors.Is(err, wa.ErrRemoteUnlinkFailed) || !errors.Is(err, whatsmeow.ErrNotConnected) {
		t.Errorf("offline logout: err = %v, want ErrRemoteUnlinkFailed and ErrNotConnected", err)
	}
	if devices, _ := f.sim.Devices(t.Context()); len(devices) != 0 {
		t.Errorf("devices = %v, want none after both logouts", devices)
	}
}

func TestBanOutdatedReplace(t *testing.T) {
	f := newFixture(t)
	sess, rec := f.linked(t, shopPhone)

	if err := f.sim.Ban(shopPhone, events.TempBanBlockedByUsers, time.Hour); err != nil {
		t.Fatal(err)
	}
	ban := next[*events.TemporaryBan](t, rec)
	if ban.Code != events.TempBanBlockedByUsers || ban.Expire != time.Hour || sess.IsConnected() {
		t.Errorf("ban = %+v, connected %v", ban, sess.IsConnected())
	}
	f.clock.Advance(30 * time.Minute)
	if err := sess.Connect(t.Context()); err != nil {
		t.Fatal(err)
	}
	if again := next[*events.TemporaryBan](t, rec); again.Expire != 30*time.Minute {
		t.Errorf("ban on connect expires in %s, want 30m", again.Expire)
	}
	f.clock.Advance(30 * time.Minute)
	if err := sess.Connect(t.Context()); err != nil {
		t.Fatal(err)
	}
	next[*events.Connected](t, rec)

	f.sim.SetOutdated(true)
	next[*events.ClientOutdated](t, rec)
	if sess.IsConnected() {
		t.Error("connected while the client is outdated")
	}
	f.sim.SetOutdated(false)
	if err := sess.Connect(t.Context()); err != nil {
		t.Fatal(err)
	}
	next[*events.Connected](t, rec)

	if n, err := f.sim.Replace(shopPhone); err != nil || n != 1 {
		t.Fatalf("replace: %d, %v", n, err)
	}
	next[*events.StreamReplaced](t, rec)
	f.clock.Advance(time.Hour)
	if sess.IsConnected() {
		t.Error("a replaced session reconnected by itself")
	}
}

func TestSecondClientReplacesFirst(t *testing.T) {
	f := newFixture(t)
	first, firstRec := f.linked(t, shopPhone)
	secondRec := newRecorder()
	second, err := f.sim.Open(t.Context(), first.JID(), secondRec.handle, wa.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := second.Connect(t.Context()); err != nil {
		t.Fatal(err)
	}
	next[*events.StreamReplaced](t, firstRec)
	next[*events.Connected](t, secondRec)
	if first.IsConnected() || !second.IsConnected() {
		t.Errorf("connected: first %v, second %v; want only the second", first.IsConnected(), second.IsConnected())
	}
}

func TestConcurrentUse(t *testing.T) {
	f := newFixture(t)
	sess, rec := f.linked(t, shopPhone)
	customer := types.NewJID(customerPhone, types.DefaultUserServer)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(3)
		go func() {
			defer wg.Done()
			for j := range 20 {
				_, _ = f.sim.Inbound(InboundMessage{To: shopPhone, From: customerPhone, Text: fmt.Sprint(i, "-", j)})
			}
		}()
		go func() {
			defer wg.Done()
			for range 20 {
				_, _ = sess.Send(t.Context(), customer, &waE2E.Message{Conversation: strPtr("x")}, sendOpts(""))
			}
		}()
		go func() {
			defer wg.Done()
			f.sim.DropAll()
			f.clock.Advance(defaultReconnectDelay)
			_ = f.sim.State()
		}()
	}
	wg.Wait()
	f.clock.Advance(defaultReconnectDelay)
	if !sess.IsConnected() {
		if err := sess.Connect(t.Context()); err != nil && !errors.Is(err, whatsmeow.ErrAlreadyConnected) {
			t.Fatal(err)
		}
	}
	waitQueued(t, f.sim, 0)
	seen := map[string]bool{}
	rec.mu.Lock()
	for _, evt := range rec.events {
		if msg, ok := evt.(*events.Message); ok {
			seen[msg.Info.ID] = true
		}
	}
	rec.mu.Unlock()
	if len(seen) != 160 {
		t.Errorf("handler saw %d distinct messages, want all 160", len(seen))
	}
}

// waitQueued waits until the simulator's devices hold want unacknowledged
// events in total; receipts are delivered by a goroutine after Send.
func waitQueued(t *testing.T, sim *Simulator, want int) {
	t.Helper()
	deadline := time.Now().Add(eventWait)
	for {
		total := 0
		for _, d := range sim.State().Devices {
			total += d.Queued
		}
		if total == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d events queued, want %d", total, want)
		}
		time.Sleep(time.Millisecond)
	}
}
