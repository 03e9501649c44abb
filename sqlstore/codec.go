package sqlstore

import (
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/dialtone-voice/dialtone"
)

// The column encodings that the shared migrations fix for every engine:
// times as unix milliseconds with 0 for the zero time, booleans as 0/1,
// JSON as TEXT with NULL for nil, secrets sealed and base64-encoded.

// toMillis stores t as unix milliseconds, 0 for the zero time.
func toMillis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// fromMillis reads toMillis back, in UTC so values do not depend on the
// server's or the client's time zone.
func fromMillis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// boolInt stores a boolean as 0 or 1.
func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// encodeJSON returns NULL (nil) for a nil slice or map and JSON text
// otherwise, so that nil and empty stay distinct (Account.Features depends
// on it).
func encodeJSON[T any](v T, isNil bool) (any, error) {
	if isNil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

func encodeList[E any](s []E) (any, error) { return encodeJSON(s, s == nil) }

func encodeMap[V any](m map[string]V) (any, error) { return encodeJSON(m, m == nil) }

// nullableBytes keeps a nil document NULL and anything else as text.
func nullableBytes(b []byte) any {
	if b == nil {
		return nil
	}
	return string(b)
}

// decodeList is the inverse of encodeList: NULL gives nil, "[]" an empty
// non-nil slice.
func decodeList[E any](col string, text sql.NullString) ([]E, error) {
	if !text.Valid {
		return nil, nil
	}
	out := []E{}
	if err := json.Unmarshal([]byte(text.String), &out); err != nil {
		return nil, fmt.Errorf("decode %s: %w", col, err)
	}
	return out, nil
}

func decodeMap[V any](col string, text sql.NullString) (map[string]V, error) {
	if !text.Valid {
		return nil, nil
	}
	out := map[string]V{}
	if err := json.Unmarshal([]byte(text.String), &out); err != nil {
		return nil, fmt.Errorf("decode %s: %w", col, err)
	}
	return out, nil
}

// seal returns the base64 text of the sealed secret: the column is TEXT in
// the shared schema.
func (s *Store) seal(secret string) (string, error) {
	ct, err := s.sealer.Seal([]byte(secret))
	if err != nil {
		return "", fmt.Errorf("seal secret: %w", err)
	}
	return base64.StdEncoding.EncodeToString(ct), nil
}

// unseal returns the sealer's error wrapped, so a wrong master key surfaces
// as that error (e.g. secret.ErrTampered) rather than as a garbage secret.
func (s *Store) unseal(sealed string) (string, error) {
	ct, err := base64.StdEncoding.DecodeString(sealed)
	if err != nil {
		return "", fmt.Errorf("decode sealed secret: %w", err)
	}
	pt, err := s.sealer.Open(ct)
	if err != nil {
		return "", fmt.Errorf("open sealed secret: %w", err)
	}
	return string(pt), nil
}

// sealOptional seals a secret that may be absent: "" stays "".
func (s *Store) sealOptional(secret string) (string, error) {
	if secret == "" {
		return "", nil
	}
	return s.seal(secret)
}

// unsealOptional is the inverse of sealOptional.
func (s *Store) unsealOptional(sealed string) (string, error) {
	if sealed == "" {
		return "", nil
	}
	return s.unseal(sealed)
}

// messageArgs are the insert arguments of a queue_messages row.
func messageArgs(m *dialtone.QueueMessage) []any {
	return []any{m.ID, m.Queue, m.AccountUID, m.ReceiptID, m.Body, m.BodyMD5, int64(m.Priority),
		toMillis(m.EnqueuedAt), toMillis(m.NextVisibleAt), toMillis(m.FirstDequeueAt), int64(m.DequeueCount),
		m.Handle, toMillis(m.ExpiresAt)}
}

// pushArgs are the insert arguments of a push_deliveries row.
func pushArgs(p *dialtone.PushDelivery) []any {
	return []any{p.ID, p.AccountUID, p.MessageType, string(p.Body), toMillis(p.CreatedAt), toMillis(p.DueAt),
		int64(p.Attempts), p.LastError, boolInt(p.Dead)}
}

// adminTokenHash is an admin token's hash as stored: lower-case hex.
func adminTokenHash(t *dialtone.AdminToken) string { return hex.EncodeToString(t.SHA256[:]) }

// adminToken reads an admin_tokens row back.
func adminToken(sha string, created int64) (*dialtone.AdminToken, error) {
	t := &dialtone.AdminToken{CreatedAt: fromMillis(created)}
	if n, err := hex.Decode(t.SHA256[:], []byte(sha)); err != nil || n != len(t.SHA256) || len(sha) != 2*len(t.SHA256) {
		return nil, fmt.Errorf("admin token hash %q is not a SHA-256", sha)
	}
	return t, nil
}
