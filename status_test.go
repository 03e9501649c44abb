package dialtone_test

import (
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/engine"
)

// TestClassifyOutcome: every final status code of the reference's table
// has its class; the smart code CANCEL makes a call cancelled whatever code
// the far end saw; a live call is live whatever it carries.
func TestClassifyOutcome(t *testing.T) {
	ended := dialtone.CallEnded
	for _, tc := range []struct {
		state       dialtone.CallState
		code, smart string
		want        dialtone.OutcomeClass
	}{
		{ended, "200000", "ANSWERED", dialtone.OutcomeAnswered},
		{ended, "200001", "ANSWERED", dialtone.OutcomeAnswered},
		{ended, "200008", "ANSWERED", dialtone.OutcomeAnswered},
		{ended, "200100", "ANSWERED", dialtone.OutcomeAnswered},
		{ended, "200002", "USER_BUSY", dialtone.OutcomeBusy},
		{ended, "200112", "USER_BUSY", dialtone.OutcomeBusy},
		{ended, "200003", "NO_ANSWER", dialtone.OutcomeNoAnswer},
		{ended, "200113", "NO_ANSWER", dialtone.OutcomeNoAnswer},
		{ended, "200004", "INVALID_NUMBER", dialtone.OutcomeFailed},
		{ended, "200005", "CALL_REJECTED", dialtone.OutcomeFailed},
		{ended, "200006", "ANSWERED", dialtone.OutcomeFailed},
		{ended, "200007", "NO_USER_RESPONDING", dialtone.OutcomeFailed},
		{ended, "200010", "POWERED_OFF", dialtone.OutcomeFailed},
		{ended, "200011", "SUSPEND", dialtone.OutcomeFailed},
		{ended, "200012", "INCOMING_CALL_BARRED", dialtone.OutcomeFailed},
		{ended, "200104", "INCOMING_CALL_BARRED", dialtone.OutcomeFailed},
		{ended, "200105", "INCOMING_CALL_BARRED", dialtone.OutcomeFailed},
		{ended, "200111", "CALL_REJECTED", dialtone.OutcomeFailed},
		{ended, "200116", "INVALID_NUMBER", dialtone.OutcomeFailed},
		{ended, "200117", "", dialtone.OutcomeFailed},
		{ended, "200120", "UNAVAILABLE", dialtone.OutcomeFailed},
		{ended, "200121", "OTHER", dialtone.OutcomeFailed},
		{ended, "482", "", dialtone.OutcomeFailed}, // a carrier code the table does not list
		{ended, "999999", "OTHER", dialtone.OutcomeSystem},
		{ended, "9996", "", dialtone.OutcomeSystem},
		{ended, "", "", dialtone.OutcomeSystem},
		// Cancelled before the answer (the far end saw no answer), after it
		// (it saw a completed call), and a ClickToDial callee left ringing.
		{ended, "200003", "CANCEL", dialtone.OutcomeCancelled},
		{ended, "200000", "CANCEL", dialtone.OutcomeCancelled},
		{ended, "200113", "CANCEL", dialtone.OutcomeCancelled},
		{dialtone.CallQueued, "", "", dialtone.OutcomeLive},
		{dialtone.CallRinging, "200201", "", dialtone.OutcomeLive},
		{dialtone.CallAnswered, "200102", "ANSWERED", dialtone.OutcomeLive},
		{dialtone.CallBridged, "200103", "ANSWERED", dialtone.OutcomeLive},
	} {
		if got := dialtone.ClassifyOutcome(tc.state, tc.code, tc.smart); got != tc.want {
			t.Errorf("ClassifyOutcome(%s, %q, %q) = %s, want %s", tc.state, tc.code, tc.smart, got, tc.want)
		}
		c := &dialtone.Call{State: tc.state, StatusCode: tc.code, SmartStatusCode: tc.smart}
		if got := c.Outcome(); got != tc.want {
			t.Errorf("Call.Outcome of %s %q %q = %s, want %s", tc.state, tc.code, tc.smart, got, tc.want)
		}
	}
}

// TestOutcomeOfEngineFailures: every outcome the engine ends an unanswered
// call with lands in the class of its reason, for every leg role, so the
// badges say what the engine meant.
func TestOutcomeOfEngineFailures(t *testing.T) {
	want := map[dialtone.FailReason]dialtone.OutcomeClass{
		dialtone.FailBusy:        dialtone.OutcomeBusy,
		dialtone.FailNoAnswer:    dialtone.OutcomeNoAnswer,
		dialtone.FailRejected:    dialtone.OutcomeFailed,
		dialtone.FailPoweredOff:  dialtone.OutcomeFailed,
		dialtone.FailSuspended:   dialtone.OutcomeFailed,
		dialtone.FailInvalid:     dialtone.OutcomeFailed,
		dialtone.FailUnreachable: dialtone.OutcomeFailed,
		dialtone.FailOutOfArea:   dialtone.OutcomeFailed,
		dialtone.FailRestricted:  dialtone.OutcomeFailed,
		dialtone.FailCancelled:   dialtone.OutcomeCancelled,
		dialtone.FailSystem:      dialtone.OutcomeSystem,
	}
	for reason, class := range want {
		for _, role := range []engine.LegRole{engine.RoleSingle, engine.RoleCaller, engine.RoleCallee} {
			out := engine.FailOutcome(reason, role)
			if got := dialtone.ClassifyOutcome(dialtone.CallEnded, out.StatusCode, out.SmartStatusCode); got != class {
				t.Errorf("%s (role %d) ends with %s/%s, classed %s; want %s", reason, role, out.StatusCode, out.SmartStatusCode, got, class)
			}
		}
	}
	if got := len(dialtone.OutcomeClasses); got != 6 {
		t.Errorf("%d classes of ended calls, want 6", got)
	}
}

// TestTalkStart: a ClickToDial call talks from the callee's answer, any
// other from the answer of its only leg.
func TestTalkStart(t *testing.T) {
	c := &dialtone.Call{Kind: dialtone.KindTTS}
	if !c.TalkStart().IsZero() {
		t.Error("an unanswered call has a talk start")
	}
	c.A.Start = time.Date(2026, 12, 1, 10, 0, 0, 0, dialtone.ChinaTime)
	if !c.TalkStart().Equal(c.A.Start) {
		t.Error("a TTS call talks from the answer")
	}
	c.Kind = dialtone.KindClickToDial
	if !c.TalkStart().IsZero() {
		t.Error("a ClickToDial call whose callee did not answer has a talk start")
	}
	c.B.Start = c.A.Start.Add(3 * time.Second)
	if !c.TalkStart().Equal(c.B.Start) {
		t.Error("a ClickToDial call talks from the callee's answer")
	}
}
