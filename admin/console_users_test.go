package admin

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/console/passhash"
)

func TestConsoleUsers(t *testing.T) {
	e := newEnv(t, token)
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	must(e.store.PutAccount(ctx, &dialtone.Account{UID: "1001", Name: "a", Status: dialtone.AccountActive, VoiceService: true, CreatedAt: now, UpdatedAt: now}))
	users := e.store
	const pw = "s3cret-password-xyz"

	// Create an operator and an account user; the answers carry no hash.
	r := e.do("POST", "/admin/v1/console-users", `{"username":"ops","password":"`+pw+`","operator":true}`)
	if r.status != http.StatusCreated || strings.Contains(r.body, "argon2") || strings.Contains(r.body, pw) {
		t.Fatalf("create operator: %d %s", r.status, r.body)
	}
	r = e.do("POST", "/admin/v1/console-users", `{"username":"李雷","password":"`+pw+`","account_uid":"1001"}`)
	var info ConsoleUserInfo
	r.decode(t, &info)
	if r.status != http.StatusCreated || info.AccountUID != "1001" || info.Operator {
		t.Fatalf("create user: %d %s", r.status, r.body)
	}
	u, err := users.GetConsoleUser(ctx, "ops")
	must(err)
	if !u.Operator() || !passhash.Verify(u.PasswordHash, pw) {
		t.Errorf("stored operator %+v does not verify", u)
	}

	// Replacing keeps CreatedAt and answers 200; a ready hash is taken as is.
	hash, err := passhash.Hash("another-password")
	must(err)
	// The last operator cannot be made an account user...
	demote := `{"username":"ops","password_hash":"` + hash + `","account_uid":"1001"}`
	if r = e.do("POST", "/admin/v1/console-users", demote); r.status != http.StatusConflict || !strings.Contains(r.body, "last operator") {
		t.Fatalf("demote the last operator: %d %s", r.status, r.body)
	}
	// ...but can once there is another.
	if r = e.do("POST", "/admin/v1/console-users", `{"username":"ops2","password":"`+pw+`","operator":true}`); r.status != http.StatusCreated {
		t.Fatalf("second operator: %d %s", r.status, r.body)
	}
	r = e.do("POST", "/admin/v1/console-users", demote)
	if r.status != http.StatusOK {
		t.Fatalf("replace: %d %s", r.status, r.body)
	}
	u2, err := users.GetConsoleUser(ctx, "ops")
	must(err)
	if u2.PasswordHash != hash || u2.AccountUID != "1001" || !u2.CreatedAt.Equal(u.CreatedAt) {
		t.Errorf("replaced user %+v (created %v before)", u2, u.CreatedAt)
	}

	r = e.do("GET", "/admin/v1/console-users", "")
	if r.status != http.StatusOK || !strings.Contains(r.body, `"ops"`) || !strings.Contains(r.body, "李雷") || strings.Contains(r.body, "argon2") {
		t.Errorf("list: %d %s", r.status, r.body)
	}
	r = e.do("GET", "/admin/v1/console-users/ops", "")
	if r.status != http.StatusOK || strings.Contains(r.body, "hash") {
		t.Errorf("get: %d %s", r.status, r.body)
	}

	for _, bad := range []struct{ body, status, code string }{
		{`{"username":"x","password":"short","operator":true}`, "400", CodeInvalidRequest},
		{`{"username":"x","password":"` + pw + `","password_hash":"` + hash + `","operator":true}`, "400", CodeInvalidRequest},
		{`{"username":"x","password_hash":"not-a-hash","operator":true}`, "400", CodeInvalidRequest},
		{`{"username":"x","password":"` + pw + `"}`, "400", CodeInvalidRequest},
		{`{"username":"x","password":"` + pw + `","operator":true,"account_uid":"1001"}`, "400", CodeInvalidRequest},
		{`{"username":" x","password":"` + pw + `","operator":true}`, "400", CodeInvalidRequest},
		{`{"username":"x","password":"` + pw + `","account_uid":"999"}`, "404", CodeAccountNotFound},
		{`{"username":"x","password":"` + pw + `","operator":true,"extra":1}`, "400", CodeInvalidRequest},
	} {
		r := e.do("POST", "/admin/v1/console-users", bad.body)
		status := http.StatusBadRequest
		if bad.status == "404" {
			status = http.StatusNotFound
		}
		msg := r.wantError(t, status, bad.code).Message
		if strings.Contains(msg, pw) || strings.Contains(msg, "not-a-hash") {
			t.Errorf("error message repeats the secret: %s", msg)
		}
	}
	if _, err := users.GetConsoleUser(ctx, "x"); err == nil {
		t.Error("a refused request stored a user")
	}

	if r := e.do("DELETE", "/admin/v1/console-users/ops", ""); r.status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	e.do("DELETE", "/admin/v1/console-users/ops", "").wantError(t, http.StatusNotFound, CodeConsoleUserNotFound)
	e.do("GET", "/admin/v1/console-users/ops", "").wantError(t, http.StatusNotFound, CodeConsoleUserNotFound)
	e.do("PUT", "/admin/v1/console-users", "{}").wantError(t, http.StatusMethodNotAllowed, CodeMethodNotAllowed)
	if strings.Contains(e.logs.String(), pw) || strings.Contains(e.logs.String(), "$argon2id$") {
		t.Errorf("the log holds a password or hash:\n%s", e.logs.String())
	}
}
