package portal

import (
	"bytes"
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Node is one value of a parsed form: either a string scalar or a map of
// named children. PHP has no separate list type, so a list is a map whose
// keys are array indices ("0", "1", ...); Items returns them in index order.
// Every method accepts a nil *Node and treats it as absent, so optional
// paths can be read without checks.
type Node struct {
	value    string
	isMap    bool
	keys     []string // insertion order
	children map[string]*Node
	next     int // next index for an appended "[]" element, as PHP counts it
}

func newMap() *Node {
	return &Node{isMap: true, children: map[string]*Node{}}
}

// Scalar returns a leaf node holding value, for building trees in code.
func Scalar(value string) *Node { return &Node{value: value} }

// Get returns the node at path below n, or nil when any step is missing or
// is a scalar.
func (n *Node) Get(path ...string) *Node {
	for _, key := range path {
		if n == nil || !n.isMap {
			return nil
		}
		n = n.children[key]
	}
	return n
}

// Value returns the scalar at path below n, or "" when it is absent or a map.
func (n *Node) Value(path ...string) string {
	n = n.Get(path...)
	if n == nil || n.isMap {
		return ""
	}
	return n.value
}

// Has reports whether path exists below n.
func (n *Node) Has(path ...string) bool { return n.Get(path...) != nil }

// IsMap reports whether n has children.
func (n *Node) IsMap() bool { return n != nil && n.isMap }

// IsScalar reports whether n is a string leaf.
func (n *Node) IsScalar() bool { return n != nil && !n.isMap }

// Len returns the number of children of a map, 0 otherwise.
func (n *Node) Len() int {
	if !n.IsMap() {
		return 0
	}
	return len(n.keys)
}

// Keys returns the child keys of a map in the order they first appeared.
func (n *Node) Keys() []string {
	if !n.IsMap() {
		return nil
	}
	return slices.Clone(n.keys)
}

// Items returns the children of a map: in index order when every key is an
// array index (gaps are kept out, not filled), otherwise in the order the
// keys first appeared. A scalar or nil node has no items.
func (n *Node) Items() []*Node {
	if !n.IsMap() {
		return nil
	}
	keys := n.keys
	if n.isList() {
		keys = slices.Clone(keys)
		slices.SortFunc(keys, func(a, b string) int { return indexOf(a) - indexOf(b) })
	}
	items := make([]*Node, 0, len(keys))
	for _, k := range keys {
		items = append(items, n.children[k])
	}
	return items
}

// Values returns the scalars of n: the value itself for a scalar, or the
// scalar items of a map in Items order. Bitrix24 sends some fields, such as
// message.id, as a scalar in one event and a list in another.
func (n *Node) Values() []string {
	if n == nil {
		return nil
	}
	if !n.isMap {
		return []string{n.value}
	}
	var out []string
	for _, item := range n.Items() {
		if item.IsScalar() {
			out = append(out, item.value)
		}
	}
	return out
}

func (n *Node) isList() bool {
	for _, k := range n.keys {
		if indexOf(k) < 0 {
			return false
		}
	}
	return true
}

// indexOf returns k as an array index, or -1 when k is not one. PHP treats
// only canonical decimal integers as integer keys, so "01" stays a string.
func indexOf(k string) int {
	if k == "" || len(k) > 9 || (len(k) > 1 && k[0] == '0') {
		return -1
	}
	i, err := strconv.Atoi(k)
	if err != nil || i < 0 {
		return -1
	}
	return i
}

// set stores value at path, creating maps on the way. An empty segment
// appends at the next free index; a scalar in the way is replaced by a map.
func (n *Node) set(path []string, value string) {
	for i, key := range path {
		if key == "" {
			key = strconv.Itoa(n.next)
		}
		if i == len(path)-1 {
			n.put(key, &Node{value: value})
			return
		}
		child := n.children[key]
		if child == nil || !child.isMap {
			child = newMap()
			n.put(key, child)
		}
		n = child
	}
}

func (n *Node) put(key string, child *Node) {
	if _, ok := n.children[key]; !ok {
		n.keys = append(n.keys, key)
	}
	n.children[key] = child
	if i := indexOf(key); i >= n.next {
		n.next = i + 1
	}
}

// Encode returns n as a form body with bracket keys, the inverse of
// ParseForm for any tree it returns. Keys keep their first-seen order.
func (n *Node) Encode() string {
	var parts []string
	for _, k := range n.Keys() {
		parts = n.children[k].encodeInto(parts, k)
	}
	return strings.Join(parts, "&")
}

func (n *Node) encodeInto(parts []string, prefix string) []string {
	if !n.isMap {
		return append(parts, url.QueryEscape(prefix)+"="+url.QueryEscape(n.value))
	}
	for _, k := range n.keys {
		parts = n.children[k].encodeInto(parts, prefix+"["+k+"]")
	}
	return parts
}

// MarshalJSON renders scalars as strings, maps whose keys are exactly
// 0..n-1 as arrays and other maps as objects in first-seen key order, so an
// event can be stored as JSON and read back with the same shape.
func (n *Node) MarshalJSON() ([]byte, error) {
	if n == nil {
		return []byte("null"), nil
	}
	if !n.isMap {
		return json.Marshal(n.value)
	}
	var buf bytes.Buffer
	if n.isDenseList() {
		buf.WriteByte('[')
		for i, item := range n.Items() {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := writeJSON(&buf, item); err != nil {
				return nil, err
			}
		}
		buf.WriteByte(']')
		return buf.Bytes(), nil
	}
	buf.WriteByte('{')
	for i, k := range n.keys {
		if i > 0 {
			buf.WriteByte(',')
		}
		name, _ := json.Marshal(k)
		buf.Write(name)
		buf.WriteByte(':')
		if err := writeJSON(&buf, n.children[k]); err != nil {
			return nil, err
		}
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

func writeJSON(buf *bytes.Buffer, n *Node) error {
	raw, err := n.MarshalJSON()
	if err != nil {
		return err
	}
	buf.Write(raw)
	return nil
}

func (n *Node) isDenseList() bool {
	if len(n.keys) == 0 || !n.isList() {
		return false
	}
	for _, k := range n.keys {
		if indexOf(k) >= len(n.keys) {
			return false
		}
	}
	return true
}
