package mediastream

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"
)

// maxTimestampMS bounds media.timestamp (about 31 years) so that it fits
// a time.Duration.
const maxTimestampMS = 1e12

// object is a JSON object's members in order, looked up by exact key.
// Decode has checked the whole message is valid JSON, so splitting it
// needs no more than finding where each member ends.
type object []member

type member struct {
	key []byte // between the quotes, escapes as written
	val []byte // the raw value
}

// Decode reads one text message sent from direction d. The error is an
// *Error (matching ErrProtocol) naming the event and field at fault; an
// event outside d's message set is an error naming it.
func Decode(data []byte, d Direction) (*Message, error) {
	if len(data) > MaxMessageBytes {
		return nil, fieldErr("", "", "%d bytes, at most %d", len(data), MaxMessageBytes)
	}
	if valid, sure := quickValid(data); !sure && !json.Valid(data) || sure && !valid {
		var v any
		err := json.Unmarshal(data, &v)
		return nil, fieldErr("", "", "not valid JSON: %v", err)
	}
	top, err := parseObject("", "", data)
	if err != nil {
		return nil, err
	}
	evName, err := top.str("", "event", true)
	if err != nil {
		return nil, err
	}
	ev := Event(evName)
	if !eventOf(ev, d) {
		if eventOf(ev, 1-d) {
			return nil, fieldErr(ev, "event", "%.40q is not sent by the %s", evName, d)
		}
		return nil, fieldErr("", "event", "unknown event %.40q", evName)
	}
	m := &Message{Event: ev}
	if ev == EventConnected {
		m.Connected = &Connected{}
		if m.Connected.Protocol, err = top.str(ev, "protocol", true); err != nil {
			return nil, err
		}
		if m.Connected.Version, err = top.str(ev, "version", true); err != nil {
			return nil, err
		}
		return m, m.Validate(d)
	}
	if d == FromDialtone {
		if m.SequenceNumber, err = top.decimal(ev, "sequenceNumber", true); err != nil {
			return nil, err
		}
	}
	if m.StreamSID, err = top.str(ev, "streamSid", true); err != nil {
		return nil, err
	}
	switch ev {
	case EventStart:
		err = m.decodeStart(top)
	case EventMedia:
		err = m.decodeMedia(top, d)
	case EventDTMF:
		var o object
		if o, err = top.obj(ev, "dtmf", true); err == nil {
			m.DTMF = &DTMF{}
			if m.DTMF.Track, err = o.str(ev, "dtmf.track", true); err == nil {
				m.DTMF.Digit, err = o.str(ev, "dtmf.digit", true)
			}
		}
	case EventMark:
		var o object
		if o, err = top.obj(ev, "mark", true); err == nil {
			m.Mark = &Mark{}
			m.Mark.Name, err = o.str(ev, "mark.name", true)
		}
	case EventStop:
		var o object
		if o, err = top.obj(ev, "stop", true); err == nil {
			m.Stop = &Stop{}
			if m.Stop.AccountSID, err = o.str(ev, "stop.accountSid", true); err == nil {
				m.Stop.CallSID, err = o.str(ev, "stop.callSid", true)
			}
		}
	case EventHangup:
		var o object
		if o, err = top.obj(ev, "hangup", false); err == nil && o != nil {
			m.Hangup = &Hangup{}
			m.Hangup.Reason, err = o.str(ev, "hangup.reason", false)
		}
	}
	if err != nil {
		return nil, err
	}
	return m, m.Validate(d)
}

func (m *Message) decodeStart(top object) error {
	const ev = EventStart
	o, err := top.obj(ev, "start", true)
	if err != nil {
		return err
	}
	s := &Start{}
	m.Start = s
	if s.StreamSID, err = o.str(ev, "start.streamSid", true); err != nil {
		return err
	}
	if s.AccountSID, err = o.str(ev, "start.accountSid", true); err != nil {
		return err
	}
	if s.CallSID, err = o.str(ev, "start.callSid", true); err != nil {
		return err
	}
	raw, ok := o.get("tracks")
	if !ok {
		return fieldErr(ev, "start.tracks", "missing")
	}
	var tracks []string
	if err := json.Unmarshal(raw, &tracks); err != nil || tracks == nil {
		return fieldErr(ev, "start.tracks", "not an array of strings")
	}
	for _, t := range tracks {
		s.Tracks = append(s.Tracks, Track(t))
	}
	if raw, ok := o.get("customParameters"); ok && !isNull(raw) {
		if len(raw) > 0 && raw[0] != '{' {
			return fieldErr(ev, "start.customParameters", "not an object")
		}
		if err := json.Unmarshal(raw, &s.CustomParameters); err != nil {
			return fieldErr(ev, "start.customParameters", "not an object of strings")
		}
		if len(s.CustomParameters) == 0 {
			s.CustomParameters = nil // {} and absent are the same
		}
	}
	f, err := o.obj(ev, "start.mediaFormat", true)
	if err != nil {
		return err
	}
	if s.MediaFormat.Encoding, err = f.str(ev, "start.mediaFormat.encoding", true); err != nil {
		return err
	}
	if s.MediaFormat.SampleRate, err = f.integer(ev, "start.mediaFormat.sampleRate"); err != nil {
		return err
	}
	s.MediaFormat.Channels, err = f.integer(ev, "start.mediaFormat.channels")
	return err
}

func (m *Message) decodeMedia(top object, d Direction) error {
	const ev = EventMedia
	o, err := top.obj(ev, "media", true)
	if err != nil {
		return err
	}
	md := &Media{}
	m.Media = md
	if d == FromDialtone {
		track, err := o.str(ev, "media.track", true)
		if err != nil {
			return err
		}
		md.Track = Track(track)
		if md.Chunk, err = o.decimal(ev, "media.chunk", true); err != nil {
			return err
		}
		ms, err := o.decimal(ev, "media.timestamp", true)
		if err != nil {
			return err
		}
		if ms > maxTimestampMS {
			return fieldErr(ev, "media.timestamp", "%d ms is too far from the stream's start", ms)
		}
		md.Timestamp = time.Duration(ms) * time.Millisecond
	}
	payload, err := o.strBytes(ev, "media.payload", true)
	if err != nil {
		return err
	}
	if len(payload) > base64.StdEncoding.EncodedLen(MaxPayloadBytes) {
		return fieldErr(ev, "media.payload", "%d base64 characters: more than one second of audio (%d bytes)", len(payload), MaxPayloadBytes)
	}
	md.Payload = make([]byte, base64.StdEncoding.DecodedLen(len(payload)))
	n, err := base64.StdEncoding.Decode(md.Payload, payload)
	if err != nil {
		return fieldErr(ev, "media.payload", "not standard base64: %v", err)
	}
	md.Payload = md.Payload[:n]
	return nil
}

// quickValid checks, without encoding/json's byte-by-byte state machine,
// whether data is valid JSON for the messages of this protocol: objects,
// arrays, numbers, literals and strings of printable ASCII without
// escapes. sure is false for anything else (an escape, a byte outside
// printable ASCII, nesting deeper than maxQuickDepth), which
// encoding/json then decides.
func quickValid(data []byte) (valid, sure bool) {
	i, ok, sure := quickValue(data, skipSpace(data, 0), 0)
	if !sure {
		return false, false
	}
	return ok && skipSpace(data, i) == len(data), true
}

// maxQuickDepth bounds quickValue's recursion: the protocol's messages
// nest three deep.
const maxQuickDepth = 8

// quickValue reads the value at b[i] and returns the index after it.
func quickValue(b []byte, i, depth int) (next int, ok, sure bool) {
	if i >= len(b) {
		return i, false, true
	}
	switch c := b[i]; {
	case c == '"':
		for i++; i < len(b); i++ {
			switch c := b[i]; {
			case c == '"':
				return i + 1, true, true
			case c == '\\' || c < 0x20 || c > 0x7e:
				return i, false, false
			}
		}
		return i, false, true
	case c == '{' || c == '[':
		if depth >= maxQuickDepth {
			return i, false, false
		}
		end := byte('}')
		if c == '[' {
			end = ']'
		}
		i = skipSpace(b, i+1)
		if i < len(b) && b[i] == end {
			return i + 1, true, true
		}
		for {
			if end == '}' {
				if i >= len(b) || b[i] != '"' {
					return i, false, true
				}
				if i, ok, sure = quickValue(b, i, depth+1); !ok || !sure {
					return i, ok, sure
				}
				i = skipSpace(b, i)
				if i >= len(b) || b[i] != ':' {
					return i, false, true
				}
				i = skipSpace(b, i+1)
			}
			if i, ok, sure = quickValue(b, i, depth+1); !ok || !sure {
				return i, ok, sure
			}
			i = skipSpace(b, i)
			if i >= len(b) {
				return i, false, true
			}
			switch b[i] {
			case ',':
				i = skipSpace(b, i+1)
			case end:
				return i + 1, true, true
			default:
				return i, false, true
			}
		}
	case c == 't':
		return quickLiteral(b, i, "true")
	case c == 'f':
		return quickLiteral(b, i, "false")
	case c == 'n':
		return quickLiteral(b, i, "null")
	case c == '-' || c >= '0' && c <= '9':
		return quickNumber(b, i)
	}
	return i, false, true
}

func quickLiteral(b []byte, i int, lit string) (int, bool, bool) {
	if len(b)-i >= len(lit) && string(b[i:i+len(lit)]) == lit {
		return i + len(lit), true, true
	}
	return i, false, true
}

// quickNumber reads -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
func quickNumber(b []byte, i int) (int, bool, bool) {
	digits := func(i int) (int, bool) {
		j := i
		for j < len(b) && b[j] >= '0' && b[j] <= '9' {
			j++
		}
		return j, j > i
	}
	if b[i] == '-' {
		i++
	}
	if i < len(b) && b[i] == '0' {
		i++
	} else {
		var ok bool
		if i, ok = digits(i); !ok {
			return i, false, true
		}
	}
	if i < len(b) && b[i] == '.' {
		var ok bool
		if i, ok = digits(i + 1); !ok {
			return i, false, true
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		var ok bool
		if i, ok = digits(i); !ok {
			return i, false, true
		}
	}
	return i, true, true
}

func isNull(raw []byte) bool { return string(bytes.TrimSpace(raw)) == "null" }

// parseObject reads raw, valid JSON, as an object; name is the field it
// came from.
func parseObject(ev Event, name string, raw []byte) (object, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		if name == "" {
			return nil, fieldErr(ev, "", "not a JSON object")
		}
		return nil, fieldErr(ev, name, "not an object")
	}
	o := make(object, 0, 4)
	i := skipSpace(raw, 1)
	for i < len(raw) && raw[i] != '}' {
		end := stringEnd(raw, i)
		k := raw[i+1 : end-1]
		i = skipSpace(raw, end)
		i = skipSpace(raw, i+1) // the colon
		end = valueEnd(raw, i)
		o = append(o, member{key: k, val: raw[i:end]})
		i = skipSpace(raw, end)
		if i < len(raw) && raw[i] == ',' {
			i = skipSpace(raw, i+1)
		}
	}
	return o, nil
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the index after the string starting at b[i] == '"'.
func stringEnd(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(b)
}

// valueEnd returns the index after the value starting at b[i].
func valueEnd(b []byte, i int) int {
	if i >= len(b) {
		return i
	}
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				i = stringEnd(b, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
		return len(b)
	}
	for i < len(b) && b[i] != ',' && b[i] != '}' && b[i] != ']' && b[i] != ' ' && b[i] != '\t' && b[i] != '\n' && b[i] != '\r' {
		i++
	}
	return i
}

// get returns the value of key, matched exactly (the last member of
// that name, as encoding/json takes it).
func (o object) get(key string) ([]byte, bool) {
	for i := len(o) - 1; i >= 0; i-- {
		k := o[i].key
		if bytes.IndexByte(k, '\\') < 0 {
			if string(k) == key {
				return o[i].val, true
			}
			continue
		}
		var s string
		if json.Unmarshal(append(append([]byte{'"'}, k...), '"'), &s) == nil && s == key {
			return o[i].val, true
		}
	}
	return nil, false
}

// key is the last element of a dotted field name.
func key(field string) string {
	if i := bytes.LastIndexByte([]byte(field), '.'); i >= 0 {
		return field[i+1:]
	}
	return field
}

// obj returns the object at field; nil when it is absent or null and not
// required.
func (o object) obj(ev Event, field string, required bool) (object, error) {
	raw, ok := o.get(key(field))
	if !ok || isNull(raw) {
		if required {
			return nil, fieldErr(ev, field, "missing")
		}
		return nil, nil
	}
	return parseObject(ev, field, raw)
}

// str returns the string at field; "" when it is absent and not required.
func (o object) str(ev Event, field string, required bool) (string, error) {
	b, err := o.strBytes(ev, field, required)
	return string(b), err
}

// strBytes is str without a copy when the string needs no unescaping.
func (o object) strBytes(ev Event, field string, required bool) ([]byte, error) {
	raw, ok := o.get(key(field))
	if !ok {
		if required {
			return nil, fieldErr(ev, field, "missing")
		}
		return nil, nil
	}
	if len(raw) == 0 || raw[0] != '"' {
		return nil, fieldErr(ev, field, "not a string")
	}
	// raw is valid JSON: without escapes and in valid UTF-8 its content
	// is the string itself.
	if len(raw) >= 2 && raw[len(raw)-1] == '"' && bytes.IndexByte(raw[1:len(raw)-1], '\\') < 0 && utf8.Valid(raw) {
		return raw[1 : len(raw)-1], nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fieldErr(ev, field, "not a string")
	}
	return []byte(s), nil
}

// decimal returns the unsigned decimal string at field, as Twilio sends
// sequenceNumber, chunk and timestamp: digits only, no sign, no leading
// zero; 0 when it is absent and not required.
func (o object) decimal(ev Event, field string, required bool) (uint64, error) {
	s, err := o.str(ev, field, required)
	if err != nil {
		return 0, err
	}
	if _, ok := o.get(key(field)); !ok {
		return 0, nil
	}
	if len(s) == 0 || len(s) > 19 || len(s) > 1 && s[0] == '0' {
		return 0, fieldErr(ev, field, "%.40q is not a decimal number in a string", s)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fieldErr(ev, field, "%.40q is not a decimal number in a string", s)
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fieldErr(ev, field, "%.40q is not a decimal number in a string", s)
	}
	return n, nil
}

// integer returns the JSON number at field, which must be an integer.
func (o object) integer(ev Event, field string) (int, error) {
	raw, ok := o.get(key(field))
	if !ok {
		return 0, fieldErr(ev, field, "missing")
	}
	var n int32
	if err := json.Unmarshal(raw, &n); err != nil {
		return 0, fieldErr(ev, field, "not an integer")
	}
	return int(n), nil
}
