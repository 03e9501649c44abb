package dialtone

import "time"

// CallKind is the action family that created a call; each has its own state
// machine in the engine and its own ProdId in call-detail queries.
type CallKind string

const (
	KindVoice       CallKind = "voice"       // SingleCallByVoice
	KindTTS         CallKind = "tts"         // SingleCallByTts
	KindIVR         CallKind = "ivr"         // IvrCall
	KindClickToDial CallKind = "clicktodial" // ClickToDial
	KindSmartCall   CallKind = "smartcall"   // SmartCall
)

// ProdId values of QueryCallDetailByCallId (reference vms-api.md §3.8).
const (
	ProdVoiceNotify      int64 = 11000000300006
	ProdVerificationCode int64 = 11010000138001
	ProdIVR              int64 = 11000000300005
	ProdClickToDial      int64 = 11000000300004
	ProdSIP              int64 = 11000000300009
	ProdSmartCall        int64 = 11030000180001
)

// CallState is where a call is in its life.
type CallState string

const (
	CallQueued   CallState = "queued"   // accepted, not yet dialled
	CallDialing  CallState = "dialing"  // a leg was originated
	CallRinging  CallState = "ringing"  // the far end rings
	CallAnswered CallState = "answered" // media flows (for two-leg calls: A answered)
	CallBridged  CallState = "bridged"  // two-leg call talking
	CallEnded    CallState = "ended"    // final; StatusCode is set
)

// LegTimes are the moments of one leg; zero times mean "never happened".
type LegTimes struct {
	Originate time.Time
	Ring      time.Time
	Start     time.Time // answered
	End       time.Time
}

// Call is one call created through the API. Kind-specific request parameters
// live in Params as the engine's own JSON document.
type Call struct {
	ID               string
	AccountUID       string
	Kind             CallKind
	ProdID           int64
	Caller           string // number the call is shown from (A leg number for two-leg calls)
	Callee           string
	CallerShowNumber string
	CalleeShowNumber string
	OutID            string
	Params           []byte // JSON, engine-defined

	State           CallState
	StatusCode      string // final carrier code, e.g. "200000"
	SmartStatusCode string // e.g. "ANSWERED"
	StatusMsg       string
	HangupDirection string // HangupUser (用户) or HangupMachine (机器)
	DTMF            string
	Reason          string // recorded system reason, for ends not caused by the far end

	CreatedAt time.Time
	A         LegTimes // for single calls the only leg
	B         LegTimes // second leg of two-leg calls
	Duration  int      // talk seconds

	Node      string    // node that owns the call while it is live
	LeaseTill time.Time // ownership lease
	Version   int64     // optimistic concurrency
}

// ProdIDFor returns the ProdId that QueryCallDetailByCallId expects for a call
// of kind; verification says whether a TTS call used a verification template.
func ProdIDFor(kind CallKind, verification bool) int64 {
	switch kind {
	case KindVoice:
		return ProdVoiceNotify
	case KindTTS:
		if verification {
			return ProdVerificationCode
		}
		return ProdVoiceNotify
	case KindIVR:
		return ProdIVR
	case KindClickToDial:
		return ProdClickToDial
	case KindSmartCall:
		return ProdSmartCall
	}
	return 0
}
