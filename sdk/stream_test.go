package sdk_test

// The SDK's stream handler against Dialtone's own side of a stream
// (package stream, which dials through the outbound egress policy): two
// implementations of the wire meeting on loopback.

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone/media"
	"github.com/dialtone-voice/dialtone/outbound"
	"github.com/dialtone-voice/dialtone/sdk"
	"github.com/dialtone-voice/dialtone/stream"
)

var quiet = slog.New(slog.DiscardHandler)

func streamClient(t *testing.T) *outbound.Client {
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

// serveStream runs an application with the SDK's handler on loopback.
func serveStream(t *testing.T, cfg sdk.StreamConfig, serve func(ctx context.Context, s *sdk.Stream) error) string {
	t.Helper()
	cfg.Logger = quiet
	srv := httptest.NewServer(sdk.StreamHandler(cfg, serve))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http") + "/agent?lang=zh"
}

func dialStream(t *testing.T, url string, signer outbound.Signer, p stream.Params) (*stream.Session, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	if p.CallID == "" {
		p.CallID = "116012354148^10281378"
	}
	p.Logger = quiet
	s, err := stream.Dial(ctx, streamClient(t), outbound.Meta{Account: "4000000000000077"}, url, signer, p)
	if err == nil {
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			s.Close(ctx)
		})
	}
	return s, err
}

func sine(freq float64, off, n int) []int16 {
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(8000 * math.Sin(2*math.Pi*freq*float64(off+i)/8000))
	}
	return out
}

func power(pcm []int16, f float64) float64 {
	w := 2 * math.Pi * f / 8000
	c := 2 * math.Cos(w)
	var s1, s2 float64
	for _, x := range pcm {
		s0 := float64(x) + c*s1 - s2
		s2, s1 = s1, s0
	}
	return s1*s1 + s2*s2 - c*s1*s2
}

// An echo application: what the call says comes back, played at the
// call's pace; start tells the application who is calling.
func TestStreamHandlerEcho(t *testing.T) {
	starts := make(chan sdk.StreamStart, 1)
	stops := make(chan *sdk.StreamStop, 1)
	url := serveStream(t, sdk.StreamConfig{Secrets: []string{"stream-secret"}}, func(ctx context.Context, s *sdk.Stream) error {
		starts <- s.Start()
		for {
			ev, err := s.Next(ctx)
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			switch ev := ev.(type) {
			case *sdk.StreamMedia:
				if err := s.WriteAudio(ctx, ev.PCM()); err != nil {
					return err
				}
			case *sdk.StreamStop:
				stops <- ev
			}
		}
	})
	call, err := dialStream(t, url, outbound.Signer{Secret: "stream-secret"}, stream.Params{Custom: map[string]string{"order": "A-1001"}})
	if err != nil {
		t.Fatal(err)
	}
	st := <-starts
	if st.CallSID != "116012354148^10281378" || st.AccountSID != "4000000000000077" || st.StreamSID != call.StreamSID() ||
		st.CustomParameters["order"] != "A-1001" || st.Encoding != "audio/x-mulaw" || len(st.Tracks) != 1 || st.Tracks[0] != "inbound" {
		t.Fatalf("start %+v", st)
	}
	// One second of 440 Hz, paced like a call; what comes back is read
	// at the same pace.
	var heard []int16
	frame := make([]int16, stream.FrameSamples)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for i := 0; i < 100; i++ {
		<-tick.C
		if i < 50 {
			call.Send(sine(440, i*160, 160), time.Duration(i)*20*time.Millisecond)
		}
		if n := call.Read(frame); n > 0 {
			heard = append(heard, frame[:n]...)
		}
	}
	if len(heard) < 40*160 {
		t.Fatalf("heard %d samples of the echo", len(heard))
	}
	if p440, p1k := power(heard, 440), power(heard, 1000); p440 < 100*p1k {
		t.Fatalf("the echo is not the 440 Hz tone: %g vs %g at 1 kHz", p440, p1k)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := call.Close(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case stop := <-stops:
		if stop.CallSID != st.CallSID {
			t.Fatalf("stop %+v", stop)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the application saw no stop")
	}
}

// The upgrade's signature: unsigned, wrongly signed and stale upgrades are
// refused; during a rotation either secret verifies.
func TestStreamHandlerSignature(t *testing.T) {
	ok := func(ctx context.Context, s *sdk.Stream) error {
		_, err := s.Next(ctx)
		return err
	}
	url := serveStream(t, sdk.StreamConfig{Secrets: []string{"new-secret", "old-secret"}}, ok)
	for _, c := range []struct {
		signer outbound.Signer
		now    time.Time
		want   bool
	}{
		{outbound.Signer{}, time.Now(), false},
		{outbound.Signer{Secret: "guess"}, time.Now(), false},
		{outbound.Signer{Secret: "new-secret"}, time.Now().Add(-10 * time.Minute), false},
		{outbound.Signer{Secret: "new-secret"}, time.Now(), true},
		{outbound.Signer{Secret: "old-secret"}, time.Now(), true},
		{outbound.Signer{Secret: "old-secret"}.Rotate("newest", time.Now(), time.Hour), time.Now(), true},
	} {
		now := c.now
		_, err := dialStream(t, url, c.signer, stream.Params{Now: func() time.Time { return now }})
		if (err == nil) != c.want {
			t.Errorf("signer %v at %s: %v", c.signer, now.Format(time.TimeOnly), err)
		}
		if err != nil && !strings.Contains(err.Error(), "401") {
			t.Errorf("refused without 401: %v", err)
		}
	}
}

// Behind a proxy the handler verifies against its public URL.
func TestStreamURL(t *testing.T) {
	h := sdk.StreamHandler(sdk.StreamConfig{Secrets: []string{"s"}, PublicURL: "wss://agent.example.com/", Logger: quiet},
		func(context.Context, *sdk.Stream) error { return nil })
	for _, c := range []struct {
		signed string
		want   int
	}{
		{"wss://agent.example.com/agent?lang=zh", http.StatusUpgradeRequired}, // verified; not a WebSocket request
		{"ws://127.0.0.1:8080/agent?lang=zh", http.StatusUnauthorized},
	} {
		r := httptest.NewRequest(http.MethodGet, "http://127.0.0.1:8080/agent?lang=zh", nil)
		r.Header.Set("X-Dialtone-Signature", outbound.Sign("s", time.Now(), []byte(c.signed)))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != c.want {
			t.Errorf("signed %s: %d %s", c.signed, w.Code, w.Body)
		}
	}
	r := httptest.NewRequest(http.MethodGet, "http://agent.internal/s?x=1", nil)
	r.Header.Set("X-Forwarded-Proto", "https")
	if got := sdk.StreamURL(r, ""); got != "wss://agent.internal/s?x=1" {
		t.Errorf("StreamURL %s", got)
	}
}

// Marks come back when their audio has played; clear drops the rest and
// echoes the pending marks; hangup ends the call with its reason.
func TestStreamHandlerMarkClearHangup(t *testing.T) {
	events := make(chan string, 16)
	url := serveStream(t, sdk.StreamConfig{}, func(ctx context.Context, s *sdk.Stream) error {
		// 300 ms of 700 Hz and a mark, then three seconds more (paced:
		// the writer waits within its lead) and a second mark.
		if err := s.WriteAudio(ctx, sine(700, 0, 2400)); err != nil {
			return err
		}
		s.Mark(ctx, "short")
		go func() {
			s.WriteAudio(ctx, sine(700, 0, 24000))
			s.Mark(ctx, "long")
		}()
		for {
			ev, err := s.Next(ctx)
			if err != nil {
				if err == io.EOF {
					return nil
				}
				return err
			}
			switch ev := ev.(type) {
			case *sdk.StreamMark:
				events <- "mark " + ev.Name
			case *sdk.StreamDTMF:
				events <- "dtmf " + ev.Digit
				switch ev.Digit {
				case "1":
					s.Clear(ctx)
				case "#":
					s.Hangup(ctx, "caller done")
				}
			case *sdk.StreamStop:
				events <- "stop"
			}
		}
	})
	call, err := dialStream(t, url, outbound.Signer{}, stream.Params{})
	if err != nil {
		t.Fatal(err)
	}
	expect := func(want string) {
		t.Helper()
		select {
		case got := <-events:
			if got != want {
				t.Fatalf("event %q, want %q", got, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no %q", want)
		}
	}
	// The call's pacer plays 20 ms a tick until the call ends.
	var played atomic.Int64
	go func() {
		frame := make([]int16, stream.FrameSamples)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				played.Add(int64(call.Read(frame)))
			case <-call.Done():
				return
			}
		}
	}()
	expect("mark short")
	// The mark is echoed during the Read that plays its last frame, which
	// may not have been counted yet: one frame short is the same moment.
	if n := played.Load(); n < 2400-stream.FrameSamples {
		t.Errorf("the short mark came back after %d samples played", n)
	}
	if q := call.Buffered(); q > 700*time.Millisecond {
		t.Errorf("the writer ran %s ahead despite its lead", q)
	}
	call.DTMF("1")
	expect("dtmf 1")
	expect("mark long")
	call.DTMF("#")
	expect("dtmf #")
	expect("stop")
	select {
	case <-call.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the stream did not end")
	}
	if e := call.Ending(); e.Reason != stream.ReasonHangup || e.Detail != "caller done" {
		t.Fatalf("ending %+v", e)
	}
	if st := call.Stats(); st.Playout.Dropped != 0 || st.Playout.Cleared == 0 {
		t.Fatalf("playout %+v", st.Playout)
	}
}

// The SDK's G.711 is the ITU law Dialtone's media package implements.
func TestMuLawMatchesMedia(t *testing.T) {
	pcm := make([]int16, 65536)
	for i := range pcm {
		pcm[i] = int16(uint16(i))
	}
	if got, want := sdk.EncodeMuLaw(pcm), media.EncodeMuLaw(pcm); string(got) != string(want) {
		t.Fatal("µ-law encoding differs from package media")
	}
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	got, want := sdk.DecodeMuLaw(all), media.DecodeMuLaw(all)
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("µ-law byte %#x decodes to %d, media says %d", i, got[i], want[i])
		}
	}
}

// A handler error closes the socket with 1011 and its text: the call
// follows its fallback.
func TestStreamHandlerError(t *testing.T) {
	url := serveStream(t, sdk.StreamConfig{}, func(ctx context.Context, s *sdk.Stream) error {
		return errors.New("recogniser unavailable")
	})
	call, err := dialStream(t, url, outbound.Signer{}, stream.Params{Fallback: stream.FallbackContinue})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-call.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the stream did not end")
	}
	if e := call.Ending(); e.Reason != stream.ReasonClosed || !strings.Contains(e.Detail, "1011 recogniser unavailable") || !e.FollowsFallback() {
		t.Fatalf("ending %+v", e)
	}
}
