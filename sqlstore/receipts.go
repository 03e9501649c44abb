package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dialtone-voice/dialtone"
)

// Receipt delivery: subscriptions, outbox routing, queue messages and push
// deliveries (migration 0004). Several dispatchers, receivers and push
// workers (on several nodes, with PostgreSQL) work on the same rows; each
// claim below is a conditional statement or a selection under the
// dialect's row locks, in a transaction, so that no two of them take the
// same row.

// --- subscriptions ---

const (
	subscriptionCols = `account_uid, message_type, queue, push_url, push_secret_sealed,
    visibility_timeout_ms, retention_ms, created_at, updated_at,
    push_url_trusted, push_secret_previous_sealed, push_secret_previous_until`
	sqlPutSubscription = `
INSERT INTO subscriptions (` + subscriptionCols + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
ON CONFLICT (account_uid, message_type) DO UPDATE SET
    queue = excluded.queue,
    push_url = excluded.push_url,
    push_secret_sealed = excluded.push_secret_sealed,
    push_url_trusted = excluded.push_url_trusted,
    push_secret_previous_sealed = excluded.push_secret_previous_sealed,
    push_secret_previous_until = excluded.push_secret_previous_until,
    visibility_timeout_ms = excluded.visibility_timeout_ms,
    retention_ms = excluded.retention_ms,
    created_at = excluded.created_at,
    updated_at = excluded.updated_at`
	sqlGetSubscription    = `SELECT ` + subscriptionCols + ` FROM subscriptions WHERE account_uid = $1 AND message_type = $2`
	sqlListSubscriptions  = `SELECT ` + subscriptionCols + ` FROM subscriptions WHERE account_uid = $1 ORDER BY message_type{C}`
	sqlDeleteSubscription = `DELETE FROM subscriptions WHERE account_uid = $1 AND message_type = $2`
)

// PutSubscription creates or replaces the account's subscription to
// s.MessageType; dialtone.ErrNotFound when the account does not exist.
func (s *Store) PutSubscription(ctx context.Context, sub *dialtone.Subscription) error {
	if sub == nil || !dialtone.ValidMessageType(sub.MessageType) {
		return s.errorf("put subscription: no valid message type")
	}
	sealed, err := s.sealOptional(sub.PushSecret)
	if err != nil {
		return s.errorf("put subscription %s: %w", sub.MessageType, err)
	}
	prevSealed, err := s.sealOptional(sub.PushSecretPrevious)
	if err != nil {
		return s.errorf("put subscription %s: %w", sub.MessageType, err)
	}
	return s.putScoped(ctx, "subscription "+sub.MessageType, sub.AccountUID, sqlPutSubscription,
		sub.AccountUID, sub.MessageType, boolInt(sub.Queue), sub.PushURL, sealed,
		sub.VisibilityTimeout.Milliseconds(), sub.Retention.Milliseconds(),
		toMillis(sub.CreatedAt), toMillis(sub.UpdatedAt),
		boolInt(sub.PushURLTrusted), prevSealed, toMillis(sub.PushSecretPreviousUntil))
}

// GetSubscription returns dialtone.ErrNotFound unless the account has one.
func (s *Store) GetSubscription(ctx context.Context, accountUID, messageType string) (*dialtone.Subscription, error) {
	return getRow(ctx, s, "subscription "+messageType+" of account "+accountUID, s.scanSubscription,
		sqlGetSubscription, accountUID, messageType)
}

// ListSubscriptions returns the account's subscriptions ordered by type.
func (s *Store) ListSubscriptions(ctx context.Context, accountUID string) ([]dialtone.Subscription, error) {
	return listRows(ctx, s, "subscriptions of "+accountUID, s.scanSubscription, s.q.listSubscriptions, accountUID)
}

// DeleteSubscription returns dialtone.ErrNotFound unless the account has one.
func (s *Store) DeleteSubscription(ctx context.Context, accountUID, messageType string) error {
	return s.deleteScoped(ctx, "subscription "+messageType+" of account "+accountUID, accountUID,
		sqlDeleteSubscription, accountUID, messageType)
}

func (s *Store) scanSubscription(row Row) (*dialtone.Subscription, error) {
	var (
		sub                       dialtone.Subscription
		queue, trusted, prevUntil int64
		sealed, prevSealed        string
		visMS, retMS, created, up int64
	)
	if err := row.Scan(&sub.AccountUID, &sub.MessageType, &queue, &sub.PushURL, &sealed,
		&visMS, &retMS, &created, &up, &trusted, &prevSealed, &prevUntil); err != nil {
		return nil, err
	}
	var err error
	if sub.PushSecret, err = s.unsealOptional(sealed); err != nil {
		return nil, err
	}
	if sub.PushSecretPrevious, err = s.unsealOptional(prevSealed); err != nil {
		return nil, err
	}
	sub.PushSecretPreviousUntil = fromMillis(prevUntil)
	sub.PushURLTrusted = trusted != 0
	sub.Queue = queue != 0
	sub.VisibilityTimeout = time.Duration(visMS) * time.Millisecond
	sub.Retention = time.Duration(retMS) * time.Millisecond
	sub.CreatedAt = fromMillis(created)
	sub.UpdatedAt = fromMillis(up)
	return &sub, nil
}

// --- outbox routing ---

const (
	sqlListUnrouted = `
SELECT id, account_uid, call_id, message_type, body, created_at
FROM receipts WHERE routed_at = 0 ORDER BY created_at, id{C} LIMIT $1`
)

// ListUnroutedReceipts returns up to limit receipts not yet routed, oldest
// first. Another dispatcher may route some of them meanwhile; RouteReceipts
// then skips those.
func (s *Store) ListUnroutedReceipts(ctx context.Context, limit int) ([]dialtone.Receipt, error) {
	if limit <= 0 {
		limit = 100
	}
	return listRows(ctx, s, "unrouted receipts", scanReceipt, s.q.listUnrouted, limit)
}

func scanReceipt(row Row) (*dialtone.Receipt, error) {
	var (
		r       dialtone.Receipt
		body    string
		created int64
	)
	if err := row.Scan(&r.ID, &r.AccountUID, &r.CallID, &r.MessageType, &body, &created); err != nil {
		return nil, err
	}
	r.Body = []byte(body)
	r.CreatedAt = fromMillis(created)
	return &r, nil
}

// RouteReceipts claims each receipt and creates what its route says, all
// in one transaction. The receipts are claimed, and reported, in ID order:
// every dispatcher then locks rows in the same order, so two overlapping
// batches wait for each other instead of deadlocking.
func (s *Store) RouteReceipts(ctx context.Context, routes []dialtone.RouteReceipt, now time.Time) ([]string, error) {
	if len(routes) == 0 {
		return nil, nil
	}
	at := now.UnixMilli()
	if at == 0 {
		at = 1 // 0 means "not routed"
	}
	sorted := slices.Clone(routes)
	slices.SortFunc(sorted, func(a, b dialtone.RouteReceipt) int { return strings.Compare(a.ReceiptID, b.ReceiptID) })
	var routed []string
	err := s.db.Tx(ctx, func(ctx context.Context, q Querier) error {
		routed = routed[:0] // a re-run starts over
		// The receipts are claimed claimMax at a time, in one statement
		// that returns the ones this dispatcher took (routed_at still 0).
		claimed := map[string]bool{}
		for rest := sorted; len(rest) > 0; {
			k := min(len(rest), claimMax)
			args := make([]any, 0, k+1)
			args = append(args, at)
			for _, rt := range rest[:k] {
				args = append(args, rt.ReceiptID)
			}
			rows, err := q.Query(ctx, s.q.claimReceipts[k], args...)
			if err != nil {
				return fmt.Errorf("claim receipts: %w", err)
			}
			for rows.Next() {
				var id string
				if err := rows.Scan(&id); err != nil {
					rows.Close()
					return fmt.Errorf("claim receipts: %w", err)
				}
				claimed[id] = true
			}
			err = rows.Err()
			rows.Close()
			if err != nil {
				return fmt.Errorf("claim receipts: %w", err)
			}
			rest = rest[k:]
		}
		// What the claimed receipts route to, written claimMax rows to
		// a statement: a round trip per batch, not per receipt.
		var msgs, pushes []Stmt
		for _, rt := range sorted {
			if !claimed[rt.ReceiptID] {
				continue
			}
			if m := rt.Message; m != nil {
				msgs = append(msgs, Stmt{Args: messageArgs(m)})
			}
			if p := rt.Push; p != nil {
				pushes = append(pushes, Stmt{Args: pushArgs(p)})
			}
			routed = append(routed, rt.ReceiptID)
		}
		for _, st := range append(multiRow(messageInserts, msgs), multiRow(pushInserts, pushes)...) {
			if _, err := q.Exec(ctx, st.SQL, st.Args...); err != nil {
				return fmt.Errorf("queue messages and push deliveries: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, s.errorf("route receipts: %w", err)
	}
	return routed, nil
}

// claimMax bounds the receipts of one claim statement, and the rows of
// one insert of what they route to.
const claimMax = 16

// messageInserts[n] and pushInserts[n] insert n queue messages (their 13
// columns, messageArgs) and n push deliveries (9, pushArgs; one already
// there is left as it is).
var messageInserts, pushInserts = func() ([]string, []string) {
	msg, push := make([]string, claimMax+1), make([]string, claimMax+1)
	for n := 1; n <= claimMax; n++ {
		msg[n] = multiInsert("queue_messages", messageCols, n, 13, noTail)
		push[n] = multiInsert("push_deliveries", pushCols, n, 9, noTail) + ` ON CONFLICT (id) DO NOTHING`
	}
	return msg, push
}()

// claimStatements are the claims of 1..claimMax receipts (index n): $1 the
// time, $2.. their IDs; each marks routed the ones not routed yet and
// returns their IDs. On PostgreSQL the rows are locked in ID order and
// rows another dispatcher holds are skipped (it routes them, or, should
// it roll back, a later pass does), so two dispatchers never wait for
// each other in a cycle.
func claimStatements(r *strings.Replacer) []string {
	out := make([]string, claimMax+1)
	for n := 1; n <= claimMax; n++ {
		ids := make([]string, n)
		for i := range ids {
			ids[i] = "$" + strconv.Itoa(i+2)
		}
		out[n] = r.Replace(`UPDATE receipts SET routed_at = $1 WHERE id IN (
SELECT id FROM receipts WHERE routed_at = 0 AND id IN (` + strings.Join(ids, ", ") + `) ORDER BY id{C}{SKIP LOCKED})
RETURNING id`)
	}
	return out
}

// PurgeRoutedReceipts deletes receipts routed before before.
func (s *Store) PurgeRoutedReceipts(ctx context.Context, before time.Time) (int, error) {
	n, err := s.execCount(ctx, `DELETE FROM receipts WHERE routed_at <> 0 AND routed_at < $1`, before.UnixMilli())
	if err != nil {
		return 0, s.errorf("purge routed receipts: %w", err)
	}
	return n, nil
}

// --- queue messages ---

const (
	messageCols = `id, queue, account_uid, receipt_id, body, body_md5, priority,
    enqueued_at, next_visible_at, first_dequeued_at, dequeue_count, handle, expires_at`
	// Visible messages of a queue, in delivery order. Expired ones are
	// left to the purge job but never delivered.
	sqlVisible = `SELECT ` + messageCols + ` FROM queue_messages
WHERE queue = $1 AND next_visible_at <= $2 AND expires_at > $2
ORDER BY priority, enqueued_at, id{C} LIMIT $3`
	sqlReceiveMessage = `
UPDATE queue_messages SET
    handle = $1,
    dequeue_count = dequeue_count + 1,
    first_dequeued_at = CASE WHEN first_dequeued_at = 0 THEN $2 ELSE first_dequeued_at END,
    next_visible_at = $3
WHERE id = $4`
	// The condition under which a handle is valid: the message is in the
	// queue, the handle is its current one and it has not become visible
	// again.
	handleValid      = `id = $1 AND queue = $2 AND handle <> '' AND handle = $3 AND next_visible_at > $4`
	sqlDeleteMessage = `DELETE FROM queue_messages WHERE ` + handleValid
	sqlChangeVisible = `
UPDATE queue_messages SET handle = $5, next_visible_at = $6
WHERE ` + handleValid + `
RETURNING ` + messageCols
	sqlMessageHandle = `SELECT handle, next_visible_at FROM queue_messages WHERE id = $1 AND queue = $2`
	sqlQueueStats    = `
SELECT COALESCE(SUM(CASE WHEN next_visible_at <= $1 THEN 1 ELSE 0 END), 0),
       COALESCE(SUM(CASE WHEN next_visible_at > $1 THEN 1 ELSE 0 END), 0)
FROM queue_messages WHERE queue = $2 AND expires_at > $1`
)

func scanMessage(row Row) (*dialtone.QueueMessage, error) {
	var (
		m                                   dialtone.QueueMessage
		prio, enq, next, first, count, expi int64
	)
	if err := row.Scan(&m.ID, &m.Queue, &m.AccountUID, &m.ReceiptID, &m.Body, &m.BodyMD5, &prio,
		&enq, &next, &first, &count, &m.Handle, &expi); err != nil {
		return nil, err
	}
	m.Priority = int(prio)
	m.EnqueuedAt = fromMillis(enq)
	m.NextVisibleAt = fromMillis(next)
	m.FirstDequeueAt = fromMillis(first)
	m.DequeueCount = int(count)
	m.ExpiresAt = fromMillis(expi)
	return &m, nil
}

// ReceiveMessages takes up to n visible messages and hides them for
// visibility under the given handles, in one transaction. The selection
// locks its rows and skips rows another receiver has locked (PostgreSQL),
// so concurrent receivers on any node get disjoint messages without
// waiting for each other; a row that another receiver changed and
// committed is re-checked against the WHERE.
func (s *Store) ReceiveMessages(ctx context.Context, queue string, n int, now time.Time, visibility time.Duration, handles []string) ([]dialtone.QueueMessage, error) {
	if n <= 0 {
		return []dialtone.QueueMessage{}, nil
	}
	if len(handles) < n {
		return nil, s.errorf("receive from %s: %d handles for %d messages", queue, len(handles), n)
	}
	at := now.UnixMilli()
	next := now.Add(visibility).UnixMilli()
	var out []dialtone.QueueMessage
	err := s.db.Tx(ctx, func(ctx context.Context, q Querier) error {
		var err error
		out, err = collect(ctx, q, scanMessage, s.q.visibleLocked, queue, at, n)
		if err != nil || len(out) == 0 {
			return err
		}
		batch := make([]Stmt, len(out))
		for i := range out {
			m := &out[i]
			m.Handle = handles[i]
			m.DequeueCount++
			if m.FirstDequeueAt.IsZero() {
				m.FirstDequeueAt = fromMillis(at)
			}
			m.NextVisibleAt = fromMillis(next)
			batch[i] = Stmt{sqlReceiveMessage, []any{m.Handle, at, next, m.ID}}
		}
		return q.ExecBatch(ctx, batch, func(_ int, _ int64, err error) error { return err })
	})
	if err != nil {
		return nil, s.errorf("receive from %s: %w", queue, err)
	}
	return out, nil
}

// PeekMessages reads visible messages without changing them.
func (s *Store) PeekMessages(ctx context.Context, queue string, n int, now time.Time) ([]dialtone.QueueMessage, error) {
	return listRows(ctx, s, "messages of "+queue, scanMessage, s.q.visible, queue, now.UnixMilli(), n)
}

// whyInvalid tells, after a statement guarded by handleValid changed no row,
// which error applies: ErrNotFound when the message is gone or its handle
// expired, ErrStaleHandle when the handle is not its current one.
func whyInvalid(ctx context.Context, q Querier, queue string, ref dialtone.HandleRef, at int64) error {
	var (
		handle string
		next   int64
	)
	err := q.QueryRow(ctx, sqlMessageHandle, ref.MessageID, queue).Scan(&handle, &next)
	switch {
	case isNoRows(err):
		return dialtone.ErrNotFound
	case err != nil:
		return err
	case handle == "" || handle != ref.Handle:
		return dialtone.ErrStaleHandle
	case next <= at:
		// The message is visible again: whoever held this handle lost it.
		return dialtone.ErrNotFound
	}
	// Valid now but not when the statement ran: it changed in between,
	// so the caller's handle was not current at that moment.
	return dialtone.ErrStaleHandle
}

// DeleteMessages deletes the messages whose current handles are given. Each
// delete checks the handle in its own WHERE, so a concurrent receive or
// visibility change (which replaces the handle) makes it a no-op.
func (s *Store) DeleteMessages(ctx context.Context, queue string, refs []dialtone.HandleRef, now time.Time) ([]error, error) {
	at := now.UnixMilli()
	errs := make([]error, len(refs))
	err := s.db.Tx(ctx, func(ctx context.Context, q Querier) error {
		for i, ref := range refs {
			errs[i] = nil // a re-run starts over
			n, err := q.Exec(ctx, sqlDeleteMessage, ref.MessageID, queue, ref.Handle, at)
			if err != nil {
				return err
			}
			if n == 1 {
				continue
			}
			switch err := whyInvalid(ctx, q, queue, ref, at); {
			case errors.Is(err, dialtone.ErrNotFound), errors.Is(err, dialtone.ErrStaleHandle):
				errs[i] = err
			default:
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, s.errorf("delete messages of %s: %w", queue, err)
	}
	return errs, nil
}

// ChangeVisibility moves the message's next visible time and replaces its
// handle, if ref's handle is current.
func (s *Store) ChangeVisibility(ctx context.Context, queue string, ref dialtone.HandleRef, newHandle string, now time.Time, visibility time.Duration) (*dialtone.QueueMessage, error) {
	at := now.UnixMilli()
	next := now.Add(visibility).UnixMilli()
	var m *dialtone.QueueMessage
	err := s.db.Write(ctx, func(ctx context.Context, q Querier) error {
		var err error
		m, err = scanMessage(q.QueryRow(ctx, sqlChangeVisible, ref.MessageID, queue, ref.Handle, at, newHandle, next))
		if isNoRows(err) {
			err = whyInvalid(ctx, q, queue, ref, at)
		}
		return err
	})
	if err != nil {
		return nil, s.errorf("change visibility in %s: %w", queue, err)
	}
	return m, nil
}

// EnqueueMessage inserts m as given; dialtone.ErrNotFound for an unknown
// account, dialtone.ErrConflict for a duplicate ID.
func (s *Store) EnqueueMessage(ctx context.Context, m *dialtone.QueueMessage) error {
	if m == nil || m.ID == "" {
		return s.errorf("enqueue: no message ID")
	}
	err := s.db.Write(ctx, func(ctx context.Context, q Querier) error {
		if err := requireAccount(ctx, q, m.AccountUID); err != nil {
			return err
		}
		n, err := q.Exec(ctx, messageInserts[1]+` ON CONFLICT (id) DO NOTHING`, messageArgs(m)...)
		switch {
		case s.d.IsForeignKey(err):
			return fmt.Errorf("account %s: %w", m.AccountUID, dialtone.ErrNotFound)
		case err != nil:
			return err
		case n == 0:
			return fmt.Errorf("message %s exists: %w", m.ID, dialtone.ErrConflict)
		}
		return nil
	})
	if err != nil {
		return s.errorf("enqueue into %s: %w", m.Queue, err)
	}
	return nil
}

// QueueStats counts the live messages of queue.
func (s *Store) QueueStats(ctx context.Context, queue string, now time.Time) (dialtone.QueueStats, error) {
	var st dialtone.QueueStats
	var active, inactive int64
	if err := s.db.Reader().QueryRow(ctx, sqlQueueStats, now.UnixMilli(), queue).Scan(&active, &inactive); err != nil {
		return st, s.errorf("stats of %s: %w", queue, err)
	}
	st.Active, st.Inactive = int(active), int(inactive)
	return st, nil
}

// PurgeQueueMessages deletes messages whose retention ended.
func (s *Store) PurgeQueueMessages(ctx context.Context, now time.Time) (int, error) {
	n, err := s.execCount(ctx, `DELETE FROM queue_messages WHERE expires_at <= $1`, now.UnixMilli())
	if err != nil {
		return 0, s.errorf("purge queue messages: %w", err)
	}
	return n, nil
}

// --- push deliveries ---

const (
	pushCols   = `id, account_uid, message_type, body, created_at, due_at, attempts, last_error, dead`
	sqlDuePush = `SELECT ` + pushCols + ` FROM push_deliveries
WHERE dead = 0 AND due_at <= $1
ORDER BY due_at, created_at, id{C}
LIMIT $2{SKIP LOCKED}`
	sqlLeasePush    = `UPDATE push_deliveries SET due_at = $1 WHERE id = $2`
	sqlCompletePush = `DELETE FROM push_deliveries WHERE id = $1`
	sqlFailPush     = `
UPDATE push_deliveries SET attempts = attempts + 1, last_error = $1, due_at = $2, dead = $3 WHERE id = $4 AND dead = 0`
	sqlListDeadLetters = `SELECT ` + pushCols + ` FROM push_deliveries
WHERE account_uid = $1 AND dead = 1 ORDER BY created_at, id{C} LIMIT $2`
)

func scanPush(row Row) (*dialtone.PushDelivery, error) {
	var (
		p                            dialtone.PushDelivery
		body                         string
		created, due, attempts, dead int64
	)
	if err := row.Scan(&p.ID, &p.AccountUID, &p.MessageType, &body, &created, &due, &attempts, &p.LastError, &dead); err != nil {
		return nil, err
	}
	p.Body = []byte(body)
	p.CreatedAt = fromMillis(created)
	p.DueAt = fromMillis(due)
	p.Attempts = int(attempts)
	p.Dead = dead != 0
	return &p, nil
}

// ClaimPushDeliveries leases the due deliveries to the caller, in one
// transaction: the selection skips rows another worker is claiming
// (PostgreSQL), and the lease moves due_at past now, so the next claim (on
// any node) skips them too. The result is ordered by the due time the rows
// had when claimed.
func (s *Store) ClaimPushDeliveries(ctx context.Context, now, lease time.Time, limit int) ([]dialtone.PushDelivery, error) {
	if limit <= 0 {
		limit = 100
	}
	var out []dialtone.PushDelivery
	err := s.db.Tx(ctx, func(ctx context.Context, q Querier) error {
		var err error
		out, err = collect(ctx, q, scanPush, s.q.duePush, now.UnixMilli(), limit)
		if err != nil || len(out) == 0 {
			return err
		}
		batch := make([]Stmt, len(out))
		for i := range out {
			out[i].DueAt = lease
			batch[i] = Stmt{sqlLeasePush, []any{toMillis(lease), out[i].ID}}
		}
		return q.ExecBatch(ctx, batch, func(_ int, _ int64, err error) error { return err })
	})
	if err != nil {
		return nil, s.errorf("claim push deliveries: %w", err)
	}
	return out, nil
}

// CompletePushDeliveries deletes delivered ones.
func (s *Store) CompletePushDeliveries(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	batch := make([]Stmt, len(ids))
	for i, id := range ids {
		batch[i] = Stmt{sqlCompletePush, []any{id}}
	}
	err := s.db.Tx(ctx, func(ctx context.Context, q Querier) error {
		return q.ExecBatch(ctx, batch, func(_ int, _ int64, err error) error { return err })
	})
	if err != nil {
		return s.errorf("complete push deliveries: %w", err)
	}
	return nil
}

// FailPushDeliveries records failed attempts, in one transaction.
func (s *Store) FailPushDeliveries(ctx context.Context, fails []dialtone.PushFailure) error {
	if len(fails) == 0 {
		return nil
	}
	// Sorted so that concurrent calls lock rows in the same order.
	sorted := slices.Clone(fails)
	slices.SortFunc(sorted, func(a, b dialtone.PushFailure) int { return strings.Compare(a.ID, b.ID) })
	batch := make([]Stmt, len(sorted))
	for i, f := range sorted {
		batch[i] = Stmt{sqlFailPush, []any{f.Error, toMillis(f.Next), boolInt(f.Dead), f.ID}}
	}
	err := s.db.Tx(ctx, func(ctx context.Context, q Querier) error {
		return q.ExecBatch(ctx, batch, func(_ int, _ int64, err error) error { return err })
	})
	if err != nil {
		return s.errorf("fail push deliveries: %w", err)
	}
	return nil
}

// ListDeadLetters returns the account's dead letters, oldest first.
func (s *Store) ListDeadLetters(ctx context.Context, accountUID string, limit int) ([]dialtone.PushDelivery, error) {
	if limit <= 0 {
		limit = 100
	}
	return listRows(ctx, s, "dead letters of "+accountUID, scanPush, s.q.listDeadLetters, accountUID, limit)
}

// RedriveDeadLetters makes the account's dead letters due again.
func (s *Store) RedriveDeadLetters(ctx context.Context, accountUID string, now time.Time) (int, error) {
	n, err := s.execCount(ctx, `UPDATE push_deliveries SET dead = 0, attempts = 0, due_at = $1 WHERE account_uid = $2 AND dead = 1`,
		toMillis(now), accountUID)
	if err != nil {
		return 0, s.errorf("redrive dead letters of %s: %w", accountUID, err)
	}
	return n, nil
}
