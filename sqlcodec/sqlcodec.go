// Package sqlcodec holds the column encodings that the shared migrations
// fix for every SQL store (sqlite, postgres): times as unix milliseconds
// with 0 for the zero time, booleans as 0/1, and the argument order of the
// queue-message and push-delivery rows. Keeping them in one place keeps the
// two stores writing identical rows.
package sqlcodec

import (
	"encoding/hex"
	"fmt"
	"time"

	"github.com/dialtone-voice/dialtone"
)

// Millis stores t as unix milliseconds, 0 for the zero time.
func Millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// FromMillis reads Millis back, in UTC so values do not depend on the
// server's or the client's time zone.
func FromMillis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// BoolInt stores a boolean as 0 or 1.
func BoolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// MessageArgs are the insert arguments of a queue_messages row.
func MessageArgs(m *dialtone.QueueMessage) []any {
	return []any{m.ID, m.Queue, m.AccountUID, m.ReceiptID, m.Body, m.BodyMD5, int64(m.Priority),
		Millis(m.EnqueuedAt), Millis(m.NextVisibleAt), Millis(m.FirstDequeueAt), int64(m.DequeueCount),
		m.Handle, Millis(m.ExpiresAt)}
}

// PushArgs are the insert arguments of a push_deliveries row.
func PushArgs(p *dialtone.PushDelivery) []any {
	return []any{p.ID, p.AccountUID, p.MessageType, string(p.Body), Millis(p.CreatedAt), Millis(p.DueAt),
		int64(p.Attempts), p.LastError, BoolInt(p.Dead)}
}

// Admin tokens: the hash as lower-case hex.
const (
	SQLAddAdminToken   = `INSERT INTO admin_tokens (sha256, created_at) VALUES ($1, $2) ON CONFLICT (sha256) DO NOTHING`
	SQLListAdminTokens = `SELECT sha256, created_at FROM admin_tokens ORDER BY created_at, sha256`
)

// AdminTokenArgs are the insert arguments of an admin_tokens row.
func AdminTokenArgs(t *dialtone.AdminToken) []any {
	return []any{hex.EncodeToString(t.SHA256[:]), Millis(t.CreatedAt)}
}

// AdminToken reads an admin_tokens row back.
func AdminToken(sha string, created int64) (*dialtone.AdminToken, error) {
	t := &dialtone.AdminToken{CreatedAt: FromMillis(created)}
	if n, err := hex.Decode(t.SHA256[:], []byte(sha)); err != nil || n != len(t.SHA256) || len(sha) != 2*len(t.SHA256) {
		return nil, fmt.Errorf("admin token hash %q is not a SHA-256", sha)
	}
	return t, nil
}
