package provision

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/console/passhash"
)

// The console_users section: people who sign in to the web console.
//
//	console_users:
//	  - username: ops
//	    password_hash: $argon2id$v=19$m=19456,t=2,p=1$...   # or password:
//	    operator: true
//	  - username: 李雷
//	    password: change-me-please
//	    account: "1001"
//
// A user belongs to exactly one account (by uid: an account of the file or
// of the store) or is an operator. A plain password is hashed with the
// console's argon2id when applied and is never printed; a file kept in
// version control should carry password_hash instead.

// consoleUsers parses the section.
func (p *parser) consoleUsers(n *yaml.Node, path string) []ConsoleUser {
	out := []ConsoleUser{}
	names := map[string]int{}
	p.d.list(n, path, func(_ int, item *yaml.Node, path string) {
		out = append(out, p.consoleUser(item, path, names))
	})
	return out
}

func (p *parser) consoleUser(n *yaml.Node, path string, names map[string]int) ConsoleUser {
	d := p.d
	u := ConsoleUser{Line: n.Line}
	operatorSet := false
	set := d.fields(n, path, handlers{
		"username": func(v *yaml.Node, path string) {
			if s, ok := d.str(v, path); ok {
				if !dialtone.ValidConsoleUsername(s) {
					d.addf(v, path, "%s must be 1 to 64 characters without control characters or surrounding spaces", quote(s))
					return
				}
				p.unique(names, s, v, path, "console username")
				u.Username = s
			}
		},
		"password": func(v *yaml.Node, path string) {
			// Never quote the value: messages reach logs and HTTP responses.
			if s, ok := d.str(v, path); ok {
				if len(s) < passhash.MinPasswordLen {
					d.addf(v, path, "must have at least %d characters", passhash.MinPasswordLen)
					return
				}
				u.Password = s
			}
		},
		"password_hash": func(v *yaml.Node, path string) {
			if s, ok := d.str(v, path); ok {
				if !passhash.Valid(s) {
					d.addf(v, path, "must be an argon2id hash in PHC format ($argon2id$v=19$m=...,t=...,p=...$salt$hash)")
					return
				}
				u.PasswordHash = s
			}
		},
		"account": func(v *yaml.Node, path string) {
			if s, ok := d.str(v, path); ok {
				if !dialtone.ValidUID(s) {
					d.addf(v, path, "%s is not an account uid (1 to 32 digits)", quote(s))
					return
				}
				u.AccountUID = s
			}
		},
		"operator": func(v *yaml.Node, path string) {
			if b, ok := d.boolean(v, path); ok {
				u.Operator, operatorSet = b, true
			}
		},
	})
	if set == nil {
		return u
	}
	d.require(n, path, set, "username")
	if set["password"] == set["password_hash"] {
		d.addf(n, path, "give exactly one of password and password_hash")
	}
	switch {
	case set["account"] && u.Operator:
		d.addf(n, path, "an operator belongs to no account: give account or operator: true, not both")
	case !set["account"] && !u.Operator:
		if operatorSet {
			d.addf(n, path, "operator: false needs an account")
		} else {
			d.addf(n, path, "give the user's account (uid) or operator: true")
		}
	}
	return u
}

// applyConsoleUsers stores the document's console users after its
// accounts. A user whose account and password already match is left
// alone (a plain password is checked against the stored hash), so applying
// the same file again writes nothing and keeps existing sessions.
func applyConsoleUsers(ctx context.Context, store dialtone.Store, doc *Document, cfg *applyConfig, now time.Time, res *Result) error {
	if len(doc.ConsoleUsers) == 0 {
		return nil
	}
	us := store
	for i, cu := range doc.ConsoleUsers {
		if err := ctx.Err(); err != nil {
			return err
		}
		acct := cu.AccountUID
		if cu.Operator {
			acct = ""
		}
		if acct != "" {
			_, err := store.GetAccount(ctx, acct)
			if errors.Is(err, dialtone.ErrNotFound) {
				return &Error{File: doc.File, Problems: []Problem{{Line: cu.Line, Path: index("console_users", i) + ".account",
					Message: "no account " + quote(acct) + " in the store or in this document"}}}
			}
			if err != nil {
				return fmt.Errorf("provision: line %d: console user %s: account %s: %w", cu.Line, cu.Username, acct, err)
			}
		}
		old, err := us.GetConsoleUser(ctx, cu.Username)
		switch {
		case errors.Is(err, dialtone.ErrNotFound):
			old = nil
		case err != nil:
			return fmt.Errorf("provision: line %d: console user %s: %w", cu.Line, cu.Username, err)
		}
		if old != nil && old.AccountUID == acct && samePassword(old.PasswordHash, cu) {
			res.ConsoleUsersUnchanged++
			continue
		}
		if cfg.dryRun {
			countConsoleUser(res, old == nil)
			continue // hashing a password takes time, and nothing is written
		}
		hash := cu.PasswordHash
		if hash == "" {
			if hash, err = passhash.Hash(cu.Password); err != nil {
				return fmt.Errorf("provision: line %d: console user %s: %w", cu.Line, cu.Username, err)
			}
		}
		want := &dialtone.ConsoleUser{Username: cu.Username, AccountUID: acct, PasswordHash: hash, CreatedAt: now}
		if old != nil {
			want.CreatedAt = old.CreatedAt
		}
		if err := us.PutConsoleUser(ctx, want); err != nil {
			return fmt.Errorf("provision: line %d: console user %s: %w", cu.Line, cu.Username, err)
		}
		countConsoleUser(res, old == nil)
	}
	return nil
}

func countConsoleUser(res *Result, created bool) {
	if created {
		res.ConsoleUsersCreated++
	} else {
		res.ConsoleUsersUpdated++
	}
}

// samePassword reports whether the stored hash already stands for the
// file's password or hash.
func samePassword(stored string, cu ConsoleUser) bool {
	if cu.PasswordHash != "" {
		return stored == cu.PasswordHash
	}
	return passhash.Verify(stored, cu.Password)
}
