package sqlstore

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/dialtone-voice/dialtone/migrations"
)

// Migrate applies the migrations the database has not seen, in order, one
// transaction each (tx runs a transaction: BEGIN IMMEDIATE on SQLite, a
// retried READ COMMITTED transaction on PostgreSQL). Each transaction
// first takes the dialect's migration lock, creates the tracking table if
// needed, then reads what is applied, so a node that waited for another
// sees the other's work and never applies a migration twice. It refuses a
// database that records a migration this binary does not know (a newer
// binary migrated it) or under another name (the files were renumbered):
// writing to a schema the code does not understand can corrupt data.
func Migrate(ctx context.Context, d Dialect, tx func(ctx context.Context, fn func(ctx context.Context, q Querier) error) error, log *slog.Logger) error {
	all, err := migrations.All()
	if err != nil {
		return err
	}
	if log == nil {
		log = slog.Default()
	}
	for {
		var applied *migrations.Migration
		err := tx(ctx, func(ctx context.Context, q Querier) error {
			applied = nil // a retry starts over
			if d.MigrationLock != "" {
				if _, err := q.Exec(ctx, d.MigrationLock); err != nil {
					return fmt.Errorf("migration lock: %w", err)
				}
			}
			// Under the lock: concurrent CREATE TABLE IF NOT EXISTS can
			// otherwise fail on a catalog's unique index.
			if _, err := q.Exec(ctx, migrations.TrackingTableSQL); err != nil {
				return fmt.Errorf("create schema_migrations: %w", err)
			}
			done, err := appliedMigrations(ctx, q)
			if err != nil {
				return err
			}
			if err := checkKnown(all, done); err != nil {
				return err
			}
			for _, m := range all {
				if _, ok := done[m.Version]; ok {
					continue
				}
				if _, err := q.Exec(ctx, m.SQL); err != nil {
					return fmt.Errorf("migration %04d_%s: %w", m.Version, m.Name, err)
				}
				if _, err := q.Exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
					int64(m.Version), m.Name, time.Now().UnixMilli()); err != nil {
					return fmt.Errorf("migration %04d_%s: record: %w", m.Version, m.Name, err)
				}
				applied = &m
				return nil
			}
			return nil
		})
		if err != nil {
			return err
		}
		if applied == nil {
			return nil
		}
		log.InfoContext(ctx, d.Name+": applied migration", "version", applied.Version, "name", applied.Name)
	}
}

func appliedMigrations(ctx context.Context, q Querier) (map[int]string, error) {
	rows, err := q.Query(ctx, `SELECT version, name FROM schema_migrations`)
	if err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	defer rows.Close()
	done := map[int]string{}
	for rows.Next() {
		var v int64
		var name string
		if err := rows.Scan(&v, &name); err != nil {
			return nil, fmt.Errorf("read schema_migrations: %w", err)
		}
		done[int(v)] = name
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	return done, nil
}

func checkKnown(all []migrations.Migration, done map[int]string) error {
	known := make(map[int]string, len(all))
	for _, m := range all {
		known[m.Version] = m.Name
	}
	for v, name := range done {
		want, ok := known[v]
		if !ok {
			return fmt.Errorf("database has migration %d (%s) that this binary does not know; it was migrated by a newer version", v, name)
		}
		if want != name {
			return fmt.Errorf("database has migration %d named %q, this binary calls it %q", v, name, want)
		}
	}
	return nil
}
