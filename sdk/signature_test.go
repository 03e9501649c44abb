package sdk_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone/sdk"
)

// sign computes a v1 value independently of the SDK.
func sign(secret string, t int64, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(m, "%d.", t)
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// During a rotation Dialtone sends t=…,v1=<new>,v1=<old>: a receiver
// holding either secret accepts it; after the grace only the new
// secret's v1 is sent and the old secret no longer verifies.
func TestVerifySignatureRotation(t *testing.T) {
	now := time.Unix(1800000000, 0)
	body := []byte(`[{"receipt_id":"r1"}]`)
	both := fmt.Sprintf("t=%d,v1=%s,v1=%s", now.Unix(), sign("new", now.Unix(), body), sign("old", now.Unix(), body))
	onlyNew := fmt.Sprintf("t=%d,v1=%s", now.Unix(), sign("new", now.Unix(), body))
	for _, c := range []struct {
		secret, header string
		want           error
	}{
		{"new", both, nil},
		{"old", both, nil},
		{"new", onlyNew, nil},
		{"old", onlyNew, sdk.ErrSignatureMismatch},
		{"other", both, sdk.ErrSignatureMismatch},
		{"", both, sdk.ErrSignatureMismatch},
		{"new", fmt.Sprintf("t=%d,v1=%s,v1=%s", now.Unix(), sign("old", now.Unix(), body), sign("new", now.Unix(), body)), nil}, // any order
		{"new", fmt.Sprintf("t=%d, v1=%s , v0=x", now.Unix(), sign("new", now.Unix(), body)), nil},                              // spaces, unknown schemes
		{"new", "", sdk.ErrSignatureMissing},
		{"new", "v1=" + sign("new", now.Unix(), body), sdk.ErrSignatureMalformed},
		{"new", fmt.Sprintf("t=1,t=%d,v1=%s", now.Unix(), sign("new", now.Unix(), body)), sdk.ErrSignatureMalformed},
		{"new", fmt.Sprintf("t=%d", now.Unix()), sdk.ErrSignatureMalformed},
		{"new", fmt.Sprintf("t=%d%s,v1=%s", now.Unix(), strings.Repeat(",v1=00", 8), sign("new", now.Unix(), body)), sdk.ErrSignatureMalformed},
	} {
		err := sdk.VerifySignature(c.secret, c.header, body, now, 0)
		if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
			t.Errorf("secret %q, header %q: %v, want %v", c.secret, c.header, err, c.want)
		}
	}
	if err := sdk.VerifySignature("new", both, body, now.Add(6*time.Minute), 0); !errors.Is(err, sdk.ErrSignatureExpired) {
		t.Errorf("6 minutes later: %v", err)
	}
	if err := sdk.VerifySignature("new", both, body, now.Add(6*time.Minute), 10*time.Minute); err != nil {
		t.Errorf("6 minutes later with a 10-minute tolerance: %v", err)
	}
	if err := sdk.VerifySignature("new", sdk.SignPush("new", now, body), body, now, 0); err != nil {
		t.Errorf("SignPush: %v", err)
	}
}

// PushHandler accepts a rotation's header with either secret.
func TestPushHandlerRotation(t *testing.T) {
	body := []byte(`[{"call_id":"1^2","status_code":"200000","receipt_id":"r2"}]`)
	now := time.Now().Unix()
	both := fmt.Sprintf("t=%d,v1=%s,v1=%s", now, sign("new", now, body), sign("old", now, body))
	for _, secret := range []string{"new", "old", "other"} {
		h := sdk.PushHandler(secret, func(context.Context, []sdk.Receipt) error { return nil })
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		req.Header.Set(sdk.PushSignatureHeader, both)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		want := http.StatusOK
		if secret == "other" {
			want = http.StatusUnauthorized
		}
		if w.Code != want {
			t.Errorf("secret %s: HTTP %d %s, want %d", secret, w.Code, w.Body, want)
		}
	}
}

// SmartCallHandler with SmartCallSecrets verifies each callback before
// fn sees it: unsigned, forged or stale requests get 401; during a
// rotation a request signed with the new and the old secret passes with
// either.
func TestSmartCallHandlerSecrets(t *testing.T) {
	calls := 0
	h := sdk.SmartCallHandler(func(ctx context.Context, ev sdk.SmartCallEvent) (sdk.SmartCallAction, error) {
		calls++
		if ev.CallID != "c1" || ev.Words != "你好" {
			t.Errorf("event %+v", ev)
		}
		return sdk.SmartCallAction{Action: "hangup"}, nil
	}, sdk.SmartCallSecrets("new-secret"))
	body := url.Values{"call_id": {"c1"}, "timestamp": {"1"}, "content_type": {"normal"}, "content": {`{"words":"你好"}`}}.Encode()
	post := func(sig string) int {
		req := httptest.NewRequest(http.MethodPost, "/cb", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8")
		if sig != "" {
			req.Header.Set("X-Dialtone-Signature", sig)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	now := time.Now().Unix()
	header := func(t int64, secrets ...string) string {
		h := fmt.Sprintf("t=%d", t)
		for _, k := range secrets {
			h += ",v1=" + sign(k, t, []byte(body))
		}
		return h
	}
	rotating := header(now, "new-secret", "old-secret")
	for _, c := range []struct {
		name, sig string
		want      int
	}{
		{"unsigned", "", http.StatusUnauthorized},
		{"another secret", header(now, "forged"), http.StatusUnauthorized},
		{"stale", header(now-3600, "new-secret"), http.StatusUnauthorized},
		{"signed", header(now, "new-secret"), http.StatusOK},
		{"rotating", rotating, http.StatusOK},
	} {
		if got := post(c.sig); got != c.want {
			t.Errorf("%s: HTTP %d, want %d", c.name, got, c.want)
		}
	}
	if calls != 2 {
		t.Errorf("fn saw %d callbacks, want the 2 verified ones", calls)
	}
	// Holding only the old secret, the rotating request passes too.
	old := sdk.SmartCallHandler(func(ctx context.Context, ev sdk.SmartCallEvent) (sdk.SmartCallAction, error) {
		return sdk.SmartCallAction{}, nil
	}, sdk.SmartCallSecrets("old-secret"))
	req := httptest.NewRequest(http.MethodPost, "/cb", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Dialtone-Signature", rotating)
	rec := httptest.NewRecorder()
	old.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Errorf("the old secret during the rotation: HTTP %d", rec.Code)
	}
}
