package portal

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
)

// UnmarshalJSON reads a tree written by MarshalJSON, or any JSON value, into
// the shape ParseForm returns. Arrays become maps keyed "0", "1", ... and
// numbers keep their text. True becomes "1" and false and null become "",
// as PHP's form encoding writes them. Object keys keep their order.
func (n *Node) UnmarshalJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("decode form tree: %w", err)
	}
	parsed, err := decodeNode(dec, tok, 0)
	if err != nil {
		return fmt.Errorf("decode form tree: %w", err)
	}
	*n = *parsed
	return nil
}

// maxJSONDepth bounds nesting when decoding, like FormLimits.MaxDepth.
const maxJSONDepth = 64

func decodeNode(dec *json.Decoder, tok json.Token, depth int) (*Node, error) {
	if depth > maxJSONDepth {
		return nil, fmt.Errorf("nesting deeper than %d levels", maxJSONDepth)
	}
	switch v := tok.(type) {
	case json.Delim:
		return decodeContainer(dec, v, depth)
	case string:
		return &Node{value: v}, nil
	case json.Number:
		return &Node{value: v.String()}, nil
	case bool:
		if v {
			return &Node{value: "1"}, nil
		}
		return &Node{}, nil
	case nil:
		return &Node{}, nil
	}
	return nil, fmt.Errorf("unexpected token %v", tok)
}

func decodeContainer(dec *json.Decoder, open json.Delim, depth int) (*Node, error) {
	n := newMap()
	for i := 0; dec.More(); i++ {
		key := strconv.Itoa(i)
		if open == '{' {
			tok, err := dec.Token()
			if err != nil {
				return nil, err
			}
			key, _ = tok.(string)
		}
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		child, err := decodeNode(dec, tok, depth+1)
		if err != nil {
			return nil, err
		}
		n.put(key, child)
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	return n, nil
}
