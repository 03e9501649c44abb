package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/dialtone-voice/dialtone"
)

const accountCols = `uid, name, status, voice_service, features, rate_limits, created_at, updated_at`

// PutAccount creates or replaces the account with a.UID; every field is
// replaced, CreatedAt included, because the caller owns the whole record.
func (s *Store) PutAccount(ctx context.Context, a *dialtone.Account) error {
	if a == nil {
		return errors.New("sqlite: put account: nil account")
	}
	features, err := encodeList(a.Features)
	if err != nil {
		return fmt.Errorf("sqlite: put account %s: features: %w", a.UID, err)
	}
	limits, err := encodeMap(a.RateLimits)
	if err != nil {
		return fmt.Errorf("sqlite: put account %s: rate limits: %w", a.UID, err)
	}
	_, err = s.execCount(ctx, `
INSERT INTO accounts (`+accountCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (uid) DO UPDATE SET
    name = excluded.name,
    status = excluded.status,
    voice_service = excluded.voice_service,
    features = excluded.features,
    rate_limits = excluded.rate_limits,
    created_at = excluded.created_at,
    updated_at = excluded.updated_at`,
		a.UID, a.Name, string(a.Status), boolInt(a.VoiceService), features, limits,
		toMillis(a.CreatedAt), toMillis(a.UpdatedAt))
	if err != nil {
		return fmt.Errorf("sqlite: put account %s: %w", a.UID, err)
	}
	return nil
}

// GetAccount returns dialtone.ErrNotFound for an unknown UID.
func (s *Store) GetAccount(ctx context.Context, uid string) (*dialtone.Account, error) {
	row := s.read.QueryRowContext(ctx, `SELECT `+accountCols+` FROM accounts WHERE uid = ?`, uid)
	a, err := scanAccount(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlite: account %s: %w", uid, dialtone.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: account %s: %w", uid, err)
	}
	return a, nil
}

// ListAccounts returns every account ordered by CreatedAt, then UID.
func (s *Store) ListAccounts(ctx context.Context) ([]dialtone.Account, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+accountCols+` FROM accounts ORDER BY created_at, uid`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list accounts: %w", err)
	}
	defer rows.Close()
	out := []dialtone.Account{}
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: list accounts: %w", err)
		}
		out = append(out, *a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list accounts: %w", err)
	}
	return out, nil
}

// scanner is the common part of *sql.Row and *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

func scanAccount(sc scanner) (*dialtone.Account, error) {
	var (
		a                  dialtone.Account
		status             string
		voice              int64
		features, limits   sql.NullString
		created, updatedAt int64
	)
	if err := sc.Scan(&a.UID, &a.Name, &status, &voice, &features, &limits, &created, &updatedAt); err != nil {
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
