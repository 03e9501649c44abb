package server

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/postgres"
	"github.com/dialtone-voice/dialtone/sqlite"
)

// IsPostgresURL reports whether a --store value selects PostgreSQL.
func IsPostgresURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// openStore opens the configured store: the embedded SQLite database in the
// data directory by default, or PostgreSQL shared by several nodes.
// firstStart reports a store that has no account yet: never used, or one
// whose first start failed before its one transaction committed.
func openStore(ctx context.Context, cfg Config, sealer dialtone.Sealer) (st dialtone.Store, firstStart bool, err error) {
	switch {
	case cfg.StoreURL == "" || cfg.StoreURL == "sqlite":
		st, err = sqlite.Open(ctx, filepath.Join(cfg.DataDir, DBFile), sealer, sqlite.WithLogger(cfg.Logger))
	case IsPostgresURL(cfg.StoreURL):
		st, err = postgres.Open(ctx, cfg.StoreURL, sealer, postgres.WithLogger(cfg.Logger))
	default:
		return nil, false, fmt.Errorf("--store %q: want empty (SQLite in the data directory) or a postgres:// URL", redactURL(cfg.StoreURL))
	}
	if err != nil {
		return nil, false, fmt.Errorf("open store: %w", err)
	}
	accts, err := st.ListAccounts(ctx)
	if err != nil {
		st.Close()
		return nil, false, fmt.Errorf("open store: %w", err)
	}
	return st, len(accts) == 0, nil
}

// redactURL keeps passwords out of messages.
func redactURL(s string) string {
	if i := strings.Index(s, "@"); i > 0 {
		if j := strings.Index(s, "://"); j >= 0 && j < i {
			return s[:j+3] + "…@" + s[i+1:]
		}
	}
	return s
}
