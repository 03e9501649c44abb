package outbound

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
)

// SignatureHeader carries the signature of every request Dialtone signs:
//
//	X-Dialtone-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>
//
// While a rotated secret's grace period runs the header carries one v1
// per secret, the new one first: t=…,v1=<new>,v1=<old>. A receiver
// accepts the request when any v1 matches the secret it holds.
const SignatureHeader = "X-Dialtone-Signature"

// DefaultTolerance is how far a signature's t may be from the receiver's
// clock, either way, before it is refused as a possible replay.
const DefaultTolerance = 5 * time.Minute

// maxSignatures bounds the v1 values a verifier reads (a sender never
// sends more than two; the bound keeps a hostile header's cost small).
const maxSignatures = 8

// Errors of Verify, matched with errors.Is.
var (
	ErrSignatureMissing   = errors.New("outbound: no " + SignatureHeader)
	ErrSignatureMalformed = errors.New("outbound: malformed " + SignatureHeader)
	ErrSignatureMismatch  = errors.New("outbound: signature mismatch")
	ErrSignatureExpired   = errors.New("outbound: signature timestamp outside the tolerance")
)

// Signer signs request bodies with an account's secret and, while a
// rotation's grace period runs, with the secret it replaced. The zero
// Signer signs nothing. Its String, GoString and LogValue never show the
// secrets, so a Signer may sit in a logged struct.
type Signer struct {
	// Secret is the current secret; "" signs nothing.
	Secret string
	// Previous is the replaced secret; requests signed before
	// PreviousUntil carry its signature too.
	Previous      string
	PreviousUntil time.Time
}

// Rotate returns the signer after the secret is replaced by next at now:
// for grace, requests carry signatures with both secrets; after it, only
// with next. A grace of zero or less, or a signer without a secret, ends
// the old secret at once.
func (s Signer) Rotate(next string, now time.Time, grace time.Duration) Signer {
	if s.Secret == "" || grace <= 0 || s.Secret == next {
		return Signer{Secret: next}
	}
	return Signer{Secret: next, Previous: s.Secret, PreviousUntil: now.Add(grace)}
}

// Secrets returns the secrets that sign a request made at t: the current
// one, then the previous one while its grace runs.
func (s Signer) Secrets(t time.Time) []string {
	if s.Secret == "" {
		return nil
	}
	if s.Previous != "" && s.Previous != s.Secret && t.Before(s.PreviousUntil) {
		return []string{s.Secret, s.Previous}
	}
	return []string{s.Secret}
}

// Sign returns the SignatureHeader value for body sent at t, "" when the
// signer has no secret.
func (s Signer) Sign(t time.Time, body []byte) string {
	secrets := s.Secrets(t)
	if len(secrets) == 0 {
		return ""
	}
	ts := strconv.FormatInt(t.Unix(), 10)
	var b strings.Builder
	b.WriteString("t=")
	b.WriteString(ts)
	for _, k := range secrets {
		b.WriteString(",v1=")
		b.WriteString(mac(k, ts, body))
	}
	return b.String()
}

// String hides the secrets.
func (s Signer) String() string {
	switch {
	case s.Secret == "":
		return "outbound.Signer{none}"
	case s.Previous != "":
		return "outbound.Signer{secret, previous until " + s.PreviousUntil.UTC().Format(time.RFC3339) + "}"
	}
	return "outbound.Signer{secret}"
}

// GoString hides the secrets from %#v.
func (s Signer) GoString() string { return s.String() }

// LogValue hides the secrets from log/slog.
func (s Signer) LogValue() slog.Value { return slog.StringValue(s.String()) }

// Sign returns the SignatureHeader value of body sent at t with one
// secret (what receipt pushes send today).
func Sign(secret string, t time.Time, body []byte) string {
	return Signer{Secret: secret}.Sign(t, body)
}

func mac(secret, ts string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// Verify checks a SignatureHeader value as a receiver should: one of its
// v1 values is the HMAC of body with secret (compared in constant time),
// and its t is within tolerance of now (DefaultTolerance when tolerance
// is zero or less). The error wraps one of the ErrSignature… values.
func Verify(secret, header string, body []byte, now time.Time, tolerance time.Duration) error {
	return VerifyAny([]string{secret}, header, body, now, tolerance)
}

// VerifyAny is Verify for a receiver that holds several secrets (its own
// rotation): any v1 matching any secret is accepted.
func VerifyAny(secrets []string, header string, body []byte, now time.Time, tolerance time.Duration) error {
	if header == "" {
		return ErrSignatureMissing
	}
	ts, sigs, err := parseSignature(header)
	if err != nil {
		return err
	}
	match := 0
	for _, k := range secrets {
		if k == "" {
			continue
		}
		want := []byte(mac(k, ts, body))
		for _, s := range sigs {
			// No early return: the time taken does not say which
			// value matched.
			match |= subtleEqual(want, s)
		}
	}
	if match == 0 {
		return ErrSignatureMismatch
	}
	sec, _ := strconv.ParseInt(ts, 10, 64) // parseSignature checked it
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("%w (%s; t=%s)", ErrSignatureExpired, tolerance, ts)
	}
	return nil
}

func subtleEqual(a, b []byte) int {
	if hmac.Equal(a, b) {
		return 1
	}
	return 0
}

// parseSignature reads "t=<digits>,v1=<hex>[,v1=<hex>…]"; other keys
// (later schemes) are ignored, a second t is malformed.
func parseSignature(header string) (ts string, sigs [][]byte, err error) {
	if len(header) > 1024 {
		return "", nil, fmt.Errorf("%w: longer than 1024 bytes", ErrSignatureMalformed)
	}
	seenT := false
	for part := range strings.SplitSeq(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			if seenT {
				return "", nil, fmt.Errorf("%w: t given twice", ErrSignatureMalformed)
			}
			seenT = true
			ts = v
		case "v1":
			if len(sigs) == maxSignatures {
				return "", nil, fmt.Errorf("%w: more than %d v1 values", ErrSignatureMalformed, maxSignatures)
			}
			if v != "" {
				sigs = append(sigs, []byte(v))
			}
		}
	}
	if ts == "" || len(ts) > 18 || !allDigits(ts, 10) {
		return "", nil, fmt.Errorf("%w: t must be unix seconds", ErrSignatureMalformed)
	}
	if len(sigs) == 0 {
		return "", nil, fmt.Errorf("%w: no v1 value", ErrSignatureMalformed)
	}
	return ts, sigs, nil
}

// NewSecret returns a new random signing secret: 32 bytes, hex-encoded.
func NewSecret() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("outbound: a new secret: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}
