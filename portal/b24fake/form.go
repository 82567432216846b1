package b24fake

import (
	"encoding/json"
	"fmt"
	"net/url"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// EncodeForm encodes data as the Bitrix24 queue server posts events: PHP
// bracket keys (data[MESSAGES][0][im][chat_id]), every scalar as a string,
// true as "1" and false and nil as "", and empty lists and maps left out
// because PHP's http_build_query drops them. Maps, slices, structs are not
// accepted: only map[string]any, slices of any type and scalars.
func EncodeForm(data map[string]any) url.Values {
	out := url.Values{}
	for _, k := range sortedKeys(data) {
		encodeValue(out, k, data[k])
	}
	return out
}

func encodeValue(out url.Values, key string, v any) {
	switch t := v.(type) {
	case nil:
		out.Add(key, "")
	case string:
		out.Add(key, t)
	case bool:
		if t {
			out.Add(key, "1")
		} else {
			out.Add(key, "")
		}
	case json.Number:
		out.Add(key, t.String())
	case float64:
		out.Add(key, strconv.FormatFloat(t, 'f', -1, 64))
	case map[string]any:
		for _, k := range sortedKeys(t) {
			encodeValue(out, key+"["+k+"]", t[k])
		}
	default:
		rv := reflect.ValueOf(v)
		switch rv.Kind() {
		case reflect.Slice, reflect.Array:
			for i := 0; i < rv.Len(); i++ {
				encodeValue(out, key+"["+strconv.Itoa(i)+"]", rv.Index(i).Interface())
			}
		case reflect.Map:
			keys := rv.MapKeys()
			sort.Slice(keys, func(i, j int) bool { return fmt.Sprint(keys[i]) < fmt.Sprint(keys[j]) })
			for _, k := range keys {
				encodeValue(out, key+"["+fmt.Sprint(k.Interface())+"]", rv.MapIndex(k).Interface())
			}
		default:
			out.Add(key, fmt.Sprint(v))
		}
	}
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// DecodeForm turns PHP bracket keys into nested values the way PHP's
// parse_str does: a[b]=1 makes a map, a[]=1 appends, and a map whose keys
// are exactly 0..n-1 becomes a list. Every scalar stays a string.
func DecodeForm(values url.Values) map[string]any {
	root := map[string]any{}
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range values[k] {
			setPath(root, splitFormKey(k), v)
		}
	}
	for k, v := range root {
		root[k] = listify(v)
	}
	return root
}

func splitFormKey(key string) []string {
	i := strings.IndexByte(key, '[')
	if i <= 0 || !strings.HasSuffix(key, "]") {
		return []string{key}
	}
	return append([]string{key[:i]}, strings.Split(key[i+1:len(key)-1], "][")...)
}

func setPath(node map[string]any, path []string, value string) {
	for i, seg := range path {
		if seg == "" {
			seg = strconv.Itoa(len(node))
		}
		if i == len(path)-1 {
			node[seg] = value
			return
		}
		child, ok := node[seg].(map[string]any)
		if !ok {
			child = map[string]any{}
			node[seg] = child
		}
		node = child
	}
}

// listify turns maps keyed 0..n-1 into lists, recursively.
func listify(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	for k, child := range m {
		m[k] = listify(child)
	}
	if len(m) == 0 {
		return m
	}
	list := make([]any, len(m))
	for k, child := range m {
		i, err := strconv.Atoi(k)
		if err != nil || i < 0 || i >= len(m) || strconv.Itoa(i) != k {
			return m
		}
		list[i] = child
	}
	return list
}
