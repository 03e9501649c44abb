package mns

import (
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"time"

	"github.com/dialtone-voice/dialtone"
)

// DefaultPriority is the priority of every receipt message (MNS's default).
const DefaultPriority = 8

// NewMessageID returns a random message ID: 32 upper-case hex digits.
func NewMessageID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return strings.ToUpper(hex.EncodeToString(b[:]))
}

// NewHandle returns a fresh receipt handle for message id. Handles use only
// [A-Za-z0-9-] because clients put them unencoded in query strings, and
// they carry the message ID so that a delete finds its message by primary
// key; the random part makes each receive's handle different.
func NewHandle(messageID string) string { return messageID + "-" + newNonce() }

// newNonce is the random part of a handle, which the store keeps as the
// message's current handle.
func newNonce() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return strings.ToUpper(hex.EncodeToString(b[:]))
}

// ParseHandle returns the message a handle was issued for (Handle is the
// whole text); ok is false for text that no NewHandle could have produced.
func ParseHandle(h string) (dialtone.HandleRef, bool) {
	i := strings.LastIndexByte(h, '-')
	if i != 32 || len(h) != 32+1+16 || !isUpperHex(h[:i]) || !isUpperHex(h[i+1:]) {
		return dialtone.HandleRef{}, false
	}
	return dialtone.HandleRef{MessageID: h[:i], Handle: h}, true
}

func isUpperHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// EncodeBody returns the MessageBody of a receipt (standard base64 with
// padding: the official Go demo decodes it with StdEncoding and panics on
// anything else) and its MessageBodyMD5 (upper-case hex MD5 of that text).
func EncodeBody(receiptJSON []byte) (body, bodyMD5 string) {
	body = base64.StdEncoding.EncodeToString(receiptJSON)
	return body, BodyMD5(body)
}

// BodyMD5 is the MessageBodyMD5 of a body as stored.
func BodyMD5(body string) string {
	sum := md5.Sum([]byte(body))
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// NewReceiptMessage builds the queue message of a receipt.
func NewReceiptMessage(r *dialtone.Receipt, queue string, now time.Time, retention time.Duration) *dialtone.QueueMessage {
	body, sum := EncodeBody(r.Body)
	return &dialtone.QueueMessage{
		ID:            NewMessageID(),
		Queue:         queue,
		AccountUID:    r.AccountUID,
		ReceiptID:     r.ID,
		Body:          body,
		BodyMD5:       sum,
		Priority:      DefaultPriority,
		EnqueuedAt:    now,
		NextVisibleAt: now,
		ExpiresAt:     now.Add(retention),
	}
}
