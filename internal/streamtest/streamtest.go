// Package streamtest is a media stream application for tests and
// benchmarks: a real WebSocket server on loopback, built on the SDK's
// StreamHandler, that records what each stream brings (the start, every
// media frame with the time it arrived, keys, marks, the stop) and runs a
// script of the test's beside it, or echoes what it hears.
package streamtest

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/dialtone-voice/dialtone/sdk"
)

// Media is one media message the application received.
type Media struct {
	At        time.Time // when it arrived
	Track     string
	Timestamp time.Duration // its media.timestamp
	PCM       []int16
}

// Session is what one stream brought.
type Session struct {
	Start sdk.StreamStart
	// Stream is the SDK's stream, for the script to write to.
	Stream *sdk.Stream

	mu      sync.Mutex
	media   []Media
	dtmf    []string
	marks   []string
	stopped bool
	changed chan struct{} // closed and replaced at each change
	done    chan struct{} // closed when the handler returned
	cancel  context.CancelFunc
}

// Close ends the stream from the application's side: the handler returns
// and the socket closes.
func (s *Session) Close() { s.cancel() }

// App is the application.
type App struct {
	*httptest.Server
	// URL is the stream URL to give Dialtone: ws://127.0.0.1:port/stream.
	URL string

	cfg Config

	mu       sync.Mutex
	sessions []*Session
	added    chan struct{}
	conns    map[net.Conn]bool // hijacked: the WebSockets
}

// Config says what the application does.
type Config struct {
	// Secrets verify the upgrade's signature (none: unsigned accepted).
	Secrets []string
	// Lead is the SDK writer's pacing (sdk.StreamConfig.Lead); -1: none.
	Lead time.Duration
	// Echo writes every inbound frame back at once.
	Echo bool
	// Script runs beside the reader for each stream; the stream ends
	// when the socket does (Script's return does not end it).
	Script func(ctx context.Context, s *Session)
	// Keep bounds the media messages kept per session (0: all).
	Keep int
	// Logger: default discards.
	Logger *slog.Logger
}

// Start serves the application on loopback until Close.
func Start(cfg Config) *App {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	a := &App{cfg: cfg, added: make(chan struct{}), conns: map[net.Conn]bool{}}
	h := sdk.StreamHandler(sdk.StreamConfig{Secrets: cfg.Secrets, Lead: cfg.Lead, Logger: cfg.Logger}, a.serve)
	a.Server = httptest.NewUnstartedServer(h)
	a.Server.Config.ConnState = func(c net.Conn, st http.ConnState) {
		if st == http.StateHijacked {
			a.mu.Lock()
			a.conns[c] = true
			a.mu.Unlock()
		}
	}
	a.Server.Start()
	a.URL = "ws" + strings.TrimPrefix(a.Server.URL, "http") + "/stream"
	return a
}

func (a *App) serve(ctx context.Context, s *sdk.Stream) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sess := &Session{Start: s.Start(), Stream: s, changed: make(chan struct{}), done: make(chan struct{}), cancel: cancel}
	defer close(sess.done)
	a.mu.Lock()
	a.sessions = append(a.sessions, sess)
	close(a.added)
	a.added = make(chan struct{})
	a.mu.Unlock()
	if a.cfg.Script != nil {
		go a.cfg.Script(ctx, sess)
	}
	for {
		ev, err := s.Next(ctx)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return nil // the connection went; nothing to report
		}
		switch ev := ev.(type) {
		case *sdk.StreamMedia:
			if a.cfg.Echo {
				if err := s.WriteMuLaw(ctx, ev.Payload); err != nil {
					return nil
				}
			}
			m := Media{At: time.Now(), Track: ev.Track, Timestamp: ev.Timestamp, PCM: ev.PCM()}
			sess.update(func() {
				if a.cfg.Keep <= 0 || len(sess.media) < a.cfg.Keep {
					sess.media = append(sess.media, m)
				}
			})
		case *sdk.StreamDTMF:
			sess.update(func() { sess.dtmf = append(sess.dtmf, ev.Digit) })
		case *sdk.StreamMark:
			sess.update(func() { sess.marks = append(sess.marks, ev.Name) })
		case *sdk.StreamStop:
			sess.update(func() { sess.stopped = true })
		}
	}
}

func (s *Session) update(f func()) {
	s.mu.Lock()
	f()
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
}

// Wait waits until cond holds of the session (checked at each change) or
// the timeout passes; it reports whether cond held.
func (s *Session) Wait(timeout time.Duration, cond func(s *Session) bool) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		ch := s.changed
		s.mu.Unlock()
		if cond(s) {
			return true
		}
		select {
		case <-ch:
		case <-deadline.C:
			return cond(s)
		}
	}
}

// Done is closed when the stream's handler has returned.
func (s *Session) Done() <-chan struct{} { return s.done }

// Media returns the media messages so far.
func (s *Session) Media() []Media {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Media(nil), s.media...)
}

// PCM is the audio of track so far, end to end.
func (s *Session) PCM(track string) []int16 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []int16
	for _, m := range s.media {
		if m.Track == track {
			out = append(out, m.PCM...)
		}
	}
	return out
}

// DTMF returns the keys so far.
func (s *Session) DTMF() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.dtmf...)
}

// Marks returns the marks echoed so far.
func (s *Session) Marks() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.marks...)
}

// Stopped reports whether stop arrived.
func (s *Session) Stopped() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopped
}

// Sessions returns the streams so far.
func (a *App) Sessions() []*Session {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]*Session(nil), a.sessions...)
}

// WaitSession waits for the n-th stream (from 1), or nil after timeout.
func (a *App) WaitSession(n int, timeout time.Duration) *Session {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		a.mu.Lock()
		if len(a.sessions) >= n {
			s := a.sessions[n-1]
			a.mu.Unlock()
			return s
		}
		ch := a.added
		a.mu.Unlock()
		select {
		case <-ch:
		case <-deadline.C:
			return nil
		}
	}
}

// Kill drops every connection at once, as a crashed application would
// (the WebSockets too, which the HTTP server no longer tracks).
func (a *App) Kill() {
	a.mu.Lock()
	for c := range a.conns {
		_ = c.Close()
	}
	a.mu.Unlock()
	a.Server.CloseClientConnections()
}

// Loud reports whether pcm holds audio above level (RMS).
func Loud(pcm []int16, level float64) bool {
	var sum float64
	for _, v := range pcm {
		sum += float64(v) * float64(v)
	}
	return len(pcm) > 0 && sum/float64(len(pcm)) >= level*level
}

// BestMatch is the highest normalised cross-correlation of ref against
// got over every lag (1: ref is in got as it is, at any level).
func BestMatch(got, ref []int16) float64 {
	if len(ref) == 0 || len(got) < len(ref) {
		return 0
	}
	var rr float64
	for _, v := range ref {
		rr += float64(v) * float64(v)
	}
	// The running energy of the window of got.
	var gg float64
	for _, v := range got[:len(ref)] {
		gg += float64(v) * float64(v)
	}
	best := 0.0
	for lag := 0; lag+len(ref) <= len(got); lag++ {
		if lag > 0 {
			out, in := float64(got[lag-1]), float64(got[lag+len(ref)-1])
			gg += in*in - out*out
		}
		if gg <= 0 {
			continue
		}
		var gr float64
		w := got[lag : lag+len(ref)]
		for i, v := range ref {
			gr += float64(w[i]) * float64(v)
		}
		if c := gr / sqrt(gg*rr); c > best {
			best = c
		}
	}
	return best
}

func sqrt(x float64) float64 { return math.Sqrt(x) }

// ChunkMatch is the share of ref's loud 100 ms chunks that are in got as
// they are (normalised cross-correlation at least min), each looked for
// within 200 ms of where ref as a whole lies in got by its loudness
// envelope. Where BestMatch needs all of ref in one piece, a few chunks
// lost or shifted by late packets on a loaded machine leave the others
// found; and it costs a small fraction of BestMatch's full search.
func ChunkMatch(got, ref []int16, min float64) float64 {
	const block, chunk, slack = 80, 800, 1600 // 10 ms, 100 ms, 200 ms
	if len(ref) < chunk || len(got) < len(ref) {
		return 0
	}
	envelope := func(x []int16) []float64 {
		e := make([]float64, len(x)/block)
		for i := range e {
			var sum float64
			for _, v := range x[i*block : (i+1)*block] {
				sum += float64(v) * float64(v)
			}
			e[i] = sqrt(sum / block)
		}
		return e
	}
	eg, er := envelope(got), envelope(ref)
	lag, best := 0, -1.0
	for l := 0; l+len(er) <= len(eg); l++ {
		if c := correlation(eg[l:l+len(er)], er); c > best {
			lag, best = l*block, c
		}
	}
	loud, found := 0, 0
	for at := 0; at+chunk <= len(ref); at += chunk {
		c := ref[at : at+chunk]
		if !Loud(c, 300) {
			continue
		}
		loud++
		for l := max(0, lag+at-slack); l <= lag+at+slack && l+chunk <= len(got); l++ {
			if correlation16(got[l:l+chunk], c) >= min {
				found++
				break
			}
		}
	}
	if loud == 0 {
		return 0
	}
	return float64(found) / float64(loud)
}

// correlation is the normalised cross-correlation of a and b (same length).
func correlation(a, b []float64) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += a[i] * b[i]
		aa += a[i] * a[i]
		bb += b[i] * b[i]
	}
	if aa == 0 || bb == 0 {
		return 0
	}
	return ab / sqrt(aa*bb)
}

func correlation16(a, b []int16) float64 {
	var ab, aa, bb float64
	for i := range a {
		x, y := float64(a[i]), float64(b[i])
		ab += x * y
		aa += x * x
		bb += y * y
	}
	if aa == 0 || bb == 0 {
		return 0
	}
	return ab / sqrt(aa*bb)
}
