package e2e

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wabridge/b24wa/connector/wa/simulator"
	"github.com/wabridge/b24wa/portal/b24fake"
)

// customerWrites sends a text and an image from the customer's phone and
// checks the elements of imconnector.send.messages at the portal.
func (f *flow) customerWrites() {
	t := f.t
	textID, imageID := "3A"+strings.ToUpper(randomHex(9)), "3A"+strings.ToUpper(randomHex(9))
	picture := testPNG(t)
	before := time.Now().Unix()
	f.a.inbound(simulator.InboundMessage{To: shopPhone, From: customerPhone, PushName: "Maria Lopez",
		Text: "Hello, is the shop open?", ID: textID})
	f.a.inbound(simulator.InboundMessage{To: shopPhone, From: customerPhone, PushName: "Maria Lopez", ID: imageID,
		Text: "this one", Media: &simulator.InboundMedia{Kind: "image", MIME: "image/png", Name: "photo.png",
			Base64: base64.StdEncoding.EncodeToString(picture)}})
	after := time.Now().Unix()

	var got []b24fake.ReceivedMessage
	waitFor(t, stepTimeout, "both customer messages at the portal", func() bool {
		got = f.fake.ReceivedMessages()
		return len(got) >= 2
	})
	if len(got) != 2 {
		t.Fatalf("portal received %d messages, want 2: %+v", len(got), got)
	}
	text, img := got[0], got[1]
	if text.ExternalID != textID || img.ExternalID != imageID {
		t.Fatalf("message.id in portal order = %s, %s; want %s then %s", text.ExternalID, img.ExternalID, textID, imageID)
	}
	for _, m := range got {
		f.checkReceived(m, before, after)
	}
	if text.Message["text"] != "Hello, is the shop open?" {
		t.Errorf("text message.text = %#v", text.Message["text"])
	}
	f.checkPicture(img, picture)
	f.chatID = fmt.Sprint(text.Chat["id"])
	if fmt.Sprint(img.Chat["id"]) != f.chatID {
		t.Errorf("the image went to chat %v, the text to %s; one customer is one chat", img.Chat["id"], f.chatID)
	}
}

// checkReceived checks the structure of one send.messages element.
func (f *flow) checkReceived(m b24fake.ReceivedMessage, before, after int64) {
	t := f.t
	if !m.Success {
		t.Errorf("message %s rejected by the portal: %s", m.ExternalID, m.ErrorCode)
	}
	if m.Connector != connectorID || m.Line != openLine {
		t.Errorf("message %s sent for connector %q line %d, want %s line %d", m.ExternalID, m.Connector, m.Line, connectorID, openLine)
	}
	if id := fmt.Sprint(m.User["id"]); id == "" || id == "<nil>" {
		t.Errorf("message %s has no user.id: %v", m.ExternalID, m.User)
	}
	if id := fmt.Sprint(m.Chat["id"]); id == "" || id == "<nil>" {
		t.Errorf("message %s has no chat.id: %v", m.ExternalID, m.Chat)
	}
	if phone := fmt.Sprint(m.User["phone"]); strings.TrimPrefix(phone, "+") != customerPhone {
		t.Errorf("message %s user.phone = %q, want %s", m.ExternalID, phone, customerPhone)
	}
	date, err := strconv.ParseInt(paramText(m.Message["date"]), 10, 64)
	if err != nil || date < before || date > after {
		t.Errorf("message %s message.date = %v, want Unix seconds between %d and %d", m.ExternalID, m.Message["date"], before, after)
	}
}

// checkPicture requires the image to reach the portal as a file it could
// download from the app, byte for byte.
func (f *flow) checkPicture(m b24fake.ReceivedMessage, picture []byte) {
	t := f.t
	if len(m.Files) != 1 {
		t.Fatalf("image message has %d files at the portal, want 1", len(m.Files))
	}
	file := m.Files[0]
	if file.Err != "" || file.Status != http.StatusOK {
		t.Fatalf("the portal could not download %s: status %d, %s", file.URL, file.Status, file.Err)
	}
	if !strings.HasPrefix(file.URL, f.a.base+"/media/") {
		t.Errorf("files[].url = %s, want an address under %s/media/", file.URL, f.a.base)
	}
	if !bytes.Equal(file.Body, picture) {
		t.Errorf("the portal downloaded %d bytes, want the %d bytes the customer sent", len(file.Body), len(picture))
	}
	if !strings.HasPrefix(file.ContentType, "image/png") {
		t.Errorf("file type = %q, want image/png", file.ContentType)
	}
	if res := f.a.get(file.URL); res.status != http.StatusOK || !bytes.Equal(res.body, picture) {
		t.Errorf("GET %s: status %d, %d bytes; want 200 with the picture", file.URL, res.status, len(res.body))
	}
}

// operatorReplies sends an operator reply and an edit from the portal and
// checks the customer's phone, the delivery status and the read status.
func (f *flow) operatorReplies() {
	t := f.t
	sent, err := f.fake.OperatorSends(f.ctx, b24fake.OperatorMessage{Line: openLine, ChatID: f.chatID, Text: "Hello [i]there[/i]"})
	if err != nil {
		t.Fatalf("operator reply: %v", err)
	}
	if len(sent.Deliveries) != 1 || sent.Deliveries[0].Status != http.StatusOK {
		t.Fatalf("ONIMCONNECTORMESSAGEADD deliveries = %+v, want one answered 200", sent.Deliveries)
	}
	if sent.Text != "[b]Anna Admin:[/b][br] Hello [i]there[/i]" {
		t.Fatalf("the portal sent %q; the test expects the signed BB-code text", sent.Text)
	}

	const want = "*Anna Admin:*\nHello _there_"
	reply := f.waitOutbound(func(m simulator.OutboundMessage) bool { return m.Kind == "text" }, "the reply on the customer's phone")
	if reply.Text != want {
		t.Errorf("the customer got %q, want %q (BB-code as WhatsApp markup)", reply.Text, want)
	}
	if reply.To != customerPhone {
		t.Errorf("the reply went to %s, want %s", reply.To, customerPhone)
	}
	f.checkDelivery(sent, reply.ID)
	f.checkCustomerMarkedRead()
	f.customerReads(sent, reply.ID)
	f.operatorEdits(sent, reply.ID)
}

// waitOutbound waits for a message sent through the business number that
// match accepts, and requires exactly one such message.
func (f *flow) waitOutbound(match func(simulator.OutboundMessage) bool, what string) simulator.OutboundMessage {
	f.t.Helper()
	var found []simulator.OutboundMessage
	waitFor(f.t, stepTimeout, what, func() bool {
		found = found[:0]
		for _, m := range f.a.outbound(shopPhone) {
			if match(m) {
				found = append(found, m)
			}
		}
		return len(found) > 0
	})
	if len(found) != 1 || found[0].Attempts != 1 {
		f.t.Errorf("%s: sent %d times (%+v), want once", what, len(found), found)
	}
	return found[0]
}

// checkDelivery requires imconnector.send.status.delivery with the im block
// of the event and message.id as an array holding the WhatsApp id.
func (f *flow) checkDelivery(sent *b24fake.SentMessage, waID string) {
	t := f.t
	var status b24fake.StatusUpdate
	waitFor(t, stepTimeout, "the delivery status at the portal", func() bool {
		for _, s := range f.fake.DeliveryStatuses() {
			if s.IMMessageID == sent.IMMessageID {
				status = s
				return true
			}
		}
		return false
	})

	if status.IMChatID != sent.IMChatID {
		t.Errorf("delivery im.chat_id = %d, want %d from the event", status.IMChatID, sent.IMChatID)
	}
	if !slices.Equal(status.ExternalIDs, []string{waID}) {
		t.Errorf("delivery message.id = %v, want [%s]", status.ExternalIDs, waID)
	}
	if status.ChatID != f.chatID {
		t.Errorf("delivery chat.id = %q, want %q", status.ChatID, f.chatID)
	}

	calls := f.fake.CallsTo("imconnector.send.status.delivery")
	if len(calls) == 0 {
		t.Fatal("imconnector.send.status.delivery was never called")
	}
	msgs, _ := calls[len(calls)-1].Params["MESSAGES"].([]any)
	if len(msgs) != 1 {
		t.Fatalf("send.status.delivery MESSAGES = %#v, want one element", calls[len(calls)-1].Params["MESSAGES"])
	}
	message, _ := msgs[0].(map[string]any)["message"].(map[string]any)
	if _, isArray := message["id"].([]any); !isArray {
		t.Errorf("send.status.delivery message.id = %#v, want a JSON array", message["id"])
	}
}

// checkCustomerMarkedRead requires the customer's messages marked read on
// WhatsApp once the operator replied.
func (f *flow) checkCustomerMarkedRead() {
	waitFor(f.t, stepTimeout, "read receipts for the customer's messages", func() bool {
		return len(f.a.readMarks(shopPhone)) > 0
	})
	var ids []string
	for _, m := range f.a.readMarks(shopPhone) {
		ids = append(ids, m.IDs...)
	}
	for _, rec := range f.fake.ReceivedMessages() {
		if !slices.Contains(ids, rec.ExternalID) {
			f.t.Errorf("customer message %s not marked read after the operator answered; read %v", rec.ExternalID, ids)
		}
	}
}

// customerReads plays the customer opening the reply and checks
// imconnector.send.status.reading.
func (f *flow) customerReads(sent *b24fake.SentMessage, waID string) {
	t := f.t
	res := f.a.postJSON("/simulator/read", simulator.ReadRequest{Phone: shopPhone, From: customerPhone, IDs: []string{waID}}, nil)
	if res.status != http.StatusOK {
		t.Fatalf("POST /simulator/read: status %d, body %s", res.status, res)
	}
	var status b24fake.StatusUpdate
	waitFor(t, stepTimeout, "the reading status at the portal", func() bool {
		for _, s := range f.fake.ReadStatuses() {
			if s.IMMessageID == sent.IMMessageID {
				status = s
				return true
			}
		}
		return false
	})
	if status.IMChatID != sent.IMChatID {
		t.Errorf("reading im.chat_id = %d, want %d", status.IMChatID, sent.IMChatID)
	}
	if !slices.Contains(status.ExternalIDs, waID) {
		t.Errorf("reading message.id = %v, want it to hold %s", status.ExternalIDs, waID)
	}
}

// operatorEdits edits the delivered reply and checks the WhatsApp edit.
func (f *flow) operatorEdits(sent *b24fake.SentMessage, waID string) {
	deliveries, err := f.fake.OperatorEdits(f.ctx, sent.IMMessageID, "[b]Anna Admin:[/b][br] Hello [s]there[/s] again")
	if err != nil {
		f.t.Fatalf("operator edit: %v", err)
	}
	if len(deliveries) != 1 || deliveries[0].Status != http.StatusOK {
		f.t.Fatalf("ONIMCONNECTORMESSAGEUPDATE deliveries = %+v, want one answered 200", deliveries)
	}
	edit := f.waitOutbound(func(m simulator.OutboundMessage) bool { return m.Kind == "edit" }, "the edit on the customer's phone")
	if edit.EditOf != waID {
		f.t.Errorf("edit of %s, want of the reply %s", edit.EditOf, waID)
	}
	if want := "*Anna Admin:*\nHello ~there~ again"; edit.Text != want {
		f.t.Errorf("edited text = %q, want %q", edit.Text, want)
	}
}

// restartKeepsLine stops the binary with SIGTERM and starts it again: the
// line must reconnect with the device kept in SIMULATOR_STATE and carry a
// new customer message.
func (f *flow) restartKeepsLine() {
	t := f.t
	f.a.stop()
	f.a.start()
	waitFor(t, stepTimeout, "the line to reconnect after a restart", func() bool {
		state, linked, _ := f.panel()
		return state == "connected" && linked
	})
	id := f.a.inbound(simulator.InboundMessage{To: shopPhone, From: customerPhone, Text: "still there?"})
	waitFor(t, stepTimeout, "a message after the restart at the portal", func() bool {
		for _, m := range f.fake.ReceivedMessages() {
			if m.ExternalID == id && m.Success {
				return true
			}
		}
		return false
	})
	if n := len(f.fake.ReceivedMessages()); n != 3 {
		t.Errorf("the portal has %d customer messages after the restart, want 3 (nothing sent again)", n)
	}
}

// testPNG returns a small PNG image.
func testPNG(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	img.Set(1, 1, color.RGBA{R: 200, A: 255})
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// paramText renders a parameter the fake decoded (a string, a json.Number
// or a bool) as text.
func paramText(v any) string { return fmt.Sprint(v) }
