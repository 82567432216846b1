package handlers

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/wabridge/b24wa/connector/billing"
	"github.com/wabridge/b24wa/static"
)

// invoicePage is the view model of invoice.html. Every text is translated
// into the invoice's language, the one its issuer used.
type invoicePage struct {
	Lang        string
	Title       string
	Heading     string
	Status      string
	StatusClass string
	Seller      []string
	BuyerName   string
	BuyerPortal string
	Rows        []invoiceRow
	Total       string
	TotalWords  string
	Period      string
	Reference   string
}

// invoiceRow is one line of the invoice table.
type invoiceRow struct {
	N      int
	Item   string
	Phone  string
	Months int
	Price  string
	Amount string
}

func newInvoicePage(pages *Pages, inv *billing.Invoice) invoicePage {
	lang := static.Lang(inv.Lang)
	money := func(v int64) string { return billing.FormatMoney(v, inv.Currency, lang) }
	page := invoicePage{
		Lang:        lang,
		Title:       pages.T(lang, "invoice.title", inv.Number),
		Heading:     pages.T(lang, "invoice.heading", inv.Number, formatDate(inv.IssuedAt, lang)),
		StatusClass: inv.Status,
		BuyerName:   inv.BuyerName,
		BuyerPortal: pages.T(lang, "invoice.buyer_portal", inv.BuyerDomain),
		Total:       money(inv.Amount),
		TotalWords:  pages.T(lang, "invoice.total_words", money(inv.Amount)),
		Period:      pages.T(lang, "invoice.period", inv.Months),
		Reference:   pages.T(lang, "invoice.reference", inv.Number),
	}
	switch inv.Status {
	case billing.InvoicePaid:
		page.Status = pages.T(lang, "invoice.status.paid", formatDate(*inv.PaidAt, lang))
	default:
		page.Status = pages.T(lang, "invoice.status."+inv.Status)
	}
	for _, line := range strings.Split(strings.TrimSpace(inv.SellerDetails), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			page.Seller = append(page.Seller, line)
		}
	}
	for i, l := range inv.Lines {
		row := invoiceRow{
			N: i + 1, Item: pages.T(lang, "invoice.item", l.LineName, l.OpenLineID),
			Months: l.Months, Price: money(l.UnitPrice), Amount: money(l.Amount),
		}
		if l.Phone != "" {
			row.Phone = pages.T(lang, "invoice.item_phone", FormatPhone(l.Phone))
		}
		page.Rows = append(page.Rows, row)
	}
	return page
}

// formatDate renders a calendar date the way each language writes it.
func formatDate(t time.Time, lang string) string {
	if lang == "ru" {
		return t.UTC().Format("02.01.2006")
	}
	return t.UTC().Format("2006-01-02")
}

// invoiceForm is the view model of invoice_new.html.
type invoiceForm struct {
	Lang     string
	Title    string
	Token    string
	Enabled  bool
	Price    string
	Error    string
	Lines    []invoiceFormLine
	Months   []int
	Invoices []invoiceListItem
}

// invoiceFormLine is one line offered on the form.
type invoiceFormLine struct {
	ID      uint64
	Name    string
	Phone   string
	State   string
	Checked bool
}

// invoiceListItem is one earlier invoice of the portal.
type invoiceListItem struct {
	Number string
	Date   string
	Amount string
	Status string
	URL    string
}

// formMonths are the periods the form offers.
var formMonths = []int{1, 3, 6, 12}

func (h *invoices) form(c echo.Context) error {
	var checked []uint64
	for _, raw := range c.QueryParams()["line"] {
		if id, err := strconv.ParseUint(raw, 10, 64); err == nil {
			checked = append(checked, id)
		}
	}
	return h.renderForm(c, http.StatusOK, "", checked)
}

// renderForm renders the invoice form with the portal's lines. A non-empty
// errorKey is shown above the form.
func (h *invoices) renderForm(c echo.Context, status int, errorKey string, checked []uint64) error {
	user := frameUser(c)
	lang := static.Lang(user.Lang)
	price, currency := h.billing.Price()
	page := invoiceForm{
		Lang: lang, Title: h.pages.T(lang, "invoice.new.title"), Token: user.Token,
		Enabled: h.billing.Enabled(), Months: formMonths,
		Price: h.pages.T(lang, "invoice.new.price", billing.FormatMoney(price, currency, lang)),
	}
	if errorKey != "" {
		page.Error = h.pages.T(lang, errorKey)
	}

	var err error
	if page.Lines, err = h.formLines(c, lang, checked); err != nil {
		return err
	}
	if page.Invoices, err = h.formInvoices(c, lang); err != nil {
		return err
	}
	return h.pages.Render(c, status, "invoice_new.html", page)
}

// formLines lists the portal's lines with their billing state.
func (h *invoices) formLines(c echo.Context, lang string, checked []uint64) ([]invoiceFormLine, error) {
	lines, err := h.billing.PortalLines(c.Request().Context(), frameUser(c).PortalID)
	if err != nil {
		return nil, err
	}
	out := make([]invoiceFormLine, 0, len(lines))
	for _, l := range lines {
		state := h.pages.T(lang, "billing.state."+l.State)
		if l.PaidUntil != nil {
			key := "invoice.new.line_state"
			if l.State == billing.StateGrace || l.State == billing.StateSuspended {
				key = "invoice.new.line_ended"
			}
			state = h.pages.T(lang, key, state, formatDate(*l.PaidUntil, lang))
		}
		out = append(out, invoiceFormLine{ID: l.ID, Name: l.Name, Phone: FormatPhone(l.Phone),
			State: state, Checked: slices.Contains(checked, l.ID)})
	}
	return out, nil
}

// formInvoices lists the portal's latest invoices.
func (h *invoices) formInvoices(c echo.Context, lang string) ([]invoiceListItem, error) {
	user := frameUser(c)
	recent, err := h.billing.Invoices(c.Request().Context(), user.PortalID, 20)
	if err != nil {
		return nil, err
	}
	out := make([]invoiceListItem, 0, len(recent))
	for _, inv := range recent {
		out = append(out, invoiceListItem{
			Number: inv.Number, Date: formatDate(inv.IssuedAt, lang),
			Amount: billing.FormatMoney(inv.Amount, inv.Currency, lang),
			Status: h.pages.T(lang, "billing.invoice_status."+inv.Status), URL: invoiceURL(inv.ID, user.Token),
		})
	}
	return out, nil
}
