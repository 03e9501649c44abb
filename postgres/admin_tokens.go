package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/sqlcodec"
)

// AddAdminToken records a token's hash; recording it again changes nothing.
func (s *Store) AddAdminToken(ctx context.Context, t *dialtone.AdminToken) error {
	if _, err := s.db.Exec(ctx, sqlcodec.SQLAddAdminToken, sqlcodec.AdminTokenArgs(t)...); err != nil {
		return fmt.Errorf("postgres: add admin token: %w", err)
	}
	return nil
}

// ListAdminTokens returns every token, oldest first.
func (s *Store) ListAdminTokens(ctx context.Context) ([]dialtone.AdminToken, error) {
	return listRows(ctx, s.db, "admin tokens", scanAdminToken, sqlcodec.SQLListAdminTokens)
}

func scanAdminToken(row pgx.Row) (*dialtone.AdminToken, error) {
	var sha string
	var created int64
	if err := row.Scan(&sha, &created); err != nil {
		return nil, err
	}
	return sqlcodec.AdminToken(sha, created)
}
