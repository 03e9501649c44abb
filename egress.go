package dialtone

import (
	"context"
	"time"
)

// Requests Dialtone sends on an account's behalf (receipt pushes, the
// SmartCall callback, HTTP recognisers) go to URLs the account or the
// operator chose. Who set a URL decides how far it may reach: URLs the
// operator set (admin API, provisioning, operator console users, node
// configuration) are trusted; URLs an account user entered in the console
// are not, and the egress policy (package outbound) keeps them off
// loopback and private networks unless the operator's allow-list names
// them. Each stored URL keeps who set it (Subscription.PushURLTrusted,
// AccountSettings.SmartCallCallbackTrusted), so the policy is applied at
// delivery as it was at entry.

// URLChecker checks a URL when it is entered, before it is stored: the
// egress policy's verdict on its form and its addresses
// (outbound.Client.CheckURL). trusted says the operator set it. A non-nil
// error refuses the URL; its message names the rule and is shown to the
// person who entered it. A host name that does not resolve (yet) is not
// refused: every request checks the addresses again when it connects.
type URLChecker interface {
	CheckURL(ctx context.Context, rawURL string, trusted bool) error
}

type trustedKey struct{}

// WithTrusted marks the changes made with ctx as the operator's: the URLs
// they set are trusted. The admin API, provisioning and operator console
// users mark their requests; an account user's never are.
func WithTrusted(ctx context.Context) context.Context {
	return context.WithValue(ctx, trustedKey{}, true)
}

// IsTrusted reports whether ctx carries the operator's mark (WithTrusted).
func IsTrusted(ctx context.Context) bool {
	ok, _ := ctx.Value(trustedKey{}).(bool)
	return ok
}

// MaxSecretGrace bounds how long a replaced signing secret keeps signing
// beside its successor (the rotation's grace period).
const MaxSecretGrace = 7 * 24 * time.Hour

// SigningSecret is a secret that signs the requests Dialtone sends
// (X-Dialtone-Signature), with the secret it replaced while the rotation's
// grace period runs: until PreviousUntil, requests carry a signature with
// each (the new one first), so a receiver may switch to the new secret at
// any moment of the grace.
type SigningSecret struct {
	Current       string
	Previous      string
	PreviousUntil time.Time
}

// Rotate returns the secret after Current is replaced by next at now:
// the replaced secret keeps signing for grace. next equal to Current
// changes nothing; an empty next (no signing) or a grace of zero ends the
// old secret at once. A previous secret whose grace has ended is
// forgotten.
func (s SigningSecret) Rotate(next string, now time.Time, grace time.Duration) SigningSecret {
	if next == s.Current {
		return s.Live(now)
	}
	if next == "" || s.Current == "" || grace <= 0 {
		return SigningSecret{Current: next}
	}
	return SigningSecret{Current: next, Previous: s.Current, PreviousUntil: now.Add(grace)}
}

// Live returns s without a previous secret whose grace ended by now.
func (s SigningSecret) Live(now time.Time) SigningSecret {
	if s.Previous != "" && !now.Before(s.PreviousUntil) {
		s.Previous, s.PreviousUntil = "", time.Time{}
	}
	return s
}

// Rotating reports whether the previous secret still signs at now.
func (s SigningSecret) Rotating(now time.Time) bool {
	return s.Current != "" && s.Previous != "" && now.Before(s.PreviousUntil)
}

// String hides the secrets, so a SigningSecret may sit in a logged value.
func (s SigningSecret) String() string {
	switch {
	case s.Current == "":
		return "none"
	case s.Previous != "":
		return "set (previous until " + s.PreviousUntil.UTC().Format(time.RFC3339) + ")"
	}
	return "set"
}

// GoString hides the secrets from %#v.
func (s SigningSecret) GoString() string { return "dialtone.SigningSecret{" + s.String() + "}" }

// checkSecret checks one secret field: at most 256 bytes, no control
// characters. The value is never quoted: messages reach logs and pages.
func checkSecret(p *problems, field string, s SigningSecret) {
	for _, v := range []string{s.Current, s.Previous} {
		switch {
		case len(v) > 256:
			p.invalid(field, "must be at most 256 bytes")
			return
		case !validSecretText(v):
			p.invalid(field, "must be text without control characters")
			return
		}
	}
	if s.Previous != "" && (s.Current == "" || s.PreviousUntil.IsZero()) {
		p.invalid(field, "a replaced secret needs a current one and the end of its grace")
	}
}

func validSecretText(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == 0xfffd {
			return false
		}
	}
	return true
}

// CheckSecretGrace checks a rotation's grace period given as field, in
// seconds: 0 (the old secret ends at once) to MaxSecretGrace.
func CheckSecretGrace(field string, seconds int64) error {
	if seconds < 0 || seconds > int64(MaxSecretGrace/time.Second) {
		return Invalid(field, "must be 0 to %d seconds (7 days)", int64(MaxSecretGrace/time.Second))
	}
	return nil
}
