package dialtone

import (
	"slices"
	"time"
)

// AccountStatus is the lifecycle state of a tenant account. Each non-active
// state has its own Alibaba business error code (see errors.go).
type AccountStatus string

const (
	AccountActive    AccountStatus = "active"
	AccountSuspended AccountStatus = "suspended"
	AccountAbnormal  AccountStatus = "abnormal"
	AccountDeleted   AccountStatus = "deleted"
)

// Valid reports whether s is one of the known statuses.
func (s AccountStatus) Valid() bool {
	switch s {
	case AccountActive, AccountSuspended, AccountAbnormal, AccountDeleted:
		return true
	}
	return false
}

// Feature is one separately activated part of the voice service.
type Feature string

const (
	FeatureNotify      Feature = "notify"
	FeatureTTS         Feature = "tts"
	FeatureIVR         Feature = "ivr"
	FeatureClickToDial Feature = "clicktodial"
	FeatureSmartCall   Feature = "smartcall"
)

// AllFeatures lists every feature in a stable order.
var AllFeatures = []Feature{FeatureNotify, FeatureTTS, FeatureIVR, FeatureClickToDial, FeatureSmartCall}

// Valid reports whether f is a known feature.
func (f Feature) Valid() bool { return slices.Contains(AllFeatures, f) }

// Account is a tenant: everything else (keys, numbers, templates, calls,
// queues) belongs to exactly one account.
type Account struct {
	UID          string // digits only
	Name         string
	Status       AccountStatus
	VoiceService bool      // false: the voice service has not been activated
	Features     []Feature // activated features; nil means all
	// RateLimits overrides the per-action requests-per-second limits of the
	// gateway for this account; actions absent here use the defaults.
	RateLimits map[string]float64
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// HasFeature reports whether the account activated f.
func (a *Account) HasFeature(f Feature) bool {
	if a.Features == nil {
		return true
	}
	return slices.Contains(a.Features, f)
}

// ValidUID reports whether uid is a usable account UID: 1 to 32 ASCII digits.
func ValidUID(uid string) bool {
	if len(uid) == 0 || len(uid) > 32 {
		return false
	}
	for i := 0; i < len(uid); i++ {
		if uid[i] < '0' || uid[i] > '9' {
			return false
		}
	}
	return true
}

// AccessKey is a long-lived credential of an account. Secret is held in
// plain text only in memory; stores keep it sealed (see Sealer).
type AccessKey struct {
	ID         string
	AccountUID string
	Secret     string
	Enabled    bool
	// Actions limits the key to these API actions; empty or containing "*"
	// allows every action.
	Actions   []string
	CreatedAt time.Time
}

// Allows reports whether the key may call action.
func (k *AccessKey) Allows(action string) bool {
	if len(k.Actions) == 0 {
		return true
	}
	for _, a := range k.Actions {
		if a == "*" || a == action {
			return true
		}
	}
	return false
}

// TempCredential is a temporary (STS-style) credential, issued for example by
// QueryTokenForMnsQueue. It is valid only until ExpiresAt and only for what
// Scope lists.
type TempCredential struct {
	AccessKeyID   string
	Secret        string
	SecurityToken string
	AccountUID    string
	// Scope names what the credential may touch: queue names for MNS
	// ("queue:<name>"), or API actions ("action:<name>"). "*" allows all.
	Scope     []string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Permits reports whether the credential's scope includes item.
func (c *TempCredential) Permits(item string) bool {
	for _, s := range c.Scope {
		if s == "*" || s == item {
			return true
		}
	}
	return false
}

// Expired reports whether the credential is no longer valid at now.
func (c *TempCredential) Expired(now time.Time) bool { return !now.Before(c.ExpiresAt) }
