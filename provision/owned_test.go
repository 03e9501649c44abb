package provision

import (
	"errors"
	"strings"
	"testing"
)

// TestOwnedErrors: the owners' field errors come with their lines, once,
// and not for values this layer could not read.
func TestOwnedErrors(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []string
		not      []string
	}{
		{"unreadable value", "trunks:\n  - name: t\n    address: [1]\n", []string{"line 3: trunks[0].address: must be a single value"}, []string{"host:port", "no address"}},
		{"missing key", "trunks:\n  - address: 1.2.3.4:5060\n", []string{`line 2: trunks[0]: missing required key "name"`}, []string{"no name"}},
		{"written empty", "sip:\n  advertise: \"\"\n", []string{"line 2: sip.advertise: must not be empty"}, []string{"not a host name"}},
		{"written zero", "network:\n  time_scale: 0\n", []string{"line 2: network.time_scale: must be greater than 0"}, nil},
		{"once", "network:\n  default:\n    dtmf: [{after_prompt: 1, at: 2s, digits: \"1\"}]\n", []string{"line 3: network.default.dtmf[0]: set exactly one of after_prompt and at"}, nil},
		{"inherited once", "network:\n  default: {dtmf: [{at: 1s, digits: \"x\"}]}\n  subscribers:\n    - {number: \"13800000001\", result: answer}\n",
			[]string{"line 2: network.default.dtmf[0].digits"}, []string{"subscribers[0].dtmf"}},
		{"merged anchor", "network:\n  default: &d\n    result: engaged\n  subscribers:\n    - <<: *d\n      number: \"13800000001\"\n",
			[]string{`line 3: network.default.result: "engaged"`}, []string{"subscribers[0].result"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.in), "f.yaml")
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want *Error", err)
			}
			msg := err.Error()
			for _, w := range tc.want {
				if !strings.Contains(msg, "f.yaml: "+w) {
					t.Errorf("missing %q in:\n%s", w, msg)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(msg, n) {
					t.Errorf("%q in:\n%s", n, msg)
				}
			}
			if strings.Count(msg, "\n")+1 != len(pe.Problems) {
				t.Errorf("%d problems in %d lines", len(pe.Problems), strings.Count(msg, "\n")+1)
			}
		})
	}
}

func TestDocumentLine(t *testing.T) {
	doc, err := Parse([]byte("sip:\n  listen: 127.0.0.1:5070\ntrunks:\n  - &t\n    name: a\n    address: 1.2.3.4:5060\n  - <<: *t\n    name: b\nroutes: [{trunk: a}]\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]int{
		"sip": 2, "sip.listen": 2, "trunks": 4, "trunks[0]": 4, "trunks[0].name": 5, "trunks[1].name": 8,
		"trunks[1].address": 6, "routes[0].trunk": 9, "trunks[2]": 0, "sip.advertise": 0, "nothing": 0,
	} {
		if got := doc.Line(path); got != want {
			t.Errorf("Line(%q) = %d, want %d", path, got, want)
		}
	}
	if (&Document{}).Line("sip") != 0 {
		t.Error("an empty document has lines")
	}
}
