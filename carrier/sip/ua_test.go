package sip

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"fmt"
	"math"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
	"github.com/pion/rtp"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/media"
)

// testUAS is a far end written with sipgo: it answers (or not) as its
// mode says, records the RTP it hears, and can press keys.
type testUAS struct {
	t    *testing.T
	addr string

	// Behaviour.
	codec     string  // PCMU or PCMA in its answer
	early     bool    // 183 with SDP and 300 ms of tone, then 486
	earlySay  []int16 // with early: this instead of the tone (an announcement)
	earlyEnd  int     // with early: this final status instead of 486
	silent    bool    // answer but never send RTP
	keys      string  // pressed by RFC 4733 300 ms after the ACK
	infoKey   string  // sent as SIP INFO dtmf-relay after the keys
	authRealm string  // challenge with 401 first when set
	authUser  string
	authPass  string
	byeAfter  time.Duration // hang up after this long (0: never)
	toneHz    float64       // after answer, send a tone of this frequency
	toneFor   time.Duration // for this long
	keysAt    time.Duration // press keys this long after the ACK (default 300 ms)
	say       []int16       // after answer, speak this (sent as RTP)
	sayAt     time.Duration // this long after the ACK
	tcp       bool          // SIP over TCP instead of UDP
	tls       *tls.Config   // SIP over TLS with this server config (tls_test.go)
	tlsDial   *tls.Config   // and this client config for its own requests (its BYE)
	rtcp      bool          // offer a=rtcp on its own socket and answer our SRs (rtcp_test.go)
	gotAuth   chan bool
	invites   chan *sip.Request

	mu        sync.Mutex
	heard     []int16
	sayStart  time.Time // when it began to send say
	firstLoud time.Time // when the first audible packet from us arrived
	heardKeys string    // RFC 4733 events received
	rxLog     []rxPkt   // every audio packet from us: when, its timestamp, whether audible
	det       dtmfDetector
	bye       chan struct{}
	byeOnce   sync.Once
	conn      *net.UDPConn // its RTP socket
	rtcpConn  *net.UDPConn // its RTCP socket when rtcp is set
	rtcpGot   []rtcpSeen   // our reports it received
	rtcpPeer  *net.UDPAddr // where our RTCP came from
	peer      *net.UDPAddr // our RTP address from the offer
	seq       uint16
	srv       *sipgo.Server
	cli       *sipgo.Client
	dialogs   *sipgo.DialogServerCache
	dlg       *sipgo.DialogServerSession // the last dialog answered
}

// lastDialog is the dialog of the last INVITE it read.
func (u *testUAS) lastDialog() *sipgo.DialogServerSession {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.dlg
}

// rxPkt is an audio packet the far end received.
type rxPkt struct {
	at   time.Time
	ts   uint32
	loud bool
}

// packets returns the audio packets received so far.
func (u *testUAS) packets() []rxPkt {
	u.mu.Lock()
	defer u.mu.Unlock()
	return slices.Clone(u.rxLog)
}

func startUAS(t *testing.T, u *testUAS) *testUAS {
	t.Helper()
	u.t = t
	u.bye = make(chan struct{})
	u.gotAuth = make(chan bool, 4)
	u.invites = make(chan *sip.Request, 4)
	if u.codec == "" {
		u.codec = CodecPCMU
	}
	uaOpts := []sipgo.UserAgentOption{sipgo.WithUserAgent("testuas")}
	if u.tlsDial != nil {
		uaOpts = append(uaOpts, sipgo.WithUserAgenTLSConfig(u.tlsDial))
	}
	ua, err := sipgo.NewUA(uaOpts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ua.Close() })
	u.srv, err = sipgo.NewServer(ua)
	if err != nil {
		t.Fatal(err)
	}
	var pc net.PacketConn
	var ln net.Listener
	network := "udp"
	stream := u.tcp || u.tls != nil
	if stream {
		network = "tcp"
		ln, err = net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		u.addr = ln.Addr().String()
		if u.tls != nil {
			network = "tls"
			ln = tls.NewListener(ln, u.tls)
		}
		// Requests in the dialog (its BYE) go to our Contact on a
		// connection of their own, so the client needs no bound address.
		u.cli, err = sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"))
	} else {
		pc, err = net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		u.addr = pc.LocalAddr().String()
		u.cli, err = sipgo.NewClient(ua, sipgo.WithClientConnectionAddr(u.addr), sipgo.WithClientHostname("127.0.0.1"))
	}
	if err != nil {
		t.Fatal(err)
	}
	host, portS, _ := net.SplitHostPort(u.addr)
	port, _ := strconv.Atoi(portS)
	contact := sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "uas", Host: host, Port: port}}
	if stream {
		contact.Address.UriParams = sip.NewParams()
		contact.Address.UriParams.Add("transport", network)
	}
	u.dialogs = sipgo.NewDialogServerCache(u.cli, contact)
	u.conn, err = net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { u.conn.Close() })
	go u.readRTP()
	u.srv.OnInvite(u.onInvite)
	u.srv.OnAck(func(req *sip.Request, tx sip.ServerTransaction) { _ = u.dialogs.ReadAck(req, tx) })
	u.srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		_ = u.dialogs.ReadBye(req, tx)
		u.byeOnce.Do(func() { close(u.bye) })
	})
	if u.rtcp {
		u.startRTCP()
	}
	if stream {
		t.Cleanup(func() { ln.Close() })
		if u.tls != nil {
			go func() { _ = u.srv.ServeTLS(ln) }()
		} else {
			go func() { _ = u.srv.ServeTCP(ln) }()
		}
		// A stream listener is ready once bound: nothing to wait for.
		return u
	}
	go func() { _ = u.srv.ServeUDP(pc) }()
	for i := 0; i < 500; i++ {
		if _, err := ua.TransportLayer().GetConnection(network, u.addr); err == nil {
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	return u
}

func (u *testUAS) sdp() []byte {
	pt := staticPT[u.codec]
	port := u.conn.LocalAddr().(*net.UDPAddr).Port
	sdp := fmt.Sprintf("v=0\r\no=uas 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"+
		"m=audio %d RTP/AVP %d 101\r\na=rtpmap:%d %s/8000\r\na=rtpmap:101 telephone-event/8000\r\n", port, pt, pt, u.codec)
	if u.rtcpConn != nil {
		sdp += fmt.Sprintf("a=rtcp:%d\r\n", u.rtcpConn.LocalAddr().(*net.UDPAddr).Port)
	}
	return []byte(sdp)
}

func (u *testUAS) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	u.invites <- req
	if u.authRealm != "" {
		h := req.GetHeader("Authorization")
		if h == nil {
			res := sip.NewResponseFromRequest(req, 401, "Unauthorized", nil)
			ch := digest.Challenge{Realm: u.authRealm, Nonce: "n0nce", Algorithm: "MD5"}
			res.AppendHeader(sip.NewHeader("WWW-Authenticate", ch.String()))
			_ = tx.Respond(res)
			return
		}
		cred, err := digest.ParseCredentials(h.Value())
		ok := err == nil && cred.Username == u.authUser
		if ok {
			want, err := digest.Digest(&digest.Challenge{Realm: u.authRealm, Nonce: "n0nce", Algorithm: "MD5"},
				digest.Options{Method: "INVITE", URI: cred.URI, Username: u.authUser, Password: u.authPass, Cnonce: cred.Cnonce, Count: cred.Nc})
			ok = err == nil && want.Response == cred.Response
		}
		u.gotAuth <- ok
		if !ok {
			_ = tx.Respond(sip.NewResponseFromRequest(req, 403, "Forbidden", nil))
			return
		}
	}
	offer, err := parseAnswer(req.Body(), []string{CodecPCMU, CodecPCMA})
	if err != nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 488, "Not Acceptable Here", nil))
		return
	}
	u.mu.Lock()
	u.peer = &net.UDPAddr{IP: offer.addr.AsSlice(), Port: offer.port}
	u.mu.Unlock()
	dlg, err := u.dialogs.ReadInvite(req, tx)
	if err != nil {
		u.t.Errorf("uas: read invite: %v", err)
		return
	}
	u.mu.Lock()
	u.dlg = dlg
	u.mu.Unlock()
	_ = dlg.Respond(100, "Trying", nil)
	time.Sleep(20 * time.Millisecond)
	if u.early {
		res := sip.NewResponseFromRequest(req, 183, "Session Progress", u.sdp())
		res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
		_ = tx.Respond(res)
		if u.earlySay != nil {
			u.sendAudio(u.earlySay)
		} else {
			u.sendAudio(tone(300*time.Millisecond, 425, 6000).Samples)
		}
		if u.earlyEnd != 0 {
			_ = dlg.Respond(u.earlyEnd, "Final", nil)
		} else {
			_ = dlg.Respond(486, "Busy Here", nil)
		}
		return
	}
	_ = dlg.Respond(180, "Ringing", nil)
	// Like a phone, answer a moment after ringing: sipgo handles each
	// UDP message in its own goroutine, so a 180 and a 200 sent back to
	// back can be processed out of order and the 180 dropped.
	time.Sleep(50 * time.Millisecond)
	if err := dlg.RespondSDP(u.sdp()); err != nil {
		u.t.Errorf("uas: answer: %v", err)
		return
	}
	go u.afterAnswer(dlg)
	// The handler must stay until the dialog ends: sipgo terminates the
	// INVITE transaction when it returns.
	select {
	case <-u.bye:
	case <-dlg.Context().Done():
	case <-time.After(20 * time.Second):
	}
}

func (u *testUAS) afterAnswer(dlg *sipgo.DialogServerSession) {
	if u.toneHz > 0 {
		go u.sendAudio(tone(u.toneFor, u.toneHz, 8000).Samples)
	}
	if u.say != nil {
		go func() {
			time.Sleep(u.sayAt)
			u.mu.Lock()
			u.sayStart = time.Now()
			u.mu.Unlock()
			u.sendAudio(u.say)
		}()
	}
	if u.keysAt > 0 {
		time.Sleep(u.keysAt)
	} else {
		time.Sleep(300 * time.Millisecond)
	}
	for _, k := range u.keys {
		u.sendDTMF(strings.IndexRune(dtmfEvents, k))
		time.Sleep(100 * time.Millisecond)
	}
	if u.infoKey != "" {
		info := sip.NewRequest(sip.INFO, dlg.InviteRequest.Contact().Address)
		info.AppendHeader(sip.NewHeader("Content-Type", "application/dtmf-relay"))
		info.SetBody([]byte("Signal=" + u.infoKey + "\r\nDuration=160\r\n"))
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		res, err := dlg.Do(ctx, info)
		cancel()
		// A test may hang up as soon as the key arrives, before the 200
		// does: an INFO whose dialog has ended since is no failure (and
		// reporting it could come after the test has finished).
		if (err != nil || res.StatusCode != 200) && dlg.Context().Err() == nil {
			u.t.Errorf("uas: info: %v %v", res, err)
		}
	}
	if u.byeAfter > 0 {
		time.Sleep(u.byeAfter)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := dlg.Bye(ctx); err != nil {
			u.t.Errorf("uas: bye: %v", err)
		}
		u.byeOnce.Do(func() { close(u.bye) })
	}
}

func (u *testUAS) send(pt uint8, marker bool, ts uint32, payload []byte) {
	u.mu.Lock()
	peer := u.peer
	u.seq++
	h := rtp.Header{Version: 2, PayloadType: pt, Marker: marker, SequenceNumber: u.seq, Timestamp: ts, SSRC: 0xfeed}
	u.mu.Unlock()
	b, _ := (&rtp.Packet{Header: h, Payload: payload}).Marshal()
	if peer != nil {
		_, _ = u.conn.WriteToUDP(b, peer)
	}
}

// sendAudio sends samples paced at 20 ms.
func (u *testUAS) sendAudio(s []int16) {
	ts := uint32(1000)
	start := time.Now()
	for i := 0; i+frameSamples <= len(s); i += frameSamples {
		// Paced against the start, not frame to frame, so sleep overshoot
		// does not make this far end's clock run slow.
		time.Sleep(time.Until(start.Add(time.Duration(i/frameSamples) * frameTime)))
		var p []byte
		if u.codec == CodecPCMA {
			p = media.EncodeALaw(s[i : i+frameSamples])
		} else {
			p = media.EncodeMuLaw(s[i : i+frameSamples])
		}
		u.send(staticPT[u.codec], i == 0, ts, p)
		ts += frameSamples
	}
}

// sendDTMF sends one key as RFC 4733 does: three packets while pressed,
// then the end packet three times, all with the event's timestamp.
func (u *testUAS) sendDTMF(ev int) {
	ts := uint32(50000 + ev*1000)
	for i := 0; i < 6; i++ {
		end := i >= 3
		dur := uint16(160 * (min(i, 3) + 1))
		p := make([]byte, 4)
		p[0] = byte(ev)
		p[1] = 10
		if end {
			p[1] |= 0x80
		}
		binary.BigEndian.PutUint16(p[2:], dur)
		u.send(101, i == 0, ts, p)
		time.Sleep(5 * time.Millisecond)
	}
}

func (u *testUAS) readRTP() {
	buf := make([]byte, 1500)
	var p rtp.Packet
	for {
		n, from, err := u.conn.ReadFromUDP(buf)
		if err != nil {
			return
		}
		if isRTCP(buf[:n]) {
			if u.rtcp {
				u.onRTCP(buf[:n], from, true)
			}
			continue
		}
		if p.Unmarshal(buf[:n]) != nil {
			continue
		}
		var pcm []int16
		switch p.PayloadType {
		case 0:
			pcm = media.DecodeMuLaw(p.Payload)
		case 8:
			pcm = media.DecodeALaw(p.Payload)
		case 101:
			u.mu.Lock()
			u.heardKeys += u.det.feed(p.Timestamp, p.Payload)
			u.mu.Unlock()
			continue
		default:
			continue
		}
		u.mu.Lock()
		u.rxLog = append(u.rxLog, rxPkt{at: time.Now(), ts: p.Timestamp, loud: slices.ContainsFunc(pcm, func(v int16) bool { return v > 64 || v < -64 })})
		u.heard = append(u.heard, pcm...)
		if u.firstLoud.IsZero() && slices.ContainsFunc(pcm, func(v int16) bool { return v > 64 || v < -64 }) {
			u.firstLoud = time.Now()
		}
		u.mu.Unlock()
	}
}

// heardSpan is the span from the first to the last non-silent sample
// heard (we send silence around prompts), and its RMS.
func (u *testUAS) heardSpan() (time.Duration, float64) {
	u.mu.Lock()
	defer u.mu.Unlock()
	first, last := -1, -1
	for i, s := range u.heard {
		if s > 64 || s < -64 {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	if first < 0 {
		return 0, 0
	}
	var sum float64
	for _, s := range u.heard[first : last+1] {
		sum += float64(s) * float64(s)
	}
	n := last - first + 1
	return time.Duration(n) * time.Second / sampleRate, math.Sqrt(sum / float64(n))
}

// TestUASHearsPromptAndPressesKeys: the far end hears the prompt for as
// long as it lasts and not as silence; its RFC 4733 keys and a SIP INFO
// key come back as LegDTMF, once each.
func TestUASHearsPromptAndPressesKeys(t *testing.T) {
	for _, codec := range []string{CodecPCMU, CodecPCMA} {
		t.Run(codec, func(t *testing.T) {
			u := startUAS(t, &testUAS{codec: codec, keys: "12#", infoKey: "5"})
			c := newTestCarrier(t, u.addr, func(cfg *Config) { cfg.Trunks[0].Codecs = []string{CodecPCMA, CodecPCMU} })
			l := originate(t, c, "13800000000", 10*time.Second)
			ev, seen := waitFor(t, l, dialtone.LegAnswered, 5*time.Second)
			if ev.Detail["codec"] != codec {
				t.Errorf("codec %q", ev.Detail["codec"])
			}
			if len(seen) != 2 || seen[0] != dialtone.LegTrying || seen[1] != dialtone.LegRinging {
				t.Errorf("before answer: %v", seen)
			}
			if err := l.Record(context.Background()); err != nil {
				t.Fatal(err)
			}
			prompt := tone(1500*time.Millisecond, 500, 10000)
			done := make(chan error, 1)
			go func() {
				_, err := l.Play(context.Background(), prompt, nil)
				done <- err
			}()
			var keys string
			deadline := time.After(5 * time.Second)
			for len(keys) < 4 {
				select {
				case ev := <-l.Events():
					if ev.Kind == dialtone.LegDTMF {
						keys += ev.Digits
					}
				case <-deadline:
					t.Fatalf("keys so far %q", keys)
				}
			}
			if keys != "12#5" {
				t.Errorf("keys %q, want 12#5", keys)
			}
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			time.Sleep(100 * time.Millisecond)
			if err := l.Hangup(context.Background()); err != nil {
				t.Fatal(err)
			}
			waitClosed(t, l, 5*time.Second)
			select {
			case <-u.bye:
			case <-time.After(5 * time.Second):
				t.Error("far end got no BYE")
			}
			span, rms := u.heardSpan()
			if d := span - prompt.Duration(); d < -prompt.Duration()/10 || d > prompt.Duration()/10 {
				t.Errorf("far end heard %v of a %v prompt", span, prompt.Duration())
			}
			if rms < 1000 {
				t.Errorf("far end heard near silence (rms %.0f)", rms)
			}
			// The leg's own recording holds the prompt on the left channel.
			if wav := l.Recording(); len(wav) < 44+4*int(prompt.Duration()*sampleRate/time.Second) {
				t.Errorf("recording %d bytes", len(wav))
			}
		})
	}
}

func TestUASEarlyMediaThenBusy(t *testing.T) {
	u := startUAS(t, &testUAS{early: true})
	c := newTestCarrier(t, u.addr, nil)
	l := originate(t, c, "13800000000", 10*time.Second)
	ev, seen := waitFor(t, l, dialtone.LegFailed, 5*time.Second)
	if ev.Reason != dialtone.FailBusy {
		t.Errorf("reason %s", ev.Reason)
	}
	want := []dialtone.LegEventKind{dialtone.LegTrying, dialtone.LegRinging, dialtone.LegEarlyMedia}
	if fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Errorf("events %v, want %v", seen, want)
	}
	em := l.(interface{ EarlyMedia() []int16 }).EarlyMedia()
	if d := time.Duration(len(em)) * time.Second / sampleRate; d < 200*time.Millisecond {
		t.Errorf("early media %v", d)
	}
	waitClosed(t, l, 5*time.Second)
}

func TestUASRTPTimeout(t *testing.T) {
	u := startUAS(t, &testUAS{silent: true})
	c := newTestCarrier(t, u.addr, func(cfg *Config) { cfg.RTPTimeout = time.Second })
	l := originate(t, c, "13800000000", 10*time.Second)
	waitFor(t, l, dialtone.LegAnswered, 5*time.Second)
	start := time.Now()
	ev, _ := waitFor(t, l, dialtone.LegHangup, 5*time.Second)
	if ev.Detail["reason"] != "rtp timeout" {
		t.Errorf("hangup %v", ev.Detail)
	}
	if d := time.Since(start); d < 900*time.Millisecond || d > 3*time.Second {
		t.Errorf("timed out after %v", d)
	}
	select {
	case <-u.bye:
	case <-time.After(5 * time.Second):
		t.Error("far end got no BYE")
	}
	waitClosed(t, l, 5*time.Second)
	if st := l.Stats(); st["end"] != "rtp timeout" {
		t.Errorf("stats %v", st)
	}
}

func TestUASDigestAuthAndPresentation(t *testing.T) {
	u := startUAS(t, &testUAS{authRealm: "trunk", authUser: "acme", authPass: "s3cret", byeAfter: 200 * time.Millisecond})
	c := newTestCarrier(t, u.addr, func(cfg *Config) {
		tr := &cfg.Trunks[0]
		tr.Username, tr.Password, tr.Presentation, tr.FromDomain = "acme", "s3cret", PresentPAI, "carrier.example"
		tr.Rewrite = []RewriteRule{{Prefix: "0", Replace: "86"}}
	})
	l := originate(t, c, "075512345678", 10*time.Second)
	waitFor(t, l, dialtone.LegAnswered, 5*time.Second)
	if ok := <-u.gotAuth; !ok {
		t.Error("bad digest credentials")
	}
	<-u.invites // the unauthenticated one
	inv := <-u.invites
	if got := inv.Recipient.User; got != "8675512345678" {
		t.Errorf("request user %q", got)
	}
	if f := inv.From(); f.Address.User != "acme" || f.Address.Host != "carrier.example" {
		t.Errorf("from %s", f.Value())
	}
	if p := inv.GetHeader("P-Asserted-Identity"); p == nil || p.Value() != "<sip:05710000000@carrier.example>" {
		t.Errorf("pai %v", p)
	}
	ev, _ := waitFor(t, l, dialtone.LegHangup, 5*time.Second)
	if ev.Detail["by"] != "callee" {
		t.Errorf("hangup %v", ev.Detail)
	}
	waitClosed(t, l, 5*time.Second)
	select {
	case <-u.bye: // its BYE transaction completed
	case <-time.After(5 * time.Second):
		t.Error("far end's BYE did not complete")
	}
}
