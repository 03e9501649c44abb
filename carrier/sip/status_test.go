package sip

import (
	"strconv"
	"testing"

	"github.com/dialtone-voice/dialtone"
)

func TestFailReasonTable(t *testing.T) {
	// One case per row of statusReasons, written out independently so a
	// changed row shows up here.
	cases := []struct {
		code int
		want dialtone.FailReason
	}{
		{300, dialtone.FailUnreachable}, {301, dialtone.FailUnreachable}, {302, dialtone.FailUnreachable},
		{305, dialtone.FailUnreachable}, {380, dialtone.FailUnreachable},
		{400, dialtone.FailSystem}, {401, dialtone.FailSystem}, {402, dialtone.FailRestricted},
		{403, dialtone.FailRestricted}, {404, dialtone.FailInvalid}, {405, dialtone.FailSystem},
		{406, dialtone.FailSystem}, {407, dialtone.FailSystem}, {408, dialtone.FailNoAnswer},
		{410, dialtone.FailInvalid}, {413, dialtone.FailSystem}, {414, dialtone.FailInvalid},
		{415, dialtone.FailSystem}, {416, dialtone.FailInvalid}, {420, dialtone.FailSystem},
		{421, dialtone.FailSystem}, {423, dialtone.FailSystem}, {433, dialtone.FailRestricted},
		{480, dialtone.FailNoAnswer}, {481, dialtone.FailSystem}, {482, dialtone.FailUnreachable},
		{483, dialtone.FailUnreachable}, {484, dialtone.FailInvalid}, {485, dialtone.FailInvalid},
		{486, dialtone.FailBusy}, {487, dialtone.FailNoAnswer}, {488, dialtone.FailSystem},
		{491, dialtone.FailSystem}, {493, dialtone.FailSystem},
		{500, dialtone.FailUnreachable}, {501, dialtone.FailSystem}, {502, dialtone.FailUnreachable},
		{503, dialtone.FailUnreachable}, {504, dialtone.FailUnreachable}, {505, dialtone.FailSystem},
		{513, dialtone.FailSystem}, {580, dialtone.FailSystem},
		{600, dialtone.FailBusy}, {603, dialtone.FailRejected}, {604, dialtone.FailInvalid},
		{606, dialtone.FailSystem}, {607, dialtone.FailRejected}, {608, dialtone.FailRejected},
	}
	seen := map[int]bool{}
	for _, c := range cases {
		seen[c.code] = true
		if got := failReason(c.code, ""); got != c.want {
			t.Errorf("%d: got %s, want %s", c.code, got, c.want)
		}
	}
	for code := range statusReasons {
		if !seen[code] {
			t.Errorf("row %d of statusReasons has no test case", code)
		}
	}
	if len(cases) != len(statusReasons) {
		t.Errorf("%d cases for %d rows", len(cases), len(statusReasons))
	}
}

func TestFailReasonFallbacks(t *testing.T) {
	for code, want := range map[int]dialtone.FailReason{
		399: dialtone.FailUnreachable, 499: dialtone.FailSystem, 599: dialtone.FailUnreachable,
		699: dialtone.FailRejected, 700: dialtone.FailSystem, 0: dialtone.FailSystem,
	} {
		if got := failReason(code, ""); got != want {
			t.Errorf("%d: got %s, want %s", code, got, want)
		}
	}
}

func TestFailReasonQ850(t *testing.T) {
	cases := []struct {
		code   int
		header string
		want   dialtone.FailReason
	}{
		{480, `Q.850;cause=20;text="subscriber absent"`, dialtone.FailPoweredOff},
		{480, `Q.850 ; cause = 19`, dialtone.FailNoAnswer},
		{404, `SIP;cause=404, Q.850;cause=1`, dialtone.FailInvalid},
		{503, `Q.850;cause=17`, dialtone.FailBusy},
		{403, `Q.850;cause=55`, dialtone.FailRestricted},
		{480, `Q.850;cause=3`, dialtone.FailOutOfArea},
		{486, `Q.850;cause=999`, dialtone.FailBusy},            // out of range: ignored
		{486, `Q.850;cause=16`, dialtone.FailBusy},             // normal clearing: not in table, SIP code decides
		{603, `SIP;cause=200;text="x"`, dialtone.FailRejected}, // not Q.850
		{486, `garbage;;;=`, dialtone.FailBusy},
	}
	for _, c := range cases {
		if got := failReason(c.code, c.header); got != c.want {
			t.Errorf("%d %q: got %s, want %s", c.code, c.header, got, c.want)
		}
	}
	for cause := range q850Reasons {
		if _, ok := q850Cause("Q.850;cause=" + strconv.Itoa(cause)); !ok {
			t.Errorf("cause %d not parsed", cause)
		}
	}
}
