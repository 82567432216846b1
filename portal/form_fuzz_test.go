package portal

import (
	"reflect"
	"testing"

	"github.com/wabridge/b24wa/portal/b24fake"
)

// fuzzSeeds are the documented payloads in wire form, plus shapes the
// parser must reject.
func fuzzSeeds() []string {
	const connector = "acme_wa"
	return []string{
		fixtureEvent(fixtureMessageAdd(connector), fixtureMember, fixtureAppToken),
		fixtureBody(fixtureMessageUpdate(connector)...),
		fixtureBody(fixtureMessageDelete(connector)...),
		fixtureBody(fixtureDialogFinish(connector)...),
		fixtureBody(fixtureStatusDelete(connector)...),
		fixtureBody(fixtureLineDelete()...),
		fixtureEvent(fixtureAppInstall(), fixtureMember, fixtureAppToken),
		fixtureEvent(fixtureAppUpdate(), fixtureMember, fixtureAppToken),
		fixtureAppUninstall(fixtureMember, fixtureAppToken, "1"),
		fixtureAppPayment(fixtureMember),
		fixtureInstallerBody(),
		fixtureSettingConnectorBody(),
		"a[]=1&a[]=2&a[5]=x&a[]=y",
		"a=1&a[b]=2&a[b][c]=3&a=4",
		"a[b=1", "a[b]c=1", "[x]=1", "%zz=1", "a=%", "a[b[c]]=1", ";a=1;b=2",
	}
}

// FuzzParseForm checks that ParseForm never panics, and that any tree it
// returns survives encoding by Node.Encode and by b24fake.EncodeForm.
func FuzzParseForm(f *testing.F) {
	for _, seed := range fuzzSeeds() {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		tree, err := ParseForm(body, FormLimits{})
		if err != nil {
			return
		}
		want := treeMap(tree)

		again, err := ParseForm(tree.Encode(), FormLimits{})
		if err != nil {
			t.Fatalf("Encode output does not parse: %v\n%s", err, tree.Encode())
		}
		if got := treeMap(again); !reflect.DeepEqual(got, want) {
			t.Fatalf("Node.Encode round trip changed the tree:\n got %v\nwant %v", got, want)
		}

		fake, err := ParseForm(b24fake.EncodeForm(want).Encode(), FormLimits{})
		if err != nil {
			t.Fatalf("b24fake.EncodeForm output does not parse: %v", err)
		}
		if got := treeMap(fake); !reflect.DeepEqual(got, want) {
			t.Fatalf("b24fake.EncodeForm round trip changed the tree:\n got %v\nwant %v", got, want)
		}
	})
}

// treeMap converts a map node into nested map[string]any with string
// leaves, the shape b24fake.EncodeForm takes.
func treeMap(n *Node) map[string]any {
	out := make(map[string]any, n.Len())
	for _, k := range n.Keys() {
		child := n.Get(k)
		if child.IsMap() {
			out[k] = treeMap(child)
		} else {
			out[k] = child.Value()
		}
	}
	return out
}
