package sip

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"

	"github.com/dialtone-voice/dialtone/media"
)

// The media of a SIP leg is a few small parts, each with its own lock and
// none holding another's (in the manner of diago's media package):
//
//   - rtpSession (this file): the sockets, the negotiated format, the
//     receive goroutine and the pacer's tick, which compose the others;
//   - rtpPath: where the far end is (symmetric RTP, pinning, trust);
//   - receiver: sequence, loss and jitter, telephone-events, early media
//     and the packets that overtook the SDP;
//   - sender: SSRC, sequence and timestamp, the packet buffer, the
//     RFC 4733 events waiting to be sent;
//   - player: a Play in progress, or a frame source fed by the pacer (a
//     media stream's application);
//   - bridge: the other party's audio waiting to be sent, primed and
//     bounded (the jitter buffer of bridged and fed audio);
//   - rtcpSession: reports each way;
//   - recorder: both directions of the call;
//   - taps: the consumers of the party's decoded audio (answering-machine
//     detection, media streams).
//
// A stream of the call's audio to a WebSocket is one more consumer (a
// tap) and one more producer (the player's source) of the leg's PCM.

// maxEarlyMedia bounds the early media kept per call.
const maxEarlyMedia = 60 * sampleRate

// streamHooks are what an RTP session reports to its leg.
type streamHooks struct {
	dtmf    func(keys string)
	timeout func() // no RTP for the configured time after answer
	// audio receives the party's decoded audio after answer (for speech
	// recognition); it must not block and must not keep or change pcm
	// beyond reading it.
	audio func(pcm []int16, at time.Time)
	// early receives the decoded early media (call-progress tones), with
	// the same rules.
	early func(pcm []int16, at time.Time)
}

// mediaFormat is what the far end's SDP agreed; it is replaced whole, never
// changed, so readers load it without a lock.
type mediaFormat struct {
	codec string
	pt    uint8
	// dtmfPTs are the payload types accepted as telephone-event: ours and
	// the answer's (-1 when it offered none).
	dtmfPTs [2]int
}

// rtpSession is the RTP side of a leg: one UDP socket (and RTCP beside it),
// a receive goroutine, and a send slot served by the carrier's shared
// pacer.
type rtpSession struct {
	conn     *net.UDPConn
	rtcpConn *net.UDPConn // RTP port + 1; nil when that port was taken
	hooks    streamHooks
	timeout  time.Duration
	started  time.Time
	ssrc     uint32 // ours, fixed for the session

	format   atomic.Pointer[mediaFormat] // nil until an SDP of the far end
	closed   atomic.Bool
	sending  atomic.Bool
	answered atomic.Int64 // unix nanoseconds of the answer; 0 before

	path   rtpPath
	rx     receiver
	tx     sender
	play   player
	br     bridge
	rc     rtcpSession
	rec    atomic.Pointer[recorder]
	maxRec int

	// Touched only by the pacer's goroutine (tick).
	frame   [frameSamples]int16
	silence [frameSamples]int16
	// holdNext: the send slot just moved later, so the pacer's next
	// tick comes less than a frame after the last packet and sends
	// nothing.
	holdNext bool

	// dec is the answered party's decoded audio, reused packet after
	// packet (the receive goroutine only): the hooks that take it after
	// the answer read it and do not keep it.
	dec []int16
}

// listenRTCP binds the RTCP socket next to an RTP one (RFC 3550 §11), or
// returns nil: RTCP is worth having, not worth failing a call for.
func listenRTCP(ip netip.Addr, rtpPort int) *net.UDPConn {
	if rtpPort%2 == 1 || rtpPort >= 65535 {
		return nil
	}
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, uint16(rtpPort+1))))
	if err != nil {
		return nil
	}
	return c
}

// rtcpPortTries bounds the search for an even kernel-chosen RTP port whose
// neighbour is free, when no port range is configured.
const rtcpPortTries = 16

// openStream binds a UDP socket on ip, in [min, max] when a range is set,
// and an RTCP socket on the port above when it is free.
func openStream(ip netip.Addr, portMin, portMax int, timeout time.Duration, maxRec time.Duration, hooks streamHooks) (*rtpSession, error) {
	var conn, rtcpConn *net.UDPConn
	var err error
	if portMin == 0 && portMax == 0 {
		// The kernel picks any port, odd as often as even: an even one
		// takes RTCP on the port above, an odd one becomes RTCP itself
		// when the even port below is free for RTP (so half the calls do
		// not pay a second socket's system calls for nothing). Retry a
		// few times, then settle for RTP alone.
		for i := 0; i < rtcpPortTries; i++ {
			conn, err = net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, 0)))
			if err != nil {
				break
			}
			p := conn.LocalAddr().(*net.UDPAddr).Port
			if p%2 == 1 && p > 1024 {
				if rtp, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, uint16(p-1)))); err == nil {
					conn, rtcpConn = rtp, conn
					break
				}
			} else if rtcpConn = listenRTCP(ip, p); rtcpConn != nil {
				break
			}
			if i == rtcpPortTries-1 {
				break
			}
			_ = conn.Close()
			conn = nil
		}
	} else {
		// Start at a random even port so concurrent calls do not all
		// probe from the bottom of the range.
		span := portMax - portMin + 1
		var b [4]byte
		_, _ = rand.Read(b[:])
		first := int(binary.BigEndian.Uint32(b[:]) % uint32(span))
		for i := 0; i < span; i++ {
			p := portMin + (first+i)%span
			if p%2 == 1 {
				continue // RTP on even ports, RTCP above (RFC 3550 §11)
			}
			conn, err = net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, uint16(p))))
			if err == nil {
				// RTCP stays inside the range too: the range is what a
				// firewall lets through.
				if p+1 <= portMax {
					rtcpConn = listenRTCP(ip, p)
				}
				break
			}
		}
		if conn == nil && err == nil {
			err = errors.New("no even port in range")
		}
	}
	if err != nil {
		return nil, fmt.Errorf("rtp socket on %s: %w", ip, err)
	}
	s := newRTPSession(conn, rtcpConn, timeout, maxRec, hooks)
	go s.receive()
	if rtcpConn != nil {
		go s.readRTCP(rtcpConn)
	}
	return s, nil
}

// newRTPSession makes a session on conn (nil in tests that feed packets to
// handle directly) without starting its goroutines.
func newRTPSession(conn, rtcpConn *net.UDPConn, timeout, maxRec time.Duration, hooks streamHooks) *rtpSession {
	var b [8]byte
	_, _ = rand.Read(b[:])
	s := &rtpSession{
		conn:     conn,
		rtcpConn: rtcpConn,
		hooks:    hooks,
		timeout:  timeout,
		started:  time.Now(),
		ssrc:     binary.BigEndian.Uint32(b[:4]),
		maxRec:   int(maxRec * sampleRate / time.Second),
	}
	s.rx.started = s.started
	s.tx.init(binary.BigEndian.Uint16(b[4:6]), uint32(binary.BigEndian.Uint16(b[6:8]))<<8)
	return s
}

func (s *rtpSession) port() int { return s.conn.LocalAddr().(*net.UDPAddr).Port }

// setRemote applies the far end's SDP (early media or answer).
func (s *rtpSession) setRemote(a answer) {
	s.format.Store(&mediaFormat{codec: a.codec, pt: a.pt, dtmfPTs: [2]int{dtmfPT, a.dtmfPT}})
	s.path.setSDP(netip.AddrPortFrom(a.addr.Unmap(), uint16(a.port)))
	s.rc.setSDP(a.rtcpPort, a.rtcpMux)
}

// answer starts sending (silence until something plays).
func (s *rtpSession) answer() {
	s.answered.Store(time.Now().UnixNano())
	s.sending.Store(true)
	// The answer may move media to another gateway: the first source
	// after it is the one to believe, not the early media's.
	s.path.unpin()
}

// answeredAt is the wall time of the answer; zero before.
func (s *rtpSession) answeredAt() time.Time {
	if n := s.answered.Load(); n != 0 {
		return time.Unix(0, n)
	}
	return time.Time{}
}

// close stops the session for good; a Play in progress ends.
func (s *rtpSession) close() {
	if s.closed.Swap(true) {
		return
	}
	s.sending.Store(false)
	s.br.setPeer(nil) // keeps the counters for Stats
	s.tx.dropDTMF()
	s.rx.dropPrelude()
	s.play.close()
	if s.conn != nil {
		_ = s.conn.Close()
	}
	if s.rtcpConn != nil {
		_ = s.rtcpConn.Close()
	}
}

// startPlay replaces what is playing with samples; the returned job's
// done closes when it played out or the session closed.
func (s *rtpSession) startPlay(samples []int16) (*playJob, error) {
	if s.closed.Load() {
		return nil, errLegEnded
	}
	if !s.sending.Load() {
		return nil, errors.New("not answered")
	}
	return s.play.start(samples)
}

func (s *rtpSession) record() {
	if s.rec.Load() == nil {
		s.rec.CompareAndSwap(nil, newRecorder(time.Now(), s.maxRec))
	}
}

func (s *rtpSession) recording() []byte {
	r := s.rec.Load()
	if r == nil {
		return nil
	}
	out, in := r.snapshot()
	wav, err := media.EncodeStereoWAV(out, in, sampleRate)
	if err != nil {
		return nil
	}
	return wav
}

// moveLater turns a move of the send slot (feedPhase; negative: earlier)
// into one later, which is all the RTP clock allows: the next packet
// leaves that much later and is stamped so (a gap, as after silence), so
// that the packets' send times keep to their timestamps. A move earlier
// by k slots is one later by the rest of the frame with a frame skipped:
// the source drops the frame due in the skipped slot as late (its audio
// came a frame ahead, and would otherwise keep that delay).
func (s *rtpSession) moveLater(move int) int {
	if move < 0 {
		move += pacerSlots
		s.play.skip(1)
	}
	// The pacer reaches the slot again 2·move ms from now, in this frame
	// or the next: that tick is not this session's next frame.
	s.holdNext = true
	return move
}

// tick sends one 20 ms frame; the pacer calls it every frameTime. It
// takes each part's lock in turn, never two at once, and never waits on
// anything but them: a frame source (a media stream) is read from its
// buffer, whatever its network does. It returns how many pacer slots
// later the session's send slot moves to follow a fed source's audio
// (feedPhase, moveLater), 0 for none.
func (s *rtpSession) tick() (move int) {
	if s.holdNext {
		s.holdNext = false
		return 0
	}
	if !s.sending.Load() {
		return 0
	}
	to, ok := s.path.dest()
	if !ok {
		return
	}
	f := s.format.Load()
	if f == nil {
		return
	}
	if s.tx.tickDTMF(s.conn, to, f.dtmfPTs[1], s.ssrc) {
		if r := s.rec.Load(); r != nil {
			r.addOut(s.silence[:])
		}
		return
	}
	frame, move := s.play.next(s.frame[:])
	if move != 0 {
		move = s.moveLater(move)
		// After this packet: the next leaves move slots late.
		defer s.tx.delay(uint32(move) * frameSamples / pacerSlots)
	}
	if frame == nil {
		frame = s.br.next(s.frame[:])
	}
	if frame == nil {
		frame = s.silence[:]
	}
	if r := s.rec.Load(); r != nil {
		r.addOut(frame)
	}
	buf := s.tx.packet(f, frame, s.ssrc)
	if buf == nil {
		return move
	}
	// A failed write (ICMP unreachable, socket closed) is not fatal: the
	// RTP timeout and SIP decide when the call is over.
	_, _ = s.conn.WriteToUDPAddrPort(buf, to)
	return move
}

// skip moves the media clock on by frames the pacer did not send (it fell
// more than a frame behind): the next packet's timestamp is its send time,
// with the marker bit, as after a silence; a fed source is told.
func (s *rtpSession) skip(frames int) {
	if frames > 0 && s.sending.Load() {
		s.tx.skip(frames)
		s.play.skip(frames)
	}
}

// receive reads RTP until the socket closes.
func (s *rtpSession) receive() {
	buf := make([]byte, 1500)
	var p rtp.Packet
	// The timeout is checked when the socket is quiet and, at most once a
	// second, while datagrams arrive: junk and payload types nobody agreed
	// are not media, and arriving more often than the read deadline they
	// would otherwise keep a dead call up for ever.
	//
	// The deadline is moved on only when less than three quarters of a
	// second of it is left, not before every read: a quiet socket still
	// times out within a second, and a busy one does not pay for a timer
	// change per packet.
	nextCheck := time.Now().Add(time.Second)
	var deadline time.Time
	for {
		if now := time.Now(); deadline.Sub(now) < 750*time.Millisecond {
			deadline = now.Add(time.Second)
			_ = s.conn.SetReadDeadline(deadline)
		}
		n, from, err := s.conn.ReadFromUDPAddrPort(buf)
		now := time.Now()
		if err != nil {
			var ne net.Error
			if !errors.As(err, &ne) || !ne.Timeout() {
				return // closed
			}
		} else if isRTCP(buf[:n]) && s.onRTCP(buf[:n], from, now, true) {
			// RTCP multiplexed on the RTP port (RFC 5761): reports, not
			// media, so they do not count against the RTP timeout.
		} else if p.Unmarshal(buf[:n]) == nil && p.Version == 2 {
			s.handle(&p, from, now)
		}
		if err != nil || !now.Before(nextCheck) {
			nextCheck = now.Add(time.Second)
			if s.timedOut() {
				s.hooks.timeout()
				return
			}
		}
	}
}

// timedOut reports whether an answered call has had no RTP for too long.
func (s *rtpSession) timedOut() bool {
	answered := s.answeredAt()
	if s.closed.Load() || s.timeout <= 0 || answered.IsZero() {
		return false
	}
	last := s.rx.lastArrival()
	if last.Before(answered) {
		last = answered
	}
	return time.Since(last) > s.timeout
}

// handle processes one RTP packet (the receive goroutine only).
func (s *rtpSession) handle(p *rtp.Packet, from netip.AddrPort, now time.Time) {
	f := s.format.Load()
	if f == nil {
		if s.closed.Load() {
			s.rx.ignore()
		} else {
			s.rx.hold(p, from, now)
		}
		return
	}
	if held := s.rx.takePrelude(); len(held) > 0 {
		// The SDP has come: what arrived before it goes first, in order,
		// from this goroutine (the only one that handles packets).
		for _, h := range held {
			s.handle(h.pkt, h.from, h.at)
		}
	}
	isDTMF := int(p.PayloadType) == f.dtmfPTs[0] || int(p.PayloadType) == f.dtmfPTs[1]
	if s.closed.Load() || (p.PayloadType != f.pt && !isDTMF) {
		s.rx.ignore()
		return
	}
	if !s.path.trusted(from) {
		return
	}
	answered := s.answered.Load() != 0
	var keys string
	var pcm []int16
	newSource := false
	if isDTMF {
		newSource, keys = s.rx.event(p, now)
	} else {
		switch {
		case !answered:
			// Early media is kept (the early-media buffer, the
			// progress-tone reader): a slice of its own.
			if f.codec == CodecPCMA {
				pcm = media.DecodeALaw(p.Payload)
			} else {
				pcm = media.DecodeMuLaw(p.Payload)
			}
		case f.codec == CodecPCMA:
			s.dec = media.AppendDecodeALaw(s.dec[:0], p.Payload)
			pcm = s.dec
		default:
			s.dec = media.AppendDecodeMuLaw(s.dec[:0], p.Payload)
			pcm = s.dec
		}
		newSource = s.rx.audio(p, now, pcm, answered)
		if answered {
			if r := s.rec.Load(); r != nil {
				r.addIn(p.SSRC, p.Timestamp, now, pcm)
			}
		}
	}
	// Symmetric RTP: answer where the media really comes from (NAT), and
	// latch again only when the source changes identity (new SSRC).
	s.path.latch(from, newSource)
	if answered && len(pcm) > 0 && s.hooks.audio != nil {
		s.hooks.audio(pcm, now)
	}
	if !answered && len(pcm) > 0 && s.hooks.early != nil {
		s.hooks.early(pcm, now)
	}
	// Early media stays with its own leg; the answered party's audio and
	// keys go to the bridge's peer, outside every lock of ours: two
	// bridged sessions feed each other from their own goroutines.
	if answered {
		if peer := s.br.currentPeer(); peer != nil {
			if len(pcm) > 0 {
				peer.bridgeAudio(pcm)
			}
			if keys != "" {
				peer.sendDTMF(keys)
			}
		}
	}
	if keys != "" && s.hooks.dtmf != nil {
		s.hooks.dtmf(keys)
	}
}

// cgnat is the carrier-grade NAT range (RFC 6598), private in practice.
var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// unroutable reports whether an SDP address cannot be where the far end's
// packets come from as seen across the network: private, loopback,
// link-local, unspecified, or missing.
func unroutable(a netip.Addr) bool {
	return !a.IsValid() || a.IsPrivate() || a.IsLoopback() || a.IsLinkLocalUnicast() ||
		a.IsUnspecified() || cgnat.Contains(a)
}

// earlyMedia returns a copy of the early media heard before answer.
func (s *rtpSession) earlyMedia() []int16 { return s.rx.earlyMedia() }

// stats reports the media statistics.
func (s *rtpSession) stats(m map[string]string) {
	if f := s.format.Load(); f != nil {
		m["codec"] = f.codec
	} else {
		m["codec"] = ""
	}
	m["rtp_local_port"] = strconv.Itoa(s.port())
	s.path.stats(m)
	s.tx.stats(m)
	s.rx.stats(m)
	s.br.stats(m)
	s.rtcpStats(m)
}
