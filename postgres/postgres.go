// Package postgres implements dialtone.Store and dialtone.ReceiptStore on
// PostgreSQL with pgx (github.com/jackc/pgx/v5), for deployments where
// several Dialtone nodes share one database.
//
// It applies the same migration files as the SQLite store (package
// migrations), so both engines hold the same schema: times are BIGINT unix
// milliseconds, JSON is TEXT and booleans are INTEGER 0/1.
//
// Every guarantee the SQLite store gets from its single writer is made to
// hold across nodes here, where many transactions run at once:
//
//   - Migrations: each runs in its own transaction under a transaction-level
//     advisory lock, and re-reads schema_migrations once it holds the lock,
//     so nodes starting together apply each migration exactly once.
//   - Flow control: CreateCall takes an advisory lock on (account, callee)
//     before counting, so two nodes cannot both count below a limit and
//     both insert; calls to other callees do not wait for it.
//   - Nonces: one INSERT ... ON CONFLICT DO UPDATE ... WHERE expired, which
//     PostgreSQL runs atomically against concurrent inserts of the same key.
//   - Calls: UpdateCall's UPDATE ... WHERE version = $n is re-evaluated on
//     the latest row after waiting for a concurrent writer, so exactly one
//     of two racing changes wins.
//   - Queues and push deliveries are claimed with FOR UPDATE SKIP LOCKED,
//     so concurrent receivers never get the same row, and outbox receipts
//     with a conditional UPDATE, so each is routed once.
//
// Transactions run at READ COMMITTED; a transaction that PostgreSQL aborts
// on a deadlock or serialization failure is retried from the start.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/migrations"
)

// Advisory lock keys. The two-int form keeps Dialtone's locks in a space of
// their own: lockSpace is the first key, the kind of lock the second (or,
// for flow control, a hash).
const (
	lockSpace      = 0x44544f4e // "DTON"
	lockMigrations = 1
	// Flow-control locks use a separate first key so that their hashes
	// cannot collide with the fixed keys above.
	lockSpaceFlow = 0x44544f46 // "DTOF"
)

// maxTxAttempts bounds the retries of a transaction PostgreSQL aborted to
// resolve a deadlock or serialization failure.
const maxTxAttempts = 5

// Store is the PostgreSQL dialtone.Store. It is safe for concurrent use, and
// any number of Stores (in any number of processes) may share a database.
type Store struct {
	pool *pgxpool.Pool
	// db runs the statements: the pool, or in the view Atomic hands to its
	// function, that transaction (see atomic.go).
	db     dbtx
	inView bool
	sealer dialtone.Sealer
	log    *slog.Logger

	closeOnce *sync.Once
}

var (
	_ dialtone.Store        = (*Store)(nil)
	_ dialtone.ReceiptStore = (*Store)(nil)
)

// Option configures Open.
type Option func(*options)

type options struct {
	logger   *slog.Logger
	maxConns int32
}

// WithLogger sends the store's log records (applied migrations) to l
// instead of slog.Default().
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.logger = l
		}
	}
}

// WithMaxConns bounds the connection pool, overriding the DSN's
// pool_max_conns. Each node holds its own pool, so the sum over nodes must
// stay below the server's max_connections.
func WithMaxConns(n int) Option {
	return func(o *options) {
		if n > 0 {
			o.maxConns = int32(min(n, 1<<20))
		}
	}
}

// Open connects to the database named by dsn (a postgres:// URL or a
// keyword/value string, as libpq accepts) and applies the pending
// migrations. sealer seals secrets at rest.
func Open(ctx context.Context, dsn string, sealer dialtone.Sealer, opts ...Option) (*Store, error) {
	o := options{logger: slog.Default()}
	for _, opt := range opts {
		opt(&o)
	}
	if sealer == nil {
		return nil, errors.New("postgres: open: nil sealer")
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// The parse error quotes the DSN, and the redaction of its password
		// is only best effort (a URL error inside it repeats the input), so
		// none of it goes to logs.
		return nil, errors.New("postgres: open: the DSN cannot be parsed (want postgres://user@host:port/db?... or key=value pairs)")
	}
	if o.maxConns > 0 {
		cfg.MaxConns = o.maxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	s := &Store{pool: pool, db: pool, sealer: sealer, log: o.logger, closeOnce: new(sync.Once)}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	return s, nil
}

// migrate applies the pending migrations one transaction at a time. Each
// transaction first takes the migration lock, then reads what is applied,
// so a node that waited for another sees the other's work and never
// applies a migration twice. Like the SQLite store it refuses a database
// that records a migration this binary does not know, or under another
// name: writing to a schema the code does not understand can corrupt data.
func (s *Store) migrate(ctx context.Context) error {
	all, err := migrations.All()
	if err != nil {
		return err
	}
	for {
		var applied *migrations.Migration
		err := s.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
			applied = nil
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, $2)`, lockSpace, lockMigrations); err != nil {
				return fmt.Errorf("migration lock: %w", err)
			}
			// Under the lock: concurrent CREATE TABLE IF NOT EXISTS can
			// otherwise fail on the catalog's unique index.
			if _, err := tx.Exec(ctx, migrations.TrackingTableSQL); err != nil {
				return fmt.Errorf("create schema_migrations: %w", err)
			}
			done, err := appliedMigrations(ctx, tx)
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
				// Without arguments pgx sends the file through the simple
				// protocol, which runs a multi-statement script.
				if _, err := tx.Exec(ctx, m.SQL); err != nil {
					return fmt.Errorf("migration %04d_%s: %w", m.Version, m.Name, err)
				}
				if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
					m.Version, m.Name, time.Now().UnixMilli()); err != nil {
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
		s.log.InfoContext(ctx, "postgres: applied migration", "version", applied.Version, "name", applied.Name)
	}
}

func appliedMigrations(ctx context.Context, tx pgx.Tx) (map[int]string, error) {
	rows, err := tx.Query(ctx, `SELECT version, name FROM schema_migrations`)
	if err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	defer rows.Close()
	done := map[int]string{}
	for rows.Next() {
		var v int
		var name string
		if err := rows.Scan(&v, &name); err != nil {
			return nil, fmt.Errorf("read schema_migrations: %w", err)
		}
		done[v] = name
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

// Ping reports whether the database answers a query on the schema.
func (s *Store) Ping(ctx context.Context) error {
	var n int
	// A query rather than pool.Ping, so a database without the schema
	// (dropped, or the wrong one) is not reported ready.
	if err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&n); err != nil {
		return fmt.Errorf("postgres: ping: %w", err)
	}
	return nil
}

// Close closes the pool, waiting for connections in use to be returned.
// Calls after the first do nothing. A transaction's view cannot be closed.
func (s *Store) Close() error {
	if s.inView {
		return errors.New("postgres: close: a transaction's view is not the store")
	}
	s.closeOnce.Do(s.pool.Close)
	return nil
}

// inTx runs fn in a READ COMMITTED transaction and commits it. When
// PostgreSQL aborts the transaction to break a deadlock or on a
// serialization failure, fn runs again in a new one, so fn must reset any
// result it collects (as the SQLite store's ops must).
func (s *Store) inTx(ctx context.Context, fn func(ctx context.Context, tx pgx.Tx) error) error {
	var err error
	for attempt := 1; ; attempt++ {
		err = pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error { return fn(ctx, tx) })
		if err == nil || attempt == maxTxAttempts || !retryable(err) || ctx.Err() != nil {
			return err
		}
		// A short, growing pause lets the transaction that won finish.
		select {
		case <-time.After(time.Duration(attempt) * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// retryable reports a failure that is the server's way of resolving a race
// (the transaction did nothing and may simply run again).
func retryable(err error) bool {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return false
	}
	switch pe.Code {
	case "40001", // serialization_failure
		"40P01": // deadlock_detected
		return true
	}
	return false
}

// isUniqueViolation reports a duplicate key the statement did not expect.
func isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// isForeignKeyViolation reports a missing parent row, e.g. an account that
// was not there when the row was written.
func isForeignKeyViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23503"
}

// querier is what pgx.Tx and *pgxpool.Pool have in common.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// dbtx is a querier that starts transactions: the pool, or a transaction
// (whose Begin starts a savepoint).
type dbtx interface {
	querier
	Begin(ctx context.Context) (pgx.Tx, error)
}

const sqlAccountExists = `SELECT EXISTS (SELECT 1 FROM accounts WHERE uid = $1)`

// accountExists turns a missing parent into ErrNotFound instead of an
// opaque foreign-key failure. Accounts are never deleted, so the answer
// still holds when the transaction writes.
func accountExists(ctx context.Context, q querier, uid string) (bool, error) {
	var ok bool
	err := q.QueryRow(ctx, sqlAccountExists, uid).Scan(&ok)
	return ok, err
}

// requireAccount is accountExists as an error.
func requireAccount(ctx context.Context, q querier, uid string) error {
	ok, err := accountExists(ctx, q, uid)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("account %s: %w", uid, dialtone.ErrNotFound)
	}
	return nil
}

// execCount runs one statement outside an explicit transaction and returns
// the number of rows it changed.
func (s *Store) execCount(ctx context.Context, q string, args ...any) (int, error) {
	tag, err := s.db.Exec(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	return int(tag.RowsAffected()), nil
}

// byteOrder follows every text column in ORDER BY and range comparisons:
// IDs and codes order bytewise, as in SQLite, whatever collation the
// database was created with (a locale collation would order "a" < "B"
// and differ between servers, making cursors and lists engine-dependent).
const byteOrder = ` COLLATE "C"`
