package resource

import (
	"context"
	"slices"

	"github.com/dialtone-voice/dialtone"
)

// UpdateSettings changes an account's settings (flow control, SmartCall
// callback URL and secret, blacklist, machine detection); what u leaves
// out keeps its value.
// The callback URL is checked by the egress policy when it changes, and
// who set it (dialtone.IsTrusted) is stored with it; saving the same URL
// again never lowers that trust. A new callback secret given with
// smartcall_callback_secret_grace_seconds rotates: the replaced one keeps
// signing for that long. Removing the URL removes the secret.
func (s *Service) UpdateSettings(ctx context.Context, accountUID string, u dialtone.SettingsUpdate) (*dialtone.AccountSettings, Action, error) {
	now := s.now()
	trusted := dialtone.IsTrusted(ctx)
	grace, err := secretGrace("smartcall_callback_secret", u.SmartCallCallbackSecret, u.SmartCallCallbackSecretGraceSeconds)
	if err != nil {
		return nil, "", err
	}
	var checked string
	if u.SmartCallCallbackURL != nil {
		checked, err = s.precheck(ctx, "smartcall_callback_url", *u.SmartCallCallbackURL, trusted, func() (string, error) {
			old, err := s.store.GetAccountSettings(ctx, accountUID)
			if err != nil {
				return "", err
			}
			return old.SmartCallCallbackURL, nil
		})
		if err != nil {
			return nil, "", err
		}
	}
	var st *dialtone.AccountSettings
	action := Unchanged
	err = s.change(ctx, func(tx *Service) error {
		old, err := tx.store.GetAccountSettings(ctx, accountUID)
		if err != nil {
			return err
		}
		next := *old
		next.Blacklist = slices.Clone(old.Blacklist)
		u.Apply(&next)
		switch {
		case next.SmartCallCallbackURL == "":
			next.SmartCallCallbackTrusted = false
			next.SmartCallCallbackSecret = dialtone.SigningSecret{}
		case next.SmartCallCallbackURL != old.SmartCallCallbackURL:
			next.SmartCallCallbackTrusted = trusted
		case u.SmartCallCallbackURL != nil:
			next.SmartCallCallbackTrusted = old.SmartCallCallbackTrusted || trusted
		}
		if next.SmartCallCallbackURL != "" {
			next.SmartCallCallbackSecret = next.SmartCallCallbackSecret.Live(now)
		}
		if u.SmartCallCallbackSecret != nil {
			next.SmartCallCallbackSecret = next.SmartCallCallbackSecret.Rotate(*u.SmartCallCallbackSecret, now, grace)
		}
		if err := next.Validate(); err != nil {
			return err
		}
		if url := next.SmartCallCallbackURL; url != "" && url != old.SmartCallCallbackURL && url != checked {
			if err := tx.checkURL(ctx, "smartcall_callback_url", url, next.SmartCallCallbackTrusted); err != nil {
				return err
			}
		}
		st, action = &next, Unchanged
		if sameSettings(old, &next) {
			return nil
		}
		if err := tx.store.PutAccountSettings(ctx, accountUID, &next); err != nil {
			return err
		}
		action = Updated
		tx.record(ctx, accountUID, "settings", accountUID, Updated, "per_minute", next.FlowControl.PerMinute,
			"per_hour", next.FlowControl.PerHour, "per_day", next.FlowControl.PerDay,
			"smartcall_callback_url", redactURL(next.SmartCallCallbackURL), "smartcall_callback_trusted", next.SmartCallCallbackTrusted,
			"smartcall_callback_secret", secretChange(old.SmartCallCallbackSecret, next.SmartCallCallbackSecret),
			"smartcall_callback_secret_previous_until", next.SmartCallCallbackSecret.PreviousUntil,
			"blacklist_words", len(next.Blacklist),
			"machine_detection", string(next.MachineDetection.OrOff()))
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return st, action, nil
}

func sameSettings(a, b *dialtone.AccountSettings) bool {
	return a.FlowControl == b.FlowControl && a.SmartCallCallbackURL == b.SmartCallCallbackURL &&
		a.SmartCallCallbackTrusted == b.SmartCallCallbackTrusted && a.SmartCallCallbackSecret == b.SmartCallCallbackSecret &&
		slices.Equal(a.Blacklist, b.Blacklist) && a.MachineDetection.OrOff() == b.MachineDetection.OrOff()
}

// SetGlobalBlacklist sets the operator's keywords forbidden in every
// account's template variables; it returns them cleaned (trimmed, each
// once).
func (s *Service) SetGlobalBlacklist(ctx context.Context, words []string) ([]string, Action, error) {
	if words == nil {
		words = []string{}
	}
	st, action, err := s.UpdateSettings(ctx, "", dialtone.SettingsUpdate{Blacklist: &words})
	if err != nil {
		return nil, "", err
	}
	return st.Blacklist, action, nil
}
