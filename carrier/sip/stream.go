package sip

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/pion/rtp"

	"github.com/dialtone-voice/dialtone/media"
)

// maxEarlyMedia bounds the early media kept per call.
const maxEarlyMedia = 60 * sampleRate

// streamHooks are what a stream reports to its leg.
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

// stream is the RTP side of a leg: one UDP socket, a receive goroutine,
// and a send slot served by the carrier's shared pacer.
type stream struct {
	conn     *net.UDPConn
	rtcpConn *net.UDPConn // RTP port + 1; nil when that port was taken
	hooks    streamHooks
	timeout  time.Duration
	started  time.Time

	mu      sync.Mutex
	closed  bool
	remote  netip.AddrPort // where we send; latched to the real source
	latched bool
	// sdpIP is the far end's SDP connection address: media from it is
	// trusted whatever its port (NAT). pinned is the first source accepted
	// since the SDP or the answer; when sdpIP is private or unroutable the
	// far end's media may legitimately come from another IP (its NAT's),
	// and then only that first source is believed, so a stranger who can
	// reach our port cannot take the call's audio or inject DTMF.
	sdpIP    netip.Addr
	pinned   netip.AddrPort
	foreign  uint64 // packets dropped for coming from an untrusted source
	codec    string
	pt       uint8
	dtmfPTs  [2]int // payload types accepted as telephone-event: ours and the answer's
	answered time.Time
	sending  bool
	lastRx   time.Time

	// Send state; frames are built under mu by the pacer.
	ssrc    uint32
	seq     uint16
	ts      uint32
	marker  bool
	play    *playJob
	sent    uint64
	silence [frameSamples]int16

	rx        rxStats
	rc        rtcpState
	dtmf      dtmfDetector
	rec       *recorder
	maxRec    int
	early     []int16
	earlyPkts uint64
	// prelude holds media that arrived before any SDP of the far end told
	// us its address and codec: a far end starts sending the moment it
	// answers, and its first packets often overtake the 200 OK (or the 183)
	// on the way in. They are replayed, source checked, once the SDP is
	// known, so the first syllables of an answer or an announcement are
	// neither lost nor counted as junk.
	prelude []heldPacket

	// Bridge state (bridge.go): br.peer (another stream, or another
	// carrier's leg) receives what this stream hears; br.in is what the
	// peer's party said, waiting to be sent here.
	br bridgeState

	pkt []byte // send buffer, touched only by the pacer goroutine
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

// playJob is one Play in progress.
type playJob struct {
	samples  []int16
	pos      int
	finished bool // played to the end (under stream.mu)
	done     chan struct{}
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
func openStream(ip netip.Addr, portMin, portMax int, timeout time.Duration, maxRec time.Duration, hooks streamHooks) (*stream, error) {
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
	var b [8]byte
	_, _ = rand.Read(b[:])
	s := &stream{
		conn:     conn,
		rtcpConn: rtcpConn,
		hooks:    hooks,
		timeout:  timeout,
		started:  time.Now(),
		ssrc:     binary.BigEndian.Uint32(b[:4]),
		seq:      binary.BigEndian.Uint16(b[4:6]),
		ts:       uint32(binary.BigEndian.Uint16(b[6:8])) << 8,
		marker:   true,
		dtmfPTs:  [2]int{dtmfPT, -1},
		maxRec:   int(maxRec * sampleRate / time.Second),
		pkt:      make([]byte, 0, 12+frameSamples),
	}
	go s.receive()
	if rtcpConn != nil {
		go s.readRTCP(rtcpConn)
	}
	return s, nil
}

func (s *stream) port() int { return s.conn.LocalAddr().(*net.UDPAddr).Port }

// setRemote applies the far end's SDP (early media or answer).
func (s *stream) setRemote(a answer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.latched {
		s.remote = netip.AddrPortFrom(a.addr.Unmap(), uint16(a.port))
	}
	s.sdpIP = a.addr.Unmap()
	s.codec, s.pt = a.codec, a.pt
	s.dtmfPTs[1] = a.dtmfPT
	s.rc.sdpPort = a.rtcpPort
	s.rc.mux = s.rc.mux || a.rtcpMux
}

// answer starts sending (silence until something plays).
func (s *stream) answer() {
	s.mu.Lock()
	s.answered = time.Now()
	s.sending = true
	// The answer may move media to another gateway: the first source
	// after it is the one to believe, not the early media's.
	s.pinned = netip.AddrPort{}
	s.mu.Unlock()
}

// close stops the stream for good; a Play in progress ends.
func (s *stream) close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	s.sending = false
	s.br.peer, s.br.in, s.br.dtmfQ = nil, nil, nil // keep the counters for Stats
	s.prelude = nil
	if s.play != nil {
		close(s.play.done)
		s.play = nil
	}
	s.mu.Unlock()
	_ = s.conn.Close()
	if s.rtcpConn != nil {
		_ = s.rtcpConn.Close()
	}
}

// startPlay replaces what is playing with samples; the returned job's
// done closes when it played out or the stream closed.
func (s *stream) startPlay(samples []int16) (*playJob, error) {
	j := &playJob{samples: samples, done: make(chan struct{})}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errLegEnded
	}
	if !s.sending {
		return nil, errors.New("not answered")
	}
	if s.play != nil {
		close(s.play.done) // superseded: its Play returns as finished early
	}
	s.play = j
	return j, nil
}

// playedOut reports whether j played to its end.
func (s *stream) playedOut(j *playJob) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return j.finished
}

// stopPlay removes j if it is still playing.
func (s *stream) stopPlay(j *playJob) {
	s.mu.Lock()
	if s.play == j {
		s.play = nil
		close(j.done)
	}
	s.mu.Unlock()
}

func (s *stream) record() {
	s.mu.Lock()
	if s.rec == nil {
		s.rec = &recorder{start: time.Now(), max: s.maxRec}
	}
	s.mu.Unlock()
}

func (s *stream) recording() []byte {
	s.mu.Lock()
	r := s.rec
	var out, in []int16
	if r != nil {
		out = append(out, r.out...)
		in = append(in, r.in...)
	}
	s.mu.Unlock()
	if r == nil {
		return nil
	}
	wav, err := media.EncodeStereoWAV(out, in, sampleRate)
	if err != nil {
		return nil
	}
	return wav
}

// tick sends one 20 ms frame; the pacer calls it every frameTime.
func (s *stream) tick() {
	s.mu.Lock()
	if !s.sending || !s.remote.IsValid() || s.remote.Port() == 0 {
		s.mu.Unlock()
		return
	}
	if s.tickDTMF() {
		s.mu.Unlock()
		return
	}
	frame := s.silence[:]
	if j := s.play; j == nil {
		// Nothing playing: send what the bridged party said, if any.
		if f := s.br.next(); f != nil {
			frame = f
		}
	} else {
		n := min(frameSamples, len(j.samples)-j.pos)
		if n == frameSamples {
			frame = j.samples[j.pos : j.pos+n]
		} else {
			// The last, short frame: pad with silence.
			var last [frameSamples]int16
			copy(last[:], j.samples[j.pos:])
			frame = last[:]
		}
		j.pos += n
		if j.pos >= len(j.samples) {
			j.finished = true
			close(j.done)
			s.play = nil
		}
	}
	if s.rec != nil {
		s.rec.addOut(frame)
	}
	h := rtp.Header{Version: 2, Marker: s.marker, PayloadType: s.pt, SequenceNumber: s.seq, Timestamp: s.ts, SSRC: s.ssrc}
	s.marker = false
	s.seq++
	s.ts += frameSamples
	s.sent++
	buf := s.pkt[:h.MarshalSize()]
	if _, err := h.MarshalTo(buf); err != nil {
		s.mu.Unlock()
		return
	}
	if s.codec == CodecPCMA {
		buf = media.AppendALaw(buf, frame)
	} else {
		buf = media.AppendMuLaw(buf, frame)
	}
	to := s.remote
	s.mu.Unlock()
	// A failed write (ICMP unreachable, socket closed) is not fatal: the
	// RTP timeout and SIP decide when the call is over.
	_, _ = s.conn.WriteToUDPAddrPort(buf, to)
}

// receive reads RTP until the socket closes.
func (s *stream) receive() {
	buf := make([]byte, 1500)
	var p rtp.Packet
	// The timeout is checked when the socket is quiet and, at most once a
	// second, while datagrams arrive: junk and payload types nobody agreed
	// are not media, and arriving more often than the read deadline they
	// would otherwise keep a dead call up for ever.
	nextCheck := time.Now().Add(time.Second)
	for {
		_ = s.conn.SetReadDeadline(time.Now().Add(time.Second))
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
func (s *stream) timedOut() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.timeout <= 0 || s.answered.IsZero() {
		return false
	}
	last := s.lastRx
	if last.Before(s.answered) {
		last = s.answered
	}
	return time.Since(last) > s.timeout
}

// handle processes one RTP packet.
func (s *stream) handle(p *rtp.Packet, from netip.AddrPort, now time.Time) {
	var keys string
	var pcm []int16
	s.mu.Lock()
	if s.codec == "" && !s.closed {
		if len(s.prelude) < maxPrelude {
			s.prelude = append(s.prelude, heldPacket{pkt: p.Clone(), from: from, at: now})
		} else {
			s.rx.unknown++
		}
		s.mu.Unlock()
		return
	}
	if len(s.prelude) > 0 {
		// The SDP has come: what arrived before it goes first, in order,
		// from this goroutine (the only one that handles packets).
		held := s.prelude
		s.prelude = nil
		s.mu.Unlock()
		for _, h := range held {
			s.handle(h.pkt, h.from, h.at)
		}
		s.handle(p, from, now)
		return
	}
	isDTMF := int(p.PayloadType) == s.dtmfPTs[0] || int(p.PayloadType) == s.dtmfPTs[1]
	if s.closed || s.codec == "" || (p.PayloadType != s.pt && !isDTMF) {
		s.rx.unknown++
		s.mu.Unlock()
		return
	}
	if !s.trusted(from) {
		s.foreign++
		s.mu.Unlock()
		return
	}
	// Symmetric RTP: answer where the media really comes from (NAT), and
	// latch again only when the source changes identity (new SSRC).
	newSource := s.rx.seq(p.SSRC, p.SequenceNumber)
	if !s.latched || (newSource && from != s.remote) {
		s.remote, s.latched = from, true
	}
	s.lastRx = now
	if isDTMF {
		keys = s.dtmf.feed(p.Timestamp, p.Payload)
	} else {
		s.rx.arrival(p.Timestamp, now.Sub(s.started))
		if s.codec == CodecPCMA {
			pcm = media.DecodeALaw(p.Payload)
		} else {
			pcm = media.DecodeMuLaw(p.Payload)
		}
		if s.answered.IsZero() {
			s.earlyPkts++
			if len(s.early)+len(pcm) <= maxEarlyMedia {
				s.early = append(s.early, pcm...)
			}
		} else if s.rec != nil {
			s.rec.addIn(p.SSRC, p.Timestamp, now, pcm)
		}
	}
	peer := s.br.peer
	answered := !s.answered.IsZero()
	if !answered {
		peer = nil // early media stays with its own leg
	}
	s.mu.Unlock()
	if answered && len(pcm) > 0 && s.hooks.audio != nil {
		s.hooks.audio(pcm, now)
	}
	if !answered && len(pcm) > 0 && s.hooks.early != nil {
		s.hooks.early(pcm, now)
	}
	// The peer is locked only after ours is released: two bridged streams
	// feed each other from their own goroutines, and holding both locks
	// would deadlock them.
	if peer != nil {
		if len(pcm) > 0 {
			peer.bridgeAudio(pcm)
		}
		if keys != "" {
			peer.sendDTMF(keys)
		}
	}
	if keys != "" && s.hooks.dtmf != nil {
		s.hooks.dtmf(keys)
	}
}

// trusted reports whether media from src may be taken as the far end's,
// pinning the first trusted source; s.mu is held.
func (s *stream) trusted(src netip.AddrPort) bool {
	src = netip.AddrPortFrom(src.Addr().Unmap(), src.Port())
	ok := src.Addr() == s.sdpIP ||
		(unroutable(s.sdpIP) && (!s.pinned.IsValid() || src == s.pinned))
	if ok && !s.pinned.IsValid() {
		s.pinned = src
	}
	return ok
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
func (s *stream) earlyMedia() []int16 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]int16(nil), s.early...)
}

// stats reports the media statistics.
func (s *stream) stats(m map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m["codec"] = s.codec
	m["rtp_local_port"] = strconv.Itoa(s.port())
	if s.remote.IsValid() {
		m["rtp_remote"] = s.remote.String()
	}
	m["packets_sent"] = strconv.FormatUint(s.sent, 10)
	m["packets_received"] = strconv.FormatUint(s.rx.received, 10)
	m["packets_lost"] = strconv.FormatInt(s.rx.totalLost(), 10)
	m["jitter_ms"] = s.rx.jitterMS()
	if s.rx.unknown > 0 {
		m["packets_ignored"] = strconv.FormatUint(s.rx.unknown, 10)
	}
	if s.foreign > 0 {
		m["rtp_foreign"] = strconv.FormatUint(s.foreign, 10)
	}
	s.bridgeStats(m)
	s.rtcpStats(m)
	if s.earlyPkts > 0 {
		m["early_media_ms"] = strconv.Itoa(len(s.early) * 1000 / sampleRate)
	}
}
