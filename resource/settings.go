package resource

import (
	"context"
	"slices"

	"github.com/dialtone-voice/dialtone"
)

// UpdateSettings changes an account's settings (flow control, SmartCall
// callback URL, blacklist, machine detection); what u leaves out keeps its
// value.
func (s *Service) UpdateSettings(ctx context.Context, accountUID string, u dialtone.SettingsUpdate) (*dialtone.AccountSettings, Action, error) {
	var st *dialtone.AccountSettings
	action := Unchanged
	err := s.change(ctx, func(tx *Service) error {
		old, err := tx.store.GetAccountSettings(ctx, accountUID)
		if err != nil {
			return err
		}
		next := *old
		next.Blacklist = slices.Clone(old.Blacklist)
		u.Apply(&next)
		if err := next.Validate(); err != nil {
			return err
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
			"smartcall_callback_url", next.SmartCallCallbackURL, "blacklist_words", len(next.Blacklist),
			"machine_detection", string(next.MachineDetection.OrOff()))
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return st, action, nil
}

func sameSettings(a, b *dialtone.AccountSettings) bool {
	return a.FlowControl == b.FlowControl && a.SmartCallCallbackURL == b.SmartCallCallbackURL && slices.Equal(a.Blacklist, b.Blacklist) &&
		a.MachineDetection.OrOff() == b.MachineDetection.OrOff()
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
