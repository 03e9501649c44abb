package sip

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/pion/rtp"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/carrier/sip/sipconf"
	"github.com/dialtone-voice/dialtone/media"
)

// Robustness (issue 6, item 7): whatever the far end, or anyone who can
// reach our ports, sends, a call in progress and the carrier survive it,
// and a call that can no longer work ends with a reason. Everything runs
// over loopback.

// sendRaw sends each payload as one datagram from a fresh loopback socket
// and returns that socket, so the caller can read what came back.
func sendRaw(t *testing.T, to string, payloads ...[]byte) *net.UDPConn {
	t.Helper()
	raddr, err := net.ResolveUDPAddr("udp", to)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	for _, p := range payloads {
		if _, err := conn.WriteToUDP(p, raddr); err != nil {
			t.Fatalf("send %d bytes: %v", len(p), err)
		}
		// A short gap keeps the barrage from overflowing the carrier's
		// socket buffer, so every message really reaches the parser.
		time.Sleep(time.Millisecond)
	}
	return conn
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// malformedSIP is a catalogue of broken SIP datagrams. callID is the live
// call's SIP Call-ID, so some of them reach the carrier's own handlers
// rather than dying in the parser.
func malformedSIP(callID, target string) [][]byte {
	hdr := func(method, cid, extra, body string) []byte {
		return []byte(method + " sip:dialtone@" + target + " SIP/2.0\r\n" +
			"Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK" + randHex(6) + "\r\n" +
			"From: <sip:x@127.0.0.1>;tag=" + randHex(4) + "\r\n" +
			"To: <sip:dialtone@" + target + ">\r\n" +
			"Call-ID: " + cid + "\r\n" +
			"CSeq: 7 " + method + "\r\n" + extra +
			"Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body)
	}
	huge := strings.Repeat("A", 60000)
	var manyVias strings.Builder
	for i := 0; i < 1000; i++ {
		manyVias.WriteString("Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK" + strconv.Itoa(i) + "\r\n")
	}
	out := [][]byte{
		{},
		{0},
		// Kept small: sipgo logs an unparsable datagram whole, at ERROR.
		randomBytes(200),
		append([]byte("SIP/2.0 200 OK\r\n"), randomBytes(200)...),
		[]byte("INVITE"),
		[]byte("\r\n\r\n"), // a keep-alive, legal and harmless
		[]byte("INVITE sip:dialtone@" + target + " SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;bra"),
		[]byte("SIP/2.0 200 OK\r\n\r\n"),
		[]byte("SIP/2.0 99999999999999999999 Huge\r\nCall-ID: " + callID + "\r\n\r\n"),
		[]byte("SIP/2.0 -1 Negative\r\n\r\n"),
		[]byte("BYE sip:x SIP/3.0\r\n\r\n"),
		[]byte("B\x00YE sip:\xff\xfe SIP/2.0\r\nCall-ID: " + callID + "\r\n\r\n"),
		[]byte(strings.Replace(string(hdr("OPTIONS", "robust-1", "", "")), "Content-Length: 0", "Content-Length: 5000", 1)),
		[]byte(strings.Replace(string(hdr("OPTIONS", "robust-2", "", "")), "Content-Length: 0", "Content-Length: -1", 1)),
		[]byte(strings.Replace(string(hdr("OPTIONS", "robust-3", "", "")), "Content-Length: 0", "Content-Length: 99999999999999999999999", 1)),
		[]byte(strings.Replace(string(hdr("OPTIONS", "robust-4", "", "")), "CSeq: 7 OPTIONS", "CSeq: x OPTIONS", 1)),
		[]byte(strings.Replace(string(hdr("OPTIONS", "robust-5", "", "")), "Via: ", "Via ", 1)),
		hdr("OPTIONS", "robust-6", "X-Huge: "+huge+"\r\n", ""),
		hdr("OPTIONS", "robust-7", manyVias.String(), ""),
		hdr("OPTIONS", "robust-8", "Max-Forwards: -5\r\nContact: <<<>>>\r\nFrom: ;;;\r\n", ""),
		// In-dialog requests for the live call with broken bodies: they
		// reach onInfo and onInvite.
		hdr("INFO", callID, "Content-Type: application/dtmf-relay\r\n", "Signal=\r\nSignal=99\r\n"),
		hdr("INFO", callID, "Content-Type: application/dtmf-relay\r\n", strings.Repeat("Signal=1\r\n", 500)),
		hdr("INFO", callID, "Content-Type: application/dtmf\r\n", "\xff\xfe\x00"),
		hdr("INFO", callID, "Content-Type: ;;;\r\n", "?"),
		hdr("INVITE", callID, "Content-Type: application/sdp\r\n", "v=0\r\nm=audio 99999 RTP/AVP x\r\nc=IN IP4 ::::\r\n"),
		// Requests for calls that do not exist.
		hdr("BYE", "no-such-call", "", ""),
		hdr("INFO", "no-such-call", "Content-Type: application/dtmf\r\n", "5"),
		hdr("ACK", "no-such-call", "", ""),
		hdr("CANCEL", "no-such-call", "", ""),
		hdr("NOTIFY", callID, "Event: x\r\n", ""),
		hdr("REGISTER", "robust-9", "", ""),
		// A new call to us: refused, we only place calls.
		hdr("INVITE", "robust-10", "Content-Type: application/sdp\r\nContact: <sip:x@127.0.0.1:9>\r\n",
			"v=0\r\nc=IN IP4 127.0.0.1\r\nm=audio 9 RTP/AVP 0\r\n"),
	}
	return out
}

// rtpBytes builds one RTP datagram by hand (pion would refuse to marshal
// most of the broken ones).
func rtpBytes(first byte, pt byte, seq uint16, ts, ssrc uint32, rest []byte) []byte {
	b := make([]byte, 12, 12+len(rest))
	b[0], b[1] = first, pt
	binary.BigEndian.PutUint16(b[2:], seq)
	binary.BigEndian.PutUint32(b[4:], ts)
	binary.BigEndian.PutUint32(b[8:], ssrc)
	return append(b, rest...)
}

// malformedRTP is a catalogue of broken or hostile RTP datagrams.
func malformedRTP() [][]byte {
	pcmu := make([]byte, 160)
	out := [][]byte{
		{},
		{0x80},
		make([]byte, 11),
		rtpBytes(0x00, 0, 1, 1, 7, pcmu), // version 0
		rtpBytes(0x40, 0, 1, 1, 7, pcmu), // version 1
		rtpBytes(0xC0, 0, 1, 1, 7, pcmu), // version 3
		rtpBytes(0x8F, 0, 1, 1, 7, nil),  // 15 CSRCs announced, none present
		rtpBytes(0x8F, 0, 1, 1, 7, make([]byte, 20)),
		rtpBytes(0x90, 0, 1, 1, 7, []byte{0xBE, 0xDE, 0xFF, 0xFF}),         // extension longer than the packet
		rtpBytes(0x90, 0, 1, 1, 7, []byte{0xBE, 0xDE}),                     // extension header cut short
		rtpBytes(0xA0, 0, 1, 1, 7, append(make([]byte, 10), 0xFF)),         // padding longer than the payload
		rtpBytes(0xA0, 0, 1, 1, 7, append(make([]byte, 10), 0x00)),         // padding count 0
		rtpBytes(0xA0, 0, 1, 1, 7, []byte{0x01}),                           // padding is the whole payload
		rtpBytes(0x80, 101, 1, 1, 7, []byte{1, 0x80}),                      // telephone-event cut short
		rtpBytes(0x80, 101, 2, 2, 7, []byte{200, 0x80, 0, 160}),            // unknown event
		rtpBytes(0x80, 0, 3, 0xFFFFFFF0, 7, pcmu),                          // timestamp far ahead: recorder must not grow
		rtpBytes(0x80, 0, 4, 0x7FFFFFFF, 7, pcmu),                          // and far behind
		rtpBytes(0x80, 0, 5, 1, 7, make([]byte, 4000)),                     // oversized payload (read truncates at 1500)
		rtpBytes(0x80, 0, 6, 1, 7, make([]byte, 1)),                        // one-sample payload
		rtpBytes(0x80, 0, 7, 1, 7, nil),                                    // no payload at all
		rtpBytes(0x80, 8, 8, 1, 7, pcmu),                                   // a codec we did not agree
		rtpBytes(0x80, 127, 9, 1, 7, pcmu),                                 // a payload type nobody agreed
		rtpBytes(0x80, 200, 10, 1, 7, pcmu),                                // marker bit with PT 72 (RTCP range)
		[]byte{0x80, 0xC8, 0x00, 0x06, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0}, // an RTCP sender report on the RTP port
		randomBytes(172),
		randomBytes(1500),
	}
	return out
}

// hijackRTP is what an intruder on another address sends to take over a
// call: loud audio under a new SSRC, then an RFC 4733 digit 9 (three
// updates and the end packet, as a real sender does).
func hijackRTP() [][]byte {
	loud := bytes.Repeat([]byte{0x00}, 160) // µ-law 0x00 is full-scale
	var out [][]byte
	for i := 0; i < 50; i++ {
		out = append(out, rtpBytes(0x80, 0, uint16(1000+i), uint32(i*160), 0xBADBAD, loud))
	}
	for i := 0; i < 4; i++ {
		end := byte(0x0A)
		if i == 3 {
			end |= 0x80
		}
		out = append(out, rtpBytes(0x80, dtmfPT, uint16(1050+i), 50*160, 0xBADBAD, []byte{9, end, 0, byte(160 * (i + 1))}))
	}
	return out
}

// heardSince reports how many non-silent samples the test UA heard after
// sample index from, and the index it is at now.
func (u *testUAS) heardSince(from int) (loud, now int) {
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, s := range u.heard[min(from, len(u.heard)):] {
		if s > 512 || s < -512 {
			loud++
		}
	}
	return loud, len(u.heard)
}

// optionsAlive checks that the carrier still answers a well-formed OPTIONS.
func optionsAlive(t *testing.T, addr string) {
	t.Helper()
	req := "OPTIONS sip:dialtone@" + addr + " SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 127.0.0.1:9;rport;branch=z9hG4bK" + randHex(8) + "\r\n" +
		"From: <sip:probe@127.0.0.1>;tag=" + randHex(4) + "\r\nTo: <sip:dialtone@" + addr + ">\r\n" +
		"Call-ID: probe-" + randHex(8) + "\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
	conn := sendRaw(t, addr, []byte(req))
	// The Via names port 9; rport asks for the answer to go to the
	// source address, our socket (RFC 3581).
	_ = conn.SetReadDeadline(time.Now().Add(3 * time.Second))
	buf := make([]byte, 4096)
	for {
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("carrier did not answer OPTIONS after the barrage: %v", err)
		}
		if bytes.HasPrefix(buf[:n], []byte("SIP/2.0 200")) {
			return
		}
	}
}

// TestRobustMalformedSIPAndRTPDuringCall: while a call is up, broken SIP
// reaches the carrier's SIP port and broken RTP its RTP port. The call
// stays up (no event, media both ways), the carrier still answers, the
// call ends normally when we hang up, and a new call works.
func TestRobustMalformedSIPAndRTPDuringCall(t *testing.T) {
	u := startUAS(t, &testUAS{toneHz: 300, toneFor: 15 * time.Second})
	c := newTestCarrier(t, u.addr, func(cfg *Config) { cfg.RTPTimeout = 2 * time.Second })
	l := originate(t, c, "13800000000", 10*time.Second)
	waitFor(t, l, dialtone.LegAnswered, 5*time.Second)
	if err := l.Record(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Collect every event from here on: none may arrive until we hang up.
	var evMu sync.Mutex
	var evs []dialtone.LegEvent
	evDone := make(chan struct{})
	go func() {
		defer close(evDone)
		for ev := range l.Events() {
			evMu.Lock()
			evs = append(evs, ev)
			evMu.Unlock()
		}
	}()

	st := l.Stats()
	callID := st["sip_call_id"]
	rtpAddr := net.JoinHostPort("127.0.0.1", st["rtp_local_port"])
	rx0, _ := strconv.Atoi(st["packets_received"])

	sendRaw(t, c.Addr(), malformedSIP(callID, c.Addr())...)
	sendRaw(t, rtpAddr, malformedRTP()...)
	// Again, interleaved, to catch state left behind by the first pass.
	sendRaw(t, rtpAddr, malformedRTP()...)
	sendRaw(t, c.Addr(), malformedSIP(callID, c.Addr())...)

	optionsAlive(t, c.Addr())

	// An intruder on another address (127.0.0.2: the far end's SDP says
	// 127.0.0.1) sends audio under a new SSRC and a DTMF digit. Symmetric
	// RTP must not latch to it: it gets none of our audio, and neither its
	// audio nor its digit is taken.
	remoteBefore := l.Stats()["rtp_remote"]
	intruder, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 2)})
	if err != nil {
		t.Fatalf("bind 127.0.0.2 (Linux loopback takes all of 127/8): %v", err)
	}
	t.Cleanup(func() { intruder.Close() })
	raddr, _ := net.ResolveUDPAddr("udp", rtpAddr)
	hijack := hijackRTP()
	for _, p := range hijack {
		if _, err := intruder.WriteToUDP(p, raddr); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond)
	}
	_ = intruder.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if n, err := intruder.Read(make([]byte, 1500)); err == nil {
		t.Errorf("intruder on another address received our RTP (%d bytes): re-latched", n)
	}
	st = l.Stats()
	if st["rtp_remote"] != remoteBefore {
		t.Errorf("rtp_remote moved %s -> %s", remoteBefore, st["rtp_remote"])
	}
	if n, _ := strconv.Atoi(st["rtp_foreign"]); n < len(hijack) {
		t.Errorf("rtp_foreign %q, want at least %d", st["rtp_foreign"], len(hijack))
	}

	// Media still flows both ways: the far end's next packets latch us
	// back, it hears a prompt played now, and we keep receiving it.
	time.Sleep(300 * time.Millisecond)
	_, mark := u.heardSince(0)
	played, err := l.Play(context.Background(), tone(600*time.Millisecond, 800, 10000), nil)
	if err != nil || played {
		t.Fatalf("play after the barrage: interrupted %v, %v", played, err)
	}
	time.Sleep(100 * time.Millisecond)
	if loud, _ := u.heardSince(mark); loud < 2000 {
		t.Errorf("far end heard %d loud samples of a 600 ms prompt played after the barrage", loud)
	}
	st = l.Stats()
	if rx, _ := strconv.Atoi(st["packets_received"]); rx < rx0+20 {
		t.Errorf("packets received %d -> %d: media from the far end stopped", rx0, rx)
	}
	if st["packets_ignored"] == "" {
		t.Errorf("no packets counted as ignored: %v", st)
	}
	if wav := l.Recording(); len(wav) > 44+4*int(time.Minute*sampleRate/time.Second) {
		t.Errorf("recording grew to %d bytes from hostile timestamps", len(wav))
	}
	evMu.Lock()
	early := append([]dialtone.LegEvent(nil), evs...)
	evMu.Unlock()
	for _, ev := range early {
		if ev.Kind != dialtone.LegDTMF {
			t.Errorf("event during the barrage: %+v", ev)
		}
		// SIP INFO in the barrage may carry digits; 9 came only from the
		// intruder's RTP.
		if strings.Contains(ev.Detail["digits"], "9") {
			t.Errorf("DTMF injected by the intruder accepted: %+v", ev)
		}
	}

	if err := l.Hangup(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-evDone:
	case <-time.After(5 * time.Second):
		t.Fatal("events not closed after hangup")
	}
	select {
	case <-u.bye:
	case <-time.After(5 * time.Second):
		t.Error("far end got no BYE")
	}
	evMu.Lock()
	for _, ev := range evs {
		if ev.Kind == dialtone.LegFailed || ev.Kind == dialtone.LegHangup {
			t.Errorf("our own hangup reported as %+v", ev)
		}
	}
	evMu.Unlock()

	// The carrier still places calls.
	u2 := startUAS(t, &testUAS{byeAfter: 200 * time.Millisecond})
	c2 := newTestCarrier(t, u2.addr, nil)
	sendRaw(t, c2.Addr(), malformedSIP("x", c2.Addr())...)
	l2 := originate(t, c2, "13800000001", 10*time.Second)
	waitFor(t, l2, dialtone.LegAnswered, 5*time.Second)
	waitFor(t, l2, dialtone.LegHangup, 5*time.Second)
	waitClosed(t, l2, 5*time.Second)
	select {
	case <-u2.bye: // its BYE transaction completed
	case <-time.After(5 * time.Second):
		t.Error("far end's BYE did not complete")
	}
}

// badSDPUAS answers with a 200 OK whose SDP is broken (optionally after a
// 183 with a broken SDP), and records whether ACK and BYE came.
type badSDPUAS struct {
	addr      string
	early     []byte // 183 body; nil: no 183
	body      []byte // 200 body
	gotAck    chan struct{}
	gotBye    chan struct{}
	ackOnce   sync.Once
	byeOnce   sync.Once
	goodSDPFn func() []byte // when set, the 200 carries this instead of body
}

func startBadSDPUAS(t *testing.T, u *badSDPUAS) *badSDPUAS {
	t.Helper()
	u.gotAck, u.gotBye = make(chan struct{}), make(chan struct{})
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("badsdp"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ua.Close() })
	srv, err := sipgo.NewServer(ua)
	if err != nil {
		t.Fatal(err)
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u.addr = pc.LocalAddr().String()
	cli, err := sipgo.NewClient(ua, sipgo.WithClientConnectionAddr(u.addr), sipgo.WithClientHostname("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	host, portS, _ := net.SplitHostPort(u.addr)
	port, _ := strconv.Atoi(portS)
	dialogs := sipgo.NewDialogServerCache(cli, sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "bad", Host: host, Port: port}})
	srv.OnInvite(func(req *sip.Request, tx sip.ServerTransaction) {
		dlg, err := dialogs.ReadInvite(req, tx)
		if err != nil {
			return
		}
		_ = dlg.Respond(180, "Ringing", nil)
		time.Sleep(30 * time.Millisecond)
		ct := sip.NewHeader("Content-Type", "application/sdp")
		if u.early != nil {
			_ = dlg.Respond(183, "Session Progress", u.early, ct)
			time.Sleep(30 * time.Millisecond)
		}
		body := u.body
		if u.goodSDPFn != nil {
			body = u.goodSDPFn()
		}
		// The error is not checked: sipgo reports "No ACK received" when
		// our BYE overtakes the ACK in its per-message goroutines; whether
		// ACK and BYE came is what the test checks.
		_ = dlg.Respond(200, "OK", body, ct)
		// Stay until the dialog ends: sipgo ends the INVITE transaction
		// when the handler returns.
		select {
		case <-u.gotBye:
		case <-dlg.Context().Done():
		case <-time.After(10 * time.Second):
		}
	})
	srv.OnAck(func(req *sip.Request, tx sip.ServerTransaction) {
		_ = dialogs.ReadAck(req, tx)
		u.ackOnce.Do(func() { close(u.gotAck) })
	})
	srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		if err := dialogs.ReadBye(req, tx); err != nil {
			_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
		}
		u.byeOnce.Do(func() { close(u.gotBye) })
	})
	go func() { _ = srv.ServeUDP(pc) }()
	for i := 0; i < 500; i++ {
		if _, err := ua.TransportLayer().GetConnection("udp", u.addr); err == nil {
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	return u
}

// TestMalformedSDPAnswerFailsCleanly: a 200 OK whose SDP we cannot use
// fails the call as a system failure, after ACK (the dialog exists) and
// BYE (so the far end does not bill a silent call).
func TestMalformedSDPAnswerFailsCleanly(t *testing.T) {
	cases := map[string]string{
		"garbage":      "\x00\xffnot sdp at all\r\n\r\n",
		"empty":        "",
		"no media":     "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n",
		"truncated":    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=aud",
		"port too big": "v=0\r\nc=IN IP4 127.0.0.1\r\nm=audio 99999 RTP/AVP 0\r\n",
		"port zero":    "v=0\r\nc=IN IP4 127.0.0.1\r\nm=audio 0 RTP/AVP 0\r\n",
		"bad address":  "v=0\r\nc=IN IP4 999.1.1.1\r\nm=audio 4000 RTP/AVP 0\r\n",
		"no address":   "v=0\r\nm=audio 4000 RTP/AVP 0\r\n",
		"no codec":     "v=0\r\nc=IN IP4 127.0.0.1\r\nm=audio 4000 RTP/AVP 18\r\na=rtpmap:18 G729/8000\r\n",
		"pcmu at 16k":  "v=0\r\nc=IN IP4 127.0.0.1\r\nm=audio 4000 RTP/AVP 96\r\na=rtpmap:96 PCMU/16000\r\n",
		"srtp only":    "v=0\r\nc=IN IP4 127.0.0.1\r\nm=audio 4000 RTP/SAVP 0\r\n",
		"video only":   "v=0\r\nc=IN IP4 127.0.0.1\r\nm=video 4000 RTP/AVP 31\r\n",
		// Bigger bodies than this do not fit a UDP datagram; maxSDP is
		// covered by TestParseAnswer and FuzzParseAnswer.
		"junk lines":    strings.Repeat("x=\x01\x02;;;\r\n==\r\n\r\n", 60),
		"binary fields": "v=0\r\nc=IN IP4 \xff\xff\r\nm=audio \x00 RTP/AVP \xff\r\n",
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			u := startBadSDPUAS(t, &badSDPUAS{body: []byte(body)})
			c := newTestCarrier(t, u.addr, nil)
			l := originate(t, c, "13800000000", 10*time.Second)
			ev, seen := waitFor(t, l, dialtone.LegFailed, 5*time.Second)
			if ev.Reason != dialtone.FailSystem || ev.Detail["sip_status"] != "200" || ev.Detail["error"] == "" {
				t.Errorf("failure %s %v, want system with sip_status 200 and an error", ev.Reason, ev.Detail)
			}
			for _, k := range seen {
				if k == dialtone.LegAnswered {
					t.Errorf("answered before failing: %v", seen)
				}
			}
			waitClosed(t, l, 5*time.Second)
			for what, ch := range map[string]chan struct{}{"ACK": u.gotAck, "BYE": u.gotBye} {
				select {
				case <-ch:
				case <-time.After(5 * time.Second):
					t.Errorf("far end got no %s", what)
				}
			}
		})
	}
}

// TestMalformedEarlySDPIgnored: a 183 with broken SDP is no early media,
// and the call goes on to be answered by a good 200.
func TestMalformedEarlySDPIgnored(t *testing.T) {
	sink, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sink.Close() })
	good := fmt.Sprintf("v=0\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %d RTP/AVP 0\r\n", sink.LocalAddr().(*net.UDPAddr).Port)
	u := startBadSDPUAS(t, &badSDPUAS{early: []byte("v=0\r\nm=audio 70000 RTP/AVP 0\r\n"),
		goodSDPFn: func() []byte { return []byte(good) }})
	c := newTestCarrier(t, u.addr, func(cfg *Config) { cfg.RTPTimeout = -1 })
	l := originate(t, c, "13800000000", 10*time.Second)
	ev, seen := waitFor(t, l, dialtone.LegAnswered, 5*time.Second)
	if ev.Detail["codec"] != CodecPCMU {
		t.Errorf("answered %v", ev.Detail)
	}
	for _, k := range seen {
		if k == dialtone.LegEarlyMedia {
			t.Errorf("broken 183 SDP taken as early media: %v", seen)
		}
	}
	// Our RTP goes where the good answer said.
	_ = sink.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := sink.Read(make([]byte, 1500)); err != nil {
		t.Errorf("no RTP at the answered address: %v", err)
	}
	if err := l.Hangup(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitClosed(t, l, 5*time.Second)
	select {
	case <-u.gotBye:
	case <-time.After(5 * time.Second):
		t.Error("far end got no BYE")
	}
}

// TestRobustRTPTimeoutDespiteJunk: the far end speaks for a while, then
// goes quiet while junk (unparsable datagrams, payload types nobody
// agreed) keeps arriving on the RTP port. Junk is not media: the call ends
// by RTP timeout, counted from the last real packet, with the reason
// recorded, and the far end gets BYE.
func TestRobustRTPTimeoutDespiteJunk(t *testing.T) {
	const speak, timeout = 800 * time.Millisecond, time.Second
	u := startUAS(t, &testUAS{toneHz: 400, toneFor: speak})
	c := newTestCarrier(t, u.addr, func(cfg *Config) { cfg.RTPTimeout = timeout })
	l := originate(t, c, "13800000000", 10*time.Second)
	waitFor(t, l, dialtone.LegAnswered, 5*time.Second)
	answered := time.Now()
	rtpAddr := net.JoinHostPort("127.0.0.1", l.Stats()["rtp_local_port"])

	stop := make(chan struct{})
	junkDone := make(chan struct{})
	go func() {
		defer close(junkDone)
		raddr, _ := net.ResolveUDPAddr("udp", rtpAddr)
		conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			return
		}
		defer conn.Close()
		junk := [][]byte{randomBytes(40), {0x80}, rtpBytes(0x80, 96, 1, 1, 9, make([]byte, 160)), rtpBytes(0x40, 0, 1, 1, 9, make([]byte, 160))}
		// Bounded: at most 20 s of junk, every 100 ms (well inside the
		// receive loop's one-second read deadline).
		for i := 0; i < 200; i++ {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
			_, _ = conn.WriteToUDP(junk[i%len(junk)], raddr)
		}
	}()
	t.Cleanup(func() { close(stop); <-junkDone })

	ev, _ := waitFor(t, l, dialtone.LegHangup, 8*time.Second)
	if ev.Detail["reason"] != "rtp timeout" {
		t.Errorf("hangup %v", ev.Detail)
	}
	// Not before the last real packet plus the timeout; not long after
	// (the receive loop checks once a second).
	if d := time.Since(answered); d < speak+timeout-100*time.Millisecond || d > speak+timeout+2500*time.Millisecond {
		t.Errorf("ended %v after answer; want about %v + %v", d, speak, timeout)
	}
	select {
	case <-u.bye:
	case <-time.After(5 * time.Second):
		t.Error("far end got no BYE")
	}
	waitClosed(t, l, 5*time.Second)
	st := l.Stats()
	if st["end"] != "rtp timeout" {
		t.Errorf("stats %v", st)
	}
	if st["packets_ignored"] == "" {
		t.Errorf("junk not counted: %v", st)
	}
}

// FuzzMalformedSIP runs what the carrier takes from a SIP message it
// receives (Call-ID lookup, status and Reason mapping, INFO DTMF, SDP of a
// response) over whatever sipgo's parser accepts: none of it may panic,
// and the results stay in their domains.
func FuzzMalformedSIP(f *testing.F) {
	f.Add([]byte("SIP/2.0 486 Busy Here\r\nVia: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK1\r\nCall-ID: a\r\nCSeq: 1 INVITE\r\n" +
		"Reason: Q.850;cause=17\r\nContent-Length: 0\r\n\r\n"))
	f.Add([]byte("SIP/2.0 200 OK\r\nCall-ID: b\r\nContent-Type: application/sdp\r\nContent-Length: 45\r\n\r\n" +
		"c=IN IP4 127.0.0.1\r\nm=audio 4000 RTP/AVP 0\r\n"))
	f.Add([]byte("INFO sip:x@y SIP/2.0\r\nCall-ID: c\r\nCSeq: 2 INFO\r\nContent-Type: application/dtmf-relay\r\n" +
		"Content-Length: 10\r\n\r\nSignal=#\r\n"))
	f.Add([]byte("SIP/2.0 99999999999 X\r\nReason: ;;;\r\nContent-Length: -1\r\n\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		msg, err := sip.ParseMessage(b)
		if err != nil || msg == nil {
			return
		}
		if id := msg.CallID(); id != nil {
			_ = string(*id)
		}
		switch m := msg.(type) {
		case *sip.Response:
			reason := ""
			if h := m.GetHeader("Reason"); h != nil {
				reason = h.Value()
			}
			_ = failReason(m.StatusCode, reason)
			if a, err := parseAnswer(m.Body(), []string{CodecPCMU, CodecPCMA}); err == nil && (a.port <= 0 || !a.addr.IsValid()) {
				t.Fatalf("unusable answer accepted: %+v", a)
			}
		case *sip.Request:
			ct := ""
			if h := m.ContentType(); h != nil {
				ct = h.Value()
			}
			if k, ok := parseInfoDTMF(ct, m.Body()); ok && (len(k) != 1 || !strings.Contains(dtmfEvents, k)) {
				t.Fatalf("key %q", k)
			}
		}
	})
}

// FuzzMalformedRTPSequence feeds a sequence of datagrams (the input split
// on a marker) through one stream's receive path, with recording on and
// early media then answer: sequence wraps, SSRC changes and hostile
// timestamps must neither panic nor make memory grow past the bounds.
func FuzzMalformedRTPSequence(f *testing.F) {
	pkt := func(seq uint16, ts, ssrc uint32, pt uint8, payload []byte) []byte {
		b, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: seq, Timestamp: ts, SSRC: ssrc}, Payload: payload}).Marshal()
		return b
	}
	sep := []byte("|||")
	f.Add(bytes.Join([][]byte{pkt(65535, 0, 1, 0, make([]byte, 160)), pkt(0, 160, 1, 0, make([]byte, 160)), pkt(5, 0xFFFFFF00, 2, 0, make([]byte, 160))}, sep))
	f.Add(bytes.Join([][]byte{pkt(1, 1, 1, 101, []byte{1, 0, 0, 80}), pkt(2, 1, 1, 101, []byte{1, 0x80, 0, 160}), pkt(3, 2, 1, 101, []byte{15, 0, 0, 1})}, sep))
	f.Add(bytes.Join([][]byte{pkt(1, 0x7FFFFFFF, 3, 0, make([]byte, 160)), {0x80}, pkt(1, 0, 3, 0, nil)}, sep))
	f.Fuzz(func(t *testing.T, b []byte) {
		const maxRec = 8000
		s := newRTPSession(nil, nil, 0, time.Second, streamHooks{dtmf: func(string) {}})
		s.format.Store(&mediaFormat{codec: CodecPCMU, pt: 0, dtmfPTs: [2]int{101, 96}})
		rec := newRecorder(time.Now(), maxRec)
		s.rec.Store(rec)
		from := netip.MustParseAddrPort("127.0.0.1:4000")
		now := time.Now()
		parts := bytes.Split(b, sep)
		if len(parts) > 64 {
			parts = parts[:64]
		}
		for i, d := range parts {
			if i == len(parts)/2 {
				s.answered.Store(now.UnixNano()) // the first half is early media
			}
			var p rtp.Packet
			if err := p.Unmarshal(d); err != nil || p.Version != 2 {
				continue
			}
			now = now.Add(20 * time.Millisecond)
			s.handle(&p, from, now)
		}
		_, in := rec.snapshot()
		if early := s.earlyMedia(); len(in) > maxRec || len(early) > maxEarlyMedia {
			t.Fatalf("recording %d, early %d samples", len(in), len(early))
		}
		if rx := s.rx.snapshot(); rx.totalLost() < 0 {
			t.Fatalf("negative loss %d", rx.totalLost())
		}
		_ = media.EncodeMuLaw(in)
	})
}

// TestForgedByeRejected: a BYE with the call's Call-ID but not its
// dialog's tags (none right, or only ours) gets 481 and the call goes on;
// the far end's own BYE still ends it.
func TestForgedByeRejected(t *testing.T) {
	u := startUAS(t, &testUAS{toneHz: 300, toneFor: 10 * time.Second, byeAfter: 2 * time.Second})
	c := newTestCarrier(t, u.addr, nil)
	l := originate(t, c, "13800000000", 10*time.Second)
	waitFor(t, l, dialtone.LegAnswered, 5*time.Second)
	answered := time.Now()
	inv := <-u.invites
	ourTag, _ := inv.From().Params.Get("tag")
	callID := l.Stats()["sip_call_id"]

	cli, host, port := forgerClient(t, c)
	forge := func(fromTag, toTag string) int {
		t.Helper()
		req := sip.NewRequest(sip.BYE, sip.Uri{Scheme: "sip", User: "dialtone", Host: host, Port: port})
		from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: "13800000000", Host: "127.0.0.1"}, Params: sip.NewParams()}
		from.Params.Add("tag", fromTag)
		to := &sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: "dialtone", Host: host}, Params: sip.NewParams()}
		to.Params.Add("tag", toTag)
		cid := sip.CallIDHeader(callID)
		req.AppendHeader(from)
		req.AppendHeader(to)
		req.AppendHeader(&cid)
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		res, err := cli.Do(ctx, req)
		if err != nil {
			t.Fatalf("forged bye: %v", err)
		}
		return res.StatusCode
	}
	if code := forge("forged"+randHex(4), "forged"+randHex(4)); code != 481 {
		t.Errorf("BYE with wrong tags answered %d, want 481", code)
	}
	if code := forge("forged"+randHex(4), ourTag); code != 481 {
		t.Errorf("BYE with our tag but a wrong far-end tag answered %d, want 481", code)
	}
	// The call is still up: no hangup, and media still flows.
	rx0, _ := strconv.Atoi(l.Stats()["packets_received"])
	time.Sleep(300 * time.Millisecond)
	if rx, _ := strconv.Atoi(l.Stats()["packets_received"]); rx < rx0+5 {
		t.Errorf("packets received %d -> %d after the forged BYE", rx0, rx)
	}
	// The genuine BYE (byeAfter) ends the call as the callee's hangup.
	ev, _ := waitFor(t, l, dialtone.LegHangup, 5*time.Second)
	if ev.Detail["by"] != "callee" {
		t.Errorf("hangup %v", ev.Detail)
	}
	if d := time.Since(answered); d < 1500*time.Millisecond {
		t.Errorf("call ended %v after answer; the far end's BYE comes after 2 s", d)
	}
	// Its BYE transaction completes before the test (and its UA) ends.
	select {
	case <-u.bye:
	case <-time.After(5 * time.Second):
		t.Error("far end's BYE did not complete")
	}
	waitClosed(t, l, 5*time.Second)
}

// countHandler counts records by level and keeps the longest attribute.
type countHandler struct {
	mu      sync.Mutex
	loud    []string // messages at Warn or above
	debug   map[string]int
	longest int
}

func (h *countHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *countHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if r.Level >= slog.LevelWarn {
		h.loud = append(h.loud, r.Message)
	} else if r.Level == slog.LevelDebug {
		h.debug[r.Message]++
	}
	r.Attrs(func(a slog.Attr) bool {
		h.longest = max(h.longest, len(a.Value.String()))
		return true
	})
	return nil
}

func (h *countHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *countHandler) WithGroup(string) slog.Handler      { return h }

// TestRobustBarrageLogsBounded: the malformed-SIP barrage, sent twice
// during a call, leaves a bounded number of log lines at Warn or above;
// the parse errors are still there at Debug, their datagrams cut short.
func TestRobustBarrageLogsBounded(t *testing.T) {
	u := startUAS(t, &testUAS{toneHz: 300, toneFor: 5 * time.Second})
	h := &countHandler{debug: map[string]int{}}
	c, err := New(Config{Config: sipconf.Config{Listen: "127.0.0.1:0", Trunks: []Trunk{{Name: "t", Address: u.addr}}, DefaultTrunk: "t"}}, slog.New(h))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	l := originate(t, c, "13800000000", 10*time.Second)
	waitFor(t, l, dialtone.LegAnswered, 5*time.Second)
	callID := l.Stats()["sip_call_id"]
	for i := 0; i < 2; i++ {
		sendRaw(t, c.Addr(), malformedSIP(callID, c.Addr())...)
	}
	optionsAlive(t, c.Addr())
	time.Sleep(200 * time.Millisecond) // sipgo handles each datagram in its own goroutine
	h.mu.Lock()
	defer h.mu.Unlock()
	// 2 x 33 datagrams; the rate limit lets 10 at once through.
	if len(h.loud) > 12 {
		t.Errorf("%d log lines at Warn or above from the barrage: %q", len(h.loud), h.loud)
	}
	if h.debug["failed to parse"] < 10 {
		t.Errorf("parse errors at Debug: %d, want them kept there", h.debug["failed to parse"])
	}
	if h.longest > 2000 {
		t.Errorf("a log attribute of %d bytes: datagrams not cut short", h.longest)
	}
}
