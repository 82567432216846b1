package wa

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"go.mau.fi/whatsmeow"
)

// serverErrorReachoutTimelock is the code WhatsApp returns in a message ack
// when the number may not start new chats (reach-out timelock).
const serverErrorReachoutTimelock = 463

// noLIDText starts the error whatsmeow's SendMessage returns when the server
// has no LID for a phone number. whatsmeow (2025-12) builds it with
// fmt.Errorf and no sentinel, so only the text can be matched.
const noLIDText = "no LID found for "

// ServerErrorCode returns the code of an error that whatsmeow's SendMessage
// built as "server returned error <code>" (wrapping
// whatsmeow.ErrServerReturnedError), or 0 for any other error.
func ServerErrorCode(err error) int {
	if !errors.Is(err, whatsmeow.ErrServerReturnedError) {
		return 0
	}
	text := err.Error()
	prefix := whatsmeow.ErrServerReturnedError.Error() + " "
	at := strings.LastIndex(text, prefix)
	if at < 0 {
		return 0
	}
	rest := text[at+len(prefix):]
	if end := strings.IndexFunc(rest, func(r rune) bool { return r < '0' || r > '9' }); end >= 0 {
		rest = rest[:end]
	}
	code, err := strconv.Atoi(rest)
	if err != nil {
		return 0
	}
	return code
}

// ClassifySendError wraps an error of whatsmeow's SendMessage with the
// matching sentinel of this package (ErrReachoutTimelock, ErrNoLID), keeping
// the original in the chain. Other errors, and nil, are returned unchanged.
func ClassifySendError(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, ErrReachoutTimelock) || errors.Is(err, ErrNoLID) {
		return err
	}
	if ServerErrorCode(err) == serverErrorReachoutTimelock {
		return fmt.Errorf("%w: %w", ErrReachoutTimelock, err)
	}
	if strings.Contains(err.Error(), noLIDText) {
		return fmt.Errorf("%w: %w", ErrNoLID, err)
	}
	return err
}

// NotOnWhatsApp marks a send error as caused by a recipient that is not
// registered on WhatsApp, keeping err in the chain.
func NotOnWhatsApp(err error) error {
	return fmt.Errorf("%w: %w", ErrNotOnWhatsApp, err)
}
