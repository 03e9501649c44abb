package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone"
)

func openTest(t *testing.T) *Store {
	t.Helper()
	st := openAt(t, filepath.Join(t.TempDir(), "t.db"), sealer(t, 1))
	t.Cleanup(func() { st.Close() })
	return st
}

// The outbox has no read method yet, so its rows are checked here.
func TestReceiptsOutbox(t *testing.T) {
	st := openTest(t)
	ctx := context.Background()
	must(t, st.PutAccount(ctx, &dialtone.Account{UID: "1"}))
	c := &dialtone.Call{ID: "c1", AccountUID: "1", Kind: dialtone.KindTTS, State: dialtone.CallQueued}
	must(t, st.CreateCall(ctx, c, nil))
	created := time.UnixMilli(1_700_000_000_555)
	body := `{"call_id":"c1","status_code":"200000","status_msg":"用户听完语音"}`
	must(t, st.UpdateCall(ctx, &dialtone.CallChange{Call: c, Receipts: []dialtone.Receipt{
		{ID: "r1", MessageType: dialtone.MsgVoiceReport, Body: []byte(body), CreatedAt: created},
	}}))
	var (
		id, acct, call, typ, gotBody string
		createdAt, availableAt       int64
		attempts                     int
	)
	err := st.pool.QueryRowContext(ctx, `SELECT id, account_uid, call_id, message_type, body, created_at, available_at, attempts FROM receipts`).
		Scan(&id, &acct, &call, &typ, &gotBody, &createdAt, &availableAt, &attempts)
	must(t, err)
	if id != "r1" || acct != "1" || call != "c1" || typ != dialtone.MsgVoiceReport || gotBody != body ||
		createdAt != created.UnixMilli() || availableAt != createdAt || attempts != 0 {
		t.Errorf("receipt row = %q %q %q %q %q %d %d %d", id, acct, call, typ, gotBody, createdAt, availableAt, attempts)
	}
}

// TestGroupCommitIsolation holds the writer busy so that many ops queue up
// and run in one batch, some of them failing, and checks that each op gets
// its own result and that a failed op leaves nothing behind.
func TestGroupCommitIsolation(t *testing.T) {
	st := openTest(t)
	ctx := context.Background()
	must(t, st.PutAccount(ctx, &dialtone.Account{UID: "1"}))
	ops := make([]func() error, 30)
	for i := range ops {
		switch i % 3 {
		case 0: // succeeds
			ops[i] = func() error {
				return st.CreateCall(ctx, &dialtone.Call{ID: fmt.Sprintf("ok-%d", i), AccountUID: "1", Callee: "139"}, nil)
			}
		case 1: // writes, then fails: its write must be rolled back
			ops[i] = func() error {
				return st.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
					if _, err := tx.ExecContext(ctx, `INSERT INTO nonces (scope, nonce, expires_at) VALUES ('fail', ?, 1)`, i); err != nil {
						return err
					}
					return errors.New("op failed on purpose")
				})
			}
		case 2: // all but the first of these are duplicates of one ID
			ops[i] = func() error {
				return st.CreateCall(ctx, &dialtone.Call{ID: "dup", AccountUID: "1", Callee: "139"}, nil)
			}
		}
	}
	results := runQueued(t, st, ops)

	dupOK := 0
	for i, err := range results {
		switch i % 3 {
		case 0:
			if err != nil {
				t.Errorf("op %d: %v", i, err)
			}
		case 1:
			if err == nil || !strings.Contains(err.Error(), "on purpose") {
				t.Errorf("op %d: error %v, want its own failure", i, err)
			}
		case 2:
			if err == nil {
				dupOK++
			} else if !errors.Is(err, dialtone.ErrConflict) {
				t.Errorf("op %d: %v, want ErrConflict", i, err)
			}
		}
	}
	if dupOK != 1 {
		t.Errorf("%d creates of one ID succeeded, want 1", dupOK)
	}
	var n int
	must(t, st.pool.QueryRowContext(ctx, `SELECT COUNT(*) FROM nonces WHERE scope = 'fail'`).Scan(&n))
	if n != 0 {
		t.Errorf("failed ops left %d rows", n)
	}
	must(t, st.pool.QueryRowContext(ctx, `SELECT COUNT(*) FROM calls`).Scan(&n))
	if n != 11 {
		t.Errorf("%d calls stored, want 11", n)
	}
}

// TestGroupCommitBrokenBatch: an op whose failure ends the shared
// transaction (here by rolling it back outright) must not cost the other
// ops of its batch their writes: they are run again alone.
func TestGroupCommitBrokenBatch(t *testing.T) {
	st := openTest(t)
	ctx := context.Background()
	var ops []func() error
	for i := range 10 {
		ops = append(ops, func() error { return st.PutAccount(ctx, &dialtone.Account{UID: fmt.Sprint("u", i)}) })
	}
	ops = append(ops, func() error {
		return st.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, `ROLLBACK`); err != nil {
				return err
			}
			return errors.New("transaction destroyed")
		})
	})
	results := runQueued(t, st, ops)
	errs, breakErr := results[:10], results[10]
	if breakErr == nil {
		t.Error("the breaking op succeeded")
	}
	for i, err := range errs {
		if err != nil {
			t.Errorf("PutAccount %d: %v", i, err)
		}
	}
	var n int
	must(t, st.pool.QueryRowContext(ctx, `SELECT COUNT(*) FROM accounts WHERE uid LIKE 'u%'`).Scan(&n))
	if n != len(errs) {
		t.Errorf("%d accounts stored, want %d", n, len(errs))
	}
	// The store still works.
	if err := st.PutAccount(ctx, &dialtone.Account{UID: "after"}); err != nil {
		t.Errorf("PutAccount after a broken batch: %v", err)
	}
}

func TestCancelledWrite(t *testing.T) {
	st := openTest(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := st.PutAccount(ctx, &dialtone.Account{UID: "1"}); !errors.Is(err, context.Canceled) {
		t.Errorf("PutAccount with a cancelled context: %v", err)
	}
	if _, err := st.GetAccount(context.Background(), "1"); !errors.Is(err, dialtone.ErrNotFound) {
		t.Errorf("cancelled write was stored: %v", err)
	}
}

func TestWriteAfterClose(t *testing.T) {
	st := openAt(t, filepath.Join(t.TempDir(), "c.db"), sealer(t, 1))
	must(t, st.Close())
	if err := st.PutAccount(context.Background(), &dialtone.Account{UID: "1"}); err == nil {
		t.Error("PutAccount after Close succeeded")
	}
	if _, err := st.UseNonce(context.Background(), "K", "n", time.Now(), time.Now().Add(time.Hour)); err == nil {
		t.Error("UseNonce after Close succeeded")
	}
}

func TestWithLogger(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(slog.NewTextHandler(&buf, nil))
	st, err := Open(context.Background(), filepath.Join(t.TempDir(), "l.db"), sealer(t, 1), WithLogger(l))
	must(t, err)
	must(t, st.Close())
	if !strings.Contains(buf.String(), "applied migration") || !strings.Contains(buf.String(), "engine_resources") {
		t.Errorf("the logger got %q", buf.String())
	}
}

// The queries that run on every call, or over the whole history, must use
// their indexes: flow control runs in the write transaction of every
// CreateCall, and ListUnfinishedCalls at start-up would otherwise scan every
// call ever made.
func TestQueryPlans(t *testing.T) {
	st := openTest(t)
	for _, tc := range st.IndexedQueries() {
		rows, err := st.pool.QueryContext(context.Background(), `EXPLAIN QUERY PLAN `+tc.Query, tc.Args...)
		must(t, err)
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			must(t, rows.Scan(&id, &parent, &unused, &detail))
			plan = append(plan, detail)
		}
		must(t, rows.Err())
		rows.Close()
		if p := strings.Join(plan, "; "); !strings.Contains(p, tc.Index) {
			t.Errorf("plan %q does not use %s for %s", p, tc.Index, tc.Query)
		}
	}
}

// TestNoncesFromTable: a database whose nonces were rows of the table (a
// node from before the journal) starts its journal with the unexpired
// ones: they stay used across the upgrade, the expired ones do not.
func TestNoncesFromTable(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "u.db")
	st := openAt(t, path, sealer(t, 1))
	now := time.Now()
	if _, err := st.write.ExecContext(ctx, `INSERT INTO nonces (scope, nonce, expires_at) VALUES ('K', 'live', ?), ('K', 'old', ?)`,
		now.Add(time.Hour).UnixMilli(), now.Add(-time.Second).UnixMilli()); err != nil {
		t.Fatal(err)
	}
	must(t, st.Close())
	for _, f := range []string{path + "-nonces", path + "-nonces.lock"} {
		if err := os.Remove(f); err != nil {
			t.Fatal(err)
		}
	}
	st = openAt(t, path, sealer(t, 1))
	defer st.Close()
	if ok, err := st.UseNonce(ctx, "K", "live", now, now.Add(time.Hour)); err != nil || ok {
		t.Errorf("a nonce of the table was accepted after the upgrade: %v, %v", ok, err)
	}
	if ok, err := st.UseNonce(ctx, "K", "old", now, now.Add(time.Hour)); err != nil || !ok {
		t.Errorf("an expired nonce of the table was refused: %v, %v", ok, err)
	}
}

// runQueued holds the writer busy while ops queue behind it, then lets
// them run, so that they share batches, and returns their results.
func runQueued(t *testing.T, st *Store, ops []func() error) []error {
	t.Helper()
	ctx := context.Background()
	release, blocked := make(chan struct{}), make(chan struct{})
	go func() {
		_ = st.inTx(ctx, func(context.Context, *sql.Tx) error {
			close(blocked)
			<-release
			return nil
		})
	}()
	<-blocked
	var wg sync.WaitGroup
	errs := make([]error, len(ops))
	for i, op := range ops {
		wg.Go(func() { errs[i] = op() })
	}
	time.Sleep(100 * time.Millisecond) // let them queue; a late one runs in a later batch
	close(release)
	wg.Wait()
	return errs
}

// TestGroupCommitSavepointsOnlyAfterFailure: a batch whose ops all succeed
// runs without savepoints; one with a failing op runs again with them
// (the failed op's write gone, the others' kept), and so do the batches
// right after it.
func TestGroupCommitSavepointsOnlyAfterFailure(t *testing.T) {
	st := openTest(t)
	ctx := context.Background()
	savepoints := func() int64 { return st.StatementCounts()[sqlSavepoint] }
	puts := func(prefix string, n int) []func() error {
		var ops []func() error
		for i := range n {
			ops = append(ops, func() error { return st.PutAccount(ctx, &dialtone.Account{UID: fmt.Sprint(prefix, i)}) })
		}
		return ops
	}
	c0 := st.Counts()
	for i, err := range runQueued(t, st, puts("a", 10)) {
		if err != nil {
			t.Fatalf("PutAccount %d: %v", i, err)
		}
	}
	if d := st.Counts().Sub(c0); savepoints() != 0 || d.Commits >= d.Ops {
		t.Fatalf("successful batch: %d savepoints, %d ops in %d commits; want no savepoints and shared commits", savepoints(), d.Ops, d.Commits)
	}

	ops := puts("b", 6)
	ops = append(ops, func() error {
		return st.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO nonces (scope, nonce, expires_at) VALUES ('failed', 'n', 1)`); err != nil {
				return err
			}
			return errors.New("op failed on purpose")
		})
	})
	errs := runQueued(t, st, ops)
	for i, err := range errs[:6] {
		if err != nil {
			t.Errorf("PutAccount %d beside a failing op: %v", i, err)
		}
	}
	if errs[6] == nil || !strings.Contains(errs[6].Error(), "on purpose") {
		t.Errorf("failing op: %v", errs[6])
	}
	if savepoints() == 0 {
		t.Error("a batch with a failing op ran without savepoints")
	}
	var n int
	must(t, st.pool.QueryRowContext(ctx, `SELECT COUNT(*) FROM nonces WHERE scope = 'failed'`).Scan(&n))
	if n != 0 {
		t.Error("the failed op's write was kept")
	}
	must(t, st.pool.QueryRowContext(ctx, `SELECT COUNT(*) FROM accounts WHERE uid LIKE 'b%'`).Scan(&n))
	if n != 6 {
		t.Errorf("%d of the 6 accounts beside the failing op stored", n)
	}

	before := savepoints()
	for i, err := range runQueued(t, st, puts("c", 5)) {
		if err != nil {
			t.Fatalf("PutAccount %d: %v", i, err)
		}
	}
	if savepoints() == before {
		t.Error("the batch after a failure ran without savepoints")
	}
}
