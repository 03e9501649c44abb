// Package keygen generates credentials and account UIDs from crypto/rand.
// It lives apart from the admin API so that the server's first-start
// default account and the provisioning code share one generator.
package keygen

import (
	"crypto/rand"
	"fmt"
)

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// Lengths of generated credentials. The ID mimics Alibaba's "LTAI" prefix so
// that tools which sniff key IDs (and humans) recognise them.
const (
	IDPrefix    = "LTAI"
	IDRandomLen = 20
	SecretLen   = 30
	UIDLen      = 16
)

// GenerateAccessKey returns a new access key ID ("LTAI" + 20 base62
// characters) and secret (30 base62 characters).
func GenerateAccessKey() (id, secret string, err error) {
	r, err := randomString(base62, IDRandomLen)
	if err != nil {
		return "", "", err
	}
	secret, err = randomString(base62, SecretLen)
	if err != nil {
		return "", "", err
	}
	return IDPrefix + r, secret, nil
}

// GenerateUID returns a new 16-digit account UID. The first digit is never
// 0 so that tools which read UIDs as integers round-trip them unchanged.
func GenerateUID() (string, error) {
	first, err := randomString("123456789", 1)
	if err != nil {
		return "", err
	}
	rest, err := randomString("0123456789", UIDLen-1)
	if err != nil {
		return "", err
	}
	return first + rest, nil
}

// randomString draws n characters uniformly from alphabet (at most 248
// characters) using rejection sampling, so no character is more likely than
// another.
func randomString(alphabet string, n int) (string, error) {
	limit := 256 - 256%len(alphabet)
	out := make([]byte, 0, n)
	buf := make([]byte, n+n/2+8)
	for len(out) < n {
		if _, err := rand.Read(buf); err != nil {
			return "", fmt.Errorf("keygen: random: %w", err)
		}
		for _, b := range buf {
			if int(b) >= limit {
				continue
			}
			out = append(out, alphabet[int(b)%len(alphabet)])
			if len(out) == n {
				break
			}
		}
	}
	return string(out), nil
}

// Lengths of the operator's generated secrets: an admin API token (about
// 190 bits) and a console password (about 119 bits), both base62 so that
// they paste into a shell or a form unquoted.
const (
	TokenLen    = 32
	PasswordLen = 20
)

// GenerateToken returns a new admin API token.
func GenerateToken() (string, error) { return randomString(base62, TokenLen) }

// GeneratePassword returns a new console password.
func GeneratePassword() (string, error) { return randomString(base62, PasswordLen) }
