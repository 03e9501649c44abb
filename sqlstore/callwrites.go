package sqlstore

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/dialtone-voice/dialtone"
)

// Call changes in as few statements as the engine allows.
//
// A call lives through a handful of changes (queued, dialing, ringing,
// answered, ended), each the call row, its new events and the receipts
// they cause, in one transaction. They were one statement per row: on
// PostgreSQL BEGIN, the UPDATE, a batch of the inserts and COMMIT, four
// round trips per change; on SQLite a statement per event and per receipt
// in the writer, which runs every write of the node.
//
//   - On PostgreSQL (Dialect.WritableCTE) a change is one statement: the
//     UPDATE under its version check, and the inserts of its events and
//     receipts as data-modifying CTEs that take their rows only when the
//     UPDATE matched. One statement is one transaction without BEGIN and
//     COMMIT: one round trip. A duplicate event or receipt fails the
//     statement (unique violation), which undoes the UPDATE with it.
//   - On SQLite the events of a change are one multi-row INSERT and its
//     receipts another, after the UPDATE, in the writer's transaction.
//
// The inserts have no ON CONFLICT clause: an existing (call, seq) or
// receipt ID is a unique violation, turned into ErrConflict, and the
// change is written not at all, as before.

// rowsMax bounds the rows of one multi-row INSERT; a change with more
// events or receipts runs several (SQLite prepares each size once).
const rowsMax = 8

const (
	eventCols   = `call_id, seq, at, type, leg, status_code, detail`
	receiptCols = `id, account_uid, call_id, message_type, body, created_at, available_at, attempts, routed_at`
)

// routedAtInsert is a receipt's routed_at as it is inserted, given the
// SQL of its account, message type and creation time. A receipt of a type
// the account has no subscription for goes nowhere (as on Alibaba), and
// the dispatcher would only mark it routed: it is inserted routed, at its
// creation, and never waits in the outbox. Only the receipts that have
// somewhere to go (a queue, a push) are left for the dispatcher (0). In a
// call of the bench three receipts of four had no subscription; each cost
// an outbox index entry, a read by the dispatcher and a claim UPDATE. The
// subscription is read in the change's own transaction, so a receipt is
// routed by the subscriptions of the moment it was created.
func routedAtInsert(account, msgType, created string) string {
	return "CASE WHEN EXISTS (SELECT 1 FROM subscriptions WHERE account_uid = " + account +
		" AND message_type = " + msgType + ") THEN 0 ELSE " + created + " END"
}

// multiInsert is INSERT INTO table (cols) VALUES for n rows of width
// parameters each (placeholders from 1), every row ending with what
// tail returns for the placeholder number of its first parameter.
func multiInsert(table, cols string, n, width int, tail func(first int) string) string {
	var b strings.Builder
	b.WriteString("INSERT INTO " + table + " (" + cols + ") VALUES ")
	p := 1
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		first := p
		for j := range width {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("$" + strconv.Itoa(p))
			p++
		}
		b.WriteString(tail(first) + ")")
	}
	return b.String()
}

// noTail is multiInsert's tail of rows that are their parameters alone.
func noTail(int) string { return "" }

// eventInserts[n] and receiptInserts[n] insert n rows: an event is its 7
// columns (changeRows' arguments); a receipt its id, account, call, type,
// body, created_at and available_at (the same), with no attempt yet and
// routed as routedAtInsert says.
var eventInserts, receiptInserts = func() ([]string, []string) {
	ev, rc := make([]string, rowsMax+1), make([]string, rowsMax+1)
	receiptTail := func(p int) string {
		arg := func(i int) string { return "$" + strconv.Itoa(p+i) }
		return ", 0, " + routedAtInsert(arg(1), arg(3), arg(5))
	}
	for n := 1; n <= rowsMax; n++ {
		ev[n] = multiInsert("call_events", eventCols, n, 7, noTail)
		rc[n] = multiInsert("receipts", receiptCols, n, 7, receiptTail)
	}
	return ev, rc
}()

// changeStatements are a change's inserts on SQLite: the events' and the
// receipts', rowsMax rows at most each.
func changeStatements(rows []Stmt, nEvents int) []Stmt {
	return append(multiRow(eventInserts, rows[:nEvents]), multiRow(receiptInserts, rows[nEvents:])...)
}

// multiRow turns rows (each one row's arguments; their SQL unused) into
// the inserts texts[n] of n rows each, at most len(texts)-1 rows to a
// statement.
func multiRow(texts []string, rows []Stmt) []Stmt {
	var out []Stmt
	for len(rows) > 0 {
		k := min(len(rows), len(texts)-1)
		var args []any
		for _, r := range rows[:k] {
			args = append(args, r.Args...)
		}
		out = append(out, Stmt{texts[k], args})
		rows = rows[k:]
	}
	return out
}

// cteChanges caches the one-statement change of PostgreSQL per shape
// (events, receipts).
var cteChanges sync.Map // [2]int -> string

// cteChange is the one statement of a change with nEvents events and
// nReceipts receipts: $1..$21 are sqlUpdateCall's, then cteArgs' 6 per
// event and 5 per receipt. It returns the number of calls updated.
func cteChange(nEvents, nReceipts int) string {
	key := [2]int{nEvents, nReceipts}
	if q, ok := cteChanges.Load(key); ok {
		return q.(string)
	}
	var b strings.Builder
	b.WriteString("WITH u AS (" + sqlUpdateCall + "\nRETURNING id)")
	p := 22
	row := func(types ...string) string {
		parts := make([]string, len(types))
		for i, t := range types {
			parts[i] = "CAST($" + strconv.Itoa(p) + " AS " + t + ")"
			p++
		}
		return "(" + strings.Join(parts, ", ") + ")"
	}
	values := func(n int, types ...string) string {
		rows := make([]string, n)
		for i := range rows {
			rows[i] = row(types...)
		}
		return strings.Join(rows, ", ")
	}
	if nEvents > 0 {
		b.WriteString(",\nev AS (INSERT INTO call_events (" + eventCols + ")\nSELECT u.id, v.seq, v.at, v.type, v.leg, v.status_code, v.detail FROM u, (VALUES " +
			values(nEvents, "INTEGER", "BIGINT", "TEXT", "TEXT", "TEXT", "TEXT") + ") AS v (seq, at, type, leg, status_code, detail))")
	}
	if nReceipts > 0 {
		b.WriteString(",\nrc AS (INSERT INTO receipts (" + receiptCols + ")\nSELECT v.id, v.account_uid, u.id, v.message_type, v.body, v.created_at, v.created_at, 0, " +
			routedAtInsert("v.account_uid", "v.message_type", "v.created_at") + " FROM u, (VALUES " +
			values(nReceipts, "TEXT", "TEXT", "TEXT", "TEXT", "BIGINT") + ") AS v (id, account_uid, message_type, body, created_at))")
	}
	b.WriteString("\nSELECT COUNT(*) FROM u")
	q := b.String()
	cteChanges.Store(key, q)
	return q
}

// cteArgs are cteChange's parameters after the UPDATE's: of an event row
// (changeRows) all but the call ID, which is the UPDATE's; of a receipt
// row its ID, account, type, body and created_at.
func cteArgs(args []any, rows []Stmt, nEvents int) []any {
	out := append(make([]any, 0, len(args)+6*len(rows)), args...)
	for i, r := range rows {
		if i < nEvents {
			out = append(out, r.Args[1:]...)
		} else {
			out = append(out, r.Args[0], r.Args[1], r.Args[3], r.Args[4], r.Args[5])
		}
	}
	return out
}

// writeChange runs the change's statements in q and reports whether the
// UPDATE matched (false: stale version or not the account's call).
func (s *Store) writeChange(ctx context.Context, q Querier, args []any, rows []Stmt, nEvents int) (bool, error) {
	if s.d.WritableCTE {
		var n int64
		if err := q.QueryRow(ctx, cteChange(nEvents, len(rows)-nEvents), cteArgs(args, rows, nEvents)...).Scan(&n); err != nil {
			return false, s.changeErr(err)
		}
		return n > 0, nil
	}
	n, err := q.Exec(ctx, sqlUpdateCall, args...)
	if err != nil || n == 0 {
		return false, err
	}
	for _, st := range changeStatements(rows, nEvents) {
		if _, err := q.Exec(ctx, st.SQL, st.Args...); err != nil {
			return false, s.changeErr(err)
		}
	}
	return true, nil
}

// changeErr turns a duplicate event or receipt into ErrConflict.
func (s *Store) changeErr(err error) error {
	if s.d.IsUnique(err) {
		return fmt.Errorf("an event seq or receipt ID of the change exists: %w", dialtone.ErrConflict)
	}
	return err
}
