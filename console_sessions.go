package dialtone

import (
	"context"
	"time"
)

// ConsoleSession is one signed-in browser of the web console, as a store
// keeps it so that sessions survive a restart and work on every node.
type ConsoleSession struct {
	// IDHash is the hex SHA-256 of the session ID. The ID (the cookie) is
	// never given to the store: a copy of the table signs nobody in.
	IDHash     string
	Username   string
	AccountUID string // "" for an operator
	CSRF       string
	Current    string // the account an operator looks at
	// UserStamp fingerprints the user's password hash and account at
	// sign-in; the console ends the session when they change.
	UserStamp string
	CreatedAt time.Time
	LastSeen  time.Time
}

// ConsoleSessionStore keeps console sessions. The console enforces the
// timeouts; a store only keeps, finds and forgets.
type ConsoleSessionStore interface {
	// PutConsoleSession creates or replaces the session s.IDHash.
	PutConsoleSession(ctx context.Context, s *ConsoleSession) error
	// GetConsoleSession returns ErrNotFound for an unknown hash.
	GetConsoleSession(ctx context.Context, idHash string) (*ConsoleSession, error)
	// DeleteConsoleSession forgets the session; an unknown one is not an
	// error (signing out twice is fine).
	DeleteConsoleSession(ctx context.Context, idHash string) error
	// DeleteExpiredConsoleSessions forgets the sessions last seen before
	// idleBefore or created before createdBefore and returns how many.
	DeleteExpiredConsoleSessions(ctx context.Context, idleBefore, createdBefore time.Time) (int, error)
}
