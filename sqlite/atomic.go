package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/dialtone-voice/dialtone"
)

// Atomic runs fn as one write op (see batch.go): in a transaction of its
// own or in a savepoint of a group commit, with a view of the store whose
// reads and writes all go through that transaction. The view's own write
// methods run in nested savepoints, so one that fails is undone alone, as
// it would be outside.
//
// fn runs on the writer goroutine and holds the write connection until it
// returns, so it should be short; calling the outer store's write methods
// from it would wait for itself.
func (s *Store) Atomic(ctx context.Context, fn func(ctx context.Context, tx dialtone.Store) error) error {
	return s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		return fn(ctx, s.view(tx))
	})
}

// view is the store as seen from inside tx.
func (s *Store) view(tx *sql.Tx) *Store {
	return &Store{write: s.write, read: tx, pool: s.pool, tx: tx, sealer: s.sealer, log: s.log, stmts: s.stmts}
}

// Savepoints of a view's writes. SQLite resolves a name to the innermost
// savepoint that has it, so nested views may reuse the one name.
const (
	sqlNestedSavepoint  = `SAVEPOINT nested`
	sqlNestedRollbackTo = `ROLLBACK TO nested`
	sqlNestedRelease    = `RELEASE nested`
)

// inSavepoint runs fn in a savepoint of the view's transaction, undoing
// what fn wrote when it fails.
func (s *Store) inSavepoint(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	if _, err := s.tx.ExecContext(ctx, sqlNestedSavepoint); err != nil {
		return fmt.Errorf("savepoint: %w", err)
	}
	if err := fn(ctx, s.tx); err != nil {
		if _, rerr := s.tx.ExecContext(ctx, sqlNestedRollbackTo); rerr != nil {
			return fmt.Errorf("rollback to savepoint after %w: %w", err, rerr)
		}
		if _, rerr := s.tx.ExecContext(ctx, sqlNestedRelease); rerr != nil {
			return fmt.Errorf("release savepoint after %w: %w", err, rerr)
		}
		return err
	}
	if _, err := s.tx.ExecContext(ctx, sqlNestedRelease); err != nil {
		return fmt.Errorf("release savepoint: %w", err)
	}
	return nil
}
