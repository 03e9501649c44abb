package sqlite

import (
	"sync/atomic"

	"github.com/dialtone-voice/dialtone/sqlstore"
)

// Counts are what a Store ran since it opened, for measurements (dialtone
// bench): the cost of a call in statements, as postgres.Counts is on
// PostgreSQL. SQLite runs in the process, so there are no round trips:
// the figures that matter are the statements, the writes the writer ran
// and the transactions it committed them in (group commit shares one
// COMMIT among many writes).
type Counts struct {
	// Statements are the SQL statements run, reads and writes, BEGIN,
	// COMMIT and the writer's savepoints included.
	Statements int64
	// Reads are the statements run on the read pool.
	Reads int64
	// Ops are the writes (one Tx or Write of the store each) the writer
	// ran; Commits the transactions it committed them in.
	Ops, Commits int64
}

// Sub is c minus an earlier reading.
func (c Counts) Sub(earlier Counts) Counts {
	return Counts{c.Statements - earlier.Statements, c.Reads - earlier.Reads, c.Ops - earlier.Ops, c.Commits - earlier.Commits}
}

// Counts returns what the store has run so far.
func (s *Store) Counts() Counts {
	c := &s.engine.counts
	return Counts{c.statements.Load(), c.reads.Load(), c.ops.Load(), c.commits.Load()}
}

// StatementCounts returns how many times each statement ran, keyed by its
// text with runs of white space folded (for a breakdown of Counts).
func (s *Store) StatementCounts() map[string]int64 { return s.engine.counts.tally.Counts() }

// counter counts, nothing else: a few atomic additions per statement.
type counter struct {
	statements, reads, ops, commits atomic.Int64
	tally                           sqlstore.StatementTally
}

// stmt counts one statement.
func (c *counter) stmt(query string) {
	c.statements.Add(1)
	c.tally.Add(query)
}
