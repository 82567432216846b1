package wa

import (
	"fmt"
	"strings"
)

// Limits of a phone number in international form, in digits including the
// country code. The maximum is E.164's; the minimum is whatsmeow's PairPhone
// check (it rejects 6 digits or fewer).
const (
	minPhoneDigits = 7
	maxPhoneDigits = 15
)

// NormalizePhone turns a phone number typed by a person into the digits-only
// international form WhatsApp uses, for example "+7 912 345-67-89" and
// "8 (912) 345-67-89" both into "79123456789". Spaces, brackets, dashes,
// dots and one leading plus are accepted. An 11-digit number starting with 8
// and written without a plus is a Russian national number and gets the
// country code 7. It returns ErrPhoneInvalid, ErrPhoneTooShort,
// ErrPhoneTooLong or ErrPhoneNotInternational, wrapped with the input.
func NormalizePhone(raw string) (string, error) {
	trimmed := strings.TrimSpace(raw)
	plus := strings.HasPrefix(trimmed, "+")
	if plus {
		trimmed = trimmed[1:]
	}

	var digits strings.Builder
	for _, r := range trimmed {
		switch {
		case r >= '0' && r <= '9':
			digits.WriteRune(r)
		case r == ' ' || r == '-' || r == '(' || r == ')' || r == '.' || r == '\u00a0':
		default:
			return "", fmt.Errorf("%w: %q", ErrPhoneInvalid, raw)
		}
	}
	phone := digits.String()

	if !plus && len(phone) == 11 && phone[0] == '8' {
		phone = "7" + phone[1:]
	}
	switch {
	case len(phone) < minPhoneDigits:
		return "", fmt.Errorf("%w: %q has %d digits", ErrPhoneTooShort, raw, len(phone))
	case len(phone) > maxPhoneDigits:
		return "", fmt.Errorf("%w: %q has %d digits", ErrPhoneTooLong, raw, len(phone))
	case phone[0] == '0':
		return "", fmt.Errorf("%w: %q", ErrPhoneNotInternational, raw)
	}
	return phone, nil
}
