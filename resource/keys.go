package resource

import (
	"context"
	"errors"
	"slices"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/keygen"
)

// CreateAccessKey makes a new key for the account with a generated ID and
// secret (enabled, every action, unless u says otherwise); the answer is
// the only time the secret is seen.
func (s *Service) CreateAccessKey(ctx context.Context, accountUID string, u dialtone.KeyUpdate) (*dialtone.AccessKey, error) {
	k := &dialtone.AccessKey{AccountUID: accountUID, Enabled: true, CreatedAt: s.now()}
	applyKeyUpdate(k, u)
	err := s.change(ctx, func(tx *Service) error {
		// A collision of 20 random base62 characters is not expected, but
		// the store reports it as a conflict and a retry costs nothing.
		for range 3 {
			var err error
			if k.ID, k.Secret, err = keygen.GenerateAccessKey(); err != nil {
				return err
			}
			if err := k.Validate(); err != nil {
				return err
			}
			err = tx.store.PutAccessKey(ctx, k)
			if errors.Is(err, dialtone.ErrConflict) {
				continue
			}
			if err != nil {
				return err
			}
			tx.record(ctx, accountUID, "access_key", k.ID, Created, "enabled", k.Enabled, "actions", k.Actions)
			return nil
		}
		return conflict("no unused AccessKey ID in 3 attempts")
	})
	if err != nil {
		return nil, err
	}
	return k, nil
}

func applyKeyUpdate(k *dialtone.AccessKey, u dialtone.KeyUpdate) {
	if u.Enabled != nil {
		k.Enabled = *u.Enabled
	}
	if u.Actions != nil {
		k.Actions = slices.Clone(*u.Actions)
		if k.Actions == nil {
			k.Actions = []string{} // given empty: refused by Validate
		}
	}
}

// PutAccessKey creates the key or replaces its secret, state and actions,
// keeping when it was created. A key ID of another account is a conflict
// whose message does not name that account: whoever applies a document
// must not learn which tenant owns a key.
func (s *Service) PutAccessKey(ctx context.Context, k dialtone.AccessKey) (Action, error) {
	k.CreatedAt = s.now()
	if err := k.Validate(); err != nil {
		return "", err
	}
	action := Created
	err := s.change(ctx, func(tx *Service) error {
		old, err := tx.store.GetAccessKey(ctx, k.ID)
		if ok, err := found(old, err); err != nil {
			return err
		} else if ok {
			if old.AccountUID != k.AccountUID {
				return conflict("access key %s belongs to another account", k.ID)
			}
			// Compared in stored form: ["*"] and no list both allow
			// everything, but rewriting one as the other is a change of
			// the row.
			k.CreatedAt, action = old.CreatedAt, Updated
			if old.Secret == k.Secret && old.Enabled == k.Enabled && slices.Equal(old.Actions, k.Actions) {
				action = Unchanged
				return nil
			}
		}
		if err := tx.store.PutAccessKey(ctx, &k); err != nil {
			if errors.Is(err, dialtone.ErrConflict) {
				return conflict("access key %s belongs to another account", k.ID)
			}
			return err
		}
		tx.record(ctx, k.AccountUID, "access_key", k.ID, action, "enabled", k.Enabled, "actions", k.Actions)
		return nil
	})
	return action, err
}

// UpdateAccessKey changes a key of the account; a key of another account
// is not found, exactly like one that does not exist.
func (s *Service) UpdateAccessKey(ctx context.Context, accountUID, id string, u dialtone.KeyUpdate) (*dialtone.AccessKey, error) {
	if u.Enabled == nil && u.Actions == nil {
		return nil, dialtone.Invalid("", "nothing to change: give enabled and/or actions")
	}
	var k *dialtone.AccessKey
	err := s.change(ctx, func(tx *Service) error {
		var err error
		if k, err = tx.accountKey(ctx, accountUID, id); err != nil {
			return err
		}
		applyKeyUpdate(k, u)
		if err := k.Validate(); err != nil {
			return err
		}
		if err := tx.store.PutAccessKey(ctx, k); err != nil {
			return err
		}
		tx.record(ctx, accountUID, "access_key", id, Updated, "enabled", k.Enabled, "actions", k.Actions)
		return nil
	})
	return k, err
}

// accountKey loads a key of the account.
func (s *Service) accountKey(ctx context.Context, accountUID, id string) (*dialtone.AccessKey, error) {
	k, err := s.store.GetAccessKey(ctx, id)
	if err == nil && k.AccountUID != accountUID {
		err = dialtone.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return k, nil
}

// DeleteAccessKey removes a key of the account.
func (s *Service) DeleteAccessKey(ctx context.Context, accountUID, id string) error {
	return s.change(ctx, func(tx *Service) error {
		if err := tx.store.DeleteAccessKey(ctx, accountUID, id); err != nil {
			return err
		}
		tx.record(ctx, accountUID, "access_key", id, Deleted)
		return nil
	})
}
