// Package provision reads a Dialtone provisioning document (YAML): the
// accounts with their keys, numbers, templates, voice files, flow control
// and receipt subscriptions, and the simulated telephone network.
//
// Parse is strict: every unknown key and every invalid value is reported
// with its line and key path, all at once, so an operator fixes a file in
// one round. Apply writes the parts the store knows about; it is idempotent,
// so the same file can be applied at every start and through the admin API.
//
// Absent optional fields take their documented defaults, and applying a
// file sets the objects it lists to exactly what it says: the file is the
// desired state of what it mentions, not a patch. Objects it does not
// mention (other accounts, other keys) are left alone.
package provision

import (
	"time"

	"github.com/dialtone-voice/dialtone"
)

// Document is a parsed and validated provisioning file.
type Document struct {
	// File is the name Parse was given, for messages.
	File     string
	Accounts []Account
	// Network is nil when the file has no network section; Network's
	// methods then describe the built-in defaults.
	Network *Network
	// Blacklist is the operator's global list of forbidden keywords; nil
	// when the file does not set it (the stored list is then kept).
	Blacklist []string
	// ConsoleUsers are the web console's users; nil when absent.
	ConsoleUsers []ConsoleUser
	// SIP is where the SIP carrier listens; nil when the file has no sip
	// section (defaults apply if there are trunks).
	SIP *SIP
	// Trunks and Routes send calls to SIP trunks; with no route matching a
	// call (or no trunks at all) it goes to the simulated network. They are
	// read at start only: Apply does not store them.
	Trunks []Trunk
	Routes []Route
}

// ConsoleUser is a person who signs in to the web console: an account
// user (AccountUID) or an operator. Exactly one of Password and
// PasswordHash is set; Password is never printed.
type ConsoleUser struct {
	Line int
	dialtone.ConsoleUserInput
}

// Account is one tenant as the file describes it: the account itself
// (Features nil when the file gives no products: all of them; UID empty
// when it gives none: Apply then reuses the account with the same Name or
// creates one with a generated UID) and what it holds.
type Account struct {
	Line int // line of the account in the file, for messages
	dialtone.Account
	AccessKeys    []AccessKey
	Numbers       []Number
	TTSTemplates  []TTSTemplate
	VoiceFiles    []VoiceFile
	FlowControl   dialtone.FlowControl // defaults filled in when absent
	Subscriptions []Subscription
	// SmartCallCallbackURL is empty when absent.
	SmartCallCallbackURL string
	// Blacklist holds the account's forbidden keywords; nil when absent.
	Blacklist []string
}

// AccessKey is a credential of an account; Actions nil (absent) or ["*"]
// allows all. Secret is never printed in errors or logs.
type AccessKey struct {
	Line int
	dialtone.AccessKey
}

// Number is a purchased display number.
type Number struct {
	Line int
	dialtone.Number
}

// TTSTemplate is a text-to-speech template with ${var} placeholders.
type TTSTemplate struct {
	Line int
	dialtone.TTSTemplate
}

// VoiceFile is an uploaded recording. Parse does not open the file: a
// missing file is reported when the file is imported, so that a document
// can be validated on a machine that does not hold the audio.
type VoiceFile struct {
	Line int
	dialtone.VoiceFile
	// Path is as written: Apply reads the file from its FileSource by this
	// name (relative to the document's directory). PathKey and PathLine
	// are the key path and line of the value, for messages.
	Path     string
	PathKey  string
	PathLine int
}

// Subscription is how an account receives one receipt type. At least one of
// Queue and PushURL is set.
type Subscription struct {
	Line        int
	MessageType string // dialtone.MsgVoiceReport, ...
	Queue       bool   // deliver to queue Alicom-Queue-<uid>-<MessageType>
	PushURL     string // HTTP batch push; empty when absent
	PushSecret  string // signs pushes; never printed; empty when absent
}

// CallResult is how a simulated subscriber reacts to a call.
type CallResult string

const (
	ResultAnswer      CallResult = "answer"
	ResultBusy        CallResult = "busy"
	ResultNoAnswer    CallResult = "no_answer"
	ResultRejected    CallResult = "rejected"
	ResultPoweredOff  CallResult = "powered_off"
	ResultSuspended   CallResult = "suspended"
	ResultInvalid     CallResult = "invalid"
	ResultUnreachable CallResult = "unreachable"
)

// Network is the simulated telephone network.
type Network struct {
	Line int
	// TimeScale multiplies every simulated duration: 0.01 makes a 30 s call
	// take 0.3 s of wall time. Always > 0; default 1.
	TimeScale float64
	// Default is the behaviour of every number not listed in Subscribers.
	Default     Behavior
	Subscribers []Subscriber
}

// Subscriber is one listed number of the simulated network. Its Behavior
// is already merged: keys it does not set come from the network's default,
// so the engine never has to merge.
type Subscriber struct {
	Line   int
	Number string
	Behavior
}

// Behavior is what a simulated subscriber does with a call. All durations
// are simulated time (before TimeScale).
type Behavior struct {
	Result CallResult // default answer
	// AnswerAfter is the ringing time before answering (Result answer).
	AnswerAfter time.Duration
	// Ring is the ringing time before a no_answer or rejected result; the
	// other failures happen without ringing.
	Ring time.Duration
	// HangupAfter is when, after answering, the subscriber hangs up; 0 means
	// it listens until the platform ends the call.
	HangupAfter time.Duration
	// DTMF lists the keys the subscriber presses, in order.
	DTMF []DTMF
	// Say lists the subscriber's utterances in a smart call, one per turn.
	Say []string
	// Silence is how long the subscriber stays silent after each prompt
	// before its next Say line (long values exercise the smart call's
	// MuteTime); 0 replies at once.
	Silence time.Duration
}

// DefaultBehavior is how unlisted numbers behave when the file sets no
// network default.
var DefaultBehavior = Behavior{Result: ResultAnswer, AnswerAfter: 2 * time.Second, Ring: 30 * time.Second}

// DTMF is one key press. Exactly one of AfterPrompt and At is meaningful:
// AfterPrompt > 0 presses Digits when the n-th prompt (1-based) finished;
// otherwise Digits are pressed At after answering.
type DTMF struct {
	AfterPrompt int
	At          time.Duration
	Digits      string
}

// Behavior returns how number behaves; it works on a nil Network.
func (n *Network) Behavior(number string) Behavior {
	if n == nil {
		return DefaultBehavior
	}
	for i := range n.Subscribers {
		if n.Subscribers[i].Number == number {
			return n.Subscribers[i].Behavior
		}
	}
	return n.Default
}

// Scale returns the time scale; it works on a nil Network.
func (n *Network) Scale() float64 {
	if n == nil || n.TimeScale <= 0 {
		return 1
	}
	return n.TimeScale
}

// SIP holds the SIP carrier's local settings.
type SIP struct {
	Line int
	// Listen is the local SIP address, host:port (UDP, and TCP on the same
	// port when a trunk uses it); empty: the carrier's default.
	Listen string
	// Advertise is the host (name or IP) put in Via, Contact and SDP when
	// Listen is a wildcard; empty: the local IP towards the first trunk.
	Advertise string
	// TLSListen is where TLS trunks reach us (host:port); empty: the SIP
	// port + 1. TLSCert and TLSKey are the PEM files of our certificate
	// there, required when a trunk uses tls.
	TLSListen, TLSCert, TLSKey string
	// RTPPortMin and RTPPortMax bound the local RTP ports; both 0: any.
	RTPPortMin, RTPPortMax int
	// RTPTimeout ends an answered call that receives no RTP for this long;
	// 0 when the file does not set it (the carrier's default, 30 s).
	RTPTimeout time.Duration
	// RTPTimeoutOff is set when the file disables the timeout (0s).
	RTPTimeoutOff bool
	// ASR is the speech recogniser of SmartCall legs; nil: the default
	// (PocketSphinx when it is installed).
	ASR *ASR
}

// ASR engines.
const (
	ASRPocketSphinx = "pocketsphinx"
	ASRHTTP         = "http"
	ASRNone         = "none"
)

// ASR configures speech recognition on SIP legs.
type ASR struct {
	Line int
	// Engine is pocketsphinx (default), http or none.
	Engine string
	// URL is the network service's endpoint (engine http).
	URL string
	// Timeout bounds one recognition (engine http); 0: its default.
	Timeout time.Duration
	// Models are named word lists (a grammar: exactly one of the words)
	// or keyword lists to spot; a SmartCall's AsrModelID or an account's
	// model picks one. The http engine receives the name.
	Models []ASRModel
	// Accounts give an account's calls a model when the SmartCall names
	// none.
	Accounts []ASRAccount
}

// ASRModel is a named set of words or keywords.
type ASRModel struct {
	Line     int
	Name     string
	Words    []string
	Keywords []string
}

// ASRAccount gives an account a model.
type ASRAccount struct {
	Line    int
	Account string
	Model   string
}

// Trunk is a SIP peer calls can be routed to. Password is never printed in
// errors or logs.
type Trunk struct {
	Line      int
	Name      string
	Address   string // host:port
	Transport string // udp (default), tcp or tls
	Username  string
	Password  string
	// FromDomain is the host of From, To and the Request-URI; empty: the
	// host of Address.
	FromDomain string
	// Presentation is from (default), pai or both.
	Presentation string
	Rewrite      []Rewrite
	// Codecs in order of preference; nil: PCMU then PCMA.
	Codecs []string
	// MaxCalls and MaxCPS cap concurrent calls and new calls per second;
	// 0 means no cap. Calls over a cap wait for room.
	MaxCalls int
	MaxCPS   float64
	// TLSCA is a PEM file of the CAs that may sign the trunk's certificate
	// (transport tls; empty: the system roots). TLSServerName is the name
	// that certificate must carry (empty: the host of Address).
	TLSCA         string
	TLSServerName string
}

// Rewrite replaces a leading Prefix of the callee number with Replace.
type Rewrite struct {
	Line    int
	Prefix  string
	Replace string
}

// Route sends the calls of Account (empty: every account) to callees
// starting with Prefix (empty: every callee) through Trunk. The longest
// matching prefix wins; on a tie an account's own route beats a route for
// every account, and the first written beats later ones.
type Route struct {
	Line    int
	Account string
	Prefix  string
	Trunk   string
}
