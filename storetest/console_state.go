package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone"
)

// Conformance of the console's shared state: push results (part of
// dialtone.ReceiptStore, run by RunReceipts) and sessions
// (dialtone.ConsoleSessionStore, run by Run; stores without it skip).

func (r *rsuite) pushResults(t *testing.T) {
	t.Run("RoundTripOrder", r.pushResultRoundTrip)
	t.Run("TrimAndIsolation", r.pushResultTrim)
}

func normResult(p dialtone.PushResult) dialtone.PushResult {
	p.At = normTime(p.At)
	return p
}

func (r *rsuite) pushResultRoundTrip(t *testing.T) {
	st := r.store(t)
	putAccount(t, st, "100")
	list, err := st.ListPushResults(ctx(t), "100", dialtone.MsgVoiceReport, 0)
	must(t, "ListPushResults empty", err)
	if list == nil || len(list) != 0 {
		t.Errorf("empty list = %#v, want an empty non-nil slice", list)
	}
	ok := &dialtone.PushResult{ID: "a", AccountUID: "100", MessageType: dialtone.MsgVoiceReport, At: at(0).In(elsewhere),
		URL: "https://example.com/r", HTTPStatus: 200, Count: 3}
	failed := &dialtone.PushResult{ID: "b", AccountUID: "100", MessageType: dialtone.MsgVoiceReport, At: at(time.Second),
		URL: "http://127.0.0.1:1/回执", Error: "connection refused", Count: 1, Test: true}
	tie := &dialtone.PushResult{ID: "c", AccountUID: "100", MessageType: dialtone.MsgVoiceReport, At: at(time.Second),
		URL: "https://example.com/r", HTTPStatus: 500, Error: "HTTP 500", Count: 2}
	for _, p := range []*dialtone.PushResult{ok, failed, tie} {
		must(t, "RecordPushResult "+p.ID, st.RecordPushResult(ctx(t), p))
	}
	list, err = st.ListPushResults(ctx(t), "100", dialtone.MsgVoiceReport, 0)
	must(t, "ListPushResults", err)
	if len(list) != 3 {
		t.Fatalf("ListPushResults = %d results, want 3", len(list))
	}
	// Newest first; equal times by ID, descending.
	for i, want := range []*dialtone.PushResult{tie, failed, ok} {
		equal(t, fmt.Sprintf("result %d", i), list[i], *want, normResult)
	}
	list, err = st.ListPushResults(ctx(t), "100", dialtone.MsgVoiceReport, 1)
	must(t, "ListPushResults limit", err)
	if len(list) != 1 || list[0].ID != "c" {
		t.Errorf("limit 1 = %+v, want only c", list)
	}
	// A store fills in an empty ID.
	noID := &dialtone.PushResult{AccountUID: "100", MessageType: dialtone.MsgVoiceCallReport, At: at(0), URL: "u", HTTPStatus: 200}
	must(t, "RecordPushResult without ID", st.RecordPushResult(ctx(t), noID))
	if noID.ID == "" {
		t.Error("RecordPushResult left the ID empty")
	}
	err = st.RecordPushResult(ctx(t), &dialtone.PushResult{AccountUID: "999", MessageType: dialtone.MsgVoiceReport, At: t0})
	wantErr(t, "RecordPushResult unknown account", err, dialtone.ErrNotFound)
}

func (r *rsuite) pushResultTrim(t *testing.T) {
	st := r.store(t)
	putAccount(t, st, "100")
	putAccount(t, st, "200")
	n := dialtone.PushResultsKept + 5
	for i := range n {
		must(t, "RecordPushResult", st.RecordPushResult(ctx(t), &dialtone.PushResult{ID: fmt.Sprintf("r%03d", i),
			AccountUID: "100", MessageType: dialtone.MsgVoiceReport, At: at(time.Duration(i) * time.Second), HTTPStatus: 200, Count: 1}))
	}
	must(t, "RecordPushResult other type", st.RecordPushResult(ctx(t), &dialtone.PushResult{ID: "x",
		AccountUID: "100", MessageType: dialtone.MsgVoiceCallReport, At: t0, HTTPStatus: 200}))
	must(t, "RecordPushResult other account", st.RecordPushResult(ctx(t), &dialtone.PushResult{ID: "y",
		AccountUID: "200", MessageType: dialtone.MsgVoiceReport, At: t0, HTTPStatus: 200}))
	list, err := st.ListPushResults(ctx(t), "100", dialtone.MsgVoiceReport, 1000)
	must(t, "ListPushResults", err)
	if len(list) != dialtone.PushResultsKept {
		t.Fatalf("kept %d results, want %d", len(list), dialtone.PushResultsKept)
	}
	if want := fmt.Sprintf("r%03d", n-1); list[0].ID != want {
		t.Errorf("newest = %s, want %s", list[0].ID, want)
	}
	if want := fmt.Sprintf("r%03d", n-dialtone.PushResultsKept); list[len(list)-1].ID != want {
		t.Errorf("oldest kept = %s, want %s", list[len(list)-1].ID, want)
	}
	for _, q := range []struct{ acct, typ, id string }{{"100", dialtone.MsgVoiceCallReport, "x"}, {"200", dialtone.MsgVoiceReport, "y"}} {
		list, err := st.ListPushResults(ctx(t), q.acct, q.typ, 0)
		must(t, "ListPushResults "+q.acct+"/"+q.typ, err)
		if len(list) != 1 || list[0].ID != q.id {
			t.Errorf("%s/%s = %+v, want only %s (trimming must not cross groups)", q.acct, q.typ, list, q.id)
		}
	}
}

func (s *suite) consoleSessions(t *testing.T) {
	t.Run("RoundTripUpsertDelete", s.sessionRoundTrip)
	t.Run("Expiry", s.sessionExpiry)
}

func (s *suite) sessionStore(t *testing.T) dialtone.ConsoleSessionStore {
	t.Helper()
	return s.store(t)
}

func normSession(cs dialtone.ConsoleSession) dialtone.ConsoleSession {
	cs.CreatedAt, cs.LastSeen = normTime(cs.CreatedAt), normTime(cs.LastSeen)
	return cs
}

func (s *suite) sessionRoundTrip(t *testing.T) {
	ss := s.sessionStore(t)
	_, err := ss.GetConsoleSession(ctx(t), "nope")
	wantErr(t, "GetConsoleSession unknown", err, dialtone.ErrNotFound)
	op := &dialtone.ConsoleSession{IDHash: "h1", Username: "admin", CSRF: "tok1", Current: "100", UserStamp: "st1",
		CreatedAt: at(0).In(elsewhere), LastSeen: at(time.Minute)}
	user := &dialtone.ConsoleSession{IDHash: "h2", Username: "李雷", AccountUID: "100", CSRF: "tok2", UserStamp: "st2",
		CreatedAt: at(0), LastSeen: at(0)}
	for _, cs := range []*dialtone.ConsoleSession{op, user} {
		must(t, "PutConsoleSession "+cs.IDHash, ss.PutConsoleSession(ctx(t), cs))
		got, err := ss.GetConsoleSession(ctx(t), cs.IDHash)
		must(t, "GetConsoleSession "+cs.IDHash, err)
		equal(t, "session "+cs.IDHash, *got, *cs, normSession)
	}
	// Put replaces every field.
	moved := &dialtone.ConsoleSession{IDHash: "h1", Username: "admin", CSRF: "tok1", Current: "200", UserStamp: "st9",
		CreatedAt: at(time.Second), LastSeen: at(time.Hour)}
	must(t, "PutConsoleSession replace", ss.PutConsoleSession(ctx(t), moved))
	got, err := ss.GetConsoleSession(ctx(t), "h1")
	must(t, "GetConsoleSession after replace", err)
	equal(t, "replaced session", *got, *moved, normSession)
	must(t, "DeleteConsoleSession", ss.DeleteConsoleSession(ctx(t), "h1"))
	must(t, "DeleteConsoleSession again", ss.DeleteConsoleSession(ctx(t), "h1"))
	_, err = ss.GetConsoleSession(ctx(t), "h1")
	wantErr(t, "GetConsoleSession deleted", err, dialtone.ErrNotFound)
	if _, err := ss.GetConsoleSession(ctx(t), "h2"); err != nil {
		t.Errorf("deleting h1 touched h2: %v", err)
	}
}

func (s *suite) sessionExpiry(t *testing.T) {
	ss := s.sessionStore(t)
	put := func(id string, created, seen time.Duration) {
		must(t, "PutConsoleSession "+id, ss.PutConsoleSession(ctx(t), &dialtone.ConsoleSession{IDHash: id, Username: "u",
			CSRF: "c", CreatedAt: at(created), LastSeen: at(seen)}))
	}
	put("fresh", time.Hour, 2*time.Hour)
	put("idle", time.Hour, time.Hour)           // last seen before the idle bound
	put("old", 0, 3*time.Hour)                  // created before the age bound
	put("edge", 30*time.Minute, 90*time.Minute) // exactly on both bounds: kept
	n, err := ss.DeleteExpiredConsoleSessions(ctx(t), at(90*time.Minute), at(30*time.Minute))
	must(t, "DeleteExpiredConsoleSessions", err)
	if n != 2 {
		t.Errorf("deleted %d sessions, want 2", n)
	}
	for id, want := range map[string]bool{"fresh": true, "edge": true, "idle": false, "old": false} {
		_, err := ss.GetConsoleSession(ctx(t), id)
		if got := err == nil; got != want {
			t.Errorf("session %s kept = %v, want %v (err %v)", id, got, want, err)
		}
	}
}
