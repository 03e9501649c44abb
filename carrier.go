package dialtone

import (
	"context"
	"time"
)

// FailReason is why a leg was not answered or ended, in carrier-neutral
// terms; the engine maps it to status_code and smart_status_code.
type FailReason string

const (
	FailBusy        FailReason = "busy"
	FailNoAnswer    FailReason = "no_answer"
	FailRejected    FailReason = "rejected"
	FailPoweredOff  FailReason = "powered_off"
	FailSuspended   FailReason = "suspended"
	FailInvalid     FailReason = "invalid"
	FailUnreachable FailReason = "unreachable"
	FailOutOfArea   FailReason = "out_of_area"
	FailRestricted  FailReason = "restricted"
	FailCancelled   FailReason = "cancelled" // we cancelled before answer
	FailSystem      FailReason = "system"
)

// LegEventKind is a kind of progress on a leg.
type LegEventKind string

const (
	LegTrying     LegEventKind = "trying"
	LegRinging    LegEventKind = "ringing"
	LegEarlyMedia LegEventKind = "early_media"
	LegAnswered   LegEventKind = "answered"
	LegFailed     LegEventKind = "failed" // never answered; Reason says why
	LegHangup     LegEventKind = "hangup" // the far end hung up after answer
	LegDTMF       LegEventKind = "dtmf"
	LegSpeech     LegEventKind = "speech" // a recognised utterance
	LegSilence    LegEventKind = "silence"
)

// LegEvent is one event of a leg.
type LegEvent struct {
	Kind   LegEventKind
	At     time.Time
	Reason FailReason
	Digits string // LegDTMF
	Text   string // LegSpeech
	// SpeechStart/SpeechEnd bound the utterance (LegSpeech).
	SpeechStart, SpeechEnd time.Time
	// Detail carries carrier specifics (SIP status, early-media text).
	Detail map[string]string
}

// OriginateRequest asks a carrier for one leg.
type OriginateRequest struct {
	CallID      string
	Leg         string // "A" or "B"
	AccountUID  string
	To          string // the number dialled
	From        string // the display number shown
	RingTimeout time.Duration
	// Listen, when set, asks the carrier to listen to the party once it
	// answers (SmartCall): cut its speech at PauseTime, recognise each
	// utterance with the AsrModelID grammar, and report LegSpeech. A
	// LegSpeech with empty Text and SpeechEnd-SpeechStart of at least
	// ActionCodeTimeBreak is the barge-in report of a caller still talking
	// over a prompt. MuteTime is the engine's to time, not the carrier's.
	Listen *SmartPlan
}

// Audio is mono 16-bit PCM at 8 kHz, ready for G.711.
type Audio struct {
	Samples []int16
	// Label says what it is, for transcripts ("TTS_100001: 您的验证码是1234").
	Label string
}

// Duration is how long the audio plays.
func (a *Audio) Duration() time.Duration {
	return time.Duration(len(a.Samples)) * time.Second / 8000
}

// Carrier places legs on a telephone network: the simulated one, or a SIP
// trunk.
type Carrier interface {
	Originate(ctx context.Context, req OriginateRequest) (Leg, error)
}

// Leg is one party of a call. Events delivers progress until the leg ends
// (after LegFailed or LegHangup, or after Hangup); it is then closed.
type Leg interface {
	Events() <-chan LegEvent
	// Play plays audio to the party and returns when it finished, when
	// interrupt fires (barge-in), or when the leg ends; interrupted reports
	// whether it stopped early.
	Play(ctx context.Context, a *Audio, interrupt <-chan struct{}) (interrupted bool, err error)
	// Bridge connects the media of this leg and other both ways.
	Bridge(ctx context.Context, other Leg) error
	// Record starts recording this leg's conversation; the recording is
	// returned by Hangup's caller through Recording.
	Record(ctx context.Context) error
	// Recording returns the stereo WAV recorded so far (nil if none).
	Recording() []byte
	// Hangup ends the leg (CANCEL before answer, BYE after).
	Hangup(ctx context.Context) error
	// Stats reports media statistics (RTP packets, loss, jitter) if any.
	Stats() map[string]string
}

// Speaker renders TTS text to audio (espeak-ng behind it).
type Speaker interface {
	Speak(ctx context.Context, text, voice string, speed, volume int) (*Audio, error)
}
