package stream

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/media"
	"github.com/dialtone-voice/dialtone/mediastream"
	"github.com/dialtone-voice/dialtone/outbound"
)

// FrameSamples is one 20 ms frame of 8 kHz PCM: what Send takes and Read
// fills.
const FrameSamples = mediastream.FrameBytes

// Params describe a stream: what its start message says and how the
// session behaves.
type Params struct {
	// CallID is the call's CallId (start.callSid); required.
	CallID string
	// Account is start.accountSid; the outbound Meta's Account when "".
	Account string
	// StreamSID is the stream's identifier; "" makes one ("MZ" and 32
	// hex digits, as Twilio's look).
	StreamSID string
	// Tracks are the tracks streamed; inbound (the callee's audio) when
	// empty. A click-to-dial fork streams both parties as two tracks.
	Tracks []mediastream.Track
	// Custom are start.customParameters (ParseParams).
	Custom map[string]string
	// Fallback is what the call does when the stream ends without the
	// application's hangup; the engine reads it back from the session.
	Fallback Fallback
	// ListenOnly makes a fork: what the application sends is ignored
	// (and counted).
	ListenOnly bool
	// BufferLimit bounds the audio queued each way; default one second.
	BufferLimit time.Duration
	// WriteTimeout bounds one message's write: a socket that takes
	// longer has failed; default 5 s.
	WriteTimeout time.Duration
	// Now is the signature's clock (wall time); default time.Now.
	Now func() time.Time
	// Logger receives the stream's lines; default slog.Default.
	Logger *slog.Logger
}

// Reason says why a stream ended.
type Reason string

const (
	// ReasonStopped: Dialtone ended it (Close, or the Dial context
	// ended): the call ended or moved on. stop was sent.
	ReasonStopped Reason = "stopped"
	// ReasonHangup: the application's hangup event. stop was sent.
	ReasonHangup Reason = "hangup"
	// ReasonClosed: the application closed the socket.
	ReasonClosed Reason = "closed"
	// ReasonFailed: the connection failed (network error, a write that
	// timed out).
	ReasonFailed Reason = "failed"
)

// Ending is how a stream ended.
type Ending struct {
	Reason Reason
	// Detail is the hangup's reason, the close frame's status and
	// reason, or the failure.
	Detail string
	Err    error
	At     time.Time
}

// FollowsFallback reports whether the call follows its fallback: the
// stream ended without the application's hangup and without Dialtone
// ending it.
func (e Ending) FollowsFallback() bool {
	return e.Reason == ReasonClosed || e.Reason == ReasonFailed
}

// Stats count a stream's traffic, for the call's detail and the
// VoiceReport.
type Stats struct {
	Started  time.Time
	Duration time.Duration // until the end, or until now while it runs
	// FramesSent are the media messages written to the socket.
	FramesSent int64
	// SendDrops are the call's frames dropped before the socket took
	// them (the application fell behind).
	SendDrops mediastream.SendDrops
	// MediaReceived are the application's accepted media messages.
	MediaReceived int64
	// Playout counts the application's audio (bytes, 8000 a second):
	// queued, played, dropped (more than one second ahead), cleared.
	Playout  mediastream.PlayoutStats
	DTMFSent int64
	// Invalid are the application's messages refused (not the
	// protocol, another streamSid, binary); Ignored, those a listen-only
	// fork ignored.
	Invalid, Ignored int64
}

// Errors of Send and DTMF.
var (
	ErrEnded = errors.New("stream: the stream has ended")
	ErrTrack = errors.New("stream: not a track of this stream")
)

// outItem is one message waiting for the socket: a frame of audio or an
// event (encoded when written, so that it is numbered in sending order).
type outItem struct {
	track mediastream.Track
	at    time.Duration
	audio []byte // µ-law; nil for an event
	msg   *mediastream.Message
	last  bool // stop: close after it
}

// Session is one open stream. Its methods are safe for concurrent use.
type Session struct {
	conn    *websocket.Conn
	p       Params
	log     *slog.Logger
	counter mediastream.Counters
	out     *mediastream.SendBuffer[outItem]
	play    *mediastream.Playout
	started time.Time

	ended     atomic.Bool
	endOnce   sync.Once
	ending    Ending
	stopQueue chan struct{} // closed when stop is queued: the writer finishes
	done      chan struct{}
	cancel    context.CancelFunc
	stopAfter func() bool

	readMu  sync.Mutex // Read's scratch buffer
	readBuf []byte

	freeMu sync.Mutex // µ-law buffers the writer has sent, for Send
	free   [][]byte

	sent, received, dtmf, invalid, ignored atomic.Int64
	endedAt                                atomic.Int64 // unix nanoseconds
}

// SignedString is what the upgrade's signature covers for the URL u, as
// dialled: scheme://host[:port]<request target> (see the package doc).
func SignedString(u *url.URL) string {
	return u.Scheme + "://" + u.Host + u.RequestURI()
}

// Dial opens a stream to rawURL for a call: the URL is checked by the
// client's egress policy (Trust in m says who set it), the upgrade is
// signed with signer (none when it has no secret), and connected and start
// are sent before Dial returns. ctx bounds the handshake; when it ends
// later, the stream is stopped as by Close.
func Dial(ctx context.Context, c *outbound.Client, m outbound.Meta, rawURL string, signer outbound.Signer, p Params) (*Session, error) {
	if p.CallID == "" {
		return nil, errors.New("stream: Params.CallID is required")
	}
	if p.Account == "" {
		p.Account = m.Account
	}
	if len(p.Tracks) == 0 {
		p.Tracks = []mediastream.Track{mediastream.TrackInbound}
	}
	if p.Fallback == "" {
		p.Fallback = FallbackHangup
	}
	if p.BufferLimit <= 0 {
		p.BufferLimit = mediastream.BufferLimit
	}
	if p.WriteTimeout <= 0 {
		p.WriteTimeout = 5 * time.Second
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	if p.Logger == nil {
		p.Logger = slog.Default()
	}
	if p.StreamSID == "" {
		var b [16]byte
		rand.Read(b[:])
		p.StreamSID = "MZ" + hex.EncodeToString(b[:])
	}
	if m.Purpose == "" {
		m.Purpose = outbound.PurposeStream
	}
	start := &mediastream.Message{Event: mediastream.EventStart, SequenceNumber: 1, StreamSID: p.StreamSID, Start: &mediastream.Start{
		StreamSID: p.StreamSID, AccountSID: p.Account, CallSID: p.CallID, Tracks: p.Tracks,
		CustomParameters: p.Custom, MediaFormat: mediastream.TelephonyFormat,
	}}
	startMsg, err := mediastream.Encode(start, mediastream.FromDialtone)
	if err != nil {
		return nil, fmt.Errorf("stream: start: %w", err)
	}
	u, err := c.Policy().CheckStreamURL(rawURL, m.Trust)
	if err != nil {
		return nil, err
	}
	hdr := http.Header{}
	if sig := signer.Sign(p.Now(), []byte(SignedString(u))); sig != "" {
		hdr.Set(outbound.SignatureHeader, sig)
	}
	conn, err := c.DialStream(ctx, m, u.String(), &outbound.StreamOptions{Header: hdr})
	if err != nil {
		return nil, err
	}
	// The largest message an application may send, and a little room.
	conn.SetReadLimit(mediastream.MaxMessageBytes + 1024)
	s := &Session{
		conn:      conn,
		p:         p,
		log:       p.Logger.With("call_id", p.CallID, "stream_sid", p.StreamSID, "account", p.Account, "host", u.Hostname()),
		out:       mediastream.NewSendBuffer[outItem](p.BufferLimit*time.Duration(len(p.Tracks)), 0),
		play:      mediastream.NewPlayout(int(int64(p.BufferLimit)*mediastream.SampleRate/int64(time.Second)), 0),
		started:   time.Now(),
		stopQueue: make(chan struct{}),
		done:      make(chan struct{}),
	}
	s.counter.Next() // start is 1
	connected, _ := mediastream.Encode(&mediastream.Message{Event: mediastream.EventConnected,
		Connected: &mediastream.Connected{Protocol: mediastream.Protocol, Version: mediastream.Version}}, mediastream.FromDialtone)
	for _, msg := range [][]byte{connected, startMsg} {
		wctx, cancel := context.WithTimeout(ctx, p.WriteTimeout)
		err := conn.Write(wctx, websocket.MessageText, msg)
		cancel()
		if err != nil {
			conn.CloseNow()
			return nil, fmt.Errorf("stream: %s: %w", u.Hostname(), err)
		}
	}
	sctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.stopAfter = context.AfterFunc(ctx, func() { s.end(ReasonStopped, "the call's context ended", context.Cause(ctx)) })
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); s.writeLoop(sctx) }()
	go func() { defer wg.Done(); s.readLoop(sctx) }()
	go func() {
		wg.Wait()
		cancel()
		s.stopAfter()
		s.endedAt.Store(time.Now().UnixNano())
		st := s.Stats()
		s.log.Info("stream ended", "reason", s.ending.Reason, "detail", s.ending.Detail,
			"duration", st.Duration.Round(time.Millisecond), "frames_sent", st.FramesSent, "send_drops", st.SendDrops.Frames,
			"media_received", st.MediaReceived, "playout_drops", st.Playout.Dropped, "invalid", st.Invalid)
		close(s.done)
	}()
	s.log.Info("stream started", "tracks", p.Tracks, "listen_only", p.ListenOnly)
	return s, nil
}

// StreamSID is the stream's streamSid.
func (s *Session) StreamSID() string { return s.p.StreamSID }

// Fallback is the stream's fallback.
func (s *Session) Fallback() Fallback { return s.p.Fallback }

// Send queues one frame of the inbound track's audio (8 kHz PCM; 20 ms,
// FrameSamples, is what the engine sends), whose first sample is at at
// from the stream's start. It never blocks; past the buffer the oldest
// frame is dropped and counted.
func (s *Session) Send(frame []int16, at time.Duration) error {
	return s.SendTrack(mediastream.TrackInbound, frame, at)
}

// SendTrack is Send for either track of a stream with two.
func (s *Session) SendTrack(t mediastream.Track, frame []int16, at time.Duration) error {
	if s.ended.Load() {
		return ErrEnded
	}
	if !slices.Contains(s.p.Tracks, t) {
		return fmt.Errorf("%w: %q", ErrTrack, t)
	}
	if len(frame) == 0 || len(frame) > mediastream.MaxPayloadBytes {
		return fmt.Errorf("stream: a frame of %d samples", len(frame))
	}
	audio := media.AppendMuLaw(s.getAudio(len(frame)), frame)
	d := time.Duration(len(frame)) * time.Second / mediastream.SampleRate
	s.out.Push(outItem{track: t, at: at, audio: audio}, d)
	return nil
}

// getAudio returns an empty buffer of at least n bytes' capacity: one the
// writer has finished with, or a new one. Fifty frames a second per
// stream need not each be a new allocation.
func (s *Session) getAudio(n int) []byte {
	s.freeMu.Lock()
	if k := len(s.free); k > 0 {
		b := s.free[k-1]
		s.free[k-1] = nil
		s.free = s.free[:k-1]
		s.freeMu.Unlock()
		if cap(b) >= n {
			return b[:0]
		}
	} else {
		s.freeMu.Unlock()
	}
	return make([]byte, 0, max(n, FrameSamples))
}

// maxFree bounds the buffers kept for Send; frames dropped from a full
// queue are left to the collector.
const maxFree = 8

// putAudio gives back a buffer the writer no longer needs.
func (s *Session) putAudio(b []byte) {
	s.freeMu.Lock()
	if len(s.free) < maxFree {
		s.free = append(s.free, b)
	}
	s.freeMu.Unlock()
}

// DTMF sends a key pressed by the call's party (0-9, *, #, A-D).
func (s *Session) DTMF(digit string) error {
	if s.ended.Load() {
		return ErrEnded
	}
	m := &mediastream.Message{Event: mediastream.EventDTMF, DTMF: &mediastream.DTMF{Track: mediastream.DTMFTrack, Digit: digit}}
	// Checked now, numbered when written.
	check := *m
	check.SequenceNumber, check.StreamSID = 1, s.p.StreamSID
	if err := check.Validate(mediastream.FromDialtone); err != nil {
		return err
	}
	s.dtmf.Add(1)
	s.out.Push(outItem{msg: m}, 0)
	return nil
}

// Read fills frame with the application's next audio, converted to 8 kHz
// PCM, and returns how many samples were audio; the rest of frame is
// silence. The call's pacer calls it once a frame; marks whose audio has
// now been played are echoed.
func (s *Session) Read(frame []int16) int {
	if s.p.ListenOnly {
		clear(frame)
		return 0
	}
	s.readMu.Lock()
	if cap(s.readBuf) < len(frame) {
		s.readBuf = make([]byte, len(frame))
	}
	buf := s.readBuf[:len(frame)]
	n, due := s.play.Read(buf)
	media.AppendDecodeMuLaw(frame[:0], buf[:n]) // into frame: n <= len(frame)
	s.readMu.Unlock()
	clear(frame[n:])
	s.echo(due)
	return n
}

// Skip tells the session that the call's sender moved on by samples
// without reading (dialtone.PCMSkipper): for the application's real-time
// audio those slots went short, as for a Read that found nothing
// (mediastream.Playout).
func (s *Session) Skip(samples int) {
	if !s.p.ListenOnly {
		s.play.Skip(samples)
	}
}

// Phase says how early the audio of the last Read had come
// (dialtone.PCMPhaser), so that the call's pacer can follow the
// application's phase.
func (s *Session) Phase() (lead time.Duration, measured, late bool) {
	if s.p.ListenOnly {
		return 0, false, false
	}
	ph := s.play.Phase()
	return ph.Lead, ph.Measured, ph.Late
}

var (
	_ dialtone.PCMSkipper = (*Session)(nil)
	_ dialtone.PCMPhaser  = (*Session)(nil)
)

// Buffered is the application's audio waiting to be played.
func (s *Session) Buffered() time.Duration {
	return time.Duration(s.play.Buffered()) * time.Second / mediastream.SampleRate
}

// Done is closed when the stream has ended and its goroutines are gone.
func (s *Session) Done() <-chan struct{} { return s.done }

// Ending says how the stream ended; valid once Done is closed.
func (s *Session) Ending() Ending {
	<-s.done
	return s.ending
}

// Close ends the stream from Dialtone's side: what is queued is sent,
// then stop, then the socket is closed. It waits for the end until ctx
// ends, then drops the connection (a close handshake still waiting for
// the peer finishes on its own within 5 s).
func (s *Session) Close(ctx context.Context) error {
	s.end(ReasonStopped, "", nil)
	select {
	case <-s.done:
		return nil
	case <-ctx.Done():
		s.cancel()
		// CloseNow waits for a close handshake in progress (up to 5 s
		// for a peer that never answers): it runs on its own, and the
		// loops, whose context is cancelled, end at once.
		go s.conn.CloseNow()
		<-s.done
		return ctx.Err()
	}
}

// Stats returns the counts so far.
func (s *Session) Stats() Stats {
	st := Stats{
		Started:       s.started,
		FramesSent:    s.sent.Load(),
		SendDrops:     s.out.Drops(),
		MediaReceived: s.received.Load(),
		Playout:       s.play.Stats(),
		DTMFSent:      s.dtmf.Load(),
		Invalid:       s.invalid.Load(),
		Ignored:       s.ignored.Load(),
	}
	end := time.Now()
	if n := s.endedAt.Load(); n != 0 {
		end = time.Unix(0, n)
	}
	st.Duration = end.Sub(s.started)
	return st
}

// end records how the stream ended, once. Dialtone's stop and the
// application's hangup end it politely (stop, then a close frame); the
// others drop the connection.
func (s *Session) end(r Reason, detail string, err error) {
	s.endOnce.Do(func() {
		s.ending = Ending{Reason: r, Detail: detail, Err: err, At: time.Now()}
		s.ended.Store(true)
		switch r {
		case ReasonStopped, ReasonHangup:
			s.out.Push(outItem{msg: &mediastream.Message{Event: mediastream.EventStop,
				Stop: &mediastream.Stop{AccountSID: s.p.Account, CallSID: s.p.CallID}}, last: true}, 0)
			close(s.stopQueue)
		default:
			s.cancel()
		}
	})
}

// writeLoop writes what is queued, in order, until stop is written or the
// session is cancelled.
//
// Writes run without a context of their own (a context per message is a
// timer and a callback per 20 ms frame): a watchdog ticks once a second
// and drops the connection under a write that has taken longer than the
// write timeout, and cancelling the session drops it too (below); either
// ends the write with an error.
func (s *Session) writeLoop(ctx context.Context) {
	var buf []byte
	var writing atomic.Int64 // unix nanoseconds the write in progress began; 0: none
	var timedOut atomic.Bool
	wd := time.NewTicker(min(time.Second, s.p.WriteTimeout))
	defer wd.Stop()
	go func() {
		for {
			select {
			case <-ctx.Done():
				if writing.Load() != 0 {
					go s.conn.CloseNow() // the session ended under a write
				}
				return
			case now := <-wd.C:
				if began := writing.Load(); began != 0 && now.Sub(time.Unix(0, began)) > s.p.WriteTimeout {
					timedOut.Store(true)
					s.conn.CloseNow()
					return
				}
			}
		}
	}()
	wctx := context.WithoutCancel(ctx)
	write := func(b []byte) error {
		writing.Store(time.Now().UnixNano())
		err := s.conn.Write(wctx, websocket.MessageText, b)
		writing.Store(0)
		if err != nil && timedOut.Load() {
			err = fmt.Errorf("no write finished within %s: %w", s.p.WriteTimeout, err)
		}
		return err
	}
	// The media message is built in place, frame after frame.
	var media mediastream.Media
	mediaMsg := mediastream.Message{Event: mediastream.EventMedia, StreamSID: s.p.StreamSID, Media: &media}
	for {
		for {
			it, ok := s.out.Pop()
			if !ok {
				break
			}
			m := it.msg
			if it.audio != nil {
				seq, chunk, ts := s.counter.NextMedia(it.track, it.at)
				mediaMsg.SequenceNumber = seq
				media = mediastream.Media{Track: it.track, Chunk: chunk, Timestamp: ts, Payload: it.audio}
				m = &mediaMsg
			} else {
				m.SequenceNumber, m.StreamSID = s.counter.Next(), s.p.StreamSID
			}
			var err error
			buf, err = mediastream.AppendEncode(buf[:0], m, mediastream.FromDialtone)
			if it.audio != nil {
				media.Payload = nil
				s.putAudio(it.audio)
			}
			if err != nil {
				// Send and DTMF check what they queue: a bug.
				s.log.Error("stream: a message that does not encode", "event", m.Event, "err", err)
				continue
			}
			if err := write(buf); err != nil {
				if ctx.Err() == nil {
					s.end(ReasonFailed, "write: "+err.Error(), err)
				}
				s.conn.CloseNow()
				return
			}
			if it.audio != nil {
				s.sent.Add(1)
			}
			if it.last {
				reason := "stream stopped"
				if s.ending.Reason == ReasonHangup {
					reason = "hangup"
				}
				// The close handshake waits for the peer's close
				// frame, up to 5 s, which nothing can cut short: it
				// runs on its own, and Close's context bounds the
				// wait here.
				closed := make(chan struct{})
				go func() {
					defer close(closed)
					s.conn.Close(websocket.StatusNormalClosure, reason)
				}()
				select {
				case <-closed:
				case <-ctx.Done():
				}
				return
			}
		}
		select {
		case <-s.out.Ready():
		case <-ctx.Done():
			s.conn.CloseNow()
			return
		}
	}
}

// readLoop handles the application's messages until the socket ends.
func (s *Session) readLoop(ctx context.Context) {
	logged := 0
	refuse := func(why string, err error) {
		s.invalid.Add(1)
		if logged < 5 {
			logged++
			s.log.Warn("stream: refused a message from the application", "why", why, "err", err)
		}
	}
	// Messages are read into one buffer, reused: Decode copies what it
	// keeps.
	var in bytes.Buffer
	for {
		typ, data, err := s.readMessage(ctx, &in)
		if err != nil {
			switch st := websocket.CloseStatus(err); {
			case s.ended.Load():
			case st != -1:
				var ce websocket.CloseError
				errors.As(err, &ce)
				s.end(ReasonClosed, fmt.Sprintf("close %d %s", int(ce.Code), ce.Reason), nil)
			default:
				s.end(ReasonFailed, "read: "+err.Error(), err)
			}
			// Nothing more can be read: the writer stops too.
			s.cancel()
			return
		}
		if typ != websocket.MessageText {
			refuse("a binary message", nil)
			continue
		}
		m, err := mediastream.Decode(data, mediastream.FromApplication)
		if err != nil {
			refuse("not the protocol", err)
			continue
		}
		if m.StreamSID != s.p.StreamSID {
			refuse("another streamSid", fmt.Errorf("streamSid %q", m.StreamSID))
			continue
		}
		if s.p.ListenOnly {
			s.ignored.Add(1)
			continue
		}
		if s.ended.Load() {
			continue // stop is on its way; nothing more is played
		}
		switch m.Event {
		case mediastream.EventMedia:
			s.received.Add(1)
			_, due := s.play.Write(m.Media.Payload)
			s.echo(due)
		case mediastream.EventMark:
			s.echo(s.play.Mark(m.Mark.Name))
		case mediastream.EventClear:
			s.echo(s.play.Clear())
		case mediastream.EventHangup:
			reason := ""
			if m.Hangup != nil {
				reason = m.Hangup.Reason
			}
			s.end(ReasonHangup, reason, nil)
		}
	}
}

// readMessage reads the next message into in (emptied first) and returns
// its bytes, valid until the next call; the connection's read limit
// bounds it.
func (s *Session) readMessage(ctx context.Context, in *bytes.Buffer) (websocket.MessageType, []byte, error) {
	typ, r, err := s.conn.Reader(ctx)
	if err != nil {
		return 0, nil, err
	}
	in.Reset()
	if _, err := in.ReadFrom(r); err != nil {
		return 0, nil, err
	}
	return typ, in.Bytes(), nil
}

// echo queues the echoes of marks that are due.
func (s *Session) echo(due []string) {
	for _, name := range due {
		s.out.Push(outItem{msg: &mediastream.Message{Event: mediastream.EventMark, Mark: &mediastream.Mark{Name: name}}}, 0)
	}
}
