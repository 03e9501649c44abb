package engine

import (
	"testing"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/carrier/sim"
)

// TestEarlyMediaCode: a smart call with EarlyMediaAsr that is not answered
// ends with the early_media_code of why, on its ended event; the carrier's
// recognised announcement wins over the SIP-level reason; without
// EarlyMediaAsr, or answered, there is none.
func TestEarlyMediaCode(t *testing.T) {
	subs := map[string]sim.Behavior{
		"13800000011": {Result: sim.ResultPoweredOff},
		"13800000012": {Result: sim.ResultBusy},
		"13800000013": {Result: sim.ResultInvalid},
	}
	h := smartHarness(t, subs)
	srv := newCallbackServer(t, "")
	for _, tc := range []struct {
		callee string
		asr    bool
		want   string
	}{
		{"13800000011", true, EarlyPoweredOff},
		{"13800000012", true, EarlyBusy},
		{"13800000013", true, EarlyEmptyNumber},
		{"13800000012", false, ""},
	} {
		plan := smartPlan(srv.URL, "您好")
		plan.Smart.EarlyMediaAsr = tc.asr
		c := h.start(dialtone.KindSmartCall, tc.callee, plan)
		h.ended(c.ID)
		var ended *dialtone.CallEvent
		for _, ev := range h.events(c.ID) {
			if ev.Type == "ended" {
				ended = &ev
			}
		}
		if ended == nil {
			t.Fatalf("%s: no ended event", tc.callee)
		}
		if got := ended.Detail["early_media_code"]; got != tc.want {
			t.Errorf("%s asr=%v: early_media_code %q, want %q", tc.callee, tc.asr, got, tc.want)
		}
	}
}

// TestEarlyMediaCodeTable: every failure reason has a code, and a
// recognised announcement overrides the reason the call failed with.
func TestEarlyMediaCodeTable(t *testing.T) {
	for reason := range failTable {
		if _, ok := earlyMediaTable[reason]; !ok {
			t.Errorf("reason %s has no early_media_code", reason)
		}
	}
	for _, tc := range []struct {
		reason dialtone.FailReason
		detail map[string]string
		want   string
	}{
		{dialtone.FailNoAnswer, nil, EarlyNoAnswer},
		{dialtone.FailCancelled, nil, EarlyNoAnswer},
		{dialtone.FailUnreachable, nil, EarlyRejected},
		{dialtone.FailSuspended, nil, EarlySuspended},
		{dialtone.FailOutOfArea, nil, EarlyOutOfArea},
		{dialtone.FailRestricted, nil, EarlyCallLoss},
		{"something new", nil, EarlyOther},
		// A 480 after "the number you have dialed is switched off".
		{dialtone.FailNoAnswer, map[string]string{"early_media_reason": "powered_off"}, EarlyPoweredOff},
		{dialtone.FailUnreachable, map[string]string{"early_media_reason": "suspended"}, EarlySuspended},
		// A reason the table does not know falls back to the failure's.
		{dialtone.FailBusy, map[string]string{"early_media_reason": "gibberish"}, EarlyBusy},
	} {
		if got := EarlyMediaCode(tc.reason, tc.detail); got != tc.want {
			t.Errorf("EarlyMediaCode(%s, %v) = %s, want %s", tc.reason, tc.detail, got, tc.want)
		}
	}
}
