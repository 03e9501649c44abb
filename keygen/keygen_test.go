package keygen

import (
	"strings"
	"testing"
)

func TestGenerateAccessKey(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		id, secret, err := GenerateAccessKey()
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(id, "LTAI") || len(id) != 24 {
			t.Fatalf("id %q: want LTAI + 20 characters", id)
		}
		if len(secret) != 30 {
			t.Fatalf("secret has %d characters, want 30", len(secret))
		}
		for _, s := range []string{id, secret} {
			if strings.Trim(s, base62) != "" {
				t.Fatalf("%q has characters outside base62", s)
			}
		}
		if seen[id] || seen[secret] {
			t.Fatal("repeated credential")
		}
		seen[id], seen[secret] = true, true
	}
}

func TestGenerateUID(t *testing.T) {
	for range 200 {
		uid, err := GenerateUID()
		if err != nil {
			t.Fatal(err)
		}
		if len(uid) != 16 || uid[0] == '0' || strings.Trim(uid, "0123456789") != "" {
			t.Fatalf("uid %q: want 16 digits without a leading zero", uid)
		}
	}
}

func TestRandomStringCoversAlphabet(t *testing.T) {
	s, err := randomString(base62, 20000)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range base62 {
		if !strings.ContainsRune(s, c) {
			t.Fatalf("character %q never drawn", c)
		}
	}
}

func TestGenerateTokenAndPassword(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		tok, err := GenerateToken()
		if err != nil {
			t.Fatal(err)
		}
		pw, err := GeneratePassword()
		if err != nil {
			t.Fatal(err)
		}
		if len(tok) != TokenLen || len(pw) != PasswordLen || strings.Trim(tok+pw, base62) != "" {
			t.Fatalf("token %q, password %q: want %d and %d base62 characters", tok, pw, TokenLen, PasswordLen)
		}
		if seen[tok] || seen[pw] {
			t.Fatal("a generated secret repeated")
		}
		seen[tok], seen[pw] = true, true
	}
}
