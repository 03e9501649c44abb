package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dialtone-voice/dialtone"
)

// Console sessions and receipt push results (migration 0007): state the
// console shares between restarts and between the nodes of a cluster.

var _ dialtone.ConsoleSessionStore = (*Store)(nil)

const sessionCols = `id_hash, username, account_uid, csrf, current_uid, user_stamp, created_at, last_seen`

// PutConsoleSession creates or replaces the session.
func (s *Store) PutConsoleSession(ctx context.Context, cs *dialtone.ConsoleSession) error {
	if cs == nil || cs.IDHash == "" {
		return errors.New("postgres: put console session: no ID hash")
	}
	_, err := s.db.Exec(ctx, `
INSERT INTO console_sessions (`+sessionCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (id_hash) DO UPDATE SET
    username = excluded.username,
    account_uid = excluded.account_uid,
    csrf = excluded.csrf,
    current_uid = excluded.current_uid,
    user_stamp = excluded.user_stamp,
    created_at = excluded.created_at,
    last_seen = excluded.last_seen`,
		cs.IDHash, cs.Username, cs.AccountUID, cs.CSRF, cs.Current, cs.UserStamp, toMillis(cs.CreatedAt), toMillis(cs.LastSeen))
	if err != nil {
		// The hash is not logged: it is as good as a name for the session.
		return fmt.Errorf("postgres: put console session of %s: %w", cs.Username, err)
	}
	return nil
}

// GetConsoleSession returns dialtone.ErrNotFound for an unknown hash.
func (s *Store) GetConsoleSession(ctx context.Context, idHash string) (*dialtone.ConsoleSession, error) {
	return getRow(ctx, s.db, "console session", scanSession,
		`SELECT `+sessionCols+` FROM console_sessions WHERE id_hash = $1`, idHash)
}

// DeleteConsoleSession forgets the session; an unknown one is no error.
func (s *Store) DeleteConsoleSession(ctx context.Context, idHash string) error {
	if _, err := s.execCount(ctx, `DELETE FROM console_sessions WHERE id_hash = $1`, idHash); err != nil {
		return fmt.Errorf("postgres: delete console session: %w", err)
	}
	return nil
}

// DeleteExpiredConsoleSessions forgets idle and too old sessions.
func (s *Store) DeleteExpiredConsoleSessions(ctx context.Context, idleBefore, createdBefore time.Time) (int, error) {
	n, err := s.execCount(ctx, `DELETE FROM console_sessions WHERE last_seen < $1 OR created_at < $2`,
		toMillis(idleBefore), toMillis(createdBefore))
	if err != nil {
		return 0, fmt.Errorf("postgres: delete expired console sessions: %w", err)
	}
	return n, nil
}

func scanSession(row pgx.Row) (*dialtone.ConsoleSession, error) {
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

// --- push results ---

const pushResultCols = `id, account_uid, message_type, at, url, http_status, error, receipts, test`

// RecordPushResult keeps r and trims its group to the newest
// dialtone.PushResultsKept, in one transaction. Two nodes trimming the
// same group at once may each keep a row the other deleted; the group is
// then briefly one or two rows long, which nothing depends on.
func (s *Store) RecordPushResult(ctx context.Context, r *dialtone.PushResult) error {
	if r == nil || r.AccountUID == "" || r.MessageType == "" {
		return errors.New("postgres: record push result: no account or message type")
	}
	if r.ID == "" {
		r.ID = newResultID()
	}
	err := s.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if err := requireAccount(ctx, tx, r.AccountUID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO push_results (`+pushResultCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			r.ID, r.AccountUID, r.MessageType, toMillis(r.At), r.URL, r.HTTPStatus, r.Error, r.Count, boolInt(r.Test)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `
DELETE FROM push_results WHERE account_uid = $1 AND message_type = $2 AND id NOT IN (
    SELECT id FROM push_results WHERE account_uid = $1 AND message_type = $2
    ORDER BY at DESC, id`+byteOrder+` DESC LIMIT $3)`,
			r.AccountUID, r.MessageType, dialtone.PushResultsKept)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: record push result of %s/%s: %w", r.AccountUID, r.MessageType, err)
	}
	return nil
}

// ListPushResults returns the newest results first.
func (s *Store) ListPushResults(ctx context.Context, accountUID, messageType string, limit int) ([]dialtone.PushResult, error) {
	if limit <= 0 {
		limit = dialtone.PushResultsKept
	}
	return listRows(ctx, s.db, "push results of "+accountUID+"/"+messageType, scanPushResult,
		`SELECT `+pushResultCols+` FROM push_results WHERE account_uid = $1 AND message_type = $2 ORDER BY at DESC, id`+byteOrder+` DESC LIMIT $3`,
		accountUID, messageType, limit)
}

func scanPushResult(row pgx.Row) (*dialtone.PushResult, error) {
	var (
		r                  dialtone.PushResult
		at, status, n, tst int64
	)
	if err := row.Scan(&r.ID, &r.AccountUID, &r.MessageType, &at, &r.URL, &status, &r.Error, &n, &tst); err != nil {
		return nil, err
	}
	r.At, r.HTTPStatus, r.Count, r.Test = fromMillis(at), int(status), int(n), tst != 0
	return &r, nil
}

// newResultID is random so that nodes recording at once never collide.
func newResultID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b) // crypto/rand does not fail on supported systems
	return hex.EncodeToString(b)
}
