package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dialtone-voice/dialtone"
)

const callCols = `id, account_uid, kind, prod_id, caller, callee, caller_show_number, callee_show_number, out_id, params,
    state, status_code, smart_status_code, status_msg, hangup_direction, dtmf, reason,
    created_at, a_originate_at, a_ring_at, a_start_at, a_end_at, b_originate_at, b_ring_at, b_start_at, b_end_at, duration,
    node, lease_till, version`

// The statements of the hot write paths. SQLite prepares them once on its
// write connection (HotStatements); pgx prepares and caches every
// statement per connection by itself.
const (
	sqlCallExists = `SELECT EXISTS (SELECT 1 FROM calls WHERE id = $1)`
	// DO NOTHING turns a duplicate that raced past the existence check into
	// "0 rows" instead of a driver-specific constraint error (and, on
	// PostgreSQL, an aborted transaction).
	sqlInsertCall = `INSERT INTO calls (` + callCols + `)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20,
        $21, $22, $23, $24, $25, $26, $27, $28, $29, $30)
ON CONFLICT (id) DO NOTHING`
	// One pass over the (account_uid, callee, created_at) index counts all
	// three windows.
	sqlFlowCount = `
SELECT
    COALESCE(SUM(CASE WHEN created_at > $1 THEN 1 ELSE 0 END), 0),
    COALESCE(SUM(CASE WHEN created_at > $2 THEN 1 ELSE 0 END), 0),
    COUNT(*)
FROM calls
WHERE account_uid = $3 AND callee = $4 AND created_at > $5 AND created_at <= $6`
	// What the call was asked to do (kind, product, numbers, out_id,
	// params) is fixed at CreateCall: a change sets only its progress, so
	// that the index on the callee is not rewritten at every change.
	sqlUpdateCall = `
UPDATE calls SET
    state = $1, status_code = $2, smart_status_code = $3, status_msg = $4, hangup_direction = $5, dtmf = $6, reason = $7,
    a_originate_at = $8, a_ring_at = $9, a_start_at = $10, a_end_at = $11,
    b_originate_at = $12, b_ring_at = $13, b_start_at = $14, b_end_at = $15,
    duration = $16, node = $17, lease_till = $18,
    version = version + 1
WHERE id = $19 AND account_uid = $20 AND version = $21`
	sqlCallOfAccount = `SELECT EXISTS (SELECT 1 FROM calls WHERE id = $1 AND account_uid = $2)`
	sqlGetCall       = `SELECT ` + callCols + ` FROM calls WHERE account_uid = $1 AND id = $2`
	sqlCallEvents    = `
SELECT e.seq, e.at, e.type, e.leg, e.status_code, e.detail
FROM calls c LEFT JOIN call_events e ON e.call_id = c.id
WHERE c.account_uid = $1 AND c.id = $2
ORDER BY e.seq`
	sqlCallCursor      = `SELECT created_at FROM calls WHERE account_uid = $1 AND id = $2`
	sqlListCallsOrder  = ` ORDER BY created_at DESC, id{C} DESC LIMIT `
	sqlUnfinishedOrder = ` ORDER BY created_at, id{C}`
)

// HotStatements are the statements that every call change writes, as d
// words them; an engine that prepares statements itself (SQLite) prepares
// these once. The nonce statements are not among them: the one engine
// that asks (SQLite) keeps its nonces in a journal (WithNonceJournal)
// and never runs them.
func HotStatements(d Dialect) []string {
	hot := []string{sqlAccountExists, sqlCallExists, sqlInsertCall, sqlFlowCount, sqlUpdateCall}
	hot = append(hot, eventInserts[1:]...)
	hot = append(hot, receiptInserts[1:]...)
	hot = append(hot, buildQueries(&d).claimReceipts[1:]...)
	return append(hot, messageInserts[1:]...)
}

// Defaults of CallFilter.Limit.
const (
	defaultCallLimit = 100
	maxCallLimit     = 1000
)

// CreateCall inserts a new call with Version 1 and sets c.Version to 1. It
// returns dialtone.ErrConflict when the ID exists (in any account),
// dialtone.ErrNotFound when the account does not exist and
// *dialtone.FlowLimitError when guard refuses the call. The checks and the
// insert run in one transaction; with a guard, under the dialect's flow
// lock of (account, callee) where transactions overlap, so that no other
// insert can slip between the flow-control count and this one.
func (s *Store) CreateCall(ctx context.Context, c *dialtone.Call, guard *dialtone.FlowGuard) error {
	if c == nil {
		return s.errorf("create call: nil call")
	}
	args := []any{
		c.ID, c.AccountUID, string(c.Kind), c.ProdID, c.Caller, c.Callee, c.CallerShowNumber, c.CalleeShowNumber, c.OutID, nullableBytes(c.Params),
		string(c.State), c.StatusCode, c.SmartStatusCode, c.StatusMsg, c.HangupDirection, c.DTMF, c.Reason,
		toMillis(c.CreatedAt),
		toMillis(c.A.Originate), toMillis(c.A.Ring), toMillis(c.A.Start), toMillis(c.A.End),
		toMillis(c.B.Originate), toMillis(c.B.Ring), toMillis(c.B.Start), toMillis(c.B.End),
		int64(c.Duration), c.Node, toMillis(c.LeaseTill), int64(1),
	}
	limited := guard != nil && (guard.Limits.PerMinute > 0 || guard.Limits.PerHour > 0 || guard.Limits.PerDay > 0)
	if !limited {
		// Without flow control the insert alone decides (one statement; on
		// PostgreSQL its own transaction): the primary key refuses an ID
		// that exists in any account (0 rows: ErrConflict), the foreign
		// key an account that does not exist.
		err := s.db.Write(ctx, func(ctx context.Context, q Querier) error {
			return s.insertCall(ctx, q, c, args)
		})
		if err != nil {
			return s.errorf("create call %s: %w", c.ID, err)
		}
		c.Version = 1
		return nil
	}
	err := s.db.Tx(ctx, func(ctx context.Context, q Querier) error {
		if err := requireAccount(ctx, q, c.AccountUID); err != nil {
			return err
		}
		if s.d.FlowLock != "" {
			// Before the duplicate check, so that the check sees a
			// resubmission that holds the lock right now once it commits.
			if _, err := q.Exec(ctx, s.d.FlowLock, c.AccountUID, c.Callee); err != nil {
				return fmt.Errorf("flow control lock: %w", err)
			}
		}
		// The duplicate check comes before flow control so that a client
		// resubmitting an accepted call learns that it exists rather than
		// being told it is over the limit (which that very call caused).
		dup, err := exists(ctx, q, sqlCallExists, c.ID)
		if err != nil {
			return err
		}
		if dup {
			return dialtone.ErrConflict
		}
		if err := checkFlow(ctx, q, c, guard); err != nil {
			return err
		}
		// The primary key stays the final arbiter, should another node or
		// process insert the ID between the check and here.
		return s.insertCall(ctx, q, c, args)
	})
	if err != nil {
		return s.errorf("create call %s: %w", c.ID, err)
	}
	c.Version = 1
	return nil
}

// insertCall inserts c (args are its columns): the primary key refuses an
// ID that exists in any account (0 rows: ErrConflict), the foreign key an
// account that does not exist (ErrNotFound).
func (s *Store) insertCall(ctx context.Context, q Querier, c *dialtone.Call, args []any) error {
	n, err := q.Exec(ctx, sqlInsertCall, args...)
	if s.d.IsForeignKey(err) {
		return fmt.Errorf("account %s: %w", c.AccountUID, dialtone.ErrNotFound)
	}
	if err != nil {
		return err
	}
	if n == 0 {
		return dialtone.ErrConflict
	}
	return nil
}

// checkFlow counts the account's calls to c.Callee in the three windows
// ending at guard.Now. Windows are half-open on the left: a call made
// exactly one minute before Now no longer counts against the minute. On
// PostgreSQL at READ COMMITTED this statement takes a new snapshot, after
// the flow lock was granted, so it sees every call committed under it.
func checkFlow(ctx context.Context, q Querier, c *dialtone.Call, guard *dialtone.FlowGuard) error {
	l := guard.Limits
	now := guard.Now.UnixMilli()
	var minute, hour, day int64
	err := q.QueryRow(ctx, sqlFlowCount,
		now-time.Minute.Milliseconds(), now-time.Hour.Milliseconds(),
		c.AccountUID, c.Callee, now-24*time.Hour.Milliseconds(), now).Scan(&minute, &hour, &day)
	if err != nil {
		return fmt.Errorf("flow control: %w", err)
	}
	for _, w := range []struct {
		name  string
		limit int
		count int64
	}{{"minute", l.PerMinute, minute}, {"hour", l.PerHour, hour}, {"day", l.PerDay, day}} {
		if w.limit > 0 && w.count >= int64(w.limit) {
			return &dialtone.FlowLimitError{Window: w.name, Limit: w.limit}
		}
	}
	return nil
}

// UpdateCall writes ch.Call if its Version is the stored one, appends
// ch.Events and queues ch.Receipts, all in one transaction, then increments
// ch.Call.Version. A stale version is dialtone.ErrConflict, a call that is
// not the account's dialtone.ErrNotFound; an event Seq or receipt ID that
// already exists is dialtone.ErrConflict too. On any error nothing of the
// change is written.
//
// The version check is optimistic: the UPDATE's WHERE names the version the
// caller read. On PostgreSQL a concurrent change of the same call makes
// this UPDATE wait for it and then re-check the WHERE on the new row, which
// no longer matches, so of two racing changes exactly one wins, on any
// node; SQLite's writer runs them one after the other.
func (s *Store) UpdateCall(ctx context.Context, ch *dialtone.CallChange) error {
	if ch == nil || ch.Call == nil {
		return s.errorf("update call: nil change")
	}
	c := ch.Call
	rows, err := changeRows(ch)
	if err != nil {
		return s.errorf("update call %s: %w", c.ID, err)
	}
	args := []any{
		string(c.State), c.StatusCode, c.SmartStatusCode, c.StatusMsg, c.HangupDirection, c.DTMF, c.Reason,
		toMillis(c.A.Originate), toMillis(c.A.Ring), toMillis(c.A.Start), toMillis(c.A.End),
		toMillis(c.B.Originate), toMillis(c.B.Ring), toMillis(c.B.Start), toMillis(c.B.End),
		int64(c.Duration), c.Node, toMillis(c.LeaseTill),
		c.ID, c.AccountUID, c.Version,
	}
	nEvents := len(ch.Events)
	change := func(ctx context.Context, q Querier) error {
		ok, err := s.writeChange(ctx, q, args, rows, nEvents)
		if err != nil || ok {
			return err
		}
		// Only on this failure path: tell a stale version from a call
		// that is not the account's.
		ok, err = exists(ctx, q, sqlCallOfAccount, c.ID, c.AccountUID)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("call of account %s: %w", c.AccountUID, dialtone.ErrNotFound)
		}
		return fmt.Errorf("version %d is not current: %w", c.Version, dialtone.ErrConflict)
	}
	if s.d.WritableCTE {
		// One statement: its own transaction (callwrites.go). The
		// existence check of the failure path needs none: calls are
		// never deleted.
		err = s.db.Write(ctx, change)
	} else {
		err = s.db.Tx(ctx, change)
	}
	if err != nil {
		return s.errorf("update call %s: %w", c.ID, err)
	}
	c.Version++
	return nil
}

// changeRows validates the events and receipts of ch and turns them into
// statements before the transaction starts, so that the work done while
// holding the write lock is only SQL: the events first, then the receipts.
func changeRows(ch *dialtone.CallChange) ([]Stmt, error) {
	c := ch.Call
	var out []Stmt
	for _, ev := range ch.Events {
		if ev.CallID != "" && ev.CallID != c.ID {
			return nil, fmt.Errorf("event %d is for call %s", ev.Seq, ev.CallID)
		}
		if ev.Seq < 1 {
			return nil, fmt.Errorf("event seq %d: must be 1 or more", ev.Seq)
		}
		detail, err := encodeMap(ev.Detail)
		if err != nil {
			return nil, fmt.Errorf("event %d detail: %w", ev.Seq, err)
		}
		out = append(out, Stmt{"", []any{c.ID, int64(ev.Seq), toMillis(ev.At), ev.Type, ev.Leg, ev.StatusCode, detail}})
	}
	for _, r := range ch.Receipts {
		if r.ID == "" {
			return nil, errors.New("receipt without ID")
		}
		// A receipt names its account and call itself, but it must never be
		// queued for another tenant through this call's change.
		if r.AccountUID != "" && r.AccountUID != c.AccountUID {
			return nil, fmt.Errorf("receipt %s is for account %s", r.ID, r.AccountUID)
		}
		if r.CallID != "" && r.CallID != c.ID {
			return nil, fmt.Errorf("receipt %s is for call %s", r.ID, r.CallID)
		}
		created := toMillis(r.CreatedAt)
		out = append(out, Stmt{"", []any{r.ID, c.AccountUID, c.ID, r.MessageType, string(r.Body), created, created}})
	}
	return out, nil
}

// GetCall returns dialtone.ErrNotFound unless the call exists in that account.
func (s *Store) GetCall(ctx context.Context, accountUID, id string) (*dialtone.Call, error) {
	return getRow(ctx, s, "call "+id+" of account "+accountUID, scanCall, sqlGetCall, accountUID, id)
}

// ListCallEvents returns the call's events in Seq order, or
// dialtone.ErrNotFound unless the call is the account's. The account check
// is a join, so one query answers both and no other tenant's events leak.
func (s *Store) ListCallEvents(ctx context.Context, accountUID, callID string) ([]dialtone.CallEvent, error) {
	// The LEFT JOIN yields one row of NULLs for a call without events, which
	// tells "no events" from "no such call".
	rows, err := s.db.Reader().Query(ctx, sqlCallEvents, accountUID, callID)
	if err != nil {
		return nil, s.errorf("events of call %s: %w", callID, err)
	}
	defer rows.Close()
	found := false
	out := []dialtone.CallEvent{}
	for rows.Next() {
		found = true
		var (
			seq, at                    sql.NullInt64
			typ, leg, code, detailText sql.NullString
		)
		if err := rows.Scan(&seq, &at, &typ, &leg, &code, &detailText); err != nil {
			return nil, s.errorf("events of call %s: %w", callID, err)
		}
		if !seq.Valid {
			continue
		}
		detail, err := decodeMap[string]("detail", detailText)
		if err != nil {
			return nil, s.errorf("events of call %s: %w", callID, err)
		}
		out = append(out, dialtone.CallEvent{
			CallID: callID, Seq: int(seq.Int64), At: fromMillis(at.Int64),
			Type: typ.String, Leg: leg.String, StatusCode: code.String, Detail: detail,
		})
	}
	if err := rows.Err(); err != nil {
		return nil, s.errorf("events of call %s: %w", callID, err)
	}
	if !found {
		return nil, s.errorf("call %s of account %s: %w", callID, accountUID, dialtone.ErrNotFound)
	}
	return out, nil
}

// ListCalls returns the account's calls matching f, newest first.
func (s *Store) ListCalls(ctx context.Context, f dialtone.CallFilter) ([]dialtone.Call, error) {
	var (
		where []string
		args  []any
	)
	// arg adds a parameter and returns its placeholder.
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	where = append(where, "account_uid = "+arg(f.AccountUID))
	if !f.From.IsZero() {
		where = append(where, "created_at >= "+arg(f.From.UnixMilli()))
	}
	if !f.To.IsZero() {
		where = append(where, "created_at < "+arg(f.To.UnixMilli()))
	}
	// Number and OutID match a part of the value (containsPattern).
	like := func(pattern string) string { return " LIKE lower(CAST(" + pattern + ` AS TEXT)) ESCAPE '\'` }
	if f.Number != "" {
		n := like(arg(containsPattern(f.Number)))
		where = append(where, "(lower(caller)"+n+" OR lower(callee)"+n+" OR lower(caller_show_number)"+n+" OR lower(callee_show_number)"+n+")")
	}
	if f.StatusCode != "" {
		where = append(where, "status_code = "+arg(f.StatusCode))
	}
	if f.Kind != "" {
		where = append(where, "kind = "+arg(string(f.Kind)))
	}
	if f.OutID != "" {
		where = append(where, "lower(out_id)"+like(arg(containsPattern(f.OutID))))
	}
	if f.Before != "" {
		// Resolved separately (rather than as a subquery) so that an unknown
		// cursor is an error instead of a silently empty page.
		var created int64
		err := s.db.Reader().QueryRow(ctx, sqlCallCursor, f.AccountUID, f.Before).Scan(&created)
		if isNoRows(err) {
			return nil, s.errorf("list calls: cursor %s: %w", f.Before, dialtone.ErrNotFound)
		}
		if err != nil {
			return nil, s.errorf("list calls: cursor %s: %w", f.Before, err)
		}
		// Expanded instead of a row-value comparison; the first term lets
		// the index bound the scan.
		c := arg(created)
		where = append(where, "created_at <= "+c+" AND (created_at < "+c+" OR id"+s.d.Collate+" < "+arg(f.Before)+")")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = defaultCallLimit
	}
	limit = min(limit, maxCallLimit)
	q := `SELECT ` + callCols + ` FROM calls WHERE ` + strings.Join(where, " AND ") + s.q.listCallsOrder + arg(limit)
	return listRows(ctx, s, "calls", scanCall, q, args...)
}

// containsPattern is the LIKE pattern (escape character \) of the values
// that contain s: its own %, _ and \ are escaped, so they match only
// themselves. The query compares lower(column) with lower(pattern), so
// ASCII letters match in either case in both stores.
func containsPattern(s string) string {
	return "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s) + "%"
}

// ListUnfinishedCalls returns the calls of every account that are not
// ended, of node or of any node when node is "", oldest first. The literal
// state condition matches the calls_unfinished partial index.
func (s *Store) ListUnfinishedCalls(ctx context.Context, node string) ([]dialtone.Call, error) {
	q := `SELECT ` + callCols + ` FROM calls WHERE state <> 'ended'`
	var args []any
	if node != "" {
		q += ` AND node = $1`
		args = append(args, node)
	}
	return listRows(ctx, s, "unfinished calls", scanCall, q+s.q.unfinishedOrder, args...)
}

func scanCall(row Row) (*dialtone.Call, error) {
	s := callScans.Get().(*callScan)
	defer s.release()
	if err := row.Scan(s.dest...); err != nil {
		return nil, err
	}
	c := s.c
	c.Kind = dialtone.CallKind(s.kind)
	c.State = dialtone.CallState(s.state)
	if s.params.Valid {
		c.Params = []byte(s.params.String)
	}
	c.CreatedAt = fromMillis(s.created)
	c.A = legTimes(s.a)
	c.B = legTimes(s.b)
	c.Duration = int(s.dur)
	c.LeaseTill = fromMillis(s.lease)
	return &c, nil
}

// callScan holds the scan targets of one calls row. Scan takes them as
// pointers in a []any, so each would be its own allocation on every read
// (ten for a call, found or not); they are reused instead.
type callScan struct {
	c                   dialtone.Call
	kind, state         string
	params              sql.NullString
	created, lease, dur int64
	a, b                [4]int64
	dest                []any // pointers into the fields above, in callCols order
}

var callScans = sync.Pool{New: func() any {
	s := &callScan{}
	c := &s.c
	s.dest = []any{&c.ID, &c.AccountUID, &s.kind, &c.ProdID, &c.Caller, &c.Callee, &c.CallerShowNumber, &c.CalleeShowNumber, &c.OutID, &s.params,
		&s.state, &c.StatusCode, &c.SmartStatusCode, &c.StatusMsg, &c.HangupDirection, &c.DTMF, &c.Reason,
		&s.created, &s.a[0], &s.a[1], &s.a[2], &s.a[3], &s.b[0], &s.b[1], &s.b[2], &s.b[3], &s.dur,
		&c.Node, &s.lease, &c.Version}
	return s
}}

// release clears what the row left, so that no call's data outlives its
// read in the pool, and returns s to it.
func (s *callScan) release() {
	s.c = dialtone.Call{}
	s.kind, s.state, s.params = "", "", sql.NullString{}
	callScans.Put(s)
}

func legTimes(ms [4]int64) dialtone.LegTimes {
	return dialtone.LegTimes{
		Originate: fromMillis(ms[0]),
		Ring:      fromMillis(ms[1]),
		Start:     fromMillis(ms[2]),
		End:       fromMillis(ms[3]),
	}
}

// sortCalls orders calls oldest first (CreatedAt, then ID), as callers
// dial them.
func sortCalls(out []dialtone.Call) {
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.Before(out[j].CreatedAt)
		}
		return out[i].ID < out[j].ID
	})
}

// IndexedQuery is a query that must use an index of the shared schema:
// flow control runs in the write transaction of every CreateCall, every
// node's claimer looks for queued calls every second, and
// ListUnfinishedCalls at start-up would otherwise scan every call ever
// made. Engines check their plans in their tests.
type IndexedQuery struct {
	Query string
	Args  []any
	Index string
}

// IndexedQueries are the store's queries, as it runs them, that must use
// an index.
func (s *Store) IndexedQueries() []IndexedQuery {
	return []IndexedQuery{
		{sqlFlowCount, []any{1, 2, "1", "139", 3, 4}, "calls_account_callee_created"},
		{`SELECT ` + callCols + ` FROM calls WHERE state <> 'ended' AND node = $1` + s.q.unfinishedOrder, []any{"n1"}, "calls_unfinished"},
		{`SELECT ` + callCols + ` FROM calls WHERE account_uid = $1` + s.q.listCallsOrder + `$2`, []any{"1", 10}, "calls_account_created"},
		{s.q.claimCalls, []any{"n1", 2, 1, 64}, "calls_queued"},
	}
}
