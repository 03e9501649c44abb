// Package secret seals access-key secrets at rest with a master key
// (AES-256-GCM) and loads or creates that key.
package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// KeySize is the master key length in bytes (AES-256).
const KeySize = 32

// Sealer implements dialtone.Sealer with AES-256-GCM. The random nonce is
// prepended to each ciphertext.
type Sealer struct{ aead cipher.AEAD }

// NewSealer returns a sealer for a 32-byte master key.
func NewSealer(key []byte) (*Sealer, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("secret: master key must be %d bytes, got %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("secret: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secret: %w", err)
	}
	return &Sealer{aead: aead}, nil
}

// Seal encrypts plaintext.
func (s *Sealer) Seal(plaintext []byte) ([]byte, error) {
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plaintext)+s.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("secret: nonce: %w", err)
	}
	return s.aead.Seal(nonce, nonce, plaintext, nil), nil
}

// ErrTampered is returned by Open when a ciphertext fails authentication,
// for example because it was sealed with another master key.
var ErrTampered = errors.New("secret: ciphertext does not authenticate (wrong master key or tampered data)")

// Open decrypts a ciphertext made by Seal.
func (s *Sealer) Open(ciphertext []byte) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(ciphertext) < n+s.aead.Overhead() {
		return nil, ErrTampered
	}
	out, err := s.aead.Open(nil, ciphertext[:n], ciphertext[n:], nil)
	if err != nil {
		return nil, ErrTampered
	}
	return out, nil
}

// ParseKey decodes a master key given as base64 (standard or URL alphabet)
// or 64 hex digits.
func ParseKey(text string) ([]byte, error) {
	text = strings.TrimSpace(text)
	if len(text) == 2*KeySize {
		if b, err := hex.DecodeString(text); err == nil {
			return b, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(text); err == nil && len(b) == KeySize {
			return b, nil
		}
	}
	return nil, fmt.Errorf("secret: master key must be %d bytes as base64 or hex", KeySize)
}

// LoadOrCreateKey returns the master key: from envValue when it is not empty,
// else from path, else a new random key written to path with mode 0600.
// created reports the last case.
func LoadOrCreateKey(path, envValue string) (key []byte, created bool, err error) {
	if envValue != "" {
		key, err = ParseKey(envValue)
		return key, false, err
	}
	data, err := os.ReadFile(path)
	if err == nil {
		key, err = ParseKey(string(data))
		if err != nil {
			return nil, false, fmt.Errorf("%s: %w", path, err)
		}
		return key, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, fmt.Errorf("secret: read master key: %w", err)
	}
	key = make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, false, fmt.Errorf("secret: generate master key: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, false, fmt.Errorf("secret: create master key: %w", err)
	}
	if _, err := f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n"); err != nil {
		f.Close()
		return nil, false, fmt.Errorf("secret: write master key: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, false, fmt.Errorf("secret: write master key: %w", err)
	}
	return key, true, nil
}

// Derive returns a key for one purpose from the master key, so that a key
// leaked from one use (say, a signed recording URL) says nothing about
// another (the console's sealed messages).
func Derive(master []byte, purpose string) []byte {
	m := hmac.New(sha256.New, master)
	m.Write([]byte(purpose))
	return m.Sum(nil)
}
