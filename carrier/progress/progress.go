// Package progress reads the call-progress tones a network plays in a
// leg's early media (before any answer: ringback, busy, congestion, the
// special information tone) and settles with them what the signalling
// leaves open. Both carriers use it: the SIP carrier on the RTP of a 183,
// the simulated network on the tones it plays.
//
// A failure the signalling states plainly (486 Busy Here, 404, a Q.850
// cause) stands; one it does not (a ring timeout, 480 Temporarily
// Unavailable, 408, a 5xx) is what the tone says: a 183 with busy tone and
// then a timeout is a busy callee, not one who did not answer. And since a
// network that plays busy tone will connect nobody, a leg that hears busy,
// congestion or the special information tone is given up Grace after the
// tone is confirmed if the network has not ended it by then, rather than
// held for the whole ring timeout.
package progress

import (
	"sync"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/media/detect"
)

// Grace is how long a leg whose early media played a decisive tone (busy,
// congestion, special information) waits for the network's own final
// response before the carrier gives up and reports the tone's failure.
// Networks that play a tone usually send their final response with it or
// after an announcement of a few seconds.
const Grace = 3 * time.Second

// Detail keys a carrier adds to a failed leg whose early media played a
// tone: the tone's kind (busy, congestion, special_information, ringback,
// ...) and its name with plan and cadence.
const (
	DetailTone     = "early_media_tone"
	DetailToneName = "early_media_tone_name"
)

// Audio arriving more than gapFill after the end of what came before
// (silence suppression during a cadence's pauses, lost packets) is placed
// at its arrival time and the gap is heard as silence, up to maxFill (a
// longer gap is skipped); closer, it follows on, so that arrival jitter
// does not bend the cadence.
const (
	gapFill = 60 * time.Millisecond
	maxFill = 2 * time.Second
)

// Reader follows one leg's early media. It is safe for concurrent use.
type Reader struct {
	mu     sync.Mutex
	det    *detect.ToneDetector
	next   time.Time // where the audio fed so far ends, on the sample clock
	tones  []detect.Tone
	onTone func(detect.Tone)
}

// NewReader returns a reader; onTone, if set, is called (without the
// reader's lock) with each tone as it is confirmed.
func NewReader(onTone func(detect.Tone)) *Reader {
	det, err := detect.NewToneDetector(detect.ToneConfig{})
	if err != nil {
		panic(err) // the defaults are valid: a broken build
	}
	return &Reader{det: det, onTone: onTone}
}

// Write feeds early media (8 kHz PCM) that arrived at at.
func (r *Reader) Write(pcm []int16, at time.Time) {
	if len(pcm) == 0 {
		return
	}
	r.mu.Lock()
	t := r.next
	var got []detect.Tone
	switch gap := at.Sub(t); {
	case t.IsZero() || gap > maxFill:
		t = at
	case gap > gapFill:
		got = append(got, r.det.Write(make([]int16, int(gap*detect.Rate/time.Second)), t)...)
		t = at
	}
	r.next = t.Add(time.Duration(len(pcm)) * time.Second / detect.Rate)
	got = append(got, r.det.Write(pcm, t)...)
	r.tones = append(r.tones, got...)
	r.mu.Unlock()
	if r.onTone != nil {
		for _, tn := range got {
			r.onTone(tn)
		}
	}
}

// Tones returns the tones confirmed so far, in order.
func (r *Reader) Tones() []detect.Tone {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]detect.Tone(nil), r.tones...)
}

// Decisive returns the first tone heard that means the call will not be
// connected (see Reason), if any (none from a nil Reader).
func (r *Reader) Decisive() (detect.Tone, bool) {
	if r == nil {
		return detect.Tone{}, false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, t := range r.tones {
		if _, ok := Reason(t.Kind); ok {
			return t, true
		}
	}
	return detect.Tone{}, false
}

// Last returns the last tone heard, if any.
func (r *Reader) Last() (detect.Tone, bool) {
	if r == nil {
		return detect.Tone{}, false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.tones) == 0 {
		return detect.Tone{}, false
	}
	return r.tones[len(r.tones)-1], true
}

// Reason is the failure a tone in early media means: busy tone a busy
// callee; congestion (all circuits busy) and the special information tone
// (a vacant number, a number out of service, no circuit: an announcement
// usually follows and tells which) a callee the network cannot reach.
// Ringback, dial tone, fax and modem tones decide nothing.
func Reason(k detect.ToneKind) (dialtone.FailReason, bool) {
	switch k {
	case detect.ToneBusy:
		return dialtone.FailBusy, true
	case detect.ToneCongestion, detect.ToneSIT:
		return dialtone.FailUnreachable, true
	}
	return "", false
}

// Ambiguous reports whether a failure the signalling gave leaves its
// cause open, so that a tone may settle it: no answer (a ring timeout,
// 480, 408, 487) and unreachable (a 5xx, a 3xx). causeGiven says the
// signalling named its cause (a Q.850 Reason header), which then stands.
func Ambiguous(r dialtone.FailReason, causeGiven bool) bool {
	if causeGiven {
		return false
	}
	return r == dialtone.FailNoAnswer || r == dialtone.FailUnreachable
}

// Settle returns the reason of a failed leg given what its signalling
// said (reason, causeGiven: see Ambiguous) and the tones its early media
// played (r, which may be nil), with detail (a new map if nil) naming
// the tone that played, when one did. A decisive tone replaces an
// ambiguous reason.
func (r *Reader) Settle(reason dialtone.FailReason, causeGiven bool, detail map[string]string) (dialtone.FailReason, map[string]string) {
	if r == nil {
		return reason, detail
	}
	t, decisive := r.Decisive()
	if !decisive {
		if t, ok := r.Last(); ok {
			detail = with(detail, t)
		}
		return reason, detail
	}
	detail = with(detail, t)
	if Ambiguous(reason, causeGiven) {
		reason, _ = Reason(t.Kind)
	}
	return reason, detail
}

func with(detail map[string]string, t detect.Tone) map[string]string {
	if detail == nil {
		detail = map[string]string{}
	}
	detail[DetailTone] = string(t.Kind)
	detail[DetailToneName] = t.Name
	return detail
}
