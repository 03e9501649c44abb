package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"

	"github.com/dialtone-voice/dialtone/sqlstore"
)

// Group commit.
//
// Every write runs as an op on one writer goroutine. The writer takes the
// first waiting op, then every other op already waiting (up to defaultMaxBatch),
// and runs them all in one BEGIN IMMEDIATE transaction. One COMMIT (one WAL
// append and, with synchronous=NORMAL, no fsync) then serves the whole
// batch, which is what makes thousands of small call changes per second
// affordable: the cost of a transaction is paid per batch instead of per
// change. An idle store sees batches of one, so a lone write is not delayed.
//
// An op that fails must leave nothing behind while the others commit. A
// batch first runs optimistically, its ops one after the other with
// nothing between them; if an op fails, the whole transaction is rolled
// back and the batch runs again with each op inside its own SAVEPOINT, so
// that a failed op is rolled back to its savepoint alone. Savepoints are
// not free (two statements per op, and every page an op changes copied to
// the statement journal first): most batches have no failing op and pay
// none of it. After a failure the next batches (isolatedBatches) take
// savepoints from the start, so a workload that keeps failing does not
// run its batches twice.
//
// Semantics are those of one transaction per op, run in arrival order:
// each op sees the writes of the ops before it (so flow-control counts and
// duplicate checks stay exact), and its caller learns the result only after
// the COMMIT that made it durable. Ops must be re-runnable: a batch may run
// again with savepoints, and if the shared transaction breaks (COMMIT
// fails, or a failure rolled back more than its savepoint), every op of the
// batch is run again in a transaction of its own, so an op's function must
// only touch the database, never state that a second run would see.
// Callers change their Go values (Call.Version, ...) after the op returned
// nil.

// defaultMaxBatch bounds the work of one transaction, so the latency a
// write can wait behind others stays bounded as well.
const defaultMaxBatch = 128

// isolatedBatches is how many batches run with savepoints from the start
// after one whose optimistic run met a failing op.
const isolatedBatches = 16

// errOpFailed ends an optimistic run at the first op that failed.
var errOpFailed = errors.New("an op of the batch failed")

// One savepoint name serves every op: each is released before the next is
// opened, so they never nest.
const (
	sqlBegin      = `BEGIN IMMEDIATE`
	sqlCommit     = `COMMIT`
	sqlRollback   = `ROLLBACK`
	sqlSavepoint  = `SAVEPOINT op`
	sqlRollbackTo = `ROLLBACK TO op`
	sqlRelease    = `RELEASE op`
)

// errClosed is returned by writes that arrive after Close.
var errClosed = errors.New("store closed")

type writeOp struct {
	ctx  context.Context
	fn   func(ctx context.Context, tx *sql.Tx) error
	err  error
	done chan struct{}
}

// inTx runs fn in a write transaction, possibly shared with other ops (see
// above), and returns fn's error or the commit's. fn runs with a context
// that is not cancelled: cancelling a statement can roll back the whole
// SQLite transaction, which would take other callers' ops with it. ctx is
// honoured while the op waits, up to the moment it starts.
func (e *engine) inTx(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	op := &writeOp{ctx: ctx, fn: fn, done: make(chan struct{})}
	select {
	case e.ops <- op:
	case <-e.quit:
		return errClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	// Once taken the op is not abandoned: its outcome (committed or not)
	// is only known after the batch, and the caller must learn it.
	<-op.done
	return op.err
}

// writer is the single goroutine that owns the write connection after Open.
func (e *engine) writer() {
	defer close(e.writerDone)
	batch := make([]*writeOp, 0, e.maxBatch)
	for {
		var first *writeOp
		select {
		case first = <-e.ops:
		case <-e.quit:
			return
		}
		batch = append(batch[:0], first)
		// Let the goroutines woken by the previous batch submit their next
		// op before collecting: on few cores they are runnable but not yet
		// running, and without the yield most batches would hold one op.
		// Beyond that, take only the ops already waiting: a timed wait for
		// more would delay every write of an idle store.
		runtime.Gosched()
	collect:
		for len(batch) < e.maxBatch {
			select {
			case op := <-e.ops:
				batch = append(batch, op)
			default:
				break collect
			}
		}
		e.runBatch(batch)
		e.ckpt.wrote()
		for i, op := range batch {
			close(op.done)
			batch[i] = nil // do not keep finished ops reachable
		}
	}
}

func (e *engine) runBatch(batch []*writeOp) {
	if len(batch) == 1 {
		batch[0].err = e.runAlone(batch[0])
		return
	}
	if e.isolate == 0 {
		err := e.runTogether(batch, false)
		if err == nil {
			return
		}
		if !errors.Is(err, errOpFailed) {
			e.runEachAlone(batch)
			return
		}
		e.isolate = isolatedBatches
	} else {
		e.isolate--
	}
	if err := e.runTogether(batch, true); err != nil {
		e.runEachAlone(batch)
	}
}

// runEachAlone runs every op of a batch whose shared transaction is gone,
// and with it what every op wrote; results computed inside it (even
// failures, which may have depended on an earlier op's writes) are void.
func (e *engine) runEachAlone(batch []*writeOp) {
	for _, op := range batch {
		op.err = e.runAlone(op)
	}
}

// runAlone runs one op in its own transaction.
func (e *engine) runAlone(op *writeOp) error {
	if err := op.ctx.Err(); err != nil {
		return err
	}
	ctx := context.WithoutCancel(op.ctx)
	e.counts.ops.Add(1)
	e.counts.stmt(sqlBegin)
	tx, err := e.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := op.fn(ctx, tx); err != nil {
		// fn's error is the cause; a failed rollback ends the transaction
		// anyway when the connection resets.
		e.counts.stmt(sqlRollback)
		_ = tx.Rollback()
		return err
	}
	e.counts.stmt(sqlCommit)
	e.counts.commits.Add(1)
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// runTogether runs the ops in one transaction, setting the error of each op
// that failed. It returns an error only when the transaction as a whole
// failed, after rolling it back. With isolate, each op runs in its own
// savepoint and a failed op is rolled back alone; without, the first op
// that fails ends the run with errOpFailed.
func (e *engine) runTogether(batch []*writeOp, isolate bool) (err error) {
	bg := context.Background()
	e.counts.stmt(sqlBegin)
	tx, err := e.write.BeginTx(bg, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if err != nil {
			e.counts.stmt(sqlRollback)
			_ = tx.Rollback()
		}
	}()
	for _, op := range batch {
		if op.err = op.ctx.Err(); op.err != nil {
			continue
		}
		e.counts.ops.Add(1)
		if !isolate {
			if op.err = op.fn(context.WithoutCancel(op.ctx), tx); op.err != nil {
				return errOpFailed
			}
			continue
		}
		if _, err := e.txExec(bg, tx, sqlSavepoint); err != nil {
			return fmt.Errorf("savepoint: %w", err)
		}
		if op.err = op.fn(context.WithoutCancel(op.ctx), tx); op.err != nil {
			// Fails when the error already rolled back the transaction
			// (SQLITE_FULL, SQLITE_IOERR, ...): then nothing of the batch
			// is left and the caller runs the ops again one by one.
			if _, err := e.txExec(bg, tx, sqlRollbackTo); err != nil {
				return fmt.Errorf("rollback to savepoint after %w: %w", op.err, err)
			}
		}
		if _, err := e.txExec(bg, tx, sqlRelease); err != nil {
			return fmt.Errorf("release savepoint: %w", err)
		}
	}
	e.counts.stmt(sqlCommit)
	e.counts.commits.Add(1)
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// prepareHot prepares the statements that every call change or API request
// runs, once, on the write connection. Parsing and planning them costs about
// as much as running them (40% of UpdateCall's CPU time without this), and
// the driver keeps no statement cache of its own. It runs before the writer
// starts, while the one connection is free; database/sql then reuses each
// prepared statement in every transaction on that connection (Tx.Stmt), and
// re-prepares it transparently should the connection ever be replaced.
func (e *engine) prepareHot(ctx context.Context) error {
	e.stmts = map[string]*sql.Stmt{}
	for _, q := range append([]string{sqlSavepoint, sqlRollbackTo, sqlRelease}, sqlstore.HotStatements(Dialect)...) {
		st, err := e.write.PrepareContext(ctx, q)
		if err != nil {
			for _, p := range e.stmts {
				_ = p.Close()
			}
			return fmt.Errorf("prepare %q: %w", q, err)
		}
		e.stmts[q] = st
	}
	return nil
}

// txExec runs q in tx, through its prepared statement when it has one.
func (e *engine) txExec(ctx context.Context, tx *sql.Tx, q string, args ...any) (sql.Result, error) {
	e.counts.stmt(q)
	if st, ok := e.stmts[q]; ok {
		return tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return tx.ExecContext(ctx, q, args...)
}
