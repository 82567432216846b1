// Package bbcode converts the BB-code that Bitrix24 puts into operator
// messages to the markup WhatsApp renders: *bold*, _italic_, ~strike~ and
// plain text for everything else. Underline has no WhatsApp form and is
// dropped, links become "text (url)", mentions keep only the name, and
// quote blocks delimited by lines of dashes become "> " lines.
package bbcode

import (
	"regexp"
	"strings"
)

// maxPasses bounds the repeated conversion that removes tags formed by the
// removal of others, such as "[[b]b]".
const maxPasses = 8

// knownTag matches every tag Bitrix24 chat messages use. Text in brackets
// that is not one of these, such as "[1]" or "[see above]", is kept.
var knownTag = regexp.MustCompile(`(?i)\[/?(?:b|i|u|s|url|br|user|chat|disk|send|put|icon|like|dislike|quote|code|color|size|img|attach|timestamp|context|call|pch|left|right|center|justify|list|\*)(?:=[^\[\]]*)?\]`)

// brTag matches a line break, which may also delimit quote blocks. It takes
// the one space that follows the break in Bitrix24's operator signature,
// "[b]Name:[/b][br] text", so that the text starts its line.
var brTag = regexp.MustCompile(`(?i)\[br\] ?`)

// dashLine matches a quote delimiter: a line of at least six dashes.
var dashLine = regexp.MustCompile(`^-{6,}$`)

// ToWhatsApp converts Bitrix24 BB-code to WhatsApp markup. It never fails:
// unbalanced tags are dropped, and the result contains no known tag.
func ToWhatsApp(text string) string {
	if !strings.ContainsAny(text, "[-") {
		return text
	}
	out := convertQuotes(brTag.ReplaceAllString(text, "\n"))
	for range maxPasses {
		if !knownTag.MatchString(out) {
			return out
		}
		out = render(parse(out))
	}
	// A pathological input can still form tags after many passes; break
	// their brackets so that nothing of the markup reaches the customer.
	return knownTag.ReplaceAllStringFunc(out, func(tag string) string {
		return "(" + strings.Trim(tag, "[]") + ")"
	})
}

// ToPlain converts BB-code to plain text without WhatsApp markup, for
// excerpts and notes.
func ToPlain(text string) string {
	out := ToWhatsApp(text)
	return strings.NewReplacer("*", "", "_", "", "~", "").Replace(out)
}

// convertQuotes turns Bitrix24 quote blocks into WhatsApp quotes. A block is
// the lines between two dash lines; a dash line without a partner is kept.
func convertQuotes(text string) string {
	lines := strings.Split(text, "\n")
	var out []string
	for i := 0; i < len(lines); i++ {
		if !dashLine.MatchString(strings.TrimSpace(lines[i])) {
			out = append(out, lines[i])
			continue
		}
		end := -1
		for j := i + 1; j < len(lines); j++ {
			if dashLine.MatchString(strings.TrimSpace(lines[j])) {
				end = j
				break
			}
		}
		if end < 0 {
			out = append(out, lines[i])
			continue
		}
		for _, q := range lines[i+1 : end] {
			out = append(out, "> "+q)
		}
		i = end
	}
	return strings.Join(out, "\n")
}
