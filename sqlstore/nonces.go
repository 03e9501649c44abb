package sqlstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Nonces.
//
// Every signed request records its nonce before its action runs, so the
// nonce write is on the path of every API request. One statement per
// request made it the largest cost of a request after HTTP itself (on
// SQLite a write op of its own in the writer: savepoint, insert, release
// and a share of a COMMIT; on PostgreSQL a round trip). Requests arriving
// together now share one statement: the first request that finds no batch
// under way writes every nonce waiting (its own included) in one
// multi-row INSERT ... ON CONFLICT DO UPDATE ... WHERE expired RETURNING,
// and the rows it returns are exactly the nonces that were fresh (a batch
// of one is the single-row statement, its row count the answer); the
// requests that arrive meanwhile wait and form the next batch.
//
// The guarantee is the one statement's of before, for every nonce:
//
//   - a nonce is accepted only when no record of it (scope, nonce) exists
//     that is unexpired at the request's now (expires_at > now): the
//     batch's statements group the nonces by their now, so each is judged
//     at its own;
//   - accepted means recorded: UseNonce returns true only after the
//     statement that recorded it returned (on SQLite, after the writer's
//     COMMIT of its batch; on PostgreSQL the statement is its own
//     transaction), so an accepted nonce survives a SIGKILL of the process
//     the moment after (test/ TestNonceSurvivesKill);
//   - two uses of one nonce in one batch: the first is judged by the
//     database, the second is refused (the first either recorded it or
//     found it recorded);
//   - atomic against other nodes and processes exactly as the single
//     statement was (ON CONFLICT on the primary key).
//
// Inside a transaction's view the nonce is written at once in that
// transaction, as before.
//
// With a NonceJournal (SQLite: package replay) the journal keeps the
// nonces with the same guarantees and the table is not written; the view
// uses the journal too, so a nonce stays used when its transaction rolls
// back, as a request's nonce should.

// nonceBatchMax bounds the nonces of one statement; a larger batch runs
// several statements in the same write.
const nonceBatchMax = 32

// nonceStatement is the statement recording n nonces judged at one now:
// parameters 3i+1..3i+3 are nonce i's scope, nonce and expiry, 3n+1 the
// now.
func nonceStatement(n int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO nonces (scope, nonce, expires_at) VALUES ")
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "($%d, $%d, $%d)", 3*i+1, 3*i+2, 3*i+3)
	}
	b.WriteString("\nON CONFLICT (scope, nonce) DO UPDATE SET expires_at = excluded.expires_at\nWHERE nonces.expires_at <= $")
	b.WriteString(strconv.Itoa(3*n + 1))
	b.WriteString("\nRETURNING scope, nonce")
	return b.String()
}

// sqlUseNonce records one nonce: it changes a row (and the nonce is
// fresh) only when the record is new or expired at $4.
const sqlUseNonce = `
INSERT INTO nonces (scope, nonce, expires_at) VALUES ($1, $2, $3)
ON CONFLICT (scope, nonce) DO UPDATE SET expires_at = excluded.expires_at
WHERE nonces.expires_at <= $4`

// nonceStatements are nonceStatement(1..nonceBatchMax), built once.
var nonceStatements = func() []string {
	out := make([]string, nonceBatchMax+1)
	for n := 1; n <= nonceBatchMax; n++ {
		out[n] = nonceStatement(n)
	}
	return out
}()

// nonceUse is one request's nonce waiting for its batch.
type nonceUse struct {
	scope, nonce string
	now, expires int64
	fresh        bool
	err          error
	done         chan struct{} // closed when fresh and err are set
	lead         chan struct{} // closed when this use must write the next batch
	dup          bool          // another use of the same nonce is earlier in the batch
}

// nonceBatcher forms the batches.
type nonceBatcher struct {
	mu      sync.Mutex
	pending []*nonceUse
	writing bool
}

// UseNonce records nonce under scope until expires and reports true, or
// reports false when an unexpired record exists (expires_at > now).
func (s *Store) UseNonce(ctx context.Context, scope, nonce string, now, expires time.Time) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, s.errorf("use nonce: %w", err)
	}
	if s.journal != nil {
		fresh, err := s.journal.Use(ctx, scope, nonce, now, expires)
		if err != nil {
			return false, s.errorf("use nonce: %w", err)
		}
		return fresh, nil
	}
	u := &nonceUse{scope: scope, nonce: nonce, now: now.UnixMilli(), expires: toMillis(expires), done: make(chan struct{})}
	if s.inView {
		s.writeNonces(ctx, []*nonceUse{u})
	} else {
		s.nonceBatch(ctx, u)
	}
	if u.err != nil {
		return false, s.errorf("use nonce: %w", u.err)
	}
	return u.fresh, nil
}

// nonceBatch queues u and waits until a batch has judged it, writing
// batches itself while it is the leader. The wait does not end with ctx:
// once queued, the nonce may be recorded, and its caller must learn it.
func (s *Store) nonceBatch(ctx context.Context, u *nonceUse) {
	b := s.nonces
	b.mu.Lock()
	b.pending = append(b.pending, u)
	if b.writing {
		u.lead = make(chan struct{})
		b.mu.Unlock()
		select {
		case <-u.done:
			return
		case <-u.lead:
			// The previous leader left this batch to us.
		}
		b.mu.Lock()
	}
	b.writing = true
	batch := b.pending
	b.pending = nil
	b.mu.Unlock()

	s.writeNonces(context.WithoutCancel(ctx), batch)
	for _, v := range batch {
		close(v.done)
	}

	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.pending) == 0 {
		b.writing = false
		return
	}
	// Nonces arrived while this batch was written: the oldest of them
	// writes the next batch, so that this request answers now.
	b.pending[0].leadNow()
}

func (u *nonceUse) leadNow() { close(u.lead) }

// writeNonces judges and records the batch in one write, setting fresh or
// err of every use.
func (s *Store) writeNonces(ctx context.Context, batch []*nonceUse) {
	// The first use of each key is judged by the database; later ones in
	// the same batch are refused.
	first := make(map[[2]string]*nonceUse, len(batch))
	var judged []*nonceUse
	for _, u := range batch {
		k := [2]string{u.scope, u.nonce}
		if _, ok := first[k]; ok {
			u.dup = true
			continue
		}
		first[k] = u
		judged = append(judged, u)
	}
	// One statement per now (milliseconds; requests arriving together
	// mostly share it), so that each nonce is judged at its own. Within a
	// statement the rows go in key order: two nodes' statements then take
	// their row locks in the same order and cannot deadlock on PostgreSQL.
	slices.SortFunc(judged, func(a, b *nonceUse) int {
		if c := cmp.Compare(a.now, b.now); c != 0 {
			return c
		}
		if c := strings.Compare(a.scope, b.scope); c != 0 {
			return c
		}
		return strings.Compare(a.nonce, b.nonce)
	})
	err := s.db.Write(ctx, func(ctx context.Context, q Querier) error {
		for _, u := range judged {
			u.fresh = false
		}
		for i := 0; i < len(judged); {
			j := i + 1
			for j < len(judged) && j-i < nonceBatchMax && judged[j].now == judged[i].now {
				j++
			}
			if err := recordNonces(ctx, q, judged[i:j], first); err != nil {
				return err
			}
			i = j
		}
		return nil
	})
	for _, u := range batch {
		switch {
		case err != nil:
			u.fresh, u.err = false, err
		case u.dup:
			u.fresh = false
		}
	}
}

// recordNonces runs one statement for uses that share their now, marking
// fresh the ones it returns.
func recordNonces(ctx context.Context, q Querier, uses []*nonceUse, first map[[2]string]*nonceUse) error {
	if len(uses) == 1 {
		// Alone (the common case at low concurrency): the row count
		// says whether it was fresh, without reading rows back, which
		// costs about as much again on SQLite.
		u := uses[0]
		n, err := q.Exec(ctx, sqlUseNonce, u.scope, u.nonce, u.expires, u.now)
		if err != nil {
			return err
		}
		u.fresh = n == 1
		return nil
	}
	args := make([]any, 0, 3*len(uses)+1)
	for _, u := range uses {
		args = append(args, u.scope, u.nonce, u.expires)
	}
	args = append(args, uses[0].now)
	rows, err := q.Query(ctx, nonceStatements[len(uses)], args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var k [2]string
		if err := rows.Scan(&k[0], &k[1]); err != nil {
			return err
		}
		if u, ok := first[k]; ok {
			u.fresh = true
		}
	}
	return rows.Err()
}

// TableNonces lists the rows of the nonces table unexpired at now: what a
// NonceJournal created for a database that used the table starts with.
func TableNonces(ctx context.Context, q Querier, now time.Time, add func(scope, nonce string, expires time.Time)) error {
	rows, err := q.Query(ctx, `SELECT scope, nonce, expires_at FROM nonces WHERE expires_at > $1`, now.UnixMilli())
	if err != nil {
		return fmt.Errorf("nonces table: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var scope, nonce string
		var expires int64
		if err := rows.Scan(&scope, &nonce, &expires); err != nil {
			return fmt.Errorf("nonces table: %w", err)
		}
		add(scope, nonce, fromMillis(expires))
	}
	return rows.Err()
}
