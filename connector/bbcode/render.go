package bbcode

import (
	"strings"
	"unicode"
)

// token is a run of text or one known tag.
type token struct {
	text    string // the raw text, or the tag as written
	tag     string // lower-case tag name; empty for text
	arg     string // the value after "=", for [url=...] and friends
	closing bool
	partner int // index of the matching tag, -1 when unbalanced
}

// parse splits text into text runs and known tags and pairs each opening tag
// with its closing tag. Closing a tag also closes the tags opened inside it,
// so "[b][i]x[/b][/i]" pairs [b] with [/b] and leaves [i] and [/i] unpaired.
func parse(text string) []token {
	var toks []token
	last := 0
	for _, m := range knownTag.FindAllStringIndex(text, -1) {
		if m[0] > last {
			toks = append(toks, token{text: text[last:m[0]], partner: -1})
		}
		toks = append(toks, tagToken(text[m[0]:m[1]]))
		last = m[1]
	}
	if last < len(text) {
		toks = append(toks, token{text: text[last:], partner: -1})
	}
	pair(toks)
	return toks
}

func tagToken(raw string) token {
	body := strings.Trim(raw, "[]")
	t := token{text: raw, partner: -1}
	if strings.HasPrefix(body, "/") {
		t.closing = true
		body = body[1:]
	}
	name, arg, _ := strings.Cut(body, "=")
	t.tag = strings.ToLower(name)
	t.arg = arg
	return t
}

func pair(toks []token) {
	var stack []int
	for i := range toks {
		t := &toks[i]
		if t.tag == "" || selfClosing(t.tag) {
			continue
		}
		if !t.closing {
			stack = append(stack, i)
			continue
		}
		for k := len(stack) - 1; k >= 0; k-- {
			if toks[stack[k]].tag == t.tag {
				toks[stack[k]].partner = i
				t.partner = stack[k]
				stack = stack[:k]
				break
			}
		}
	}
}

// selfClosing lists tags that never take a closing tag.
func selfClosing(tag string) bool {
	switch tag {
	case "br", "icon", "like", "dislike", "disk", "timestamp", "attach", "*":
		return true
	}
	return false
}

// render writes the WhatsApp form of the tokens.
func render(toks []token) string {
	return renderRange(toks, 0, len(toks))
}

// renderRange renders toks[lo:hi]; partner indexes stay absolute.
func renderRange(toks []token, lo, hi int) string {
	var b strings.Builder
	for i := lo; i < hi; i++ {
		t := toks[i]
		switch {
		case t.tag == "":
			b.WriteString(t.text)
		case selfClosing(t.tag):
			b.WriteString(selfClosingText(t))
		case t.closing || t.partner < 0:
			// A closing tag was handled with its opening tag; an unpaired
			// tag is dropped.
		default:
			inner := renderRange(toks, i+1, t.partner)
			b.WriteString(pairText(t, inner))
			i = t.partner
		}
	}
	return b.String()
}

func selfClosingText(t token) string {
	switch t.tag {
	case "br":
		return "\n"
	case "like":
		return "👍"
	case "dislike":
		return "👎"
	case "*":
		return "• "
	}
	return ""
}

// pairText renders a paired tag around its already rendered content.
func pairText(t token, inner string) string {
	switch t.tag {
	case "b":
		return wrap(inner, "*")
	case "i":
		return wrap(inner, "_")
	case "s":
		return wrap(inner, "~")
	case "code":
		return wrap(inner, "```")
	case "quote":
		return quoteLines(inner)
	case "url":
		return link(t.arg, inner)
	case "send", "put":
		if strings.TrimSpace(inner) == "" {
			return t.arg
		}
	}
	return inner
}

// wrap puts WhatsApp markers around the text. WhatsApp renders a marker only
// next to a non-space character, so surrounding spaces stay outside.
func wrap(s, marker string) string {
	core := strings.TrimFunc(s, unicode.IsSpace)
	if core == "" {
		return s
	}
	start := strings.Index(s, core)
	return s[:start] + marker + core + marker + s[start+len(core):]
}

func link(target, text string) string {
	target = strings.TrimSpace(target)
	text = strings.TrimSpace(text)
	switch {
	case target == "":
		return text
	case text == "" || text == target:
		return target
	}
	return text + " (" + target + ")"
}

func quoteLines(s string) string {
	lines := strings.Split(strings.Trim(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = "> " + l
	}
	return strings.Join(lines, "\n")
}
