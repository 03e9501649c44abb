package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/dialtone-voice/dialtone"
)

// Atomic runs fn in one transaction, with a view of the store whose every
// statement runs in it; the view's own write methods run in savepoints, so
// one that fails is undone alone, as it would be outside. A transaction
// PostgreSQL aborts on a deadlock or serialization failure runs fn again.
func (s *Store) Atomic(ctx context.Context, fn func(ctx context.Context, tx dialtone.Store) error) error {
	return s.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		return fn(ctx, s.view(tx))
	})
}

// view is the store as seen from inside tx.
func (s *Store) view(tx pgx.Tx) *Store {
	return &Store{pool: s.pool, db: tx, inView: true, sealer: s.sealer, log: s.log, closeOnce: s.closeOnce}
}
