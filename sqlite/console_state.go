package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/dialtone-voice/dialtone"
)

// Console sessions and receipt push results (migration 0007): state the
// console shares between restarts and between the nodes of a cluster.

var _ dialtone.ConsoleSessionStore = (*Store)(nil)

const sessionCols = `id_hash, username, account_uid, csrf, current_uid, user_stamp, created_at, last_seen`

// PutConsoleSession creates or replaces the session.
func (s *Store) PutConsoleSession(ctx context.Context, cs *dialtone.ConsoleSession) error {
	if cs == nil || cs.IDHash == "" {
		return errors.New("sqlite: put console session: no ID hash")
	}
	err := s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `
INSERT INTO console_sessions (`+sessionCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id_hash) DO UPDATE SET
    username = excluded.username,
    account_uid = excluded.account_uid,
    csrf = excluded.csrf,
    current_uid = excluded.current_uid,
    user_stamp = excluded.user_stamp,
    created_at = excluded.created_at,
    last_seen = excluded.last_seen`,
			cs.IDHash, cs.Username, cs.AccountUID, cs.CSRF, cs.Current, cs.UserStamp, toMillis(cs.CreatedAt), toMillis(cs.LastSeen))
		return err
	})
	if err != nil {
		// The hash is not logged: it is as good as a name for the session.
		return fmt.Errorf("sqlite: put console session of %s: %w", cs.Username, err)
	}
	return nil
}

// GetConsoleSession returns dialtone.ErrNotFound for an unknown hash.
func (s *Store) GetConsoleSession(ctx context.Context, idHash string) (*dialtone.ConsoleSession, error) {
	return getScoped(ctx, s.read, "console session", scanSession,
		`SELECT `+sessionCols+` FROM console_sessions WHERE id_hash = ?`, idHash)
}

// DeleteConsoleSession forgets the session; an unknown one is no error.
func (s *Store) DeleteConsoleSession(ctx context.Context, idHash string) error {
	if _, err := s.execCount(ctx, `DELETE FROM console_sessions WHERE id_hash = ?`, idHash); err != nil {
		return fmt.Errorf("sqlite: delete console session: %w", err)
	}
	return nil
}

// DeleteExpiredConsoleSessions forgets idle and too old sessions.
func (s *Store) DeleteExpiredConsoleSessions(ctx context.Context, idleBefore, createdBefore time.Time) (int, error) {
	n, err := s.execCount(ctx, `DELETE FROM console_sessions WHERE last_seen < ? OR created_at < ?`,
		toMillis(idleBefore), toMillis(createdBefore))
	if err != nil {
		return 0, fmt.Errorf("sqlite: delete expired console sessions: %w", err)
	}
	return n, nil
}

func scanSession(sc scanner) (*dialtone.ConsoleSession, error) {
	var (
		cs            dialtone.ConsoleSession
		created, seen int64
	)
	if err := sc.Scan(&cs.IDHash, &cs.Username, &cs.AccountUID, &cs.CSRF, &cs.Current, &cs.UserStamp, &created, &seen); err != nil {
		return nil, err
	}
	cs.CreatedAt, cs.LastSeen = fromMillis(created), fromMillis(seen)
	return &cs, nil
}

// --- push results ---

const pushResultCols = `id, account_uid, message_type, at, url, http_status, error, receipts, test`

// RecordPushResult keeps r and trims its group to the newest
// dialtone.PushResultsKept, in one transaction.
func (s *Store) RecordPushResult(ctx context.Context, r *dialtone.PushResult) error {
	if r == nil || r.AccountUID == "" || r.MessageType == "" {
		return errors.New("sqlite: record push result: no account or message type")
	}
	if r.ID == "" {
		r.ID = newResultID()
	}
	err := s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		ok, err := s.accountExists(ctx, tx, r.AccountUID)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("account %s: %w", r.AccountUID, dialtone.ErrNotFound)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO push_results (`+pushResultCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.ID, r.AccountUID, r.MessageType, toMillis(r.At), r.URL, r.HTTPStatus, r.Error, r.Count, boolInt(r.Test)); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `
DELETE FROM push_results WHERE account_uid = ? AND message_type = ? AND id NOT IN (
    SELECT id FROM push_results WHERE account_uid = ? AND message_type = ?
    ORDER BY at DESC, id DESC LIMIT ?)`,
			r.AccountUID, r.MessageType, r.AccountUID, r.MessageType, dialtone.PushResultsKept)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: record push result of %s/%s: %w", r.AccountUID, r.MessageType, err)
	}
	return nil
}

// ListPushResults returns the newest results first.
func (s *Store) ListPushResults(ctx context.Context, accountUID, messageType string, limit int) ([]dialtone.PushResult, error) {
	if limit <= 0 {
		limit = dialtone.PushResultsKept
	}
	return listScoped(ctx, s.read, "push results of "+accountUID+"/"+messageType, scanPushResult,
		`SELECT `+pushResultCols+` FROM push_results WHERE account_uid = ? AND message_type = ? ORDER BY at DESC, id DESC LIMIT ?`,
		accountUID, messageType, limit)
}

func scanPushResult(sc scanner) (*dialtone.PushResult, error) {
	var (
		r        dialtone.PushResult
		at, test int64
	)
	if err := sc.Scan(&r.ID, &r.AccountUID, &r.MessageType, &at, &r.URL, &r.HTTPStatus, &r.Error, &r.Count, &test); err != nil {
		return nil, err
	}
	r.At, r.Test = fromMillis(at), test != 0
	return &r, nil
}

// newResultID is random so that nodes recording at once never collide.
func newResultID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b) // crypto/rand does not fail on supported systems
	return hex.EncodeToString(b)
}
