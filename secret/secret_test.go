package secret

import (
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestSealOpenRoundTrip(t *testing.T) {
	key := bytes.Repeat([]byte{7}, KeySize)
	s, err := NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	ct, err := s.Seal([]byte("demoSecret"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(ct, []byte("demoSecret")) {
		t.Fatal("ciphertext contains the plaintext")
	}
	pt, err := s.Open(ct)
	if err != nil || string(pt) != "demoSecret" {
		t.Fatalf("Open = %q, %v", pt, err)
	}
	ct2, _ := s.Seal([]byte("demoSecret"))
	if bytes.Equal(ct, ct2) {
		t.Fatal("two seals of the same text are equal: nonce not random")
	}
}

func TestOpenRejectsTamperAndWrongKey(t *testing.T) {
	s1, _ := NewSealer(bytes.Repeat([]byte{1}, KeySize))
	s2, _ := NewSealer(bytes.Repeat([]byte{2}, KeySize))
	ct, _ := s1.Seal([]byte("x"))
	if _, err := s2.Open(ct); !errors.Is(err, ErrTampered) {
		t.Fatalf("wrong key: err = %v", err)
	}
	ct[len(ct)-1] ^= 1
	if _, err := s1.Open(ct); !errors.Is(err, ErrTampered) {
		t.Fatalf("tampered: err = %v", err)
	}
	if _, err := s1.Open([]byte{1, 2}); !errors.Is(err, ErrTampered) {
		t.Fatalf("short: err = %v", err)
	}
	if _, err := NewSealer([]byte("short")); err == nil {
		t.Fatal("short key accepted")
	}
}

func TestLoadOrCreateKey(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "master.key")
	k1, created, err := LoadOrCreateKey(path, "")
	if err != nil || !created || len(k1) != KeySize {
		t.Fatalf("create: %v %v %d", err, created, len(k1))
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("mode = %v, want 0600", st.Mode().Perm())
	}
	k2, created, err := LoadOrCreateKey(path, "")
	if err != nil || created || !bytes.Equal(k1, k2) {
		t.Fatalf("reload: %v %v", err, created)
	}
	hexKey := hex.EncodeToString(bytes.Repeat([]byte{9}, KeySize))
	k3, _, err := LoadOrCreateKey(path, hexKey)
	if err != nil || !bytes.Equal(k3, bytes.Repeat([]byte{9}, KeySize)) {
		t.Fatalf("env hex: %v", err)
	}
	if _, _, err := LoadOrCreateKey(path, "not-a-key"); err == nil {
		t.Fatal("bad env key accepted")
	}
}
