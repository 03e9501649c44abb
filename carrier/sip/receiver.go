package sip

import (
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/pion/rtp"
)

// receiver is what a session knows of the media it receives: the RTP
// statistics, telephone-events, the early media, and the packets that
// arrived before any SDP of the far end.
type receiver struct {
	mu        sync.Mutex
	started   time.Time // the origin of arrival times (jitter)
	rx        rxStats
	dtmf      dtmfDetector
	lastRx    time.Time
	early     []int16
	earlyPkts uint64
	// prelude holds media that arrived before any SDP of the far end told
	// us its address and codec: a far end starts sending the moment it
	// answers, and its first packets often overtake the 200 OK (or the 183)
	// on the way in. They are replayed, source checked, once the SDP is
	// known, so the first syllables of an answer or an announcement are
	// neither lost nor counted as junk.
	prelude []heldPacket
}

// heldPacket is an RTP packet kept in the prelude, with where and when it
// arrived.
type heldPacket struct {
	pkt  *rtp.Packet
	from netip.AddrPort
	at   time.Time
}

// maxPrelude bounds the prelude: half a second of 20 ms packets. More
// before any SDP is not a far end racing its own answer.
const maxPrelude = 25

// hold keeps a packet that came before the SDP (or counts it, past the
// bound).
func (r *receiver) hold(p *rtp.Packet, from netip.AddrPort, at time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.prelude) < maxPrelude {
		r.prelude = append(r.prelude, heldPacket{pkt: p.Clone(), from: from, at: at})
	} else {
		r.rx.unknown++
	}
}

// takePrelude hands over the held packets, once.
func (r *receiver) takePrelude() []heldPacket {
	r.mu.Lock()
	defer r.mu.Unlock()
	held := r.prelude
	r.prelude = nil
	return held
}

func (r *receiver) dropPrelude() { r.takePrelude() }

func (r *receiver) held() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.prelude)
}

// ignore counts a packet that is not the call's media.
func (r *receiver) ignore() {
	r.mu.Lock()
	r.rx.unknown++
	r.mu.Unlock()
}

// event takes a telephone-event packet; it returns whether it starts a
// new source and the keys it completes.
func (r *receiver) event(p *rtp.Packet, now time.Time) (newSource bool, keys string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	newSource = r.rx.seq(p.SSRC, p.SequenceNumber)
	r.lastRx = now
	return newSource, r.dtmf.feed(p.Timestamp, p.Payload)
}

// audio takes an audio packet decoded to pcm; before the answer it is kept
// as early media.
func (r *receiver) audio(p *rtp.Packet, now time.Time, pcm []int16, answered bool) (newSource bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	newSource = r.rx.seq(p.SSRC, p.SequenceNumber)
	r.lastRx = now
	r.rx.arrival(p.Timestamp, now.Sub(r.started))
	if !answered {
		r.earlyPkts++
		if len(r.early)+len(pcm) <= maxEarlyMedia {
			r.early = append(r.early, pcm...)
		}
	}
	return newSource
}

func (r *receiver) lastArrival() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lastRx
}

// snapshot copies the statistics (for RTCP).
func (r *receiver) snapshot() rxStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.rx
}

// earlyMedia returns a copy of the early media heard before answer.
func (r *receiver) earlyMedia() []int16 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]int16(nil), r.early...)
}

func (r *receiver) stats(m map[string]string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	m["packets_received"] = strconv.FormatUint(r.rx.received, 10)
	m["packets_lost"] = strconv.FormatInt(r.rx.totalLost(), 10)
	m["jitter_ms"] = r.rx.jitterMS()
	if r.rx.unknown > 0 {
		m["packets_ignored"] = strconv.FormatUint(r.rx.unknown, 10)
	}
	if r.earlyPkts > 0 {
		m["early_media_ms"] = strconv.Itoa(len(r.early) * 1000 / sampleRate)
	}
}
