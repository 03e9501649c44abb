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

// Receipt delivery: subscriptions, outbox routing, queue messages and push
// deliveries (migration 0004). Every write goes through inTx, so it takes
// part in group commit like the call changes it follows.

var _ dialtone.ReceiptStore = (*Store)(nil)

// --- subscriptions ---

const subscriptionCols = `account_uid, message_type, queue, push_url, push_secret_sealed,
    visibility_timeout_ms, retention_ms, created_at, updated_at`

// PutSubscription creates or replaces the account's subscription to
// s.MessageType; dialtone.ErrNotFound when the account does not exist.
func (s *Store) PutSubscription(ctx context.Context, sub *dialtone.Subscription) error {
	if sub == nil || !dialtone.ValidMessageType(sub.MessageType) {
		return errors.New("sqlite: put subscription: no valid message type")
	}
	sealed := ""
	if sub.PushSecret != "" {
		var err error
		if sealed, err = s.seal(sub.PushSecret); err != nil {
			return fmt.Errorf("sqlite: put subscription %s: %w", sub.MessageType, err)
		}
	}
	return s.putScoped(ctx, "subscription "+sub.MessageType, sub.AccountUID, `
INSERT INTO subscriptions (`+subscriptionCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (account_uid, message_type) DO UPDATE SET
    queue = excluded.queue,
    push_url = excluded.push_url,
    push_secret_sealed = excluded.push_secret_sealed,
    visibility_timeout_ms = excluded.visibility_timeout_ms,
    retention_ms = excluded.retention_ms,
    created_at = excluded.created_at,
    updated_at = excluded.updated_at`,
		sub.AccountUID, sub.MessageType, boolInt(sub.Queue), sub.PushURL, sealed,
		sub.VisibilityTimeout.Milliseconds(), sub.Retention.Milliseconds(),
		toMillis(sub.CreatedAt), toMillis(sub.UpdatedAt))
}

// GetSubscription returns dialtone.ErrNotFound unless the account has one.
func (s *Store) GetSubscription(ctx context.Context, accountUID, messageType string) (*dialtone.Subscription, error) {
	return getScoped(ctx, s.read, "subscription "+messageType+" of account "+accountUID, s.scanSubscription,
		`SELECT `+subscriptionCols+` FROM subscriptions WHERE account_uid = ? AND message_type = ?`, accountUID, messageType)
}

// ListSubscriptions returns the account's subscriptions ordered by type.
func (s *Store) ListSubscriptions(ctx context.Context, accountUID string) ([]dialtone.Subscription, error) {
	return listScoped(ctx, s.read, "subscriptions of "+accountUID, s.scanSubscription,
		`SELECT `+subscriptionCols+` FROM subscriptions WHERE account_uid = ? ORDER BY message_type`, accountUID)
}

// DeleteSubscription returns dialtone.ErrNotFound unless the account has one.
func (s *Store) DeleteSubscription(ctx context.Context, accountUID, messageType string) error {
	return s.deleteScoped(ctx, "subscription "+messageType+" of account "+accountUID,
		`DELETE FROM subscriptions WHERE account_uid = ? AND message_type = ?`, accountUID, messageType)
}

func (s *Store) scanSubscription(sc scanner) (*dialtone.Subscription, error) {
	var (
		sub                       dialtone.Subscription
		queue                     int64
		sealed                    string
		visMS, retMS, created, up int64
	)
	if err := sc.Scan(&sub.AccountUID, &sub.MessageType, &queue, &sub.PushURL, &sealed,
		&visMS, &retMS, &created, &up); err != nil {
		return nil, err
	}
	if sealed != "" {
		var err error
		if sub.PushSecret, err = s.unseal(sealed); err != nil {
			return nil, err
		}
	}
	sub.Queue = queue != 0
	sub.VisibilityTimeout = time.Duration(visMS) * time.Millisecond
	sub.Retention = time.Duration(retMS) * time.Millisecond
	sub.CreatedAt = fromMillis(created)
	sub.UpdatedAt = fromMillis(up)
	return &sub, nil
}

// --- outbox routing ---

// ListUnroutedReceipts returns up to limit receipts not yet routed, oldest
// first. It reads from the read pool: a receipt that another dispatcher
// routes meanwhile is skipped by RouteReceipts.
func (s *Store) ListUnroutedReceipts(ctx context.Context, limit int) ([]dialtone.Receipt, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.read.QueryContext(ctx, `
SELECT id, account_uid, call_id, message_type, body, created_at
FROM receipts WHERE routed_at = 0 ORDER BY created_at, id LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list unrouted receipts: %w", err)
	}
	defer rows.Close()
	out := []dialtone.Receipt{}
	for rows.Next() {
		var (
			r       dialtone.Receipt
			body    string
			created int64
		)
		if err := rows.Scan(&r.ID, &r.AccountUID, &r.CallID, &r.MessageType, &body, &created); err != nil {
			return nil, fmt.Errorf("sqlite: list unrouted receipts: %w", err)
		}
		r.Body = []byte(body)
		r.CreatedAt = fromMillis(created)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list unrouted receipts: %w", err)
	}
	return out, nil
}

const (
	// The claim: only the first transaction to set routed_at changes the
	// row, so two dispatchers never both route a receipt.
	sqlClaimReceipt  = `UPDATE receipts SET routed_at = ? WHERE id = ? AND routed_at = 0`
	sqlInsertMessage = `INSERT INTO queue_messages (id, queue, account_uid, receipt_id, body, body_md5, priority,
    enqueued_at, next_visible_at, first_dequeued_at, dequeue_count, handle, expires_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	sqlInsertPush = `INSERT INTO push_deliveries (id, account_uid, message_type, body, created_at, due_at, attempts, last_error, dead)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO NOTHING`
)

// RouteReceipts claims each receipt and creates what its route says, all
// in one transaction.
func (s *Store) RouteReceipts(ctx context.Context, routes []dialtone.RouteReceipt, now time.Time) ([]string, error) {
	if len(routes) == 0 {
		return nil, nil
	}
	at := now.UnixMilli()
	if at == 0 {
		at = 1 // 0 means "not routed"
	}
	var routed []string
	err := s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		routed = routed[:0] // a re-run starts over
		for _, rt := range routes {
			res, err := tx.ExecContext(ctx, sqlClaimReceipt, at, rt.ReceiptID)
			if err != nil {
				return fmt.Errorf("claim receipt %s: %w", rt.ReceiptID, err)
			}
			if n, err := res.RowsAffected(); err != nil {
				return err
			} else if n == 0 {
				continue
			}
			if m := rt.Message; m != nil {
				if _, err := tx.ExecContext(ctx, sqlInsertMessage, messageArgs(m)...); err != nil {
					return fmt.Errorf("queue message of receipt %s: %w", rt.ReceiptID, err)
				}
			}
			if p := rt.Push; p != nil {
				if _, err := tx.ExecContext(ctx, sqlInsertPush, pushArgs(p)...); err != nil {
					return fmt.Errorf("push delivery of receipt %s: %w", rt.ReceiptID, err)
				}
			}
			routed = append(routed, rt.ReceiptID)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: route receipts: %w", err)
	}
	return routed, nil
}

// PurgeRoutedReceipts deletes receipts routed before before.
func (s *Store) PurgeRoutedReceipts(ctx context.Context, before time.Time) (int, error) {
	n, err := s.execCount(ctx, `DELETE FROM receipts WHERE routed_at <> 0 AND routed_at < ?`, before.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("sqlite: purge routed receipts: %w", err)
	}
	return n, nil
}

// --- queue messages ---

const messageCols = `id, queue, account_uid, receipt_id, body, body_md5, priority,
    enqueued_at, next_visible_at, first_dequeued_at, dequeue_count, handle, expires_at`

func scanMessage(sc scanner) (*dialtone.QueueMessage, error) {
	var (
		m                                   dialtone.QueueMessage
		prio, enq, next, first, count, expi int64
	)
	if err := sc.Scan(&m.ID, &m.Queue, &m.AccountUID, &m.ReceiptID, &m.Body, &m.BodyMD5, &prio,
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

// Visible messages of a queue, in delivery order. Expired ones are left to
// the purge job but never delivered.
const sqlVisible = `SELECT ` + messageCols + ` FROM queue_messages
WHERE queue = ? AND next_visible_at <= ? AND expires_at > ?
ORDER BY priority, enqueued_at, id LIMIT ?`

// ReceiveMessages takes up to n visible messages and hides them for
// visibility under the given handles, in one write transaction so that
// two receivers never get the same message.
func (s *Store) ReceiveMessages(ctx context.Context, queue string, n int, now time.Time, visibility time.Duration, handles []string) ([]dialtone.QueueMessage, error) {
	if n <= 0 {
		return []dialtone.QueueMessage{}, nil
	}
	if len(handles) < n {
		return nil, fmt.Errorf("sqlite: receive from %s: %d handles for %d messages", queue, len(handles), n)
	}
	at := now.UnixMilli()
	next := now.Add(visibility).UnixMilli()
	var out []dialtone.QueueMessage
	err := s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		out = out[:0]
		rows, err := tx.QueryContext(ctx, sqlVisible, queue, at, at, n)
		if err != nil {
			return err
		}
		for rows.Next() {
			m, err := scanMessage(rows)
			if err != nil {
				rows.Close()
				return err
			}
			out = append(out, *m)
		}
		if err := rows.Close(); err != nil {
			return err
		}
		for i := range out {
			m := &out[i]
			m.Handle = handles[i]
			m.DequeueCount++
			if m.FirstDequeueAt.IsZero() {
				m.FirstDequeueAt = fromMillis(at)
			}
			m.NextVisibleAt = fromMillis(next)
			if _, err := tx.ExecContext(ctx, `
UPDATE queue_messages SET handle = ?, dequeue_count = ?, first_dequeued_at = ?, next_visible_at = ?
WHERE id = ?`, m.Handle, int64(m.DequeueCount), toMillis(m.FirstDequeueAt), next, m.ID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: receive from %s: %w", queue, err)
	}
	if out == nil {
		out = []dialtone.QueueMessage{}
	}
	return out, nil
}

// PeekMessages reads visible messages without changing them.
func (s *Store) PeekMessages(ctx context.Context, queue string, n int, now time.Time) ([]dialtone.QueueMessage, error) {
	at := now.UnixMilli()
	return listScoped(ctx, s.read, "messages of "+queue, scanMessage, sqlVisible, queue, at, at, n)
}

// checkHandle finds the message ref names in queue: ErrNotFound when it is
// gone or its handle expired at now, ErrStaleHandle when the handle is not
// its current one.
func checkHandle(ctx context.Context, tx *sql.Tx, queue string, ref dialtone.HandleRef, at int64) error {
	var handle string
	var next int64
	err := tx.QueryRowContext(ctx, `SELECT handle, next_visible_at FROM queue_messages WHERE id = ? AND queue = ?`,
		ref.MessageID, queue).Scan(&handle, &next)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return dialtone.ErrNotFound
	case err != nil:
		return err
	case handle == "" || handle != ref.Handle:
		return dialtone.ErrStaleHandle
	case next <= at:
		// The message is visible again: whoever held this handle lost it.
		return dialtone.ErrNotFound
	}
	return nil
}

// DeleteMessages deletes the messages whose current handles are given.
func (s *Store) DeleteMessages(ctx context.Context, queue string, refs []dialtone.HandleRef, now time.Time) ([]error, error) {
	at := now.UnixMilli()
	errs := make([]error, len(refs))
	err := s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		for i, ref := range refs {
			errs[i] = checkHandle(ctx, tx, queue, ref, at)
			if errs[i] == dialtone.ErrNotFound || errs[i] == dialtone.ErrStaleHandle {
				continue
			}
			if errs[i] != nil {
				return errs[i]
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM queue_messages WHERE id = ?`, ref.MessageID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: delete messages of %s: %w", queue, err)
	}
	return errs, nil
}

// ChangeVisibility moves the message's next visible time and replaces its
// handle.
func (s *Store) ChangeVisibility(ctx context.Context, queue string, ref dialtone.HandleRef, newHandle string, now time.Time, visibility time.Duration) (*dialtone.QueueMessage, error) {
	at := now.UnixMilli()
	next := now.Add(visibility).UnixMilli()
	var out *dialtone.QueueMessage
	err := s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := checkHandle(ctx, tx, queue, ref, at); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE queue_messages SET handle = ?, next_visible_at = ? WHERE id = ?`,
			newHandle, next, ref.MessageID); err != nil {
			return err
		}
		m, err := scanMessage(tx.QueryRowContext(ctx, `SELECT `+messageCols+` FROM queue_messages WHERE id = ?`, ref.MessageID))
		out = m
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: change visibility in %s: %w", queue, err)
	}
	return out, nil
}

// EnqueueMessage inserts m as given; dialtone.ErrNotFound for an unknown
// account, dialtone.ErrConflict for a duplicate ID.
func (s *Store) EnqueueMessage(ctx context.Context, m *dialtone.QueueMessage) error {
	if m == nil || m.ID == "" {
		return errors.New("sqlite: enqueue: no message ID")
	}
	err := s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		ok, err := s.accountExists(ctx, tx, m.AccountUID)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("account %s: %w", m.AccountUID, dialtone.ErrNotFound)
		}
		res, err := tx.ExecContext(ctx, sqlInsertMessage+` ON CONFLICT (id) DO NOTHING`, messageArgs(m)...)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return fmt.Errorf("message %s exists: %w", m.ID, dialtone.ErrConflict)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: enqueue into %s: %w", m.Queue, err)
	}
	return nil
}

// QueueStats counts the live messages of queue.
func (s *Store) QueueStats(ctx context.Context, queue string, now time.Time) (dialtone.QueueStats, error) {
	at := now.UnixMilli()
	var st dialtone.QueueStats
	var active, inactive sql.NullInt64
	err := s.read.QueryRowContext(ctx, `
SELECT SUM(CASE WHEN next_visible_at <= ? THEN 1 ELSE 0 END),
       SUM(CASE WHEN next_visible_at > ? THEN 1 ELSE 0 END)
FROM queue_messages WHERE queue = ? AND expires_at > ?`, at, at, queue, at).Scan(&active, &inactive)
	if err != nil {
		return st, fmt.Errorf("sqlite: stats of %s: %w", queue, err)
	}
	st.Active, st.Inactive = int(active.Int64), int(inactive.Int64)
	return st, nil
}

// PurgeQueueMessages deletes messages whose retention ended.
func (s *Store) PurgeQueueMessages(ctx context.Context, now time.Time) (int, error) {
	n, err := s.execCount(ctx, `DELETE FROM queue_messages WHERE expires_at <= ?`, now.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("sqlite: purge queue messages: %w", err)
	}
	return n, nil
}

// --- push deliveries ---

const pushCols = `id, account_uid, message_type, body, created_at, due_at, attempts, last_error, dead`

func scanPush(sc scanner) (*dialtone.PushDelivery, error) {
	var (
		p                            dialtone.PushDelivery
		body                         string
		created, due, attempts, dead int64
	)
	if err := sc.Scan(&p.ID, &p.AccountUID, &p.MessageType, &body, &created, &due, &attempts, &p.LastError, &dead); err != nil {
		return nil, err
	}
	p.Body = []byte(body)
	p.CreatedAt = fromMillis(created)
	p.DueAt = fromMillis(due)
	p.Attempts = int(attempts)
	p.Dead = dead != 0
	return &p, nil
}

// ClaimPushDeliveries leases the due deliveries to the caller.
func (s *Store) ClaimPushDeliveries(ctx context.Context, now, lease time.Time, limit int) ([]dialtone.PushDelivery, error) {
	if limit <= 0 {
		limit = 100
	}
	var out []dialtone.PushDelivery
	err := s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		out = out[:0]
		rows, err := tx.QueryContext(ctx, `SELECT `+pushCols+` FROM push_deliveries
WHERE dead = 0 AND due_at <= ? ORDER BY due_at, created_at, id LIMIT ?`, now.UnixMilli(), limit)
		if err != nil {
			return err
		}
		for rows.Next() {
			p, err := scanPush(rows)
			if err != nil {
				rows.Close()
				return err
			}
			out = append(out, *p)
		}
		if err := rows.Close(); err != nil {
			return err
		}
		for i := range out {
			out[i].DueAt = lease
			if _, err := tx.ExecContext(ctx, `UPDATE push_deliveries SET due_at = ? WHERE id = ?`, toMillis(lease), out[i].ID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: claim push deliveries: %w", err)
	}
	if out == nil {
		out = []dialtone.PushDelivery{}
	}
	return out, nil
}

// CompletePushDeliveries deletes delivered ones.
func (s *Store) CompletePushDeliveries(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	err := s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		for _, chunk := range chunks(ids, 500) {
			args := make([]any, len(chunk))
			for i, id := range chunk {
				args[i] = id
			}
			q := `DELETE FROM push_deliveries WHERE id IN (` + placeholders(len(chunk)) + `)`
			if _, err := tx.ExecContext(ctx, q, args...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: complete push deliveries: %w", err)
	}
	return nil
}

// FailPushDeliveries records failed attempts.
func (s *Store) FailPushDeliveries(ctx context.Context, fails []dialtone.PushFailure) error {
	if len(fails) == 0 {
		return nil
	}
	err := s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		for _, f := range fails {
			if _, err := tx.ExecContext(ctx, `
UPDATE push_deliveries SET attempts = attempts + 1, last_error = ?, due_at = ?, dead = ? WHERE id = ? AND dead = 0`,
				f.Error, toMillis(f.Next), boolInt(f.Dead), f.ID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: fail push deliveries: %w", err)
	}
	return nil
}

// ListDeadLetters returns the account's dead letters, oldest first.
func (s *Store) ListDeadLetters(ctx context.Context, accountUID string, limit int) ([]dialtone.PushDelivery, error) {
	if limit <= 0 {
		limit = 100
	}
	return listScoped(ctx, s.read, "dead letters of "+accountUID, scanPush,
		`SELECT `+pushCols+` FROM push_deliveries WHERE account_uid = ? AND dead = 1 ORDER BY created_at, id LIMIT ?`,
		accountUID, limit)
}

// RedriveDeadLetters makes the account's dead letters due again.
func (s *Store) RedriveDeadLetters(ctx context.Context, accountUID string, now time.Time) (int, error) {
	n, err := s.execCount(ctx, `UPDATE push_deliveries SET dead = 0, attempts = 0, due_at = ? WHERE account_uid = ? AND dead = 1`,
		toMillis(now), accountUID)
	if err != nil {
		return 0, fmt.Errorf("sqlite: redrive dead letters of %s: %w", accountUID, err)
	}
	return n, nil
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

func chunks(ids []string, size int) [][]string {
	var out [][]string
	for len(ids) > size {
		out = append(out, ids[:size])
		ids = ids[size:]
	}
	if len(ids) > 0 {
		out = append(out, ids)
	}
	return out
}
