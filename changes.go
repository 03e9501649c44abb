package dialtone

import "context"

// The changes the resource service takes. Their JSON names are those of
// the admin API, the console's forms and provisioning files alike.

// SettingsUpdate changes an account's settings; nil fields keep their
// value, so that a change to one setting cannot reset another by accident.
type SettingsUpdate struct {
	FlowControl          *FlowControlUpdate `json:"flow_control"`
	SmartCallCallbackURL *string            `json:"smartcall_callback_url"`
	Blacklist            *[]string          `json:"blacklist"`
	// SmartCallCallbackSecret replaces the callback's signing secret (""
	// removes it); with SmartCallCallbackSecretGraceSeconds the replaced
	// secret keeps signing for that long (a rotation). A secret that is
	// given again unchanged changes nothing, grace included.
	SmartCallCallbackSecret             *string           `json:"smartcall_callback_secret"`
	SmartCallCallbackSecretGraceSeconds *int64            `json:"smartcall_callback_secret_grace_seconds"`
	MachineDetection                    *MachineDetection `json:"machine_detection"`
	// Media streams: "" removes a URL; ForkStreamKinds replaces the kinds
	// (empty: every kind).
	SmartCallStreamURL *string     `json:"smartcall_stream_url"`
	ForkStreamURL      *string     `json:"fork_stream_url"`
	ForkStreamKinds    *[]ForkKind `json:"fork_stream_kinds"`
}

// FlowControlUpdate changes flow-control limits; nil ones keep their value.
type FlowControlUpdate struct {
	PerMinute *int `json:"per_minute"`
	PerHour   *int `json:"per_hour"`
	PerDay    *int `json:"per_day"`
}

// Apply sets s's fields from u.
func (u SettingsUpdate) Apply(s *AccountSettings) {
	if fc := u.FlowControl; fc != nil {
		for _, l := range []struct {
			v   *int
			dst *int
		}{{fc.PerMinute, &s.FlowControl.PerMinute}, {fc.PerHour, &s.FlowControl.PerHour}, {fc.PerDay, &s.FlowControl.PerDay}} {
			if l.v != nil {
				*l.dst = *l.v
			}
		}
	}
	if u.SmartCallCallbackURL != nil {
		s.SmartCallCallbackURL = *u.SmartCallCallbackURL
	}
	if u.Blacklist != nil {
		s.Blacklist = CleanBlacklist(*u.Blacklist)
	}
	if u.MachineDetection != nil {
		s.MachineDetection = (*u.MachineDetection).OrOff()
	}
	if u.SmartCallStreamURL != nil {
		s.SmartCallStreamURL = *u.SmartCallStreamURL
	}
	if u.ForkStreamURL != nil {
		s.ForkStreamURL = *u.ForkStreamURL
	}
	if u.ForkStreamKinds != nil {
		s.ForkStreamKinds = append([]ForkKind(nil), (*u.ForkStreamKinds)...)
	}
}

// SubscriptionUpdate sets how an account receives one message type: Queue
// and PushURL as given, PushSecret when given ("" removes it), the queue's
// attributes when given; what is not given keeps its value.
type SubscriptionUpdate struct {
	Queue      bool    `json:"queue"`
	PushURL    string  `json:"push_url"`
	PushSecret *string `json:"push_secret"`
	// PushSecretGraceSeconds, with a new PushSecret, keeps the replaced
	// secret signing for that long (a rotation: requests carry both
	// signatures); 0 or absent ends it at once.
	PushSecretGraceSeconds   *int64 `json:"push_secret_grace_seconds"`
	VisibilityTimeoutSeconds *int64 `json:"visibility_timeout_seconds"`
	MessageRetentionSeconds  *int64 `json:"message_retention_seconds"`
}

// KeyUpdate changes an access key; nil fields keep their value.
type KeyUpdate struct {
	Enabled *bool     `json:"enabled"`
	Actions *[]string `json:"actions"`
}

// ConsoleUserInput creates or replaces a console user: exactly one of
// Password and PasswordHash (an argon2id PHC string), and either an
// account or Operator.
type ConsoleUserInput struct {
	Username     string `json:"username"`
	Password     string `json:"password,omitempty"`
	PasswordHash string `json:"password_hash,omitempty"`
	AccountUID   string `json:"account_uid,omitempty"`
	Operator     bool   `json:"operator,omitempty"`
}

type actorKey struct{}

// WithActor names who makes the changes done with ctx, for the audit of
// the resource service: "admin-api", "console:<user>", "provision:<file>".
func WithActor(ctx context.Context, actor string) context.Context {
	return context.WithValue(ctx, actorKey{}, actor)
}

// ActorOf is the actor WithActor put in ctx, or "unknown".
func ActorOf(ctx context.Context) string {
	if a, ok := ctx.Value(actorKey{}).(string); ok && a != "" {
		return a
	}
	return "unknown"
}
