package mediastream

import (
	"errors"
	"fmt"
	"time"
	"unicode/utf8"
)

// Event names a message's kind: its "event" field.
type Event string

// Twilio's events, and Dialtone's extension (EventHangup).
const (
	EventConnected Event = "connected" // Dialtone → application, first
	EventStart     Event = "start"     // Dialtone → application, once, after connected
	EventMedia     Event = "media"     // both ways
	EventDTMF      Event = "dtmf"      // Dialtone → application
	EventMark      Event = "mark"      // both ways: the application's mark, echoed when played
	EventStop      Event = "stop"      // Dialtone → application, last
	EventClear     Event = "clear"     // application → Dialtone: drop the queued audio
	// EventHangup is Dialtone's extension: the application ends the call.
	EventHangup Event = "hangup"
)

// Direction says who sent a message; the two directions have different
// message sets and required fields.
type Direction int

const (
	// FromDialtone: connected, start, media, dtmf, mark, stop.
	FromDialtone Direction = iota
	// FromApplication: media, mark, clear, hangup.
	FromApplication
)

func (d Direction) String() string {
	if d == FromApplication {
		return "application"
	}
	return "dialtone"
}

// Track names an audio flow in start.tracks and media.track: "inbound"
// is the audio Dialtone receives from the call's party (the callee's
// voice), "outbound" the audio Dialtone sends to that party.
type Track string

const (
	TrackInbound  Track = "inbound"
	TrackOutbound Track = "outbound"
)

// DTMFTrack is the track of a dtmf message as Twilio spells it.
const DTMFTrack = "inbound_track"

// The media format Dialtone streams, the only one Twilio streams.
const (
	Encoding   = "audio/x-mulaw"
	SampleRate = 8000
	Channels   = 1
	// FrameBytes is one 20 ms frame of µ-law: Dialtone's media size.
	FrameBytes = 160
	// FrameDuration is the duration of FrameBytes.
	FrameDuration = 20 * time.Millisecond
)

// What connected says.
const (
	Protocol = "Call"
	Version  = "1.0.0"
)

// Limits of Decode (and of Encode, so that Dialtone never sends what it
// would refuse).
const (
	// MaxMessageBytes bounds one message.
	MaxMessageBytes = 64 << 10
	// MaxPayloadBytes bounds one media message's audio after base64:
	// one second, the most the playout buffer holds.
	MaxPayloadBytes = SampleRate
	// MaxStreamSIDBytes bounds streamSid, accountSid and callSid.
	MaxStreamSIDBytes = 64
	// MaxNameBytes bounds a mark's name and a hangup's reason.
	MaxNameBytes = 256
	// MaxCustomParameters bounds start.customParameters: entries, and
	// the bytes of one key and one value.
	MaxCustomParameters  = 32
	MaxParameterKeyBytes = 128
	MaxParameterBytes    = 1024
)

// Message is one message of either direction. Event says which of the
// pointer fields is set (none for connected's protocol fields and clear).
type Message struct {
	Event Event
	// SequenceNumber counts Dialtone's messages from 1 (connected has
	// none). Applications do not send it; 0 means absent.
	SequenceNumber uint64
	// StreamSID is the top-level streamSid: on every message but
	// connected.
	StreamSID string

	Connected *Connected
	Start     *Start
	Media     *Media
	DTMF      *DTMF
	Mark      *Mark
	Stop      *Stop
	Hangup    *Hangup
}

// Connected is the connected message's body (top-level fields in JSON).
type Connected struct {
	Protocol string // "Call"
	Version  string // "1.0.0"
}

// Start is start's body: what the stream is.
type Start struct {
	StreamSID  string // start.streamSid
	AccountSID string // start.accountSid: the Dialtone account's UID
	CallSID    string // start.callSid: the call's CallId
	Tracks     []Track
	// CustomParameters are the stream's stream_params (fallback taken
	// out): string keys and values.
	CustomParameters map[string]string
	MediaFormat      MediaFormat
}

// MediaFormat is start.mediaFormat.
type MediaFormat struct {
	Encoding   string // "audio/x-mulaw"
	SampleRate int    // 8000
	Channels   int    // 1
}

// TelephonyFormat is the one format Dialtone streams.
var TelephonyFormat = MediaFormat{Encoding: Encoding, SampleRate: SampleRate, Channels: Channels}

// Media is media's body. Dialtone's media carry Track, Chunk and
// Timestamp; an application's carry Payload only.
type Media struct {
	Track     Track
	Chunk     uint64        // from 1, per track
	Timestamp time.Duration // from the stream's start; milliseconds on the wire
	// Payload is the µ-law audio (base64 on the wire), at most
	// MaxPayloadBytes.
	Payload []byte
}

// DTMF is dtmf's body: one key pressed by the call's party.
type DTMF struct {
	Track string // "inbound_track"
	Digit string // 0-9, *, #, A-D
}

// Mark is mark's body.
type Mark struct {
	Name string
}

// Stop is stop's body.
type Stop struct {
	AccountSID string
	CallSID    string
}

// Hangup is the body of Dialtone's hangup extension; the object and its
// reason are optional.
type Hangup struct {
	// Reason is recorded with the call (at most MaxNameBytes).
	Reason string
}

// Error is a message that does not follow the protocol. Field names the
// JSON field at fault ("media.payload"), "" for the message as a whole.
type Error struct {
	Event  Event
	Field  string
	Reason string
}

func (e *Error) Error() string {
	var b []byte
	b = append(b, "mediastream: "...)
	if e.Event != "" {
		b = append(b, string(e.Event)...)
		b = append(b, " message: "...)
	}
	if e.Field != "" {
		b = append(b, e.Field...)
		b = append(b, ": "...)
	}
	b = append(b, e.Reason...)
	return string(b)
}

// ErrProtocol matches every *Error with errors.Is.
var ErrProtocol = errors.New("mediastream: protocol error")

// Is makes errors.Is(err, ErrProtocol) true for an *Error.
func (e *Error) Is(target error) bool { return target == ErrProtocol }

func fieldErr(ev Event, field, format string, args ...any) *Error {
	return &Error{Event: ev, Field: field, Reason: fmt.Sprintf(format, args...)}
}

// validDigit reports whether d is one DTMF key (RFC 4733 events 0-15).
func validDigit(d string) bool {
	if len(d) != 1 {
		return false
	}
	c := d[0]
	return c >= '0' && c <= '9' || c == '*' || c == '#' || c >= 'A' && c <= 'D'
}

// checkText checks a free-text field: valid UTF-8, at most max bytes,
// and, when required, not empty.
func checkText(ev Event, field, s string, max int, required bool) error {
	switch {
	case required && s == "":
		return fieldErr(ev, field, "missing or empty")
	case len(s) > max:
		return fieldErr(ev, field, "longer than %d bytes", max)
	case !utf8.ValidString(s):
		return fieldErr(ev, field, "not valid UTF-8")
	}
	return nil
}

// checkSID checks an identifier: 1 to MaxStreamSIDBytes printable ASCII
// characters other than space, quote and backslash.
func checkSID(ev Event, field, s string) error {
	if s == "" {
		return fieldErr(ev, field, "missing or empty")
	}
	if len(s) > MaxStreamSIDBytes {
		return fieldErr(ev, field, "longer than %d bytes", MaxStreamSIDBytes)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || c == '"' || c == '\\' {
			return fieldErr(ev, field, "holds %.40q: printable ASCII without spaces or quotes only", c)
		}
	}
	return nil
}

// Validate checks m as a message sent from direction d: the event belongs
// to that direction, its body is set and every field is within the
// protocol and the limits.
func (m *Message) Validate(d Direction) error {
	ev := m.Event
	if !eventOf(ev, d) {
		if eventOf(ev, 1-d) {
			return fieldErr(ev, "event", "%.40q is not sent by the %s", ev, d)
		}
		return fieldErr("", "event", "unknown event %.40q", ev)
	}
	if ev == EventConnected {
		if m.Connected == nil {
			return fieldErr(ev, "", "no protocol and version")
		}
		if m.SequenceNumber != 0 || m.StreamSID != "" {
			return fieldErr(ev, "", "carries no sequenceNumber nor streamSid")
		}
		if m.Connected.Protocol != Protocol {
			return fieldErr(ev, "protocol", "%.40q, want %.40q", m.Connected.Protocol, Protocol)
		}
		return checkText(ev, "version", m.Connected.Version, 32, true)
	}
	if d == FromDialtone && m.SequenceNumber == 0 {
		return fieldErr(ev, "sequenceNumber", "missing (Dialtone numbers every message from 1)")
	}
	if err := checkSID(ev, "streamSid", m.StreamSID); err != nil {
		return err
	}
	bodies := 0
	for _, set := range []bool{m.Connected != nil, m.Start != nil, m.Media != nil, m.DTMF != nil, m.Mark != nil, m.Stop != nil, m.Hangup != nil} {
		if set {
			bodies++
		}
	}
	want := 1
	if ev == EventClear || ev == EventHangup && m.Hangup == nil {
		want = 0
	}
	if bodies != want {
		return fieldErr(ev, "", "has %d bodies, want %d", bodies, want)
	}
	switch ev {
	case EventStart:
		return m.Start.validate(m.StreamSID)
	case EventMedia:
		return m.Media.validate(d)
	case EventDTMF:
		if m.DTMF == nil {
			return fieldErr(ev, "dtmf", "missing")
		}
		if m.DTMF.Track != "inbound_track" && m.DTMF.Track != "outbound_track" {
			return fieldErr(ev, "dtmf.track", "%.40q, want inbound_track or outbound_track", m.DTMF.Track)
		}
		if !validDigit(m.DTMF.Digit) {
			return fieldErr(ev, "dtmf.digit", "%.40q is not one key of 0-9, *, #, A-D", m.DTMF.Digit)
		}
	case EventMark:
		if m.Mark == nil {
			return fieldErr(ev, "mark", "missing")
		}
		return checkText(ev, "mark.name", m.Mark.Name, MaxNameBytes, true)
	case EventStop:
		if m.Stop == nil {
			return fieldErr(ev, "stop", "missing")
		}
		if err := checkSID(ev, "stop.accountSid", m.Stop.AccountSID); err != nil {
			return err
		}
		return checkSID(ev, "stop.callSid", m.Stop.CallSID)
	case EventHangup:
		if m.Hangup != nil {
			return checkText(ev, "hangup.reason", m.Hangup.Reason, MaxNameBytes, false)
		}
	}
	return nil
}

// eventOf reports whether ev is sent in direction d.
func eventOf(ev Event, d Direction) bool {
	switch ev {
	case EventMedia, EventMark:
		return true
	case EventConnected, EventStart, EventDTMF, EventStop:
		return d == FromDialtone
	case EventClear, EventHangup:
		return d == FromApplication
	}
	return false
}

func (s *Start) validate(top string) error {
	const ev = EventStart
	if s == nil {
		return fieldErr(ev, "start", "missing")
	}
	if err := checkSID(ev, "start.streamSid", s.StreamSID); err != nil {
		return err
	}
	if s.StreamSID != top {
		return fieldErr(ev, "start.streamSid", "%.40q differs from streamSid %.40q", s.StreamSID, top)
	}
	if err := checkSID(ev, "start.accountSid", s.AccountSID); err != nil {
		return err
	}
	if err := checkSID(ev, "start.callSid", s.CallSID); err != nil {
		return err
	}
	if len(s.Tracks) == 0 || len(s.Tracks) > 2 {
		return fieldErr(ev, "start.tracks", "%d tracks, want inbound, outbound or both", len(s.Tracks))
	}
	for i, t := range s.Tracks {
		if t != TrackInbound && t != TrackOutbound {
			return fieldErr(ev, "start.tracks", "%.40q, want inbound or outbound", t)
		}
		if i == 1 && t == s.Tracks[0] {
			return fieldErr(ev, "start.tracks", "%.40q given twice", t)
		}
	}
	if err := CheckParameters(s.CustomParameters); err != nil {
		return err
	}
	if s.MediaFormat != TelephonyFormat {
		return fieldErr(ev, "start.mediaFormat", "%+v, want %s %d Hz %d channel", s.MediaFormat, Encoding, SampleRate, Channels)
	}
	return nil
}

// CheckParameters checks customParameters against the limits.
func CheckParameters(p map[string]string) error {
	const ev = EventStart
	if len(p) > MaxCustomParameters {
		return fieldErr(ev, "start.customParameters", "%d entries, at most %d", len(p), MaxCustomParameters)
	}
	for k, v := range p {
		if k == "" || len(k) > MaxParameterKeyBytes || !utf8.ValidString(k) {
			return fieldErr(ev, "start.customParameters", "key %.40q: 1 to %d bytes of UTF-8", k, MaxParameterKeyBytes)
		}
		if err := checkText(ev, "start.customParameters."+k, v, MaxParameterBytes, false); err != nil {
			return err
		}
	}
	return nil
}

func (m *Media) validate(d Direction) error {
	const ev = EventMedia
	if m == nil {
		return fieldErr(ev, "media", "missing")
	}
	if len(m.Payload) == 0 {
		return fieldErr(ev, "media.payload", "missing or empty")
	}
	if len(m.Payload) > MaxPayloadBytes {
		return fieldErr(ev, "media.payload", "%d bytes of audio, at most %d (one second)", len(m.Payload), MaxPayloadBytes)
	}
	if d == FromApplication {
		return nil
	}
	if m.Track != TrackInbound && m.Track != TrackOutbound {
		return fieldErr(ev, "media.track", "%.40q, want inbound or outbound", m.Track)
	}
	if m.Chunk == 0 {
		return fieldErr(ev, "media.chunk", "missing (chunks count from 1)")
	}
	if m.Timestamp < 0 {
		return fieldErr(ev, "media.timestamp", "negative")
	}
	return nil
}
