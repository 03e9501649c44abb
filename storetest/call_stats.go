package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone"
)

func (s *suite) callStatsStore(t *testing.T) (dialtone.Store, dialtone.CallStatsStore) {
	t.Helper()
	st := s.store(t)
	return st, st
}

// statsCall stores an ended (or, with code "", live) call created at
// created.
func statsCall(t *testing.T, st dialtone.Store, acct, id string, created time.Time, code string, answered bool) {
	t.Helper()
	c := &dialtone.Call{ID: id, AccountUID: acct, Kind: dialtone.KindTTS, Callee: "13800000000", State: dialtone.CallEnded, StatusCode: code, CreatedAt: created}
	if code == "" {
		c.State = dialtone.CallRinging
	}
	if answered {
		c.A.Start = created.Add(time.Second)
	}
	must(t, "CreateCall "+id, st.CreateCall(ctx(t), c, nil))
}

func (s *suite) callStatsBuckets(t *testing.T) {
	st, cs := s.callStatsStore(t)
	putAccount(t, st, "100")
	since := t0
	// Bucket 0: two answered; bucket 2: one busy and one live; one call
	// before since and one at until are outside [since, until).
	statsCall(t, st, "100", "c1", since, dialtone.StatusCompleted, true)
	statsCall(t, st, "100", "c2", since.Add(59*time.Second), dialtone.StatusCompleted, true)
	statsCall(t, st, "100", "c3", since.Add(2*time.Minute), dialtone.StatusBusy, false)
	statsCall(t, st, "100", "c4", since.Add(2*time.Minute+time.Millisecond), "", false)
	statsCall(t, st, "100", "c5", since.Add(-time.Millisecond), dialtone.StatusCompleted, true)
	statsCall(t, st, "100", "c6", since.Add(3*time.Minute), dialtone.StatusCompleted, true)
	got, err := cs.CallStats(ctx(t), "100", since, since.Add(3*time.Minute), time.Minute)
	must(t, "CallStats", err)
	if fmt.Sprint(got.Counts) != "[2 0 2]" {
		t.Errorf("Counts = %v, want [2 0 2]", got.Counts)
	}
	if got.Total != 4 || got.Answered != 2 {
		t.Errorf("Total, Answered = %d, %d, want 4, 2", got.Total, got.Answered)
	}
	want := map[string]int{dialtone.StatusCompleted: 2, dialtone.StatusBusy: 1, "": 1}
	if fmt.Sprint(got.ByStatus) != fmt.Sprint(want) {
		t.Errorf("ByStatus = %v, want %v", got.ByStatus, want)
	}
	if r := got.AnswerRate(); r != 0.5 {
		t.Errorf("AnswerRate = %v, want 0.5", r)
	}
	// A partial last bucket still counts.
	got, err = cs.CallStats(ctx(t), "100", since, since.Add(150*time.Second), time.Minute)
	must(t, "CallStats partial", err)
	if fmt.Sprint(got.Counts) != "[2 0 2]" {
		t.Errorf("partial Counts = %v, want [2 0 2]", got.Counts)
	}
}

func (s *suite) callStatsIsolation(t *testing.T) {
	st, cs := s.callStatsStore(t)
	putAccount(t, st, "100")
	putAccount(t, st, "200")
	statsCall(t, st, "200", "other", t0, dialtone.StatusCompleted, true)
	got, err := cs.CallStats(ctx(t), "100", t0.Add(-time.Hour), t0.Add(time.Hour), time.Hour)
	must(t, "CallStats", err)
	if got.Total != 0 || len(got.ByStatus) != 0 || fmt.Sprint(got.Counts) != "[0 0]" {
		t.Errorf("another account's calls leaked: %+v", got)
	}
}
