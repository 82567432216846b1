package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
)

// maxRequestBytes bounds the JSON body of an action.
const maxRequestBytes = 64 << 10

// readJSON decodes the request body into v. On failure it has written a 400
// response and returns false.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	body := http.MaxBytesReader(w, r.Body, maxRequestBytes)
	if err := json.NewDecoder(body).Decode(v); err != nil {
		writeError(w, badRequest("the request body is not a JSON object: %v", err))
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// fail writes the error response of an action and logs the failures that
// are not the request's fault.
func (s *Sandbox) fail(w http.ResponseWriter, r *http.Request, err error) {
	if status := writeError(w, err); status >= http.StatusInternalServerError {
		s.log.Warn("Sandbox action failed", "path", r.URL.Path, "status", status, "error", err)
	}
}

// writeError writes {"error": message} with the status that fits err and
// returns the status. The simulator's own 4xx responses keep their status,
// and its other failures are 502.
func writeError(w http.ResponseWriter, err error) int {
	status := http.StatusInternalServerError
	message := err.Error()
	var ae *appError
	var p *problem
	switch {
	case errors.As(err, &p):
		status = p.status
	case errors.As(err, &ae) && ae.Status >= 400 && ae.Status < 500:
		status, message = ae.Status, "WhatsApp simulator: "+ae.Message
	case errors.As(err, &ae), errors.Is(err, context.DeadlineExceeded):
		status = http.StatusBadGateway
	}
	writeJSON(w, status, map[string]string{"error": message})
	return status
}
