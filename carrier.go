package dialtone

import (
	"context"
	"errors"
	"fmt"
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
	// Bridge connects the media of this leg and other both ways; other
	// may be a leg of another carrier when both are MediaLegs.
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

// Cross-carrier bridging.
//
// A carrier bridges two of its own legs natively (RTP to RTP on SIP, shared
// bookkeeping on the simulated network). Operators route only some numbers
// to SIP trunks, so a click-to-dial or a SmartCall transfer often joins a
// leg on a trunk with a leg on the simulated network; neither carrier knows
// the other's media. Such legs meet on the one form every carrier can speak:
// the party's audio as 8 kHz mono 16-bit PCM (the form of Audio), moved in
// real time, plus the keys it presses.

// MediaFrameSamples is the natural unit of bridged audio: 20 ms at 8 kHz,
// one G.711 RTP packet.
const MediaFrameSamples = 160

// ErrNoMediaBridge is wrapped by the error of a Bridge between legs that
// have no media in common: another carrier's leg that is not a MediaLeg.
var ErrNoMediaBridge = errors.New("leg cannot exchange audio with a leg of another carrier")

// MediaSink takes what one party of a call is to hear. Both methods are
// called from the producing carrier's goroutines while audio flows, so they
// must not block; they drop what arrives after the sink's leg ended.
type MediaSink interface {
	// WriteAudio queues pcm (8 kHz mono, a 20 ms frame or a few), produced
	// at the pace of real time, to be heard by the party. The sink copies
	// what it keeps: pcm is the caller's again after the call.
	WriteAudio(pcm []int16)
	// WriteDTMF relays keys pressed on the other side of the bridge.
	WriteDTMF(keys string)
}

// MediaLeg is a Leg that can be bridged with a leg of another carrier. A
// carrier's Bridge keeps its own path for legs of its own and, when the
// other leg is foreign, joins the two with BridgeMedia.
type MediaLeg interface {
	Leg
	// MediaIn returns the sink for what this leg's party is to hear; it
	// fails when the leg has ended or is not answered.
	MediaIn() (MediaSink, error)
	// MediaOut sends what this leg's party says (real-time PCM) and the
	// keys it presses to sink, until the leg ends or MediaOut is called
	// again; nil stops sending.
	MediaOut(sink MediaSink) error
}

// PCMSource gives a leg audio to play, frame by frame, at the leg's own
// pace (a media stream's application: stream.Session). Read fills frame
// (MediaFrameSamples of 8 kHz PCM) and returns how many samples were
// audio, the rest being silence; it must never block, as the leg's media
// clock calls it.
type PCMSource interface {
	Read(frame []int16) int
}

// PCMSkipper is a PCMSource told of the frames its reader did not take:
// the carrier's media clock moved on without them (its sender fell more
// than a frame behind). A source that queues an application's real-time
// audio uses it to keep its latency; the reader never waits on it.
type PCMSkipper interface {
	PCMSource
	Skip(samples int)
}

// PCMPhaser is a PCMSource that says, after each Read, how early the
// audio it returned had come: lead, how long before the Read the newest
// of it arrived, when measured (the Read took audio sent in real time,
// not audio queued ahead); late, that the Read dropped audio that came
// after its slot. A reader on a fixed clock of its own (the SIP pacer)
// moves its slot to follow an application sending in real time, which
// would otherwise wait up to a frame for the slot.
type PCMPhaser interface {
	PCMSource
	Phase() (lead time.Duration, measured, late bool)
}

// AudioFeed is a Leg that plays audio pulled from a PCMSource, one frame
// each 20 ms of its media clock, with no queue of its own in between: what
// the source drops (a barge-in's clear) is not heard a frame later than
// the next tick. A Play in progress takes precedence while it lasts.
type AudioFeed interface {
	// Feed plays what src gives from now until stop is called or the leg
	// ends; a second Feed replaces the first.
	Feed(src PCMSource) (stop func(), err error)
}

// BridgeMedia connects a and b, legs of different carriers, both ways
// through MediaLeg. It fails, wrapping ErrNoMediaBridge, when either is not
// a MediaLeg, and with the leg's own error when either has ended; on
// failure neither leg is left half bridged.
func BridgeMedia(a, b Leg) error {
	ma, ok := a.(MediaLeg)
	if !ok {
		return fmt.Errorf("leg %T: %w", a, ErrNoMediaBridge)
	}
	mb, ok := b.(MediaLeg)
	if !ok {
		return fmt.Errorf("other leg %T: %w", b, ErrNoMediaBridge)
	}
	inA, err := ma.MediaIn()
	if err != nil {
		return err
	}
	inB, err := mb.MediaIn()
	if err != nil {
		return fmt.Errorf("other leg: %w", err)
	}
	if err := ma.MediaOut(inB); err != nil {
		return err
	}
	if err := mb.MediaOut(inA); err != nil {
		_ = ma.MediaOut(nil)
		return fmt.Errorf("other leg: %w", err)
	}
	return nil
}

// Speaker renders TTS text to audio (espeak-ng behind it).
type Speaker interface {
	Speak(ctx context.Context, text, voice string, speed, volume int) (*Audio, error)
}
