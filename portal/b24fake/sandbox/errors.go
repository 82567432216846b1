package sandbox

import (
	"fmt"
	"net/http"
)

// problem is an action that failed because of the request or the state of
// the sandbox. It carries the HTTP status of writeError's response and a
// message that the page shows as it is.
type problem struct {
	status  int
	message string
}

func (p *problem) Error() string { return p.message }

// badRequest reports a malformed or incomplete request body (400).
func badRequest(format string, args ...any) error {
	return &problem{status: http.StatusBadRequest, message: fmt.Sprintf(format, args...)}
}

// conflict reports an action that the current state does not allow, such as
// writing to the business number before one is linked (409).
func conflict(format string, args ...any) error {
	return &problem{status: http.StatusConflict, message: fmt.Sprintf(format, args...)}
}
