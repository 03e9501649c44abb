package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/dialtone-voice/dialtone"
)

const keyCols = `id, account_uid, secret_sealed, enabled, actions, created_at`

// PutAccessKey creates or replaces a key. It returns dialtone.ErrNotFound when
// the account does not exist and dialtone.ErrConflict when the ID belongs to
// another account; keys never move between accounts.
func (s *Store) PutAccessKey(ctx context.Context, k *dialtone.AccessKey) error {
	if k == nil {
		return errors.New("sqlite: put access key: nil key")
	}
	// Seal outside the transaction: it is CPU work that needs no lock.
	sealed, err := s.seal(k.Secret)
	if err != nil {
		return fmt.Errorf("sqlite: put access key %s: %w", k.ID, err)
	}
	actions, err := encodeList(k.Actions)
	if err != nil {
		return fmt.Errorf("sqlite: put access key %s: actions: %w", k.ID, err)
	}
	err = s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := s.checkOwner(ctx, tx, `SELECT account_uid FROM access_keys WHERE id = ?`, k.ID, k.AccountUID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `
INSERT INTO access_keys (`+keyCols+`) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET
    secret_sealed = excluded.secret_sealed,
    enabled = excluded.enabled,
    actions = excluded.actions,
    created_at = excluded.created_at`,
			k.ID, k.AccountUID, sealed, boolInt(k.Enabled), actions, toMillis(k.CreatedAt))
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: put access key %s: %w", k.ID, err)
	}
	return nil
}

// checkOwner, inside a write transaction, returns ErrNotFound when account
// does not exist and ErrConflict when ownerQuery finds the row id owned by
// another account. The explicit checks give callers the sentinel errors
// instead of a foreign-key failure, and stop an upsert from moving a row
// across tenants.
func (s *Store) checkOwner(ctx context.Context, tx *sql.Tx, ownerQuery, id, account string) error {
	ok, err := s.accountExists(ctx, tx, account)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("account %s: %w", account, dialtone.ErrNotFound)
	}
	var owner string
	err = tx.QueryRowContext(ctx, ownerQuery, id).Scan(&owner)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err != nil:
		return err
	case owner != account:
		return fmt.Errorf("id belongs to another account: %w", dialtone.ErrConflict)
	}
	return nil
}

// GetAccessKey finds a key by ID alone; dialtone.ErrNotFound when unknown.
func (s *Store) GetAccessKey(ctx context.Context, id string) (*dialtone.AccessKey, error) {
	row := s.read.QueryRowContext(ctx, `SELECT `+keyCols+` FROM access_keys WHERE id = ?`, id)
	k, err := s.scanKey(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlite: access key %s: %w", id, dialtone.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: access key %s: %w", id, err)
	}
	return k, nil
}

// ListAccessKeys returns the account's keys ordered by CreatedAt, then ID; an
// unknown account has no keys.
func (s *Store) ListAccessKeys(ctx context.Context, accountUID string) ([]dialtone.AccessKey, error) {
	rows, err := s.read.QueryContext(ctx,
		`SELECT `+keyCols+` FROM access_keys WHERE account_uid = ? ORDER BY created_at, id`, accountUID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list access keys of %s: %w", accountUID, err)
	}
	defer rows.Close()
	out := []dialtone.AccessKey{}
	for rows.Next() {
		k, err := s.scanKey(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: list access keys of %s: %w", accountUID, err)
		}
		out = append(out, *k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list access keys of %s: %w", accountUID, err)
	}
	return out, nil
}

// DeleteAccessKey returns dialtone.ErrNotFound unless the key exists in that
// account; the account filter is in the DELETE itself, so another tenant's
// key can never be removed.
func (s *Store) DeleteAccessKey(ctx context.Context, accountUID, id string) error {
	n, err := s.execCount(ctx, `DELETE FROM access_keys WHERE account_uid = ? AND id = ?`, accountUID, id)
	if err != nil {
		return fmt.Errorf("sqlite: delete access key %s: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("sqlite: delete access key %s of account %s: %w", id, accountUID, dialtone.ErrNotFound)
	}
	return nil
}

func (s *Store) scanKey(sc scanner) (*dialtone.AccessKey, error) {
	var (
		k       dialtone.AccessKey
		sealed  string
		enabled int64
		actions sql.NullString
		created int64
	)
	if err := sc.Scan(&k.ID, &k.AccountUID, &sealed, &enabled, &actions, &created); err != nil {
		return nil, err
	}
	var err error
	if k.Secret, err = s.unseal(sealed); err != nil {
		return nil, err
	}
	k.Enabled = enabled != 0
	if k.Actions, err = decodeList[string]("actions", actions); err != nil {
		return nil, err
	}
	k.CreatedAt = fromMillis(created)
	return &k, nil
}

const tempCols = `access_key_id, secret_sealed, security_token, account_uid, scope, created_at, expires_at`

// PutTempCredential creates or replaces a temporary credential. Like
// PutAccessKey it returns dialtone.ErrNotFound for an unknown account and
// dialtone.ErrConflict when the ID belongs to another account.
func (s *Store) PutTempCredential(ctx context.Context, c *dialtone.TempCredential) error {
	if c == nil {
		return errors.New("sqlite: put temp credential: nil credential")
	}
	sealed, err := s.seal(c.Secret)
	if err != nil {
		return fmt.Errorf("sqlite: put temp credential %s: %w", c.AccessKeyID, err)
	}
	scope, err := encodeList(c.Scope)
	if err != nil {
		return fmt.Errorf("sqlite: put temp credential %s: scope: %w", c.AccessKeyID, err)
	}
	err = s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := s.checkOwner(ctx, tx, `SELECT account_uid FROM temp_credentials WHERE access_key_id = ?`, c.AccessKeyID, c.AccountUID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `
INSERT INTO temp_credentials (`+tempCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (access_key_id) DO UPDATE SET
    secret_sealed = excluded.secret_sealed,
    security_token = excluded.security_token,
    scope = excluded.scope,
    created_at = excluded.created_at,
    expires_at = excluded.expires_at`,
			c.AccessKeyID, sealed, c.SecurityToken, c.AccountUID, scope,
			toMillis(c.CreatedAt), toMillis(c.ExpiresAt))
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: put temp credential %s: %w", c.AccessKeyID, err)
	}
	return nil
}

// GetTempCredential returns dialtone.ErrNotFound when unknown; expired
// credentials are returned until purged.
func (s *Store) GetTempCredential(ctx context.Context, accessKeyID string) (*dialtone.TempCredential, error) {
	var (
		c                dialtone.TempCredential
		sealed           string
		scope            sql.NullString
		created, expires int64
	)
	err := s.read.QueryRowContext(ctx, `SELECT `+tempCols+` FROM temp_credentials WHERE access_key_id = ?`, accessKeyID).
		Scan(&c.AccessKeyID, &sealed, &c.SecurityToken, &c.AccountUID, &scope, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlite: temp credential %s: %w", accessKeyID, dialtone.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: temp credential %s: %w", accessKeyID, err)
	}
	if c.Secret, err = s.unseal(sealed); err != nil {
		return nil, fmt.Errorf("sqlite: temp credential %s: %w", accessKeyID, err)
	}
	if c.Scope, err = decodeList[string]("scope", scope); err != nil {
		return nil, fmt.Errorf("sqlite: temp credential %s: %w", accessKeyID, err)
	}
	c.CreatedAt = fromMillis(created)
	c.ExpiresAt = fromMillis(expires)
	return &c, nil
}

// PurgeTempCredentials deletes the credentials expired at now (ExpiresAt <=
// now, matching TempCredential.Expired) and returns how many.
func (s *Store) PurgeTempCredentials(ctx context.Context, now time.Time) (int, error) {
	n, err := s.execCount(ctx, `DELETE FROM temp_credentials WHERE expires_at <= ?`, now.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("sqlite: purge temp credentials: %w", err)
	}
	return n, nil
}
