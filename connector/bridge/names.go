package bridge

import (
	"strings"
	"unicode"

	"github.com/wabridge/b24wa/connector"
)

// maxNameRunes is Bitrix24's limit for user.name and user.last_name.
const maxNameRunes = 25

// cleanName keeps what Bitrix24 accepts in a person's name: letters, spaces,
// hyphens and apostrophes. Emoji, digits and other symbols are removed and
// runs of spaces collapsed.
func cleanName(raw string) string {
	var b strings.Builder
	for _, r := range raw {
		switch {
		case unicode.IsLetter(r) || unicode.Is(unicode.Mn, r):
			b.WriteRune(r)
		case r == '-' || r == '\'' || r == '’':
			b.WriteRune(r)
		case unicode.IsSpace(r):
			b.WriteRune(' ')
		default:
			b.WriteRune(' ')
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// limitRunes cuts s to n runes on a word boundary when there is one.
func limitRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	cut := string(r[:n])
	if i := strings.LastIndex(cut, " "); i > 0 {
		cut = cut[:i]
	}
	return strings.TrimSpace(cut)
}

// splitName returns user.name and user.last_name for a WhatsApp push name:
// the first word and the rest, each within Bitrix24's limits. A name with no
// letters falls back to the phone number, and to nothing when that is
// unknown too (Bitrix24 then shows its default guest name).
func splitName(pushName, phone string) (first, last string) {
	clean := cleanName(pushName)
	if clean == "" {
		return phone, ""
	}
	first, last, _ = strings.Cut(clean, " ")
	return limitRunes(first, maxNameRunes), limitRunes(last, maxNameRunes)
}

// userBlock is the user object of imconnector.send.messages for a chat.
// The phone is set only for a real phone number, never for LID digits.
func userBlock(chat *connector.Chat) map[string]any {
	first, last := splitName(chat.PushName, chat.Phone)
	user := map[string]any{"id": chat.PersonID}
	if first != "" {
		user["name"] = first
	}
	if last != "" {
		user["last_name"] = last
	}
	if chat.Phone != "" {
		user["phone"] = chat.Phone
		user["skip_phone_validate"] = "Y"
		user["url"] = waMeURL(chat.Phone)
	}
	return user
}

// chatBlock is the chat object of imconnector.send.messages.
func chatBlock(chat *connector.Chat) map[string]any {
	block := map[string]any{"id": chat.PersonID}
	name := strings.TrimSpace(chat.PushName)
	if name == "" {
		name = chat.Phone
	}
	if name != "" {
		block["name"] = truncate(name, 100)
	}
	if chat.Phone != "" {
		block["url"] = waMeURL(chat.Phone)
	}
	return block
}

func waMeURL(phone string) string {
	return "https://wa.me/" + strings.TrimPrefix(phone, "+")
}
