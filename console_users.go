package dialtone

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"
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

// ValidConsoleUsername reports whether u can name a console user: 1 to 64
// bytes of valid UTF-8, no control characters, no surrounding spaces.
func ValidConsoleUsername(u string) bool {
	if u == "" || len(u) > 64 || strings.TrimSpace(u) != u || !utf8.ValidString(u) {
		return false
	}
	for _, r := range u {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

// AdminToken is a bearer token of the admin API that a first start
// generated. Only its SHA-256 is kept: the token itself is shown once and
// kept in the data directory's credentials file.
type AdminToken struct {
	SHA256    [32]byte
	CreatedAt time.Time
}

// AdminTokenStore keeps the admin tokens every node accepts (besides the
// one given in its environment).
type AdminTokenStore interface {
	// AddAdminToken records a token; recording one again changes nothing.
	AddAdminToken(ctx context.Context, t *AdminToken) error
	// ListAdminTokens returns every token, oldest first.
	ListAdminTokens(ctx context.Context) ([]AdminToken, error)
}
