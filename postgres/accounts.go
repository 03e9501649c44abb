package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/dialtone-voice/dialtone"
)

const accountCols = `uid, name, status, voice_service, features, rate_limits, created_at, updated_at`

// PutAccount creates or replaces the account with a.UID; every field is
// replaced, CreatedAt included, because the caller owns the whole record.
func (s *Store) PutAccount(ctx context.Context, a *dialtone.Account) error {
	if a == nil {
		return errors.New("postgres: put account: nil account")
	}
	features, err := encodeList(a.Features)
	if err != nil {
		return fmt.Errorf("postgres: put account %s: features: %w", a.UID, err)
	}
	limits, err := encodeMap(a.RateLimits)
	if err != nil {
		return fmt.Errorf("postgres: put account %s: rate limits: %w", a.UID, err)
	}
	_, err = s.db.Exec(ctx, `
INSERT INTO accounts (`+accountCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
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
		return fmt.Errorf("postgres: put account %s: %w", a.UID, err)
	}
	return nil
}

// GetAccount returns dialtone.ErrNotFound for an unknown UID.
func (s *Store) GetAccount(ctx context.Context, uid string) (*dialtone.Account, error) {
	a, err := scanAccount(s.db.QueryRow(ctx, `SELECT `+accountCols+` FROM accounts WHERE uid = $1`, uid))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("postgres: account %s: %w", uid, dialtone.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: account %s: %w", uid, err)
	}
	return a, nil
}

// ListAccounts returns every account ordered by CreatedAt, then UID.
func (s *Store) ListAccounts(ctx context.Context) ([]dialtone.Account, error) {
	return listRows(ctx, s.db, "accounts", scanAccount, `SELECT `+accountCols+` FROM accounts ORDER BY created_at, uid`+byteOrder)
}

func scanAccount(row pgx.Row) (*dialtone.Account, error) {
	var (
		a                  dialtone.Account
		status             string
		voice              int64
		features, limits   *string
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

// getRow scans one row, turning "no row" into ErrNotFound.
func getRow[T any](ctx context.Context, q querier, what string, scan func(pgx.Row) (*T, error), sql string, args ...any) (*T, error) {
	v, err := scan(q.QueryRow(ctx, sql, args...))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("postgres: %s: %w", what, dialtone.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: %s: %w", what, err)
	}
	return v, nil
}

// listRows scans every row; an empty result is an empty, non-nil slice.
func listRows[T any](ctx context.Context, q querier, what string, scan func(pgx.Row) (*T, error), sql string, args ...any) ([]T, error) {
	out, err := collect(ctx, q, scan, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: list %s: %w", what, err)
	}
	return out, nil
}

// collect is listRows without the error decoration, for use inside
// transactions.
func collect[T any](ctx context.Context, q querier, scan func(pgx.Row) (*T, error), sql string, args ...any) ([]T, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *v)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}
