package handlers

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/wabridge/b24wa/connector/billing"
)

func TestOperatorAuth(t *testing.T) {
	cases := []struct {
		name          string
		configured    string
		authorization string
		status        int
		errorKey      string
	}{
		{"disabled", "", "Bearer " + operatorKey, http.StatusServiceUnavailable, "billing.error.operator_disabled"},
		{"missing", operatorKey, "", http.StatusUnauthorized, "billing.error.operator_unauthorized"},
		{"wrong key", operatorKey, "Bearer not-the-key-but-close-6f1d2c8a9b7e", http.StatusUnauthorized, "billing.error.operator_unauthorized"},
		{"key as basic auth", operatorKey, "Basic " + operatorKey, http.StatusUnauthorized, "billing.error.operator_unauthorized"},
		{"key prefix", operatorKey, "Bearer " + operatorKey[:10], http.StatusUnauthorized, "billing.error.operator_unauthorized"},
		{"right key", operatorKey, "Bearer " + operatorKey, http.StatusOK, ""},
		{"scheme in lower case", operatorKey, "bearer " + operatorKey, http.StatusOK, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			eachBilling(t, tc.configured, func(t *testing.T, f *billingFixture) {
				rec := f.operator(http.MethodGet, "/operator/lines", "", tc.authorization)
				wantStatus(t, rec, tc.status)
				if tc.errorKey == "" {
					return
				}
				var body map[string]string
				decode(t, rec, &body)
				if body["error"] != tc.errorKey {
					t.Errorf("error = %q, want %q", body["error"], tc.errorKey)
				}
				if tc.status == http.StatusUnauthorized {
					if got := rec.Header().Get(echo.HeaderWWWAuthenticate); !strings.HasPrefix(got, "Bearer") {
						t.Errorf("WWW-Authenticate = %q, want a Bearer challenge", got)
					}
					logs := f.logs.String()
					if !strings.Contains(logs, "Operator API authentication failed") || !strings.Contains(logs, "remote_ip=") {
						t.Errorf("auth failure not logged with the remote address:\n%s", logs)
					}
					if sent := strings.TrimPrefix(strings.TrimPrefix(tc.authorization, "Bearer "), "Basic "); sent != "" && strings.Contains(logs, sent) {
						t.Errorf("log contains the key that was sent:\n%s", logs)
					}
				}
			})
		})
	}
}

func TestOperatorKeyNeverLogged(t *testing.T) {
	eachBilling(t, operatorKey, func(t *testing.T, f *billingFixture) {
		wantStatus(t, f.operator(http.MethodGet, "/operator/lines", "", "Bearer "+operatorKey), http.StatusOK)
		wantStatus(t, f.operator(http.MethodGet, "/operator/lines", "", "Bearer x"+operatorKey), http.StatusUnauthorized)
		if strings.Contains(f.logs.String(), operatorKey) {
			t.Errorf("log contains the operator key:\n%s", f.logs.String())
		}
	})
}

func TestOperatorListLines(t *testing.T) {
	eachBilling(t, operatorKey, func(t *testing.T, f *billingFixture) {
		auth := "Bearer " + operatorKey
		// Day 3 of a 7-day trial with reminders 5 days ahead: both lines
		// are due soon; paying one month for the first makes it paid.
		f.now = billingStart.Add(3 * 24 * time.Hour)
		wantStatus(t, f.operator(http.MethodPost, fmt.Sprintf("/operator/lines/%d/extend", f.lineIDs[0]), `{"months": 1}`, auth), http.StatusOK)

		var all struct{ Lines []operatorLine }
		decode(t, f.operator(http.MethodGet, "/operator/lines", "", auth), &all)
		if len(all.Lines) != 2 {
			t.Fatalf("listed %d lines, want 2", len(all.Lines))
		}
		if all.Lines[0].PortalDomain != f.portal.Domain || all.Lines[0].PaidUntil == nil {
			t.Errorf("line = %+v, want the portal domain and paid_until", all.Lines[0])
		}

		var due struct{ Lines []operatorLine }
		decode(t, f.operator(http.MethodGet, "/operator/lines?state=due_soon", "", auth), &due)
		if len(due.Lines) != 1 || due.Lines[0].ID != f.lineIDs[1] || due.Lines[0].State != billing.StateDueSoon {
			t.Errorf("due_soon lines = %+v, want only line %d", due.Lines, f.lineIDs[1])
		}

		rec := f.operator(http.MethodGet, "/operator/lines?state=overdue", "", auth)
		wantStatus(t, rec, http.StatusBadRequest)
	})
}

func TestOperatorExtendLine(t *testing.T) {
	eachBilling(t, operatorKey, func(t *testing.T, f *billingFixture) {
		auth := "Bearer " + operatorKey
		path := fmt.Sprintf("/operator/lines/%d/extend", f.lineIDs[0])

		var got operatorLine
		rec := f.operator(http.MethodPost, path, `{"until": "2026-12-31"}`, auth)
		wantStatus(t, rec, http.StatusOK)
		decode(t, rec, &got)
		if want := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC); got.PaidUntil == nil || !got.PaidUntil.Equal(want) {
			t.Errorf("paid_until = %v, want %s (through the end of the given day)", got.PaidUntil, want)
		}

		rec = f.operator(http.MethodPost, path, `{"months": 2}`, auth)
		wantStatus(t, rec, http.StatusOK)
		decode(t, rec, &got)
		if want := time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC); got.PaidUntil == nil || !got.PaidUntil.Equal(want) {
			t.Errorf("paid_until = %v, want %s (two months after the previous paid_until)", got.PaidUntil, want)
		}

		bad := []struct {
			name, path, body string
			status           int
		}{
			{"misspelt field", path, `{"month": 2}`, http.StatusBadRequest},
			{"both fields", path, `{"months": 1, "until": "2026-12-31"}`, http.StatusBadRequest},
			{"no field", path, `{}`, http.StatusBadRequest},
			{"bad date", path, `{"until": "31.12.2026"}`, http.StatusBadRequest},
			{"too many months", path, `{"months": 100}`, http.StatusBadRequest},
			{"not JSON", path, `months=2`, http.StatusBadRequest},
			{"unknown line", "/operator/lines/999999/extend", `{"months": 1}`, http.StatusNotFound},
			{"line id not a number", "/operator/lines/abc/extend", `{"months": 1}`, http.StatusNotFound},
		}
		for _, tc := range bad {
			if rec := f.operator(http.MethodPost, tc.path, tc.body, auth); rec.Code != tc.status {
				t.Errorf("%s: status %d, want %d; body %s", tc.name, rec.Code, tc.status, rec.Body.String())
			}
		}
	})
}

func TestOperatorPayInvoice(t *testing.T) {
	eachBilling(t, operatorKey, func(t *testing.T, f *billingFixture) {
		auth := "Bearer " + operatorKey
		inv, err := f.svc.IssueInvoice(context.Background(), billing.InvoiceRequest{
			PortalID: f.portal.ID, LineIDs: f.lineIDs, Months: 3, Lang: "ru"})
		if err != nil {
			t.Fatal(err)
		}

		rec := f.operator(http.MethodPost, "/operator/invoices/"+inv.Number+"/pay", "", auth)
		wantStatus(t, rec, http.StatusOK)
		var paid operatorInvoice
		decode(t, rec, &paid)
		if paid.Status != billing.InvoicePaid || paid.Amount != 2*3*150000 || len(paid.Lines) != 2 {
			t.Fatalf("paid invoice = %+v", paid)
		}
		// The 7-day trial ends on March 9; three months from there.
		want := time.Date(2026, 6, 9, 12, 0, 0, 0, time.UTC)
		for _, l := range paid.Lines {
			if l.PaidUntil == nil || !l.PaidUntil.Equal(want) || l.State != billing.StatePaid {
				t.Errorf("line %d: paid_until %v state %s, want %s and paid", l.ID, l.PaidUntil, l.State, want)
			}
		}

		wantStatus(t, f.operator(http.MethodPost, "/operator/invoices/"+inv.Number+"/pay", "", auth), http.StatusConflict)
		wantStatus(t, f.operator(http.MethodPost, "/operator/invoices/"+inv.Number+"/cancel", "", auth), http.StatusConflict)
		wantStatus(t, f.operator(http.MethodPost, "/operator/invoices/2026-424242/pay", "", auth), http.StatusNotFound)
		wantStatus(t, f.operator(http.MethodPost, "/operator/invoices/"+inv.Number+"/pay", "", ""), http.StatusUnauthorized)
	})
}
