package sqlstore

import (
	"context"
	"time"

	"github.com/dialtone-voice/dialtone"
)

// Console users (migration 0005), the overview's call aggregates, console
// sessions and receipt push results (migration 0007): state the console
// shares between restarts and between the nodes of a cluster.

const (
	consoleUserCols   = `username, account_uid, password_hash, created_at`
	sqlPutConsoleUser = `
INSERT INTO console_users (` + consoleUserCols + `) VALUES ($1, $2, $3, $4)
ON CONFLICT (username) DO UPDATE SET
    account_uid = excluded.account_uid,
    password_hash = excluded.password_hash,
    created_at = excluded.created_at`
	sqlGetConsoleUser    = `SELECT ` + consoleUserCols + ` FROM console_users WHERE username = $1`
	sqlListConsoleUsers  = `SELECT ` + consoleUserCols + ` FROM console_users ORDER BY username{C}`
	sqlDeleteConsoleUser = `DELETE FROM console_users WHERE username = $1`
)

// PutConsoleUser creates or replaces the user; dialtone.ErrNotFound when
// the user's account (other than the operator's "") does not exist. The
// column has no foreign key (operators have no account), so the check is
// the store's; accounts are never deleted, so it cannot go stale.
func (s *Store) PutConsoleUser(ctx context.Context, u *dialtone.ConsoleUser) error {
	if u == nil || u.Username == "" {
		return s.errorf("put console user: no username")
	}
	err := s.db.Write(ctx, func(ctx context.Context, q Querier) error {
		if u.AccountUID != "" {
			if err := requireAccount(ctx, q, u.AccountUID); err != nil {
				return err
			}
		}
		_, err := q.Exec(ctx, sqlPutConsoleUser, u.Username, u.AccountUID, u.PasswordHash, toMillis(u.CreatedAt))
		return err
	})
	if err != nil {
		return s.errorf("put console user %s: %w", u.Username, err)
	}
	return nil
}

// GetConsoleUser returns dialtone.ErrNotFound for an unknown username.
func (s *Store) GetConsoleUser(ctx context.Context, username string) (*dialtone.ConsoleUser, error) {
	return getRow(ctx, s, "console user "+username, scanConsoleUser, sqlGetConsoleUser, username)
}

// ListConsoleUsers returns every console user ordered by username.
func (s *Store) ListConsoleUsers(ctx context.Context) ([]dialtone.ConsoleUser, error) {
	return listRows(ctx, s, "console users", scanConsoleUser, s.q.listConsoleUsers)
}

// DeleteConsoleUser returns dialtone.ErrNotFound for an unknown username.
func (s *Store) DeleteConsoleUser(ctx context.Context, username string) error {
	return s.deleteScoped(ctx, "console user "+username, "", sqlDeleteConsoleUser, username)
}

func scanConsoleUser(row Row) (*dialtone.ConsoleUser, error) {
	var (
		u       dialtone.ConsoleUser
		created int64
	)
	if err := row.Scan(&u.Username, &u.AccountUID, &u.PasswordHash, &created); err != nil {
		return nil, err
	}
	u.CreatedAt = fromMillis(created)
	return &u, nil
}

// sqlCallStats reads only columns of the calls_stats index, so the GROUP BY
// runs over the index alone: a day of 100,000 calls is a few milliseconds.
// Integer division truncates on both engines, and created_at >= since
// keeps the dividend non-negative anyway.
const sqlCallStats = `
SELECT (created_at - $1) / $2, status_code, COUNT(*), SUM(CASE WHEN a_start_at > 0 THEN 1 ELSE 0 END)
FROM calls
WHERE account_uid = $3 AND created_at >= $1 AND created_at < $4
GROUP BY 1, 2`

// CallStats counts the account's calls created in [since, until).
func (s *Store) CallStats(ctx context.Context, accountUID string, since, until time.Time, bucket time.Duration) (*dialtone.CallStats, error) {
	if bucket < time.Millisecond || !until.After(since) {
		return nil, s.errorf("call stats: want bucket >= 1ms and until after since")
	}
	from, to, step := since.UnixMilli(), until.UnixMilli(), bucket.Milliseconds()
	n := int((to - from + step - 1) / step)
	st := &dialtone.CallStats{Since: since, Until: until, Bucket: bucket, Counts: make([]int, n), ByStatus: map[string]int{}}
	rows, err := s.db.Reader().Query(ctx, sqlCallStats, from, step, accountUID, to)
	if err != nil {
		return nil, s.errorf("call stats of %s: %w", accountUID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			b, count, answered int64
			code               string
		)
		if err := rows.Scan(&b, &code, &count, &answered); err != nil {
			return nil, s.errorf("call stats of %s: %w", accountUID, err)
		}
		if b >= 0 && b < int64(n) {
			st.Counts[b] += int(count)
		}
		st.Total += int(count)
		st.Answered += int(answered)
		st.ByStatus[code] += int(count)
	}
	if err := rows.Err(); err != nil {
		return nil, s.errorf("call stats of %s: %w", accountUID, err)
	}
	return st, nil
}

// --- console sessions ---

const (
	sessionCols   = `id_hash, username, account_uid, csrf, current_uid, user_stamp, created_at, last_seen`
	sqlPutSession = `
INSERT INTO console_sessions (` + sessionCols + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (id_hash) DO UPDATE SET
    username = excluded.username,
    account_uid = excluded.account_uid,
    csrf = excluded.csrf,
    current_uid = excluded.current_uid,
    user_stamp = excluded.user_stamp,
    created_at = excluded.created_at,
    last_seen = excluded.last_seen`
	sqlGetSession      = `SELECT ` + sessionCols + ` FROM console_sessions WHERE id_hash = $1`
	sqlDeleteSession   = `DELETE FROM console_sessions WHERE id_hash = $1`
	sqlExpiredSessions = `DELETE FROM console_sessions WHERE last_seen < $1 OR created_at < $2`
)

// PutConsoleSession creates or replaces the session.
func (s *Store) PutConsoleSession(ctx context.Context, cs *dialtone.ConsoleSession) error {
	if cs == nil || cs.IDHash == "" {
		return s.errorf("put console session: no ID hash")
	}
	if _, err := s.execCount(ctx, sqlPutSession,
		cs.IDHash, cs.Username, cs.AccountUID, cs.CSRF, cs.Current, cs.UserStamp, toMillis(cs.CreatedAt), toMillis(cs.LastSeen)); err != nil {
		// The hash is not logged: it is as good as a name for the session.
		return s.errorf("put console session of %s: %w", cs.Username, err)
	}
	return nil
}

// GetConsoleSession returns dialtone.ErrNotFound for an unknown hash.
func (s *Store) GetConsoleSession(ctx context.Context, idHash string) (*dialtone.ConsoleSession, error) {
	return getRow(ctx, s, "console session", scanSession, sqlGetSession, idHash)
}

// DeleteConsoleSession forgets the session; an unknown one is no error.
func (s *Store) DeleteConsoleSession(ctx context.Context, idHash string) error {
	if _, err := s.execCount(ctx, sqlDeleteSession, idHash); err != nil {
		return s.errorf("delete console session: %w", err)
	}
	return nil
}

// DeleteExpiredConsoleSessions forgets idle and too old sessions.
func (s *Store) DeleteExpiredConsoleSessions(ctx context.Context, idleBefore, createdBefore time.Time) (int, error) {
	n, err := s.execCount(ctx, sqlExpiredSessions, toMillis(idleBefore), toMillis(createdBefore))
	if err != nil {
		return 0, s.errorf("delete expired console sessions: %w", err)
	}
	return n, nil
}

func scanSession(row Row) (*dialtone.ConsoleSession, error) {
	var (
		cs            dialtone.ConsoleSession
		created, seen int64
	)
	if err := row.Scan(&cs.IDHash, &cs.Username, &cs.AccountUID, &cs.CSRF, &cs.Current, &cs.UserStamp, &created, &seen); err != nil {
		return nil, err
	}
	cs.CreatedAt, cs.LastSeen = fromMillis(created), fromMillis(seen)
	return &cs, nil
}
