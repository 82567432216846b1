package portal

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// EncodeQuery encodes params as PHP's http_build_query does, which is how
// batch commands carry their parameters: nested maps and lists become
// bracket keys (FIELDS[TITLE]=x, IDS[0]=1), true becomes 1, false 0 and null
// is left out. params is first encoded to JSON, so structs with json tags work.
func EncodeQuery(params any) (string, error) {
	data, err := json.Marshal(params)
	if err != nil {
		return "", fmt.Errorf("encode query: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return "", fmt.Errorf("encode query: %w", err)
	}
	root, ok := tree.(map[string]any)
	if !ok {
		if tree == nil {
			return "", nil
		}
		return "", fmt.Errorf("encode query: %T does not encode to an object", params)
	}
	var pairs []string
	for _, k := range sortedKeys(root) {
		pairs = appendQuery(pairs, k, root[k])
	}
	return strings.Join(pairs, "&"), nil
}

func appendQuery(pairs []string, key string, v any) []string {
	switch t := v.(type) {
	case nil:
		return pairs
	case map[string]any:
		for _, k := range sortedKeys(t) {
			pairs = appendQuery(pairs, key+"["+k+"]", t[k])
		}
		return pairs
	case []any:
		for i, item := range t {
			pairs = appendQuery(pairs, key+"["+strconv.Itoa(i)+"]", item)
		}
		return pairs
	case bool:
		if t {
			return append(pairs, url.QueryEscape(key)+"=1")
		}
		return append(pairs, url.QueryEscape(key)+"=0")
	case json.Number:
		return append(pairs, url.QueryEscape(key)+"="+url.QueryEscape(t.String()))
	case string:
		return append(pairs, url.QueryEscape(key)+"="+url.QueryEscape(t))
	}
	return append(pairs, url.QueryEscape(key)+"="+url.QueryEscape(fmt.Sprint(v)))
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
