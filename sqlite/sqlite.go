// Package sqlite runs the shared SQL store (package sqlstore) on a single
// SQLite file with the pure-Go driver modernc.org/sqlite, so the binary
// builds with CGO_ENABLED=0. The queries live in sqlstore; this package
// holds what is SQLite's own: the connections, the writer and its group
// commit, the prepared statements, the dialect, and the journal that keeps
// the nonces of signed requests beside the file (package replay) instead
// of a transaction per request.
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
// writes together (group commit, see batch.go), a failed write rolled back
// alone, so the per-transaction cost is shared without writes affecting
// each other's outcome. Because one writer runs one transaction at a time, the
// dialect needs no row locks, flow-control lock or migration lock: the
// writer makes every claim and count exclusive.
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

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/replay"
	"github.com/dialtone-voice/dialtone/sqlstore"
)

// busyTimeout bounds how long a connection waits for a lock held by another
// process (or by a checkpoint) before failing with SQLITE_BUSY.
const busyTimeout = 5 * time.Second

// Dialect is SQLite's part of the shared SQL: text orders bytewise by
// default (BINARY collation) and one writer at a time needs no locks.
var Dialect = sqlstore.Dialect{
	Name: "sqlite",
	IsUnique: func(err error) bool {
		return hasCode(err, sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY)
	},
	IsForeignKey: func(err error) bool { return hasCode(err, sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY) },
}

func hasCode(err error, codes ...int) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	for _, c := range codes {
		if se.Code() == c {
			return true
		}
	}
	return false
}

// Store is the SQLite dialtone.Store. It is safe for concurrent use.
type Store struct {
	*sqlstore.Store
	*engine
}

var _ dialtone.Store = (*Store)(nil)

// engine is the database under the shared store: the write connection
// and its writer, the prepared read pool.
type engine struct {
	write *sql.DB   // exactly one connection; every write goes here
	pool  *readPool // the read-only pool, its queries prepared once
	ckpt  *checkpointer
	log   *slog.Logger
	// nonces keeps the used nonces in a journal beside the file
	// (package replay), not in the nonces table.
	nonces *replay.Journal

	// The group-commit writer (batch.go): ops go in, quit stops it and
	// writerDone closes when it has.
	stmts      map[string]*sql.Stmt // hot write statements, see prepareHot
	maxBatch   int
	isolate    int // batches left to run with savepoints from the start (the writer's own)
	ops        chan *writeOp
	quit       chan struct{}
	writerDone chan struct{}

	closeOnce sync.Once
	closeErr  error

	counts counter // what ran (counts.go)
}

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
	// BEGIN IMMEDIATE (the DSN's _txlock) makes each migration's re-check
	// and apply one atomic step against other processes.
	if err := sqlstore.Migrate(ctx, Dialect, func(ctx context.Context, fn func(context.Context, sqlstore.Querier) error) error {
		return runTx(ctx, write, fn)
	}, o.logger); err != nil {
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
	e := &engine{
		write: write, pool: newReadPool(read), log: o.logger,
		maxBatch: o.maxBatch, ops: make(chan *writeOp), quit: make(chan struct{}), writerDone: make(chan struct{}),
	}
	fail := func(err error) (*Store, error) {
		e.closeStmts()
		if e.nonces != nil {
			e.nonces.Close()
		}
		if e.ckpt != nil {
			e.ckpt.close()
		}
		read.Close()
		write.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	// A journal created now starts with the table's unexpired nonces, so
	// that moving to it opens no window for a replay.
	if e.nonces, err = replay.Open(ctx, path+"-nonces", func(ctx context.Context, add func(scope, nonce string, expires time.Time)) error {
		return sqlstore.TableNonces(ctx, readQuerier{e.pool, &e.counts}, time.Now(), add)
	}); err != nil {
		return fail(err)
	}
	if err := e.prepareHot(ctx); err != nil {
		return fail(err)
	}
	if e.ckpt, err = newCheckpointer(ctx, path, o.logger); err != nil {
		return fail(err)
	}
	st, err := sqlstore.New(db{e}, Dialect, sealer, o.logger, sqlstore.WithNonceJournal(e.nonces))
	if err != nil {
		return fail(err)
	}
	go e.writer()
	return &Store{Store: st, engine: e}, nil
}

// Ping checks that both pools can reach the database file.
func (s *Store) Ping(ctx context.Context) error { return s.Store.Ping(ctx) }

// Close checkpoints the WAL into the main file and closes both pools. Calls
// after the first return the first result.
func (s *Store) Close() error { return s.Store.Close() }

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
		// Group commit may wrap each op in a SAVEPOINT (batch.go), and then
		// every page an op changes is first copied to the statement
		// journal. With temporary files on disk that journal spills to a
		// file after 64 KiB and stays one for the rest of the batch (SQLite
		// truncates only an in-memory one when the savepoint is released),
		// so each op of a large batch paid write(2) calls. In memory it is
		// truncated at every RELEASE and holds one op's pages. The write
		// connection runs no large sorts or temporary tables.
		q.Add("_pragma", "temp_store(MEMORY)")
		// The checkpointer (checkpoint.go) copies the log back; the
		// write connection only does when the log outgrows it.
		q.Add("_pragma", fmt.Sprintf("wal_autocheckpoint(%d)", walFallbackPages))
		q.Set("_txlock", "immediate")
	}
	return "file:" + escapePath(path) + "?" + q.Encode()
}

func escapePath(path string) string {
	r := strings.NewReplacer("%", "%25", "?", "%3F", "#", "%23")
	return r.Replace(path)
}

// runTx runs fn in a transaction of its own on db (used before the writer
// starts: migrations).
func runTx(ctx context.Context, db *sql.DB, fn func(context.Context, sqlstore.Querier) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	// After Commit this is a no-op; on the error paths the error returned
	// below is the one that matters, not the rollback's.
	defer func() { _ = tx.Rollback() }()
	if err := fn(ctx, txQuerier{tx: tx}); err != nil {
		return err
	}
	return tx.Commit()
}

// close stops the writer, checkpoints the WAL and closes both pools.
func (e *engine) close() error {
	e.closeOnce.Do(func() {
		// Stop taking writes; the writer finishes the batch in hand first,
		// so no caller is left without an answer.
		close(e.quit)
		<-e.writerDone
		errCk := e.ckpt.close()
		// Readers go first so that the checkpoint is not held back by them.
		errRead := e.pool.Close()
		var errCkpt error
		// TRUNCATE leaves an empty -wal file, so the main file alone holds
		// the data (for backups and copies taken after Close).
		if _, err := e.write.ExecContext(context.Background(), `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
			errCkpt = fmt.Errorf("checkpoint: %w", err)
		}
		e.closeStmts()
		errWrite := e.write.Close()
		if err := errors.Join(errCk, errRead, errCkpt, errWrite, e.nonces.Close()); err != nil {
			e.closeErr = fmt.Errorf("sqlite: close: %w", err)
		}
	})
	return e.closeErr
}

func (e *engine) closeStmts() {
	for _, st := range e.stmts {
		// Closing the pool releases them anyway; this only keeps
		// database/sql's bookkeeping tidy.
		_ = st.Close()
	}
}

// db is the engine as the shared store sees it (sqlstore.DB).
type db struct{ e *engine }

func (d db) Reader() sqlstore.Querier { return readQuerier{d.e.pool, &d.e.counts} }

// Write runs fn as one op of the writer, like Tx: with one writer, a write
// costs the same in a transaction, and takes part in group commit.
func (d db) Write(ctx context.Context, fn func(context.Context, sqlstore.Querier) error) error {
	return d.Tx(ctx, fn)
}

func (d db) Tx(ctx context.Context, fn func(context.Context, sqlstore.Querier) error) error {
	return d.e.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		return fn(ctx, txQuerier{tx: tx, stmts: d.e.stmts, c: &d.e.counts})
	})
}

// Ping checks the write connection; the shared store reads through the
// read pool first.
func (d db) Ping(ctx context.Context) error { return d.e.write.PingContext(ctx) }

func (d db) Close() error { return d.e.close() }

// txQuerier runs statements in a write transaction, through their
// prepared statements when they have one.
type txQuerier struct {
	tx    *sql.Tx
	stmts map[string]*sql.Stmt
	c     *counter // nil: not counted (migrations)
}

func (q txQuerier) count(query string) {
	if q.c != nil {
		q.c.stmt(query)
	}
}

func (q txQuerier) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	q.count(query)
	var res sql.Result
	var err error
	if st, ok := q.stmts[query]; ok {
		res, err = q.tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	} else {
		res, err = q.tx.ExecContext(ctx, query, args...)
	}
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (q txQuerier) Query(ctx context.Context, query string, args ...any) (sqlstore.Rows, error) {
	q.count(query)
	var r *sql.Rows
	var err error
	if st, ok := q.stmts[query]; ok {
		r, err = q.tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	} else {
		r, err = q.tx.QueryContext(ctx, query, args...)
	}
	if err != nil {
		return nil, err
	}
	return rows{r}, nil
}

func (q txQuerier) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Row {
	q.count(query)
	if st, ok := q.stmts[query]; ok {
		return q.tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return q.tx.QueryRowContext(ctx, query, args...)
}

// ExecBatch runs the statements one by one: on one local connection a
// batch saves nothing.
func (q txQuerier) ExecBatch(ctx context.Context, batch []sqlstore.Stmt, each func(int, int64, error) error) error {
	return execEach(ctx, q, batch, each)
}

func execEach(ctx context.Context, q sqlstore.Querier, batch []sqlstore.Stmt, each func(int, int64, error) error) error {
	for i, st := range batch {
		n, err := q.Exec(ctx, st.SQL, st.Args...)
		if err := each(i, n, err); err != nil {
			return err
		}
	}
	return nil
}

// readQuerier runs the reads on the read-only pool, prepared.
type readQuerier struct {
	p *readPool
	c *counter
}

func (q readQuerier) count(query string) {
	q.c.reads.Add(1)
	q.c.stmt(query)
}

func (q readQuerier) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	q.count(query)
	res, err := q.p.DB.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (q readQuerier) Query(ctx context.Context, query string, args ...any) (sqlstore.Rows, error) {
	q.count(query)
	r, err := q.p.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return rows{r}, nil
}

func (q readQuerier) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Row {
	q.count(query)
	return q.p.QueryRowContext(ctx, query, args...)
}

func (q readQuerier) ExecBatch(ctx context.Context, batch []sqlstore.Stmt, each func(int, int64, error) error) error {
	return execEach(ctx, q, batch, each)
}

// rows is *sql.Rows with the Close of sqlstore.Rows.
type rows struct{ *sql.Rows }

func (r rows) Close() { _ = r.Rows.Close() }
