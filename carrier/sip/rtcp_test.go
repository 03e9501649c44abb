package sip

import (
	"context"
	"net"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/pion/rtcp"

	"github.com/dialtone-voice/dialtone"
)

// rtcpSeen is one report of ours the test far end received.
type rtcpSeen struct {
	sr      bool
	ssrc    uint32
	packets uint32 // SR packet count
	blocks  []rtcp.ReceptionReport
	mux     bool // arrived on its RTP port
}

// The figures the test far end reports about our stream.
const (
	farFraction = 64 // a quarter
	farLost     = 7
	farJitter   = 80 // 10 ms at 8 kHz
	farSSRC     = 0xfeed
)

// startRTCP opens the far end's RTCP socket (announced by a=rtcp in its
// SDP) and reads our reports on it.
func (u *testUAS) startRTCP() {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		u.t.Fatal(err)
	}
	u.rtcpConn = c
	u.t.Cleanup(func() { c.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := c.ReadFromUDP(buf)
			if err != nil {
				return
			}
			u.onRTCP(buf[:n], from, false)
		}
	}()
}

// onRTCP notes a report of ours and answers each SR at once: with an SR
// on the RTCP socket (echoing LSR and DLSR, so we can compute the RTT)
// and with an RR multiplexed on the RTP socket, both carrying the same
// block about our stream.
func (u *testUAS) onRTCP(b []byte, from *net.UDPAddr, mux bool) {
	at := time.Now()
	pkts, err := rtcp.Unmarshal(b)
	if err != nil {
		u.t.Errorf("far end: bad rtcp from us: %v", err)
		return
	}
	var ours *rtcp.SenderReport
	u.mu.Lock()
	for _, p := range pkts {
		switch p := p.(type) {
		case *rtcp.SenderReport:
			u.rtcpGot = append(u.rtcpGot, rtcpSeen{sr: true, ssrc: p.SSRC, packets: p.PacketCount, blocks: p.Reports, mux: mux})
			ours = p
		case *rtcp.ReceiverReport:
			u.rtcpGot = append(u.rtcpGot, rtcpSeen{ssrc: p.SSRC, blocks: p.Reports, mux: mux})
		}
	}
	if !mux {
		u.rtcpPeer = from
	}
	peer := u.peer
	u.mu.Unlock()
	if ours == nil || mux || peer == nil {
		return
	}
	blk := rtcp.ReceptionReport{SSRC: ours.SSRC, FractionLost: farFraction, TotalLost: farLost, Jitter: farJitter,
		LastSenderReport: uint32(ours.NTPTime >> 16)}
	blk.Delay = uint32(time.Since(at) * 65536 / time.Second)
	sr, _ := rtcp.Marshal([]rtcp.Packet{&rtcp.SenderReport{SSRC: farSSRC, NTPTime: ntpTime(time.Now()), Reports: []rtcp.ReceptionReport{blk}}})
	_, _ = u.rtcpConn.WriteToUDP(sr, from)
	blk.Delay = uint32(time.Since(at) * 65536 / time.Second)
	rr, _ := rtcp.Marshal([]rtcp.Packet{&rtcp.ReceiverReport{SSRC: farSSRC, Reports: []rtcp.ReceptionReport{blk}}})
	_, _ = u.conn.WriteToUDP(rr, peer)
}

// TestUASRTCPBothWays: we send sender reports carrying a block about the
// far end's stream to its a=rtcp port, from our RTP port + 1; its SR to
// that port and its RR multiplexed on our RTP port are both taken (not
// dropped as junk RTP), and Stats show what it reported and the RTT.
func TestUASRTCPBothWays(t *testing.T) {
	u := startUAS(t, &testUAS{rtcp: true, toneHz: 300, toneFor: 4 * time.Second})
	c := newTestCarrier(t, u.addr, func(cfg *Config) { cfg.rtcpInterval = 200 * time.Millisecond })
	l := originate(t, c, "13800000000", 10*time.Second)
	waitFor(t, l, dialtone.LegAnswered, 5*time.Second)

	// What the far end got from us: an SR with packets sent and a block
	// about its stream. Our first SR may go before any of its RTP has
	// arrived (no block yet), so wait for one that has it.
	farGotBlock := func() bool {
		u.mu.Lock()
		defer u.mu.Unlock()
		for _, r := range u.rtcpGot {
			if r.sr && r.packets > 0 && len(r.blocks) == 1 && r.blocks[0].SSRC == farSSRC && r.blocks[0].LastSequenceNumber > 0 {
				return true
			}
		}
		return false
	}
	var st map[string]string
	deadline := time.Now().Add(4 * time.Second)
	for {
		st = l.Stats()
		if n, _ := strconv.Atoi(st["rtcp_received"]); n >= 2 && st["rtcp_rtt_ms"] != "" && farGotBlock() {
			break
		}
		if time.Now().After(deadline) {
			u.mu.Lock()
			got := append([]rtcpSeen(nil), u.rtcpGot...)
			u.mu.Unlock()
			t.Fatalf("no RTCP both ways in time: ours %v; far end got %+v", st, got)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if st["rtcp_fraction_lost"] != "0.250" || st["rtcp_cumulative_lost"] != "7" || st["rtcp_jitter_ms"] != "10.00" {
		t.Errorf("far end's report not kept: %v", st)
	}
	if rtt, err := strconv.ParseFloat(st["rtcp_rtt_ms"], 64); err != nil || rtt < 0 || rtt > 200 {
		t.Errorf("rtt %q on loopback", st["rtcp_rtt_ms"])
	}
	if st["packets_ignored"] != "" || st["rtcp_ignored"] != "" {
		t.Errorf("RTCP counted as junk: %v", st)
	}
	if n, _ := strconv.Atoi(st["rtcp_sent"]); n < 1 {
		t.Errorf("rtcp_sent %q", st["rtcp_sent"])
	}

	// Our reports come from our RTP port + 1.
	u.mu.Lock()
	from := u.rtcpPeer
	u.mu.Unlock()
	rtpPort, _ := strconv.Atoi(st["rtp_local_port"])
	if from == nil || from.Port != rtpPort+1 {
		t.Errorf("our RTCP came from %v, RTP port is %d", from, rtpPort)
	}

	if err := l.Hangup(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitClosed(t, l, 5*time.Second)
}

// TestRTCPStrangerIgnored: no report goes out before there is anything to
// report or anywhere to send it, and a stranger's RTCP is ignored.
func TestRTCPStrangerIgnored(t *testing.T) {
	s := loopbackStream(t, streamHooks{})
	s.setRemote(answer{addr: netip.MustParseAddr("192.0.2.7"), port: 4000, codec: CodecPCMU, dtmfPT: -1})
	s.tickRTCP(time.Now().Add(time.Hour)) // due, but nothing received and not sending
	b, _ := rtcp.Marshal([]rtcp.Packet{&rtcp.ReceiverReport{SSRC: 1, Reports: []rtcp.ReceptionReport{{SSRC: s.ssrc, FractionLost: 9}}}})
	s.onRTCP(b, netip.MustParseAddrPort("198.51.100.1:4001"), time.Now(), false)
	m := map[string]string{}
	s.stats(m)
	if m["rtcp_sent"] != "0" || m["rtcp_received"] != "0" || m["rtcp_ignored"] != "1" || m["rtcp_fraction_lost"] != "" {
		t.Errorf("stats %v", m)
	}
	// From the SDP's address it counts.
	s.onRTCP(b, netip.MustParseAddrPort("192.0.2.7:4001"), time.Now(), false)
	m = map[string]string{}
	s.stats(m)
	if m["rtcp_received"] != "1" || m["rtcp_fraction_lost"] != "0.035" {
		t.Errorf("stats %v", m)
	}
}

func TestRTCPAnswerAttributes(t *testing.T) {
	a, err := parseAnswer([]byte("v=0\r\nc=IN IP4 192.0.2.1\r\nm=audio 6000 RTP/AVP 0\r\na=rtcp:6011 IN IP4 192.0.2.1\r\na=rtcp-mux\r\n"), []string{CodecPCMU})
	if err != nil || a.rtcpPort != 6011 || !a.rtcpMux {
		t.Errorf("%+v %v", a, err)
	}
	a, err = parseAnswer([]byte("v=0\r\nc=IN IP4 192.0.2.1\r\nm=audio 6000 RTP/AVP 0\r\na=rtcp:99999\r\n"), []string{CodecPCMU})
	if err != nil || a.rtcpPort != 0 || a.rtcpMux {
		t.Errorf("%+v %v", a, err)
	}
}

// FuzzRTCPFeed: no datagram makes the RTCP parser panic.
func FuzzRTCPFeed(f *testing.F) {
	blk := []rtcp.ReceptionReport{{SSRC: 42, FractionLost: 3, TotalLost: 0xfffffe, Jitter: 9, LastSenderReport: 77, Delay: 5}}
	for _, pkts := range [][]rtcp.Packet{
		{&rtcp.SenderReport{SSRC: 1, NTPTime: 1 << 40, Reports: blk}, rtcp.NewCNAMESourceDescription(1, "x")},
		{&rtcp.ReceiverReport{SSRC: 1, Reports: blk}},
		{&rtcp.Goodbye{Sources: []uint32{1}}},
	} {
		b, err := rtcp.Marshal(pkts)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{0x81, 0xc9, 0x00, 0x07})
	f.Add([]byte{0x80, 0xc8, 0xff, 0xff, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		var r rtcpState
		_ = isRTCP(b)
		r.feed(b, 42, time.Now())
		if r.haveRTT && r.rtt < 0 {
			t.Errorf("negative rtt %v", r.rtt)
		}
	})
}

// TestForgedInfoRejected: an INFO with the call's Call-ID but not its
// dialog's tags gets 481 and no key; the far end's own INFO still counts.
func TestForgedInfoRejected(t *testing.T) {
	u := startUAS(t, &testUAS{toneHz: 300, toneFor: 5 * time.Second, keysAt: 1500 * time.Millisecond, infoKey: "7"})
	c := newTestCarrier(t, u.addr, nil)
	l := originate(t, c, "13800000000", 10*time.Second)
	waitFor(t, l, dialtone.LegAnswered, 5*time.Second)
	inv := <-u.invites
	ourTag, _ := inv.From().Params.Get("tag")
	callID := l.Stats()["sip_call_id"]

	cli, host, port := forgerClient(t, c)
	for _, tags := range [][2]string{{"forged" + randHex(4), "forged" + randHex(4)}, {"forged" + randHex(4), ourTag}} {
		req := sip.NewRequest(sip.INFO, sip.Uri{Scheme: "sip", User: "dialtone", Host: host, Port: port})
		from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: "13800000000", Host: "127.0.0.1"}, Params: sip.NewParams()}
		from.Params.Add("tag", tags[0])
		to := &sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: "dialtone", Host: host}, Params: sip.NewParams()}
		to.Params.Add("tag", tags[1])
		cid := sip.CallIDHeader(callID)
		req.AppendHeader(from)
		req.AppendHeader(to)
		req.AppendHeader(&cid)
		req.AppendHeader(sip.NewHeader("Content-Type", "application/dtmf-relay"))
		req.SetBody([]byte("Signal=5\r\nDuration=160\r\n"))
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		res, err := cli.Do(ctx, req)
		cancel()
		if err != nil {
			t.Fatalf("forged info: %v", err)
		}
		if res.StatusCode != 481 {
			t.Errorf("INFO with tags %v answered %d, want 481", tags, res.StatusCode)
		}
	}
	// The first key to arrive is the far end's genuine INFO, not a forged 5.
	ev, _ := waitFor(t, l, dialtone.LegDTMF, 5*time.Second)
	if ev.Digits != "7" {
		t.Errorf("first key %q, want the genuine 7", ev.Digits)
	}
	if err := l.Hangup(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitClosed(t, l, 5*time.Second)
}

// TestUASOverTCP: a trunk with transport tcp reaches the far end over
// TCP; it answers, media flows both ways, and its BYE (back over TCP)
// ends the call.
func TestUASOverTCP(t *testing.T) {
	u := startUAS(t, &testUAS{tcp: true, toneHz: 300, toneFor: 3 * time.Second, byeAfter: time.Second})
	c := newTestCarrier(t, u.addr, func(cfg *Config) { cfg.Trunks[0].Transport = TransportTCP })
	l := originate(t, c, "13800000000", 10*time.Second)
	waitFor(t, l, dialtone.LegAnswered, 5*time.Second)
	inv := <-u.invites
	if via := inv.Via(); via == nil || via.Transport != "TCP" {
		t.Errorf("invite via %v", via)
	}
	ev, _ := waitFor(t, l, dialtone.LegHangup, 5*time.Second)
	if ev.Detail["by"] != "callee" {
		t.Errorf("hangup %v", ev.Detail)
	}
	waitClosed(t, l, 5*time.Second)
	checkToneBothWays(t, l, u)
}

// TestReceptionReportFractionLost: the fraction lost is per interval
// (RFC 3550 appendix A.3), the cumulative loss is since the start, and a
// new source starts its own count.
func TestReceptionReportFractionLost(t *testing.T) {
	s := &rtcpSession{}
	var rx rxStats
	now := time.Now()
	for q := uint16(65530); q != 4; q++ { // 10 packets across the wrap
		if q != 65533 && q != 2 {
			rx.seq(9, q)
		}
	}
	r := s.receptionReport(&rx, now)
	if r.SSRC != 9 || r.TotalLost != 2 || r.FractionLost != 2*256/10 || r.LastSequenceNumber != 1<<16|3 {
		t.Errorf("first report %+v", r)
	}
	for q := uint16(4); q < 14; q++ {
		rx.seq(9, q)
	}
	if r := s.receptionReport(&rx, now); r.FractionLost != 0 || r.TotalLost != 2 {
		t.Errorf("clean interval %+v", r)
	}
	rx.seq(10, 500)
	rx.seq(10, 502)
	if r := s.receptionReport(&rx, now); r.SSRC != 10 || r.TotalLost != 1 || r.FractionLost != 256/3 {
		t.Errorf("new source %+v", r)
	}
}

// TestMuxLookalikeRTPStillMedia: telephone-event on payload type 72 with
// the marker set looks like an RTCP SR in its first two bytes; as it does
// not parse as RTCP it still goes to the RTP path and the key is heard.
func TestMuxLookalikeRTPStillMedia(t *testing.T) {
	keys := make(chan string, 4)
	s := loopbackStream(t, streamHooks{dtmf: func(k string) { keys <- k }})
	far := loopbackUDP(t, net.IPv4(127, 0, 0, 1))
	s.setRemote(answer{addr: netip.MustParseAddr("127.0.0.1"), port: far.LocalAddr().(*net.UDPAddr).Port, codec: CodecPCMU, dtmfPT: 72})
	to := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: s.port()}
	// One packet, both the event's first (marker: the second byte reads
	// 200, an SR) and its end: the key is heard only if this very packet
	// reaches the RTP path.
	pkt := []byte{0x80, 0xc8, 0, 1, 0, 0, 0x10, 0, 0, 0, 0, 5, 9, 0x8a, 0, 160}
	if _, err := far.WriteToUDP(pkt, to); err != nil {
		t.Fatal(err)
	}
	select {
	case k := <-keys:
		if k != "9" {
			t.Errorf("key %q", k)
		}
	case <-time.After(2 * time.Second):
		m := map[string]string{}
		s.stats(m)
		t.Fatalf("no key; stats %v", m)
	}
}
