package sip

import (
	"context"
	"errors"
	"fmt"
	"sync"

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

// bridgePeer is where what a bridged session's party says goes: the
// other session of a bridge on this carrier, or the sink of another
// carrier's leg (sinkPeer). Both calls come from the session's receive
// goroutine, with no lock of the session held, and must not block.
type bridgePeer interface {
	bridgeAudio(pcm []int16)
	sendDTMF(keys string)
}

// sinkPeer feeds another carrier's leg through the neutral contract.
type sinkPeer struct{ sink dialtone.MediaSink }

func (p sinkPeer) bridgeAudio(pcm []int16) { p.sink.WriteAudio(pcm) }
func (p sinkPeer) sendDTMF(keys string)    { p.sink.WriteDTMF(keys) }

// streamSink is a session as another carrier's leg sees it: what that
// leg's party says is queued like a SIP peer's (same priming, same bound
// on the delay) and keys become RFC 4733 events.
type streamSink struct{ s *rtpSession }

func (k streamSink) WriteAudio(pcm []int16) { k.s.bridgeAudio(pcm) }
func (k streamSink) WriteDTMF(keys string)  { k.s.sendDTMF(keys) }

// bridge is a session's side of a bridge: where what it receives goes
// (peer) and what the peer's party said, waiting to be sent here (in),
// primed and bounded: the jitter buffer between the far ends' clocks and
// our pacer's.
type bridge struct {
	mu      sync.Mutex
	peer    bridgePeer // nil when not bridged
	in      []int16
	primed  bool
	dropped uint64 // samples cut to keep the delay bounded
}

// next writes the next frame of bridged audio into buf and returns it, or
// nil when there is none (not bridged, or waiting for the queue to prime).
func (b *bridge) next(buf []int16) []int16 {
	b.mu.Lock()
	defer b.mu.Unlock()
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
	copy(buf, b.in[:frameSamples])
	n := copy(b.in, b.in[frameSamples:])
	b.in = b.in[:n]
	return buf[:frameSamples]
}

// push queues audio the peer's party said.
func (b *bridge) push(pcm []int16) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.peer == nil {
		return
	}
	b.in = append(b.in, pcm...)
	if len(b.in) > bridgeMax {
		cut := len(b.in) - bridgePrime
		b.dropped += uint64(cut)
		n := copy(b.in, b.in[cut:])
		b.in = b.in[:n]
	}
}

// setPeer bridges to peer (nil unbridges), with an empty queue.
func (b *bridge) setPeer(peer bridgePeer) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.peer = peer
	b.in = b.in[:0]
	b.primed = false
}

func (b *bridge) currentPeer() bridgePeer {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.peer
}

func (b *bridge) stats(m map[string]string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.dropped > 0 {
		m["bridge_dropped_ms"] = fmt.Sprint(b.dropped * 1000 / sampleRate)
	}
}

// bridgeAudio queues audio the peer's party said, to be sent to ours.
func (s *rtpSession) bridgeAudio(pcm []int16) {
	if s.closed.Load() {
		return
	}
	s.br.push(pcm)
}

// sendDTMF queues keys to be sent to our party as RFC 4733 events: a key
// pressed on the other side of a bridge reaches this side as an event, not
// as in-band tones that G.711 transcoding and jitter could smear.
func (s *rtpSession) sendDTMF(keys string) {
	if s.closed.Load() {
		return
	}
	farPT := -1
	if f := s.format.Load(); f != nil {
		farPT = f.dtmfPTs[1]
	}
	s.tx.queueDTMF(keys, farPT)
}

// setPeer bridges s to peer (nil unbridges). Pass an untyped nil to
// unbridge: a nil *rtpSession in the interface would count as a peer.
func (s *rtpSession) setPeer(peer bridgePeer) error {
	if peer != nil && s.closed.Load() {
		return errLegEnded
	}
	if peer != nil && !s.sending.Load() {
		return errors.New("not answered")
	}
	s.br.setPeer(peer)
	return nil
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
	if l.st.closed.Load() {
		return nil, errLegEnded
	}
	if !l.st.sending.Load() {
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
	if f := l.st.format.Load(); f != nil {
		return f.codec
	}
	return ""
}
