package mediastream

import (
	"bytes"
	"encoding/base64"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

const sid = "MZ18ad3ab5a668481ce02b83e7395059f0"

// Twilio's documented messages, as its documentation shows them (key
// order and all), decode to what they say.
func TestDecodeTwilioMessages(t *testing.T) {
	payload := bytes.Repeat([]byte{0xff, 0x7f}, 80)
	b64 := base64.StdEncoding.EncodeToString(payload)
	cases := []struct {
		name string
		d    Direction
		json string
		want Message
	}{
		{"connected", FromDialtone, `{"event": "connected", "protocol": "Call", "version": "1.0.0"}`,
			Message{Event: EventConnected, Connected: &Connected{Protocol: "Call", Version: "1.0.0"}}},
		{"start", FromDialtone, `{"event": "start", "sequenceNumber": "1",
			"start": {"accountSid": "AC123", "streamSid": "` + sid + `", "callSid": "CA123",
				"tracks": ["inbound", "outbound"], "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
				"customParameters": {"FirstName": "Jane", "RemoteParty": "Bob"}},
			"streamSid": "` + sid + `"}`,
			Message{Event: EventStart, SequenceNumber: 1, StreamSID: sid, Start: &Start{
				StreamSID: sid, AccountSID: "AC123", CallSID: "CA123", Tracks: []Track{TrackInbound, TrackOutbound},
				CustomParameters: map[string]string{"FirstName": "Jane", "RemoteParty": "Bob"}, MediaFormat: TelephonyFormat}}},
		{"media", FromDialtone, `{"event": "media", "sequenceNumber": "3",
			"media": {"track": "outbound", "chunk": "1", "timestamp": "5", "payload": "` + b64 + `"}, "streamSid": "` + sid + `"}`,
			Message{Event: EventMedia, SequenceNumber: 3, StreamSID: sid, Media: &Media{Track: TrackOutbound, Chunk: 1, Timestamp: 5 * time.Millisecond, Payload: payload}}},
		{"dtmf", FromDialtone, `{"event": "dtmf", "streamSid": "` + sid + `", "sequenceNumber": "5", "dtmf": {"track": "inbound_track", "digit": "1"}}`,
			Message{Event: EventDTMF, SequenceNumber: 5, StreamSID: sid, DTMF: &DTMF{Track: "inbound_track", Digit: "1"}}},
		{"mark echo", FromDialtone, `{"event": "mark", "sequenceNumber": "4", "streamSid": "` + sid + `", "mark": {"name": "my label"}}`,
			Message{Event: EventMark, SequenceNumber: 4, StreamSID: sid, Mark: &Mark{Name: "my label"}}},
		{"stop", FromDialtone, `{"event": "stop", "sequenceNumber": "5", "stop": {"accountSid": "AC123", "callSid": "CA123"}, "streamSid": "` + sid + `"}`,
			Message{Event: EventStop, SequenceNumber: 5, StreamSID: sid, Stop: &Stop{AccountSID: "AC123", CallSID: "CA123"}}},
		{"app media", FromApplication, `{"event": "media", "streamSid": "` + sid + `", "media": {"payload": "` + b64 + `"}}`,
			Message{Event: EventMedia, StreamSID: sid, Media: &Media{Payload: payload}}},
		{"app mark", FromApplication, `{"event": "mark", "streamSid": "` + sid + `", "mark": {"name": "my label"}}`,
			Message{Event: EventMark, StreamSID: sid, Mark: &Mark{Name: "my label"}}},
		{"app clear", FromApplication, `{"event": "clear", "streamSid": "` + sid + `"}`,
			Message{Event: EventClear, StreamSID: sid}},
		{"hangup", FromApplication, `{"event": "hangup", "streamSid": "` + sid + `"}`,
			Message{Event: EventHangup, StreamSID: sid}},
		{"hangup with reason", FromApplication, `{"event": "hangup", "streamSid": "` + sid + `", "hangup": {"reason": "订单已确认"}}`,
			Message{Event: EventHangup, StreamSID: sid, Hangup: &Hangup{Reason: "订单已确认"}}},
		{"unknown keys are ignored", FromApplication, `{"event": "clear", "streamSid": "` + sid + `", "x-trace": {"id": 1}}`,
			Message{Event: EventClear, StreamSID: sid}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Decode([]byte(c.json), c.d)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*got, c.want) {
				t.Fatalf("decoded\n%+v\nwant\n%+v", *got, c.want)
			}
			// What Encode writes decodes to the same message.
			enc, err := Encode(got, c.d)
			if err != nil {
				t.Fatal(err)
			}
			again, err := Decode(enc, c.d)
			if err != nil || !reflect.DeepEqual(again, got) {
				t.Fatalf("round trip of %s: %+v %v", enc, again, err)
			}
		})
	}
}

// Dialtone's messages are exactly Twilio's shapes, strings where Twilio
// sends strings.
func TestEncodeExact(t *testing.T) {
	m := &Message{Event: EventMedia, SequenceNumber: 42, StreamSID: sid, Media: &Media{
		Track: TrackInbound, Chunk: 41, Timestamp: 820*time.Millisecond + 400*time.Microsecond, Payload: []byte{0xff, 0x00, 0x7f}}}
	got, err := Encode(m, FromDialtone)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"event":"media","sequenceNumber":"42","streamSid":"` + sid + `","media":{"track":"inbound","chunk":"41","timestamp":"820","payload":"/wB/"}}`
	if string(got) != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	start := &Message{Event: EventStart, SequenceNumber: 1, StreamSID: sid, Start: &Start{
		StreamSID: sid, AccountSID: "1000000000000001", CallSID: "116012354148^10281378", Tracks: []Track{TrackInbound},
		CustomParameters: map[string]string{"z": "<&>", "a": "订单\n"}, MediaFormat: TelephonyFormat}}
	got, err = Encode(start, FromDialtone)
	if err != nil {
		t.Fatal(err)
	}
	want = `{"event":"start","sequenceNumber":"1","streamSid":"` + sid + `","start":{"streamSid":"` + sid +
		`","accountSid":"1000000000000001","callSid":"116012354148^10281378","tracks":["inbound"],` +
		`"customParameters":{"a":"订单\n","z":"\u003c\u0026\u003e"},"mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}}}`
	if string(got) != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	got, _ = Encode(&Message{Event: EventConnected, Connected: &Connected{Protocol: Protocol, Version: Version}}, FromDialtone)
	if string(got) != `{"event":"connected","protocol":"Call","version":"1.0.0"}` {
		t.Fatalf("connected: %s", got)
	}
}

// Decode refuses what does not follow the protocol, naming the event and
// the field.
func TestDecodeErrors(t *testing.T) {
	ok := base64.StdEncoding.EncodeToString(make([]byte, 160))
	big := base64.StdEncoding.EncodeToString(make([]byte, MaxPayloadBytes+3))
	media := func(track, chunk, ts, payload string) string {
		return `{"event":"media","sequenceNumber":"2","streamSid":"MZ1","media":{"track":` + track + `,"chunk":` + chunk + `,"timestamp":` + ts + `,"payload":` + payload + `}}`
	}
	cases := []struct {
		d    Direction
		json string
		want string // in the error
	}{
		{FromApplication, `{"event":"transcript","streamSid":"MZ1"}`, `unknown event "transcript"`},
		{FromApplication, `{"event":"Media","streamSid":"MZ1","media":{"payload":"` + ok + `"}}`, `unknown event "Media"`},
		{FromApplication, `{"Event":"clear","streamSid":"MZ1"}`, `event: missing`},
		{FromApplication, `{"event":"start","streamSid":"MZ1"}`, `"start" is not sent by the application`},
		{FromDialtone, `{"event":"clear","sequenceNumber":"1","streamSid":"MZ1"}`, `"clear" is not sent by the dialtone`},
		{FromApplication, `{"event":"clear","streamsid":"MZ1"}`, `clear message: streamSid: missing`},
		{FromApplication, `{"event":"clear","streamSid":""}`, `streamSid: missing or empty`},
		{FromApplication, `{"event":"clear","streamSid":"MZ 1"}`, `streamSid: holds ' '`},
		{FromApplication, `{"event":"media","streamSid":"MZ1","media":{"payload":"` + big + `"}}`, `media.payload: 10672 base64 characters`},
		{FromApplication, `{"event":"media","streamSid":"MZ1","media":{"payload":"!!!!"}}`, `media.payload: not standard base64`},
		{FromApplication, `{"event":"media","streamSid":"MZ1","media":{"payload":""}}`, `media.payload: missing or empty`},
		{FromApplication, `{"event":"media","streamSid":"MZ1","media":{"Payload":"` + ok + `"}}`, `media.payload: missing`},
		{FromApplication, `{"event":"media","streamSid":"MZ1","media":"` + ok + `"}`, `media: not an object`},
		{FromApplication, `{"event":"media","streamSid":"MZ1"}`, `media: missing`},
		{FromApplication, `{"event":"mark","streamSid":"MZ1","mark":{"name":""}}`, `mark.name: missing or empty`},
		{FromApplication, `{"event":"mark","streamSid":"MZ1","mark":{"name":"` + strings.Repeat("x", MaxNameBytes+1) + `"}}`, `mark.name: longer than 256 bytes`},
		{FromApplication, `{"event":"mark","streamSid":"MZ1","mark":{"name":7}}`, `mark.name: not a string`},
		{FromApplication, `{"event":"hangup","streamSid":"MZ1","hangup":"now"}`, `hangup: not an object`},
		{FromApplication, `[1,2]`, `not a JSON object`},
		{FromApplication, `{"event":"clear","streamSid":"MZ1"`, `not valid JSON`},
		{FromApplication, `{"event":"clear","streamSid":"MZ1","pad":"` + strings.Repeat("x", MaxMessageBytes) + `"}`, `at most 65536`},
		{FromDialtone, `{"event":"media","sequenceNumber":2,"streamSid":"MZ1"}`, `sequenceNumber: not a string`},
		{FromDialtone, `{"event":"media","streamSid":"MZ1"}`, `sequenceNumber: missing`},
		{FromDialtone, `{"event":"mark","sequenceNumber":"01","streamSid":"MZ1","mark":{"name":"a"}}`, `sequenceNumber: "01" is not a decimal`},
		{FromDialtone, `{"event":"mark","sequenceNumber":"0","streamSid":"MZ1","mark":{"name":"a"}}`, `sequenceNumber: missing (Dialtone numbers`},
		{FromDialtone, media(`"both"`, `"1"`, `"0"`, `"`+ok+`"`), `media.track: "both"`},
		{FromDialtone, media(`"inbound"`, `1`, `"0"`, `"`+ok+`"`), `media.chunk: not a string`},
		{FromDialtone, media(`"inbound"`, `"0"`, `"0"`, `"`+ok+`"`), `media.chunk: missing (chunks count from 1)`},
		{FromDialtone, media(`"inbound"`, `"1"`, `"-20"`, `"`+ok+`"`), `media.timestamp: "-20"`},
		{FromDialtone, media(`"inbound"`, `"1"`, `"99999999999999"`, `"`+ok+`"`), `media.timestamp: 99999999999999 ms`},
		{FromDialtone, `{"event":"dtmf","sequenceNumber":"3","streamSid":"MZ1","dtmf":{"track":"inbound_track","digit":"12"}}`, `dtmf.digit: "12"`},
		{FromDialtone, `{"event":"dtmf","sequenceNumber":"3","streamSid":"MZ1","dtmf":{"track":"inbound","digit":"1"}}`, `dtmf.track: "inbound"`},
		{FromDialtone, `{"event":"stop","sequenceNumber":"3","streamSid":"MZ1","stop":{"accountSid":"AC1"}}`, `stop.callSid: missing`},
		{FromDialtone, `{"event":"connected","protocol":"WebRTC","version":"1.0.0"}`, `protocol: "WebRTC"`},
		{FromDialtone, `{"event":"start","sequenceNumber":"1","streamSid":"MZ1","start":{"streamSid":"MZ2","accountSid":"A","callSid":"C","tracks":["inbound"],"mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}}}`, `start.streamSid: "MZ2" differs`},
		{FromDialtone, `{"event":"start","sequenceNumber":"1","streamSid":"MZ1","start":{"streamSid":"MZ1","accountSid":"A","callSid":"C","tracks":["inbound"],"mediaFormat":{"encoding":"audio/l16","sampleRate":16000,"channels":1}}}`, `start.mediaFormat`},
		{FromDialtone, `{"event":"start","sequenceNumber":"1","streamSid":"MZ1","start":{"streamSid":"MZ1","accountSid":"A","callSid":"C","tracks":["inbound","inbound"],"mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}}}`, `start.tracks: "inbound" given twice`},
		{FromDialtone, `{"event":"start","sequenceNumber":"1","streamSid":"MZ1","start":{"streamSid":"MZ1","accountSid":"A","callSid":"C","tracks":"inbound","mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}}}`, `start.tracks: not an array`},
		{FromDialtone, `{"event":"start","sequenceNumber":"1","streamSid":"MZ1","start":{"streamSid":"MZ1","accountSid":"A","callSid":"C","tracks":["inbound"],"customParameters":{"n":1},"mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}}}`, `start.customParameters: not an object of strings`},
		{FromDialtone, `{"event":"start","sequenceNumber":"1","streamSid":"MZ1","start":{"streamSid":"MZ1","accountSid":"A","callSid":"C","tracks":["inbound"],"mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000.5,"channels":1}}}`, `start.mediaFormat.sampleRate: not an integer`},
	}
	for _, c := range cases {
		_, err := Decode([]byte(c.json), c.d)
		if err == nil {
			t.Errorf("%.120s: decoded", c.json)
			continue
		}
		if !errors.Is(err, ErrProtocol) {
			t.Errorf("%.120s: %v is not ErrProtocol", c.json, err)
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%.120s:\n got %v\nwant %s", c.json, err, c.want)
		}
	}
}

// Encode refuses what Decode would, so Dialtone never sends it.
func TestEncodeValidates(t *testing.T) {
	bad := []struct {
		d Direction
		m Message
	}{
		{FromDialtone, Message{Event: EventMedia, StreamSID: sid, Media: &Media{Track: TrackInbound, Chunk: 1, Payload: []byte{1}}}},                // no sequence
		{FromDialtone, Message{Event: EventMedia, SequenceNumber: 1, StreamSID: sid, Media: &Media{Track: TrackInbound, Chunk: 1}}},                 // no payload
		{FromDialtone, Message{Event: EventClear, SequenceNumber: 1, StreamSID: sid}},                                                               // wrong direction
		{FromApplication, Message{Event: EventMark, StreamSID: sid, Mark: &Mark{Name: "a"}, Media: &Media{Payload: []byte{1}}}},                     // two bodies
		{FromApplication, Message{Event: EventMark, StreamSID: sid, Mark: &Mark{Name: "\xff"}}},                                                     // not UTF-8
		{FromDialtone, Message{Event: EventStart, SequenceNumber: 1, StreamSID: sid, Start: &Start{StreamSID: sid, AccountSID: "A", CallSID: "C"}}}, // no tracks
	}
	for _, c := range bad {
		if b, err := Encode(&c.m, c.d); err == nil {
			t.Errorf("encoded %s", b)
		}
	}
	params := map[string]string{}
	for i := range MaxCustomParameters + 1 {
		params[strings.Repeat("k", i+1)] = "v"
	}
	if err := CheckParameters(params); err == nil || !strings.Contains(err.Error(), "33 entries") {
		t.Errorf("too many parameters: %v", err)
	}
}
