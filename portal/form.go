package portal

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// ErrMalformedForm is returned by ParseForm for a body that is not a valid
// application/x-www-form-urlencoded document with PHP bracket keys, or that
// exceeds the parser's limits. The wrapped message names the pair at fault.
var ErrMalformedForm = errors.New("malformed form body")

// FormLimits bound what ParseForm accepts, so that a forged body cannot make
// the parser allocate without limit. Zero fields take the defaults.
type FormLimits struct {
	// MaxDepth is the maximum number of bracket segments in one key:
	// data[MESSAGES][0][message][files][0][link] has 6.
	MaxDepth int
	// MaxPairs is the maximum number of name=value pairs in the body.
	MaxPairs int
	// MaxKeyBytes is the maximum length of one decoded key.
	MaxKeyBytes int
	// MaxValueBytes is the maximum length of one decoded value.
	MaxValueBytes int
}

// Default form limits. PHP itself allows 1000 input variables and 64 levels
// of nesting; the events we bind nest at most 6 levels deep.
const (
	DefaultFormMaxDepth      = 12
	DefaultFormMaxPairs      = 2000
	DefaultFormMaxKeyBytes   = 512
	DefaultFormMaxValueBytes = 512 << 10
)

func (l FormLimits) withDefaults() FormLimits {
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultFormMaxDepth
	}
	if l.MaxPairs <= 0 {
		l.MaxPairs = DefaultFormMaxPairs
	}
	if l.MaxKeyBytes <= 0 {
		l.MaxKeyBytes = DefaultFormMaxKeyBytes
	}
	if l.MaxValueBytes <= 0 {
		l.MaxValueBytes = DefaultFormMaxValueBytes
	}
	return l
}

// ParseForm decodes a form body the way PHP builds $_POST: the key
// a[b][0]=x sets the path a → b → 0 in a tree, a[]=x appends to a list and a
// later pair replaces an earlier one on the same path. Every scalar stays a
// string, and an empty array does not appear at all because PHP does not
// encode it. Pairs are separated by '&' only. Keys with unbalanced brackets,
// text after a closing bracket, bad percent escapes and bodies past limits
// are rejected with ErrMalformedForm.
func ParseForm(body string, limits FormLimits) (*Node, error) {
	limits = limits.withDefaults()
	root := newMap()
	pairs := 0
	for len(body) > 0 {
		var pair string
		pair, body, _ = strings.Cut(body, "&")
		if pair == "" {
			continue
		}
		pairs++
		if pairs > limits.MaxPairs {
			return nil, fmt.Errorf("%w: more than %d pairs", ErrMalformedForm, limits.MaxPairs)
		}
		if err := parsePair(root, pair, pairs, limits); err != nil {
			return nil, err
		}
	}
	return root, nil
}

func parsePair(root *Node, pair string, index int, limits FormLimits) error {
	rawKey, rawValue, _ := strings.Cut(pair, "=")
	if len(rawKey) > 3*limits.MaxKeyBytes {
		return fmt.Errorf("%w: key of pair %d is longer than %d bytes", ErrMalformedForm, index, limits.MaxKeyBytes)
	}
	key, err := url.QueryUnescape(rawKey)
	if err != nil {
		return fmt.Errorf("%w: key of pair %d: %v", ErrMalformedForm, index, err)
	}
	if len(key) > limits.MaxKeyBytes {
		return fmt.Errorf("%w: key of pair %d is longer than %d bytes", ErrMalformedForm, index, limits.MaxKeyBytes)
	}
	if len(rawValue) > 3*limits.MaxValueBytes {
		return fmt.Errorf("%w: value of %q is longer than %d bytes", ErrMalformedForm, key, limits.MaxValueBytes)
	}
	value, err := url.QueryUnescape(rawValue)
	if err != nil {
		return fmt.Errorf("%w: value of %q: %v", ErrMalformedForm, key, err)
	}
	if len(value) > limits.MaxValueBytes {
		return fmt.Errorf("%w: value of %q is longer than %d bytes", ErrMalformedForm, key, limits.MaxValueBytes)
	}

	if key == "" {
		return fmt.Errorf("%w: pair %d has an empty key", ErrMalformedForm, index)
	}
	path, err := splitKey(key, limits.MaxDepth)
	if err != nil {
		return fmt.Errorf("%w: key %q: %v", ErrMalformedForm, key, err)
	}
	root.set(path, value)
	return nil
}

// splitKey turns "a[b][]" into ["a", "b", ""], where "" means append.
func splitKey(key string, maxDepth int) ([]string, error) {
	open := strings.IndexByte(key, '[')
	if open < 0 {
		if strings.IndexByte(key, ']') >= 0 {
			return nil, errors.New("']' without '['")
		}
		return []string{key}, nil
	}
	if open == 0 {
		return nil, errors.New("name before '[' is empty")
	}
	path := []string{key[:open]}
	rest := key[open:]
	for rest != "" {
		if rest[0] != '[' {
			return nil, fmt.Errorf("unexpected %q after ']'", rest)
		}
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return nil, errors.New("'[' is not closed")
		}
		if len(path) > maxDepth {
			return nil, fmt.Errorf("more than %d bracket levels", maxDepth)
		}
		path = append(path, rest[1:end])
		rest = rest[end+1:]
	}
	return path, nil
}
