package sim

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dialtone-voice/dialtone/internal/fielderr"
)

// The simulator's model: how its subscribers behave. A provisioning file's
// network section decodes into Config; the console changes behaviours of
// a running Network.

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

// CallResults are every result, in the order forms and messages list them.
var CallResults = []CallResult{ResultAnswer, ResultBusy, ResultNoAnswer, ResultRejected,
	ResultPoweredOff, ResultSuspended, ResultInvalid, ResultUnreachable}

// Answers reports whether the subscriber answers; "" answers too. Only then
// do AnswerAfter, HangupAfter, DTMF, Say and Silence apply.
func (r CallResult) Answers() bool { return r == ResultAnswer || r == "" }

// Rings reports whether the subscriber rings before failing; only then
// does Ring apply. The other failures happen without ringing.
func (r CallResult) Rings() bool { return r == ResultNoAnswer || r == ResultRejected }

// Config is the simulated telephone network as configured: a
// provisioning file's network section.
type Config struct {
	// TimeScale multiplies every simulated duration: 0.01 makes a 30 s call
	// take 0.3 s of wall time. Greater than 0; 0 means 1.
	TimeScale float64
	// Default is the behaviour of every number not listed in Subscribers.
	Default Behavior
	// Subscribers are the listed numbers.
	Subscribers []Subscriber
}

// Subscriber is one listed number of the simulated network. Its Behavior
// is complete: a provisioning file's subscriber inherits the keys it does
// not set from the network's default when it is decoded, so the network
// never has to merge.
type Subscriber struct {
	// Number is 5 to 20 digits with an optional leading +.
	Number string
	Behavior
}

// Behavior is what a simulated subscriber does with a call. All durations
// are simulated time (before TimeScale) and not negative.
type Behavior struct {
	Result CallResult // "" answers
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

	// Who or what picks up an answered call, as the platform hears it
	// (answering-machine detection; see answerer.go). The audio is made
	// when the call is answered and heard only by a call that listens.
	//
	// AnsweredBy is a person ("" too), a voicemail box or a fax machine.
	AnsweredBy Answerer
	// Hello is what a person says right after answering, in Voice; ""
	// answers in silence and waits for the caller to speak.
	Hello string
	// Greeting is a voicemail box's greeting, in Voice; "" is
	// DefaultGreeting. GreetingLength, if set, is how long it lasts: the
	// text is said again, or cut, to last that long.
	Greeting       string
	GreetingLength time.Duration
	// NoBeep: the voicemail box does not beep after its greeting.
	NoBeep bool
	// Voice is the espeak-ng voice of Hello and Greeting; "" is
	// DefaultVoice.
	Voice string

	// EarlyMedia is a call-progress tone the network plays while the call
	// rings ("" none): busy, congestion, special_information or ringback,
	// of TonePlan (CN when ""; EU, NA). The network reads it as a SIP
	// trunk's carrier does (package progress): a busy, congestion or
	// special information tone ends the call as busy or unreachable.
	EarlyMedia EarlyTone
	TonePlan   string
}

// Answerer is who or what picks up an answered call.
type Answerer string

const (
	AnsweredByPerson    Answerer = "person"
	AnsweredByVoicemail Answerer = "voicemail"
	AnsweredByFax       Answerer = "fax"
)

// Answerers are every answerer, in the order forms list them.
var Answerers = []Answerer{AnsweredByPerson, AnsweredByVoicemail, AnsweredByFax}

// OrPerson returns a, or AnsweredByPerson for "".
func (a Answerer) OrPerson() Answerer {
	if a == "" {
		return AnsweredByPerson
	}
	return a
}

// EarlyTone is a call-progress tone a network plays in early media.
type EarlyTone string

const (
	EarlyBusy       EarlyTone = "busy"
	EarlyCongestion EarlyTone = "congestion"
	EarlySIT        EarlyTone = "special_information"
	EarlyRingback   EarlyTone = "ringback"
)

// EarlyTones are every early-media tone, and TonePlans their plans, in
// the order forms list them.
var (
	EarlyTones = []EarlyTone{EarlyBusy, EarlyCongestion, EarlySIT, EarlyRingback}
	TonePlans  = []string{"CN", "EU", "NA"}
)

// Defaults of a voicemail box and of speech.
const (
	DefaultGreeting = "Hi, you have reached my voicemail. I can't take your call right now. " +
		"Please leave your name and number after the tone, and I will call you back."
	DefaultVoice = "en-us"
)

// DefaultBehavior is how unlisted numbers behave when the configuration
// sets no network default.
var DefaultBehavior = Behavior{Result: ResultAnswer, AnswerAfter: 2 * time.Second, Ring: 30 * time.Second}

// DTMF is one key press. At most one of AfterPrompt and At is set:
// AfterPrompt > 0 presses Digits when the n-th prompt (1-based) finished;
// otherwise Digits are pressed At after answering.
type DTMF struct {
	AfterPrompt int
	At          time.Duration
	// Digits are 1 to 32 of 0-9, *, #, A-D.
	Digits string
}

// Behavior returns how number behaves; it works on a nil Config (the
// built-in defaults).
func (c *Config) Behavior(number string) Behavior {
	if c == nil {
		return DefaultBehavior
	}
	for i := range c.Subscribers {
		if c.Subscribers[i].Number == number {
			return c.Subscribers[i].Behavior
		}
	}
	return c.Default
}

// Scale returns the time scale; it works on a nil Config.
func (c *Config) Scale() float64 {
	if c == nil || c.TimeScale <= 0 {
		return 1
	}
	return c.TimeScale
}

// Defaults returns c with the unset time scale at 1.
func (c Config) Defaults() Config {
	if c.TimeScale == 0 {
		c.TimeScale = 1
	}
	return c
}

// Validate reports every problem of the network at once, as field errors
// named by their provisioning keys (network.subscribers[0].result). What a
// subscriber inherits unchanged from the default is reported once, on the
// default.
func (c Config) Validate() error {
	var l fielderr.List
	if !(c.TimeScale >= 0) {
		l.Addf("network.time_scale", "must be greater than 0")
	}
	l.Add("network.default", c.Default.Validate())
	seen := make(map[string]int, len(c.Subscribers))
	for i, s := range c.Subscribers {
		path := fielderr.Index("network.subscribers", i)
		switch first, dup := seen[s.Number]; {
		case s.Number == "":
			l.Addf(path+".number", "missing: the subscriber has no number")
		case !ValidNumber(s.Number):
			l.Addf(path+".number", "%s must be 5 to 20 digits with an optional leading +", fielderr.Quote(s.Number))
		case dup:
			l.Duplicate(path+".number", fielderr.Index("network.subscribers", first)+".number", "duplicate subscriber %s", fielderr.Quote(s.Number))
		default:
			seen[s.Number] = i
		}
		l.Add(path, s.Behavior.validate(&c.Default))
	}
	return l.Err()
}

// Bounds of a behaviour: a subscriber is a test fixture, and a value far
// beyond these (9999h, a novel as one line) is a typing mistake that
// would otherwise hold a call for ever or flood the recogniser.
const (
	// MaxWait bounds answer_after, ring and silence (simulated time).
	MaxWait = 10 * time.Minute
	// MaxHangupAfter bounds hangup_after and a key press's at.
	MaxHangupAfter = 24 * time.Hour
	MaxDTMF        = 100
	MaxSay         = 100
	// MaxSayLine bounds one line a subscriber says (and a hello), in
	// characters.
	MaxSayLine = 500
	// MaxGreeting bounds a voicemail greeting, in characters, and
	// MaxGreetingLength how long it may be made to last.
	MaxGreeting       = 1000
	MaxGreetingLength = 2 * time.Minute
)

// fmtDuration writes a bound as people write it (10m, 24h).
func fmtDuration(d time.Duration) string {
	switch {
	case d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	case d%time.Minute == 0:
		return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	}
	return d.String()
}

// Validate reports what is wrong with one subscriber (as the console edits
// it): its number and its whole behaviour, as field errors named by their
// keys (number, answer_after, say[2]).
func (s Subscriber) Validate() error {
	var l fielderr.List
	if !ValidNumber(s.Number) {
		l.Addf("number", "%s must be 5 to 20 digits with an optional leading +", fielderr.Quote(s.Number))
	}
	if s.Result == "" {
		l.Addf("result", "choose one of answer, busy, no_answer, rejected, powered_off, suspended, invalid, unreachable")
	}
	l.Add("", s.Behavior.Validate())
	return l.Err()
}

// Validate reports every problem of the behaviour, as field errors named
// by their keys (result, dtmf[0].digits).
func (b Behavior) Validate() error { return b.validate(nil) }

var dtmfDigits = regexp.MustCompile(`^[0-9*#A-D]{1,32}$`)

// validate checks b, skipping the fields equal to those of inherited.
func (b Behavior) validate(inherited *Behavior) error {
	var l fielderr.List
	if inherited == nil || b.Result != inherited.Result {
		if b.Result != "" && !slices.Contains(CallResults, b.Result) {
			l.Addf("result", "%s is not one of answer, busy, no_answer, rejected, powered_off, suspended, invalid, unreachable", fielderr.Quote(string(b.Result)))
		}
	}
	var from Behavior
	if inherited != nil {
		from = *inherited
	}
	for _, d := range []struct {
		key     string
		v, from time.Duration
	}{{"answer_after", b.AnswerAfter, from.AnswerAfter}, {"ring", b.Ring, from.Ring},
		{"hangup_after", b.HangupAfter, from.HangupAfter}, {"silence", b.Silence, from.Silence}} {
		if inherited != nil && d.v == d.from {
			continue
		}
		max := MaxWait
		if d.key == "hangup_after" {
			max = MaxHangupAfter
		}
		switch {
		case d.v < 0:
			l.Addf(d.key, "must not be negative")
		case d.v > max:
			l.Addf(d.key, "must be at most %s", fmtDuration(max))
		}
	}
	if inherited == nil || !slices.Equal(b.DTMF, inherited.DTMF) {
		if len(b.DTMF) > MaxDTMF {
			l.Addf("dtmf", "has %d key presses, more than %d", len(b.DTMF), MaxDTMF)
		}
		for i, d := range b.DTMF {
			path := fielderr.Index("dtmf", i)
			if d.AfterPrompt < 0 {
				l.Addf(path+".after_prompt", "must be at least 1 (the first prompt)")
			}
			if d.At < 0 {
				l.Addf(path+".at", "must not be negative")
			} else if d.At > MaxHangupAfter {
				l.Addf(path+".at", "must be at most %s", fmtDuration(MaxHangupAfter))
			}
			if d.AfterPrompt > 0 && d.At > 0 {
				l.Addf(path, "set exactly one of after_prompt and at")
			}
			if !dtmfDigits.MatchString(d.Digits) {
				l.Addf(path+".digits", "%s must be 1 to 32 of 0-9, *, #, A-D", fielderr.Quote(d.Digits))
			}
		}
	}
	if inherited == nil || !slices.Equal(b.Say, inherited.Say) {
		if len(b.Say) > MaxSay {
			l.Addf("say", "has %d lines, more than %d", len(b.Say), MaxSay)
		}
		for i, s := range b.Say {
			if strings.TrimSpace(s) == "" {
				l.Addf(fielderr.Index("say", i), "must not be empty")
			} else if n := utf8.RuneCountInString(s); n > MaxSayLine {
				l.Addf(fielderr.Index("say", i), "has %d characters, more than %d", n, MaxSayLine)
			}
		}
	}
	// same: the field is inherited unchanged (reported on the default).
	same := func(eq bool) bool { return inherited != nil && eq }
	if !same(b.AnsweredBy == from.AnsweredBy) && b.AnsweredBy != "" && !slices.Contains(Answerers, b.AnsweredBy) {
		l.Addf("answered_by", "%s is not one of person, voicemail, fax", fielderr.Quote(string(b.AnsweredBy)))
	}
	if !same(b.Hello == from.Hello) && b.Hello != "" {
		if strings.TrimSpace(b.Hello) == "" {
			l.Addf("hello", "must not be blank (leave it out for a person who waits in silence)")
		} else if n := utf8.RuneCountInString(b.Hello); n > MaxSayLine {
			l.Addf("hello", "has %d characters, more than %d", n, MaxSayLine)
		}
	}
	if !same(b.Greeting == from.Greeting) && b.Greeting != "" {
		if strings.TrimSpace(b.Greeting) == "" {
			l.Addf("greeting", "must not be blank (leave it out for the default greeting)")
		} else if n := utf8.RuneCountInString(b.Greeting); n > MaxGreeting {
			l.Addf("greeting", "has %d characters, more than %d", n, MaxGreeting)
		}
	}
	if !same(b.GreetingLength == from.GreetingLength) {
		switch {
		case b.GreetingLength < 0:
			l.Addf("greeting_length", "must not be negative")
		case b.GreetingLength > MaxGreetingLength:
			l.Addf("greeting_length", "must be at most %s", fmtDuration(MaxGreetingLength))
		}
	}
	if !same(b.Voice == from.Voice) && b.Voice != "" && !voiceName.MatchString(b.Voice) {
		l.Addf("voice", "%s is not an espeak-ng voice name (letters, digits, - + _ /)", fielderr.Quote(b.Voice))
	}
	if !same(b.EarlyMedia == from.EarlyMedia) && b.EarlyMedia != "" && !slices.Contains(EarlyTones, b.EarlyMedia) {
		l.Addf("early_media", "%s is not one of busy, congestion, special_information, ringback", fielderr.Quote(string(b.EarlyMedia)))
	}
	if !same(b.TonePlan == from.TonePlan) && b.TonePlan != "" && !slices.Contains(TonePlans, b.TonePlan) {
		l.Addf("tone_plan", "%s is not one of CN, EU, NA", fielderr.Quote(b.TonePlan))
	}
	return l.Err()
}

var voiceName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_+/-]{0,63}$`)

// ValidNumber reports whether s is a subscriber number: 5 to 20 digits
// with an optional leading +.
func ValidNumber(s string) bool {
	s = strings.TrimPrefix(s, "+")
	if len(s) < 5 || len(s) > 20 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
