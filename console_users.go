package dialtone

import (
	"context"
	"time"
)

// ConsoleUser is a person who signs in to the web console. An operator
// (AccountUID "") sees and manages every account; an account user sees
// only its own account.
type ConsoleUser struct {
	Username   string
	AccountUID string // "" for an operator
	// PasswordHash is a self-describing slow salted hash (PHC string format,
	// e.g. "$argon2id$v=19$m=...,t=...,p=...$salt$hash"); the plain password
	// is never stored.
	PasswordHash string
	CreatedAt    time.Time
}

// Operator reports whether the user manages every account.
func (u *ConsoleUser) Operator() bool { return u.AccountUID == "" }

// ConsoleUserStore keeps console users.
type ConsoleUserStore interface {
	// PutConsoleUser creates or replaces the user named u.Username;
	// ErrNotFound when u.AccountUID is not "" and the account does not
	// exist.
	PutConsoleUser(ctx context.Context, u *ConsoleUser) error
	// GetConsoleUser returns ErrNotFound for an unknown username.
	GetConsoleUser(ctx context.Context, username string) (*ConsoleUser, error)
	// ListConsoleUsers returns every user ordered by username.
	ListConsoleUsers(ctx context.Context) ([]ConsoleUser, error)
	// DeleteConsoleUser returns ErrNotFound for an unknown username.
	DeleteConsoleUser(ctx context.Context, username string) error
}
