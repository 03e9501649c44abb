package sip

import (
	"errors"
	"math/rand/v2"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/pion/rtcp"
)

// defaultRTCPInterval is RFC 3550's minimum report interval (§6.2): at one
// stream per call the bandwidth rule never asks for more.
const defaultRTCPInterval = 5 * time.Second

// maxRTCP bounds an RTCP datagram we parse: a compound report is well
// under 200 bytes, and the read buffer is an MTU anyway.
const maxRTCP = 1500

// ntpEpochOffset is the seconds from 1900 (NTP) to 1970 (Unix).
const ntpEpochOffset = 2208988800

// ntpTime converts t to the 64-bit NTP format of sender reports.
func ntpTime(t time.Time) uint64 {
	sec := uint64(t.Unix()) + ntpEpochOffset
	frac := uint64(t.Nanosecond()) << 32 / uint64(time.Second)
	return sec<<32 | frac
}

// ntpMid32 is the middle 32 bits of t's NTP time, the unit of LSR and of
// the round-trip arithmetic (1/65536 s).
func ntpMid32(t time.Time) uint32 { return uint32(ntpTime(t) >> 16) }

// rtcpSession is a session's RTCP: what it knows from and for the far
// end's reports, under its own lock.
type rtcpSession struct {
	mu sync.Mutex
	rtcpState
}

// setSDP takes the SDP's RTCP port and whether it offers mux.
func (r *rtcpSession) setSDP(port int, mux bool) {
	r.mu.Lock()
	r.sdpPort = port
	r.mux = r.mux || mux
	r.mu.Unlock()
}

// rtcpState is the bookkeeping of rtcpSession.
type rtcpState struct {
	every time.Duration
	next  time.Time // when the next report is due

	// Where the far end takes RTCP: latched to the source of its own
	// RTCP (symmetric, as for RTP), else the SDP's a=rtcp port, else RTP
	// port + 1 (RFC 3550 §11). mux: it sends RTCP on the RTP port (RFC
	// 5761), so that is where ours goes too.
	remote  netip.AddrPort
	latched bool
	sdpPort int
	mux     bool

	sent     uint64
	received uint64 // RTCP datagrams accepted
	bad      uint64 // malformed or from a stranger

	// Reception-report bookkeeping for the far end's source (RFC 3550
	// appendix A.3): expected and received at the previous report.
	priorSSRC     uint32
	expectedPrior uint32
	receivedPrior uint64

	// The far end's last sender report: its NTP middle bits and when it
	// arrived, echoed as LSR and DLSR so the far end can compute the RTT.
	srSSRC uint32
	srNTP  uint32
	srAt   time.Time

	// What the far end reports about our stream.
	haveFar  bool
	fraction uint8 // fraction lost since its previous report, /256
	lost     int32 // cumulative lost (24-bit signed on the wire)
	jitter   uint32
	rtt      time.Duration
	haveRTT  bool
}

// isRTCP tells RTCP multiplexed on the RTP port from RTP. RFC 5761 §4
// keeps the second byte's values 192–223 for RTCP (RTP payload types
// 64–95 with the marker set); a compound packet starts with SR (200) or
// RR (201) (RFC 3550 §6.1), so only those two are taken for RTCP, and a
// far end that put telephone-event on, say, 64 is not misread.
func isRTCP(b []byte) bool {
	return len(b) >= 8 && b[0]>>6 == 2 && (b[1] == rtcpTypeSR || b[1] == rtcpTypeRR)
}

// RTCP packet types of sender and receiver reports (RFC 3550 §12.1).
const (
	rtcpTypeSR = 200
	rtcpTypeRR = 201
)

// readRTCP reads the RTCP socket until it closes; each datagram is handled
// like mux RTCP, so nothing it carries can do more than update Stats.
func (s *rtpSession) readRTCP(conn *net.UDPConn) {
	buf := make([]byte, maxRTCP)
	for {
		n, from, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			// ICMP errors surface as read errors on some systems; they do
			// not end the socket. A closed stream does, checked here so a
			// persistent error cannot spin for ever.
			if s.closed.Load() {
				return
			}
			time.Sleep(10 * time.Millisecond)
			continue
		}
		s.onRTCP(buf[:n], from, time.Now(), false)
	}
}

// onRTCP takes one RTCP datagram, from the RTCP socket or multiplexed on
// the RTP one. It reports false when a mux datagram does not parse as
// RTCP: then it may be RTP after all (payload type 72 or 73 with the
// marker set looks the same in its first two bytes) and goes to the RTP
// path.
func (s *rtpSession) onRTCP(b []byte, from netip.AddrPort, now time.Time, mux bool) bool {
	if s.closed.Load() {
		return true
	}
	// RTCP only feeds statistics, so the far end's IP is check enough: its
	// RTCP comes from another port than its RTP, which the RTP pinning
	// would refuse.
	src := from.Addr().Unmap()
	trusted := s.path.rtcpSource(src)
	s.rc.mu.Lock()
	defer s.rc.mu.Unlock()
	if !trusted {
		s.rc.bad++
		return true
	}
	if !s.rc.feed(b, s.ssrc, now) {
		if mux {
			return false
		}
		s.rc.bad++
		return true
	}
	s.rc.received++
	if mux {
		s.rc.mux = true
	} else {
		s.rc.remote, s.rc.latched = netip.AddrPortFrom(src, from.Port()), true
	}
	return true
}

// feed parses a compound RTCP datagram and keeps the sender reports' times
// and the report blocks about ours; it reports whether b was RTCP at all.
// It never panics: pion/rtcp checks lengths, and we only read fields.
func (r *rtcpState) feed(b []byte, ours uint32, now time.Time) bool {
	if len(b) > maxRTCP {
		return false
	}
	pkts, err := rtcp.Unmarshal(b)
	if err != nil {
		return false
	}
	for _, p := range pkts {
		switch p := p.(type) {
		case *rtcp.SenderReport:
			r.srSSRC, r.srNTP, r.srAt = p.SSRC, uint32(p.NTPTime>>16), now
			r.blocks(p.Reports, ours, now)
		case *rtcp.ReceiverReport:
			r.blocks(p.Reports, ours, now)
		}
	}
	return true
}

// blocks keeps the report blocks about our source (others are about
// someone else's stream: a conference, a forwarded leg).
func (r *rtcpState) blocks(reps []rtcp.ReceptionReport, ours uint32, now time.Time) {
	for _, rep := range reps {
		if rep.SSRC != ours {
			continue
		}
		r.haveFar = true
		r.fraction = rep.FractionLost
		// 24-bit two's complement: duplicates can make it negative.
		lost := int32(rep.TotalLost & 0xffffff)
		if lost&0x800000 != 0 {
			lost -= 1 << 24
		}
		r.lost = lost
		r.jitter = rep.Jitter
		if rep.LastSenderReport == 0 {
			continue // no SR of ours reached it yet: no RTT
		}
		// RFC 3550 §6.4.1: RTT = arrival - LSR - DLSR, in 1/65536 s. A
		// result that wraps negative or exceeds a minute is a lie or a
		// clock step; keep the last sane one.
		d := int64(int32(ntpMid32(now) - rep.LastSenderReport - rep.Delay))
		if d >= 0 && d < 60<<16 {
			r.rtt, r.haveRTT = time.Duration(d*int64(time.Second))>>16, true
		}
	}
}

// tickRTCP sends the session's report when due; the pacer calls it after
// each frame, so RTCP needs no timer of its own. It reads the receiver's
// and the sender's figures first, each under its own lock, then takes
// RTCP's.
func (s *rtpSession) tickRTCP(now time.Time) {
	remote, ok := s.path.dest()
	if s.closed.Load() || !ok {
		return
	}
	s.rc.mu.Lock()
	if s.rc.every <= 0 {
		s.rc.every = defaultRTCPInterval
	}
	if s.rc.next.IsZero() {
		// The first report after half an interval (RFC 3550 §6.2).
		s.rc.next = now.Add(s.rc.every / 2)
	}
	due := !now.Before(s.rc.next)
	s.rc.mu.Unlock()
	if !due {
		return
	}
	rx := s.rx.snapshot()
	sending := s.sending.Load()
	if !sending && rx.received == 0 {
		return
	}
	sent, ts := s.tx.position()
	s.rc.mu.Lock()
	// Randomised in [0.5, 1.5] × the interval (§6.3.1) so calls set up
	// together do not report in lockstep.
	s.rc.next = now.Add(s.rc.every/2 + rand.N(s.rc.every))
	pkt := s.report(now, &rx, sending, sent, ts)
	conn, to := s.rtcpConn, s.rc.remote
	switch {
	case s.rc.mux:
		conn, to = s.conn, remote
	case s.rc.latched:
	case s.rc.sdpPort > 0:
		to = netip.AddrPortFrom(remote.Addr(), uint16(s.rc.sdpPort))
	case remote.Port() < 65535:
		to = netip.AddrPortFrom(remote.Addr(), remote.Port()+1)
	}
	s.rc.mu.Unlock()
	if conn == nil {
		// No RTCP socket (port + 1 was taken): report from the RTP one;
		// the far end's replies to port + 1 are lost, ours still help it.
		conn = s.conn
	}
	b, err := rtcp.Marshal(pkt)
	if err != nil || !to.IsValid() {
		return
	}
	if _, err := conn.WriteToUDPAddrPort(b, to); err == nil {
		s.rc.mu.Lock()
		s.rc.sent++
		s.rc.mu.Unlock()
	}
}

// report builds the compound report: SR while we send, else RR, then the
// SDES CNAME RFC 3550 §6.1 requires in every compound packet; s.rc.mu is
// held.
func (s *rtpSession) report(now time.Time, rx *rxStats, sending bool, sent uint64, ts uint32) []rtcp.Packet {
	var blocks []rtcp.ReceptionReport
	if rx.have {
		blocks = append(blocks, s.rc.receptionReport(rx, now))
	}
	var first rtcp.Packet
	if sending && sent > 0 {
		first = &rtcp.SenderReport{
			SSRC:    s.ssrc,
			NTPTime: ntpTime(now),
			// ts is the timestamp of the next frame, due within 20 ms:
			// close enough to now for lip sync we do not do.
			RTPTime:     ts,
			PacketCount: uint32(sent),
			OctetCount:  uint32(sent * frameSamples),
			Reports:     blocks,
		}
	} else {
		first = &rtcp.ReceiverReport{SSRC: s.ssrc, Reports: blocks}
	}
	return []rtcp.Packet{first, rtcp.NewCNAMESourceDescription(s.ssrc, "dialtone@"+strconv.FormatUint(uint64(s.ssrc), 16))}
}

// receptionReport is the block about the far end's current source (RFC
// 3550 §6.4.1, appendix A.3), from a snapshot of the receiver's figures;
// r.mu is held.
func (r *rtcpSession) receptionReport(rx *rxStats, now time.Time) rtcp.ReceptionReport {
	ext := rx.cycles + uint32(rx.maxSeq)
	expected := ext - rx.baseSeq + 1
	received := rx.received - rx.received0
	if r.priorSSRC != rx.ssrc {
		r.priorSSRC, r.expectedPrior, r.receivedPrior = rx.ssrc, 0, 0
	}
	expInt := int64(expected - r.expectedPrior)
	lostInt := expInt - int64(received-r.receivedPrior)
	r.expectedPrior, r.receivedPrior = expected, received
	var fraction uint8
	if expInt > 0 && lostInt > 0 {
		fraction = uint8(min(lostInt<<8/expInt, 255))
	}
	rep := rtcp.ReceptionReport{
		SSRC:               rx.ssrc,
		FractionLost:       fraction,
		TotalLost:          uint32(min(rx.sourceLost(), 0x7fffff)),
		LastSequenceNumber: ext,
		Jitter:             uint32(rx.jitter),
	}
	if !r.srAt.IsZero() && r.srSSRC == rx.ssrc {
		rep.LastSenderReport = r.srNTP
		rep.Delay = uint32(now.Sub(r.srAt) * 65536 / time.Second)
	}
	return rep
}

// rtcpStats adds the RTCP figures to m.
func (s *rtpSession) rtcpStats(m map[string]string) {
	s.rc.mu.Lock()
	defer s.rc.mu.Unlock()
	m["rtcp_sent"] = strconv.FormatUint(s.rc.sent, 10)
	m["rtcp_received"] = strconv.FormatUint(s.rc.received, 10)
	if s.rc.bad > 0 {
		m["rtcp_ignored"] = strconv.FormatUint(s.rc.bad, 10)
	}
	if !s.rc.haveFar {
		return
	}
	m["rtcp_fraction_lost"] = strconv.FormatFloat(float64(s.rc.fraction)/256, 'f', 3, 64)
	m["rtcp_cumulative_lost"] = strconv.FormatInt(int64(s.rc.lost), 10)
	m["rtcp_jitter_ms"] = strconv.FormatFloat(float64(s.rc.jitter)*1000/sampleRate, 'f', 2, 64)
	if s.rc.haveRTT {
		m["rtcp_rtt_ms"] = strconv.FormatFloat(float64(s.rc.rtt)/float64(time.Millisecond), 'f', 2, 64)
	}
}
