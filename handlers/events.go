package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/wabridge/b24wa/portal"
)

// event handles POST /events. It returns 200 only after the event was
// verified and, for connector events, stored by the sink. Bitrix24 never
// sends an event again, so a 500 here means the event is lost and is logged
// as an error. Rejected events get a JSON error naming the reason and change
// nothing.
func (h *portalHandlers) event(c echo.Context) error {
	form, err := readForm(c, h.deps.MaxEventBytes, h.deps.FormLimits)
	if err != nil {
		return h.rejectEvent(c, nil, err)
	}
	ev, err := portal.DecodeEvent(form)
	if err != nil {
		return h.rejectEvent(c, nil, err)
	}
	return h.dispatch(c, ev)
}

// dispatch hands a decoded event to the EventHandler and writes the response.
func (h *portalHandlers) dispatch(c echo.Context, ev *portal.Event) error {
	if err := h.deps.Events.HandleEvent(c.Request().Context(), ev); err != nil {
		return h.rejectEvent(c, ev, err)
	}
	return c.JSON(http.StatusOK, map[string]string{"result": "ok"})
}

// rejectEvent logs a refused event as a security event and returns err for
// errorHandler. Failures of our own (status 500 and above) are logged there.
func (h *portalHandlers) rejectEvent(c echo.Context, ev *portal.Event, err error) error {
	status, _, _ := classify(err)
	if status >= http.StatusInternalServerError {
		return err
	}
	attrs := []any{"remote_ip", c.RealIP(), "status", status, "error", err}
	if ev != nil {
		attrs = append(attrs, "event", ev.Name, "member_id", ev.Auth.MemberID)
	}
	h.deps.Log.WarnContext(c.Request().Context(), "Rejected a Bitrix24 event", attrs...)
	return err
}
