package postgres

import (
	"context"
	"strings"
	"sync/atomic"

	"github.com/jackc/pgx/v5"

	"github.com/dialtone-voice/dialtone/sqlstore"
)

// slotsChannel is pgnotify.ChannelSlots (pgnotify's tests import this
// package, so it cannot import theirs; a test keeps the two equal).
const slotsChannel = "dialtone_slots"

// Counts are what a Store sent to PostgreSQL since it opened, for
// measurements (dialtone bench): the cost of a call in statements.
type Counts struct {
	// Statements are the SQL statements run, BEGIN and COMMIT included.
	Statements int64
	// RoundTrips are the requests that waited for an answer: a statement
	// alone, or a batch of them.
	RoundTrips int64
	// Limits are the statements of the cluster's limits among Statements:
	// slots, paces, their locks and the signals that slots were freed.
	Limits int64
}

// Sub is c minus an earlier reading.
func (c Counts) Sub(earlier Counts) Counts {
	return Counts{c.Statements - earlier.Statements, c.RoundTrips - earlier.RoundTrips, c.Limits - earlier.Limits}
}

// Counts returns what the store has sent so far.
func (s *Store) Counts() Counts {
	t := s.tracer
	return Counts{t.statements.Load(), t.roundTrips.Load(), t.limits.Load()}
}

// counter is the pool's pgx tracer: it counts, nothing else (a few atomic
// additions per statement).
type counter struct {
	statements, roundTrips, limits atomic.Int64
	tally                          sqlstore.StatementTally
}

func (c *counter) text(sql string) { c.tally.Add(sql) }

// StatementCounts returns how many times each statement ran, keyed by its
// text with runs of white space folded (a breakdown of Counts).
func (s *Store) StatementCounts() map[string]int64 { return s.tracer.tally.Counts() }

var (
	_ pgx.QueryTracer = (*counter)(nil)
	_ pgx.BatchTracer = (*counter)(nil)
)

// limitsSQL tells the statements of the cluster's limits.
func limitsSQL(sql string, args []any) bool {
	if strings.Contains(sql, "limit_slots") || strings.Contains(sql, "limit_paces") || sql == Dialect.SlotLock {
		return true
	}
	if sql == sqlNotify && len(args) > 0 {
		ch, _ := args[0].(string)
		return ch == slotsChannel
	}
	return false
}

func (c *counter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	c.statements.Add(1)
	c.roundTrips.Add(1)
	c.text(data.SQL)
	if limitsSQL(data.SQL, data.Args) {
		c.limits.Add(1)
	}
	return ctx
}

func (c *counter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (c *counter) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	c.roundTrips.Add(1)
	return ctx
}

func (c *counter) TraceBatchQuery(_ context.Context, _ *pgx.Conn, data pgx.TraceBatchQueryData) {
	c.statements.Add(1)
	c.text(data.SQL)
	if limitsSQL(data.SQL, data.Args) {
		c.limits.Add(1)
	}
}

func (c *counter) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}
