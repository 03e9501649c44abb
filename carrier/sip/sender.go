package sip

import (
	"encoding/binary"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"

	"github.com/pion/rtp"

	"github.com/dialtone-voice/dialtone/media"
)

// sender builds the packets a session sends: the sequence and timestamp
// of the stream, and the RFC 4733 events waiting to be sent. Only the
// pacer's goroutine sends; others queue keys.
type sender struct {
	mu     sync.Mutex
	seq    uint16
	ts     uint32
	marker bool
	sent   uint64
	pkt    []byte // the packet being built (pacer only, under mu)

	dtmfQ     []byte // events waiting to be sent
	dtmfEv    byte   // the event being sent
	dtmfTS    uint32 // its RTP timestamp (fixed for the whole event)
	dtmfN     int    // frames of it sent so far; 0: none in progress
	dtmfGap   int    // frames of pause left after an event
	dtmfSent  uint64
	dtmfNoPT  uint64 // keys not relayed: the far end offered no telephone-event
	dtmfLimit uint64 // keys not relayed: queue full
}

func (t *sender) init(seq uint16, ts uint32) {
	t.seq, t.ts, t.marker = seq, ts, true
	t.pkt = make([]byte, 0, 12+frameSamples)
}

// packet encodes frame as the next RTP packet in f's codec; the slice is
// valid until the next call (the pacer's goroutine only).
func (t *sender) packet(f *mediaFormat, frame []int16, ssrc uint32) []byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	h := rtp.Header{Version: 2, Marker: t.marker, PayloadType: f.pt, SequenceNumber: t.seq, Timestamp: t.ts, SSRC: ssrc}
	t.marker = false
	t.seq++
	t.ts += frameSamples
	t.sent++
	buf := t.pkt[:h.MarshalSize()]
	if _, err := h.MarshalTo(buf); err != nil {
		return nil
	}
	if f.codec == CodecPCMA {
		buf = media.AppendALaw(buf, frame)
	} else {
		buf = media.AppendMuLaw(buf, frame)
	}
	t.pkt = buf[:0]
	return buf
}

// skip moves the timestamp on by frames not sent; the next packet starts
// a talkspurt (marker), as after silence suppression (RFC 3551 §4.1).
func (t *sender) skip(frames int) {
	t.mu.Lock()
	t.ts += uint32(frames) * frameSamples
	t.marker = true
	t.mu.Unlock()
}

// delay moves the timestamp on by samples: the send slot moved later by
// that much (feedPhase), and the next packet is stamped with the time it
// leaves, a gap as after silence rather than every later packet late.
func (t *sender) delay(samples uint32) {
	t.mu.Lock()
	t.ts += samples
	t.mu.Unlock()
}

// queueDTMF queues keys to be sent as RFC 4733 events (farPT < 0: the far
// end offered none, and they are counted instead).
func (t *sender) queueDTMF(keys string, farPT int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, k := range keys {
		ev := strings.IndexRune(dtmfEvents, k)
		switch {
		case ev < 0:
		case farPT < 0:
			t.dtmfNoPT++
		case len(t.dtmfQ) >= dtmfMaxQueue:
			t.dtmfLimit++
		default:
			t.dtmfQ = append(t.dtmfQ, byte(ev))
		}
	}
}

func (t *sender) dropDTMF() {
	t.mu.Lock()
	t.dtmfQ = nil
	t.mu.Unlock()
}

// tickDTMF sends this tick's telephone-event packets in place of audio
// and reports whether it did.
func (t *sender) tickDTMF(conn *net.UDPConn, to netip.AddrPort, farPT int, ssrc uint32) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.dtmfN == 0 {
		if t.dtmfGap > 0 {
			t.dtmfGap--
			return false
		}
		if len(t.dtmfQ) == 0 || farPT < 0 {
			return false
		}
		t.dtmfEv, t.dtmfTS = t.dtmfQ[0], t.ts
		t.dtmfQ = t.dtmfQ[1:]
	}
	t.dtmfN++
	end := t.dtmfN >= dtmfToneFrames
	var payload [4]byte
	payload[0] = t.dtmfEv
	payload[1] = 10 // volume: -10 dBm0
	if end {
		payload[1] |= 0x80
	}
	binary.BigEndian.PutUint16(payload[2:], uint16(t.dtmfN*frameSamples))
	repeats := 1
	if end {
		repeats = dtmfEndRepeats
	}
	for i := 0; i < repeats; i++ {
		buf := t.pkt[:0]
		buf = appendRTPHeader(buf, t.dtmfN == 1 && i == 0, uint8(farPT), t.seq, t.dtmfTS, ssrc)
		buf = append(buf, payload[:]...)
		t.seq++
		t.sent++
		// Sent under the lock, unlike audio: three small packets, and the
		// end packets must leave in order.
		_, _ = conn.WriteToUDPAddrPort(buf, to)
	}
	// The media clock runs on while the key is held.
	t.ts += frameSamples
	if end {
		t.dtmfN, t.dtmfGap = 0, dtmfGapFrames
		t.dtmfSent++
	}
	return true
}

// position is what a sender report says: packets sent and the timestamp
// of the next frame.
func (t *sender) position() (sent uint64, ts uint32) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.sent, t.ts
}

func (t *sender) stats(m map[string]string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	m["packets_sent"] = strconv.FormatUint(t.sent, 10)
	if t.dtmfSent > 0 {
		m["dtmf_relayed"] = strconv.FormatUint(t.dtmfSent, 10)
	}
	if n := t.dtmfNoPT + t.dtmfLimit; n > 0 {
		m["dtmf_not_relayed"] = strconv.FormatUint(n, 10)
	}
}

// appendRTPHeader appends a 12-byte RTP header (no CSRC, no extension).
func appendRTPHeader(b []byte, marker bool, pt uint8, seq uint16, ts, ssrc uint32) []byte {
	m := pt & 0x7f
	if marker {
		m |= 0x80
	}
	b = append(b, 0x80, m)
	b = binary.BigEndian.AppendUint16(b, seq)
	b = binary.BigEndian.AppendUint32(b, ts)
	return binary.BigEndian.AppendUint32(b, ssrc)
}
