package detect

import (
	"time"

	"github.com/dialtone-voice/dialtone/speech"
)

// Rate is the sample rate every detector works at: the telephone's 8 kHz,
// as both carriers deliver it (G.711 decoded to 16-bit PCM).
const Rate = speech.Rate

// FrameSamples is one 20 ms frame at Rate, the payload of a G.711 RTP
// packet; FrameDuration is its length.
const (
	FrameSamples  = speech.FrameSamples
	FrameDuration = 20 * time.Millisecond
)

// framer cuts audio written in pieces of any length into whole frames with
// their start times. Time only moves forward: audio stamped before the end
// of what came before (a reordered or duplicated packet) is taken as
// following it, and a gap longer than a frame (packets lost, the stream
// paused) drops the partial frame waiting and starts again at the new time,
// so every frame's time is exact and increasing.
type framer struct {
	buf     []int16
	start   time.Time // time of buf[0]
	started bool
}

// write appends samples that began at at and calls f for each frame it
// completes. f's slice is only valid during the call.
func (fr *framer) write(samples []int16, at time.Time, f func(frame []int16, t time.Time)) {
	if len(samples) == 0 {
		return
	}
	if !fr.started {
		fr.started = true
		fr.start = at
	}
	if at.Sub(fr.start.Add(sampleDur(len(fr.buf)))) > FrameDuration {
		// A gap: what waits is stale. Anything else (jitter, a packet
		// stamped in the past) continues where the audio stands.
		fr.buf = fr.buf[:0]
		fr.start = at
	}
	for len(samples) > 0 {
		n := min(FrameSamples-len(fr.buf), len(samples))
		fr.buf = append(fr.buf, samples[:n]...)
		samples = samples[n:]
		if len(fr.buf) < FrameSamples {
			return
		}
		f(fr.buf, fr.start)
		fr.buf = fr.buf[:0]
		fr.start = fr.start.Add(FrameDuration)
	}
}

func sampleDur(n int) time.Duration { return time.Duration(n) * time.Second / Rate }
