package postgres

import (
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/dialtone-voice/dialtone/sqlcodec"
)

// encodeJSON returns NULL (a nil *string) for a nil slice or map and JSON
// text otherwise, so that nil and empty stay distinct (Account.Features
// depends on it).
func encodeJSON[T any](v T, isNil bool) (*string, error) {
	if isNil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	s := string(b)
	return &s, nil
}

func encodeList[E any](s []E) (*string, error) { return encodeJSON(s, s == nil) }

func encodeMap[V any](m map[string]V) (*string, error) { return encodeJSON(m, m == nil) }

// decodeList is the inverse of encodeList: NULL gives nil, "[]" an empty
// non-nil slice.
func decodeList[E any](col string, text *string) ([]E, error) {
	if text == nil {
		return nil, nil
	}
	out := []E{}
	if err := json.Unmarshal([]byte(*text), &out); err != nil {
		return nil, fmt.Errorf("decode %s: %w", col, err)
	}
	return out, nil
}

func decodeMap[V any](col string, text *string) (map[string]V, error) {
	if text == nil {
		return nil, nil
	}
	out := map[string]V{}
	if err := json.Unmarshal([]byte(*text), &out); err != nil {
		return nil, fmt.Errorf("decode %s: %w", col, err)
	}
	return out, nil
}

// nullableBytes keeps a nil document NULL and anything else as text.
func nullableBytes(b []byte) *string {
	if b == nil {
		return nil
	}
	s := string(b)
	return &s
}

// seal returns the base64 text of the sealed secret: the column is TEXT in
// the shared schema, and SQLite stores the same text.
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

// Column encodings shared with the other SQL store.
var (
	toMillis    = sqlcodec.Millis
	fromMillis  = sqlcodec.FromMillis
	boolInt     = sqlcodec.BoolInt
	messageArgs = sqlcodec.MessageArgs
	pushArgs    = sqlcodec.PushArgs
)
