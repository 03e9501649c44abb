package resource

import (
	"context"
	"errors"
	"strconv"

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
		old, err := tx.store.GetConsoleUser(ctx, u.Username)
		if ok, err := found(old, err); err != nil {
			return err
		} else if ok {
			u.CreatedAt, action = old.CreatedAt, Updated
			if old.AccountUID == u.AccountUID && samePassword(old.PasswordHash, in) {
				u.PasswordHash, action = old.PasswordHash, Unchanged
				return nil
			}
			if old.Operator() && !u.Operator() {
				if err := tx.keepAnOperator(ctx, old.Username); err != nil {
					return err
				}
			}
		}
		u.PasswordHash = in.PasswordHash
		if in.Password != "" {
			if u.PasswordHash, err = passhash.Hash(in.Password); err != nil {
				return err
			}
		}
		if err := tx.store.PutConsoleUser(ctx, u); err != nil {
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
		u, err := tx.store.GetConsoleUser(ctx, username)
		if err != nil {
			return err
		}
		if u.Operator() {
			if err := tx.keepAnOperator(ctx, username); err != nil {
				return err
			}
		}
		if err := tx.store.DeleteConsoleUser(ctx, username); err != nil {
			return err
		}
		tx.record(ctx, u.AccountUID, "console_user", username, Deleted)
		return nil
	})
}

// CreateConsoleUser adds a console user that does not exist yet
// (dialtone.ErrConflict if it does): unlike PutConsoleUser, a form that
// creates cannot change an existing user's role or password by reusing its
// name.
func (s *Service) CreateConsoleUser(ctx context.Context, in dialtone.ConsoleUserInput) (*dialtone.ConsoleUser, error) {
	if err := CheckConsoleUser(in); err != nil {
		return nil, err
	}
	u := &dialtone.ConsoleUser{Username: in.Username, AccountUID: in.AccountUID, CreatedAt: s.now()}
	err := s.change(ctx, func(tx *Service) error {
		if u.AccountUID != "" {
			if _, err := tx.store.GetAccount(ctx, u.AccountUID); err != nil {
				return err
			}
		}
		old, err := tx.store.GetConsoleUser(ctx, u.Username)
		if ok, err := found(old, err); err != nil {
			return err
		} else if ok {
			return conflict("console user %s exists", strconv.Quote(u.Username))
		}
		if u.PasswordHash = in.PasswordHash; in.Password != "" {
			if u.PasswordHash, err = passhash.Hash(in.Password); err != nil {
				return err
			}
		}
		if err := tx.store.PutConsoleUser(ctx, u); err != nil {
			return err
		}
		tx.record(ctx, u.AccountUID, "console_user", u.Username, Created, "operator", u.Operator())
		return nil
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// SetConsoleUserPassword changes only the password of a console user; its
// sessions end.
func (s *Service) SetConsoleUserPassword(ctx context.Context, username, password string) error {
	if err := passhash.Check(password); err != nil {
		return dialtone.Invalid("password", "%s", err)
	}
	hash, err := passhash.Hash(password)
	if err != nil {
		return err
	}
	return s.change(ctx, func(tx *Service) error {
		u, err := tx.store.GetConsoleUser(ctx, username)
		if err != nil {
			return err
		}
		u.PasswordHash = hash
		if err := tx.store.PutConsoleUser(ctx, u); err != nil {
			return err
		}
		tx.record(ctx, u.AccountUID, "console_user", username, Updated, "password", "changed")
		return nil
	})
}

// SetConsoleUserRole makes a console user an operator (accountUID "") or a
// user of one account, keeping its password. The last operator cannot be
// made an account user.
func (s *Service) SetConsoleUserRole(ctx context.Context, username, accountUID string) error {
	if accountUID != "" && !dialtone.ValidUID(accountUID) {
		return dialtone.Invalid("account", "%s is not an account uid (1 to 32 digits)", strconv.Quote(accountUID))
	}
	return s.change(ctx, func(tx *Service) error {
		u, err := tx.store.GetConsoleUser(ctx, username)
		if err != nil {
			return err
		}
		if u.AccountUID == accountUID {
			return nil
		}
		if accountUID != "" {
			if _, err := tx.store.GetAccount(ctx, accountUID); err != nil {
				return err
			}
		}
		if u.Operator() {
			if err := tx.keepAnOperator(ctx, username); err != nil {
				return err
			}
		}
		u.AccountUID = accountUID
		if err := tx.store.PutConsoleUser(ctx, u); err != nil {
			return err
		}
		tx.record(ctx, accountUID, "console_user", username, Updated, "operator", u.Operator())
		return nil
	})
}

// keepAnOperator refuses to remove or demote the operator username when no
// other operator is left: nobody could then manage accounts or users from
// the console.
func (tx *Service) keepAnOperator(ctx context.Context, username string) error {
	users, err := tx.store.ListConsoleUsers(ctx)
	if err != nil {
		return err
	}
	if LastOperator(users, username) {
		return conflict("console user %s is the last operator; make another user an operator first", strconv.Quote(username))
	}
	return nil
}

// LastOperator reports whether username is the only operator among users;
// the console uses it not to offer what would be refused.
func LastOperator(users []dialtone.ConsoleUser, username string) bool {
	n, is := 0, false
	for _, u := range users {
		if u.Operator() {
			n++
			is = is || u.Username == username
		}
	}
	return is && n == 1
}
