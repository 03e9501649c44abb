package sdk

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// Media streams: Dialtone opens a WebSocket to the business's application
// for a call and speaks Twilio Media Streams' message set over it (see the
// README's "Media streams"). StreamHandler is the application's side.

// StreamFrame is one 20 ms frame of stream audio: 160 samples at 8 kHz.
const StreamFrame = 160

// StreamConfig configures StreamHandler.
type StreamConfig struct {
	// Secrets verify the upgrade's X-Dialtone-Signature, which signs
	// "<t>." + the stream URL; any of them may match (hold two while you
	// rotate). Empty accepts unsigned upgrades: for tests only.
	Secrets []string
	// Tolerance is the largest clock difference accepted; default 5
	// minutes.
	Tolerance time.Duration
	// PublicURL is the scheme and host Dialtone dials, e.g.
	// "wss://agent.example.com", for a handler behind a proxy that
	// terminates TLS or changes the host. Empty: "ws" or "wss" (a TLS
	// request, or X-Forwarded-Proto https or wss) and the Host header.
	PublicURL string
	// Lead bounds how far ahead of playback the audio writers run:
	// they wait so that at most Lead of audio is queued at Dialtone,
	// whose buffer holds one second (older audio is dropped). Default
	// 400 ms; negative: no pacing.
	Lead time.Duration
	// Now is the clock of signatures and pacing; default time.Now.
	Now func() time.Time
	// Logger receives refused upgrades and handler errors; default
	// slog.Default.
	Logger *slog.Logger
}

// StreamStart is the stream's start message: what the stream is.
type StreamStart struct {
	StreamSID  string
	AccountSID string // the Dialtone account's UID
	CallSID    string // the call's CallId
	// Tracks are "inbound" (the callee's audio), and "outbound" too for a
	// fork of both parties.
	Tracks []string
	// CustomParameters are the stream's stream_params.
	CustomParameters map[string]string
	// Encoding, SampleRate and Channels are "audio/x-mulaw", 8000, 1.
	Encoding   string
	SampleRate int
	Channels   int
}

// StreamEvent is one of *StreamMedia, *StreamDTMF, *StreamMark and
// *StreamStop.
type StreamEvent interface{ streamEvent() }

// StreamMedia is a chunk of the call's audio.
type StreamMedia struct {
	Sequence  uint64
	Track     string        // "inbound" or "outbound"
	Chunk     uint64        // from 1, per track
	Timestamp time.Duration // from the stream's start
	// Payload is the raw µ-law audio (8000 Hz, mono).
	Payload []byte
}

// PCM returns the payload decoded to 16-bit samples.
func (m *StreamMedia) PCM() []int16 { return DecodeMuLaw(m.Payload) }

// StreamDTMF is a key the call's party pressed.
type StreamDTMF struct {
	Sequence uint64
	Track    string // "inbound_track"
	Digit    string
}

// StreamMark echoes a mark the application sent: the audio sent before
// it has been played, or was cleared.
type StreamMark struct {
	Sequence uint64
	Name     string
}

// StreamStop is the last message: the call ended or moved on.
type StreamStop struct {
	Sequence   uint64
	AccountSID string
	CallSID    string
}

func (*StreamMedia) streamEvent() {}
func (*StreamDTMF) streamEvent()  {}
func (*StreamMark) streamEvent()  {}
func (*StreamStop) streamEvent()  {}

// ErrStreamProtocol is returned for a message Dialtone would not send.
var ErrStreamProtocol = errors.New("sdk: media stream protocol error")

// Stream is the application's end of one media stream. Next reads events
// (from one goroutine); the writing methods may be called from another,
// and are safe for concurrent use with each other.
type Stream struct {
	conn  *websocket.Conn
	start StreamStart
	now   func() time.Time
	lead  time.Duration

	mu      sync.Mutex
	partial []byte    // µ-law of less than a frame, sent with the next audio or Flush
	playEnd time.Time // when the audio sent so far ends playing, by our estimate
}

// StreamHandler returns the HTTP handler of a media stream URL: it
// verifies the upgrade's signature (HTTP 401 when it fails), accepts the
// WebSocket, reads connected and start, and calls serve with the stream.
// When serve returns the socket is closed: normally for nil, with status
// 1011 and the error's text otherwise.
func StreamHandler(cfg StreamConfig, serve func(ctx context.Context, s *Stream) error) http.Handler {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Lead == 0 {
		cfg.Lead = 400 * time.Millisecond
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(cfg.Secrets) > 0 {
			if err := cfg.verify(r); err != nil {
				cfg.Logger.Warn("sdk: refused a media stream upgrade", "remote", r.RemoteAddr, "err", err)
				http.Error(w, err.Error(), http.StatusUnauthorized)
				return
			}
		}
		conn, err := websocket.Accept(w, r, nil)
		if err != nil {
			return // Accept answered the request
		}
		defer conn.CloseNow()
		conn.SetReadLimit(1 << 20)
		ctx := r.Context()
		s := &Stream{conn: conn, now: cfg.Now, lead: cfg.Lead}
		if err := s.readStart(ctx); err != nil {
			cfg.Logger.Warn("sdk: a media stream without its start", "err", err)
			conn.Close(websocket.StatusProtocolError, truncate(err.Error(), 120))
			return
		}
		if err := serve(ctx, s); err != nil {
			cfg.Logger.Warn("sdk: media stream handler failed", "call_id", s.start.CallSID, "err", err)
			conn.Close(websocket.StatusInternalError, truncate(err.Error(), 120))
			return
		}
		conn.Close(websocket.StatusNormalClosure, "")
	})
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

// verify checks the upgrade's signature over "<t>." + the stream URL.
func (cfg StreamConfig) verify(r *http.Request) error {
	header := r.Header.Get(PushSignatureHeader)
	signed := []byte(StreamURL(r, cfg.PublicURL))
	var err error
	for _, secret := range cfg.Secrets {
		if err = VerifySignature(secret, header, signed, cfg.Now(), cfg.Tolerance); err == nil || !errors.Is(err, ErrSignatureMismatch) {
			return err
		}
	}
	return err
}

// StreamURL rebuilds the URL a stream upgrade's signature covers:
// publicURL (scheme and host, e.g. "wss://agent.example.com") or, when it
// is "", "ws" or "wss" and the Host header; then the request target as
// received (path and query).
func StreamURL(r *http.Request, publicURL string) string {
	target := r.RequestURI
	if !strings.HasPrefix(target, "/") {
		// Not the origin form (a proxy's absolute form, or a request
		// built in a test).
		target = r.URL.RequestURI()
	}
	if publicURL != "" {
		return strings.TrimSuffix(publicURL, "/") + target
	}
	scheme := "ws"
	if p := strings.ToLower(r.Header.Get("X-Forwarded-Proto")); r.TLS != nil || p == "https" || p == "wss" {
		scheme = "wss"
	}
	return scheme + "://" + r.Host + target
}

// wireMessage is a message of either direction as JSON.
type wireMessage struct {
	Event          string `json:"event"`
	SequenceNumber string `json:"sequenceNumber,omitempty"`
	StreamSID      string `json:"streamSid,omitempty"`
	Protocol       string `json:"protocol,omitempty"`
	Version        string `json:"version,omitempty"`
	Start          *struct {
		StreamSID        string            `json:"streamSid"`
		AccountSID       string            `json:"accountSid"`
		CallSID          string            `json:"callSid"`
		Tracks           []string          `json:"tracks"`
		CustomParameters map[string]string `json:"customParameters"`
		MediaFormat      struct {
			Encoding   string `json:"encoding"`
			SampleRate int    `json:"sampleRate"`
			Channels   int    `json:"channels"`
		} `json:"mediaFormat"`
	} `json:"start,omitempty"`
	Media *struct {
		Track     string `json:"track,omitempty"`
		Chunk     string `json:"chunk,omitempty"`
		Timestamp string `json:"timestamp,omitempty"`
		Payload   string `json:"payload"`
	} `json:"media,omitempty"`
	DTMF *struct {
		Track string `json:"track"`
		Digit string `json:"digit"`
	} `json:"dtmf,omitempty"`
	Mark *struct {
		Name string `json:"name"`
	} `json:"mark,omitempty"`
	Stop *struct {
		AccountSID string `json:"accountSid"`
		CallSID    string `json:"callSid"`
	} `json:"stop,omitempty"`
	Hangup *struct {
		Reason string `json:"reason,omitempty"`
	} `json:"hangup,omitempty"`
}

func (s *Stream) read(ctx context.Context) (*wireMessage, uint64, error) {
	typ, data, err := s.conn.Read(ctx)
	if err != nil {
		return nil, 0, err
	}
	if typ != websocket.MessageText {
		return nil, 0, fmt.Errorf("%w: a binary message", ErrStreamProtocol)
	}
	var m wireMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, 0, fmt.Errorf("%w: %v", ErrStreamProtocol, err)
	}
	var seq uint64
	if m.Event != "connected" {
		if seq, err = strconv.ParseUint(m.SequenceNumber, 10, 64); err != nil || seq == 0 {
			return nil, 0, fmt.Errorf("%w: %s without a sequenceNumber", ErrStreamProtocol, m.Event)
		}
	}
	return &m, seq, nil
}

func (s *Stream) readStart(ctx context.Context) error {
	for range 2 {
		m, _, err := s.read(ctx)
		if err != nil {
			return err
		}
		switch {
		case m.Event == "connected":
			continue
		case m.Event == "start" && m.Start != nil:
			st := m.Start
			s.start = StreamStart{StreamSID: st.StreamSID, AccountSID: st.AccountSID, CallSID: st.CallSID,
				Tracks: st.Tracks, CustomParameters: st.CustomParameters, Encoding: st.MediaFormat.Encoding,
				SampleRate: st.MediaFormat.SampleRate, Channels: st.MediaFormat.Channels}
			if s.start.StreamSID == "" || s.start.Encoding != "audio/x-mulaw" || s.start.SampleRate != 8000 || s.start.Channels != 1 {
				return fmt.Errorf("%w: start %+v", ErrStreamProtocol, s.start)
			}
			return nil
		default:
			return fmt.Errorf("%w: %q before start", ErrStreamProtocol, m.Event)
		}
	}
	return fmt.Errorf("%w: no start", ErrStreamProtocol)
}

// Start is the stream's start message.
func (s *Stream) Start() StreamStart { return s.start }

// Next returns the next event. When Dialtone closes the socket normally
// (after stop) it returns io.EOF; any other end of the socket is an
// error. Events it does not know (a later version's) are skipped.
func (s *Stream) Next(ctx context.Context) (StreamEvent, error) {
	for {
		m, seq, err := s.read(ctx)
		if err != nil {
			if websocket.CloseStatus(err) == websocket.StatusNormalClosure {
				return nil, io.EOF
			}
			return nil, err
		}
		switch m.Event {
		case "media":
			if m.Media == nil {
				return nil, fmt.Errorf("%w: media without its body", ErrStreamProtocol)
			}
			payload, err := base64.StdEncoding.DecodeString(m.Media.Payload)
			if err != nil {
				return nil, fmt.Errorf("%w: media.payload: %v", ErrStreamProtocol, err)
			}
			chunk, _ := strconv.ParseUint(m.Media.Chunk, 10, 64)
			ms, _ := strconv.ParseInt(m.Media.Timestamp, 10, 64)
			return &StreamMedia{Sequence: seq, Track: m.Media.Track, Chunk: chunk, Timestamp: time.Duration(ms) * time.Millisecond, Payload: payload}, nil
		case "dtmf":
			if m.DTMF == nil {
				return nil, fmt.Errorf("%w: dtmf without its body", ErrStreamProtocol)
			}
			return &StreamDTMF{Sequence: seq, Track: m.DTMF.Track, Digit: m.DTMF.Digit}, nil
		case "mark":
			if m.Mark == nil {
				return nil, fmt.Errorf("%w: mark without its body", ErrStreamProtocol)
			}
			return &StreamMark{Sequence: seq, Name: m.Mark.Name}, nil
		case "stop":
			st := &StreamStop{Sequence: seq}
			if m.Stop != nil {
				st.AccountSID, st.CallSID = m.Stop.AccountSID, m.Stop.CallSID
			}
			return st, nil
		}
	}
}

// send writes one message; s.mu is held.
func (s *Stream) send(ctx context.Context, m *wireMessage) error {
	m.StreamSID = s.start.StreamSID
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return s.conn.Write(ctx, websocket.MessageText, b)
}

// WriteAudio sends 8 kHz 16-bit PCM to be played to the call, as µ-law
// in 20 ms media messages; less than a frame waits for the next audio or
// Flush. It waits, when needed, to stay within StreamConfig.Lead of
// playback.
func (s *Stream) WriteAudio(ctx context.Context, pcm []int16) error {
	return s.WriteMuLaw(ctx, EncodeMuLaw(pcm))
}

// WriteMuLaw is WriteAudio for audio already in µ-law.
func (s *Stream) WriteMuLaw(ctx context.Context, ulaw []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.partial = append(s.partial, ulaw...)
	i := 0
	defer func() {
		// Keep what is left (less than a frame) at the start.
		s.partial = append(s.partial[:0], s.partial[i:]...)
	}()
	for ; len(s.partial)-i >= StreamFrame; i += StreamFrame {
		if err := s.sendFrame(ctx, s.partial[i:i+StreamFrame]); err != nil {
			return err
		}
	}
	return nil
}

// sendFrame paces and sends one frame; s.mu is held.
func (s *Stream) sendFrame(ctx context.Context, frame []byte) error {
	if s.lead >= 0 {
		now := s.now()
		if s.playEnd.Before(now) {
			s.playEnd = now
		}
		if wait := s.playEnd.Sub(now) - s.lead; wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			}
		}
		s.playEnd = s.playEnd.Add(time.Duration(len(frame)) * time.Second / 8000)
	}
	m := &wireMessage{Event: "media"}
	m.Media = &struct {
		Track     string `json:"track,omitempty"`
		Chunk     string `json:"chunk,omitempty"`
		Timestamp string `json:"timestamp,omitempty"`
		Payload   string `json:"payload"`
	}{Payload: base64.StdEncoding.EncodeToString(frame)}
	return s.send(ctx, m)
}

// flush sends a partial frame padded with µ-law silence; s.mu is held.
func (s *Stream) flush(ctx context.Context) error {
	if len(s.partial) == 0 {
		return nil
	}
	frame := make([]byte, StreamFrame)
	n := copy(frame, s.partial)
	for i := n; i < StreamFrame; i++ {
		frame[i] = 0xFF // µ-law silence
	}
	s.partial = s.partial[:0]
	return s.sendFrame(ctx, frame)
}

// Flush sends audio held back as less than a frame, padded with silence.
func (s *Stream) Flush(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.flush(ctx)
}

// Mark sends a mark after the audio sent so far (flushed first); Dialtone
// echoes it (a *StreamMark from Next) once that audio has been played, or
// cleared.
func (s *Stream) Mark(ctx context.Context, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.flush(ctx); err != nil {
		return err
	}
	m := &wireMessage{Event: "mark"}
	m.Mark = &struct {
		Name string `json:"name"`
	}{Name: name}
	return s.send(ctx, m)
}

// Clear drops the audio queued at Dialtone and held here (barge-in);
// Dialtone echoes the pending marks.
func (s *Stream) Clear(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.partial = s.partial[:0]
	s.playEnd = time.Time{}
	return s.send(ctx, &wireMessage{Event: "clear"})
}

// Hangup ends the call (Dialtone's extension); reason is recorded with the
// call. Dialtone answers with stop and closes the socket.
func (s *Stream) Hangup(ctx context.Context, reason string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := &wireMessage{Event: "hangup"}
	if reason != "" {
		m.Hangup = &struct {
			Reason string `json:"reason,omitempty"`
		}{Reason: reason}
	}
	return s.send(ctx, m)
}

// AudioWriter returns an io.Writer of 16-bit little-endian 8 kHz PCM bytes
// (what `espeak-ng --stdout` and most TTS engines write after their header),
// for io.Copy; each Write sends what makes whole frames.
func (s *Stream) AudioWriter(ctx context.Context) io.Writer {
	return &audioWriter{ctx: ctx, s: s}
}

type audioWriter struct {
	ctx context.Context
	s   *Stream
	odd []byte
	pcm []int16
}

func (w *audioWriter) Write(p []byte) (int, error) {
	n := len(p)
	if len(w.odd) > 0 {
		p = append(w.odd, p...)
		w.odd = nil
	}
	w.pcm = w.pcm[:0]
	for len(p) >= 2 {
		w.pcm = append(w.pcm, int16(binary.LittleEndian.Uint16(p)))
		p = p[2:]
	}
	if len(p) == 1 {
		w.odd = []byte{p[0]}
	}
	if err := w.s.WriteAudio(w.ctx, w.pcm); err != nil {
		return 0, err
	}
	return n, nil
}
