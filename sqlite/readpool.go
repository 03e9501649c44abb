package sqlite

import (
	"context"
	"database/sql"
	"sync"
)

// readPool is the read-only pool with its queries prepared once. The
// driver compiles a query given as text every time it runs, which was a
// tenth of the CPU of an API request (a signed request reads the key, the
// account, its settings, the template and the number); a prepared
// statement is compiled once per connection and reused.
type readPool struct {
	*sql.DB
	mu    sync.RWMutex
	stmts map[string]*sql.Stmt
}

// maxReadStmts bounds the prepared queries: the store's queries are a
// fixed set, but a few are built from filters, and those past the bound
// run unprepared rather than grow the cache.
const maxReadStmts = 256

func newReadPool(db *sql.DB) *readPool {
	return &readPool{DB: db, stmts: make(map[string]*sql.Stmt)}
}

// stmt returns q prepared, or nil when it cannot be (the cache is full, or
// preparing failed: running it unprepared then reports the error).
func (p *readPool) stmt(ctx context.Context, q string) *sql.Stmt {
	p.mu.RLock()
	st, ok := p.stmts[q]
	n := len(p.stmts)
	p.mu.RUnlock()
	if ok || n >= maxReadStmts {
		return st
	}
	// Prepared without ctx's deadline: the statement outlives the request.
	st, err := p.DB.PrepareContext(context.WithoutCancel(ctx), q)
	if err != nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if prev, ok := p.stmts[q]; ok {
		_ = st.Close() // another request prepared it meanwhile
		return prev
	}
	if len(p.stmts) >= maxReadStmts {
		_ = st.Close()
		return nil
	}
	p.stmts[q] = st
	return st
}

// QueryRowContext runs q as a prepared statement. A one-row read is not
// interrupted when ctx ends once it has started (it is checked before):
// with a context that can end, database/sql and the driver each start a
// goroutine per query to watch it, which cost more than the point reads
// of a request do (a call, a number, a template by key). Such a read
// waits at most busy_timeout for a lock held by another process.
func (p *readPool) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	if ctx.Err() == nil {
		ctx = context.WithoutCancel(ctx)
	}
	if st := p.stmt(ctx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return p.DB.QueryRowContext(ctx, q, args...)
}

// QueryContext runs q as a prepared statement.
func (p *readPool) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if st := p.stmt(ctx, q); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return p.DB.QueryContext(ctx, q, args...)
}

// Close closes the statements, then the pool.
func (p *readPool) Close() error {
	p.mu.Lock()
	for q, st := range p.stmts {
		_ = st.Close()
		delete(p.stmts, q)
	}
	p.mu.Unlock()
	return p.DB.Close()
}
