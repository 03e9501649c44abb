package dialtone

import (
	"errors"
	"fmt"
)

// Business error codes of the Voice Service (the seed document's section 6
// and the reference's error table). They travel to clients with HTTP 200 and
// Code != "OK"; only the gateway turns them into envelopes.
const (
	CodeOK                        = "OK"
	CodeRAMPermissionDeny         = "isp.RAM_PERMISSION_DENY"
	CodeOutOfService              = "isv.OUT_OF_SERVICE"
	CodeProductUnSubscript        = "isv.PRODUCT_UN_SUBSCRIPT"
	CodeProductUnsubscribe        = "isv.PRODUCT_UNSUBSCRIBE"
	CodeAccountNotExists          = "isv.ACCOUNT_NOT_EXISTS"
	CodeAccountAbnormal           = "isv.ACCOUNT_ABNORMAL"
	CodeTTSTemplateIllegal        = "isv.TTS_TEMPLATE_ILLEGAL"
	CodeTemplateIllegal           = "isv.TEMPLATE_ILLEGAL"
	CodeDisplayNumberIllegal      = "isv.DISPLAY_NUMBER_ILLEGAL"
	CodeTemplateMissingParameters = "isv.TEMPLATE_MISSING_PARAMETERS"
	CodeTemplateParamsIllegal     = "isv.TEMPLATE_PARAMS_ILLEGAL"
	CodeBlackKeyControlLimit      = "isv.BLACK_KEY_CONTROL_LIMIT"
	CodeInvalidParameters         = "isv.INVALID_PARAMETERS"
	CodeParamNotSupportURL        = "isv.PARAM_NOT_SUPPORT_URL"
	CodeSystemError               = "isp.SYSTEM_ERROR"
	CodeMobileNumberIllegal       = "isv.MOBILE_NUMBER_ILLEGAL"
	CodeBusinessLimitControl      = "isv.BUSINESS_LIMIT_CONTROL"
	CodeParamLengthLimit          = "isv.PARAM_LENGTH_LIMIT"
	CodeVoiceFileIllegal          = "isv.VOICE_FILE_ILLEGAL"
)

// Error is a business error carrying its Alibaba code. Message is safe to show
// to the API caller; Cause (if any) is for logs only and never sent.
type Error struct {
	Code    string
	Message string
	Cause   error
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return e.Code + ": " + e.Message + ": " + e.Cause.Error()
	}
	return e.Code + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Cause }

// Is makes errors.Is match two business errors with the same code.
func (e *Error) Is(target error) bool {
	var t *Error
	if errors.As(target, &t) {
		return t.Code == e.Code && t.Message == ""
	}
	return false
}

// Errorf returns a business error with a formatted, caller-safe message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// SystemError wraps an internal failure as isp.SYSTEM_ERROR; the cause stays
// in logs and is never shown to the caller.
func SystemError(cause error) *Error {
	return &Error{Code: CodeSystemError, Message: "A system error occurred; please retry later.", Cause: cause}
}

// AsError extracts a business error from err, turning anything else into
// isp.SYSTEM_ERROR.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return SystemError(err)
}

// Sentinel errors of the store.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")
)
