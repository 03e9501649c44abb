package resource

import (
	"context"

	"github.com/dialtone-voice/dialtone"
)

// CreateNumber adds a display number the account does not have yet
// (ErrConflict otherwise).
func (s *Service) CreateNumber(ctx context.Context, n dialtone.Number) (*dialtone.Number, error) {
	n.CreatedAt = s.now()
	if err := n.Validate(); err != nil {
		return nil, err
	}
	err := s.change(ctx, func(tx *Service) error {
		ok, err := found(tx.store.GetNumber(ctx, n.AccountUID, n.Number))
		if err != nil {
			return err
		}
		if ok {
			return conflict("account %s already has number %s; change its concurrency instead", n.AccountUID, n.Number)
		}
		if err := tx.store.PutNumber(ctx, &n); err != nil {
			return err
		}
		tx.record(ctx, n.AccountUID, "number", n.Number, Created, "concurrency", n.Concurrency)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &n, nil
}

// PutNumber adds the number or sets its concurrency, keeping when it was
// added.
func (s *Service) PutNumber(ctx context.Context, n dialtone.Number) (*dialtone.Number, Action, error) {
	n.CreatedAt = s.now()
	if err := n.Validate(); err != nil {
		return nil, "", err
	}
	action := Created
	err := s.change(ctx, func(tx *Service) error {
		old, err := tx.store.GetNumber(ctx, n.AccountUID, n.Number)
		if ok, err := found(old, err); err != nil {
			return err
		} else if ok {
			n.CreatedAt, action = old.CreatedAt, Updated
			if old.Concurrency == n.Concurrency {
				action = Unchanged
				return nil
			}
		}
		if err := tx.store.PutNumber(ctx, &n); err != nil {
			return err
		}
		tx.record(ctx, n.AccountUID, "number", n.Number, action, "concurrency", n.Concurrency)
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return &n, action, nil
}

// UpdateNumber sets the concurrency of a number the account has.
func (s *Service) UpdateNumber(ctx context.Context, accountUID, number string, concurrency int) (*dialtone.Number, error) {
	var n *dialtone.Number
	err := s.change(ctx, func(tx *Service) error {
		var err error
		if n, err = tx.store.GetNumber(ctx, accountUID, number); err != nil {
			return err
		}
		if n.Concurrency == concurrency {
			return nil
		}
		n.Concurrency = concurrency
		if err := n.Validate(); err != nil {
			return err
		}
		if err := tx.store.PutNumber(ctx, n); err != nil {
			return err
		}
		tx.record(ctx, accountUID, "number", number, Updated, "concurrency", concurrency)
		return nil
	})
	return n, err
}

// DeleteNumber removes a number of the account.
func (s *Service) DeleteNumber(ctx context.Context, accountUID, number string) error {
	return s.change(ctx, func(tx *Service) error {
		if err := tx.store.DeleteNumber(ctx, accountUID, number); err != nil {
			return err
		}
		tx.record(ctx, accountUID, "number", number, Deleted)
		return nil
	})
}
