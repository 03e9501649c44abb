// Package provision reads a Dialtone provisioning document (YAML): the
// accounts with their keys, numbers, templates, voice files, flow control
// and receipt subscriptions; the simulated telephone network, which every
// node sharing the store runs; and the node configuration read at start
// (SIP trunks and routes), decoded into the types of the packages that own
// them (carrier/sim, carrier/sip/sipconf).
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

	"gopkg.in/yaml.v3"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/carrier/sim"
	"github.com/dialtone-voice/dialtone/carrier/sip/sipconf"
)

// Document is a parsed and validated provisioning file.
type Document struct {
	// File is the name Parse was given, for messages.
	File     string
	Accounts []Account
	// Network is the simulated network (the simulator's model); nil when
	// the file has no network section (its methods then describe the
	// built-in defaults). Apply stores it (sim.EncodeConfig) as the network
	// of every node sharing the store.
	Network *sim.Config
	// Blacklist is the operator's global list of forbidden keywords; nil
	// when the file does not set it (the stored list is then kept).
	Blacklist []string
	// ConsoleUsers are the web console's users; nil when absent.
	ConsoleUsers []ConsoleUser
	// SIP is the SIP carrier's configuration, from the sip, trunks and
	// routes sections; nil when the file has none of them. Calls matching
	// a route go through its trunks; every other call (all of them without
	// trunks) goes to the simulated network. Read at start only: Apply
	// does not store it.
	SIP *sipconf.Config
	// EgressAllow is the node's egress allow-list (egress_allow): the
	// addresses, prefixes and host names that URLs entered by account users
	// may reach although they are loopback or private, added to
	// --egress-allow and DIALTONE_EGRESS_ALLOW. nil when absent. Read at
	// start only: Apply does not store it.
	EgressAllow []string

	// root is the parsed YAML, for Line.
	root *yaml.Node
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
	// SmartCallCallbackSecret signs the callbacks; empty when absent (the
	// stored one is kept). Never printed. With SmartCallCallbackSecretGrace
	// a new secret rotates: the replaced one keeps signing that long.
	SmartCallCallbackSecret      string
	SmartCallCallbackSecretGrace time.Duration
	// Blacklist holds the account's forbidden keywords; nil when absent.
	Blacklist []string
	// MachineDetection is the account's machine_detection setting; empty
	// when absent (the account keeps what it has).
	MachineDetection dialtone.MachineDetection
	// Media streams: the agent's and the fork's URLs (empty when absent:
	// the account keeps what it has) and the fork's kinds (nil when
	// absent; [] for every kind).
	SmartCallStreamURL string
	ForkStreamURL      string
	ForkStreamKinds    []dialtone.ForkKind
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
	// PushSecretGrace, when a new PushSecret replaces the stored one,
	// keeps the replaced one signing that long (a rotation).
	PushSecretGrace time.Duration
}
