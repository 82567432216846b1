package handlers

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

// frameHeader is a request header set carrying a frame token.
func frameHeader(token, contentType string) http.Header {
	h := http.Header{}
	h.Set(FrameTokenHeader, token)
	if contentType != "" {
		h.Set(echo.HeaderContentType, contentType)
	}
	return h
}

func TestIssueInvoiceAPI(t *testing.T) {
	eachBilling(t, operatorKey, func(t *testing.T, f *billingFixture) {
		admin := f.token(f.portal, true, "ru")
		body := fmt.Sprintf(`{"line_ids": [%d, %d], "months": 6}`, f.lineIDs[0], f.lineIDs[1])

		rec := f.do(http.MethodPost, "/api/invoices", body, frameHeader(admin, echo.MIMEApplicationJSON))
		wantStatus(t, rec, http.StatusCreated)
		var got issueResponse
		decode(t, rec, &got)
		if got.Number != "2026-000001" || got.Amount != 2*6*150000 || got.Currency != "RUB" {
			t.Errorf("invoice = %+v, want 2026-000001 for 1,800,000 minor units", got)
		}
		if got.AmountText != "18\u00a0000,00\u00a0RUB" {
			t.Errorf("amount text = %q, want the Russian format", got.AmountText)
		}
		if !strings.HasPrefix(got.URL, fmt.Sprintf("/invoices/%d?t=", got.ID)) {
			t.Errorf("url = %q, want the printable page with the token", got.URL)
		}

		user := f.token(f.portal, false, "ru")
		wantStatus(t, f.do(http.MethodPost, "/api/invoices", body, frameHeader(user, echo.MIMEApplicationJSON)), http.StatusForbidden)
		wantStatus(t, f.do(http.MethodPost, "/api/invoices", body, frameHeader("", echo.MIMEApplicationJSON)), http.StatusUnauthorized)
		wantStatus(t, f.do(http.MethodPost, "/api/invoices", body, frameHeader(admin+"x", echo.MIMEApplicationJSON)), http.StatusUnauthorized)

		other := f.addPortal("en")
		otherAdmin := f.token(other, true, "en")
		rec = f.do(http.MethodPost, "/api/invoices", body, frameHeader(otherAdmin, echo.MIMEApplicationJSON))
		wantStatus(t, rec, http.StatusNotFound)

		bad := fmt.Sprintf(`{"line_ids": [%d], "months": 0}`, f.lineIDs[0])
		wantStatus(t, f.do(http.MethodPost, "/api/invoices", bad, frameHeader(admin, echo.MIMEApplicationJSON)), http.StatusBadRequest)
	})
}

func TestInvoicePagePrintable(t *testing.T) {
	eachBilling(t, operatorKey, func(t *testing.T, f *billingFixture) {
		admin := f.token(f.portal, true, "ru")
		body := fmt.Sprintf(`{"line_ids": [%d, %d], "months": 3}`, f.lineIDs[0], f.lineIDs[1])
		var issued issueResponse
		decode(t, f.do(http.MethodPost, "/api/invoices", body, frameHeader(admin, echo.MIMEApplicationJSON)), &issued)

		rec := f.do(http.MethodGet, issued.URL, "", http.Header{echo.HeaderAccept: {"text/html"}})
		wantStatus(t, rec, http.StatusOK)
		page := rec.Body.String()
		for _, want := range []string{
			"Счёт № 2026-000001 от 02.03.2026", // number and date in the issuer's language
			"OOO Example", "INN 7700000000", // seller details, one per line
			f.portal.Domain,                     // buyer
			"Sales", "Support", "912 345-67-89", // lines with the formatted number
			"4\u00a0500,00\u00a0RUB", "9\u00a0000,00\u00a0RUB", // line amount and total
			"css/invoice.css", // print stylesheet
		} {
			if !strings.Contains(page, want) {
				t.Errorf("invoice page lacks %q", want)
			}
		}
		if rec.Header().Get(echo.HeaderCacheControl) != "no-store" {
			t.Errorf("Cache-Control = %q, want no-store", rec.Header().Get(echo.HeaderCacheControl))
		}

		other := f.addPortal("en")
		otherURL := fmt.Sprintf("/invoices/%d?t=%s", issued.ID, url.QueryEscape(f.token(other, true, "en")))
		wantStatus(t, f.do(http.MethodGet, otherURL, "", nil), http.StatusNotFound)
		wantStatus(t, f.do(http.MethodGet, fmt.Sprintf("/invoices/%d", issued.ID), "", nil), http.StatusUnauthorized)
	})
}

func TestInvoiceForm(t *testing.T) {
	eachBilling(t, operatorKey, func(t *testing.T, f *billingFixture) {
		admin := f.token(f.portal, true, "en")
		rec := f.do(http.MethodGet, fmt.Sprintf("/invoices/new?t=%s&line=%d", url.QueryEscape(admin), f.lineIDs[1]), "", nil)
		wantStatus(t, rec, http.StatusOK)
		page := rec.Body.String()
		if !strings.Contains(page, "Sales") || !strings.Contains(page, "1,500.00\u00a0RUB") {
			t.Errorf("form lacks the lines or the price:\n%s", page)
		}
		if !strings.Contains(page, fmt.Sprintf(`value="%d" checked`, f.lineIDs[1])) {
			t.Errorf("line %d from the query is not preselected", f.lineIDs[1])
		}

		form := url.Values{"t": {admin}, "line": {fmt.Sprint(f.lineIDs[0])}, "months": {"12"}}
		rec = f.do(http.MethodPost, "/invoices", form.Encode(), http.Header{echo.HeaderContentType: {echo.MIMEApplicationForm}})
		wantStatus(t, rec, http.StatusSeeOther)
		if loc := rec.Header().Get(echo.HeaderLocation); !strings.HasPrefix(loc, "/invoices/") || !strings.Contains(loc, "t=") {
			t.Errorf("Location = %q, want the printable invoice with the token", loc)
		}

		form.Set("months", "0")
		rec = f.do(http.MethodPost, "/invoices", form.Encode(), http.Header{echo.HeaderContentType: {echo.MIMEApplicationForm}})
		wantStatus(t, rec, http.StatusBadRequest)
		if !strings.Contains(rec.Body.String(), "between 1 and 36") {
			t.Errorf("re-rendered form lacks the months message:\n%s", rec.Body.String())
		}
		if !strings.Contains(rec.Body.String(), "2026-000001") {
			t.Errorf("form does not list the invoice issued before")
		}
	})
}
