package sip

import (
	"strings"
	"testing"

	"github.com/dialtone-voice/dialtone"
)

// FuzzReasonHeader feeds arbitrary Reason header values and final response
// codes to the mapping the carrier applies to every failed INVITE: it must
// never panic and always give one of the known reasons.
func FuzzReasonHeader(f *testing.F) {
	f.Add(486, `Q.850;cause=17;text="User busy"`)
	f.Add(480, `SIP;cause=480, Q.850 ; CAUSE = 18`)
	f.Add(603, `Q.850;cause=999999999999999999999`)
	f.Add(0, `;;;,,,=`)
	known := map[dialtone.FailReason]bool{}
	for _, r := range []dialtone.FailReason{dialtone.FailBusy, dialtone.FailNoAnswer, dialtone.FailRejected, dialtone.FailPoweredOff,
		dialtone.FailSuspended, dialtone.FailInvalid, dialtone.FailUnreachable, dialtone.FailOutOfArea, dialtone.FailRestricted,
		dialtone.FailCancelled, dialtone.FailSystem} {
		known[r] = true
	}
	f.Fuzz(func(t *testing.T, code int, header string) {
		if r := failReason(code, header); !known[r] {
			t.Fatalf("failReason(%d, %q) = %q, not a known reason", code, header, r)
		}
		if n, ok := q850Cause(header); ok && (n <= 0 || n >= 128) {
			t.Fatalf("cause %d out of range from %q", n, header)
		}
	})
}

// FuzzInfoDTMF feeds arbitrary SIP INFO bodies: a key comes out only as one
// of 0-9, *, #, A-D.
func FuzzInfoDTMF(f *testing.F) {
	f.Add("application/dtmf-relay", "Signal=5\r\nDuration=160\r\n")
	f.Add("application/dtmf", "10")
	f.Add("APPLICATION/DTMF-RELAY; charset=x", "signal = #")
	f.Fuzz(func(t *testing.T, contentType, body string) {
		k, ok := parseInfoDTMF(contentType, []byte(body))
		if ok && (len(k) != 1 || !strings.Contains("0123456789*#ABCD", k)) {
			t.Fatalf("key %q from %q %q", k, contentType, body)
		}
	})
}
