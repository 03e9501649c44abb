package engine

import "github.com/dialtone-voice/dialtone"

// Smart status codes (reference §4.6).
const (
	SmartAnswered     = "ANSWERED"
	SmartCancel       = dialtone.SmartStatusCancel
	SmartRejected     = "CALL_REJECTED"
	SmartBarred       = "INCOMING_CALL_BARRED"
	SmartInvalid      = "INVALID_NUMBER"
	SmartNoAnswer     = "NO_ANSWER"
	SmartNoResponding = "NO_USER_RESPONDING"
	SmartNetworkBusy  = "NETWORK_BUSY"
	SmartPoweredOff   = "POWERED_OFF"
	SmartSuspend      = "SUSPEND"
	SmartUserBusy     = "USER_BUSY"
	SmartUnavailable  = "UNAVAILABLE"
	SmartOther        = "OTHER"
)

// Hang-up directions as receipts spell them.
const (
	HangupUser    = dialtone.HangupUser
	HangupMachine = dialtone.HangupMachine
)

// LegRole says which leg of which kind of call failed, because the same
// carrier reason has different status codes for a single call's callee, a
// two-leg call's caller (A) and its callee (B).
type LegRole int

const (
	RoleSingle LegRole = iota // the only leg of a notification, IVR or smart call
	RoleCaller                // A leg of a click-to-dial call
	RoleCallee                // B leg of a click-to-dial call (or a smart-call transfer)
)

// Outcome is the status pair a failure ends a call with.
type Outcome struct {
	StatusCode      string
	SmartStatusCode string
}

// failTable maps every carrier failure reason to its outcome for each leg
// role. It is the one place these mappings live; status_test.go checks each
// row.
var failTable = map[dialtone.FailReason][3]Outcome{
	//                         single                                           caller (A)                                        callee (B)
	dialtone.FailBusy:        {{dialtone.StatusBusy, SmartUserBusy}, {dialtone.StatusBusy, SmartUserBusy}, {dialtone.StatusCalleeBusy, SmartUserBusy}},
	dialtone.FailNoAnswer:    {{dialtone.StatusNoAnswer, SmartNoAnswer}, {dialtone.StatusNoAnswer, SmartNoAnswer}, {dialtone.StatusCalleeNoAnswer, SmartNoAnswer}},
	dialtone.FailRejected:    {{dialtone.StatusUnreachable, SmartRejected}, {dialtone.StatusUnreachable, SmartRejected}, {dialtone.StatusCalleeRejected, SmartRejected}},
	dialtone.FailPoweredOff:  {{dialtone.StatusPoweredOff, SmartPoweredOff}, {dialtone.StatusPoweredOff, SmartPoweredOff}, {dialtone.StatusCalleeOutOfArea, SmartPoweredOff}},
	dialtone.FailSuspended:   {{dialtone.StatusSuspended, SmartSuspend}, {dialtone.StatusSuspended, SmartSuspend}, {dialtone.StatusCalleeOutOfArea, SmartSuspend}},
	dialtone.FailInvalid:     {{dialtone.StatusInvalidNumber, SmartInvalid}, {dialtone.StatusInvalidNumber, SmartInvalid}, {dialtone.StatusCalleeInvalid, SmartInvalid}},
	dialtone.FailUnreachable: {{dialtone.StatusUnreachable, SmartUnavailable}, {dialtone.StatusOutOfService, SmartNoResponding}, {dialtone.StatusCalleeOutOfArea, SmartUnavailable}},
	dialtone.FailOutOfArea:   {{dialtone.StatusOutOfService, SmartNoResponding}, {dialtone.StatusOutOfService, SmartNoResponding}, {dialtone.StatusCalleeOutOfArea, SmartNoResponding}},
	dialtone.FailRestricted:  {{dialtone.StatusCallRestricted, SmartBarred}, {dialtone.StatusCallerRestricted, SmartBarred}, {dialtone.StatusCalleeRestricted, SmartBarred}},
	// We gave up before an answer (CancelCall, shutdown): the far end rang
	// without answering, as the far end saw it; CANCEL says why.
	dialtone.FailCancelled: {{dialtone.StatusNoAnswer, SmartCancel}, {dialtone.StatusNoAnswer, SmartCancel}, {dialtone.StatusCalleeNoAnswer, SmartCancel}},
	dialtone.FailSystem:    {{dialtone.StatusSystemError, SmartOther}, {dialtone.StatusSystemError, SmartOther}, {dialtone.StatusSystemError, SmartOther}},
}

// FailOutcome returns the status pair for a leg that failed with reason;
// unknown reasons are system errors.
func FailOutcome(reason dialtone.FailReason, role LegRole) Outcome {
	row, ok := failTable[reason]
	if !ok || role < RoleSingle || role > RoleCallee {
		return Outcome{dialtone.StatusSystemError, SmartOther}
	}
	return row[role]
}

// Early-media codes (reference §4.5, early_media_code): what the carrier's
// announcement said about a call that was not answered.
const (
	EarlyBusy        = "200002"
	EarlyNoAnswer    = "200003"
	EarlyEmptyNumber = "200004"
	EarlyRejected    = "200005" // rejected or unreachable
	EarlyOutOfArea   = "200007"
	EarlyPoweredOff  = "200010"
	EarlySuspended   = "200011"
	EarlyCallLoss    = "200012"
	EarlyOther       = "200130"
)

// earlyMediaTable maps a failure reason to its early_media_code.
var earlyMediaTable = map[dialtone.FailReason]string{
	dialtone.FailBusy:        EarlyBusy,
	dialtone.FailNoAnswer:    EarlyNoAnswer,
	dialtone.FailCancelled:   EarlyNoAnswer, // we gave up while it rang
	dialtone.FailInvalid:     EarlyEmptyNumber,
	dialtone.FailRejected:    EarlyRejected,
	dialtone.FailUnreachable: EarlyRejected,
	dialtone.FailOutOfArea:   EarlyOutOfArea,
	dialtone.FailPoweredOff:  EarlyPoweredOff,
	dialtone.FailSuspended:   EarlySuspended,
	dialtone.FailRestricted:  EarlyCallLoss,
	dialtone.FailSystem:      EarlyOther,
}

// EarlyMediaCode is the early_media_code of an unanswered leg: the reason
// its early media stated when the carrier recognised one
// (detail["early_media_reason"]), else the reason it failed with.
func EarlyMediaCode(reason dialtone.FailReason, detail map[string]string) string {
	if said := dialtone.FailReason(detail["early_media_reason"]); said != "" {
		if code, ok := earlyMediaTable[said]; ok {
			return code
		}
	}
	if code, ok := earlyMediaTable[reason]; ok {
		return code
	}
	return EarlyOther
}
