package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dialtone-voice/dialtone"
)

const keyCols = `id, account_uid, secret_sealed, enabled, actions, created_at`

// PutAccessKey creates or replaces a key. It returns dialtone.ErrNotFound when
// the account does not exist and dialtone.ErrConflict when the ID belongs to
// another account; keys never move between accounts.
func (s *Store) PutAccessKey(ctx context.Context, k *dialtone.AccessKey) error {
	if k == nil {
		return errors.New("postgres: put access key: nil key")
	}
	// Seal before the transaction: CPU work that needs no connection.
	sealed, err := s.seal(k.Secret)
	if err != nil {
		return fmt.Errorf("postgres: put access key %s: %w", k.ID, err)
	}
	actions, err := encodeList(k.Actions)
	if err != nil {
		return fmt.Errorf("postgres: put access key %s: actions: %w", k.ID, err)
	}
	// The owner condition sits in the upsert itself, so a concurrent Put of
	// the same ID by another account cannot slip between a check and the
	// write: the DO UPDATE is evaluated on the row it found locked.
	err = s.putOwned(ctx, k.AccountUID, `
INSERT INTO access_keys (`+keyCols+`) VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (id) DO UPDATE SET
    secret_sealed = excluded.secret_sealed,
    enabled = excluded.enabled,
    actions = excluded.actions,
    created_at = excluded.created_at
WHERE access_keys.account_uid = excluded.account_uid`,
		k.ID, k.AccountUID, sealed, boolInt(k.Enabled), actions, toMillis(k.CreatedAt))
	if err != nil {
		return fmt.Errorf("postgres: put access key %s: %w", k.ID, err)
	}
	return nil
}

// putOwned runs an upsert whose DO UPDATE is conditional on the row's
// owner: no row written means the ID is another account's.
func (s *Store) putOwned(ctx context.Context, account, upsert string, args ...any) error {
	if err := requireAccount(ctx, s.db, account); err != nil {
		return err
	}
	tag, err := s.db.Exec(ctx, upsert, args...)
	if isForeignKeyViolation(err) {
		return fmt.Errorf("account %s: %w", account, dialtone.ErrNotFound)
	}
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("id belongs to another account: %w", dialtone.ErrConflict)
	}
	return nil
}

// GetAccessKey finds a key by ID alone; dialtone.ErrNotFound when unknown.
func (s *Store) GetAccessKey(ctx context.Context, id string) (*dialtone.AccessKey, error) {
	return getRow(ctx, s.db, "access key "+id, s.scanKey, `SELECT `+keyCols+` FROM access_keys WHERE id = $1`, id)
}

// ListAccessKeys returns the account's keys ordered by CreatedAt, then ID; an
// unknown account has no keys.
func (s *Store) ListAccessKeys(ctx context.Context, accountUID string) ([]dialtone.AccessKey, error) {
	return listRows(ctx, s.db, "access keys of "+accountUID, s.scanKey,
		`SELECT `+keyCols+` FROM access_keys WHERE account_uid = $1 ORDER BY created_at, id`+byteOrder, accountUID)
}

// DeleteAccessKey returns dialtone.ErrNotFound unless the key exists in that
// account; the account filter is in the DELETE itself, so another tenant's
// key can never be removed.
func (s *Store) DeleteAccessKey(ctx context.Context, accountUID, id string) error {
	n, err := s.execCount(ctx, `DELETE FROM access_keys WHERE account_uid = $1 AND id = $2`, accountUID, id)
	if err != nil {
		return fmt.Errorf("postgres: delete access key %s: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("postgres: delete access key %s of account %s: %w", id, accountUID, dialtone.ErrNotFound)
	}
	return nil
}

func (s *Store) scanKey(row pgx.Row) (*dialtone.AccessKey, error) {
	var (
		k       dialtone.AccessKey
		sealed  string
		enabled int64
		actions *string
		created int64
	)
	if err := row.Scan(&k.ID, &k.AccountUID, &sealed, &enabled, &actions, &created); err != nil {
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
		return errors.New("postgres: put temp credential: nil credential")
	}
	sealed, err := s.seal(c.Secret)
	if err != nil {
		return fmt.Errorf("postgres: put temp credential %s: %w", c.AccessKeyID, err)
	}
	scope, err := encodeList(c.Scope)
	if err != nil {
		return fmt.Errorf("postgres: put temp credential %s: scope: %w", c.AccessKeyID, err)
	}
	err = s.putOwned(ctx, c.AccountUID, `
INSERT INTO temp_credentials (`+tempCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (access_key_id) DO UPDATE SET
    secret_sealed = excluded.secret_sealed,
    security_token = excluded.security_token,
    scope = excluded.scope,
    created_at = excluded.created_at,
    expires_at = excluded.expires_at
WHERE temp_credentials.account_uid = excluded.account_uid`,
		c.AccessKeyID, sealed, c.SecurityToken, c.AccountUID, scope,
		toMillis(c.CreatedAt), toMillis(c.ExpiresAt))
	if err != nil {
		return fmt.Errorf("postgres: put temp credential %s: %w", c.AccessKeyID, err)
	}
	return nil
}

// GetTempCredential returns dialtone.ErrNotFound when unknown; expired
// credentials are returned until purged.
func (s *Store) GetTempCredential(ctx context.Context, accessKeyID string) (*dialtone.TempCredential, error) {
	return getRow(ctx, s.db, "temp credential "+accessKeyID, s.scanTemp,
		`SELECT `+tempCols+` FROM temp_credentials WHERE access_key_id = $1`, accessKeyID)
}

func (s *Store) scanTemp(row pgx.Row) (*dialtone.TempCredential, error) {
	var (
		c                dialtone.TempCredential
		sealed           string
		scope            *string
		created, expires int64
	)
	if err := row.Scan(&c.AccessKeyID, &sealed, &c.SecurityToken, &c.AccountUID, &scope, &created, &expires); err != nil {
		return nil, err
	}
	var err error
	if c.Secret, err = s.unseal(sealed); err != nil {
		return nil, err
	}
	if c.Scope, err = decodeList[string]("scope", scope); err != nil {
		return nil, err
	}
	c.CreatedAt = fromMillis(created)
	c.ExpiresAt = fromMillis(expires)
	return &c, nil
}

// PurgeTempCredentials deletes the credentials expired at now (ExpiresAt <=
// now, matching TempCredential.Expired) and returns how many.
func (s *Store) PurgeTempCredentials(ctx context.Context, now time.Time) (int, error) {
	n, err := s.execCount(ctx, `DELETE FROM temp_credentials WHERE expires_at <= $1`, now.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("postgres: purge temp credentials: %w", err)
	}
	return n, nil
}

// The nonce check and record in one statement. PostgreSQL's ON CONFLICT
// is atomic against concurrent inserts of the same key (one waits for the
// other to commit, then takes the DO UPDATE path on the committed row),
// and the DO UPDATE's WHERE is evaluated on the locked, latest row: it
// changes a row, and the nonce is accepted, only when the record is new
// or expired. Two nodes can therefore never both accept a nonce.
const sqlUseNonce = `
INSERT INTO nonces (scope, nonce, expires_at) VALUES ($1, $2, $3)
ON CONFLICT (scope, nonce) DO UPDATE SET expires_at = excluded.expires_at
WHERE nonces.expires_at <= $4`

// UseNonce records nonce under scope until expires and reports true, or
// reports false when an unexpired record exists (expires_at > now).
func (s *Store) UseNonce(ctx context.Context, scope, nonce string, now, expires time.Time) (bool, error) {
	n, err := s.execCount(ctx, sqlUseNonce, scope, nonce, toMillis(expires), now.UnixMilli())
	if err != nil {
		return false, fmt.Errorf("postgres: use nonce: %w", err)
	}
	return n == 1, nil
}

// PurgeNonces deletes the records expired at now and returns how many.
func (s *Store) PurgeNonces(ctx context.Context, now time.Time) (int, error) {
	n, err := s.execCount(ctx, `DELETE FROM nonces WHERE expires_at <= $1`, now.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("postgres: purge nonces: %w", err)
	}
	return n, nil
}
