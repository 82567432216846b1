package meow

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"testing"
	"time"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
	"google.golang.org/protobuf/proto"
	"gorm.io/gorm"

	"github.com/wabridge/b24wa/connector/wa"
	"github.com/wabridge/b24wa/internal/dbtest"
)

var errNotStored = errors.New("database unavailable")

func TestOptionsDefaults(t *testing.T) {
	tests := []struct {
		name string
		in   Options
		want Options
	}{
		{"zero", Options{}, Options{ReconnectBase: 2 * time.Second, ReconnectMax: time.Minute, PairDisplayName: "Chrome (Linux)"}},
		{"max below base", Options{ReconnectBase: 5 * time.Second, ReconnectMax: time.Second},
			Options{ReconnectBase: 5 * time.Second, ReconnectMax: 5 * time.Second, PairDisplayName: "Chrome (Linux)"}},
		{"kept", Options{ReconnectBase: time.Second, ReconnectMax: 30 * time.Second, PairDisplayName: "Firefox (Windows)"},
			Options{ReconnectBase: time.Second, ReconnectMax: 30 * time.Second, PairDisplayName: "Firefox (Windows)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.in.withDefaults(); got != tt.want {
				t.Errorf("withDefaults() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestBackoffCappedAndJittered(t *testing.T) {
	base, max := 2*time.Second, time.Minute
	tests := []struct {
		attempt int
		random  float64
		want    time.Duration
	}{
		{0, 0, 2 * time.Second},
		{0, 0.5, 1500 * time.Millisecond},
		{1, 0, 4 * time.Second},
		{4, 0, 32 * time.Second},
		{5, 0, time.Minute},
		{5, 0.999999, 30*time.Second + 30*time.Microsecond},
		{40, 0, time.Minute},
		{1000, 0.25, 52500 * time.Millisecond},
	}
	for _, tt := range tests {
		got := backoff(tt.attempt, base, max, tt.random)
		if got.Round(time.Millisecond) != tt.want.Round(time.Millisecond) {
			t.Errorf("backoff(%d, %.2f) = %s, want %s", tt.attempt, tt.random, got, tt.want)
		}
	}
	for attempt := range 70 {
		if got := backoff(attempt, base, max, 0.9999); got > max || got < max/2/32 {
			t.Errorf("backoff(%d) = %s, outside (0, %s]", attempt, got, max)
		}
	}
}

func TestNewSessionConfiguresClient(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		b, _ := newBackend(t, db, Options{})
		var asked types.JID
		opts := wa.OpenOptions{PrePair: func(jid types.JID, platform, business string) bool {
			asked = jid
			return false
		}}
		sess := openSession(t, b, types.EmptyJID, &recorder{}, opts)
		cli := sess.client
		if !cli.SynchronousAck || !cli.EnableDecryptedEventBuffer || !cli.AutomaticMessageRerequestFromPhone {
			t.Errorf("ack settings: SynchronousAck %v, EnableDecryptedEventBuffer %v, AutomaticMessageRerequestFromPhone %v",
				cli.SynchronousAck, cli.EnableDecryptedEventBuffer, cli.AutomaticMessageRerequestFromPhone)
		}
		if !cli.EnableAutoReconnect || cli.AutoReconnectHook == nil {
			t.Error("automatic reconnect or its hook is not set")
		}
		phone := types.NewJID("79001234567", types.DefaultUserServer)
		if cli.PrePairCallback == nil || cli.PrePairCallback(phone, "smba", "") || asked != phone {
			t.Error("PrePairCallback does not call OpenOptions.PrePair")
		}
		if !sess.JID().IsEmpty() || sess.IsConnected() || sess.IsLoggedIn() {
			t.Error("a new unpaired session has a JID or a connection")
		}
		if id := sess.NewMessageID(); len(id) != 22 || id[:4] != whatsmeow.WebMessageIDPrefix {
			t.Errorf("NewMessageID = %q, want whatsmeow's 3EB0 format", id)
		}
	})
}

func TestOpenDevicesDelete(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		b, container := newBackend(t, db, Options{})
		jid := storePairedDevice(t, container, "79001234567", 3)

		devices, err := b.Devices(t.Context())
		if err != nil || len(devices) != 1 || devices[0] != jid {
			t.Fatalf("Devices = %v, %v; want [%s]", devices, err, jid)
		}
		sess := openSession(t, b, jid, &recorder{}, wa.OpenOptions{})
		if sess.JID() != jid {
			t.Errorf("JID = %s, want %s", sess.JID(), jid)
		}
		unknown := types.NewADJID("79990000000", 0, 1)
		if _, err := b.Open(t.Context(), unknown, (&recorder{}).handle, wa.OpenOptions{}); !errors.Is(err, wa.ErrDeviceNotFound) {
			t.Errorf("Open unknown: err = %v, want ErrDeviceNotFound", err)
		}
		if err := b.DeleteDevice(t.Context(), jid); err != nil {
			t.Fatalf("DeleteDevice: %v", err)
		}
		if devices, _ := b.Devices(t.Context()); len(devices) != 0 {
			t.Errorf("Devices after delete = %v", devices)
		}
		if err := b.DeleteDevice(t.Context(), jid); !errors.Is(err, wa.ErrDeviceNotFound) {
			t.Errorf("second DeleteDevice: err = %v, want ErrDeviceNotFound", err)
		}
	})
}

func TestEventHandlerSuccessMapsToAck(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		b, container := newBackend(t, db, Options{})
		jid := storePairedDevice(t, container, "79001234567", 3)
		rec := &recorder{}
		sess := openSession(t, b, jid, rec, wa.OpenOptions{})
		//lint:ignore SA1019 whatsmeow's dispatcher has no other entry point, and the test must run its real ack logic
		dispatch := sess.client.DangerousInternals().DispatchEvent

		customer := types.NewJID("79119876543", types.DefaultUserServer)
		msg := &events.Message{
			Info: types.MessageInfo{
				MessageSource: types.MessageSource{Chat: customer, Sender: customer},
				ID:            "3A0000000000000000AA",
				Timestamp:     time.Now(),
			},
			RawMessage: &waE2E.Message{Conversation: proto.String("hello")},
		}
		msg.UnwrapRaw()
		receipt := &events.Receipt{
			MessageSource: types.MessageSource{Chat: customer, Sender: customer},
			MessageIDs:    []types.MessageID{"3EB0AA"},
			Type:          types.ReceiptTypeRead,
		}

		tests := []struct {
			name       string
			evt        any
			handlerErr error
			wantFailed bool
		}{
			{"message stored", msg, nil, false},
			{"message not stored", msg, errNotStored, true},
			{"receipt not stored", receipt, errNotStored, true},
			{"connected with failing handler", &events.Connected{}, errNotStored, false},
		}
		for _, tt := range tests {
			rec.setErr(tt.handlerErr)
			before := rec.count()
			if failed := dispatch(tt.evt); failed != tt.wantFailed {
				t.Errorf("%s: whatsmeow handlerFailed = %v, want %v", tt.name, failed, tt.wantFailed)
			}
			if rec.count() != before+1 {
				t.Errorf("%s: app handler not called", tt.name)
			}
		}
	})
}

func TestPairItemsFromQRChannel(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		b, _ := newBackend(t, db, Options{})
		rec := &recorder{}
		sess := openSession(t, b, types.EmptyJID, rec, wa.OpenOptions{})

		// The QR channel is whatsmeow's own; a failing app handler must not
		// keep PairSuccess from it, because it is registered after ours.
		qr, err := sess.client.GetQRChannel(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		out := make(chan wa.PairItem, pairItemBuffer)
		go sess.translatePairing(t.Context(), qr, out)

		rec.setErr(errNotStored)
		//lint:ignore SA1019 the QR event must go through whatsmeow's own dispatcher to reach its QR channel
		internals := sess.client.DangerousInternals()
		codes := []string{"2@ref,noise,identity,adv", "2@b,n,i,a", "2@c,n,i,a", "2@d,n,i,a", "2@e,n,i,a", "2@f,n,i,a"}
		internals.DispatchEvent(&events.QR{Codes: codes})
		first := receiveItem(t, out)
		if first.Kind != wa.PairQRCode || first.Code != "2@ref,noise,identity,adv" || first.Timeout != 60*time.Second {
			t.Errorf("first item = %+v, want the code with 60s", first)
		}
		jid := types.NewADJID("79001234567", 0, 7)
		success := &events.PairSuccess{ID: jid, LID: types.NewJID("100200300", types.HiddenUserServer), Platform: "smba", BusinessName: "Flowers"}
		if failed := internals.DispatchEvent(success); failed {
			t.Error("PairSuccess with a failing app handler was reported as failed")
		}
		item := receiveItem(t, out)
		if item.Kind != wa.PairSuccess || item.JID != jid || item.Platform != "smba" || item.Business != "Flowers" {
			t.Errorf("success item = %+v, want JID, platform and business of the PairSuccess event", item)
		}
		if _, ok := <-out; ok {
			t.Error("pairing channel still open after success")
		}
	})
}

func TestTranslateQRItems(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		b, _ := newBackend(t, db, Options{})
		sess := openSession(t, b, types.EmptyJID, &recorder{}, wa.OpenOptions{})
		tests := []struct {
			item    whatsmeow.QRChannelItem
			kind    wa.PairKind
			wantErr error
		}{
			{whatsmeow.QRChannelItem{Event: whatsmeow.QRChannelEventCode, Code: "c", Timeout: 20 * time.Second}, wa.PairQRCode, nil},
			{whatsmeow.QRChannelTimeout, wa.PairTimeout, nil},
			{whatsmeow.QRChannelClientOutdated, wa.PairError, wa.ErrClientOutdated},
			{whatsmeow.QRChannelScannedWithoutMultidevice, wa.PairError, wa.ErrScannedWithoutMultidevice},
			{whatsmeow.QRChannelErrUnexpectedEvent, wa.PairError, wa.ErrUnexpectedPairState},
			{whatsmeow.QRChannelItem{Event: whatsmeow.QRChannelEventError, Error: whatsmeow.ErrPairRejectedLocally}, wa.PairError, wa.ErrPairRejected},
			{whatsmeow.QRChannelItem{Event: whatsmeow.QRChannelEventError, Error: whatsmeow.ErrPairInvalidDeviceSignature}, wa.PairError, whatsmeow.ErrPairInvalidDeviceSignature},
		}
		for _, tt := range tests {
			got := sess.translateQRItem(tt.item)
			if got.Kind != tt.kind {
				t.Errorf("%s: kind = %s, want %s", tt.item.Event, got.Kind, tt.kind)
			}
			if tt.wantErr != nil && !errors.Is(got.Err, tt.wantErr) {
				t.Errorf("%s: err = %v, want %v", tt.item.Event, got.Err, tt.wantErr)
			}
		}
		if got := sess.translateQRItem(whatsmeow.QRChannelSuccess); got.Kind != wa.PairSuccess || !got.JID.IsEmpty() {
			t.Errorf("success without a PairSuccess event = %+v, want an empty JID", got)
		}
	})
}

func receiveItem(t *testing.T, out <-chan wa.PairItem) wa.PairItem {
	t.Helper()
	select {
	case item, ok := <-out:
		if !ok {
			t.Fatal("pairing channel closed")
		}
		return item
	case <-time.After(5 * time.Second):
		t.Fatal("no pairing item within 5s")
		return wa.PairItem{}
	}
}

func TestClientLogsThroughSlog(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *gorm.DB) {
		b, _ := newBackend(t, db, Options{})
		var buf bytes.Buffer
		log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
		sess := openSession(t, b, types.EmptyJID, &recorder{}, wa.OpenOptions{Log: log.With("line_id", 7)})

		sess.client.Log.Warnf("socket closed: %s", "EOF")
		sess.client.Log.Sub("Recv").Debugf("<iq/>")
		var rec map[string]any
		if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
			t.Fatalf("want exactly one JSON record, got %q: %v", buf.String(), err)
		}
		if rec["level"] != "WARN" || rec["text"] != "socket closed: EOF" || rec["line_id"] != float64(7) {
			t.Errorf("record = %v, want a WARN with whatsmeow's text and the line_id", rec)
		}
	})
}
