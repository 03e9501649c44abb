package sip

import (
	"math"
	"strconv"
	"sync"
	"time"
)

// Frame geometry: G.711 at 8 kHz in 20 ms packets.
const (
	frameSamples = 160
	frameTime    = 20 * time.Millisecond
	sampleRate   = 8000
)

// rxStats are receive statistics of one RTP stream (RFC 3550 §6.4.1 and
// appendix A.1/A.8), kept per source: a new SSRC (an announcement server
// handing over to the phone) folds the old source's loss into lost.
type rxStats struct {
	received uint64
	lost     int64 // folded in from earlier sources
	unknown  uint64

	have      bool
	ssrc      uint32
	baseSeq   uint32
	maxSeq    uint16
	cycles    uint32
	received0 uint64 // received when this source started

	transit   int64
	haveTrans bool
	jitter    float64 // in timestamp units
}

// seq records a packet's sequence number; it reports true for a packet
// that starts a new source.
func (s *rxStats) seq(ssrc uint32, seq uint16) (newSource bool) {
	if !s.have || ssrc != s.ssrc {
		if s.have {
			s.lost += s.sourceLost()
		}
		s.have, s.ssrc = true, ssrc
		s.baseSeq, s.maxSeq, s.cycles = uint32(seq), seq, 0
		s.received0 = s.received
		s.received++
		s.haveTrans = false
		return true
	}
	s.received++
	delta := seq - s.maxSeq
	switch {
	case delta == 0:
		// A duplicate: counted as received, as RFC 3550 does.
	case delta < 0x8000:
		if seq < s.maxSeq {
			s.cycles += 1 << 16
		}
		s.maxSeq = seq
	default:
		// Late or reordered: no change to the highest sequence number.
	}
	return false
}

// sourceLost is expected minus received for the current source (never
// negative: duplicates can make received exceed expected).
func (s *rxStats) sourceLost() int64 {
	if !s.have {
		return 0
	}
	expected := int64(s.cycles+uint32(s.maxSeq)) - int64(s.baseSeq) + 1
	got := int64(s.received - s.received0)
	if expected > got {
		return expected - got
	}
	return 0
}

// arrival updates the interarrival jitter with an audio packet's RTP
// timestamp and its arrival time (converted to timestamp units).
func (s *rxStats) arrival(ts uint32, arrival time.Duration) {
	a := int64(arrival * sampleRate / time.Second)
	transit := a - int64(ts)
	if s.haveTrans {
		d := transit - s.transit
		// RTP timestamps wrap at 2^32; fold a wrap back to a small delta.
		d = int64(int32(d))
		s.jitter += (math.Abs(float64(d)) - s.jitter) / 16
	}
	s.transit, s.haveTrans = transit, true
}

func (s *rxStats) totalLost() int64 { return s.lost + s.sourceLost() }

func (s *rxStats) jitterMS() string {
	return strconv.FormatFloat(s.jitter*1000/sampleRate, 'f', 2, 64)
}

// dtmfEvents maps RFC 4733 event codes to keys.
const dtmfEvents = "0123456789*#ABCD"

// dtmfDetector turns RFC 4733 telephone-event packets into key presses.
// A press is one event whose packets share an RTP timestamp; it is
// reported once, at its first end packet (senders repeat the end packet
// three times), or when a new event starts before the old one's end
// packet arrived (end packets lost). Keying on the timestamp, not the
// marker bit, copes with senders that never set the marker.
type dtmfDetector struct {
	have   bool
	ts     uint32
	event  byte
	closed bool // reported already
}

// feed handles one telephone-event payload and returns the keys to
// report (usually none, sometimes one, at most two).
func (d *dtmfDetector) feed(ts uint32, payload []byte) string {
	if len(payload) < 4 {
		return ""
	}
	ev, end := payload[0], payload[1]&0x80 != 0
	if int(ev) >= len(dtmfEvents) {
		return "" // flash hook and tones we do not map
	}
	var out string
	if !d.have || ts != d.ts {
		if d.have && !d.closed {
			out = string(dtmfEvents[d.event])
		}
		d.have, d.ts, d.event, d.closed = true, ts, ev, false
	}
	if end && !d.closed {
		d.closed = true
		out += string(dtmfEvents[d.event])
	}
	return out
}

// recorder keeps both directions of a call as 8 kHz PCM: out is what we
// sent (one frame per pacer tick), in is what arrived, placed by RTP
// timestamp so jitter does not smear it. It has its own lock: the pacer
// writes out, the receive goroutine in.
type recorder struct {
	mu    sync.Mutex
	start time.Time
	max   int // samples per channel
	out   []int16
	in    []int16

	inHave bool
	inSSRC uint32
	inTS   uint32
	inPos  int
}

func newRecorder(start time.Time, max int) *recorder {
	return &recorder{start: start, max: max}
}

// snapshot copies both channels.
func (r *recorder) snapshot() (out, in []int16) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]int16(nil), r.out...), append([]int16(nil), r.in...)
}

func (r *recorder) addOut(frame []int16) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.out)+len(frame) > r.max {
		return
	}
	r.out = append(r.out, frame...)
}

func (r *recorder) addIn(ssrc, ts uint32, at time.Time, samples []int16) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.inHave || ssrc != r.inSSRC {
		r.inHave, r.inSSRC, r.inTS = true, ssrc, ts
		r.inPos = max(0, int(at.Sub(r.start)*sampleRate/time.Second))
	}
	pos := r.inPos + int(int32(ts-r.inTS))
	if pos < 0 || pos+len(samples) > r.max {
		return // a timestamp far off: hostile or broken, not worth memory
	}
	if need := pos + len(samples); need > len(r.in) {
		if need > cap(r.in) {
			n := make([]int16, len(r.in), max(need, 2*cap(r.in)))
			copy(n, r.in)
			r.in = n
		}
		r.in = r.in[:need]
	}
	copy(r.in[pos:], samples)
}
