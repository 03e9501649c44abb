// Package sqlstore implements dialtone.Store once for every SQL engine: the
// queries, the row scanning and the column encodings are written here, and
// a database package (sqlite, postgres) supplies only what really differs
// between engines:
//
//   - a DB: how statements run (connections, pools, prepared statements)
//     and how writes and transactions are scheduled (SQLite's single writer
//     with group commit, PostgreSQL's pool with retried transactions);
//   - a Dialect: the few pieces of SQL that differ (byte-order collation,
//     row locks for claims, the flow-control lock, the migration lock) and
//     the classification of the engine's errors.
//
// Queries use $1, $2, ... placeholders, which both engines accept (SQLite
// reads $N as parameter N), so one text serves both and a parameter may be
// named more than once. The shared schema (package migrations) stores times
// as BIGINT unix milliseconds, booleans as INTEGER 0/1 and JSON as TEXT, so
// the values bound and scanned are int64 and strings on both engines.
//
// Writes come in two strengths. DB.Tx runs statements that must be isolated
// together (a call change, a claim, a route of receipts). DB.Write runs
// statements that need no transaction between them (an upsert after an
// account check; accounts are never deleted): PostgreSQL runs them straight
// on the pool, SQLite hands them to its writer like any write. Inside a
// transaction's view (Atomic), both run in a savepoint of that transaction,
// so a write that fails is undone alone, as it would be outside.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/dialtone-voice/dialtone"
)

// Row is one result row: *sql.Row and pgx.Row.
type Row interface {
	Scan(dest ...any) error
}

// Rows is a result set, read like *sql.Rows.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

// Stmt is one statement of a batch.
type Stmt struct {
	SQL  string
	Args []any
}

// Querier runs statements: on a pool, a connection or in a transaction.
// A query that finds no row makes Row.Scan return an error matching
// sql.ErrNoRows (pgx's ErrNoRows does).
type Querier interface {
	// Exec runs a statement and returns the number of rows it changed.
	Exec(ctx context.Context, query string, args ...any) (int64, error)
	Query(ctx context.Context, query string, args ...any) (Rows, error)
	QueryRow(ctx context.Context, query string, args ...any) Row
	// ExecBatch runs the statements in order, calling each with the
	// number of rows statement i changed, or its error, and stops at the
	// first error each returns. PostgreSQL sends the batch in one round
	// trip; SQLite runs the statements one by one.
	ExecBatch(ctx context.Context, batch []Stmt, each func(i int, n int64, err error) error) error
}

// DB is what a database package gives the shared store.
type DB interface {
	// Reader runs the reads that need no transaction.
	Reader() Querier
	// Write runs fn's statements as writes that need no isolation from
	// each other (see the package comment). fn may run more than once and
	// must act only through q.
	Write(ctx context.Context, fn func(ctx context.Context, q Querier) error) error
	// Tx runs fn in one transaction, committed when fn returns nil and
	// rolled back otherwise. fn may run more than once (a retried
	// transaction, a group commit run again), so it must reset what it
	// collects.
	Tx(ctx context.Context, fn func(ctx context.Context, q Querier) error) error
	// Ping checks that the database answers.
	Ping(ctx context.Context) error
	// Close releases the database.
	Close() error
}

// Dialect is what differs in the SQL of two engines.
type Dialect struct {
	// Name prefixes the store's errors and log records ("sqlite").
	Name string
	// Collate follows a text column in ORDER BY and range comparisons so
	// that text orders bytewise on every engine and every server locale
	// (` COLLATE "C"` on PostgreSQL; SQLite's default is bytewise).
	Collate string
	// SkipLocked follows a SELECT whose rows a transaction is about to
	// claim (` FOR UPDATE SKIP LOCKED`), so that concurrent claimers pass
	// over each other's rows; "" where one writer at a time makes claims
	// exclusive anyway (SQLite).
	SkipLocked string
	// FlowLock, when set, runs in CreateCall's transaction before the
	// flow-control count with $1 the account UID and $2 the callee, and
	// holds a lock until the transaction ends, so that two transactions
	// cannot both count below a limit (PostgreSQL's advisory lock). ""
	// where transactions never overlap (SQLite).
	FlowLock string
	// SlotLock, when set, runs before the count of a key's slots with $1
	// the key, and holds a lock until the transaction ends, so that two
	// nodes cannot both count below a cap (PostgreSQL's advisory lock);
	// "" where one writer at a time makes the count exclusive (SQLite).
	SlotLock string
	// MigrationLock, when set, runs first in every migration transaction
	// and holds a lock until it ends, so that nodes starting together
	// apply each migration once.
	MigrationLock string
	// IsUnique and IsForeignKey classify a statement's error: a duplicate
	// key, and a missing parent row.
	IsUnique, IsForeignKey func(error) bool
	// WritableCTE says that a statement may modify data in WITH clauses
	// (PostgreSQL): a call change is then one statement (callwrites.go).
	WritableCTE bool
	// AuthNotify, when set, runs with the write of an access key or an
	// account, $1 the channel (AuthChannel) and $2 the payload, and tells
	// the other nodes sharing the database to forget their cached copy
	// (PostgreSQL's pg_notify, delivered at COMMIT). "" where no other
	// node shares the store (SQLite).
	AuthNotify string
}

// Store is the SQL dialtone.Store. It is safe for concurrent use; a view
// that Atomic hands to its function is not (see dialtone.Store.Atomic).
type Store struct {
	db     DB
	d      *Dialect
	q      *queries
	sealer dialtone.Sealer
	log    *slog.Logger
	inView bool
	// auth caches access keys and accounts (authcache.go); shared by the
	// store and its views. authDirty, in a view, is set when the
	// transaction wrote one of them.
	auth      *authCache
	authDirty *bool
	// nonces forms the batches of UseNonce (nonces.go).
	nonces *nonceBatcher
	// journal, when set, keeps the nonces in place of the nonces table.
	journal NonceJournal
}

// NonceJournal keeps the nonces of signed requests outside the database,
// with UseNonce's guarantees (nonces.go): SQLite's journal file (package
// replay), where a row per nonce cost a transaction per request.
type NonceJournal interface {
	Use(ctx context.Context, scope, nonce string, now, expires time.Time) (bool, error)
	Purge(ctx context.Context, now time.Time) (int, error)
}

// Option changes how New builds a Store.
type Option func(*Store)

// WithNonceJournal keeps the nonces in j instead of the nonces table.
func WithNonceJournal(j NonceJournal) Option {
	return func(s *Store) { s.journal = j }
}

var _ dialtone.Store = (*Store)(nil)

// New returns the store over db. sealer seals secrets at rest.
func New(db DB, d Dialect, sealer dialtone.Sealer, log *slog.Logger, opts ...Option) (*Store, error) {
	if db == nil || sealer == nil {
		return nil, errors.New("sqlstore: nil database or sealer")
	}
	if d.Name == "" || d.IsUnique == nil || d.IsForeignKey == nil {
		return nil, errors.New("sqlstore: incomplete dialect")
	}
	if log == nil {
		log = slog.Default()
	}
	s := &Store{db: db, d: &d, q: buildQueries(&d), sealer: sealer, log: log, auth: newAuthCache(AuthCacheTTL), nonces: &nonceBatcher{}}
	for _, opt := range opts {
		opt(s)
	}
	return s, nil
}

// errorf prefixes an error with the engine's name.
func (s *Store) errorf(format string, args ...any) error {
	return fmt.Errorf(s.d.Name+": "+format, args...)
}

// Ping reports whether the store can serve requests: the schema is read,
// so a database without it (dropped, or the wrong one) is not ready.
func (s *Store) Ping(ctx context.Context) error {
	var n int64
	if err := s.db.Reader().QueryRow(ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&n); err != nil {
		return s.errorf("ping: %w", err)
	}
	if err := s.db.Ping(ctx); err != nil {
		return s.errorf("ping: %w", err)
	}
	return nil
}

// Close closes the database; a transaction's view cannot be closed.
func (s *Store) Close() error {
	if s.inView {
		return s.errorf("close: a transaction's view is not the store")
	}
	return s.db.Close()
}

// Atomic runs fn in one transaction (dialtone.Store.Atomic), with a view of
// the store whose every statement runs in it. The view's writes run in
// savepoints, so one that fails is undone alone; Atomic on the view nests
// the same way.
func (s *Store) Atomic(ctx context.Context, fn func(ctx context.Context, tx dialtone.Store) error) error {
	if s.inView {
		return s.db.Tx(ctx, func(ctx context.Context, q Querier) error {
			return fn(ctx, s.view(q, s.authDirty))
		})
	}
	dirty := false
	err := s.db.Tx(ctx, func(ctx context.Context, q Querier) error {
		return fn(ctx, s.view(q, &dirty))
	})
	if dirty {
		// After the COMMIT (or the rollback): a read that ran while the
		// transaction was open may have cached the row it replaced.
		s.auth.changed("")
	}
	return err
}

func (s *Store) view(q Querier, authDirty *bool) *Store {
	return &Store{db: &txDB{q: q}, d: s.d, q: s.q, sealer: s.sealer, log: s.log, inView: true, auth: s.auth, authDirty: authDirty, journal: s.journal}
}

// txDB is the DB of a transaction's view.
type txDB struct{ q Querier }

func (t *txDB) Reader() Querier { return t.q }

func (t *txDB) Write(ctx context.Context, fn func(ctx context.Context, q Querier) error) error {
	return t.Tx(ctx, fn)
}

// Savepoints of a view's writes. Both engines resolve a name to the
// innermost savepoint that has it, so nested views reuse the one name.
const (
	sqlSavepoint  = `SAVEPOINT nested`
	sqlRollbackTo = `ROLLBACK TO SAVEPOINT nested`
	sqlRelease    = `RELEASE SAVEPOINT nested`
)

// Tx runs fn in a savepoint of the view's transaction, undoing what fn
// wrote when it fails.
func (t *txDB) Tx(ctx context.Context, fn func(ctx context.Context, q Querier) error) error {
	if _, err := t.q.Exec(ctx, sqlSavepoint); err != nil {
		return fmt.Errorf("savepoint: %w", err)
	}
	if err := fn(ctx, t.q); err != nil {
		if _, rerr := t.q.Exec(ctx, sqlRollbackTo); rerr != nil {
			return fmt.Errorf("rollback to savepoint after %w: %w", err, rerr)
		}
		if _, rerr := t.q.Exec(ctx, sqlRelease); rerr != nil {
			return fmt.Errorf("release savepoint after %w: %w", err, rerr)
		}
		return err
	}
	if _, err := t.q.Exec(ctx, sqlRelease); err != nil {
		return fmt.Errorf("release savepoint: %w", err)
	}
	return nil
}

func (t *txDB) Ping(ctx context.Context) error {
	_, err := t.q.Exec(ctx, `SELECT 1`)
	return err
}

func (t *txDB) Close() error { return errors.New("a transaction's view cannot be closed") }

// isNoRows reports a query that found no row.
func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

// exists runs a SELECT EXISTS (...) query. SQLite answers 0 or 1, which
// database/sql scans into a bool; PostgreSQL answers a boolean.
func exists(ctx context.Context, q Querier, query string, args ...any) (bool, error) {
	var ok bool
	err := q.QueryRow(ctx, query, args...).Scan(&ok)
	return ok, err
}

const sqlAccountExists = `SELECT EXISTS (SELECT 1 FROM accounts WHERE uid = $1)`

// requireAccount turns a missing account into ErrNotFound instead of an
// opaque foreign-key failure. Accounts are never deleted, so the answer
// still holds when the statements after it write.
func requireAccount(ctx context.Context, q Querier, uid string) error {
	ok, err := exists(ctx, q, sqlAccountExists, uid)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("account %s: %w", uid, dialtone.ErrNotFound)
	}
	return nil
}

// getRow scans one row, turning "no row" into ErrNotFound.
func getRow[T any](ctx context.Context, s *Store, what string, scan func(Row) (*T, error), query string, args ...any) (*T, error) {
	v, err := scan(s.db.Reader().QueryRow(ctx, query, args...))
	if isNoRows(err) {
		return nil, s.errorf("%s: %w", what, dialtone.ErrNotFound)
	}
	if err != nil {
		return nil, s.errorf("%s: %w", what, err)
	}
	return v, nil
}

// listRows reads every row; an empty result is an empty, non-nil slice.
func listRows[T any](ctx context.Context, s *Store, what string, scan func(Row) (*T, error), query string, args ...any) ([]T, error) {
	out, err := collect(ctx, s.db.Reader(), scan, query, args...)
	if err != nil {
		return nil, s.errorf("list %s: %w", what, err)
	}
	return out, nil
}

// collect is listRows on any querier, without the error decoration.
func collect[T any](ctx context.Context, q Querier, scan func(Row) (*T, error), query string, args ...any) ([]T, error) {
	rows, err := q.Query(ctx, query, args...)
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

// execCount runs one write statement and returns the rows it changed.
func (s *Store) execCount(ctx context.Context, query string, args ...any) (int, error) {
	var n int64
	err := s.db.Write(ctx, func(ctx context.Context, q Querier) error {
		var err error
		n, err = q.Exec(ctx, query, args...)
		return err
	})
	return int(n), err
}

// putScoped runs an upsert of an account's resource after checking that
// the account exists, so a missing account is ErrNotFound; a foreign-key
// failure is mapped too, should the account vanish in between.
// It is a change of the account for the cache (authcache.go).
func (s *Store) putScoped(ctx context.Context, what, account, upsert string, args ...any) error {
	name := accountName(account)
	err := s.db.Write(ctx, func(ctx context.Context, q Querier) error {
		if err := requireAccount(ctx, q, account); err != nil {
			return err
		}
		_, err := q.Exec(ctx, upsert, args...)
		if s.d.IsForeignKey(err) {
			return fmt.Errorf("account %s: %w", account, dialtone.ErrNotFound)
		}
		if err != nil {
			return err
		}
		return s.notifyAuth(ctx, q, name)
	})
	s.authWritten(name)
	if err != nil {
		return s.errorf("put %s: %w", what, err)
	}
	return nil
}

// deleteScoped runs a DELETE whose WHERE names the account and reports
// ErrNotFound when it removed nothing. Unless account is "" (what is
// deleted is no account's), it is a change of the account for the cache
// (authcache.go).
func (s *Store) deleteScoped(ctx context.Context, what, account, del string, args ...any) error {
	var n int64
	name := accountName(account)
	err := s.db.Write(ctx, func(ctx context.Context, q Querier) error {
		var err error
		if n, err = q.Exec(ctx, del, args...); err != nil || n == 0 || account == "" {
			return err
		}
		return s.notifyAuth(ctx, q, name)
	})
	if account != "" {
		s.authWritten(name)
	}
	if err != nil {
		return s.errorf("delete %s: %w", what, err)
	}
	if n == 0 {
		return s.errorf("delete %s: %w", what, dialtone.ErrNotFound)
	}
	return nil
}

// queries holds the statements that contain dialect parts, built once by
// New. Statements without any are constants next to their methods.
type queries struct {
	listAccounts, listKeys, listNumbers, listTemplates, listVoiceFiles    string
	listSubscriptions, listUnrouted, visible, visibleLocked, duePush      string
	listDeadLetters, listConsoleUsers, listPushRetries, purgePushAttempts string
	claimCalls, listCallsOrder, unfinishedOrder                           string
	deleteCertFiles, listCertFiles, listAllCerts                          string
	slotUsage                                                             string
	claimReceipts                                                         []string
}

// dialectMarks are replaced in the statements of queries: {C} by
// Dialect.Collate, {SKIP LOCKED} by Dialect.SkipLocked.
func buildQueries(d *Dialect) *queries {
	r := strings.NewReplacer("{C}", d.Collate, "{SKIP LOCKED}", d.SkipLocked)
	return &queries{
		listAccounts:      r.Replace(sqlListAccounts),
		listKeys:          r.Replace(sqlListKeys),
		listNumbers:       r.Replace(sqlListNumbers),
		listTemplates:     r.Replace(sqlListTemplates),
		listVoiceFiles:    r.Replace(sqlListVoiceFiles),
		listSubscriptions: r.Replace(sqlListSubscriptions),
		listUnrouted:      r.Replace(sqlListUnrouted),
		visible:           r.Replace(sqlVisible),
		visibleLocked:     r.Replace(sqlVisible + ` {SKIP LOCKED}`),
		duePush:           r.Replace(sqlDuePush),
		listDeadLetters:   r.Replace(sqlListDeadLetters),
		listPushRetries:   r.Replace(sqlListPushRetries),
		purgePushAttempts: r.Replace(sqlPurgePushAttemptIDs),
		listConsoleUsers:  r.Replace(sqlListConsoleUsers),
		claimCalls:        r.Replace(sqlClaimCalls),
		listCallsOrder:    r.Replace(sqlListCallsOrder),
		unfinishedOrder:   r.Replace(sqlUnfinishedOrder),
		deleteCertFiles:   r.Replace(sqlDeleteCertFiles),
		listCertFiles:     r.Replace(sqlListCertFiles),
		listAllCerts:      r.Replace(sqlListAllCerts),
		slotUsage:         r.Replace(sqlSlotUsage),
		claimReceipts:     claimStatements(r),
	}
}
