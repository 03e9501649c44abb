package sip

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/dialtone-voice/dialtone"
)

// Bridge geometry. The far ends send on their own clocks and our pacer
// sends on ours, so the queue between them fills and drains a little; the
// bounds keep the added delay small without cutting speech on jitter.
const (
	// bridgePrime is how much audio must wait before sending starts (and
	// starts again after the queue ran dry): two frames absorb ordinary
	// arrival jitter.
	bridgePrime = 2 * frameSamples
	// bridgeMax is the most audio the queue holds; past it (a far end whose
	// clock runs fast, or a burst after a network stall) it is cut back to
	// bridgePrime, so the delay never builds up.
	bridgeMax = 10 * frameSamples
	// dtmfMaxQueue bounds keys waiting to be relayed.
	dtmfMaxQueue = 32
	// dtmfToneFrames is how long a relayed key lasts (5 x 20 ms), and
	// dtmfGapFrames the pause after it, so the far end sees distinct
	// presses even when its detector keys on timing.
	dtmfToneFrames = 5
	dtmfGapFrames  = 2
	// dtmfEndRepeats is how often the end packet is sent (RFC 4733 §2.5.1.4
	// recommends three, as loss of the only end packet loses the key).
	dtmfEndRepeats = 3
)

// bridgePeer is where what a bridged stream's party says goes: the other
// stream of a bridge on this carrier, or the sink of another carrier's leg
// (sinkPeer). Both calls come from the stream's receive goroutine, with no
// lock of the stream held, and must not block.
type bridgePeer interface {
	bridgeAudio(pcm []int16)
	sendDTMF(keys string)
}

// sinkPeer feeds another carrier's leg through the neutral contract.
type sinkPeer struct{ sink dialtone.MediaSink }

func (p sinkPeer) bridgeAudio(pcm []int16) { p.sink.WriteAudio(pcm) }
func (p sinkPeer) sendDTMF(keys string)    { p.sink.WriteDTMF(keys) }

// streamSink is a stream as another carrier's leg sees it: what that leg's
// party says is queued like a SIP peer's (same priming, same bound on the
// delay) and keys become RFC 4733 events.
type streamSink struct{ s *stream }

func (k streamSink) WriteAudio(pcm []int16) { k.s.bridgeAudio(pcm) }
func (k streamSink) WriteDTMF(keys string)  { k.s.sendDTMF(keys) }

// bridgeState is a stream's side of a bridge; it lives under stream.mu.
type bridgeState struct {
	peer    bridgePeer // where what we receive goes; nil when not bridged
	in      []int16    // the peer's party, to be sent to ours
	primed  bool
	dropped uint64 // samples cut to keep the delay bounded
	frame   [frameSamples]int16

	dtmfQ     []byte // events waiting to be sent
	dtmfEv    byte   // the event being sent
	dtmfTS    uint32 // its RTP timestamp (fixed for the whole event)
	dtmfN     int    // frames of it sent so far; 0: none in progress
	dtmfGap   int    // frames of pause left after an event
	dtmfSent  uint64
	dtmfNoPT  uint64 // keys not relayed: the far end offered no telephone-event
	dtmfLimit uint64 // keys not relayed: queue full
}

// next returns the next frame of bridged audio, or nil when there is none
// (not bridged, or waiting for the queue to prime).
func (b *bridgeState) next() []int16 {
	if b.peer == nil {
		return nil
	}
	if !b.primed {
		if len(b.in) < bridgePrime {
			return nil
		}
		b.primed = true
	}
	if len(b.in) < frameSamples {
		b.primed = false // ran dry: prime again rather than stutter
		return nil
	}
	copy(b.frame[:], b.in[:frameSamples])
	n := copy(b.in, b.in[frameSamples:])
	b.in = b.in[:n]
	return b.frame[:]
}

// bridgeAudio queues audio the peer's party said, to be sent to ours.
func (s *stream) bridgeAudio(pcm []int16) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.br.peer == nil {
		return
	}
	s.br.in = append(s.br.in, pcm...)
	if len(s.br.in) > bridgeMax {
		cut := len(s.br.in) - bridgePrime
		s.br.dropped += uint64(cut)
		n := copy(s.br.in, s.br.in[cut:])
		s.br.in = s.br.in[:n]
	}
}

// sendDTMF queues keys to be sent to our party as RFC 4733 events: a key
// pressed on the other side of a bridge reaches this side as an event, not
// as in-band tones that G.711 transcoding and jitter could smear.
func (s *stream) sendDTMF(keys string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	for _, k := range keys {
		ev := strings.IndexRune(dtmfEvents, k)
		switch {
		case ev < 0:
		case s.dtmfPTs[1] < 0:
			s.br.dtmfNoPT++
		case len(s.br.dtmfQ) >= dtmfMaxQueue:
			s.br.dtmfLimit++
		default:
			s.br.dtmfQ = append(s.br.dtmfQ, byte(ev))
		}
	}
}

// tickDTMF sends this tick's telephone-event packets in place of audio
// and reports whether it did. Called by tick under s.mu, with the remote
// known and sending on.
func (s *stream) tickDTMF() bool {
	b := &s.br
	if b.dtmfN == 0 {
		if b.dtmfGap > 0 {
			b.dtmfGap--
			return false
		}
		if len(b.dtmfQ) == 0 || s.dtmfPTs[1] < 0 {
			return false
		}
		b.dtmfEv, b.dtmfTS = b.dtmfQ[0], s.ts
		b.dtmfQ = b.dtmfQ[1:]
	}
	b.dtmfN++
	end := b.dtmfN >= dtmfToneFrames
	var payload [4]byte
	payload[0] = b.dtmfEv
	payload[1] = 10 // volume: -10 dBm0
	if end {
		payload[1] |= 0x80
	}
	binary.BigEndian.PutUint16(payload[2:], uint16(b.dtmfN*frameSamples))
	repeats := 1
	if end {
		repeats = dtmfEndRepeats
	}
	pt := uint8(s.dtmfPTs[1])
	to := s.remote
	for i := 0; i < repeats; i++ {
		buf := s.pkt[:0]
		buf = appendRTPHeader(buf, b.dtmfN == 1 && i == 0, pt, s.seq, b.dtmfTS, s.ssrc)
		buf = append(buf, payload[:]...)
		s.seq++
		s.sent++
		// Sent under the lock, unlike audio: three small packets, and the
		// end packets must leave in order.
		_, _ = s.conn.WriteToUDPAddrPort(buf, to)
	}
	// The media clock runs on while the key is held.
	s.ts += frameSamples
	if s.rec != nil {
		s.rec.addOut(s.silence[:])
	}
	if end {
		b.dtmfN, b.dtmfGap = 0, dtmfGapFrames
		b.dtmfSent++
	}
	return true
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

// setPeer bridges s to peer (nil unbridges). Pass an untyped nil to
// unbridge: a nil *stream in the interface would count as a peer.
func (s *stream) setPeer(peer bridgePeer) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if peer != nil && s.closed {
		return errLegEnded
	}
	if peer != nil && !s.sending {
		return errors.New("not answered")
	}
	s.br.peer = peer
	s.br.in = s.br.in[:0]
	s.br.primed = false
	return nil
}

// bridgeStats adds the bridge figures to m (under s.mu).
func (s *stream) bridgeStats(m map[string]string) {
	b := &s.br
	if b.dropped > 0 {
		m["bridge_dropped_ms"] = fmt.Sprint(b.dropped * 1000 / sampleRate)
	}
	if b.dtmfSent > 0 {
		m["dtmf_relayed"] = fmt.Sprint(b.dtmfSent)
	}
	if n := b.dtmfNoPT + b.dtmfLimit; n > 0 {
		m["dtmf_not_relayed"] = fmt.Sprint(n)
	}
}

// Bridge connects the media of l and other both ways. When other is a
// leg of this carrier, what each party says is decoded and re-encoded in
// the other leg's codec (PCMU and PCMA transcode through 16-bit PCM), and
// keys pressed on one side are relayed to the other as RFC 4733 events
// (and still reported as LegDTMF on the leg where they were pressed). When
// other is a leg of another carrier (the simulated network, say: trunks
// are routed for some numbers only, so a click-to-dial can join both), the
// two meet through dialtone.MediaLeg: the same queue and relay, fed with
// the other leg's PCM instead of a stream's. A Play on either leg takes
// precedence over the bridged audio while it lasts. A recording of l keeps,
// on its left channel, what l's party heard (the other party, and prompts)
// and on its right what l's party said: one channel per party.
func (l *leg) Bridge(ctx context.Context, other dialtone.Leg) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sip: bridge %s: %w", l.req.CallID, err)
	}
	o, ok := other.(*leg)
	if !ok {
		if err := dialtone.BridgeMedia(l, other); err != nil {
			return fmt.Errorf("sip: bridge %s leg %s: %w", l.req.CallID, l.req.Leg, err)
		}
		l.log("bridged", "other_carrier", fmt.Sprintf("%T", other), "codec", l.codec())
		return nil
	}
	if o == l {
		return fmt.Errorf("sip: bridge %s: a leg cannot be bridged to itself", l.req.CallID)
	}
	if l.st == nil || o.st == nil {
		return fmt.Errorf("sip: bridge %s: %w", l.req.CallID, errLegEnded)
	}
	if err := l.st.setPeer(o.st); err != nil {
		return fmt.Errorf("sip: bridge %s leg %s: %w", l.req.CallID, l.req.Leg, err)
	}
	if err := o.st.setPeer(l.st); err != nil {
		_ = l.st.setPeer(nil)
		return fmt.Errorf("sip: bridge %s leg %s: %w", l.req.CallID, o.req.Leg, err)
	}
	l.log("bridged", "other", o.sipCallID, "codec", l.codec(), "other_codec", o.codec())
	return nil
}

// MediaIn is the sink for what l's party is to hear from a leg of another
// carrier (dialtone.MediaLeg).
func (l *leg) MediaIn() (dialtone.MediaSink, error) {
	if l.st == nil {
		return nil, errLegEnded
	}
	l.st.mu.Lock()
	defer l.st.mu.Unlock()
	if l.st.closed {
		return nil, errLegEnded
	}
	if !l.st.sending {
		return nil, errors.New("sip: leg not answered")
	}
	return streamSink{l.st}, nil
}

// MediaOut sends what l's party says, decoded to PCM, and the keys it
// presses to sink (nil stops); dialtone.MediaLeg. Early media is never
// sent: only the answered party's audio is bridged.
func (l *leg) MediaOut(sink dialtone.MediaSink) error {
	if l.st == nil {
		if sink == nil {
			return nil
		}
		return errLegEnded
	}
	if sink == nil {
		return l.st.setPeer(nil)
	}
	return l.st.setPeer(sinkPeer{sink})
}

var _ dialtone.MediaLeg = (*leg)(nil)

func (l *leg) codec() string {
	l.st.mu.Lock()
	defer l.st.mu.Unlock()
	return l.st.codec
}
