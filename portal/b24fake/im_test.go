package b24fake_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/wabridge/b24wa/portal/b24fake"
)

// openDialog activates acme_wa on line 1 and has a customer write, so an
// open line chat exists. It returns that chat's id.
func openDialog(t *testing.T, p *b24fake.Portal, token string) int {
	t.Helper()
	activate(t, p, token, "acme_wa", 1)
	if status, out := call(t, p, token, "imconnector.send.messages", sendBody("acme_wa", "hello", nil)); status != 200 {
		t.Fatalf("send.messages: %d %v", status, out)
	}
	got := p.ReceivedMessages()
	if len(got) != 1 || got[0].ChatID == 0 {
		t.Fatalf("customer message not stored: %+v", got)
	}
	return got[0].ChatID
}

func TestIMMessageAddPostsIntoChat(t *testing.T) {
	p, token := newPortal(t, b24fake.Options{})
	chatID := openDialog(t, p, token)

	body := map[string]any{"DIALOG_ID": fmt.Sprintf("chat%d", chatID), "MESSAGE": "  Not delivered  ", "SYSTEM": "Y"}
	status, out := call(t, p, token, "im.message.add", body)
	if status != 200 {
		t.Fatalf("im.message.add: %d %v", status, out)
	}
	id, ok := out["result"].(float64)
	if !ok || id <= 0 {
		t.Fatalf("result = %v, want a positive message id", out["result"])
	}

	got := p.DialogMessagesIn(chatID)
	if len(got) != 1 {
		t.Fatalf("%d messages in chat %d, want 1: %+v", len(got), chatID, p.DialogMessages())
	}
	m := got[0]
	if m.ID != int(id) {
		t.Errorf("recorded id %d, returned %v", m.ID, id)
	}
	if m.Message != "Not delivered" {
		t.Errorf("message %q, want the trimmed text", m.Message)
	}
	if !m.System {
		t.Error("SYSTEM=Y not recorded")
	}
	if m.FromUserID != 1 {
		t.Errorf("author %d, want the token's user 1", m.FromUserID)
	}
}

func TestIMMessageAddForm(t *testing.T) {
	p, token := newPortal(t, b24fake.Options{})
	chatID := openDialog(t, p, token)
	form := url.Values{"auth": {token}, "DIALOG_ID": {fmt.Sprintf("chat%d", chatID)}, "MESSAGE": {"from a form"}}
	res, err := http.PostForm(p.ClientEndpoint()+"im.message.add.json", form)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 {
		t.Fatalf("form call: %d %v", res.StatusCode, out)
	}
	got := p.DialogMessagesIn(chatID)
	if len(got) != 1 {
		t.Fatalf("recorded %+v, want one message", got)
	}
	if got[0].Message != "from a form" {
		t.Errorf("message %q, want the form value", got[0].Message)
	}
	if got[0].System {
		t.Error("message recorded as a system message without SYSTEM=Y")
	}
}

func TestIMMessageAddPrivateDialog(t *testing.T) {
	p, token := newPortal(t, b24fake.Options{})
	status, out := call(t, p, token, "im.message.add", map[string]any{"DIALOG_ID": "1", "MESSAGE": "hi"})
	if status != 200 {
		t.Fatalf("private dialog: %d %v", status, out)
	}
	got := p.DialogMessages()
	if len(got) != 1 {
		t.Fatalf("recorded %+v, want one message", got)
	}
	if got[0].ToUserID != 1 {
		t.Errorf("recipient %d, want user 1", got[0].ToUserID)
	}
	if got[0].ChatID != 0 {
		t.Errorf("chat %d, want none for a private dialog", got[0].ChatID)
	}
}

func TestIMMessageAddErrors(t *testing.T) {
	p, token := newPortal(t, b24fake.Options{})
	chat := fmt.Sprintf("chat%d", openDialog(t, p, token))
	bigAttach := []any{map[string]any{"MESSAGE": strings.Repeat("x", 31*1024)}}
	cases := []struct {
		name   string
		body   map[string]any
		status int
		code   string
	}{
		{"no message", map[string]any{"DIALOG_ID": chat}, 400, "MESSAGE_EMPTY"},
		{"blank message", map[string]any{"DIALOG_ID": chat, "MESSAGE": "  "}, 400, "MESSAGE_EMPTY"},
		{"number as message", map[string]any{"DIALOG_ID": chat, "MESSAGE": 5}, 400, "MESSAGE_EMPTY"},
		{"no dialog", map[string]any{"MESSAGE": "x"}, 400, "PARAMS_ERROR"},
		{"chat zero", map[string]any{"DIALOG_ID": "chat0", "MESSAGE": "x"}, 400, "CHAT_ID_EMPTY"},
		{"workgroup without chat", map[string]any{"DIALOG_ID": "sg5", "MESSAGE": "x"}, 400, "CHAT_ID_EMPTY"},
		{"unknown chat", map[string]any{"DIALOG_ID": "chat999999", "MESSAGE": "x"}, 400, "PARAMS_ERROR"},
		{"user zero", map[string]any{"DIALOG_ID": "0", "MESSAGE": "x"}, 400, "USER_ID_EMPTY"},
		{"malformed dialog", map[string]any{"DIALOG_ID": "chatX", "MESSAGE": "x"}, 400, "USER_ID_EMPTY"},
		{"unknown user", map[string]any{"DIALOG_ID": "777", "MESSAGE": "x"}, 400, "USER_NOT_FOUND"},
		{"invalid attach", map[string]any{"DIALOG_ID": chat, "MESSAGE": "x", "ATTACH": "not json"}, 400, "ATTACH_ERROR"},
		{"oversized attach", map[string]any{"DIALOG_ID": chat, "ATTACH": bigAttach}, 400, "ATTACH_OVERSIZE"},
		{"attach only", map[string]any{"DIALOG_ID": chat, "ATTACH": []any{map[string]any{"MESSAGE": "card"}}}, 200, ""},
	}
	for _, tc := range cases {
		status, out := call(t, p, token, "im.message.add", tc.body)
		if status != tc.status {
			t.Errorf("%s: status %d, want %d (%v)", tc.name, status, tc.status, out)
		}
		if code, _ := out["error"].(string); code != tc.code {
			t.Errorf("%s: error %q, want %q", tc.name, code, tc.code)
		}
	}
	if n := len(p.DialogMessages()); n != 1 {
		t.Errorf("%d messages stored, want only the attachment-only one", n)
	}
}

func TestIMMessageAddInBatch(t *testing.T) {
	p, token := newPortal(t, b24fake.Options{})
	chatID := openDialog(t, p, token)
	cmd := map[string]any{"note": fmt.Sprintf("im.message.add?DIALOG_ID=chat%d&MESSAGE=batched&SYSTEM=Y", chatID)}
	status, out := call(t, p, token, "batch", map[string]any{"cmd": cmd})
	if status != 200 {
		t.Fatalf("batch: %d %v", status, out)
	}
	got := p.DialogMessagesIn(chatID)
	if len(got) != 1 {
		t.Fatalf("recorded %+v, want one message", got)
	}
	if got[0].Message != "batched" {
		t.Errorf("message %q, want the batched text", got[0].Message)
	}
	if !got[0].System {
		t.Error("SYSTEM=Y of the batch command not recorded")
	}
}
