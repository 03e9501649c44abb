package server

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
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
// firstStart reports a store that has never been used: an absent SQLite
// file, or a PostgreSQL database without accounts.
func openStore(ctx context.Context, cfg Config, sealer dialtone.Sealer) (st dialtone.Store, firstStart bool, err error) {
	switch {
	case cfg.StoreURL == "" || cfg.StoreURL == "sqlite":
		dbPath := filepath.Join(cfg.DataDir, DBFile)
		_, statErr := os.Stat(dbPath)
		firstStart = errors.Is(statErr, fs.ErrNotExist)
		s, err := sqlite.Open(ctx, dbPath, sealer, sqlite.WithLogger(cfg.Logger))
		if err != nil {
			return nil, false, fmt.Errorf("open store: %w", err)
		}
		return s, firstStart, nil
	case IsPostgresURL(cfg.StoreURL):
		s, err := postgres.Open(ctx, cfg.StoreURL, sealer, postgres.WithLogger(cfg.Logger))
		if err != nil {
			return nil, false, fmt.Errorf("open store: %w", err)
		}
		accts, err := s.ListAccounts(ctx)
		if err != nil {
			s.Close()
			return nil, false, fmt.Errorf("open store: %w", err)
		}
		return s, len(accts) == 0, nil
	}
	return nil, false, fmt.Errorf("--store %q: want empty (SQLite in the data directory) or a postgres:// URL", redactURL(cfg.StoreURL))
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
