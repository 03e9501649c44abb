package resource

import (
	"context"
	"slices"

	"github.com/dialtone-voice/dialtone"
)

// UpdateSettings changes an account's settings (flow control, SmartCall
// callback URL and secret, blacklist, machine detection, media streams);
// what u leaves out keeps its value.
// The callback URL is checked by the egress policy when it changes, and
// who set it (dialtone.IsTrusted) is stored with it; saving the same URL
// again never lowers that trust; so are the stream URLs. A new callback
// secret given with smartcall_callback_secret_grace_seconds rotates: the
// replaced one keeps signing for that long. The secret signs callbacks and
// stream upgrades: removing the last of those URLs removes it, removing
// the fork's URL its kinds.
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
	// The stream URLs, as the callback's.
	var checkedAgent, checkedFork string
	if u.SmartCallStreamURL != nil {
		checkedAgent, err = s.precheck(ctx, "smartcall_stream_url", *u.SmartCallStreamURL, trusted, func() (string, error) {
			old, err := s.store.GetAccountSettings(ctx, accountUID)
			if err != nil {
				return "", err
			}
			return old.SmartCallStreamURL, nil
		})
		if err != nil {
			return nil, "", err
		}
	}
	if u.ForkStreamURL != nil {
		checkedFork, err = s.precheck(ctx, "fork_stream_url", *u.ForkStreamURL, trusted, func() (string, error) {
			old, err := s.store.GetAccountSettings(ctx, accountUID)
			if err != nil {
				return "", err
			}
			return old.ForkStreamURL, nil
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
		next.SmartCallCallbackTrusted = trustOf(old.SmartCallCallbackURL, next.SmartCallCallbackURL, old.SmartCallCallbackTrusted, u.SmartCallCallbackURL != nil, trusted)
		next.SmartCallStreamTrusted = trustOf(old.SmartCallStreamURL, next.SmartCallStreamURL, old.SmartCallStreamTrusted, u.SmartCallStreamURL != nil, trusted)
		next.ForkStreamTrusted = trustOf(old.ForkStreamURL, next.ForkStreamURL, old.ForkStreamTrusted, u.ForkStreamURL != nil, trusted)
		if next.ForkStreamURL == "" && u.ForkStreamKinds == nil {
			next.ForkStreamKinds = nil // the kinds go with the fork
		}
		signs := next.SmartCallCallbackURL != "" || next.SmartCallStreamURL != "" || next.ForkStreamURL != ""
		if !signs {
			// The secret signs callbacks and streams: with none of them it
			// goes.
			next.SmartCallCallbackSecret = dialtone.SigningSecret{}
		}
		if signs {
			next.SmartCallCallbackSecret = next.SmartCallCallbackSecret.Live(now)
		}
		if u.SmartCallCallbackSecret != nil {
			next.SmartCallCallbackSecret = next.SmartCallCallbackSecret.Rotate(*u.SmartCallCallbackSecret, now, grace)
		}
		if err := next.Validate(); err != nil {
			return err
		}
		for _, c := range []struct {
			field, url, old, checked string
			trusted                  bool
		}{
			{"smartcall_callback_url", next.SmartCallCallbackURL, old.SmartCallCallbackURL, checked, next.SmartCallCallbackTrusted},
			{"smartcall_stream_url", next.SmartCallStreamURL, old.SmartCallStreamURL, checkedAgent, next.SmartCallStreamTrusted},
			{"fork_stream_url", next.ForkStreamURL, old.ForkStreamURL, checkedFork, next.ForkStreamTrusted},
		} {
			if c.url != "" && c.url != c.old && c.url != c.checked {
				if err := tx.checkURL(ctx, c.field, c.url, c.trusted); err != nil {
					return err
				}
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
			"machine_detection", string(next.MachineDetection.OrOff()),
			"smartcall_stream_url", redactURL(next.SmartCallStreamURL), "smartcall_stream_trusted", next.SmartCallStreamTrusted,
			"fork_stream_url", redactURL(next.ForkStreamURL), "fork_stream_trusted", next.ForkStreamTrusted,
			"fork_stream_kinds", dialtone.FormatForkKinds(next.ForkStreamKinds))
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
		slices.Equal(a.Blacklist, b.Blacklist) && a.MachineDetection.OrOff() == b.MachineDetection.OrOff() &&
		a.SmartCallStreamURL == b.SmartCallStreamURL && a.SmartCallStreamTrusted == b.SmartCallStreamTrusted &&
		a.ForkStreamURL == b.ForkStreamURL && a.ForkStreamTrusted == b.ForkStreamTrusted &&
		slices.Equal(a.ForkStreamKinds, b.ForkStreamKinds)
}

// trustOf is who set a URL after a change: none without a URL, the
// changer's for a new URL, and for the same URL saved again the better of
// the two (saving never lowers trust).
func trustOf(oldURL, newURL string, oldTrusted, given, trusted bool) bool {
	switch {
	case newURL == "":
		return false
	case newURL != oldURL:
		return trusted
	case given:
		return oldTrusted || trusted
	}
	return oldTrusted
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
