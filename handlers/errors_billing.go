package handlers

import (
	"net/http"

	"github.com/wabridge/b24wa/connector/billing"
)

// billingErrors maps the domain errors of this area to responses: the
// billing service's errors, and the operator API's authentication.
var billingErrors = []errorMapping{
	{errOperatorDisabled, http.StatusServiceUnavailable, "billing.error.operator_disabled"},
	{errOperatorUnauthorized, http.StatusUnauthorized, "billing.error.operator_unauthorized"},
	{errInvalidJSON, http.StatusBadRequest, "billing.error.invalid_json"},
	{billing.ErrDisabled, http.StatusConflict, "billing.error.disabled"},
	{billing.ErrLineNotFound, http.StatusNotFound, "billing.error.line_not_found"},
	{billing.ErrInvoiceNotFound, http.StatusNotFound, "billing.error.invoice_not_found"},
	{billing.ErrInvoiceNotIssued, http.StatusConflict, "billing.error.invoice_not_issued"},
	{billing.ErrInvalidMonths, http.StatusBadRequest, "billing.error.invalid_months"},
	{billing.ErrInvalidLines, http.StatusBadRequest, "billing.error.invalid_lines"},
	{billing.ErrInvalidExtension, http.StatusBadRequest, "billing.error.invalid_extension"},
	{billing.ErrInvalidState, http.StatusBadRequest, "billing.error.invalid_state"},
	{billing.ErrLineUnpaid, http.StatusConflict, "billing.error.line_unpaid"},
}
