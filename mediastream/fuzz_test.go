package mediastream

import (
	"encoding/base64"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzDecode: Decode never panics; what it accepts, Encode writes back
// and Decode reads to the same message; what it refuses is an *Error.
func FuzzDecode(f *testing.F) {
	seeds := []string{
		`{"event":"connected","protocol":"Call","version":"1.0.0"}`,
		`{"event":"start","sequenceNumber":"1","streamSid":"MZ1","start":{"streamSid":"MZ1","accountSid":"A","callSid":"C","tracks":["inbound","outbound"],"customParameters":{"k":"v"},"mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}}}`,
		`{"event":"media","sequenceNumber":"2","streamSid":"MZ1","media":{"track":"inbound","chunk":"1","timestamp":"20","payload":"/wB/"}}`,
		`{"event":"dtmf","sequenceNumber":"3","streamSid":"MZ1","dtmf":{"track":"inbound_track","digit":"#"}}`,
		`{"event":"mark","sequenceNumber":"4","streamSid":"MZ1","mark":{"name":"n"}}`,
		`{"event":"stop","sequenceNumber":"5","streamSid":"MZ1","stop":{"accountSid":"A","callSid":"C"}}`,
		`{"event":"media","streamSid":"MZ1","media":{"payload":"/wB/"}}`,
		`{"event":"clear","streamSid":"MZ1"}`,
		`{"event":"hangup","streamSid":"MZ1","hangup":{"reason":"done"}}`,
		`{"event":"mark","streamSid":"MZ1","mark":{"name":"\u00e9\n"}}`,
		`{"event":"media","streamSid":"MZ1","media":{"payload":"/w\nB/"}}`,
		`{}`, `null`, `[]`, `"x"`,
	}
	for _, s := range seeds {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, data []byte, app bool) {
		d := FromDialtone
		if app {
			d = FromApplication
		}
		m, err := Decode(data, d)
		if err != nil {
			e, ok := err.(*Error)
			if !ok {
				t.Fatalf("error %T %v", err, err)
			}
			if !utf8.ValidString(e.Error()) && utf8.Valid(data) {
				t.Fatalf("error text is not UTF-8: %q", e.Error())
			}
			if len(e.Error()) > 1024 {
				t.Fatalf("error text of %d bytes", len(e.Error()))
			}
			return
		}
		// What encoding/json reads agrees on the exact keys.
		var top map[string]any
		if err := json.Unmarshal(data, &top); err != nil {
			t.Fatalf("accepted what encoding/json refuses: %v", err)
		}
		if top["event"] != string(m.Event) || m.Event != EventConnected && top["streamSid"] != m.StreamSID {
			t.Fatalf("event %v streamSid %v, decoded %q %q", top["event"], top["streamSid"], m.Event, m.StreamSID)
		}
		if m.Media != nil {
			md, _ := top["media"].(map[string]any)
			if p, _ := md["payload"].(string); p != base64.StdEncoding.EncodeToString(m.Media.Payload) && !strings.ContainsAny(p, "\r\n") {
				t.Fatalf("payload %q, decoded %x", p, m.Media.Payload)
			}
		}
		enc, err := Encode(m, d)
		if err != nil {
			t.Fatalf("decoded %+v but Encode refuses it: %v", m, err)
		}
		again, err := Decode(enc, d)
		if err != nil {
			t.Fatalf("Decode(Encode) of %s: %v", enc, err)
		}
		if !reflect.DeepEqual(m, again) {
			t.Fatalf("round trip\n%+v\n%+v", m, again)
		}
		if strings.Contains(string(enc), "\n") {
			t.Fatalf("an encoded message holds a newline: %q", enc)
		}
	})
}

// FuzzQuickValid: where quickValid is sure, it agrees with encoding/json.
func FuzzQuickValid(f *testing.F) {
	for _, s := range []string{
		`{"event":"media","streamSid":"MZ1","media":{"payload":"/wB/"}}`,
		`{"a":[1,-0.5e+3,true,false,null,{},[]],"b":"x"}`,
		`{"a":01}`, `{"a":1.}`, `{"a":-}`, `{"a" 1}`, `{"a":1,}`, `[1,]`, `{"a":"\u00e9"}`,
		` {"a" : [ 1 , 2 ] } `, `{"a":tru}`, `"x"`, `1e5`, `{}x`, ``, `{`, `[[[[[[[[[[1]]]]]]]]]]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		valid, sure := quickValid(data)
		if sure && valid != json.Valid(data) {
			t.Fatalf("quickValid(%q) = %v, encoding/json says %v", data, valid, !valid)
		}
	})
}
