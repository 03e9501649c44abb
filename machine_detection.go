package dialtone

import (
	"strconv"
	"time"
)

// Answering-machine detection (issue 18): what an account asks of calls
// that play to their callee, how a carrier lets the engine listen, and how
// the verdict is kept with the call.

// MachineDetection is an account's machine_detection setting: what its
// calls that play to the callee (SingleCallByVoice, SingleCallByTts,
// IvrCall, SmartCall; ClickToDial's callee) do about answering machines.
// The zero value is MachineDetectionOff.
type MachineDetection string

const (
	// MachineDetectionOff: no detection (the default).
	MachineDetectionOff MachineDetection = "off"
	// MachineDetectionDetect: the callee's audio is classified after the
	// answer and answered_by reported; the call runs as without it.
	MachineDetectionDetect MachineDetection = "detect"
	// MachineDetectionHangup: the prompt waits for the first verdict, and
	// a machine (or a fax) is hung up on instead of played to.
	MachineDetectionHangup MachineDetection = "hangup"
	// MachineDetectionMessage: the prompt waits for the end of a
	// machine's greeting (its beep, or the silence after it), so that the
	// message is recorded whole; a person hears it at once.
	MachineDetectionMessage MachineDetection = "message"
)

// MachineDetections lists the settings in the order forms offer them.
var MachineDetections = []MachineDetection{MachineDetectionOff, MachineDetectionDetect, MachineDetectionHangup, MachineDetectionMessage}

// Valid reports whether m is a setting ("" is off).
func (m MachineDetection) Valid() bool {
	switch m {
	case "", MachineDetectionOff, MachineDetectionDetect, MachineDetectionHangup, MachineDetectionMessage:
		return true
	}
	return false
}

// OrOff returns m, or MachineDetectionOff for "".
func (m MachineDetection) OrOff() MachineDetection {
	if m == "" {
		return MachineDetectionOff
	}
	return m
}

// On reports whether calls are to be listened to.
func (m MachineDetection) On() bool { return m.OrOff() != MachineDetectionOff }

// CheckMachineDetection checks a setting given as field.
func CheckMachineDetection(field string, m MachineDetection) error {
	if !m.Valid() {
		return Invalid(field, "%s must be off, detect, hangup or message", quote(string(m)))
	}
	return nil
}

// AudioTap is a Leg whose party the platform can listen to after the
// answer (the answering-machine detector). Carriers that can implement it;
// the engine reports a verdict of unknown for legs that do not.
type AudioTap interface {
	// TapAudio calls f with what the party sends, decoded to 8 kHz mono
	// PCM in pieces of about 20 ms, each with the time since the answer at
	// which it began, from now until the leg ends or stop is called. The
	// pieces cover that time without holes: the carrier fills what did not
	// arrive (silence suppression, a stalled stream) with silence. f is
	// called from one goroutine at a time; it must not block, nor keep pcm
	// after it returns. stop waits for a call of f in progress to return.
	TapAudio(f func(pcm []int16, sinceAnswer time.Duration)) (stop func(), err error)
}

// EventMachineDetection is the CallEvent type of a verdict of the
// detector; its Detail holds MachineDetail's keys.
const EventMachineDetection = "machine_detection"

// Keys of the detector's verdicts in CallEvent.Detail: answered_by
// (human, machine_start, machine_end_beep, machine_end_silence, fax or
// unknown), answered_by_ms (milliseconds from the answer to the
// decision), final ("true" when no other verdict follows) and reason
// (what decided, in words). The "ended" event of a call that listened
// carries answered_by and answered_by_ms of the last verdict, which the
// VoiceReport reports.
const (
	DetailAnsweredBy   = "answered_by"
	DetailAnsweredByMS = "answered_by_ms"
)

// MachineVerdict is the last verdict of the detector among a call's
// events: what it answered and how long after the answer it decided; ok
// is false when the call was not listened to.
func MachineVerdict(events []CallEvent) (answeredBy string, after time.Duration, ok bool) {
	for i := len(events) - 1; i >= 0; i-- {
		ev := events[i]
		if ev.Type != EventMachineDetection && ev.Type != "ended" {
			continue
		}
		a := ev.Detail[DetailAnsweredBy]
		if a == "" {
			continue
		}
		ms, _ := strconv.ParseInt(ev.Detail[DetailAnsweredByMS], 10, 64)
		return a, time.Duration(ms) * time.Millisecond, true
	}
	return "", 0, false
}
