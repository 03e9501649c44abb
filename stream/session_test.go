package stream

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/dialtone-voice/dialtone/media"
	"github.com/dialtone-voice/dialtone/mediastream"
	"github.com/dialtone-voice/dialtone/outbound"
)

// app is a business's WebSocket application on loopback: it checks the
// upgrade's signature with the secrets it holds and hands each accepted
// connection to the test.
type app struct {
	srv     *httptest.Server
	secrets []string
	conns   chan *websocket.Conn
	hits    atomic.Int64
	refused atomic.Int64
}

func newApp(t *testing.T, secrets ...string) *app {
	t.Helper()
	a := &app{secrets: secrets, conns: make(chan *websocket.Conn, 4)}
	release := make(chan struct{})
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.hits.Add(1)
		if len(a.secrets) > 0 {
			signed := "ws://" + r.Host + r.RequestURI
			if err := outbound.VerifyAny(a.secrets, r.Header.Get(outbound.SignatureHeader), []byte(signed), time.Now(), 0); err != nil {
				a.refused.Add(1)
				http.Error(w, err.Error(), http.StatusUnauthorized)
				return
			}
		}
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		a.conns <- c
		select { // the test owns the connection until it ends
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release); a.srv.Close() })
	return a
}

func (a *app) url(path string) string { return "ws" + strings.TrimPrefix(a.srv.URL, "http") + path }

func (a *app) accept(t *testing.T) *peer {
	t.Helper()
	select {
	case c := <-a.conns:
		t.Cleanup(func() { c.CloseNow() })
		return &peer{t: t, c: c}
	case <-time.After(10 * time.Second):
		t.Fatal("no connection")
		return nil
	}
}

// peer is the application's end of one stream.
type peer struct {
	t *testing.T
	c *websocket.Conn
}

func (p *peer) next() *mediastream.Message {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	typ, data, err := p.c.Read(ctx)
	if err != nil {
		p.t.Fatalf("read: %v", err)
	}
	if typ != websocket.MessageText {
		p.t.Fatalf("a %v message", typ)
	}
	m, err := mediastream.Decode(data, mediastream.FromDialtone)
	if err != nil {
		p.t.Fatalf("%s: %v", data, err)
	}
	return m
}

// until reads messages, skipping media, until one of event ev.
func (p *peer) until(ev mediastream.Event) *mediastream.Message {
	p.t.Helper()
	for range 10000 {
		if m := p.next(); m.Event == ev {
			return m
		} else if m.Event != mediastream.EventMedia {
			p.t.Fatalf("%s before %s", m.Event, ev)
		}
	}
	p.t.Fatalf("no %s", ev)
	return nil
}

func (p *peer) send(msg string) {
	p.t.Helper()
	if err := p.c.Write(context.Background(), websocket.MessageText, []byte(msg)); err != nil {
		p.t.Fatalf("write: %v", err)
	}
}

func client(t *testing.T) *outbound.Client {
	t.Helper()
	pol, err := outbound.NewPolicy("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	c, err := outbound.New(outbound.Config{Policy: pol})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var meta = outbound.Meta{Account: "1000000000000001", Purpose: outbound.PurposeStream}

var quiet = slog.New(slog.DiscardHandler)

// closeQuickly ends a session at the end of a test without waiting for a
// peer that no longer reads.
func closeQuickly(s *Session) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	s.Close(ctx)
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func dial(t *testing.T, a *app, signer outbound.Signer, p Params) (*Session, *peer) {
	t.Helper()
	if p.CallID == "" {
		p.CallID = "116012354148^10281378"
	}
	p.Logger = quiet
	s, err := Dial(ctxT(t), client(t), meta, a.url("/agent?lang=zh"), signer, p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeQuickly(s) })
	pr := a.accept(t)
	if m := pr.next(); m.Event != mediastream.EventConnected || *m.Connected != (mediastream.Connected{Protocol: "Call", Version: "1.0.0"}) {
		t.Fatalf("first message %+v", m)
	}
	if m := pr.next(); m.Event != mediastream.EventStart || m.SequenceNumber != 1 || m.StreamSID != s.StreamSID() {
		t.Fatalf("second message %+v", m)
	}
	return s, pr
}

// tone is n samples of a sine of freq Hz at 8 kHz from sample offset off.
func tone(freq float64, off, n int) []int16 {
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(8000 * math.Sin(2*math.Pi*freq*float64(off+i)/8000))
	}
	return out
}

// The upgrade is signed over "<t>." + the URL as dialled; during a
// rotation a receiver holding only the old secret accepts it too; a
// receiver with another secret refuses it and Dial fails.
func TestDialSigned(t *testing.T) {
	signer := outbound.Signer{Secret: "old-secret"}.Rotate("new-secret", time.Now(), time.Hour)
	for _, held := range []string{"new-secret", "old-secret"} {
		a := newApp(t, held)
		dial(t, a, signer, Params{})
		if a.refused.Load() != 0 {
			t.Fatalf("holding %s: refused", held)
		}
	}
	// A path and query with escapes and non-ASCII: what is signed is what
	// the request line carries.
	a0 := newApp(t, "new-secret")
	s, err := Dial(ctxT(t), client(t), meta, a0.url("/agent%20one/中文?q=%E4%B8%AD&x=a+b"), signer, Params{CallID: "C0", Logger: quiet})
	if err != nil {
		t.Fatalf("an escaped URL: %v", err)
	}
	// Close's context bounds it, whatever the peer does (this one never
	// reads, so never answers the close frame).
	start := time.Now()
	closeQuickly(s)
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Close with a one-second context took %s", d)
	}
	a := newApp(t, "another-secret")
	_, err = Dial(ctxT(t), client(t), meta, a.url("/agent"), signer, Params{CallID: "C1"})
	if err == nil || !strings.Contains(err.Error(), "401") || a.refused.Load() != 1 {
		t.Fatalf("a wrong secret: %v (refused %d)", err, a.refused.Load())
	}
	// What is signed is exactly this string.
	sig := signer.Sign(time.Unix(1700000000, 0), []byte("ws://127.0.0.1:8080/agent?lang=zh"))
	if err := outbound.Verify("old-secret", sig, []byte("ws://127.0.0.1:8080/agent?lang=zh"), time.Unix(1700000000, 0), 0); err != nil {
		t.Fatal(err)
	}
	if err := outbound.Verify("old-secret", sig, []byte("ws://127.0.0.1:8080/agent?lang=en"), time.Unix(1700000000, 0), 0); err == nil {
		t.Fatal("a signature verified for another URL")
	}
}

// The egress policy decides before anything is dialled.
func TestDialRefusedByPolicy(t *testing.T) {
	a := newApp(t)
	strict, err := outbound.New(outbound.Config{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Dial(ctxT(t), strict, meta, a.url("/agent"), outbound.Signer{}, Params{CallID: "C1"})
	var rerr *outbound.RefusedError
	if !errors.As(err, &rerr) || rerr.Rule != outbound.RuleLoopback {
		t.Fatalf("an account's URL to loopback: %v", err)
	}
	if _, err := Dial(ctxT(t), client(t), meta, "http://127.0.0.1/agent", outbound.Signer{}, Params{CallID: "C1"}); !errors.Is(err, outbound.ErrRefused) {
		t.Fatalf("an http URL: %v", err)
	}
	if a.hits.Load() != 0 {
		t.Fatalf("%d handshakes reached the application", a.hits.Load())
	}
}

// start carries what Twilio's does; media carry the call's audio in 20 ms
// µ-law frames, numbered as Twilio numbers them.
func TestStartAndMedia(t *testing.T) {
	a := newApp(t)
	ctx := ctxT(t)
	s, err := Dial(ctx, client(t), meta, a.url("/agent"), outbound.Signer{}, Params{
		CallID: "116012354148^10281378", Custom: map[string]string{"order": "A-1001", "lang": "zh"},
		Tracks: []mediastream.Track{mediastream.TrackInbound, mediastream.TrackOutbound}, Logger: quiet,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeQuickly(s) })
	p := a.accept(t)
	p.next() // connected
	start := p.next()
	want := &mediastream.Start{StreamSID: s.StreamSID(), AccountSID: "1000000000000001", CallSID: "116012354148^10281378",
		Tracks:           []mediastream.Track{"inbound", "outbound"},
		CustomParameters: map[string]string{"order": "A-1001", "lang": "zh"}, MediaFormat: mediastream.TelephonyFormat}
	if !reflect.DeepEqual(start.Start, want) {
		t.Fatalf("start %+v\nwant %+v", start.Start, want)
	}
	if len(s.StreamSID()) != 34 || !strings.HasPrefix(s.StreamSID(), "MZ") {
		t.Errorf("streamSid %q", s.StreamSID())
	}
	for i := range 10 {
		if err := s.Send(tone(440, i*160, 160), time.Duration(i)*20*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			s.SendTrack(mediastream.TrackOutbound, tone(1000, i*160, 160), time.Duration(i)*20*time.Millisecond)
		}
	}
	if err := s.DTMF("5"); err != nil {
		t.Fatal(err)
	}
	if err := s.DTMF("55"); err == nil {
		t.Error("DTMF 55 accepted")
	}
	var in []int16
	chunks := map[mediastream.Track]uint64{}
	seq := uint64(1)
	for {
		m := p.next()
		if m.SequenceNumber != seq+1 {
			t.Fatalf("sequenceNumber %d after %d", m.SequenceNumber, seq)
		}
		seq = m.SequenceNumber
		if m.Event == mediastream.EventDTMF {
			if *m.DTMF != (mediastream.DTMF{Track: "inbound_track", Digit: "5"}) {
				t.Fatalf("dtmf %+v", m.DTMF)
			}
			break
		}
		md := m.Media
		chunks[md.Track]++
		if md.Chunk != chunks[md.Track] || len(md.Payload) != 160 {
			t.Fatalf("media %s chunk %d (%d bytes), want chunk %d", md.Track, md.Chunk, len(md.Payload), chunks[md.Track])
		}
		mult := uint64(1)
		if md.Track == mediastream.TrackOutbound {
			mult = 2
		}
		if md.Timestamp != time.Duration((md.Chunk-1)*mult)*20*time.Millisecond {
			t.Fatalf("%s chunk %d at %s", md.Track, md.Chunk, md.Timestamp)
		}
		if md.Track == mediastream.TrackInbound {
			in = append(in, media.DecodeMuLaw(md.Payload)...)
		}
	}
	if chunks["inbound"] != 10 || chunks["outbound"] != 5 {
		t.Fatalf("chunks %v", chunks)
	}
	if f := dominant(in); f != 440 {
		t.Fatalf("the inbound track's tone is %v Hz", f)
	}
	if err := s.SendTrack("both", tone(440, 0, 160), 0); !errors.Is(err, ErrTrack) {
		t.Fatalf("another track: %v", err)
	}
	if st := s.Stats(); st.FramesSent != 15 || st.DTMFSent != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// dominant returns which of a few frequencies is strongest in pcm.
func dominant(pcm []int16) float64 {
	best, bestP := 0.0, 0.0
	for _, f := range []float64{300, 440, 700, 1000, 1500} {
		if p := goertzel(pcm, f); p > bestP {
			best, bestP = f, p
		}
	}
	return best
}

func goertzel(pcm []int16, f float64) float64 {
	w := 2 * math.Pi * f / 8000
	c := 2 * math.Cos(w)
	var s1, s2 float64
	for _, x := range pcm {
		s0 := float64(x) + c*s1 - s2
		s2, s1 = s1, s0
	}
	return s1*s1 + s2*s2 - c*s1*s2
}

func payload(pcm []int16) string {
	return base64.StdEncoding.EncodeToString(media.EncodeMuLaw(pcm))
}

// The application's audio plays at the pacer's pace; a mark comes back
// when the audio before it has been played; clear drops the queue and
// echoes the pending marks at once.
func TestPlayoutMarkAndClear(t *testing.T) {
	a := newApp(t)
	s, p := dial(t, a, outbound.Signer{}, Params{})
	sid := s.StreamSID()
	for i := range 3 {
		p.send(`{"event":"media","streamSid":"` + sid + `","media":{"payload":"` + payload(tone(700, i*160, 160)) + `"}}`)
	}
	p.send(`{"event":"mark","streamSid":"` + sid + `","mark":{"name":"greeting"}}`)
	waitFor(t, "audio queued", func() bool { return s.Buffered() == 60*time.Millisecond })
	frame := make([]int16, FrameSamples)
	var played []int16
	for range 3 {
		if n := s.Read(frame); n != FrameSamples {
			t.Fatalf("read %d samples", n)
		}
		played = append(played, frame...)
	}
	if f := dominant(played); f != 700 {
		t.Fatalf("played %v Hz", f)
	}
	if m := p.next(); m.Event != mediastream.EventMark || m.Mark.Name != "greeting" {
		t.Fatalf("after the audio: %+v", m)
	}
	if n := s.Read(frame); n != 0 || frame[0] != 0 {
		t.Fatalf("an empty queue reads %d samples", n)
	}
	// Barge-in: two seconds arrive (one is kept), then clear.
	for i := range 100 {
		p.send(`{"event":"media","streamSid":"` + sid + `","media":{"payload":"` + payload(tone(700, i*160, 160)) + `"}}`)
	}
	p.send(`{"event":"mark","streamSid":"` + sid + `","mark":{"name":"answer"}}`)
	waitFor(t, "one second queued", func() bool { return s.Buffered() == time.Second })
	p.send(`{"event":"clear","streamSid":"` + sid + `"}`)
	if m := p.next(); m.Event != mediastream.EventMark || m.Mark.Name != "answer" {
		t.Fatalf("after clear: %+v", m)
	}
	if n := s.Read(frame); n != 0 {
		t.Fatalf("after clear %d samples play", n)
	}
	st := s.Stats()
	if st.MediaReceived != 103 || st.Playout.Dropped != 8000 || st.Playout.Cleared != 8000 || st.Playout.Marks != 2 {
		t.Fatalf("stats %+v", st)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("no %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func waitDone(t *testing.T, s *Session) Ending {
	t.Helper()
	select {
	case <-s.Done():
		return s.Ending()
	case <-time.After(15 * time.Second):
		t.Fatal("the stream did not end")
		return Ending{}
	}
}

// hangup (Dialtone's extension) ends the stream with its reason; stop is
// sent before the socket closes.
func TestApplicationHangup(t *testing.T) {
	a := newApp(t)
	s, p := dial(t, a, outbound.Signer{}, Params{Fallback: FallbackContinue})
	p.send(`{"event":"hangup","streamSid":"` + s.StreamSID() + `","hangup":{"reason":"order confirmed"}}`)
	stop := p.until(mediastream.EventStop)
	if *stop.Stop != (mediastream.Stop{AccountSID: "1000000000000001", CallSID: "116012354148^10281378"}) {
		t.Fatalf("stop %+v", stop.Stop)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, _, err := p.c.Read(ctx); websocket.CloseStatus(err) != websocket.StatusNormalClosure {
		t.Fatalf("after stop: %v", err)
	}
	e := waitDone(t, s)
	if e.Reason != ReasonHangup || e.Detail != "order confirmed" || e.FollowsFallback() {
		t.Fatalf("ending %+v", e)
	}
	if err := s.Send(tone(440, 0, 160), 0); !errors.Is(err, ErrEnded) {
		t.Fatalf("Send after the end: %v", err)
	}
}

// The application closing its socket, or its connection failing, ends the
// stream so that the call follows its fallback.
func TestApplicationGone(t *testing.T) {
	a := newApp(t)
	s, p := dial(t, a, outbound.Signer{}, Params{Fallback: FallbackContinue})
	p.c.Close(websocket.StatusGoingAway, "agent restarting")
	e := waitDone(t, s)
	if e.Reason != ReasonClosed || !e.FollowsFallback() || !strings.Contains(e.Detail, "1001 agent restarting") || s.Fallback() != FallbackContinue {
		t.Fatalf("ending %+v", e)
	}

	s, p = dial(t, a, outbound.Signer{}, Params{})
	p.c.CloseNow()
	if e := waitDone(t, s); e.Reason != ReasonFailed || !e.FollowsFallback() {
		t.Fatalf("ending %+v", e)
	}
}

// Close (the call ended) sends what is queued, then stop, then closes.
func TestCloseSendsStop(t *testing.T) {
	a := newApp(t)
	s, p := dial(t, a, outbound.Signer{}, Params{})
	s.Send(tone(440, 0, 160), 0)
	done := make(chan error, 1)
	go func() { done <- s.Close(context.Background()) }()
	if m := p.next(); m.Event != mediastream.EventMedia {
		t.Fatalf("the queued frame: %+v", m)
	}
	if m := p.next(); m.Event != mediastream.EventStop {
		t.Fatalf("then %+v", m)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, _, err := p.c.Read(ctx); websocket.CloseStatus(err) != websocket.StatusNormalClosure {
		t.Fatalf("after stop: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if e := s.Ending(); e.Reason != ReasonStopped || e.FollowsFallback() {
		t.Fatalf("ending %+v", e)
	}

	// The Dial context ending stops the stream the same way.
	ctx2, cancel2 := context.WithCancel(context.Background())
	s, err := Dial(ctx2, client(t), meta, a.url("/"), outbound.Signer{}, Params{CallID: "C2", Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	p = a.accept(t)
	p.next() // connected
	p.next() // start
	cancel2()
	if m := p.until(mediastream.EventStop); m.Stop.CallSID != "C2" {
		t.Fatalf("stop %+v", m)
	}
	if _, _, err := p.c.Read(ctx); websocket.CloseStatus(err) != websocket.StatusNormalClosure {
		t.Fatalf("after stop: %v", err)
	}
	if e := waitDone(t, s); e.Reason != ReasonStopped {
		t.Fatalf("ending %+v", e)
	}
}

// An application that stops reading never makes Send wait: past one
// second the oldest frames are dropped and counted, and a write that
// cannot finish within the write timeout ends the stream.
func TestSlowApplication(t *testing.T) {
	a := newApp(t)
	const writeTimeout = 2 * time.Second
	s, _ := dial(t, a, outbound.Signer{}, Params{WriteTimeout: writeTimeout})
	frame := tone(440, 0, 160)
	var slowest time.Duration
	// Until loopback's socket buffers are full and the write times out.
	deadline := time.Now().Add(20 * time.Second)
	for i := 0; i < 5_000_000 && time.Now().Before(deadline); i++ {
		start := time.Now()
		err := s.Send(frame, time.Duration(i)*20*time.Millisecond)
		slowest = max(slowest, time.Since(start))
		if errors.Is(err, ErrEnded) {
			break
		}
	}
	// A Send waiting on the socket would wait for the write timeout.
	if slowest > writeTimeout/2 {
		t.Errorf("a Send took %s", slowest)
	}
	e := waitDone(t, s)
	st := s.Stats()
	if e.Reason != ReasonFailed || !e.FollowsFallback() || st.SendDrops.Frames == 0 {
		t.Fatalf("ending %+v, stats %+v", e, st)
	}
	t.Logf("slowest Send %s; written %d frames, dropped %d (%s); ended: %s", slowest, st.FramesSent, st.SendDrops.Frames, st.SendDrops.Audio, e.Detail)
}

// Messages outside the protocol are refused and counted; the stream goes
// on. A fork ignores what the application sends.
func TestRefusedAndIgnored(t *testing.T) {
	a := newApp(t)
	s, p := dial(t, a, outbound.Signer{}, Params{})
	sid := s.StreamSID()
	p.send(`{"event":"transcript","streamSid":"` + sid + `"}`)
	p.send(`{"event":"clear","streamSid":"MZother"}`)
	p.c.Write(context.Background(), websocket.MessageBinary, []byte{1, 2, 3})
	p.send(`{"event":"media","streamSid":"` + sid + `","media":{"payload":"` + payload(tone(700, 0, 160)) + `"}}`)
	waitFor(t, "the media after the refused messages", func() bool { return s.Stats().MediaReceived == 1 })
	if st := s.Stats(); st.Invalid != 3 {
		t.Fatalf("invalid %d", st.Invalid)
	}

	f, fp := dial(t, a, outbound.Signer{}, Params{ListenOnly: true})
	fsid := f.StreamSID()
	fp.send(`{"event":"media","streamSid":"` + fsid + `","media":{"payload":"` + payload(tone(700, 0, 160)) + `"}}`)
	fp.send(`{"event":"hangup","streamSid":"` + fsid + `"}`)
	waitFor(t, "ignored messages", func() bool { return f.Stats().Ignored == 2 })
	frame := make([]int16, FrameSamples)
	if n := f.Read(frame); n != 0 {
		t.Fatalf("a fork played %d samples", n)
	}
	select {
	case <-f.Done():
		t.Fatal("a fork's application hung up the call")
	case <-time.After(50 * time.Millisecond):
	}
}

func TestParseParams(t *testing.T) {
	custom, fb, err := ParseParams([]byte(`{"fallback":"continue","order":"A-1","retries":3,"vip":true,"none":null}`))
	if err != nil || fb != FallbackContinue || !reflect.DeepEqual(custom, map[string]string{"order": "A-1", "retries": "3", "vip": "true"}) {
		t.Fatalf("%v %q %v", custom, fb, err)
	}
	if custom, fb, err := ParseParams(nil); err != nil || fb != FallbackHangup || custom != nil {
		t.Fatalf("none: %v %q %v", custom, fb, err)
	}
	for _, bad := range []string{`{"fallback":"transfer"}`, `{"x":{"y":1}}`, `[1]`, `"x"`, `{"x":[1]}`,
		`{` + strings.Repeat(`"k`+fmt.Sprint(0)+`":"v",`, 1) + `"` + strings.Repeat("k", 200) + `":"v"}`} {
		if _, _, err := ParseParams([]byte(bad)); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
	big := bytes.Repeat([]byte("x"), mediastream.MaxParameterBytes+1)
	if _, _, err := ParseParams([]byte(`{"k":"` + string(big) + `"}`)); err == nil {
		t.Error("a value over the limit accepted")
	}
}
