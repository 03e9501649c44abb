package sqlstore

import (
	"context"
	"encoding/base64"
	"time"

	"github.com/dialtone-voice/dialtone"
)

// The certificate manager's files and locks (migration 0009).

const (
	sqlPutCertFile = `
INSERT INTO cert_files (key, value, size, modified_at) VALUES ($1, $2, $3, $4)
ON CONFLICT (key) DO UPDATE SET value = excluded.value, size = excluded.size, modified_at = excluded.modified_at`
	sqlGetCertFile = `SELECT key, value, modified_at FROM cert_files WHERE key = $1`
	// A key's files are the key itself and the keys in the range
	// [key+"/", key+"0"): '0' follows '/' in byte order, so the range holds
	// exactly the keys that start with key+"/".
	sqlDeleteCertFiles = `DELETE FROM cert_files WHERE key = $1 OR (key{C} >= $2 AND key{C} < $3)`
	sqlListCertFiles   = `SELECT key, size, modified_at FROM cert_files WHERE key{C} >= $1 AND key{C} < $2 ORDER BY key{C}`
	sqlListAllCerts    = `SELECT key, size, modified_at FROM cert_files ORDER BY key{C}`
	// The lock in one statement, atomic as UseNonce's: the DO UPDATE
	// changes the row (and the lock is taken) only when it expired or is
	// the owner's already; on PostgreSQL a concurrent insert of the same
	// name waits and then re-checks the WHERE on the committed row.
	sqlLockCert = `
INSERT INTO cert_locks (name, owner, expires_at) VALUES ($1, $2, $3)
ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
WHERE cert_locks.expires_at <= $4 OR cert_locks.owner = excluded.owner`
	sqlUnlockCert = `DELETE FROM cert_locks WHERE name = $1 AND owner = $2`
)

// PutCertFile creates or replaces the file.
func (s *Store) PutCertFile(ctx context.Context, f *dialtone.CertFile) error {
	if f == nil || f.Key == "" {
		return s.errorf("put cert file: no key")
	}
	if _, err := s.execCount(ctx, sqlPutCertFile, f.Key, base64.StdEncoding.EncodeToString(f.Value),
		int64(len(f.Value)), toMillis(f.Modified)); err != nil {
		return s.errorf("put cert file %s: %w", f.Key, err)
	}
	return nil
}

// GetCertFile returns dialtone.ErrNotFound for an unknown key.
func (s *Store) GetCertFile(ctx context.Context, key string) (*dialtone.CertFile, error) {
	return getRow(ctx, s, "cert file "+key, scanCertFile, sqlGetCertFile, key)
}

func scanCertFile(row Row) (*dialtone.CertFile, error) {
	var (
		f        dialtone.CertFile
		value    string
		modified int64
	)
	if err := row.Scan(&f.Key, &value, &modified); err != nil {
		return nil, err
	}
	var err error
	if f.Value, err = base64.StdEncoding.DecodeString(value); err != nil {
		return nil, err
	}
	f.Size = int64(len(f.Value))
	f.Modified = fromMillis(modified)
	return &f, nil
}

// DeleteCertFiles deletes the file key and the files under it.
func (s *Store) DeleteCertFiles(ctx context.Context, key string) error {
	if _, err := s.execCount(ctx, s.q.deleteCertFiles, key, key+"/", key+"0"); err != nil {
		return s.errorf("delete cert files %s: %w", key, err)
	}
	return nil
}

// ListCertFiles returns the files under prefix, ordered by key.
func (s *Store) ListCertFiles(ctx context.Context, prefix string) ([]dialtone.CertFile, error) {
	if prefix == "" {
		return listRows(ctx, s, "cert files", scanCertInfo, s.q.listAllCerts)
	}
	return listRows(ctx, s, "cert files under "+prefix, scanCertInfo, s.q.listCertFiles, prefix+"/", prefix+"0")
}

func scanCertInfo(row Row) (*dialtone.CertFile, error) {
	var (
		f              dialtone.CertFile
		size, modified int64
	)
	if err := row.Scan(&f.Key, &size, &modified); err != nil {
		return nil, err
	}
	f.Size = size
	f.Modified = fromMillis(modified)
	return &f, nil
}

// LockCert takes the lock name for owner until expires (see
// dialtone.CertStore).
func (s *Store) LockCert(ctx context.Context, name, owner string, now, expires time.Time) (bool, error) {
	if name == "" || owner == "" {
		return false, s.errorf("lock cert: no name or owner")
	}
	n, err := s.execCount(ctx, sqlLockCert, name, owner, toMillis(expires), toMillis(now))
	if err != nil {
		return false, s.errorf("lock cert %s: %w", name, err)
	}
	return n == 1, nil
}

// UnlockCert releases owner's lock.
func (s *Store) UnlockCert(ctx context.Context, name, owner string) error {
	if _, err := s.execCount(ctx, sqlUnlockCert, name, owner); err != nil {
		return s.errorf("unlock cert %s: %w", name, err)
	}
	return nil
}
