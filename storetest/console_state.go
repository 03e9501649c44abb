package storetest

import (
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone"
)

// Conformance of the console's shared state: sessions
// (dialtone.ConsoleSessionStore, run by Run). Push attempts are in
// outbound.go.

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
