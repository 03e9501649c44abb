package mediastream

import (
	"encoding/base64"
	"encoding/json"
	"slices"
	"strconv"
	"unicode/utf8"
)

// Encode returns m as the JSON text of one WebSocket message sent from
// direction d, after Validate(d): Dialtone never sends what Decode would
// refuse.
func Encode(m *Message, d Direction) ([]byte, error) {
	return AppendEncode(nil, m, d)
}

// AppendEncode appends Encode's text to dst, for a writer that reuses its
// buffer (a media message is a few hundred bytes, fifty a second).
func AppendEncode(dst []byte, m *Message, d Direction) ([]byte, error) {
	if err := m.Validate(d); err != nil {
		return dst, err
	}
	b := append(dst, `{"event":`...)
	b = appendString(b, string(m.Event))
	if m.Event == EventConnected {
		b = append(b, `,"protocol":`...)
		b = appendString(b, m.Connected.Protocol)
		b = append(b, `,"version":`...)
		b = appendString(b, m.Connected.Version)
		return append(b, '}'), nil
	}
	if m.SequenceNumber != 0 {
		b = append(b, `,"sequenceNumber":"`...)
		b = strconv.AppendUint(b, m.SequenceNumber, 10)
		b = append(b, '"')
	}
	b = append(b, `,"streamSid":`...)
	b = appendString(b, m.StreamSID)
	switch m.Event {
	case EventStart:
		s := m.Start
		b = append(b, `,"start":{"streamSid":`...)
		b = appendString(b, s.StreamSID)
		b = append(b, `,"accountSid":`...)
		b = appendString(b, s.AccountSID)
		b = append(b, `,"callSid":`...)
		b = appendString(b, s.CallSID)
		b = append(b, `,"tracks":[`...)
		for i, t := range s.Tracks {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, string(t))
		}
		b = append(b, `],"customParameters":{`...)
		keys := make([]string, 0, len(s.CustomParameters))
		for k := range s.CustomParameters {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, k)
			b = append(b, ':')
			b = appendString(b, s.CustomParameters[k])
		}
		b = append(b, `},"mediaFormat":{"encoding":`...)
		b = appendString(b, s.MediaFormat.Encoding)
		b = append(b, `,"sampleRate":`...)
		b = strconv.AppendInt(b, int64(s.MediaFormat.SampleRate), 10)
		b = append(b, `,"channels":`...)
		b = strconv.AppendInt(b, int64(s.MediaFormat.Channels), 10)
		b = append(b, "}}"...)
	case EventMedia:
		md := m.Media
		b = append(b, `,"media":{`...)
		if d == FromDialtone {
			b = append(b, `"track":`...)
			b = appendString(b, string(md.Track))
			b = append(b, `,"chunk":"`...)
			b = strconv.AppendUint(b, md.Chunk, 10)
			b = append(b, `","timestamp":"`...)
			b = strconv.AppendInt(b, md.Timestamp.Milliseconds(), 10)
			b = append(b, `",`...)
		}
		b = append(b, `"payload":"`...)
		b = base64.StdEncoding.AppendEncode(b, md.Payload)
		b = append(b, `"}`...)
	case EventDTMF:
		b = append(b, `,"dtmf":{"track":`...)
		b = appendString(b, m.DTMF.Track)
		b = append(b, `,"digit":`...)
		b = appendString(b, m.DTMF.Digit)
		b = append(b, '}')
	case EventMark:
		b = append(b, `,"mark":{"name":`...)
		b = appendString(b, m.Mark.Name)
		b = append(b, '}')
	case EventStop:
		b = append(b, `,"stop":{"accountSid":`...)
		b = appendString(b, m.Stop.AccountSID)
		b = append(b, `,"callSid":`...)
		b = appendString(b, m.Stop.CallSID)
		b = append(b, '}')
	case EventHangup:
		if m.Hangup != nil {
			b = append(b, `,"hangup":{"reason":`...)
			b = appendString(b, m.Hangup.Reason)
			b = append(b, '}')
		}
	}
	b = append(b, '}')
	if len(b)-len(dst) > MaxMessageBytes {
		return dst, fieldErr(m.Event, "", "encodes to %d bytes, at most %d", len(b)-len(dst), MaxMessageBytes)
	}
	return b, nil
}

// appendString appends s as a JSON string: plain ASCII directly, anything
// needing escapes through encoding/json (Validate has checked UTF-8).
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
