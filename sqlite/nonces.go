package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

const sqlUseNonce = `
INSERT INTO nonces (scope, nonce, expires_at) VALUES (?, ?, ?)
ON CONFLICT (scope, nonce) DO UPDATE SET expires_at = excluded.expires_at
WHERE nonces.expires_at <= ?`

// UseNonce records nonce under scope until expires and reports true, or
// reports false when an unexpired record exists. A record is expired once
// expires_at <= now; such a record is overwritten and the nonce accepted.
//
// One upsert statement does the check and the write, so the answer is atomic
// without a transaction: the conditional DO UPDATE changes no row (and
// RowsAffected is 0) exactly when the existing record is still live. The same
// statement works on PostgreSQL.
//
// It goes through the group-commit writer like every write: at the gateway's
// request rate, sharing commits matters more than the lone statement.
func (s *Store) UseNonce(ctx context.Context, scope, nonce string, now, expires time.Time) (bool, error) {
	var used bool
	err := s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := s.txExec(ctx, tx, sqlUseNonce, scope, nonce, toMillis(expires), now.UnixMilli())
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		used = n == 1
		return err
	})
	if err != nil {
		return false, fmt.Errorf("sqlite: use nonce: %w", err)
	}
	return used, nil
}

// PurgeNonces deletes the records expired at now and returns how many.
func (s *Store) PurgeNonces(ctx context.Context, now time.Time) (int, error) {
	n, err := s.execCount(ctx, `DELETE FROM nonces WHERE expires_at <= ?`, now.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("sqlite: purge nonces: %w", err)
	}
	return n, nil
}

// execCount runs one statement through the writer and returns the number of
// rows it changed.
func (s *Store) execCount(ctx context.Context, q string, args ...any) (int, error) {
	var n int64
	err := s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, q, args...)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}
