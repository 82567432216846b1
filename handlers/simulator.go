package handlers

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"go.mau.fi/whatsmeow/types/events"

	"github.com/wabridge/b24wa/connector/wa/simulator"
)

// RegisterSimulator mounts the WhatsApp simulator's control API under
// /simulator. The app mounts it only when WHATSAPP_BACKEND=simulator: the
// routes have no authentication because they play the customers' phones.
// Every route takes and returns JSON; errors are {"error": "..."} with 400
// for malformed input, 404 for an unknown code or number, 409 for a number
// the app rejected or a phone that already has a passkey prompt open.
// With "passkey": true, scan and pair-code play an account that must
// confirm the link with a passkey: they return 202 once the app got the
// passkey step, and POST /simulator/passkey plays the phone confirming or
// rejecting the prompt.
//
//	POST /simulator/scan       {"qr", "phone", "push_name", "passkey"} → {"jid"}, or 202 {"step": "passkey"}
//	POST /simulator/pair-code  {"code", "phone", "push_name", "passkey"} → {"jid"}, or 202 {"step": "passkey"}
//	POST /simulator/passkey    {"phone", "approve": bool} → {"jid"} when approved, {} when refused
//	GET  /simulator/qr         → {"qr"} the newest running pairing's code
//	POST /simulator/inbound    simulator.InboundMessage → {"id"}
//	GET  /simulator/outbound?from=<linked number> → [simulator.OutboundMessage]
//	GET  /simulator/read-marks?from=<linked number> → [simulator.ReadMark]
//	POST /simulator/read       {"phone", "from" or "lid", "ids"} → {}
//	POST /simulator/logout     {"phone"} → {}
//	POST /simulator/drop       {"phone"} (optional) → {"dropped"}
//	POST /simulator/ban        {"phone", "code" (101-106), "expire_seconds"} → {}
//	POST /simulator/outdated   {"outdated": bool} → {}
//	POST /simulator/replace    {"phone"} → {"replaced"}
//	POST /simulator/send-failure {"phone", "failure": not_on_whatsapp|reachout_timelock|no_lid|""} → {}
//	GET  /simulator/state      → simulator.State
func RegisterSimulator(e *echo.Echo, sim *simulator.Simulator) {
	h := simulatorHandlers{sim: sim}
	g := e.Group("/simulator")
	g.POST("/scan", h.scan)
	g.POST("/pair-code", h.pairCode)
	g.POST("/passkey", h.passkey)
	g.GET("/qr", h.latestQR)
	g.POST("/inbound", h.inbound)
	g.GET("/outbound", h.outbound)
	g.GET("/read-marks", h.readMarks)
	g.POST("/read", h.read)
	g.POST("/logout", h.logout)
	g.POST("/drop", h.drop)
	g.POST("/ban", h.ban)
	g.POST("/outdated", h.outdated)
	g.POST("/replace", h.replace)
	g.POST("/send-failure", h.sendFailure)
	g.GET("/state", h.state)
}

type simulatorHandlers struct {
	sim *simulator.Simulator
}

type simPairRequest struct {
	QR       string `json:"qr"`
	Code     string `json:"code"`
	Phone    string `json:"phone"`
	PushName string `json:"push_name"`
	Passkey  bool   `json:"passkey"`
}

type simPasskeyRequest struct {
	Phone   string `json:"phone"`
	Approve *bool  `json:"approve"`
}

type simPhoneRequest struct {
	Phone         string `json:"phone"`
	Code          int    `json:"code"`
	ExpireSeconds int    `json:"expire_seconds"`
	Outdated      bool   `json:"outdated"`
	Failure       string `json:"failure"`
}

func (h simulatorHandlers) scan(c echo.Context) error {
	var req simPairRequest
	if err := c.Bind(&req); err != nil {
		return simError(c, http.StatusBadRequest, "request body is not valid JSON: "+err.Error())
	}
	if req.QR == "" {
		return simError(c, http.StatusBadRequest, "qr is required")
	}
	if req.Passkey {
		return passkeyAsked(c, h.sim.ScanWithPasskey(req.QR, req.Phone, req.PushName))
	}
	jid, err := h.sim.Scan(req.QR, req.Phone, req.PushName)
	if err != nil {
		return simFailure(c, err)
	}
	return c.JSON(http.StatusOK, map[string]string{"jid": jid.String()})
}

func (h simulatorHandlers) pairCode(c echo.Context) error {
	var req simPairRequest
	if err := c.Bind(&req); err != nil {
		return simError(c, http.StatusBadRequest, "request body is not valid JSON: "+err.Error())
	}
	if req.Code == "" {
		return simError(c, http.StatusBadRequest, "code is required")
	}
	if req.Passkey {
		return passkeyAsked(c, h.sim.EnterCodeWithPasskey(req.Code, req.Phone, req.PushName))
	}
	jid, err := h.sim.EnterCode(req.Code, req.Phone, req.PushName)
	if err != nil {
		return simFailure(c, err)
	}
	return c.JSON(http.StatusOK, map[string]string{"jid": jid.String()})
}

// passkeyAsked writes the response of a scan or code entry that ended in a
// passkey prompt.
func passkeyAsked(c echo.Context, err error) error {
	if err != nil {
		return simFailure(c, err)
	}
	return c.JSON(http.StatusAccepted, map[string]string{"step": "passkey"})
}

func (h simulatorHandlers) passkey(c echo.Context) error {
	var req simPasskeyRequest
	if err := c.Bind(&req); err != nil {
		return simError(c, http.StatusBadRequest, "request body is not valid JSON: "+err.Error())
	}
	if strings.TrimSpace(req.Phone) == "" {
		return simError(c, http.StatusBadRequest, "phone is required")
	}
	if req.Approve == nil {
		return simError(c, http.StatusBadRequest, "approve is required: true confirms the passkey prompt, false rejects it")
	}
	jid, err := h.sim.ConfirmPasskey(req.Phone, *req.Approve)
	if err != nil {
		return simFailure(c, err)
	}
	if !*req.Approve {
		return c.JSON(http.StatusOK, map[string]any{})
	}
	return c.JSON(http.StatusOK, map[string]string{"jid": jid.String()})
}

func (h simulatorHandlers) latestQR(c echo.Context) error {
	qr, ok := h.sim.LatestQR()
	if !ok {
		return simError(c, http.StatusNotFound, "no pairing is running")
	}
	return c.JSON(http.StatusOK, map[string]string{"qr": qr})
}

func (h simulatorHandlers) inbound(c echo.Context) error {
	var req simulator.InboundMessage
	if err := c.Bind(&req); err != nil {
		return simError(c, http.StatusBadRequest, "request body is not valid JSON: "+err.Error())
	}
	id, err := h.sim.Inbound(req)
	if err != nil {
		return simFailure(c, err)
	}
	return c.JSON(http.StatusOK, map[string]string{"id": id})
}

func (h simulatorHandlers) outbound(c echo.Context) error {
	from := c.QueryParam("from")
	if from == "" {
		return simError(c, http.StatusBadRequest, "query parameter from (the linked number) is required")
	}
	list, err := h.sim.Outbound(from)
	if err != nil {
		return simFailure(c, err)
	}
	if list == nil {
		list = []simulator.OutboundMessage{}
	}
	return c.JSON(http.StatusOK, list)
}

func (h simulatorHandlers) readMarks(c echo.Context) error {
	from := c.QueryParam("from")
	if from == "" {
		return simError(c, http.StatusBadRequest, "query parameter from (the linked number) is required")
	}
	list, err := h.sim.ReadMarks(from)
	if err != nil {
		return simFailure(c, err)
	}
	if list == nil {
		list = []simulator.ReadMark{}
	}
	return c.JSON(http.StatusOK, list)
}

func (h simulatorHandlers) read(c echo.Context) error {
	var req simulator.ReadRequest
	if err := c.Bind(&req); err != nil {
		return simError(c, http.StatusBadRequest, "request body is not valid JSON: "+err.Error())
	}
	if err := h.sim.Read(req); err != nil {
		return simFailure(c, err)
	}
	return c.JSON(http.StatusOK, map[string]any{})
}

func (h simulatorHandlers) logout(c echo.Context) error {
	req, err := bindPhone(c, true)
	if err != nil {
		return err
	}
	if err := h.sim.LogoutFromPhone(req.Phone); err != nil {
		return simFailure(c, err)
	}
	return c.JSON(http.StatusOK, map[string]any{})
}

func (h simulatorHandlers) drop(c echo.Context) error {
	req, err := bindPhone(c, false)
	if err != nil {
		return err
	}
	n, err := h.sim.Drop(req.Phone)
	if err != nil {
		return simFailure(c, err)
	}
	return c.JSON(http.StatusOK, map[string]int{"dropped": n})
}

func (h simulatorHandlers) ban(c echo.Context) error {
	req, err := bindPhone(c, true)
	if err != nil {
		return err
	}
	if req.Code == 0 {
		req.Code = int(events.TempBanSentToTooManyPeople)
	}
	if req.ExpireSeconds <= 0 {
		return simError(c, http.StatusBadRequest, "expire_seconds must be a positive number of seconds")
	}
	expire := time.Duration(req.ExpireSeconds) * time.Second
	if err := h.sim.Ban(req.Phone, events.TempBanReason(req.Code), expire); err != nil {
		return simFailure(c, err)
	}
	return c.JSON(http.StatusOK, map[string]any{})
}

func (h simulatorHandlers) outdated(c echo.Context) error {
	req, err := bindPhone(c, false)
	if err != nil {
		return err
	}
	h.sim.SetOutdated(req.Outdated)
	return c.JSON(http.StatusOK, map[string]any{})
}

func (h simulatorHandlers) replace(c echo.Context) error {
	req, err := bindPhone(c, true)
	if err != nil {
		return err
	}
	n, err := h.sim.Replace(req.Phone)
	if err != nil {
		return simFailure(c, err)
	}
	return c.JSON(http.StatusOK, map[string]int{"replaced": n})
}

func (h simulatorHandlers) sendFailure(c echo.Context) error {
	req, err := bindPhone(c, true)
	if err != nil {
		return err
	}
	if err := h.sim.SetSendFailure(req.Phone, simulator.SendFailure(req.Failure)); err != nil {
		return simFailure(c, err)
	}
	return c.JSON(http.StatusOK, map[string]any{})
}

func (h simulatorHandlers) state(c echo.Context) error {
	return c.JSON(http.StatusOK, h.sim.State())
}

// bindPhone reads a simPhoneRequest; an empty body is allowed. On failure
// it has already written the response and returns its error.
func bindPhone(c echo.Context, phoneRequired bool) (simPhoneRequest, error) {
	var req simPhoneRequest
	if err := c.Bind(&req); err != nil {
		return req, simError(c, http.StatusBadRequest, "request body is not valid JSON: "+err.Error())
	}
	if phoneRequired && strings.TrimSpace(req.Phone) == "" {
		return req, simError(c, http.StatusBadRequest, "phone is required")
	}
	return req, nil
}

// simFailure writes the response for an error of the simulator.
func simFailure(c echo.Context, err error) error {
	status := http.StatusInternalServerError
	switch {
	case errors.Is(err, simulator.ErrInvalidRequest):
		status = http.StatusBadRequest
	case errors.Is(err, simulator.ErrQRUnknown), errors.Is(err, simulator.ErrPairCodeUnknown),
		errors.Is(err, simulator.ErrNotLinked), errors.Is(err, simulator.ErrPasskeyNotRequested):
		status = http.StatusNotFound
	case errors.Is(err, simulator.ErrNumberRejected), errors.Is(err, simulator.ErrPasskeyPending):
		status = http.StatusConflict
	case errors.Is(err, simulator.ErrClosed):
		status = http.StatusServiceUnavailable
	}
	return simError(c, status, err.Error())
}

func simError(c echo.Context, status int, message string) error {
	return c.JSON(status, map[string]string{"error": message})
}
