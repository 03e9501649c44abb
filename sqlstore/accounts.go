package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/dialtone-voice/dialtone"
)

const accountCols = `uid, name, status, voice_service, features, rate_limits, created_at, updated_at`

const (
	sqlPutAccount = `
INSERT INTO accounts (` + accountCols + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (uid) DO UPDATE SET
    name = excluded.name,
    status = excluded.status,
    voice_service = excluded.voice_service,
    features = excluded.features,
    rate_limits = excluded.rate_limits,
    created_at = excluded.created_at,
    updated_at = excluded.updated_at`
	sqlGetAccount   = `SELECT ` + accountCols + ` FROM accounts WHERE uid = $1`
	sqlListAccounts = `SELECT ` + accountCols + ` FROM accounts ORDER BY created_at, uid{C}`
)

// PutAccount creates or replaces the account with a.UID; every field is
// replaced, CreatedAt included, because the caller owns the whole record.
func (s *Store) PutAccount(ctx context.Context, a *dialtone.Account) error {
	if a == nil {
		return s.errorf("put account: nil account")
	}
	features, err := encodeList(a.Features)
	if err != nil {
		return s.errorf("put account %s: features: %w", a.UID, err)
	}
	limits, err := encodeMap(a.RateLimits)
	if err != nil {
		return s.errorf("put account %s: rate limits: %w", a.UID, err)
	}
	name := "account:" + a.UID
	err = s.db.Write(ctx, func(ctx context.Context, q Querier) error {
		if _, err := q.Exec(ctx, sqlPutAccount, a.UID, a.Name, string(a.Status), boolInt(a.VoiceService), features, limits,
			toMillis(a.CreatedAt), toMillis(a.UpdatedAt)); err != nil {
			return err
		}
		return s.notifyAuth(ctx, q, name)
	})
	s.authWritten(name)
	if err != nil {
		return s.errorf("put account %s: %w", a.UID, err)
	}
	return nil
}

// GetAccount returns dialtone.ErrNotFound for an unknown UID.
func (s *Store) GetAccount(ctx context.Context, uid string) (*dialtone.Account, error) {
	if s.inView {
		return getRow(ctx, s, "account "+uid, scanAccount, sqlGetAccount, uid)
	}
	if a, gen := authGet(s.auth, s.auth.accounts, uid); a != nil {
		return cloneAccount(a), nil
	} else {
		at := time.Now()
		a, err := getRow(ctx, s, "account "+uid, scanAccount, sqlGetAccount, uid)
		if err != nil {
			return nil, err
		}
		authPut(s.auth, s.auth.accounts, uid, cloneAccount(a), gen, at)
		return a, nil
	}
}

// ListAccounts returns every account ordered by CreatedAt, then UID.
func (s *Store) ListAccounts(ctx context.Context) ([]dialtone.Account, error) {
	return listRows(ctx, s, "accounts", scanAccount, s.q.listAccounts)
}

func scanAccount(row Row) (*dialtone.Account, error) {
	var (
		a                  dialtone.Account
		status             string
		voice              int64
		features, limits   sql.NullString
		created, updatedAt int64
	)
	if err := row.Scan(&a.UID, &a.Name, &status, &voice, &features, &limits, &created, &updatedAt); err != nil {
		return nil, err
	}
	a.Status = dialtone.AccountStatus(status)
	a.VoiceService = voice != 0
	var err error
	if a.Features, err = decodeList[dialtone.Feature]("features", features); err != nil {
		return nil, err
	}
	if a.RateLimits, err = decodeMap[float64]("rate_limits", limits); err != nil {
		return nil, err
	}
	a.CreatedAt = fromMillis(created)
	a.UpdatedAt = fromMillis(updatedAt)
	return &a, nil
}

// --- access keys and temporary credentials ---

const keyCols = `id, account_uid, secret_sealed, enabled, actions, created_at`

// The owner condition sits in the upserts themselves, so a concurrent Put
// of the same ID by another account cannot slip between a check and the
// write: the DO UPDATE is evaluated on the row it found (locked, on
// PostgreSQL), and changes nothing when the row is another account's.
const (
	sqlPutKey = `
INSERT INTO access_keys (` + keyCols + `) VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (id) DO UPDATE SET
    secret_sealed = excluded.secret_sealed,
    enabled = excluded.enabled,
    actions = excluded.actions,
    created_at = excluded.created_at
WHERE access_keys.account_uid = excluded.account_uid`
	sqlGetKey    = `SELECT ` + keyCols + ` FROM access_keys WHERE id = $1`
	sqlListKeys  = `SELECT ` + keyCols + ` FROM access_keys WHERE account_uid = $1 ORDER BY created_at, id{C}`
	sqlDeleteKey = `DELETE FROM access_keys WHERE account_uid = $1 AND id = $2`

	tempCols   = `access_key_id, secret_sealed, security_token, account_uid, scope, created_at, expires_at`
	sqlPutTemp = `
INSERT INTO temp_credentials (` + tempCols + `) VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (access_key_id) DO UPDATE SET
    secret_sealed = excluded.secret_sealed,
    security_token = excluded.security_token,
    scope = excluded.scope,
    created_at = excluded.created_at,
    expires_at = excluded.expires_at
WHERE temp_credentials.account_uid = excluded.account_uid`
	sqlGetTemp   = `SELECT ` + tempCols + ` FROM temp_credentials WHERE access_key_id = $1`
	sqlPurgeTemp = `DELETE FROM temp_credentials WHERE expires_at <= $1`
)

// PutAccessKey creates or replaces a key. It returns dialtone.ErrNotFound when
// the account does not exist and dialtone.ErrConflict when the ID belongs to
// another account; keys never move between accounts.
func (s *Store) PutAccessKey(ctx context.Context, k *dialtone.AccessKey) error {
	if k == nil {
		return s.errorf("put access key: nil key")
	}
	// Seal before the write: CPU work that needs no connection or lock.
	sealed, err := s.seal(k.Secret)
	if err != nil {
		return s.errorf("put access key %s: %w", k.ID, err)
	}
	actions, err := encodeList(k.Actions)
	if err != nil {
		return s.errorf("put access key %s: actions: %w", k.ID, err)
	}
	name := "key:" + k.ID
	err = s.putOwned(ctx, k.AccountUID, name, sqlPutKey, k.ID, k.AccountUID, sealed, boolInt(k.Enabled), actions, toMillis(k.CreatedAt))
	s.authWritten(name)
	if err != nil {
		return s.errorf("put access key %s: %w", k.ID, err)
	}
	return nil
}

// putOwned runs an upsert whose DO UPDATE is conditional on the row's
// owner: no row written means the ID is another account's.
// A non-empty auth names what the write changes for the authentication
// cache of the other nodes (notifyAuth).
func (s *Store) putOwned(ctx context.Context, account, auth, upsert string, args ...any) error {
	return s.db.Write(ctx, func(ctx context.Context, q Querier) error {
		if err := requireAccount(ctx, q, account); err != nil {
			return err
		}
		n, err := q.Exec(ctx, upsert, args...)
		if s.d.IsForeignKey(err) {
			return fmt.Errorf("account %s: %w", account, dialtone.ErrNotFound)
		}
		if err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("id belongs to another account: %w", dialtone.ErrConflict)
		}
		if auth != "" {
			return s.notifyAuth(ctx, q, auth)
		}
		return nil
	})
}

// GetAccessKey finds a key by ID alone; dialtone.ErrNotFound when unknown.
func (s *Store) GetAccessKey(ctx context.Context, id string) (*dialtone.AccessKey, error) {
	if s.inView {
		return getRow(ctx, s, "access key "+id, s.scanKey, sqlGetKey, id)
	}
	if k, gen := authGet(s.auth, s.auth.keys, id); k != nil {
		return cloneKey(k), nil
	} else {
		at := time.Now()
		k, err := getRow(ctx, s, "access key "+id, s.scanKey, sqlGetKey, id)
		if err != nil {
			return nil, err
		}
		authPut(s.auth, s.auth.keys, id, cloneKey(k), gen, at)
		return k, nil
	}
}

// ListAccessKeys returns the account's keys ordered by CreatedAt, then ID; an
// unknown account has no keys.
func (s *Store) ListAccessKeys(ctx context.Context, accountUID string) ([]dialtone.AccessKey, error) {
	return listRows(ctx, s, "access keys of "+accountUID, s.scanKey, s.q.listKeys, accountUID)
}

// DeleteAccessKey returns dialtone.ErrNotFound unless the key exists in that
// account; the account filter is in the DELETE itself, so another tenant's
// key can never be removed.
func (s *Store) DeleteAccessKey(ctx context.Context, accountUID, id string) error {
	name := "key:" + id
	err := s.db.Write(ctx, func(ctx context.Context, q Querier) error {
		n, err := q.Exec(ctx, sqlDeleteKey, accountUID, id)
		if err != nil {
			return err
		}
		if n == 0 {
			return dialtone.ErrNotFound
		}
		return s.notifyAuth(ctx, q, name)
	})
	s.authWritten(name)
	if err != nil {
		return s.errorf("delete access key %s of account %s: %w", id, accountUID, err)
	}
	return nil
}

func (s *Store) scanKey(row Row) (*dialtone.AccessKey, error) {
	var (
		k       dialtone.AccessKey
		sealed  string
		enabled int64
		actions sql.NullString
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

// PutTempCredential creates or replaces a temporary credential. Like
// PutAccessKey it returns dialtone.ErrNotFound for an unknown account and
// dialtone.ErrConflict when the ID belongs to another account.
func (s *Store) PutTempCredential(ctx context.Context, c *dialtone.TempCredential) error {
	if c == nil {
		return s.errorf("put temp credential: nil credential")
	}
	sealed, err := s.seal(c.Secret)
	if err != nil {
		return s.errorf("put temp credential %s: %w", c.AccessKeyID, err)
	}
	scope, err := encodeList(c.Scope)
	if err != nil {
		return s.errorf("put temp credential %s: scope: %w", c.AccessKeyID, err)
	}
	err = s.putOwned(ctx, c.AccountUID, "", sqlPutTemp, c.AccessKeyID, sealed, c.SecurityToken, c.AccountUID, scope,
		toMillis(c.CreatedAt), toMillis(c.ExpiresAt))
	if err != nil {
		return s.errorf("put temp credential %s: %w", c.AccessKeyID, err)
	}
	return nil
}

// GetTempCredential returns dialtone.ErrNotFound when unknown; expired
// credentials are returned until purged.
func (s *Store) GetTempCredential(ctx context.Context, accessKeyID string) (*dialtone.TempCredential, error) {
	return getRow(ctx, s, "temp credential "+accessKeyID, s.scanTemp, sqlGetTemp, accessKeyID)
}

func (s *Store) scanTemp(row Row) (*dialtone.TempCredential, error) {
	var (
		c                dialtone.TempCredential
		sealed           string
		scope            sql.NullString
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
	n, err := s.execCount(ctx, sqlPurgeTemp, now.UnixMilli())
	if err != nil {
		return 0, s.errorf("purge temp credentials: %w", err)
	}
	return n, nil
}

// --- nonces ---

// PurgeNonces deletes the records expired at now and returns how many
// (with a NonceJournal, the journal's and the table's, which then holds
// only what was there before the journal).
func (s *Store) PurgeNonces(ctx context.Context, now time.Time) (int, error) {
	n, err := s.execCount(ctx, `DELETE FROM nonces WHERE expires_at <= $1`, now.UnixMilli())
	if err != nil {
		return 0, s.errorf("purge nonces: %w", err)
	}
	if s.journal != nil {
		m, err := s.journal.Purge(ctx, now)
		if err != nil {
			return n, s.errorf("purge nonces: %w", err)
		}
		n += m
	}
	return n, nil
}

// --- admin tokens ---

// AddAdminToken records a token's hash; recording it again changes nothing.
func (s *Store) AddAdminToken(ctx context.Context, t *dialtone.AdminToken) error {
	if t == nil {
		return s.errorf("add admin token: nil token")
	}
	if _, err := s.execCount(ctx, `INSERT INTO admin_tokens (sha256, created_at) VALUES ($1, $2) ON CONFLICT (sha256) DO NOTHING`,
		adminTokenHash(t), toMillis(t.CreatedAt)); err != nil {
		return s.errorf("add admin token: %w", err)
	}
	return nil
}

// ListAdminTokens returns every token, oldest first.
func (s *Store) ListAdminTokens(ctx context.Context) ([]dialtone.AdminToken, error) {
	return listRows(ctx, s, "admin tokens", scanAdminToken, `SELECT sha256, created_at FROM admin_tokens ORDER BY created_at, sha256`)
}

func scanAdminToken(row Row) (*dialtone.AdminToken, error) {
	var sha string
	var created int64
	if err := row.Scan(&sha, &created); err != nil {
		return nil, err
	}
	return adminToken(sha, created)
}
