package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/sqlcodec"
)

// AddAdminToken records a token's hash; recording it again changes nothing.
func (s *Store) AddAdminToken(ctx context.Context, t *dialtone.AdminToken) error {
	err := s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, sqlcodec.SQLAddAdminToken, sqlcodec.AdminTokenArgs(t)...)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: add admin token: %w", err)
	}
	return nil
}

// ListAdminTokens returns every token, oldest first.
func (s *Store) ListAdminTokens(ctx context.Context) ([]dialtone.AdminToken, error) {
	return listScoped(ctx, s.read, "admin tokens", scanAdminToken, sqlcodec.SQLListAdminTokens)
}

func scanAdminToken(sc scanner) (*dialtone.AdminToken, error) {
	var sha string
	var created int64
	if err := sc.Scan(&sha, &created); err != nil {
		return nil, err
	}
	return sqlcodec.AdminToken(sha, created)
}
