package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dialtone-voice/dialtone"
)

// What migration 0010 added: the SmartCall callback's trust and secrets
// (account_callbacks, read and written with the account's settings), the
// audit trail, push attempts, and the reads of the console's receipt pages.

// --- SmartCall callback (part of the account's settings) ---

const (
	sqlPutCallback = `
INSERT INTO account_callbacks (account_uid, url_trusted, secret_sealed, secret_previous_sealed, secret_previous_until)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (account_uid) DO UPDATE SET
    url_trusted = excluded.url_trusted,
    secret_sealed = excluded.secret_sealed,
    secret_previous_sealed = excluded.secret_previous_sealed,
    secret_previous_until = excluded.secret_previous_until`
)

// fillCallback sets the callback's trust and secrets from their columns.
func (s *Store) fillCallback(st *dialtone.AccountSettings, trusted int64, cur, prev string, until int64) error {
	var err error
	st.SmartCallCallbackTrusted = trusted != 0
	k := &st.SmartCallCallbackSecret
	if k.Current, err = s.unsealOptional(cur); err != nil {
		return err
	}
	if k.Previous, err = s.unsealOptional(prev); err != nil {
		return err
	}
	k.PreviousUntil = fromMillis(until)
	return nil
}

func (s *Store) callbackArgs(accountUID string, st *dialtone.AccountSettings) ([]any, error) {
	k := st.SmartCallCallbackSecret
	cur, err := s.sealOptional(k.Current)
	if err != nil {
		return nil, err
	}
	prev, err := s.sealOptional(k.Previous)
	if err != nil {
		return nil, err
	}
	return []any{accountUID, boolInt(st.SmartCallCallbackTrusted), cur, prev, toMillis(k.PreviousUntil)}, nil
}

// --- audit trail ---

const (
	auditCols       = `id, at, actor, account_uid, resource, resource_id, action, detail`
	sqlInsertAudit  = `INSERT INTO audit_log (` + auditCols + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`
	sqlAuditCursor  = `SELECT at, id FROM audit_log WHERE id = $1`
	sqlPurgeAudit   = `DELETE FROM audit_log WHERE at < $1`
	maxListLimit    = 1000
	defaultListSize = 100
)

func listLimit(n int) int {
	switch {
	case n <= 0:
		return defaultListSize
	case n > maxListLimit:
		return maxListLimit
	}
	return n
}

// newID is random so that nodes writing at once never collide.
func newID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b) // crypto/rand does not fail on supported systems
	return hex.EncodeToString(b)
}

// AppendAudit adds the records in one write.
func (s *Store) AppendAudit(ctx context.Context, recs []dialtone.AuditRecord) error {
	if len(recs) == 0 {
		return nil
	}
	batch := make([]Stmt, len(recs))
	for i := range recs {
		r := &recs[i]
		if r.ID == "" {
			r.ID = newID()
		}
		detail, err := encodeMap(r.Detail)
		if err != nil {
			return s.errorf("append audit: detail: %w", err)
		}
		batch[i] = Stmt{sqlInsertAudit, []any{r.ID, toMillis(r.At), r.Actor, r.AccountUID, r.Resource, r.ResourceID, r.Action, detail}}
	}
	err := s.db.Tx(ctx, func(ctx context.Context, q Querier) error {
		return q.ExecBatch(ctx, batch, func(_ int, _ int64, err error) error { return err })
	})
	if err != nil {
		return s.errorf("append audit: %w", err)
	}
	return nil
}

// ListAudit returns the records f selects, newest first.
func (s *Store) ListAudit(ctx context.Context, f dialtone.AuditFilter) ([]dialtone.AuditRecord, error) {
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if f.AccountUID != "" || f.Node {
		where = append(where, "account_uid = "+arg(f.AccountUID))
	}
	if f.Resource != "" {
		where = append(where, "resource = "+arg(f.Resource))
	}
	if f.Before != "" {
		var at int64
		var id string
		err := s.db.Reader().QueryRow(ctx, sqlAuditCursor, f.Before).Scan(&at, &id)
		if isNoRows(err) {
			return nil, s.errorf("audit cursor %q: %w", f.Before, dialtone.ErrNotFound)
		}
		if err != nil {
			return nil, s.errorf("audit cursor: %w", err)
		}
		a, b := arg(at), arg(id)
		where = append(where, "(at < "+a+" OR (at = "+a+" AND id"+s.d.Collate+" < "+b+"))")
	}
	q := `SELECT ` + auditCols + ` FROM audit_log`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY at DESC, id` + s.d.Collate + ` DESC LIMIT ` + arg(listLimit(f.Limit))
	return listRows(ctx, s, "audit records", scanAudit, q, args...)
}

func scanAudit(row Row) (*dialtone.AuditRecord, error) {
	var (
		r      dialtone.AuditRecord
		at     int64
		detail sql.NullString
	)
	if err := row.Scan(&r.ID, &at, &r.Actor, &r.AccountUID, &r.Resource, &r.ResourceID, &r.Action, &detail); err != nil {
		return nil, err
	}
	r.At = fromMillis(at)
	m, err := decodeMap[string]("detail", detail)
	if err != nil {
		return nil, err
	}
	r.Detail = m
	return &r, nil
}

// PurgeAudit deletes records older than before.
func (s *Store) PurgeAudit(ctx context.Context, before time.Time) (int, error) {
	n, err := s.execCount(ctx, sqlPurgeAudit, before.UnixMilli())
	if err != nil {
		return 0, s.errorf("purge audit: %w", err)
	}
	return n, nil
}

// --- push attempts ---

const (
	attemptCols = `id, account_uid, message_type, at, url, http_status, answer, answer_code, answer_msg,
    latency_ms, error, rule, receipts, test, next_retry, dead`
	sqlInsertAttempt = `INSERT INTO push_attempts (` + attemptCols + `)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`
	sqlInsertAttemptReceipt = `INSERT INTO push_attempt_receipts (attempt_id, account_uid, receipt_id) VALUES ($1, $2, $3)
ON CONFLICT (attempt_id, receipt_id) DO NOTHING`
	// The attempts a purge removes: those older than $2, and those past
	// the newest $1 of their group.
	sqlPurgePushAttemptIDs = `SELECT id FROM (
    SELECT id, at, ROW_NUMBER() OVER (PARTITION BY account_uid, message_type, test ORDER BY at DESC, id{C} DESC) AS rn
    FROM push_attempts) ranked
WHERE rn > $1 OR at < $2`
)

// RecordPushAttempt keeps a and the receipts it carried, in one
// transaction.
func (s *Store) RecordPushAttempt(ctx context.Context, a *dialtone.PushAttempt) error {
	if a == nil || a.AccountUID == "" || a.MessageType == "" {
		return s.errorf("record push attempt: no account or message type")
	}
	if a.ID == "" {
		a.ID = newID()
	}
	batch := []Stmt{{sqlInsertAttempt, []any{a.ID, a.AccountUID, a.MessageType, toMillis(a.At), a.URL, int64(a.HTTPStatus),
		a.Answer, a.AnswerCode, a.AnswerMsg, a.Latency.Milliseconds(), a.Error, a.Rule, int64(a.Count), boolInt(a.Test),
		toMillis(a.NextRetry), boolInt(a.Dead)}}}
	for _, id := range a.ReceiptIDs {
		batch = append(batch, Stmt{sqlInsertAttemptReceipt, []any{a.ID, a.AccountUID, id}})
	}
	err := s.db.Tx(ctx, func(ctx context.Context, q Querier) error {
		if err := requireAccount(ctx, q, a.AccountUID); err != nil {
			return err
		}
		return q.ExecBatch(ctx, batch, func(_ int, _ int64, err error) error { return err })
	})
	if err != nil {
		return s.errorf("record push attempt of %s/%s: %w", a.AccountUID, a.MessageType, err)
	}
	return nil
}

// ListPushAttempts returns the attempts f selects, newest first.
func (s *Store) ListPushAttempts(ctx context.Context, f dialtone.PushAttemptFilter) ([]dialtone.PushAttempt, error) {
	args := []any{f.AccountUID}
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	q := `SELECT ` + attemptCols + ` FROM push_attempts WHERE account_uid = $1`
	if f.MessageType != "" {
		q += ` AND message_type = ` + arg(f.MessageType)
	}
	if f.Test != nil {
		q += ` AND test = ` + arg(boolInt(*f.Test))
	}
	if f.ReceiptID != "" {
		q += ` AND id IN (SELECT attempt_id FROM push_attempt_receipts WHERE account_uid = $1 AND receipt_id = ` + arg(f.ReceiptID) + `)`
	}
	q += ` ORDER BY at DESC, id` + s.d.Collate + ` DESC LIMIT ` + arg(listLimit(f.Limit))
	return listRows(ctx, s, "push attempts of "+f.AccountUID, scanAttempt, q, args...)
}

func scanAttempt(row Row) (*dialtone.PushAttempt, error) {
	var (
		a                                        dialtone.PushAttempt
		at, status, latency, n, test, next, dead int64
	)
	if err := row.Scan(&a.ID, &a.AccountUID, &a.MessageType, &at, &a.URL, &status, &a.Answer, &a.AnswerCode, &a.AnswerMsg,
		&latency, &a.Error, &a.Rule, &n, &test, &next, &dead); err != nil {
		return nil, err
	}
	a.At, a.HTTPStatus, a.Latency, a.Count = fromMillis(at), int(status), time.Duration(latency)*time.Millisecond, int(n)
	a.Test, a.NextRetry, a.Dead = test != 0, fromMillis(next), dead != 0
	return &a, nil
}

// PurgePushAttempts deletes old attempts and those past the newest keep of
// their group, with the receipts they carried, in one transaction.
func (s *Store) PurgePushAttempts(ctx context.Context, before time.Time, keep int) (int, error) {
	if keep < 0 {
		keep = 0
	}
	var n int64
	err := s.db.Tx(ctx, func(ctx context.Context, q Querier) error {
		if _, err := q.Exec(ctx, `DELETE FROM push_attempt_receipts WHERE attempt_id IN (`+s.q.purgePushAttempts+`)`,
			int64(keep), toMillis(before)); err != nil {
			return err
		}
		var err error
		n, err = q.Exec(ctx, `DELETE FROM push_attempts WHERE id IN (`+s.q.purgePushAttempts+`)`, int64(keep), toMillis(before))
		return err
	})
	if err != nil {
		return 0, s.errorf("purge push attempts: %w", err)
	}
	return int(n), nil
}

// --- receipts and deliveries, as the console reads them ---

const (
	receiptReadCols    = `id, account_uid, call_id, message_type, body, created_at, routed_at`
	sqlRetryDeadLetter = `UPDATE push_deliveries SET dead = 0, attempts = 0, due_at = $1
WHERE account_uid = $2 AND id = $3 AND dead = 1`
	sqlListPushRetries = `SELECT ` + pushCols + ` FROM push_deliveries
WHERE account_uid = $1 AND dead = 0 AND attempts > 0 ORDER BY due_at, id{C} LIMIT $2`
)

// ListReceipts returns the account's receipts f selects, newest first.
func (s *Store) ListReceipts(ctx context.Context, f dialtone.ReceiptFilter) ([]dialtone.Receipt, error) {
	args := []any{f.AccountUID}
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	q := `SELECT ` + receiptReadCols + ` FROM receipts WHERE account_uid = $1`
	if f.CallID != "" {
		q += ` AND call_id = ` + arg(f.CallID)
	}
	if f.MessageType != "" {
		q += ` AND message_type = ` + arg(f.MessageType)
	}
	q += ` ORDER BY created_at DESC, id` + s.d.Collate + ` DESC LIMIT ` + arg(listLimit(f.Limit))
	return listRows(ctx, s, "receipts of "+f.AccountUID, scanReceiptRead, q, args...)
}

func scanReceiptRead(row Row) (*dialtone.Receipt, error) {
	var (
		r               dialtone.Receipt
		body            string
		created, routed int64
	)
	if err := row.Scan(&r.ID, &r.AccountUID, &r.CallID, &r.MessageType, &body, &created, &routed); err != nil {
		return nil, err
	}
	r.Body, r.CreatedAt, r.RoutedAt = []byte(body), fromMillis(created), fromMillis(routed)
	return &r, nil
}

// GetPushDeliveries returns the account's deliveries among ids, in ids'
// order.
func (s *Store) GetPushDeliveries(ctx context.Context, accountUID string, ids []string) ([]dialtone.PushDelivery, error) {
	if len(ids) == 0 {
		return []dialtone.PushDelivery{}, nil
	}
	args := []any{accountUID}
	marks := make([]string, len(ids))
	for i, id := range ids {
		args = append(args, id)
		marks[i] = fmt.Sprintf("$%d", i+2)
	}
	rows, err := listRows(ctx, s, "push deliveries of "+accountUID, scanPush,
		`SELECT `+pushCols+` FROM push_deliveries WHERE account_uid = $1 AND id IN (`+strings.Join(marks, ", ")+`)`, args...)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]dialtone.PushDelivery, len(rows))
	for _, d := range rows {
		byID[d.ID] = d
	}
	out := make([]dialtone.PushDelivery, 0, len(rows))
	for _, id := range ids {
		if d, ok := byID[id]; ok {
			out = append(out, d)
			delete(byID, id)
		}
	}
	return out, nil
}

// ListPushRetries returns the account's deliveries waiting for a retry.
func (s *Store) ListPushRetries(ctx context.Context, accountUID string, limit int) ([]dialtone.PushDelivery, error) {
	return listRows(ctx, s, "push retries of "+accountUID, scanPush, s.q.listPushRetries, accountUID, listLimit(limit))
}

// RetryDeadLetter makes one dead letter due again.
func (s *Store) RetryDeadLetter(ctx context.Context, accountUID, id string, now time.Time) error {
	n, err := s.execCount(ctx, sqlRetryDeadLetter, toMillis(now), accountUID, id)
	if err != nil {
		return s.errorf("retry dead letter %s of %s: %w", id, accountUID, err)
	}
	if n == 0 {
		return s.errorf("dead letter %s of %s: %w", id, accountUID, dialtone.ErrNotFound)
	}
	return nil
}

const sqlReleasePush = `UPDATE push_deliveries SET due_at = $1 WHERE id = $2 AND dead = 0`

// ReleasePushDeliveries makes claimed deliveries due at due again, in one
// transaction.
func (s *Store) ReleasePushDeliveries(ctx context.Context, ids []string, due time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	sorted := slices.Clone(ids)
	slices.Sort(sorted) // concurrent callers lock rows in the same order
	batch := make([]Stmt, len(sorted))
	for i, id := range sorted {
		batch[i] = Stmt{sqlReleasePush, []any{toMillis(due), id}}
	}
	err := s.db.Tx(ctx, func(ctx context.Context, q Querier) error {
		return q.ExecBatch(ctx, batch, func(_ int, _ int64, err error) error { return err })
	})
	if err != nil {
		return s.errorf("release push deliveries: %w", err)
	}
	return nil
}
