package storetest

import (
	"testing"

	"github.com/dialtone-voice/dialtone"
)

// console runs the subtests of the web console's parts of the store
// (dialtone.ConsoleUserStore, dialtone.CallStatsStore).
func (s *suite) console(t *testing.T) {
	t.Run("User", func(t *testing.T) {
		t.Run("RoundTripUpsert", s.consoleUserRoundTrip)
		t.Run("UnknownAccount", s.consoleUserUnknownAccount)
		t.Run("ListDelete", s.consoleUserListDelete)
	})
	t.Run("CallStats", func(t *testing.T) {
		t.Run("Buckets", s.callStatsBuckets)
		t.Run("Isolation", s.callStatsIsolation)
	})
}

func (s *suite) consoleUsers(t *testing.T) (dialtone.Store, dialtone.ConsoleUserStore) {
	t.Helper()
	st := s.store(t)
	return st, st
}

func normConsoleUser(u dialtone.ConsoleUser) dialtone.ConsoleUser {
	u.CreatedAt = normTime(u.CreatedAt)
	return u
}

func (s *suite) consoleUserRoundTrip(t *testing.T) {
	st, us := s.consoleUsers(t)
	putAccount(t, st, "100")
	op := &dialtone.ConsoleUser{Username: "admin", PasswordHash: "$argon2id$x", CreatedAt: at(0).In(elsewhere)}
	user := &dialtone.ConsoleUser{Username: "李雷", AccountUID: "100", PasswordHash: "$argon2id$y", CreatedAt: at(1)}
	for _, u := range []*dialtone.ConsoleUser{op, user} {
		must(t, "PutConsoleUser "+u.Username, us.PutConsoleUser(ctx(t), u))
		got, err := us.GetConsoleUser(ctx(t), u.Username)
		must(t, "GetConsoleUser "+u.Username, err)
		equal(t, "console user "+u.Username, *got, *u, normConsoleUser)
	}
	if got, _ := us.GetConsoleUser(ctx(t), "admin"); got == nil || !got.Operator() {
		t.Errorf("admin is not an operator: %+v", got)
	}
	// Put replaces every field, the account and CreatedAt included.
	moved := &dialtone.ConsoleUser{Username: "admin", AccountUID: "100", PasswordHash: "$argon2id$z", CreatedAt: at(5)}
	must(t, "PutConsoleUser replace", us.PutConsoleUser(ctx(t), moved))
	got, err := us.GetConsoleUser(ctx(t), "admin")
	must(t, "GetConsoleUser after replace", err)
	equal(t, "replaced console user", *got, *moved, normConsoleUser)
	_, err = us.GetConsoleUser(ctx(t), "nobody")
	wantErr(t, "GetConsoleUser unknown", err, dialtone.ErrNotFound)
}

func (s *suite) consoleUserUnknownAccount(t *testing.T) {
	_, us := s.consoleUsers(t)
	err := us.PutConsoleUser(ctx(t), &dialtone.ConsoleUser{Username: "u", AccountUID: "999", PasswordHash: "h", CreatedAt: t0})
	wantErr(t, "PutConsoleUser unknown account", err, dialtone.ErrNotFound)
	if _, err := us.GetConsoleUser(ctx(t), "u"); err == nil {
		t.Error("a user of an unknown account was stored")
	}
}

func (s *suite) consoleUserListDelete(t *testing.T) {
	st, us := s.consoleUsers(t)
	putAccount(t, st, "100")
	list, err := us.ListConsoleUsers(ctx(t))
	must(t, "ListConsoleUsers empty", err)
	if list == nil || len(list) != 0 {
		t.Errorf("empty list = %#v, want an empty non-nil slice", list)
	}
	for _, name := range []string{"carol", "alice", "bob"} {
		must(t, "PutConsoleUser "+name, us.PutConsoleUser(ctx(t), &dialtone.ConsoleUser{Username: name, AccountUID: "100", PasswordHash: "h", CreatedAt: t0}))
	}
	list, err = us.ListConsoleUsers(ctx(t))
	must(t, "ListConsoleUsers", err)
	var names []string
	for _, u := range list {
		names = append(names, u.Username)
	}
	if len(names) != 3 || names[0] != "alice" || names[1] != "bob" || names[2] != "carol" {
		t.Errorf("ListConsoleUsers = %v, want [alice bob carol]", names)
	}
	must(t, "DeleteConsoleUser", us.DeleteConsoleUser(ctx(t), "bob"))
	wantErr(t, "DeleteConsoleUser again", us.DeleteConsoleUser(ctx(t), "bob"), dialtone.ErrNotFound)
	_, err = us.GetConsoleUser(ctx(t), "bob")
	wantErr(t, "GetConsoleUser deleted", err, dialtone.ErrNotFound)
}
