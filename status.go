package dialtone

import "time"

// ChinaTime is UTC+8, the zone of every "yyyy-MM-dd HH:mm:ss" time in
// Alibaba's voice API and receipts. A fixed zone avoids needing tzdata.
var ChinaTime = time.FixedZone("CST", 8*3600)

// TimeLayout is the layout of receipt and call-detail times.
const TimeLayout = "2006-01-02 15:04:05"

// FormatTime renders t in China time, or "" for the zero time.
func FormatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(ChinaTime).Format(TimeLayout)
}

// Status codes of calls (reference vms-api.md §4.5).
const (
	StatusCompleted        = "200000" // listened to the end / answered
	StatusHungUpEarly      = "200001"
	StatusBusy             = "200002"
	StatusNoAnswer         = "200003"
	StatusInvalidNumber    = "200004"
	StatusUnreachable      = "200005"
	StatusPlaybackFailed   = "200006"
	StatusOutOfService     = "200007"
	StatusDTMFTimeout      = "200008"
	StatusPoweredOff       = "200010"
	StatusSuspended        = "200011"
	StatusCallRestricted   = "200012"
	StatusTwoLegEnded      = "200100"
	StatusConnectingCaller = "200101"
	StatusCallerConnected  = "200102"
	StatusTalking          = "200103"
	StatusCallerRestricted = "200104"
	StatusCalleeRestricted = "200105"
	StatusCalleeRejected   = "200111"
	StatusCalleeBusy       = "200112"
	StatusCalleeNoAnswer   = "200113"
	StatusCalleeInvalid    = "200116"
	StatusDisplayInvalid   = "200117"
	StatusCalleeOutOfArea  = "200120"
	StatusOverConcurrency  = "200121"
	StatusRinging          = "200201"
	StatusDTMF             = "300000"
	StatusNotEstablished   = "9996"
	StatusSystemError      = "999999"
)

var statusText = map[string]string{
	StatusCompleted:        "用户听完语音/已接通",
	StatusHungUpEarly:      "用户未听完语音挂断",
	StatusBusy:             "用户忙",
	StatusNoAnswer:         "用户振铃未接听",
	StatusInvalidNumber:    "空号",
	StatusUnreachable:      "被叫无法接通",
	StatusPlaybackFailed:   "语音文件格式错误，播放失败",
	StatusOutOfService:     "无法接通或不在服务区",
	StatusDTMFTimeout:      "按键超时",
	StatusPoweredOff:       "关机",
	StatusSuspended:        "停机",
	StatusCallRestricted:   "呼损/呼叫受限",
	StatusTwoLegEnded:      "通话结束",
	StatusConnectingCaller: "呼叫开始",
	StatusCallerConnected:  "主叫已接通，正在呼叫被叫",
	StatusTalking:          "通话已建立",
	StatusCallerRestricted: "主叫号码受限",
	StatusCalleeRestricted: "被叫号码受限",
	StatusCalleeRejected:   "被叫拒接",
	StatusCalleeBusy:       "被叫忙",
	StatusCalleeNoAnswer:   "被叫振铃未接听",
	StatusCalleeInvalid:    "被叫空号",
	StatusDisplayInvalid:   "号显无效",
	StatusCalleeOutOfArea:  "被叫不在服务区",
	StatusOverConcurrency:  "呼叫超并发",
	StatusRinging:          "被叫振铃",
	StatusDTMF:             "按键",
	StatusNotEstablished:   "呼叫未建立或已结束",
	StatusSystemError:      "系统错误",
}

// StatusText describes a status code in the words of Alibaba's table, or
// returns the code itself when it has none.
func StatusText(code string) string {
	if t, ok := statusText[code]; ok {
		return t
	}
	return code
}

// Hang-up directions (Call.HangupDirection), as receipts spell them.
const (
	HangupUser    = "用户" // the called party (or, in a two-leg call, either party) hung up
	HangupMachine = "机器" // the platform ended the call: the message ended, a timeout, a cancel, the system
)

// SmartStatusCancel is the smart status code of a call given up before it
// ran its course: CancelCall (and the console's hang-up, which takes the
// same path), or a caller who hung up while the callee rang.
const SmartStatusCancel = "CANCEL"

// OutcomeClass is how a call went, in the few kinds an operator tells apart
// at a glance (the console gives each its own badge colour).
type OutcomeClass string

const (
	OutcomeLive      OutcomeClass = "live"      // not ended yet
	OutcomeAnswered  OutcomeClass = "answered"  // somebody answered and the call ran its course
	OutcomeBusy      OutcomeClass = "busy"      // the called party was busy
	OutcomeNoAnswer  OutcomeClass = "no-answer" // it rang and nobody answered
	OutcomeFailed    OutcomeClass = "failed"    // failed or rejected: invalid, unreachable, powered off, refused, restricted
	OutcomeCancelled OutcomeClass = "cancelled" // given up (smart status CANCEL): CancelCall, the console's hang-up, a caller who hung up while the callee rang
	OutcomeSystem    OutcomeClass = "system"    // ended by the system: an error, a restart or shutdown
)

// OutcomeClasses lists the classes of ended calls, in the order a legend
// shows them.
var OutcomeClasses = []OutcomeClass{OutcomeAnswered, OutcomeBusy, OutcomeNoAnswer, OutcomeFailed, OutcomeCancelled, OutcomeSystem}

// outcomeOfStatus is the class of each final status code (reference
// vms-api.md §4.5); it is the one place codes are sorted into classes.
// Codes it does not list are failures; intermediate codes never end a call.
var outcomeOfStatus = map[string]OutcomeClass{
	StatusCompleted:   OutcomeAnswered,
	StatusHungUpEarly: OutcomeAnswered, // answered, hung up before the message ended
	StatusDTMFTimeout: OutcomeAnswered, // answered, pressed no key
	StatusTwoLegEnded: OutcomeAnswered,
	StatusTalking:     OutcomeAnswered,

	StatusBusy:       OutcomeBusy,
	StatusCalleeBusy: OutcomeBusy,

	StatusNoAnswer:       OutcomeNoAnswer,
	StatusCalleeNoAnswer: OutcomeNoAnswer,

	StatusInvalidNumber:    OutcomeFailed,
	StatusUnreachable:      OutcomeFailed, // also a rejected call
	StatusPlaybackFailed:   OutcomeFailed,
	StatusOutOfService:     OutcomeFailed,
	StatusPoweredOff:       OutcomeFailed,
	StatusSuspended:        OutcomeFailed,
	StatusCallRestricted:   OutcomeFailed,
	StatusCallerRestricted: OutcomeFailed,
	StatusCalleeRestricted: OutcomeFailed,
	StatusCalleeRejected:   OutcomeFailed,
	StatusCalleeInvalid:    OutcomeFailed,
	StatusDisplayInvalid:   OutcomeFailed,
	StatusCalleeOutOfArea:  OutcomeFailed,
	StatusOverConcurrency:  OutcomeFailed, // refused: the display number's cap

	StatusSystemError:    OutcomeSystem,
	StatusNotEstablished: OutcomeSystem,
}

// ClassifyOutcome sorts a call into its outcome class by its state, final
// status code and smart status code. A cancelled call keeps the status code
// the far end saw (200003 before an answer, 200000 after one), so the smart
// code CANCEL decides first; an ended call without a code was ended by the
// system.
func ClassifyOutcome(state CallState, statusCode, smartStatusCode string) OutcomeClass {
	switch {
	case state != CallEnded:
		return OutcomeLive
	case smartStatusCode == SmartStatusCancel:
		return OutcomeCancelled
	case statusCode == "":
		return OutcomeSystem
	}
	if o, ok := outcomeOfStatus[statusCode]; ok {
		return o
	}
	return OutcomeFailed
}

// Outcome is the call's outcome class.
func (c *Call) Outcome() OutcomeClass {
	return ClassifyOutcome(c.State, c.StatusCode, c.SmartStatusCode)
}

// TalkStart is when talking began, or the zero time before: the callee's
// answer in a ClickToDial call (the caller is rung first), else the answer.
func (c *Call) TalkStart() time.Time {
	if c.Kind == KindClickToDial {
		return c.B.Start
	}
	return c.A.Start
}
