package resource

import (
	"context"
	"maps"
	"slices"

	"github.com/dialtone-voice/dialtone"
)

// PutAccount creates the account or replaces its name, status, features
// and rate limits, keeping when it was created.
func (s *Service) PutAccount(ctx context.Context, a dialtone.Account) (Action, error) {
	a.CreatedAt, a.UpdatedAt = s.now(), s.now()
	if err := a.Validate(); err != nil {
		return "", err
	}
	action := Created
	err := s.change(ctx, func(tx *Service) error {
		old, err := tx.store.GetAccount(ctx, a.UID)
		if ok, err := found(old, err); err != nil {
			return err
		} else if ok {
			a.CreatedAt, action = old.CreatedAt, Updated
			if sameAccount(old, &a) {
				action = Unchanged
				return nil
			}
		}
		if err := tx.store.PutAccount(ctx, &a); err != nil {
			return err
		}
		tx.record(ctx, a.UID, "account", a.UID, action, "name", a.Name, "status", string(a.Status))
		return nil
	})
	return action, err
}

func sameAccount(a, b *dialtone.Account) bool {
	// nil and empty Features differ (all products vs none); nil and empty
	// RateLimits do not (no overrides either way).
	return a.Name == b.Name && a.Status == b.Status && a.VoiceService == b.VoiceService &&
		(a.Features == nil) == (b.Features == nil) && slices.Equal(a.Features, b.Features) &&
		maps.Equal(a.RateLimits, b.RateLimits)
}
