package portal

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Error codes of the Bitrix24 REST and OAuth servers that the client acts on.
const (
	CodeExpiredToken       = "expired_token"
	CodeInvalidToken       = "invalid_token"
	CodeQueryLimitExceeded = "QUERY_LIMIT_EXCEEDED"
	CodeOperationTimeLimit = "OPERATION_TIME_LIMIT"
	CodeOverloadLimit      = "OVERLOAD_LIMIT"
	CodeInvalidGrant       = "invalid_grant"
	CodeInvalidClient      = "invalid_client"
	CodePaymentRequired    = "PAYMENT_REQUIRED"
	CodeNotActiveLine      = "NOT_ACTIVE_LINE"
	CodeErrorCore          = "ERROR_CORE"
	CodeMethodNotFound     = "ERROR_METHOD_NOT_FOUND"
)

// Attention reasons stored in portals.attention_reason by the client. The
// refresh reasons are the OAuth error codes themselves.
const (
	AttentionOverload        = "overload"
	AttentionInvalidGrant    = CodeInvalidGrant
	AttentionInvalidClient   = CodeInvalidClient
	AttentionPaymentRequired = CodePaymentRequired
)

// APIError is an error returned by a portal or the OAuth server: the HTTP
// status and the error code and description of the body. In-200 errors (of
// imconnector.register and of batch commands) carry HTTPStatus 200.
type APIError struct {
	HTTPStatus  int
	Code        string
	Description string

	// operatingResetAt is time.operating_reset_at of the error body, if any.
	operatingResetAt int64
}

// Error returns the code, description and status in one line.
func (e *APIError) Error() string {
	if e.Description == "" {
		return fmt.Sprintf("bitrix24 error %s (HTTP %d)", e.Code, e.HTTPStatus)
	}
	return fmt.Sprintf("bitrix24 error %s: %s (HTTP %d)", e.Code, e.Description, e.HTTPStatus)
}

// IsCode reports whether err wraps an APIError with the given code. Codes are
// compared case-insensitively because Bitrix24 mixes expired_token and
// QUERY_LIMIT_EXCEEDED styles.
func IsCode(err error, code string) bool {
	var apiErr *APIError
	return errors.As(err, &apiErr) && strings.EqualFold(apiErr.Code, code)
}

// CheckResultTrue decodes a result of the form {"result":true} or
// {"result":false,"error":"...","error_description":"..."}, which
// imconnector.register and imconnector.unregister return inside a 200, and
// returns the in-200 failure as an APIError.
func CheckResultTrue(result json.RawMessage) error {
	var body struct {
		Result      any    `json:"result"`
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if err := json.Unmarshal(result, &body); err != nil {
		return fmt.Errorf("decode result %.200s: %w", result, err)
	}
	if body.Error != "" || !truthy(body.Result) {
		code := body.Error
		if code == "" {
			code = "RESULT_FALSE"
		}
		return &APIError{HTTPStatus: 200, Code: code, Description: body.Description}
	}
	return nil
}

// truthy accepts the forms a PHP true takes in JSON: true, 1, "1", "Y".
func truthy(v any) bool {
	switch t := v.(type) {
	case bool:
		return t
	case float64:
		return t != 0
	case string:
		return t == "1" || strings.EqualFold(t, "Y") || strings.EqualFold(t, "true")
	}
	return false
}
