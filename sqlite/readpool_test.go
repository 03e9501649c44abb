package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
)

// TestReadPoolPreparesOnce: a query is prepared once and reused by every
// caller, concurrent ones included; past maxReadStmts distinct queries
// still run (unprepared), and a query that cannot be prepared reports its
// error where it is scanned.
func TestReadPoolPreparesOnce(t *testing.T) {
	st := openAt(t, filepath.Join(t.TempDir(), "r.db"), sealer(t, 1))
	defer st.Close()
	ctx := context.Background()
	p := st.pool
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var got int
			if err := p.QueryRowContext(ctx, `SELECT ? + 1`, i).Scan(&got); err != nil || got != i+1 {
				t.Errorf("SELECT %d + 1 = %d, %v", i, got, err)
			}
		}()
	}
	wg.Wait()
	p.mu.RLock()
	first := p.stmts[`SELECT ? + 1`]
	p.mu.RUnlock()
	if first == nil {
		t.Fatal("query not prepared")
	}
	if st := p.stmt(ctx, `SELECT ? + 1`); st != first {
		t.Error("query prepared a second time")
	}
	for i := range maxReadStmts + 10 {
		rows, err := p.QueryContext(ctx, fmt.Sprintf(`SELECT %d`, i))
		if err != nil {
			t.Fatal(err)
		}
		var got int
		if !rows.Next() || rows.Scan(&got) != nil || got != i {
			t.Fatalf("SELECT %d = %d", i, got)
		}
		rows.Close()
	}
	p.mu.RLock()
	n := len(p.stmts)
	p.mu.RUnlock()
	if n != maxReadStmts {
		t.Errorf("%d statements cached, want the bound %d", n, maxReadStmts)
	}
	var x int
	if err := p.QueryRowContext(ctx, `SELECT nonsense FROM nowhere`).Scan(&x); err == nil {
		t.Error("bad query: no error")
	}
}
