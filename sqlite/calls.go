package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dialtone-voice/dialtone"
)

const callCols = `id, account_uid, kind, prod_id, caller, callee, caller_show_number, callee_show_number, out_id, params,
    state, status_code, smart_status_code, status_msg, hangup_direction, dtmf, reason,
    created_at, a_originate_at, a_ring_at, a_start_at, a_end_at, b_originate_at, b_ring_at, b_start_at, b_end_at, duration,
    node, lease_till, version`

// The statements of the hot write paths, prepared once (see prepareHot).
const (
	sqlCallExists = `SELECT COUNT(*) FROM calls WHERE id = ?`
	// DO NOTHING turns a duplicate into "0 rows" instead of a driver-specific
	// constraint error, portably.
	sqlInsertCall = `INSERT INTO calls (` + callCols + `)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO NOTHING`
	sqlFlowCount = `
SELECT
    SUM(CASE WHEN created_at > ? THEN 1 ELSE 0 END),
    SUM(CASE WHEN created_at > ? THEN 1 ELSE 0 END),
    COUNT(*)
FROM calls
WHERE account_uid = ? AND callee = ? AND created_at > ? AND created_at <= ?`
	sqlUpdateCall = `
UPDATE calls SET
    kind = ?, prod_id = ?, caller = ?, callee = ?, caller_show_number = ?, callee_show_number = ?, out_id = ?, params = ?,
    state = ?, status_code = ?, smart_status_code = ?, status_msg = ?, hangup_direction = ?, dtmf = ?, reason = ?,
    a_originate_at = ?, a_ring_at = ?, a_start_at = ?, a_end_at = ?,
    b_originate_at = ?, b_ring_at = ?, b_start_at = ?, b_end_at = ?,
    duration = ?, node = ?, lease_till = ?,
    version = version + 1
WHERE id = ? AND account_uid = ? AND version = ?`
	// DO NOTHING makes a duplicate Seq or receipt ID a portable "0 rows"
	// that becomes ErrConflict.
	sqlInsertEvent = `
INSERT INTO call_events (call_id, seq, at, type, leg, status_code, detail) VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (call_id, seq) DO NOTHING`
	sqlInsertReceipt = `
INSERT INTO receipts (id, account_uid, call_id, message_type, body, created_at, available_at, attempts)
VALUES (?, ?, ?, ?, ?, ?, ?, 0)
ON CONFLICT (id) DO NOTHING`
)

// Defaults of CallFilter.Limit.
const (
	defaultCallLimit = 100
	maxCallLimit     = 1000
)

// CreateCall inserts a new call with Version 1 and sets c.Version to 1. It
// returns dialtone.ErrConflict when the ID exists (in any account),
// dialtone.ErrNotFound when the account does not exist and
// *dialtone.FlowLimitError when guard refuses the call. The checks and the
// insert run in one write transaction, so no other write can slip between
// the flow-control count and the insert.
func (s *Store) CreateCall(ctx context.Context, c *dialtone.Call, guard *dialtone.FlowGuard) error {
	if c == nil {
		return errors.New("sqlite: create call: nil call")
	}
	var params any
	if c.Params != nil {
		params = string(c.Params)
	}
	args := []any{
		c.ID, c.AccountUID, string(c.Kind), c.ProdID, c.Caller, c.Callee, c.CallerShowNumber, c.CalleeShowNumber, c.OutID, params,
		string(c.State), c.StatusCode, c.SmartStatusCode, c.StatusMsg, c.HangupDirection, c.DTMF, c.Reason,
		toMillis(c.CreatedAt),
		toMillis(c.A.Originate), toMillis(c.A.Ring), toMillis(c.A.Start), toMillis(c.A.End),
		toMillis(c.B.Originate), toMillis(c.B.Ring), toMillis(c.B.Start), toMillis(c.B.End),
		int64(c.Duration), c.Node, toMillis(c.LeaseTill), int64(1),
	}
	err := s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		ok, err := s.accountExists(ctx, tx, c.AccountUID)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("account %s: %w", c.AccountUID, dialtone.ErrNotFound)
		}
		// The duplicate check comes before flow control so that a client
		// resubmitting an accepted call learns that it exists rather than
		// being told it is over the limit (which that very call caused).
		var n int
		if err := s.txQueryRow(ctx, tx, sqlCallExists, c.ID).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return dialtone.ErrConflict
		}
		if guard != nil {
			if err := s.checkFlow(ctx, tx, c, guard); err != nil {
				return err
			}
		}
		// The primary key stays the final arbiter, should another process
		// insert the ID between the check and here.
		res, err := s.txExec(ctx, tx, sqlInsertCall, args...)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return dialtone.ErrConflict
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: create call %s: %w", c.ID, err)
	}
	c.Version = 1
	return nil
}

// checkFlow counts, in one pass over the (account, callee, created_at) index,
// the account's calls to c.Callee in the three windows ending at guard.Now.
// Windows are half-open on the left: a call made exactly one minute before
// Now no longer counts against the minute.
func (s *Store) checkFlow(ctx context.Context, tx *sql.Tx, c *dialtone.Call, guard *dialtone.FlowGuard) error {
	l := guard.Limits
	if l.PerMinute <= 0 && l.PerHour <= 0 && l.PerDay <= 0 {
		return nil
	}
	now := guard.Now.UnixMilli()
	var minute, hour, day sql.NullInt64
	err := s.txQueryRow(ctx, tx, sqlFlowCount,
		now-time.Minute.Milliseconds(), now-time.Hour.Milliseconds(),
		c.AccountUID, c.Callee, now-24*time.Hour.Milliseconds(), now).Scan(&minute, &hour, &day)
	if err != nil {
		return fmt.Errorf("flow control: %w", err)
	}
	for _, w := range []struct {
		name  string
		limit int
		count int64
	}{{"minute", l.PerMinute, minute.Int64}, {"hour", l.PerHour, hour.Int64}, {"day", l.PerDay, day.Int64}} {
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
func (s *Store) UpdateCall(ctx context.Context, ch *dialtone.CallChange) error {
	if ch == nil || ch.Call == nil {
		return errors.New("sqlite: update call: nil change")
	}
	c := ch.Call
	events, receipts, err := changeRows(ch)
	if err != nil {
		return fmt.Errorf("sqlite: update call %s: %w", c.ID, err)
	}
	var params any
	if c.Params != nil {
		params = string(c.Params)
	}
	args := []any{
		string(c.Kind), c.ProdID, c.Caller, c.Callee, c.CallerShowNumber, c.CalleeShowNumber, c.OutID, params,
		string(c.State), c.StatusCode, c.SmartStatusCode, c.StatusMsg, c.HangupDirection, c.DTMF, c.Reason,
		toMillis(c.A.Originate), toMillis(c.A.Ring), toMillis(c.A.Start), toMillis(c.A.End),
		toMillis(c.B.Originate), toMillis(c.B.Ring), toMillis(c.B.Start), toMillis(c.B.End),
		int64(c.Duration), c.Node, toMillis(c.LeaseTill),
		c.ID, c.AccountUID, c.Version,
	}
	err = s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := s.txExec(ctx, tx, sqlUpdateCall, args...)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			// Only on this failure path: tell a stale version from a call
			// that is not the account's.
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM calls WHERE id = ? AND account_uid = ?`,
				c.ID, c.AccountUID).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				return fmt.Errorf("call of account %s: %w", c.AccountUID, dialtone.ErrNotFound)
			}
			return fmt.Errorf("version %d is not current: %w", c.Version, dialtone.ErrConflict)
		}
		for _, ev := range events {
			res, err := s.txExec(ctx, tx, sqlInsertEvent, ev...)
			if err != nil {
				return fmt.Errorf("event %v: %w", ev[1], err)
			}
			if n, err := res.RowsAffected(); err != nil {
				return err
			} else if n == 0 {
				return fmt.Errorf("event seq %v exists: %w", ev[1], dialtone.ErrConflict)
			}
		}
		for _, r := range receipts {
			res, err := s.txExec(ctx, tx, sqlInsertReceipt, r...)
			if err != nil {
				return fmt.Errorf("receipt %v: %w", r[0], err)
			}
			if n, err := res.RowsAffected(); err != nil {
				return err
			} else if n == 0 {
				return fmt.Errorf("receipt %v exists: %w", r[0], dialtone.ErrConflict)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: update call %s: %w", c.ID, err)
	}
	c.Version++
	return nil
}

// changeRows validates the events and receipts of ch and turns them into
// statement arguments before the transaction starts, so that the work done
// while holding the write lock is only SQL.
func changeRows(ch *dialtone.CallChange) (events, receipts [][]any, err error) {
	c := ch.Call
	for _, ev := range ch.Events {
		if ev.CallID != "" && ev.CallID != c.ID {
			return nil, nil, fmt.Errorf("event %d is for call %s", ev.Seq, ev.CallID)
		}
		if ev.Seq < 1 {
			return nil, nil, fmt.Errorf("event seq %d: must be 1 or more", ev.Seq)
		}
		detail, err := encodeMap(ev.Detail)
		if err != nil {
			return nil, nil, fmt.Errorf("event %d detail: %w", ev.Seq, err)
		}
		events = append(events, []any{c.ID, int64(ev.Seq), toMillis(ev.At), ev.Type, ev.Leg, ev.StatusCode, detail})
	}
	for _, r := range ch.Receipts {
		if r.ID == "" {
			return nil, nil, errors.New("receipt without ID")
		}
		// A receipt names its account and call itself, but it must never be
		// queued for another tenant through this call's change.
		if r.AccountUID != "" && r.AccountUID != c.AccountUID {
			return nil, nil, fmt.Errorf("receipt %s is for account %s", r.ID, r.AccountUID)
		}
		if r.CallID != "" && r.CallID != c.ID {
			return nil, nil, fmt.Errorf("receipt %s is for call %s", r.ID, r.CallID)
		}
		created := toMillis(r.CreatedAt)
		receipts = append(receipts, []any{r.ID, c.AccountUID, c.ID, r.MessageType, string(r.Body), created, created})
	}
	return events, receipts, nil
}

// GetCall returns dialtone.ErrNotFound unless the call exists in that account.
func (s *Store) GetCall(ctx context.Context, accountUID, id string) (*dialtone.Call, error) {
	row := s.read.QueryRowContext(ctx, `SELECT `+callCols+` FROM calls WHERE account_uid = ? AND id = ?`, accountUID, id)
	c, err := scanCall(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlite: call %s of account %s: %w", id, accountUID, dialtone.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: call %s: %w", id, err)
	}
	return c, nil
}

// ListCallEvents returns the call's events in Seq order, or
// dialtone.ErrNotFound unless the call is the account's. The account check
// is a join, so one query answers both and no other tenant's events leak.
func (s *Store) ListCallEvents(ctx context.Context, accountUID, callID string) ([]dialtone.CallEvent, error) {
	// The LEFT JOIN yields one row of NULLs for a call without events, which
	// tells "no events" from "no such call".
	rows, err := s.read.QueryContext(ctx, `
SELECT e.seq, e.at, e.type, e.leg, e.status_code, e.detail
FROM calls c LEFT JOIN call_events e ON e.call_id = c.id
WHERE c.account_uid = ? AND c.id = ?
ORDER BY e.seq`, accountUID, callID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: events of call %s: %w", callID, err)
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
			return nil, fmt.Errorf("sqlite: events of call %s: %w", callID, err)
		}
		if !seq.Valid {
			continue
		}
		detail, err := decodeMap[string]("detail", detailText)
		if err != nil {
			return nil, fmt.Errorf("sqlite: events of call %s: %w", callID, err)
		}
		out = append(out, dialtone.CallEvent{
			CallID: callID, Seq: int(seq.Int64), At: fromMillis(at.Int64),
			Type: typ.String, Leg: leg.String, StatusCode: code.String, Detail: detail,
		})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: events of call %s: %w", callID, err)
	}
	if !found {
		return nil, fmt.Errorf("sqlite: call %s of account %s: %w", callID, accountUID, dialtone.ErrNotFound)
	}
	return out, nil
}

// ListCalls returns the account's calls matching f, newest first.
func (s *Store) ListCalls(ctx context.Context, f dialtone.CallFilter) ([]dialtone.Call, error) {
	where := []string{"account_uid = ?"}
	args := []any{f.AccountUID}
	if !f.From.IsZero() {
		where = append(where, "created_at >= ?")
		args = append(args, f.From.UnixMilli())
	}
	if !f.To.IsZero() {
		where = append(where, "created_at < ?")
		args = append(args, f.To.UnixMilli())
	}
	// Number and OutID match a part of the value (containsPattern).
	const like = ` LIKE lower(CAST(? AS TEXT)) ESCAPE '\'`
	if f.Number != "" {
		n := containsPattern(f.Number)
		where = append(where, "(lower(caller)"+like+" OR lower(callee)"+like+
			" OR lower(caller_show_number)"+like+" OR lower(callee_show_number)"+like+")")
		args = append(args, n, n, n, n)
	}
	if f.StatusCode != "" {
		where = append(where, "status_code = ?")
		args = append(args, f.StatusCode)
	}
	if f.Kind != "" {
		where = append(where, "kind = ?")
		args = append(args, string(f.Kind))
	}
	if f.OutID != "" {
		where = append(where, "lower(out_id)"+like)
		args = append(args, containsPattern(f.OutID))
	}
	if f.Before != "" {
		// Resolved separately (rather than as a subquery) so that an unknown
		// cursor is an error instead of a silently empty page.
		var created int64
		err := s.read.QueryRowContext(ctx, `SELECT created_at FROM calls WHERE account_uid = ? AND id = ?`,
			f.AccountUID, f.Before).Scan(&created)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("sqlite: list calls: cursor %s: %w", f.Before, dialtone.ErrNotFound)
		}
		if err != nil {
			return nil, fmt.Errorf("sqlite: list calls: cursor %s: %w", f.Before, err)
		}
		// Expanded instead of a row-value comparison, which older engines
		// lack; the first term lets the index bound the scan.
		where = append(where, "created_at <= ? AND (created_at < ? OR id < ?)")
		args = append(args, created, created, f.Before)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = defaultCallLimit
	}
	limit = min(limit, maxCallLimit)
	args = append(args, limit)
	return s.queryCalls(ctx, "list calls", `SELECT `+callCols+` FROM calls WHERE `+strings.Join(where, " AND ")+
		` ORDER BY created_at DESC, id DESC LIMIT ?`, args...)
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
		q += ` AND node = ?`
		args = append(args, node)
	}
	return s.queryCalls(ctx, "list unfinished calls", q+` ORDER BY created_at, id`, args...)
}

func (s *Store) queryCalls(ctx context.Context, what, q string, args ...any) ([]dialtone.Call, error) {
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %s: %w", what, err)
	}
	defer rows.Close()
	out := []dialtone.Call{}
	for rows.Next() {
		c, err := scanCall(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: %s: %w", what, err)
		}
		out = append(out, *c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: %s: %w", what, err)
	}
	return out, nil
}

func scanCall(sc scanner) (*dialtone.Call, error) {
	var (
		c                   dialtone.Call
		kind, state         string
		params              sql.NullString
		created, lease, dur int64
		a, b                [4]int64
	)
	err := sc.Scan(&c.ID, &c.AccountUID, &kind, &c.ProdID, &c.Caller, &c.Callee, &c.CallerShowNumber, &c.CalleeShowNumber, &c.OutID, &params,
		&state, &c.StatusCode, &c.SmartStatusCode, &c.StatusMsg, &c.HangupDirection, &c.DTMF, &c.Reason,
		&created, &a[0], &a[1], &a[2], &a[3], &b[0], &b[1], &b[2], &b[3], &dur,
		&c.Node, &lease, &c.Version)
	if err != nil {
		return nil, err
	}
	c.Kind = dialtone.CallKind(kind)
	c.State = dialtone.CallState(state)
	if params.Valid {
		c.Params = []byte(params.String)
	}
	c.CreatedAt = fromMillis(created)
	c.A = legTimes(a)
	c.B = legTimes(b)
	c.Duration = int(dur)
	c.LeaseTill = fromMillis(lease)
	return &c, nil
}

func legTimes(ms [4]int64) dialtone.LegTimes {
	return dialtone.LegTimes{
		Originate: fromMillis(ms[0]),
		Ring:      fromMillis(ms[1]),
		Start:     fromMillis(ms[2]),
		End:       fromMillis(ms[3]),
	}
}
