package pop

import (
	"fmt"
	"net/http"
)

// Error is a gateway (protocol) error: it travels with a 4xx/5xx status and
// the POP error envelope, unlike business errors which use HTTP 200.
type Error struct {
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("%s (%d): %s", e.Code, e.Status, e.Message) }

// Gateway error constructors, with the statuses and messages real POP uses.

func ErrMissing(name string) *Error {
	return &Error{http.StatusBadRequest, "Missing" + name, name + " is mandatory for this action."}
}

func ErrInvalidParameter(name, why string) *Error {
	return &Error{http.StatusBadRequest, "InvalidParameter", fmt.Sprintf("The specified parameter %q is not valid: %s", name, why)}
}

func ErrSignatureDoesNotMatch(stringToSign string) *Error {
	return &Error{http.StatusBadRequest, "SignatureDoesNotMatch",
		"Specified signature is not matched with our calculation. server string to sign is:" + stringToSign}
}

func ErrIncompleteSignature(why string) *Error {
	return &Error{http.StatusBadRequest, "IncompleteSignature", "The request signature does not conform to Aliyun standards. " + why}
}

func ErrAccessKeyNotFound() *Error {
	return &Error{http.StatusNotFound, "InvalidAccessKeyId.NotFound", "Specified access key is not found."}
}

func ErrAccessKeyInactive() *Error {
	return &Error{http.StatusBadRequest, "InvalidAccessKeyId.Inactive", "Specified access key is disabled."}
}

func ErrTimestampExpired() *Error {
	return &Error{http.StatusBadRequest, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired."}
}

func ErrTimestampFormat(name string) *Error {
	return &Error{http.StatusBadRequest, "InvalidTimeStamp.Format", "Specified " + name + " is not in the ISO 8601 UTC format yyyy-MM-ddTHH:mm:ssZ."}
}

func ErrNonceUsed() *Error {
	return &Error{http.StatusBadRequest, "SignatureNonceUsed", "Specified signature nonce was used already."}
}

func ErrSecurityTokenExpired() *Error {
	return &Error{http.StatusBadRequest, "InvalidSecurityToken.Expired", "Specified SecurityToken is expired."}
}

func ErrSecurityTokenMismatch() *Error {
	return &Error{http.StatusBadRequest, "InvalidSecurityToken.Mismatch", "Specified SecurityToken does not match the access key."}
}

func ErrSecurityTokenMissing() *Error {
	return &Error{http.StatusBadRequest, "MissingSecurityToken", "SecurityToken is mandatory for a temporary access key."}
}

func ErrActionNotFound() *Error {
	return &Error{http.StatusNotFound, "InvalidAction.NotFound", "Specified api is not found, please check your url and method."}
}

func ErrInvalidVersion() *Error {
	return &Error{http.StatusBadRequest, "InvalidVersion", "Specified parameter Version is not valid."}
}

func ErrThrottlingUser() *Error {
	return &Error{http.StatusBadRequest, "Throttling.User", "Request was denied due to user flow control."}
}

func ErrInternal() *Error {
	return &Error{http.StatusInternalServerError, "InternalError", "The request processing has failed due to some unknown error."}
}

func ErrServiceUnavailable() *Error {
	return &Error{http.StatusServiceUnavailable, "ServiceUnavailable", "The request has failed due to a temporary failure of the server."}
}
