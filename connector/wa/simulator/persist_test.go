package simulator

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
	"google.golang.org/protobuf/proto"

	"github.com/wabridge/b24wa/connector/wa"
)

// durable is a simulator with a state file that a test can reopen, as a
// restarted app does.
type durable struct {
	path  string
	clock *FakeClock
}

func newDurable(t *testing.T) *durable {
	t.Helper()
	return &durable{path: filepath.Join(t.TempDir(), "simulator.json"), clock: NewFakeClock(testStart)}
}

// open loads the state file into a new simulator, closed at the end of the test.
func (d *durable) open(t *testing.T) *Simulator {
	t.Helper()
	sim, err := Load(Options{Clock: d.clock, StatePath: d.path})
	if err != nil {
		t.Fatalf("load state: %v", err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	return sim
}

// connect opens and connects the session of jid with a fresh recorder.
func connect(t *testing.T, sim *Simulator, jid types.JID) (wa.Session, *recorder) {
	t.Helper()
	rec := newRecorder()
	sess, err := sim.Open(context.Background(), jid, rec.handle, wa.OpenOptions{})
	if err != nil {
		t.Fatalf("open %s: %v", jid, err)
	}
	if err := sess.Connect(context.Background()); err != nil {
		t.Fatalf("connect %s: %v", jid, err)
	}
	next[*events.Connected](t, rec)
	return sess, rec
}

func TestStateSurvivesRestart(t *testing.T) {
	d := newDurable(t)
	sim := d.open(t)
	jid, err := sim.LinkDevice(shopPhone, "Shop")
	if err != nil {
		t.Fatal(err)
	}
	sess, rec := connect(t, sim, jid)
	picture := []byte("picture bytes")
	inID, err := sim.Inbound(InboundMessage{To: shopPhone, From: customerPhone, LID: "236523865788507",
		Media: &InboundMedia{Kind: "image", Data: picture}, Text: "look"})
	if err != nil {
		t.Fatal(err)
	}
	in := nextMessage(t, rec)
	customer := types.NewJID(customerPhone, types.DefaultUserServer)
	reply := &waE2E.Message{Conversation: proto.String("*Hello*")}
	if _, err := sess.Send(t.Context(), customer, reply, sendOpts("3EB0AAAA")); err != nil {
		t.Fatal(err)
	}
	if err := sess.MarkRead(t.Context(), customer, customer, []types.MessageID{inID}, testStart); err != nil {
		t.Fatal(err)
	}
	if err := sim.SetSendFailure("79005550000", SendReachoutTimelock); err != nil {
		t.Fatal(err)
	}
	_ = sim.Close()

	again := d.open(t)
	devices, _ := again.Devices(t.Context())
	if len(devices) != 1 || devices[0] != jid {
		t.Fatalf("devices after restart = %v, want [%s]", devices, jid)
	}
	out, err := again.Outbound(shopPhone)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 1 {
		t.Fatalf("outbound after restart = %+v, want the one sent message", out)
	}
	if out[0].ID != "3EB0AAAA" {
		t.Errorf("outbound id after restart = %s, want 3EB0AAAA", out[0].ID)
	}
	if out[0].Status != StatusDelivered {
		t.Errorf("outbound status after restart = %s, want %s", out[0].Status, StatusDelivered)
	}
	if !proto.Equal(out[0].Message, reply) {
		t.Errorf("outbound message after restart = %v, want %v", out[0].Message, reply)
	}
	marks, _ := again.ReadMarks(shopPhone)
	if len(marks) != 1 || !slices.Equal(marks[0].IDs, []string{inID}) {
		t.Errorf("read marks after restart = %+v, want one for %s", marks, inID)
	}
	data, ok := again.MediaData(in.Message.GetImageMessage().GetDirectPath())
	if !ok {
		t.Error("media after restart not found")
	}
	if !bytes.Equal(data, picture) {
		t.Errorf("media after restart = %q, want %q", data, picture)
	}

	sess2, _ := connect(t, again, jid)
	lid := types.NewJID("236523865788507", types.HiddenUserServer)
	if pn, _ := sess2.PNForLID(t.Context(), lid); pn != customer {
		t.Errorf("PNForLID after restart = %s, want %s", pn, customer)
	}
	_, err = sess2.Send(t.Context(), types.NewJID("79005550000", types.DefaultUserServer), reply, wa.SendOptions{})
	if !errors.Is(err, wa.ErrReachoutTimelock) {
		t.Errorf("send to a number set to fail before the restart: err = %v, want ErrReachoutTimelock", err)
	}
	again.mu.Lock()
	next := again.nextDeviceJIDLocked(shopPhone)
	again.mu.Unlock()
	if next.Device != jid.Device+1 {
		t.Errorf("next device number after restart = %d, want %d", next.Device, jid.Device+1)
	}
}

func TestUnackedMessageRedeliveredAfterRestart(t *testing.T) {
	d := newDurable(t)
	sim := d.open(t)
	jid, err := sim.LinkDevice(shopPhone, "Shop")
	if err != nil {
		t.Fatal(err)
	}
	_, rec := connect(t, sim, jid)
	rec.setFail(func(any) error { return errNotStored })
	id, err := sim.Inbound(InboundMessage{To: shopPhone, From: customerPhone, Text: "are you open?", ID: "3A00000001"})
	if err != nil {
		t.Fatal(err)
	}
	first := nextMessage(t, rec)
	_ = sim.Close()

	again := d.open(t)
	if q := again.State().Devices[0].Queued; q != 1 {
		t.Fatalf("queued events after restart = %d, want the unacknowledged message", q)
	}
	_, rec2 := connect(t, again, jid)
	redelivered := nextMessage(t, rec2)
	if redelivered.Info.ID != id {
		t.Errorf("redelivered id = %s, want %s", redelivered.Info.ID, id)
	}
	if !redelivered.Info.Timestamp.Equal(first.Info.Timestamp) {
		t.Errorf("redelivered timestamp = %s, want the original %s", redelivered.Info.Timestamp, first.Info.Timestamp)
	}
	if redelivered.Info.Sender != first.Info.Sender {
		t.Errorf("redelivered sender = %s, want the original %s", redelivered.Info.Sender, first.Info.Sender)
	}
	if redelivered.Message.GetConversation() != "are you open?" {
		t.Errorf("redelivered text = %q", redelivered.Message.GetConversation())
	}
	waitFor(t, "acknowledgement saved", func() bool { return savedQueue(t, d.path) == 0 })
	_ = again.Close()

	third := d.open(t)
	if q := third.State().Devices[0].Queued; q != 0 {
		t.Errorf("queued events after the acknowledged restart = %d, want 0", q)
	}
	_, rec3 := connect(t, third, jid)
	none[*events.Message](t, rec3)
}

func TestAckedMessageNotRedelivered(t *testing.T) {
	d := newDurable(t)
	sim := d.open(t)
	jid, _ := sim.LinkDevice(shopPhone, "Shop")
	_, rec := connect(t, sim, jid)
	if _, err := sim.Inbound(InboundMessage{To: shopPhone, From: customerPhone, Text: "hi"}); err != nil {
		t.Fatal(err)
	}
	nextMessage(t, rec)
	_ = sim.Close()

	again := d.open(t)
	if q := again.State().Devices[0].Queued; q != 0 {
		t.Errorf("queued events after restart = %d, want 0 because the message was acknowledged", q)
	}
}

func TestInboundRetryDeduplicated(t *testing.T) {
	d := newDurable(t)
	sim := d.open(t)
	jid, _ := sim.LinkDevice(shopPhone, "Shop")
	_, rec := connect(t, sim, jid)
	msg := InboundMessage{To: shopPhone, From: customerPhone, Text: "once", ID: "3A00000002"}
	for i := range 3 {
		id, err := sim.Inbound(msg)
		if err != nil {
			t.Fatalf("call %d: %v", i+1, err)
		}
		if id != "3A00000002" {
			t.Errorf("call %d returned id %s, want 3A00000002", i+1, id)
		}
	}
	nextMessage(t, rec)
	none[*events.Message](t, rec)
	_ = sim.Close()

	again := d.open(t)
	_, rec2 := connect(t, again, jid)
	if _, err := again.Inbound(msg); err != nil {
		t.Fatal(err)
	}
	none[*events.Message](t, rec2)
	if _, err := again.Inbound(InboundMessage{To: shopPhone, From: customerPhone, Text: "other", ID: "3A00000003"}); err != nil {
		t.Fatal(err)
	}
	if got := nextMessage(t, rec2); got.Info.ID != "3A00000003" {
		t.Errorf("new id delivered as %s, want 3A00000003", got.Info.ID)
	}
}

func TestInboundReplayWithoutStateFile(t *testing.T) {
	f := newFixture(t)
	_, rec := f.linked(t, shopPhone)
	msg := InboundMessage{To: shopPhone, From: customerPhone, Text: "again", ID: "3A00000004"}
	for range 2 {
		if _, err := f.sim.Inbound(msg); err != nil {
			t.Fatal(err)
		}
	}
	if first, second := nextMessage(t, rec), nextMessage(t, rec); first.Info.ID != second.Info.ID {
		t.Errorf("replayed ids %s and %s differ", first.Info.ID, second.Info.ID)
	}
}

func TestLoggedOutDeviceNotRestored(t *testing.T) {
	d := newDurable(t)
	sim := d.open(t)
	jid, _ := sim.LinkDevice(shopPhone, "Shop")
	connect(t, sim, jid)
	if err := sim.LogoutFromPhone(shopPhone); err != nil {
		t.Fatal(err)
	}
	_ = sim.Close()

	again := d.open(t)
	if devices, _ := again.Devices(t.Context()); len(devices) != 0 {
		t.Errorf("devices after restart = %v, want none after logout", devices)
	}
}

func TestStateFileWrittenAtomically(t *testing.T) {
	d := newDurable(t)
	sim := d.open(t)
	if _, err := sim.LinkDevice(shopPhone, "Shop"); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(filepath.Dir(d.path))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
	if _, err := os.Stat(d.path); err != nil {
		t.Errorf("state file not written: %v", err)
	}
}

func TestLoadRemovesInterruptedWrites(t *testing.T) {
	d := newDurable(t)
	leftover := d.path + ".tmp-123456"
	if err := os.WriteFile(leftover, []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	d.open(t)
	if _, err := os.Stat(leftover); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temporary file of an interrupted write still exists (stat: %v)", err)
	}
}

func TestLoadRejectsBadState(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    string
	}{
		{"not JSON", "{", "parse state file"},
		{"other format", `{"format": 99}`, "format 99 is not supported"},
		{"missing media", `{"format": 1, "media": {"/v/x": "00ff"}}`, "read media /v/x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "state.json")
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Load(Options{StatePath: path})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Load error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestLoadRejectsChangedMedia(t *testing.T) {
	d := newDurable(t)
	sim := d.open(t)
	jid, _ := sim.LinkDevice(shopPhone, "Shop")
	connect(t, sim, jid)
	if _, err := sim.Inbound(InboundMessage{To: shopPhone, From: customerPhone, Media: &InboundMedia{Kind: "document", Data: []byte("v1")}}); err != nil {
		t.Fatal(err)
	}
	_ = sim.Close()
	files, err := os.ReadDir(d.path + ".media")
	if err != nil || len(files) != 1 {
		t.Fatalf("media directory has %d files (%v), want 1", len(files), err)
	}
	if err := os.WriteFile(filepath.Join(d.path+".media", files[0].Name()), []byte("v2"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(Options{StatePath: d.path}); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Errorf("Load error = %v, want a SHA-256 mismatch", err)
	}
}

func TestLoadWithoutStatePath(t *testing.T) {
	if _, err := Load(Options{}); !errors.Is(err, ErrInvalidRequest) {
		t.Errorf("Load without StatePath: err = %v, want ErrInvalidRequest", err)
	}
}

// waitFor polls cond until it holds or eventWait passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(eventWait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not reached within %s", what, eventWait)
		}
		time.Sleep(time.Millisecond)
	}
}

// savedQueue returns the number of queued events in the state file.
func savedQueue(t *testing.T, path string) int {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var st savedState
	if err := json.Unmarshal(raw, &st); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, dev := range st.Devices {
		n += len(dev.Queue)
	}
	return n
}
