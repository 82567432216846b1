package portal

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func mustParseForm(t *testing.T, body string) *Node {
	t.Helper()
	n, err := ParseForm(body, FormLimits{})
	if err != nil {
		t.Fatalf("ParseForm(%q): %v", body, err)
	}
	return n
}

func mustJSON(t *testing.T, n *Node) string {
	t.Helper()
	raw, err := json.Marshal(n)
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

func TestParseFormBracketKeys(t *testing.T) {
	body := "event=ONIMCONNECTORMESSAGEADD" +
		"&data%5BMESSAGES%5D%5B0%5D%5Bmessage%5D%5Bfiles%5D%5B0%5D%5Blink%5D=https%3A%2F%2Fp.example%2F~a%23img.png" +
		"&data[MESSAGES][0][message][files][0][name]=a.png" +
		"&data[MESSAGES][0][message][text]=%5Bb%5DAnna%3A%5B%2Fb%5D+hi" +
		"&data[LINE]=3"
	n := mustParseForm(t, body)

	if got := n.Value("event"); got != "ONIMCONNECTORMESSAGEADD" {
		t.Errorf("event = %q", got)
	}
	if got := n.Value("data", "MESSAGES", "0", "message", "files", "0", "link"); got != "https://p.example/~a#img.png" {
		t.Errorf("files[0][link] = %q", got)
	}
	if got := n.Value("data", "MESSAGES", "0", "message", "text"); got != "[b]Anna:[/b] hi" {
		t.Errorf("text = %q, want '+' decoded as a space", got)
	}
	if got := n.Get("data", "MESSAGES").Items(); len(got) != 1 {
		t.Errorf("MESSAGES has %d items, want 1", len(got))
	}
	if n.Has("data", "MESSAGES", "0", "message", "attachments") {
		t.Error("an absent array must not appear in the tree")
	}
}

func TestParseFormScalarData(t *testing.T) {
	n := mustParseForm(t, "event=ONIMCONNECTORLINEDELETE&data=107&ts=1")
	if !n.Get("data").IsScalar() || n.Value("data") != "107" {
		t.Errorf("data = %s, want the scalar 107", mustJSON(t, n.Get("data")))
	}
}

func TestParseFormListOrder(t *testing.T) {
	n := mustParseForm(t, "a[2]=c&a[0]=a&a[10]=d&a[1]=b")
	got := n.Get("a").Values()
	want := []string{"a", "b", "c", "d"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("Values = %v, want %v in index order", got, want)
	}
	if got := mustJSON(t, n.Get("a")); got != `{"2":"c","0":"a","10":"d","1":"b"}` {
		t.Errorf("sparse list JSON = %s, want an object that keeps the indices", got)
	}
}

func TestParseFormAppend(t *testing.T) {
	n := mustParseForm(t, "id[]=x&id[]=y&id[5]=z&id[]=w")
	if got := n.Get("id").Keys(); strings.Join(got, ",") != "0,1,5,6" {
		t.Errorf("keys = %v, want 0,1,5,6 as PHP numbers appended elements", got)
	}
	if got := mustJSON(t, mustParseForm(t, "id[]=x&id[]=y")); got != `{"id":["x","y"]}` {
		t.Errorf("JSON = %s", got)
	}
}

func TestParseFormLaterPairWins(t *testing.T) {
	cases := []struct{ body, want string }{
		{"a=1&a=2", `{"a":"2"}`},
		{"a=1&a[b]=2", `{"a":{"b":"2"}}`},
		{"a[b]=2&a=1", `{"a":"1"}`},
		{"a[b]=1&c=3&a[b]=2", `{"a":{"b":"2"},"c":"3"}`},
	}
	for _, tc := range cases {
		if got := mustJSON(t, mustParseForm(t, tc.body)); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.body, got, tc.want)
		}
	}
}

func TestParseFormEdgeCases(t *testing.T) {
	cases := []struct{ body, want string }{
		{"", `{}`},
		{"&&a=1&", `{"a":"1"}`},
		{"flag", `{"flag":""}`},
		{"a=x=y", `{"a":"x=y"}`},
		{"a[01]=x", `{"a":{"01":"x"}}`},
		{"a[b[c]=1", `{"a":{"b[c":"1"}}`},
		{"k=%E2%9C%93", `{"k":"✓"}`},
	}
	for _, tc := range cases {
		if got := mustJSON(t, mustParseForm(t, tc.body)); got != tc.want {
			t.Errorf("%q: got %s, want %s", tc.body, got, tc.want)
		}
	}
}

func TestParseFormRejects(t *testing.T) {
	deep := "a" + strings.Repeat("[x]", 13) + "=1"
	cases := map[string]string{
		"unclosed bracket":     "a[b=1",
		"text after bracket":   "a[b]c=1",
		"bracket without name": "[a]=1",
		"stray close":          "a]=1",
		"empty key":            "=1",
		"bad key escape":       "a%zz=1",
		"bad value escape":     "a=%g1",
		"too deep":             deep,
		"long value":           "a=" + strings.Repeat("v", DefaultFormMaxValueBytes+1),
		"long key":             strings.Repeat("k", DefaultFormMaxKeyBytes+1) + "=1",
		"too many pairs":       strings.Repeat("a[]=1&", DefaultFormMaxPairs+1),
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := ParseForm(body, FormLimits{})
			if !errors.Is(err, ErrMalformedForm) {
				t.Fatalf("err = %v, want ErrMalformedForm", err)
			}
		})
	}
}

func TestParseFormCustomLimits(t *testing.T) {
	limits := FormLimits{MaxDepth: 2, MaxPairs: 2, MaxValueBytes: 3, MaxKeyBytes: 8}
	if _, err := ParseForm("a[b][c][d]=1", limits); err == nil {
		t.Error("MaxDepth 2 accepted a key with 3 bracket levels")
	}
	if _, err := ParseForm("a[b][c]=1", limits); err != nil {
		t.Errorf("MaxDepth 2 rejected a key with 2 bracket levels: %v", err)
	}
	if _, err := ParseForm("a=1&b=2&c=3", limits); err == nil {
		t.Error("MaxPairs 2 accepted three pairs")
	}
	if _, err := ParseForm("a=abcd", limits); err == nil {
		t.Error("MaxValueBytes 3 accepted four bytes")
	}
	if _, err := ParseForm("abcdefghi=1", limits); err == nil {
		t.Error("MaxKeyBytes 8 accepted nine bytes")
	}
}

func TestNodeNilSafe(t *testing.T) {
	var n *Node
	if n.Get("a") != nil || n.Value("a") != "" || n.Len() != 0 || n.Items() != nil || n.Values() != nil || n.Has() {
		t.Error("nil node must read as absent")
	}
	leaf := Scalar("x")
	if leaf.Get("a") != nil || leaf.Value() != "x" || leaf.Keys() != nil {
		t.Error("scalar node has no children")
	}
}

func TestNodeEncodeRoundTrip(t *testing.T) {
	body := "event=X&data[MESSAGES][0][message][id][0]=wa1&data[MESSAGES][0][message][id][1]=wa+2" +
		"&data[MESSAGES][0][chat][id]=wa%3A1&data[weird key]=a%26b%3Dc&auth[member_id]=m"
	first := mustParseForm(t, body)
	second := mustParseForm(t, first.Encode())
	if a, b := mustJSON(t, first), mustJSON(t, second); a != b {
		t.Errorf("round trip changed the tree:\n%s\n%s", a, b)
	}
}

func TestNodeJSONRoundTrip(t *testing.T) {
	first := mustParseForm(t, fixtureEvent(fixtureMessageAdd("acme_wa"), fixtureMember, fixtureAppToken))
	raw := mustJSON(t, first)
	var back Node
	if err := json.Unmarshal([]byte(raw), &back); err != nil {
		t.Fatal(err)
	}
	if got := mustJSON(t, &back); got != raw {
		t.Errorf("JSON round trip changed the tree:\n%s\n%s", raw, got)
	}
	if got := back.Value("data", "MESSAGES", "1", "message", "files", "0", "width"); got != "800" {
		t.Errorf("width = %q", got)
	}
}

func TestNodeFromJSONScalars(t *testing.T) {
	var n Node
	if err := json.Unmarshal([]byte(`{"b":true,"f":false,"z":null,"n":3.50,"l":[1,{"x":"y"}]}`), &n); err != nil {
		t.Fatal(err)
	}
	want := `{"b":"1","f":"","z":"","n":"3.50","l":["1",{"x":"y"}]}`
	if got := mustJSON(t, &n); got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	deep := strings.Repeat("[", 100) + strings.Repeat("]", 100)
	if err := json.Unmarshal([]byte(deep), &n); err == nil {
		t.Error("100 levels of nesting were accepted")
	}
}
