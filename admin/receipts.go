package admin

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/dialtone-voice/dialtone"
)

// Receipt endpoints: subscriptions per account and message type, and the
// dead letters of HTTP push.
//
//	GET    /admin/v1/accounts/{uid}/subscriptions
//	GET    /admin/v1/accounts/{uid}/subscriptions/{type}
//	PUT    /admin/v1/accounts/{uid}/subscriptions/{type}
//	DELETE /admin/v1/accounts/{uid}/subscriptions/{type}
//	GET    /admin/v1/accounts/{uid}/deadletters[?limit=N]
//	POST   /admin/v1/accounts/{uid}/deadletters/redrive

// Option configures New.
type Option func(*handler)

// WithReceipts gives the receipt endpoints their store (by default the
// main store) and a function called after a redrive.
func WithReceipts(rs dialtone.ReceiptStore, redriven func()) Option {
	return func(h *handler) {
		h.receipts = rs
		h.redriven = redriven
	}
}

// Error codes of the receipt endpoints.
const (
	CodeSubscriptionNotFound = "SubscriptionNotFound"
	CodeNotImplemented       = "NotImplemented"
)

// SubscriptionInfo is a subscription as the admin API shows it; the push
// secret is never shown, only whether one is set.
type SubscriptionInfo struct {
	MessageType string `json:"message_type"`
	Queue       bool   `json:"queue"`
	QueueName   string `json:"queue_name,omitempty"`
	PushURL     string `json:"push_url,omitempty"`
	// PushURLTrusted says the operator set the push URL (admin API,
	// provisioning, an operator of the console): the egress policy lets
	// it reach loopback and private networks.
	PushURLTrusted bool `json:"push_url_trusted"`
	PushSecretSet  bool `json:"push_secret_set"`
	// PushSecretPreviousUntil is the end of a rotation's grace, while
	// pushes carry the replaced secret's signature too.
	PushSecretPreviousUntil *time.Time `json:"push_secret_previous_until,omitempty"`
	VisibilityTimeout       int64      `json:"visibility_timeout_seconds"`
	MessageRetention        int64      `json:"message_retention_seconds"`
	CreatedAt               time.Time  `json:"created_at"`
	UpdatedAt               time.Time  `json:"updated_at"`
}

func subscriptionInfo(s *dialtone.Subscription) SubscriptionInfo {
	info := SubscriptionInfo{
		MessageType: s.MessageType, Queue: s.Queue, PushURL: s.PushURL, PushURLTrusted: s.PushURLTrusted, PushSecretSet: s.PushSecret != "",
		PushSecretPreviousUntil: rotatingUntil(s.PushSigning()),
		VisibilityTimeout:       int64(s.Visibility() / time.Second), MessageRetention: int64(s.RetentionPeriod() / time.Second),
		CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt,
	}
	if s.Queue {
		info.QueueName = dialtone.QueueName(s.AccountUID, s.MessageType)
	}
	return info
}

// rotatingUntil is the end of a rotation's grace, nil when none runs.
func rotatingUntil(k dialtone.SigningSecret) *time.Time {
	if !k.Rotating(time.Now()) {
		return nil
	}
	t := k.PreviousUntil
	return &t
}

func (h *handler) receiptStore(w http.ResponseWriter) bool {
	if h.receipts == nil {
		writeError(w, http.StatusNotImplemented, CodeNotImplemented, "this server's store keeps no receipt subscriptions")
		return false
	}
	return true
}

// messageType reads {type}, answering 404 for an unknown one.
func messageType(w http.ResponseWriter, r *http.Request) (string, bool) {
	t := r.PathValue("type")
	if !dialtone.ValidMessageType(t) {
		writeError(w, http.StatusNotFound, CodeSubscriptionNotFound,
			"no message type "+quoteShort(t)+"; use VoiceReport, VoiceCallReport or VoiceRecordReport")
		return "", false
	}
	return t, true
}

func (h *handler) listSubscriptions(w http.ResponseWriter, r *http.Request) {
	if !h.receiptStore(w) {
		return
	}
	a, ok := h.account(w, r)
	if !ok {
		return
	}
	subs, err := h.receipts.ListSubscriptions(r.Context(), a.UID)
	if err != nil {
		h.internal(w, "list subscriptions", err)
		return
	}
	out := make([]SubscriptionInfo, len(subs))
	for i := range subs {
		out[i] = subscriptionInfo(&subs[i])
	}
	writeJSON(w, http.StatusOK, map[string]any{"subscriptions": out})
}

func (h *handler) getSubscription(w http.ResponseWriter, r *http.Request) {
	if !h.receiptStore(w) {
		return
	}
	t, ok := messageType(w, r)
	if !ok {
		return
	}
	a, ok := h.account(w, r)
	if !ok {
		return
	}
	s, err := h.receipts.GetSubscription(r.Context(), a.UID, t)
	if errors.Is(err, dialtone.ErrNotFound) {
		writeError(w, http.StatusNotFound, CodeSubscriptionNotFound, "account "+a.UID+" has no "+t+" subscription")
		return
	}
	if err != nil {
		h.internal(w, "get subscription", err)
		return
	}
	writeJSON(w, http.StatusOK, subscriptionInfo(s))
}

// putSubscription replaces the subscription, except that an absent
// push_secret keeps the stored one ("" removes it) and absent queue
// attributes keep theirs.
func (h *handler) putSubscription(w http.ResponseWriter, r *http.Request) {
	t, ok := messageType(w, r)
	if !ok {
		return
	}
	var u dialtone.SubscriptionUpdate
	if !readJSON(w, r, &u, false) {
		return
	}
	a, ok := h.account(w, r)
	if !ok {
		return
	}
	s, _, err := h.svc.PutSubscription(r.Context(), a.UID, t, u)
	if err != nil {
		h.fail(w, err, CodeAccountNotFound, "account "+a.UID)
		return
	}
	writeJSON(w, http.StatusOK, subscriptionInfo(s))
}

func (h *handler) deleteSubscription(w http.ResponseWriter, r *http.Request) {
	t, ok := messageType(w, r)
	if !ok {
		return
	}
	uid := r.PathValue("uid")
	if err := h.svc.DeleteSubscription(r.Context(), uid, t); err != nil {
		h.fail(w, err, CodeSubscriptionNotFound, t+" subscription of account "+quoteShort(uid))
		return
	}
	noContent(w)
}

// DeadLetter is a receipt whose pushes all failed.
type DeadLetter struct {
	ReceiptID   string          `json:"receipt_id"`
	MessageType string          `json:"message_type"`
	Attempts    int             `json:"attempts"`
	LastError   string          `json:"last_error"`
	CreatedAt   time.Time       `json:"created_at"`
	Body        json.RawMessage `json:"body"`
}

func (h *handler) listDeadLetters(w http.ResponseWriter, r *http.Request) {
	if !h.receiptStore(w) {
		return
	}
	a, ok := h.account(w, r)
	if !ok {
		return
	}
	limit := 100
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			writeError(w, http.StatusBadRequest, CodeInvalidRequest, "limit must be between 1 and 1000")
			return
		}
		limit = n
	}
	ds, err := h.receipts.ListDeadLetters(r.Context(), a.UID, limit)
	if err != nil {
		h.internal(w, "list dead letters", err)
		return
	}
	out := make([]DeadLetter, len(ds))
	for i, d := range ds {
		body := json.RawMessage(d.Body)
		if !json.Valid(body) {
			body = json.RawMessage("null")
		}
		out[i] = DeadLetter{ReceiptID: d.ID, MessageType: d.MessageType, Attempts: d.Attempts, LastError: d.LastError, CreatedAt: d.CreatedAt, Body: body}
	}
	writeJSON(w, http.StatusOK, map[string]any{"dead_letters": out})
}

// RedriveResult is the answer to a redrive.
type RedriveResult struct {
	Redriven int `json:"redriven"`
}

func (h *handler) redrive(w http.ResponseWriter, r *http.Request) {
	if !h.receiptStore(w) {
		return
	}
	a, ok := h.account(w, r)
	if !ok {
		return
	}
	n, err := h.receipts.RedriveDeadLetters(r.Context(), a.UID, time.Now())
	if err != nil {
		h.internal(w, "redrive dead letters", err)
		return
	}
	if n > 0 && h.redriven != nil {
		h.redriven()
	}
	h.log.Info("dead letters redriven", "account", a.UID, "count", n)
	writeJSON(w, http.StatusOK, RedriveResult{Redriven: n})
}
