package handlers

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/wabridge/b24wa/connector/billing"
)

// errInvalidJSON is returned for a request body that is not the expected
// JSON object; the wrapped message names the problem.
var errInvalidJSON = errors.New("request body is not valid JSON")

// OperatorDeps are the dependencies of the operator API, used by the company
// that runs the deployment to record payments.
type OperatorDeps struct {
	Log     *slog.Logger
	Billing *billing.Service
	// APIKey is OPERATOR_API_KEY; empty disables the API (503 on every route).
	APIKey string
}

// operatorAPI serves the operator routes.
type operatorAPI struct {
	billing *billing.Service
}

// RegisterOperator adds the operator API, authenticated with
// "Authorization: Bearer <OPERATOR_API_KEY>":
//
//	GET  /operator/lines?state=due_soon     lines with their billing state
//	POST /operator/lines/:id/extend         {"months": n} or {"until": "2026-05-31"}
//	POST /operator/invoices/:number/pay     mark paid, extend its lines
//	POST /operator/invoices/:number/cancel  mark cancelled
func RegisterOperator(e *echo.Echo, deps OperatorDeps) {
	log := deps.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &operatorAPI{billing: deps.Billing}
	g := e.Group("/operator", noStoreMiddleware, requireOperatorKey(deps.APIKey, log))
	g.GET("/lines", h.listLines)
	g.POST("/lines/:id/extend", h.extendLine)
	g.POST("/invoices/:number/pay", h.payInvoice)
	g.POST("/invoices/:number/cancel", h.cancelInvoice)
}

func noStoreMiddleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		noStore(c)
		return next(c)
	}
}

func (h *operatorAPI) listLines(c echo.Context) error {
	lines, err := h.billing.ListLines(c.Request().Context(), c.QueryParam("state"))
	if err != nil {
		return err
	}
	out := make([]operatorLine, 0, len(lines))
	for _, l := range lines {
		out = append(out, operatorLineOf(l))
	}
	return c.JSON(http.StatusOK, map[string]any{"lines": out})
}

// extendRequest is the body of POST /operator/lines/:id/extend.
type extendRequest struct {
	Months int    `json:"months"`
	Until  string `json:"until"`
}

func (h *operatorAPI) extendLine(c echo.Context) error {
	id, err := strconv.ParseUint(c.Param("id"), 10, 64)
	if err != nil {
		return fmt.Errorf("%w: line id %q is not a number", billing.ErrLineNotFound, c.Param("id"))
	}
	var body extendRequest
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	req := billing.Extend{Months: body.Months}
	if body.Until != "" {
		if req.Until, err = billing.ParseUntil(body.Until); err != nil {
			return err
		}
	}
	sum, err := h.billing.ExtendLine(c.Request().Context(), id, req)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, operatorLineOf(sum))
}

func (h *operatorAPI) payInvoice(c echo.Context) error {
	inv, err := h.billing.PayInvoice(c.Request().Context(), c.Param("number"))
	if err != nil {
		return err
	}
	return h.invoiceResponse(c, inv)
}

func (h *operatorAPI) cancelInvoice(c echo.Context) error {
	inv, err := h.billing.CancelInvoice(c.Request().Context(), c.Param("number"))
	if err != nil {
		return err
	}
	return h.invoiceResponse(c, inv)
}

// invoiceResponse returns the invoice with the billing summary of each of
// its lines that still exists.
func (h *operatorAPI) invoiceResponse(c echo.Context, inv *billing.Invoice) error {
	out := operatorInvoiceOf(inv)
	for _, il := range inv.Lines {
		sum, err := h.billing.Summary(c.Request().Context(), il.LineID)
		if errors.Is(err, billing.ErrLineNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		out.Lines = append(out.Lines, operatorLineOf(sum))
	}
	return c.JSON(http.StatusOK, out)
}

// decodeJSON reads a JSON object body into dst, rejecting unknown fields
// and trailing data, so a typo such as "month" is an error, not a no-op.
func decodeJSON(c echo.Context, dst any) error {
	dec := json.NewDecoder(c.Request().Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return fmt.Errorf("%w: %v", errInvalidJSON, err)
	}
	if dec.More() {
		return fmt.Errorf("%w: data after the JSON object", errInvalidJSON)
	}
	return nil
}

// operatorLine is a line in operator API responses.
type operatorLine struct {
	ID           uint64     `json:"id"`
	PortalID     uint64     `json:"portal_id"`
	PortalDomain string     `json:"portal_domain"`
	OpenLineID   string     `json:"open_line_id"`
	Name         string     `json:"name"`
	Phone        string     `json:"phone"`
	LineState    string     `json:"line_state"`
	State        string     `json:"state"`
	PaidUntil    *time.Time `json:"paid_until"`
	LastPaidAt   *time.Time `json:"last_paid_at"`
	SuspendedAt  *time.Time `json:"suspended_at"`
}

func operatorLineOf(s billing.LineSummary) operatorLine {
	return operatorLine{
		ID: s.ID, PortalID: s.PortalID, PortalDomain: s.PortalDomain, OpenLineID: s.OpenLineID,
		Name: s.Name, Phone: s.Phone, LineState: s.LineState, State: s.State,
		PaidUntil: s.PaidUntil, LastPaidAt: s.LastPaidAt, SuspendedAt: s.SuspendedAt,
	}
}

// operatorInvoice is an invoice in operator API responses. Amounts are in
// minor units of Currency.
type operatorInvoice struct {
	Number      string         `json:"number"`
	Status      string         `json:"status"`
	PortalID    uint64         `json:"portal_id"`
	BuyerDomain string         `json:"buyer_domain"`
	Months      int            `json:"months"`
	UnitPrice   int64          `json:"unit_price"`
	Amount      int64          `json:"amount"`
	Currency    string         `json:"currency"`
	IssuedAt    time.Time      `json:"issued_at"`
	PaidAt      *time.Time     `json:"paid_at"`
	CancelledAt *time.Time     `json:"cancelled_at"`
	Lines       []operatorLine `json:"lines"`
}

func operatorInvoiceOf(inv *billing.Invoice) operatorInvoice {
	return operatorInvoice{
		Number: inv.Number, Status: inv.Status, PortalID: inv.PortalID, BuyerDomain: inv.BuyerDomain,
		Months: inv.Months, UnitPrice: inv.UnitPrice, Amount: inv.Amount, Currency: inv.Currency,
		IssuedAt: inv.IssuedAt, PaidAt: inv.PaidAt, CancelledAt: inv.CancelledAt, Lines: []operatorLine{},
	}
}
