package b24fake_test

import (
	"reflect"
	"testing"

	"github.com/wabridge/b24wa/portal"
	"github.com/wabridge/b24wa/portal/b24fake"
)

func TestEncodeFormWireFormat(t *testing.T) {
	values := b24fake.EncodeForm(map[string]any{
		"data": map[string]any{"LINE": 3, "ACTIVE": true, "OFF": false, "EMPTY": []any{},
			"MESSAGES": []any{map[string]any{"im": map[string]any{"chat_id": 49}}}},
		"ts": int64(1773759161),
	})
	want := map[string]string{
		"data[LINE]": "3", "data[ACTIVE]": "1", "data[OFF]": "", "data[MESSAGES][0][im][chat_id]": "49", "ts": "1773759161",
	}
	for k, v := range want {
		if !values.Has(k) || values.Get(k) != v {
			t.Errorf("%s = %q (present %v), want %q", k, values.Get(k), values.Has(k), v)
		}
	}
	if values.Has("data[EMPTY]") {
		t.Error("an empty list was encoded; PHP drops it")
	}
}

func TestEncodeFormRoundTrip(t *testing.T) {
	data := map[string]any{
		"event": "ONIMCONNECTORMESSAGEADD",
		"data": map[string]any{"CONNECTOR": "acme_wa", "LINE": "3", "MESSAGES": []any{
			map[string]any{"message": map[string]any{"text": "a&b=c [b]x[/b]", "files": []any{
				map[string]any{"name": "a b.jpg", "link": "https://x.example.com/~a?b=1#img.jpg"},
			}}},
		}},
	}
	got := b24fake.DecodeForm(b24fake.EncodeForm(data))
	if !reflect.DeepEqual(got, data) {
		t.Errorf("round trip:\n got %#v\nwant %#v", got, data)
	}
}

// The app's own parser must read what the fake sends.
func TestEventFormParsedByPortal(t *testing.T) {
	p := b24fake.New(b24fake.Options{})
	defer p.Close()
	data := b24fake.MessagesData(b24fake.EventMessageAdd, "acme_wa", 3, b24fake.EventMessage{
		IMChatID: 1807, IMMessageID: 86497, UserID: 27, Text: "Hi", ChatID: "wa:1555",
		Files: []b24fake.OutboundFile{{Name: "a.jpg", Type: "image", Link: "http://127.0.0.1/f", Size: 10}},
	})
	form := p.EventForm(b24fake.EventMessageAdd, data, b24fake.WithUser(27))
	tree, err := portal.ParseForm(form.Encode(), portal.FormLimits{})
	if err != nil {
		t.Fatal(err)
	}
	checks := map[string][]string{
		"1807":                    {"data", "MESSAGES", "0", "im", "chat_id"},
		"a.jpg":                   {"data", "MESSAGES", "0", "message", "files", "0", "name"},
		"27":                      {"auth", "user_id"},
		p.MemberID():              {"auth", "member_id"},
		"ONIMCONNECTORMESSAGEADD": {"event"},
	}
	for want, path := range checks {
		if got := tree.Value(path...); got != want {
			t.Errorf("%v = %q, want %q", path, got, want)
		}
	}
}
