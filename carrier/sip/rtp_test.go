package sip

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/dialtone-voice/dialtone/cluster"
)

func TestRxStatsLossAndJitter(t *testing.T) {
	var s rxStats
	// 10 packets, 3 and 7 lost, 5 duplicated, one reordered.
	order := []uint16{65533, 65534, 65535, 1, 2, 2, 4, 3, 6, 8}
	for i, seq := range order {
		s.seq(42, seq)
		s.arrival(uint32(i)*160, time.Duration(i)*frameTime)
	}
	// Expected 65533..8 = 12 packets, received 10 (one a duplicate): 0,5,7 missing -> 3 lost, minus the duplicate.
	if got := s.totalLost(); got != 2 {
		t.Errorf("lost %d, want 2", got)
	}
	if s.jitter != 0 {
		t.Errorf("jitter %v for perfectly paced packets", s.jitter)
	}
	// A new source folds the old source's loss in.
	s.seq(43, 100)
	s.seq(43, 103)
	if got := s.totalLost(); got != 4 {
		t.Errorf("lost after new source %d, want 4", got)
	}

	// Jitter: every other packet arrives 10 ms late (80 timestamp units);
	// |D| is 80 for every packet, so J converges to 80 (10 ms).
	var j rxStats
	for i := 0; i < 400; i++ {
		late := time.Duration(i%2) * 10 * time.Millisecond
		j.seq(1, uint16(i))
		j.arrival(uint32(i)*160, time.Duration(i)*frameTime+late)
	}
	if j.jitter < 76 || j.jitter > 84 {
		t.Errorf("jitter %v (%s ms)", j.jitter, j.jitterMS())
	}
}

func TestDTMFDetector(t *testing.T) {
	pkt := func(ev byte, end bool) []byte {
		b := []byte{ev, 10, 0, 160}
		if end {
			b[1] |= 0x80
		}
		return b
	}
	var d dtmfDetector
	var got string
	// '1': three updates and three end packets, all timestamp 1000.
	for i := 0; i < 6; i++ {
		got += d.feed(1000, pkt(1, i >= 3))
	}
	// '1' again (a new press: new timestamp), end packets lost; then '#'.
	got += d.feed(2000, pkt(1, false))
	got += d.feed(2000, pkt(1, false))
	got += d.feed(3000, pkt(11, false))
	got += d.feed(3000, pkt(11, true))
	got += d.feed(3000, pkt(11, true)) // retransmitted end
	// Ignored: short payload, flash (16), unknown events.
	got += d.feed(4000, []byte{1, 0x80})
	got += d.feed(5000, pkt(16, true))
	got += d.feed(6000, pkt(200, true))
	if got != "11#" {
		t.Errorf("keys %q, want 11#", got)
	}
}

func TestParseInfoDTMF(t *testing.T) {
	cases := []struct {
		ct, body, want string
	}{
		{"application/dtmf-relay", "Signal=5\r\nDuration=160\r\n", "5"},
		{"Application/DTMF-Relay; charset=x", "signal = #\nDuration=100", "#"},
		{"application/dtmf-relay", "Signal=10\r\n", "*"},
		{"application/dtmf-relay", "Signal=a\r\n", "A"},
		{"application/dtmf", "9", "9"},
		{"application/dtmf-relay", "Signal=\r\n", ""},
		{"application/dtmf-relay", "Signal=99\r\n", ""},
		{"application/dtmf-relay", "Signal=x\r\n", ""},
		{"text/plain", "Signal=5", ""},
	}
	for _, c := range cases {
		got, ok := parseInfoDTMF(c.ct, []byte(c.body))
		if got != c.want || ok != (c.want != "") {
			t.Errorf("%q %q: got %q %v", c.ct, c.body, got, ok)
		}
	}
}

func TestRecorderPlacesByTimestamp(t *testing.T) {
	start := time.Now()
	r := &recorder{start: start, max: 8000}
	frame := make([]int16, 160)
	for i := range frame {
		frame[i] = 1
	}
	// First packet 100 ms in; the next one 40 ms of timestamps later
	// (one packet lost), whatever its arrival time.
	r.addIn(7, 1000, start.Add(100*time.Millisecond), frame)
	r.addIn(7, 1320, start.Add(105*time.Millisecond), frame)
	if len(r.in) != 800+320+160 {
		t.Fatalf("in track %d samples", len(r.in))
	}
	if r.in[799] != 0 || r.in[800] != 1 || r.in[960] != 0 || r.in[1120] != 1 {
		t.Error("samples misplaced")
	}
	// A timestamp far in the future is dropped, not allocated.
	ts := uint32(1000)
	r.addIn(7, ts+1<<30, start, frame)
	r.addIn(7, ts-1<<30, start, frame)
	if len(r.in) != 1280 {
		t.Errorf("hostile timestamps grew the track to %d", len(r.in))
	}
	for i := 0; i < 100; i++ {
		r.addOut(frame)
	}
	if len(r.out) != 8000 {
		t.Errorf("out track %d samples, want capped at 8000", len(r.out))
	}
}

func TestAcquireWaitsBoundedByContext(t *testing.T) {
	c := &Carrier{limits: cluster.NewLocalLimits(""), log: quietLog}
	tr := &trunk{Trunk: Trunk{Name: "t", MaxCalls: 1, MaxCPS: 1000}}
	if err := c.acquire(context.Background(), tr, "leg1"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := c.acquire(ctx, tr, "leg2")
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) < 90*time.Millisecond {
		t.Errorf("over the cap: %v after %v", err, time.Since(start))
	}
	// A freed slot lets a waiting call through.
	got := make(chan error, 1)
	go func() { got <- c.acquire(context.Background(), tr, "leg3") }()
	time.Sleep(20 * time.Millisecond)
	c.releaseSlot("leg1")
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("waiting call not admitted")
	}
	// The rate cap spaces calls out: 5 calls at 20/s take about 200 ms.
	rc := &trunk{Trunk: Trunk{Name: "r", MaxCPS: 20}}
	start = time.Now()
	for i := 0; i < 5; i++ {
		if err := c.acquire(context.Background(), rc, fmt.Sprintf("r%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Errorf("5 calls at 20 cps in %v", d)
	}
}

// FuzzRTPHandle feeds arbitrary datagrams through the receive path: it
// must never panic, whatever the payload type or length.
func FuzzRTPHandle(f *testing.F) {
	good, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: 1, Timestamp: 160, SSRC: 1},
		Payload: make([]byte, 160)}).Marshal()
	dtmf, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 101, SequenceNumber: 2, Timestamp: 160, SSRC: 1},
		Payload: []byte{1, 0x8a, 0, 160}}).Marshal()
	f.Add(good)
	f.Add(dtmf)
	f.Add([]byte{0x80})
	f.Add([]byte{0x90, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xbe, 0xde, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		s := newRTPSession(nil, nil, 0, time.Second, streamHooks{dtmf: func(string) {}})
		s.format.Store(&mediaFormat{codec: CodecPCMU, pt: 0, dtmfPTs: [2]int{101, 96}})
		s.rec.Store(newRecorder(time.Now(), 8000))
		s.answered.Store(time.Now().UnixNano())
		var p rtp.Packet
		if err := p.Unmarshal(b); err != nil || p.Version != 2 {
			return
		}
		from := netip.MustParseAddrPort("127.0.0.1:4000")
		s.handle(&p, from, time.Now())
		s.handle(&p, from, time.Now())
	})
}

// TestMediaBeforeSDPReplayed: packets that overtake the far end's SDP are
// held and, once it has come, taken in order as media from the SDP's
// address; a stranger's held packets are still refused, and a flood
// before any SDP is bounded.
func TestMediaBeforeSDPReplayed(t *testing.T) {
	s := loopbackStream(t, streamHooks{})
	far := loopbackUDP(t, net.IPv4(127, 0, 0, 1))
	stranger := loopbackUDP(t, net.IPv4(127, 0, 0, 2))
	to := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: s.port()}
	send := func(c *net.UDPConn, ssrc uint32, seq uint16) {
		t.Helper()
		p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: seq, Timestamp: uint32(seq) * frameSamples, SSRC: ssrc},
			Payload: make([]byte, frameSamples)}
		b, err := p.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.WriteToUDP(b, to); err != nil {
			t.Fatal(err)
		}
	}
	stats := func() map[string]string {
		m := map[string]string{}
		s.stats(m)
		return m
	}
	waitHeld := func(n int) {
		t.Helper()
		for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(5 * time.Millisecond) {
			held := s.rx.held()
			if held == n {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d packets held, want %d", held, n)
			}
		}
	}
	send(far, 7, 1)
	send(stranger, 9, 1)
	send(far, 7, 2)
	waitHeld(3)
	if m := stats(); m["packets_received"] != "0" || m["packets_ignored"] != "" {
		t.Fatalf("held packets counted before the SDP: %v", m)
	}

	s.setRemote(answer{addr: netip.MustParseAddr("127.0.0.1"), port: far.LocalAddr().(*net.UDPAddr).Port, codec: CodecPCMU, dtmfPT: -1})
	send(far, 7, 3)
	for deadline := time.Now().Add(2 * time.Second); stats()["packets_received"] != "3"; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("far end's packets not taken: %v", stats())
		}
	}
	m := stats()
	if m["rtp_foreign"] != "1" || m["packets_ignored"] != "" || m["packets_lost"] != "0" {
		t.Errorf("stranger taken or order lost: %v", m)
	}
	if got := len(s.earlyMedia()); got != 3*frameSamples {
		t.Errorf("early media %d samples, want %d", got, 3*frameSamples)
	}
	if m["rtp_remote"] != far.LocalAddr().String() {
		t.Errorf("latched to %s, not the far end %s", m["rtp_remote"], far.LocalAddr())
	}

	// Before any SDP, at most maxPrelude packets are kept; the rest count
	// as ignored.
	s = loopbackStream(t, streamHooks{})
	to = &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: s.port()}
	for i := range maxPrelude + 5 {
		send(far, 7, uint16(i))
	}
	waitHeld(maxPrelude)
	for deadline := time.Now().Add(2 * time.Second); stats()["packets_ignored"] != "5"; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("flood before SDP: %v", stats())
		}
	}
}

// loopbackStream opens a stream on 127.0.0.1, closed when the test ends.
func loopbackStream(t *testing.T, hooks streamHooks) *rtpSession {
	t.Helper()
	s, err := openStream(netip.MustParseAddr("127.0.0.1"), 0, 0, 0, time.Second, hooks)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.close)
	return s
}

// loopbackUDP opens a UDP socket on a loopback ip, closed when the test
// ends.
func loopbackUDP(t *testing.T, ip net.IP) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: ip})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// With no port range, RTP lands on an even port and RTCP on the one above,
// whichever parity the kernel's first pick had.
func TestStreamPortPairWithoutRange(t *testing.T) {
	for range 40 {
		s := loopbackStream(t, streamHooks{})
		p := s.conn.LocalAddr().(*net.UDPAddr).Port
		if p%2 != 0 || s.rtcpConn == nil || s.rtcpConn.LocalAddr().(*net.UDPAddr).Port != p+1 {
			t.Fatalf("RTP port %d, RTCP %v", p, s.rtcpConn)
		}
	}
}
