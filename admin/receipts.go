package admin

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
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
	MessageType       string    `json:"message_type"`
	Queue             bool      `json:"queue"`
	QueueName         string    `json:"queue_name,omitempty"`
	PushURL           string    `json:"push_url,omitempty"`
	PushSecretSet     bool      `json:"push_secret_set"`
	VisibilityTimeout int64     `json:"visibility_timeout_seconds"`
	MessageRetention  int64     `json:"message_retention_seconds"`
	CreatedAt         time.Time `json:"created_at"`
	UpdatedAt         time.Time `json:"updated_at"`
}

func subscriptionInfo(s *dialtone.Subscription) SubscriptionInfo {
	info := SubscriptionInfo{
		MessageType: s.MessageType, Queue: s.Queue, PushURL: s.PushURL, PushSecretSet: s.PushSecret != "",
		VisibilityTimeout: int64(s.Visibility() / time.Second), MessageRetention: int64(s.RetentionPeriod() / time.Second),
		CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt,
	}
	if s.Queue {
		info.QueueName = dialtone.QueueName(s.AccountUID, s.MessageType)
	}
	return info
}

// SubscriptionRequest is the body of PUT: it replaces the subscription,
// except that an absent push_secret keeps the stored one ("" removes it)
// and absent attributes keep theirs.
type SubscriptionRequest struct {
	Queue             bool    `json:"queue"`
	PushURL           string  `json:"push_url"`
	PushSecret        *string `json:"push_secret"`
	VisibilityTimeout *int64  `json:"visibility_timeout_seconds"`
	MessageRetention  *int64  `json:"message_retention_seconds"`
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

func (h *handler) putSubscription(w http.ResponseWriter, r *http.Request) {
	if !h.receiptStore(w) {
		return
	}
	t, ok := messageType(w, r)
	if !ok {
		return
	}
	var req SubscriptionRequest
	if !readJSON(w, r, &req, false) {
		return
	}
	if msg := checkSubscription(&req); msg != "" {
		writeError(w, http.StatusBadRequest, CodeInvalidRequest, msg)
		return
	}
	a, ok := h.account(w, r)
	if !ok {
		return
	}
	now := time.Now().UTC()
	s := &dialtone.Subscription{AccountUID: a.UID, MessageType: t, Queue: req.Queue, PushURL: req.PushURL, CreatedAt: now, UpdatedAt: now}
	old, err := h.receipts.GetSubscription(r.Context(), a.UID, t)
	switch {
	case err == nil:
		s.CreatedAt, s.PushSecret = old.CreatedAt, old.PushSecret
		s.VisibilityTimeout, s.Retention = old.VisibilityTimeout, old.Retention
	case !errors.Is(err, dialtone.ErrNotFound):
		h.internal(w, "get subscription", err)
		return
	}
	if req.PushSecret != nil {
		s.PushSecret = *req.PushSecret
	}
	if req.VisibilityTimeout != nil {
		s.VisibilityTimeout = time.Duration(*req.VisibilityTimeout) * time.Second
	}
	if req.MessageRetention != nil {
		s.Retention = time.Duration(*req.MessageRetention) * time.Second
	}
	if err := h.receipts.PutSubscription(r.Context(), s); err != nil {
		if errors.Is(err, dialtone.ErrNotFound) {
			writeError(w, http.StatusNotFound, CodeAccountNotFound, "no account "+a.UID)
			return
		}
		h.internal(w, "put subscription", err)
		return
	}
	h.log.Info("subscription set", "account", a.UID, "type", t, "queue", s.Queue, "push", s.PushURL != "")
	writeJSON(w, http.StatusOK, subscriptionInfo(s))
}

func checkSubscription(req *SubscriptionRequest) string {
	if !req.Queue && req.PushURL == "" {
		return `give "queue": true, a "push_url", or both`
	}
	if req.PushURL != "" {
		u, err := url.Parse(req.PushURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return "push_url " + quoteShort(req.PushURL) + " is not an http:// or https:// URL"
		}
	}
	if v := req.VisibilityTimeout; v != nil && (*v < 1 || *v > int64(dialtone.MaxVisibilityTimeout/time.Second)) {
		return "visibility_timeout_seconds must be between 1 and " + itoa(int64(dialtone.MaxVisibilityTimeout/time.Second))
	}
	if v := req.MessageRetention; v != nil && (*v < 60 || *v > int64(dialtone.MaxRetention/time.Second)) {
		return "message_retention_seconds must be between 60 and " + itoa(int64(dialtone.MaxRetention/time.Second))
	}
	return ""
}

func (h *handler) deleteSubscription(w http.ResponseWriter, r *http.Request) {
	if !h.receiptStore(w) {
		return
	}
	t, ok := messageType(w, r)
	if !ok {
		return
	}
	uid := r.PathValue("uid")
	err := h.receipts.DeleteSubscription(r.Context(), uid, t)
	if errors.Is(err, dialtone.ErrNotFound) {
		writeError(w, http.StatusNotFound, CodeSubscriptionNotFound, "account "+quoteShort(uid)+" has no "+t+" subscription")
		return
	}
	if err != nil {
		h.internal(w, "delete subscription", err)
		return
	}
	h.log.Info("subscription deleted", "account", uid, "type", t)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
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
