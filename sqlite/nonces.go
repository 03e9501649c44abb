package sqlite

import (
	"context"
	"fmt"
	"time"
)

// UseNonce records nonce under scope until expires and reports true, or
// reports false when an unexpired record exists. A record is expired once
// expires_at <= now; such a record is overwritten and the nonce accepted.
//
// One upsert statement does the check and the write, so the answer is atomic
// without a transaction: the conditional DO UPDATE changes no row (and
// RowsAffected is 0) exactly when the existing record is still live. The same
// statement works on PostgreSQL.
func (s *Store) UseNonce(ctx context.Context, scope, nonce string, now, expires time.Time) (bool, error) {
	res, err := s.write.ExecContext(ctx, `
INSERT INTO nonces (scope, nonce, expires_at) VALUES (?, ?, ?)
ON CONFLICT (scope, nonce) DO UPDATE SET expires_at = excluded.expires_at
WHERE nonces.expires_at <= ?`,
		scope, nonce, toMillis(expires), now.UnixMilli())
	if err != nil {
		return false, fmt.Errorf("sqlite: use nonce: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("sqlite: use nonce: %w", err)
	}
	return n == 1, nil
}

// PurgeNonces deletes the records expired at now and returns how many.
func (s *Store) PurgeNonces(ctx context.Context, now time.Time) (int, error) {
	res, err := s.write.ExecContext(ctx, `DELETE FROM nonces WHERE expires_at <= ?`, now.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("sqlite: purge nonces: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlite: purge nonces: %w", err)
	}
	return int(n), nil
}
