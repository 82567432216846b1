package billing

import "errors"

// Sentinel errors of the billing service. IssueInvoice, PayInvoice,
// CancelInvoice, ExtendLine and the views return them wrapped with the
// value at fault, so callers test them with errors.Is.
var (
	// ErrDisabled means billing is turned off in this deployment, so there
	// is nothing to invoice.
	ErrDisabled = errors.New("billing is disabled")

	// ErrLineNotFound means no line with the given id exists, or it belongs
	// to another portal than the caller's.
	ErrLineNotFound = errors.New("line not found")

	// ErrInvoiceNotFound means no invoice has the given id or number, or it
	// belongs to another portal than the caller's.
	ErrInvoiceNotFound = errors.New("invoice not found")

	// ErrInvoiceNotIssued means the invoice was already paid or cancelled, so
	// it cannot be paid or cancelled again.
	ErrInvoiceNotIssued = errors.New("invoice is not in the issued state")

	// ErrInvalidMonths means a month count is outside 1..MaxMonths.
	ErrInvalidMonths = errors.New("invalid number of months")

	// ErrInvalidLines means an invoice request named no line, too many lines
	// or the same line twice.
	ErrInvalidLines = errors.New("invalid list of lines")

	// ErrInvalidExtension means an extension request gave both or neither of
	// months and until, or an until that cannot be parsed.
	ErrInvalidExtension = errors.New("invalid extension")

	// ErrInvalidState means a filter named a billing state that does not
	// exist.
	ErrInvalidState = errors.New("invalid billing state")

	// ErrLineUnpaid means the line is suspended for non-payment, so it may not
	// be paired until it is paid.
	ErrLineUnpaid = errors.New("line is suspended until it is paid")
)
