package resource

import (
	"context"
	"errors"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/console/passhash"
)

// PutConsoleUser creates or replaces a console user: an operator, or a
// user of one account that exists. A user whose account and password
// already match is left alone (a plain password is checked against the
// stored hash), so that its sessions go on; any real change ends them.
func (s *Service) PutConsoleUser(ctx context.Context, in dialtone.ConsoleUserInput) (*dialtone.ConsoleUser, Action, error) {
	if err := CheckConsoleUser(in); err != nil {
		return nil, "", err
	}
	u := &dialtone.ConsoleUser{Username: in.Username, AccountUID: in.AccountUID, CreatedAt: s.now()}
	var action Action
	err := s.change(ctx, func(tx *Service) error {
		if u.AccountUID != "" {
			if _, err := tx.store.GetAccount(ctx, u.AccountUID); err != nil {
				return err
			}
		}
		action = Created
		old, err := tx.users().GetConsoleUser(ctx, u.Username)
		if ok, err := found(old, err); err != nil {
			return err
		} else if ok {
			u.CreatedAt, action = old.CreatedAt, Updated
			if old.AccountUID == u.AccountUID && samePassword(old.PasswordHash, in) {
				u.PasswordHash, action = old.PasswordHash, Unchanged
				return nil
			}
		}
		u.PasswordHash = in.PasswordHash
		if in.Password != "" {
			if u.PasswordHash, err = passhash.Hash(in.Password); err != nil {
				return err
			}
		}
		if err := tx.users().PutConsoleUser(ctx, u); err != nil {
			return err
		}
		tx.record(ctx, u.AccountUID, "console_user", u.Username, action, "operator", u.Operator())
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return u, action, nil
}

// CheckConsoleUser checks a console user to create or change, but for
// whether its account exists: the user's own rules, exactly one of
// password (the rule of passhash.Check) and password_hash, and exactly one
// of an account and operator.
func CheckConsoleUser(in dialtone.ConsoleUserInput) error {
	u := dialtone.ConsoleUser{Username: in.Username, AccountUID: in.AccountUID}
	errs := []error{u.Validate()}
	if (in.Password == "") == (in.PasswordHash == "") {
		errs = append(errs, dialtone.Invalid("password", "give exactly one of password and password_hash"))
	}
	if in.PasswordHash != "" && !passhash.Valid(in.PasswordHash) {
		// The value is not echoed: it may be a password pasted by mistake.
		errs = append(errs, dialtone.Invalid("password_hash", "must be an argon2id hash in PHC format ($argon2id$v=19$m=...,t=...,p=...$salt$hash)"))
	}
	if in.Password != "" {
		if err := passhash.Check(in.Password); err != nil {
			errs = append(errs, dialtone.Invalid("password", "%s", err))
		}
	}
	switch {
	case in.AccountUID != "" && in.Operator:
		errs = append(errs, dialtone.Invalid("operator", "an operator belongs to no account: give an account or operator, not both"))
	case in.AccountUID == "" && !in.Operator:
		errs = append(errs, dialtone.Invalid("account", "give the user's account or make it an operator"))
	}
	return errors.Join(errs...)
}

// samePassword reports whether the stored hash already stands for the
// input's password or hash.
func samePassword(stored string, in dialtone.ConsoleUserInput) bool {
	if in.PasswordHash != "" {
		return stored == in.PasswordHash
	}
	return passhash.Verify(stored, in.Password)
}

// DeleteConsoleUser removes a console user; its sessions end at their next
// request.
func (s *Service) DeleteConsoleUser(ctx context.Context, username string) error {
	return s.change(ctx, func(tx *Service) error {
		u, err := tx.users().GetConsoleUser(ctx, username)
		if err != nil {
			return err
		}
		if err := tx.users().DeleteConsoleUser(ctx, username); err != nil {
			return err
		}
		tx.record(ctx, u.AccountUID, "console_user", username, Deleted)
		return nil
	})
}
