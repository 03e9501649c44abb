package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dialtone-voice/dialtone"
)

// Console users (migration 0005) and the overview's call aggregates.

var (
	_ dialtone.ConsoleUserStore = (*Store)(nil)
	_ dialtone.CallStatsStore   = (*Store)(nil)
)

const consoleUserCols = `username, account_uid, password_hash, created_at`

// PutConsoleUser creates or replaces the user; dialtone.ErrNotFound when
// the user's account (other than the operator's "") does not exist. The
// column has no foreign key (operators have no account), so the check is
// the store's; accounts are never deleted, so it cannot go stale.
func (s *Store) PutConsoleUser(ctx context.Context, u *dialtone.ConsoleUser) error {
	if u == nil || u.Username == "" {
		return errors.New("postgres: put console user: no username")
	}
	err := func() error {
		if u.AccountUID != "" {
			if err := requireAccount(ctx, s.db, u.AccountUID); err != nil {
				return err
			}
		}
		_, err := s.db.Exec(ctx, `
INSERT INTO console_users (`+consoleUserCols+`) VALUES ($1, $2, $3, $4)
ON CONFLICT (username) DO UPDATE SET
    account_uid = excluded.account_uid,
    password_hash = excluded.password_hash,
    created_at = excluded.created_at`,
			u.Username, u.AccountUID, u.PasswordHash, toMillis(u.CreatedAt))
		return err
	}()
	if err != nil {
		return fmt.Errorf("postgres: put console user %s: %w", u.Username, err)
	}
	return nil
}

// GetConsoleUser returns dialtone.ErrNotFound for an unknown username.
func (s *Store) GetConsoleUser(ctx context.Context, username string) (*dialtone.ConsoleUser, error) {
	return getRow(ctx, s.db, "console user "+username, scanConsoleUser,
		`SELECT `+consoleUserCols+` FROM console_users WHERE username = $1`, username)
}

// ListConsoleUsers returns every console user ordered by username.
func (s *Store) ListConsoleUsers(ctx context.Context) ([]dialtone.ConsoleUser, error) {
	return listRows(ctx, s.db, "console users", scanConsoleUser,
		`SELECT `+consoleUserCols+` FROM console_users ORDER BY username`+byteOrder)
}

// DeleteConsoleUser returns dialtone.ErrNotFound for an unknown username.
func (s *Store) DeleteConsoleUser(ctx context.Context, username string) error {
	return s.deleteScoped(ctx, "console user "+username, `DELETE FROM console_users WHERE username = $1`, username)
}

func scanConsoleUser(row pgx.Row) (*dialtone.ConsoleUser, error) {
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
// can run over the index alone. Integer division truncates like SQLite's,
// and created_at >= since keeps the dividend non-negative anyway.
const sqlCallStats = `
SELECT (created_at - $1) / $2, status_code, COUNT(*), SUM(CASE WHEN a_start_at > 0 THEN 1 ELSE 0 END)
FROM calls
WHERE account_uid = $3 AND created_at >= $1 AND created_at < $4
GROUP BY 1, 2`

// CallStats counts the account's calls created in [since, until).
func (s *Store) CallStats(ctx context.Context, accountUID string, since, until time.Time, bucket time.Duration) (*dialtone.CallStats, error) {
	if bucket < time.Millisecond || !until.After(since) {
		return nil, errors.New("postgres: call stats: want bucket >= 1ms and until after since")
	}
	from, to, step := since.UnixMilli(), until.UnixMilli(), bucket.Milliseconds()
	n := int((to - from + step - 1) / step)
	st := &dialtone.CallStats{Since: since, Until: until, Bucket: bucket, Counts: make([]int, n), ByStatus: map[string]int{}}
	rows, err := s.db.Query(ctx, sqlCallStats, from, step, accountUID, to)
	if err != nil {
		return nil, fmt.Errorf("postgres: call stats of %s: %w", accountUID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			b, count, answered int64
			code               string
		)
		if err := rows.Scan(&b, &code, &count, &answered); err != nil {
			return nil, fmt.Errorf("postgres: call stats of %s: %w", accountUID, err)
		}
		if b >= 0 && b < int64(n) {
			st.Counts[b] += int(count)
		}
		st.Total += int(count)
		st.Answered += int(answered)
		st.ByStatus[code] += int(count)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: call stats of %s: %w", accountUID, err)
	}
	return st, nil
}
