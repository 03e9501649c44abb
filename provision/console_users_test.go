package provision

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/dialtone-voice/dialtone/console/passhash"
)

func TestConsoleUsersParseErrors(t *testing.T) {
	doc := `
accounts:
  - uid: "1001"
    name: a
console_users:
  - username: ok
    password: long-enough-pw
    account: "1001"
  - username: ok
    password: short
    operator: true
  - username: both
    password: long-enough-pw
    password_hash: "$argon2id$junk"
    operator: true
  - username: nobody
    password: long-enough-pw
  - username: twice
    password: long-enough-pw
    account: "1001"
    operator: true
  - username: " spaced"
    password: long-enough-pw
    operator: false
  - password: long-enough-pw
    operator: true
    colour: blue
`
	_, err := Parse([]byte(doc), "")
	var pe *Error
	if !errors.As(err, &pe) {
		t.Fatalf("Parse = %v, want *Error", err)
	}
	msg := err.Error()
	for _, want := range []string{
		"line 9: console_users[1].username: duplicate console username \"ok\" (first at line 6)",
		"must have at least 8 characters",
		"must be an argon2id hash",
		"line 13: console_users[2].password: give exactly one of password and password_hash",
		"line 16: console_users[3].account: give the user's account or make it an operator",
		"line 21: console_users[4].operator: an operator belongs to no account",
		"line 22: console_users[5].account: give the user's account or make it an operator",
		`missing required key "username"`,
		`unknown key "colour"`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("errors lack %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "short\"") || strings.Contains(msg, "long-enough-pw") {
		t.Errorf("an error message repeats a password:\n%s", msg)
	}
}

func TestApplyConsoleUsersIdempotent(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	hash, err := passhash.Hash("hashed-password")
	if err != nil {
		t.Fatal(err)
	}
	doc := `
accounts:
  - uid: "1001"
    name: a
console_users:
  - username: ops
    password_hash: "` + hash + `"
    operator: true
  - username: 李雷
    password: plain-password
    account: "1001"
`
	res, err := Apply(ctx, svcOf(st), mustParse(t, doc))
	if err != nil {
		t.Fatal(err)
	}
	if res.ConsoleUsersCreated != 2 {
		t.Fatalf("first apply = %+v", res)
	}
	us := st
	ops, err := us.GetConsoleUser(ctx, "ops")
	if err != nil || !ops.Operator() || ops.PasswordHash != hash {
		t.Errorf("ops = %+v, %v", ops, err)
	}
	li, err := us.GetConsoleUser(ctx, "李雷")
	if err != nil || li.AccountUID != "1001" || !passhash.Verify(li.PasswordHash, "plain-password") {
		t.Fatalf("李雷 = %+v, %v", li, err)
	}
	// Again: nothing is written, not even a new salt for the plain password.
	res, err = Apply(ctx, svcOf(st), mustParse(t, doc))
	if err != nil {
		t.Fatal(err)
	}
	if res.ConsoleUsersUnchanged != 2 || res.ConsoleUsersCreated+res.ConsoleUsersUpdated != 0 {
		t.Errorf("second apply = %+v", res)
	}
	if again, _ := us.GetConsoleUser(ctx, "李雷"); again.PasswordHash != li.PasswordHash {
		t.Error("re-applying rehashed an unchanged password")
	}
	// A new password updates and keeps CreatedAt; a section alone (no
	// accounts) applies too.
	res, err = Apply(ctx, svcOf(st), mustParse(t, `
console_users:
  - {username: 李雷, password: another-password, account: "1001"}
`))
	if err != nil || res.ConsoleUsersUpdated != 1 {
		t.Fatalf("update = %+v, %v", res, err)
	}
	if got, _ := us.GetConsoleUser(ctx, "李雷"); !passhash.Verify(got.PasswordHash, "another-password") || !got.CreatedAt.Equal(li.CreatedAt) {
		t.Errorf("updated user = %+v", got)
	}
	// An account the store does not have is a problem of the document,
	// with its line and key.
	_, err = Apply(ctx, svcOf(st), mustParse(t, `
console_users:
  - {username: x, password: long-enough-pw, account: "999"}
`))
	var perr *Error
	if !errors.As(err, &perr) || !strings.Contains(err.Error(), "line 3: console_users[0].account") {
		t.Errorf("unknown account: %v", err)
	}
}
