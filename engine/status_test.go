package engine

import (
	"testing"

	"github.com/dialtone-voice/dialtone"
)

// TestFailTable checks every row of the one failure table, per leg role.
func TestFailTable(t *testing.T) {
	rows := []struct {
		reason              dialtone.FailReason
		single, caller, cal Outcome
	}{
		{dialtone.FailBusy, Outcome{"200002", "USER_BUSY"}, Outcome{"200002", "USER_BUSY"}, Outcome{"200112", "USER_BUSY"}},
		{dialtone.FailNoAnswer, Outcome{"200003", "NO_ANSWER"}, Outcome{"200003", "NO_ANSWER"}, Outcome{"200113", "NO_ANSWER"}},
		{dialtone.FailRejected, Outcome{"200005", "CALL_REJECTED"}, Outcome{"200005", "CALL_REJECTED"}, Outcome{"200111", "CALL_REJECTED"}},
		{dialtone.FailPoweredOff, Outcome{"200010", "POWERED_OFF"}, Outcome{"200010", "POWERED_OFF"}, Outcome{"200120", "POWERED_OFF"}},
		{dialtone.FailSuspended, Outcome{"200011", "SUSPEND"}, Outcome{"200011", "SUSPEND"}, Outcome{"200120", "SUSPEND"}},
		{dialtone.FailInvalid, Outcome{"200004", "INVALID_NUMBER"}, Outcome{"200004", "INVALID_NUMBER"}, Outcome{"200116", "INVALID_NUMBER"}},
		{dialtone.FailUnreachable, Outcome{"200005", "UNAVAILABLE"}, Outcome{"200007", "NO_USER_RESPONDING"}, Outcome{"200120", "UNAVAILABLE"}},
		{dialtone.FailOutOfArea, Outcome{"200007", "NO_USER_RESPONDING"}, Outcome{"200007", "NO_USER_RESPONDING"}, Outcome{"200120", "NO_USER_RESPONDING"}},
		{dialtone.FailRestricted, Outcome{"200012", "INCOMING_CALL_BARRED"}, Outcome{"200104", "INCOMING_CALL_BARRED"}, Outcome{"200105", "INCOMING_CALL_BARRED"}},
		{dialtone.FailCancelled, Outcome{"200003", "CANCEL"}, Outcome{"200003", "CANCEL"}, Outcome{"200113", "CANCEL"}},
		{dialtone.FailSystem, Outcome{"999999", "OTHER"}, Outcome{"999999", "OTHER"}, Outcome{"999999", "OTHER"}},
	}
	if len(rows) != len(failTable) {
		t.Fatalf("test has %d rows, table %d: keep them in step", len(rows), len(failTable))
	}
	for _, row := range rows {
		t.Run(string(row.reason), func(t *testing.T) {
			for role, want := range map[LegRole]Outcome{RoleSingle: row.single, RoleCaller: row.caller, RoleCallee: row.cal} {
				if got := FailOutcome(row.reason, role); got != want {
					t.Errorf("role %d: %+v, want %+v", role, got, want)
				}
				if dialtone.StatusText(want.StatusCode) == want.StatusCode {
					t.Errorf("status %s has no text in the status table", want.StatusCode)
				}
			}
		})
	}
	if got := FailOutcome("martian", RoleSingle); got != (Outcome{"999999", "OTHER"}) {
		t.Errorf("unknown reason: %+v", got)
	}
}
