// Package passhash is the console's password hashing: argon2id in the PHC
// string format. It is a leaf package so that the console, the admin API
// and provisioning (which the console imports) hash the same way.
package passhash

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Argon2id parameters: OWASP's minimum (19 MiB, 2 passes, 1 lane), which
// costs some 30 ms here: slow enough to make guessing a stolen hash
// expensive, cheap enough for a node with two cores that signs people in
// now and then.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
	saltLen      = 16
)

// MinPasswordLen is the shortest password accepted anywhere.
const MinPasswordLen = 8

// MaxPasswordLen bounds a password: argon2id hashes all of it, and nobody
// types more.
const MaxPasswordLen = 1024

// Check is the rule of a new password, everywhere one is set: at least
// MinPasswordLen characters, at most MaxPasswordLen bytes, and not only
// spaces.
func Check(password string) error {
	switch {
	case utf8.RuneCountInString(password) < MinPasswordLen:
		return fmt.Errorf("must have at least %d characters", MinPasswordLen)
	case len(password) > MaxPasswordLen:
		return fmt.Errorf("must be at most %d bytes", MaxPasswordLen)
	case strings.TrimSpace(password) == "":
		return errors.New("must not be only spaces")
	}
	return nil
}

// Hash returns an argon2id hash of password with a random salt, in the PHC
// string format, so parameters can change without breaking old hashes.
func Hash(password string) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("passhash: salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, argonMemory, argonTime, argonThreads, enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

type params struct {
	m, t      uint32
	p         uint8
	salt, key []byte
}

// parse splits a PHC argon2id string, refusing parameters that would make
// one verification cost too much (a hash from a file or an API is input).
func parse(hash string) (params, bool) {
	var ps params
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return ps, false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &ps.m, &ps.t, &ps.p); err != nil || ps.m == 0 || ps.t == 0 || ps.p == 0 || ps.m > 1<<20 || ps.t > 16 {
		return ps, false
	}
	enc := base64.RawStdEncoding
	var err error
	if ps.salt, err = enc.DecodeString(parts[4]); err != nil || len(ps.salt) < 8 {
		return ps, false
	}
	if ps.key, err = enc.DecodeString(parts[5]); err != nil || len(ps.key) < 16 || len(ps.key) > 128 {
		return ps, false
	}
	return ps, true
}

// Valid reports whether hash is an argon2id PHC string Verify can use.
func Valid(hash string) bool {
	_, ok := parse(hash)
	return ok
}

// Verify reports whether password matches hash, comparing in constant
// time. A malformed hash never matches.
func Verify(hash, password string) bool {
	ps, ok := parse(hash)
	if !ok {
		return false
	}
	got := argon2.IDKey([]byte(password), ps.salt, ps.t, ps.m, ps.p, uint32(len(ps.key)))
	return subtle.ConstantTimeCompare(got, ps.key) == 1
}
