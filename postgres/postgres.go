// Package postgres runs the shared SQL store (package sqlstore) on
// PostgreSQL with pgx (github.com/jackc/pgx/v5), for deployments where
// several Dialtone nodes share one database. The queries live in sqlstore;
// this package holds what is PostgreSQL's own: the pgx pool, retried
// transactions, the dialect (advisory locks, row locks, collation, error
// codes) and NOTIFY.
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
//   - Queued calls, queue messages and push deliveries are claimed with
//     FOR UPDATE SKIP LOCKED, so concurrent claimers never get the same
//     row, and outbox receipts with a conditional UPDATE, so each is
//     routed once.
//
// Transactions run at READ COMMITTED; a transaction that PostgreSQL aborts
// on a deadlock or serialization failure is retried from the start.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/sqlstore"
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
	// Slot locks (a display number's or a trunk's cap) likewise.
	lockSpaceSlots = 0x44544f4c // "DTOL"
)

// Dialect is PostgreSQL's part of the shared SQL.
var Dialect = sqlstore.Dialect{
	Name: "postgres",
	// IDs and codes order bytewise, as in SQLite, whatever collation the
	// database was created with (a locale collation would order "a" < "B"
	// and differ between servers, making cursors and lists
	// engine-dependent).
	Collate:    ` COLLATE "C"`,
	SkipLocked: ` FOR UPDATE SKIP LOCKED`,
	// The lock that makes flow control exact across nodes: every CreateCall
	// with a guard for (account, callee) takes it before counting and keeps
	// it until its transaction ends, so the count of the next one includes
	// this insert. A hash collision only makes two callees wait for each
	// other; it never lets a count be wrong. The separator keeps ("1",
	// "23") and ("12", "3") apart.
	FlowLock: `SELECT pg_advisory_xact_lock(` + strconv.Itoa(lockSpaceFlow) + `, hashtext($1 || '/' || $2))`,
	// The lock that makes caps exact across nodes: taking slots under a key
	// locks the key first, so the next taker's count includes them. A hash
	// collision only makes two keys wait for each other.
	SlotLock:      `SELECT pg_advisory_xact_lock(` + strconv.Itoa(lockSpaceSlots) + `, hashtext($1))`,
	MigrationLock: `SELECT pg_advisory_xact_lock(` + strconv.Itoa(lockSpace) + `, ` + strconv.Itoa(lockMigrations) + `)`,
	IsUnique:      func(err error) bool { return hasCode(err, "23505") },
	IsForeignKey:  func(err error) bool { return hasCode(err, "23503") },
	// Each node caches access keys and accounts (sqlstore/authcache.go);
	// a change tells the others, delivered when its transaction commits.
	AuthNotify: `SELECT pg_notify($1, $2)`,
	// A call change is one statement (sqlstore/callwrites.go).
	WritableCTE: true,
}

func hasCode(err error, codes ...string) bool {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return false
	}
	for _, c := range codes {
		if pe.Code == c {
			return true
		}
	}
	return false
}

// retryable reports a failure that is the server's way of resolving a race
// (the transaction did nothing and may simply run again).
func retryable(err error) bool {
	return hasCode(err,
		"40001", // serialization_failure
		"40P01", // deadlock_detected
	)
}

// maxTxAttempts bounds the retries of a transaction PostgreSQL aborted to
// resolve a deadlock or serialization failure.
const maxTxAttempts = 5

// Store is the PostgreSQL dialtone.Store. It is safe for concurrent use, and
// any number of Stores (in any number of processes) may share a database.
type Store struct {
	*sqlstore.Store
	*engine
	tracer *counter
}

var _ dialtone.Store = (*Store)(nil)

// engine is the database under the shared store: the pgx pool.
type engine struct {
	pool      *pgxpool.Pool
	closeOnce sync.Once
}

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
	tracer := &counter{}
	cfg.ConnConfig.Tracer = tracer
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	e := &engine{pool: pool}
	if err := sqlstore.Migrate(ctx, Dialect, e.inTx, o.logger); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	st, err := sqlstore.New(db{e}, Dialect, sealer, o.logger)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	return &Store{Store: st, engine: e, tracer: tracer}, nil
}

// Ping reports whether the database answers a query on the schema.
func (s *Store) Ping(ctx context.Context) error { return s.Store.Ping(ctx) }

// Close closes the pool, waiting for connections in use to be returned.
// Calls after the first do nothing.
func (s *Store) Close() error { return s.Store.Close() }

// Notify sends payload on a LISTEN/NOTIFY channel to every session of the
// database listening on it, including this node's own listener. The
// notification is delivered when (and only if) this statement's implicit
// transaction commits.
func (s *Store) Notify(ctx context.Context, channel, payload string) error {
	if _, err := s.pool.Exec(ctx, sqlNotify, channel, payload); err != nil {
		return fmt.Errorf("postgres: notify %s: %w", channel, err)
	}
	return nil
}

const sqlNotify = `SELECT pg_notify($1, $2)`

// DSN is the connection string the store was opened with, for components
// that need a dedicated connection of their own (a LISTEN session cannot
// share a pooled one).
func (s *Store) DSN() string { return s.pool.Config().ConnString() }

// inTx runs fn in a READ COMMITTED transaction and commits it. When
// PostgreSQL aborts the transaction to break a deadlock or on a
// serialization failure, fn runs again in a new one, so fn must reset any
// result it collects (as the SQLite store's ops must).
func (e *engine) inTx(ctx context.Context, fn func(context.Context, sqlstore.Querier) error) error {
	var err error
	for attempt := 1; ; attempt++ {
		err = pgx.BeginFunc(ctx, e.pool, func(tx pgx.Tx) error { return fn(ctx, querier{tx}) })
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

// db is the engine as the shared store sees it (sqlstore.DB).
type db struct{ e *engine }

func (d db) Reader() sqlstore.Querier { return querier{d.e.pool} }

// Write runs fn's statements straight on the pool: each commits on its
// own, and none needs the others' isolation (see sqlstore).
func (d db) Write(ctx context.Context, fn func(context.Context, sqlstore.Querier) error) error {
	return fn(ctx, querier{d.e.pool})
}

func (d db) Tx(ctx context.Context, fn func(context.Context, sqlstore.Querier) error) error {
	return d.e.inTx(ctx, fn)
}

// Ping is done by the shared store's query on the schema.
func (d db) Ping(context.Context) error { return nil }

func (d db) Close() error {
	d.e.closeOnce.Do(d.e.pool.Close)
	return nil
}

// conn is what pgx.Tx and *pgxpool.Pool have in common.
type conn interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// querier runs statements on the pool or in a transaction. pgx prepares
// each statement once per connection and caches it, so every query is
// planned once, not per call.
type querier struct{ c conn }

func (q querier) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	tag, err := q.c.Exec(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}

func (q querier) Query(ctx context.Context, query string, args ...any) (sqlstore.Rows, error) {
	return q.c.Query(ctx, query, args...)
}

func (q querier) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Row {
	return q.c.QueryRow(ctx, query, args...)
}

// ExecBatch sends the statements in one round trip and reads their
// results in order.
func (q querier) ExecBatch(ctx context.Context, batch []sqlstore.Stmt, each func(int, int64, error) error) (err error) {
	b := &pgx.Batch{}
	for _, st := range batch {
		b.Queue(st.SQL, st.Args...)
	}
	br := q.c.SendBatch(ctx, b)
	defer func() {
		if cerr := br.Close(); err == nil && cerr != nil {
			err = cerr
		}
	}()
	for i := range batch {
		tag, err := br.Exec()
		if err := each(i, tag.RowsAffected(), err); err != nil {
			return err
		}
	}
	return nil
}
