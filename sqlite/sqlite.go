// Package sqlite implements dialtone.Store on a single SQLite file with the
// pure-Go driver modernc.org/sqlite, so the binary builds with CGO_ENABLED=0.
//
// The database runs in WAL mode. All writes go through one dedicated
// connection (a sql.DB limited to one connection, starting transactions with
// BEGIN IMMEDIATE): writers of this process queue in Go instead of racing for
// SQLite's write lock, so they never see SQLITE_BUSY, and a read-modify-write
// transaction cannot fail half-way because another writer upgraded first.
// Reads use a separate pool of read-only connections, which WAL lets proceed
// concurrently with the writer. busy_timeout only matters when another
// process opens the same file.
//
// The write connection is driven by one goroutine that commits concurrent
// writes together (group commit, see batch.go), each in its own savepoint,
// so the per-transaction cost is shared without writes affecting each
// other's outcome.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/migrations"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// busyTimeout bounds how long a connection waits for a lock held by another
// process (or by a checkpoint) before failing with SQLITE_BUSY.
const busyTimeout = 5 * time.Second

// Store is the SQLite dialtone.Store. It is safe for concurrent use.
type Store struct {
	write *sql.DB // exactly one connection; every write goes here
	// read runs the read queries: the read-only pool (pool, with its
	// queries prepared once), or in the view Atomic hands to its function,
	// the transaction (tx; see atomic.go).
	read   querier
	pool   *readPool
	tx     *sql.Tx
	sealer dialtone.Sealer
	log    *slog.Logger

	// The group-commit writer (batch.go): ops go in, quit stops it and
	// writerDone closes when it has.
	stmts      map[string]*sql.Stmt // hot write statements, see prepareHot
	maxBatch   int
	ops        chan *writeOp
	quit       chan struct{}
	writerDone chan struct{}

	closeOnce sync.Once
	closeErr  error
}

var _ dialtone.Store = (*Store)(nil)

// Option configures Open.
type Option func(*options)

type options struct {
	logger   *slog.Logger
	maxBatch int
}

// withMaxBatch bounds the ops per group commit; 1 turns group commit off,
// which the benchmarks use to measure what it brings.
func withMaxBatch(n int) Option {
	return func(o *options) { o.maxBatch = max(1, n) }
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

// Open opens (creating if needed) the database file at path and applies the
// pending migrations. path is a file system path; in-memory databases are
// refused because the read and write pools would each get their own.
// sealer seals access-key and temporary-credential secrets at rest.
func Open(ctx context.Context, path string, sealer dialtone.Sealer, opts ...Option) (*Store, error) {
	o := options{logger: slog.Default(), maxBatch: defaultMaxBatch}
	for _, opt := range opts {
		opt(&o)
	}
	if path == "" || strings.HasPrefix(path, ":memory:") {
		return nil, fmt.Errorf("sqlite: open %q: a database file path is required", path)
	}
	if sealer == nil {
		return nil, errors.New("sqlite: open: nil sealer")
	}
	write, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	// Keep the one write connection for the life of the store; reopening it
	// would redo the pragmas for nothing.
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)

	// Migrate before the read pool exists: the first write connection also
	// switches the file to WAL, which is persistent, so readers find it set.
	if err := migrate(ctx, write, o.logger); err != nil {
		write.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}

	read, err := sql.Open("sqlite", dsn(path, true))
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)
	if err := read.PingContext(ctx); err != nil {
		read.Close()
		write.Close()
		return nil, fmt.Errorf("sqlite: open %s: read pool: %w", path, err)
	}
	pool := newReadPool(read)
	s := &Store{
		write: write, read: pool, pool: pool, sealer: sealer, log: o.logger,
		maxBatch: o.maxBatch, ops: make(chan *writeOp), quit: make(chan struct{}), writerDone: make(chan struct{}),
	}
	if err := s.prepareHot(ctx); err != nil {
		read.Close()
		write.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	go s.writer()
	return s, nil
}

// dsn builds the modernc.org/sqlite data source name. The "file:" form is
// used so that the path goes to SQLite as a URI, where '?', '#' and '%' in a
// file name can be escaped instead of being taken for the query string.
func dsn(path string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	// NORMAL is durable across application crashes in WAL mode; only a power
	// loss can drop the last transactions, which is the usual trade-off.
	q.Add("_pragma", "synchronous(NORMAL)")
	if readOnly {
		// A read connection must never write, not even by mistake.
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Add("_pragma", "journal_mode(WAL)")
		q.Set("_txlock", "immediate")
	}
	return "file:" + escapePath(path) + "?" + q.Encode()
}

func escapePath(path string) string {
	r := strings.NewReplacer("%", "%25", "?", "%3F", "#", "%23")
	return r.Replace(path)
}

// migrate applies the migrations the database has not seen, in order, each
// in its own transaction together with its schema_migrations row. It refuses a
// database that records a migration this binary does not know (a newer
// binary migrated it) or under another name (the files were renumbered),
// because writing to a schema the code does not understand can corrupt data.
func migrate(ctx context.Context, db *sql.DB, log *slog.Logger) error {
	all, err := migrations.All()
	if err != nil {
		return err
	}
	if _, err := db.ExecContext(ctx, migrations.TrackingTableSQL); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	applied, err := appliedMigrations(ctx, db)
	if err != nil {
		return err
	}
	known := make(map[int]string, len(all))
	for _, m := range all {
		known[m.Version] = m.Name
	}
	for v, name := range applied {
		want, ok := known[v]
		if !ok {
			return fmt.Errorf("database has migration %d (%s) that this binary does not know; it was migrated by a newer version", v, name)
		}
		if want != name {
			return fmt.Errorf("database has migration %d named %q, this binary calls it %q", v, name, want)
		}
	}
	for _, m := range all {
		if _, ok := applied[m.Version]; ok {
			continue
		}
		did, err := applyMigration(ctx, db, m)
		if err != nil {
			return fmt.Errorf("migration %04d_%s: %w", m.Version, m.Name, err)
		}
		if did {
			log.InfoContext(ctx, "sqlite: applied migration", "version", m.Version, "name", m.Name)
		}
	}
	return nil
}

func appliedMigrations(ctx context.Context, db *sql.DB) (map[int]string, error) {
	rows, err := db.QueryContext(ctx, `SELECT version, name FROM schema_migrations`)
	if err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	defer rows.Close()
	applied := map[int]string{}
	for rows.Next() {
		var v int
		var name string
		if err := rows.Scan(&v, &name); err != nil {
			return nil, fmt.Errorf("read schema_migrations: %w", err)
		}
		applied[v] = name
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	return applied, nil
}

// applyMigration reports false when another process applied m between our
// read of schema_migrations and our write lock; BEGIN IMMEDIATE makes the
// re-check and the apply one atomic step.
func applyMigration(ctx context.Context, db *sql.DB, m migrations.Migration) (bool, error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	// After Commit this is a no-op; on the error paths the error returned
	// below is the one that matters, not the rollback's.
	defer func() { _ = tx.Rollback() }()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = ?`, m.Version).Scan(&n); err != nil {
		return false, err
	}
	if n > 0 {
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return false, err
	}
	if _, err := tx.ExecContext(ctx,
		`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
		m.Version, m.Name, time.Now().UnixMilli()); err != nil {
		return false, err
	}
	return true, tx.Commit()
}

// Ping checks that both pools can reach the database file.
func (s *Store) Ping(ctx context.Context) error {
	var n int
	// A query rather than PingContext, so the file is actually read.
	if err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&n); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	if err := s.write.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	return nil
}

// Close checkpoints the WAL into the main file and closes both pools. Calls
// after the first return the first result.
func (s *Store) Close() error {
	if s.tx != nil {
		return errors.New("sqlite: close: a transaction's view is not the store")
	}
	s.closeOnce.Do(func() {
		// Stop taking writes; the writer finishes the batch in hand first,
		// so no caller is left without an answer.
		close(s.quit)
		<-s.writerDone
		// Readers go first so that the checkpoint is not held back by them.
		errRead := s.pool.Close()
		var errCkpt error
		// TRUNCATE leaves an empty -wal file, so the main file alone holds
		// the data (for backups and copies taken after Close).
		if _, err := s.write.ExecContext(context.Background(), `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
			errCkpt = fmt.Errorf("checkpoint: %w", err)
		}
		for _, st := range s.stmts {
			// Closing the pool below releases them anyway; this only
			// keeps database/sql's bookkeeping tidy.
			_ = st.Close()
		}
		errWrite := s.write.Close()
		if err := errors.Join(errRead, errCkpt, errWrite); err != nil {
			s.closeErr = fmt.Errorf("sqlite: close: %w", err)
		}
	})
	return s.closeErr
}

const sqlAccountExists = `SELECT COUNT(*) FROM accounts WHERE uid = ?`

// accountExists is used inside write transactions to turn a missing parent
// into ErrNotFound instead of an opaque foreign-key failure.
func (s *Store) accountExists(ctx context.Context, tx *sql.Tx, uid string) (bool, error) {
	var n int
	err := s.txQueryRow(ctx, tx, sqlAccountExists, uid).Scan(&n)
	return n > 0, err
}
