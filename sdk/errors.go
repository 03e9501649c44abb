package sdk

import (
	"errors"
	"fmt"
	"strings"
)

// Error is a failure reported by the service: a business code (HTTP 200
// with Code != "OK", e.g. isv.BUSINESS_LIMIT_CONTROL), a gateway error
// (HTTP 4xx/5xx with a JSON body, e.g. SignatureDoesNotMatch) or an MNS
// error of the receipt queues (XML body).
type Error struct {
	Code       string // e.g. "isv.INVALID_PARAMETERS", "Throttling.User"
	Message    string
	RequestID  string
	HTTPStatus int    // 200 for business codes
	Recommend  string // troubleshooting link of gateway errors, if any
	Action     string // the action (or MNS operation) that failed
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("dialtone")
	if e.Action != "" {
		b.WriteString(" " + e.Action)
	}
	fmt.Fprintf(&b, ": %s", e.Code)
	if e.Code == "" {
		fmt.Fprintf(&b, "HTTP %d", e.HTTPStatus)
	} else if e.HTTPStatus != 200 {
		fmt.Fprintf(&b, " (HTTP %d)", e.HTTPStatus)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.RequestID != "" {
		b.WriteString(" [RequestId " + e.RequestID + "]")
	}
	return b.String()
}

// Sentinels for errors.Is on an *Error.
var (
	// ErrThrottled: the gateway's rate limit (Throttling, Throttling.User,
	// Throttling.Api, MNS QpsLimitExceeded). Retried automatically.
	ErrThrottled = errors.New("dialtone: throttled")
	// ErrFlowControlled: per-callee frequency control
	// (isv.BUSINESS_LIMIT_CONTROL). Not retried: waiting minutes is the fix.
	ErrFlowControlled = errors.New("dialtone: flow control (isv.BUSINESS_LIMIT_CONTROL)")
	// ErrInvalidParameters: isv.INVALID_PARAMETERS, Missing*,
	// InvalidParameter*.
	ErrInvalidParameters = errors.New("dialtone: invalid parameters")
	// ErrAuth: the credentials or the signature were refused
	// (SignatureDoesNotMatch, InvalidAccessKeyId.*, InvalidSecurityToken.*,
	// SecurityTokenExpired, isp.RAM_PERMISSION_DENY, SignatureNonceUsed,
	// InvalidTimeStamp.Expired, IncompleteSignature, Forbidden.RAM, MNS
	// AccessDenied and TimeExpired).
	ErrAuth = errors.New("dialtone: authentication or authorization failed")
)

// Is reports whether e is of the kind of one of the sentinels.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrThrottled:
		return isThrottling(e.Code)
	case ErrFlowControlled:
		return e.Code == "isv.BUSINESS_LIMIT_CONTROL"
	case ErrInvalidParameters:
		return e.Code == "isv.INVALID_PARAMETERS" || e.Code == "InvalidParameters" ||
			strings.HasPrefix(e.Code, "Missing") || strings.HasPrefix(e.Code, "InvalidParameter")
	case ErrAuth:
		switch e.Code {
		case "SignatureDoesNotMatch", "IncompleteSignature", "isp.RAM_PERMISSION_DENY", "SignatureNonceUsed",
			"InvalidTimeStamp.Expired", "Forbidden.RAM", "SecurityTokenExpired", "AccessDenied", "TimeExpired",
			"InvalidAccessKeyId", "InvalidSecurityToken":
			return true
		}
		return strings.HasPrefix(e.Code, "InvalidAccessKeyId.") || strings.HasPrefix(e.Code, "InvalidSecurityToken.")
	}
	return false
}

func isThrottling(code string) bool {
	return code == "Throttling" || strings.HasPrefix(code, "Throttling.") || code == "QpsLimitExceeded"
}
