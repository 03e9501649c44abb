package outbound

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
)

var body = []byte(`[{"call_id":"1^2","status_code":"200000"}]`)

// The format receipt pushes send today, byte for byte: an independent
// computation of HMAC-SHA256("k", "1700000000.<body>").
func TestSignFormat(t *testing.T) {
	at := time.Unix(1700000000, 0)
	got := Sign("k", at, []byte("hello"))
	// python3 -c 'import hmac,hashlib; print(hmac.new(b"k", b"1700000000.hello", hashlib.sha256).hexdigest())'
	const want = "t=1700000000,v1=0c511384dbc4c6b6cbe53e5da961410697e51518b6128a9f4b1c0920a2ba5ff5"
	if got != want {
		t.Fatalf("Sign = %q, want %q", got, want)
	}
	if err := Verify("k", got, []byte("hello"), at, 0); err != nil {
		t.Fatal(err)
	}
	if (Signer{}).Sign(at, body) != "" {
		t.Error("the zero Signer signed")
	}
}

func TestVerify(t *testing.T) {
	now := time.Unix(1800000000, 0)
	good := Sign("s3cret", now, body)
	v1 := strings.TrimPrefix(good[strings.Index(good, ",")+1:], "v1=")
	for _, c := range []struct {
		name   string
		header string
		body   []byte
		now    time.Time
		want   error
	}{
		{"good", good, body, now, nil},
		{"spaces", "t=1800000000, v1=" + v1, body, now, nil},
		{"several v1, the good one last", "t=1800000000,v1=" + strings.Repeat("0", 64) + ",v1=" + v1, body, now, nil},
		{"unknown scheme ignored", "t=1800000000,v0=abc,v1=" + v1, body, now, nil},
		{"edge of tolerance", good, body, now.Add(5 * time.Minute), nil},
		{"missing", "", body, now, ErrSignatureMissing},
		{"other secret", Sign("other", now, body), body, now, ErrSignatureMismatch},
		{"tampered body", good, append([]byte(" "), body...), now, ErrSignatureMismatch},
		{"upper-case hex", "t=1800000000,v1=" + strings.ToUpper(v1), body, now, ErrSignatureMismatch},
		{"truncated v1", "t=1800000000,v1=" + v1[:63], body, now, ErrSignatureMismatch},
		{"t changed", "t=1800000001,v1=" + v1, body, now, ErrSignatureMismatch},
		{"old", good, body, now.Add(5*time.Minute + time.Second), ErrSignatureExpired},
		{"future", good, body, now.Add(-6 * time.Minute), ErrSignatureExpired},
		{"no t", "v1=" + v1, body, now, ErrSignatureMalformed},
		{"t twice", "t=1,t=1800000000,v1=" + v1, body, now, ErrSignatureMalformed},
		{"signed t", "t=+1800000000,v1=" + v1, body, now, ErrSignatureMalformed},
		{"negative t", "t=-1,v1=" + v1, body, now, ErrSignatureMalformed},
		{"no v1", "t=1800000000", body, now, ErrSignatureMalformed},
		{"empty v1", "t=1800000000,v1=", body, now, ErrSignatureMalformed},
		{"garbage", "t=abc,v1=00", body, now, ErrSignatureMalformed},
		{"too many v1", "t=1800000000" + strings.Repeat(",v1=00", maxSignatures) + ",v1=" + v1, body, now, ErrSignatureMalformed},
		{"too long", "t=1800000000,v1=" + v1 + ",x=" + strings.Repeat("a", 1024), body, now, ErrSignatureMalformed},
	} {
		err := Verify("s3cret", c.header, c.body, c.now, 0)
		if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	if err := Verify("", good, body, now, 0); !errors.Is(err, ErrSignatureMismatch) {
		t.Errorf("an empty secret verified: %v", err)
	}
	if err := VerifyAny([]string{"old", "s3cret"}, good, body, now, time.Minute); err != nil {
		t.Errorf("VerifyAny: %v", err)
	}
}

// A rotation: during the grace both secrets verify, after it only the new.
func TestSignerRotation(t *testing.T) {
	start := time.Unix(1800000000, 0)
	s := Signer{Secret: "old"}
	s = s.Rotate("new", start, 24*time.Hour)
	if s.Secret != "new" || s.Previous != "old" || !s.PreviousUntil.Equal(start.Add(24*time.Hour)) {
		t.Fatalf("Rotate = %+v", s)
	}

	during := start.Add(23 * time.Hour)
	h := s.Sign(during, body)
	if n := strings.Count(h, "v1="); n != 2 {
		t.Fatalf("during the grace: %d signatures in %q", n, h)
	}
	if !strings.HasPrefix(h, fmt.Sprintf("t=%d,v1=%s,v1=", during.Unix(), mac("new", fmt.Sprint(during.Unix()), body))) {
		t.Errorf("the new secret's signature is not first: %q", h)
	}
	for _, secret := range []string{"new", "old"} {
		if err := Verify(secret, h, body, during, 0); err != nil {
			t.Errorf("during the grace, %s: %v", secret, err)
		}
	}
	if err := Verify("other", h, body, during, 0); !errors.Is(err, ErrSignatureMismatch) {
		t.Errorf("during the grace, another secret: %v", err)
	}

	after := start.Add(24 * time.Hour)
	h = s.Sign(after, body)
	if n := strings.Count(h, "v1="); n != 1 {
		t.Fatalf("after the grace: %d signatures in %q", n, h)
	}
	if err := Verify("new", h, body, after, 0); err != nil {
		t.Errorf("after the grace, new: %v", err)
	}
	if err := Verify("old", h, body, after, 0); !errors.Is(err, ErrSignatureMismatch) {
		t.Errorf("after the grace, old: %v", err)
	}

	// Rotating again drops the oldest; a zero grace ends the old at once.
	s2 := s.Rotate("newer", during, time.Hour)
	if s2.Previous != "new" {
		t.Errorf("second rotation kept %q", s2.Previous)
	}
	if s3 := s.Rotate("now", during, 0); s3.Previous != "" || len(s3.Secrets(during)) != 1 {
		t.Errorf("zero grace: %+v", s3)
	}
	if s4 := (Signer{}).Rotate("first", during, time.Hour); s4.Previous != "" {
		t.Errorf("first secret: %+v", s4)
	}
}

// A Signer never shows its secrets: not in %v, %+v, %#v, nor in slog.
func TestSignerHidesSecrets(t *testing.T) {
	s := Signer{Secret: "topsecret-new", Previous: "topsecret-old", PreviousUntil: time.Unix(1800000000, 0)}
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("x", "signer", s, "ptr", &s)
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("x", "signer", s)
	out := fmt.Sprintf("%v %+v %#v %s", s, s, s, s) + fmt.Sprint(struct{ S Signer }{s}) + logged.String()
	if strings.Contains(out, "topsecret") {
		t.Fatalf("a secret shows: %s", out)
	}
}

func TestNewSecret(t *testing.T) {
	a, err := NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewSecret()
	if len(a) != 64 || a == b {
		t.Fatalf("NewSecret: %q %q", a, b)
	}
}
