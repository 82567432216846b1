package handlers

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/wabridge/b24wa/connector/billing"
	"github.com/wabridge/b24wa/static"
)

// InvoiceDeps are the dependencies of the invoice routes, which portal
// administrators reach from the app's iframe pages.
type InvoiceDeps struct {
	Log     *slog.Logger
	Billing *billing.Service
	Frames  FrameTokenParser
	Pages   *Pages // nil builds its own
}

// invoices serves the invoice routes.
type invoices struct {
	billing *billing.Service
	pages   *Pages
	log     *slog.Logger
}

// RegisterInvoices adds the invoice routes. Each needs the frame token (the
// X-Frame-Token header or the "t" field) of a portal administrator:
//
//	POST /api/invoices   JSON {"line_ids": [..], "months": n}; 201 with the invoice
//	GET  /invoices/new   form to choose lines and months
//	POST /invoices       the form's submission; 303 to the printable invoice
//	GET  /invoices/:id   printable invoice
func RegisterInvoices(e *echo.Echo, deps InvoiceDeps) {
	pages := deps.Pages
	if pages == nil {
		pages = NewPages()
	}
	log := deps.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &invoices{billing: deps.Billing, pages: pages, log: log}
	auth := []echo.MiddlewareFunc{requireFrame(deps.Frames), requireAdmin}
	e.POST("/api/invoices", h.issueJSON, auth...)
	e.GET("/invoices/new", h.form, auth...)
	e.POST("/invoices", h.issueForm, auth...)
	e.GET("/invoices/:id", h.show, auth...)
}

// issueRequest is the body of POST /api/invoices.
type issueRequest struct {
	LineIDs []uint64 `json:"line_ids"`
	Months  int      `json:"months"`
}

// issueResponse is the response of POST /api/invoices. Amount is in minor
// units of Currency; AmountText is formatted for the user's language.
type issueResponse struct {
	ID         uint64 `json:"id"`
	Number     string `json:"number"`
	Status     string `json:"status"`
	Months     int    `json:"months"`
	Amount     int64  `json:"amount"`
	Currency   string `json:"currency"`
	AmountText string `json:"amount_text"`
	URL        string `json:"url"`
}

func (h *invoices) issueJSON(c echo.Context) error {
	user := frameUser(c)
	var body issueRequest
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	inv, err := h.billing.IssueInvoice(c.Request().Context(), billing.InvoiceRequest{
		PortalID: user.PortalID, LineIDs: body.LineIDs, Months: body.Months,
		IssuedBy: user.UserID, Lang: static.Lang(user.Lang),
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, issueResponse{
		ID: inv.ID, Number: inv.Number, Status: inv.Status, Months: inv.Months, Amount: inv.Amount,
		Currency: inv.Currency, AmountText: billing.FormatMoney(inv.Amount, inv.Currency, inv.Lang),
		URL: invoiceURL(inv.ID, user.Token),
	})
}

func (h *invoices) issueForm(c echo.Context) error {
	user := frameUser(c)
	lang := static.Lang(user.Lang)
	form, err := c.FormParams()
	if err != nil {
		return fmt.Errorf("%w: %v", billing.ErrInvalidLines, err)
	}
	req := billing.InvoiceRequest{PortalID: user.PortalID, IssuedBy: user.UserID, Lang: lang}
	req.Months, _ = strconv.Atoi(form.Get("months"))
	for _, raw := range form["line"] {
		id, err := strconv.ParseUint(raw, 10, 64)
		if err != nil {
			return h.renderForm(c, http.StatusBadRequest, "billing.error.invalid_lines", nil)
		}
		req.LineIDs = append(req.LineIDs, id)
	}

	inv, err := h.billing.IssueInvoice(c.Request().Context(), req)
	if key := formErrorKey(err); key != "" {
		return h.renderForm(c, http.StatusBadRequest, key, req.LineIDs)
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, invoiceURL(inv.ID, user.Token))
}

// formErrorKey returns the message key of an error the form shows next to
// its fields, or "" for errors that get the error page.
func formErrorKey(err error) string {
	switch {
	case errors.Is(err, billing.ErrInvalidMonths):
		return "billing.error.invalid_months"
	case errors.Is(err, billing.ErrInvalidLines):
		return "billing.error.invalid_lines"
	case errors.Is(err, billing.ErrLineNotFound):
		return "billing.error.line_not_found"
	}
	return ""
}

func (h *invoices) show(c echo.Context) error {
	user := frameUser(c)
	id, err := strconv.ParseUint(c.Param("id"), 10, 64)
	if err != nil {
		return fmt.Errorf("%w: id %q is not a number", billing.ErrInvoiceNotFound, c.Param("id"))
	}
	inv, err := h.billing.Invoice(c.Request().Context(), id, user.PortalID)
	if err != nil {
		return err
	}
	return h.pages.Render(c, http.StatusOK, "invoice.html", newInvoicePage(h.pages, inv))
}

// invoiceURL is the printable invoice's address, carrying the frame token
// because it opens in a new window that cannot set headers.
func invoiceURL(id uint64, token string) string {
	return "/invoices/" + strconv.FormatUint(id, 10) + "?" + url.Values{frameTokenParam: {token}}.Encode()
}
