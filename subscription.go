package dialtone

import (
	"context"
	"errors"
	"strings"
	"time"
)

// Subscription is how an account receives one receipt message type: in its
// MNS-compatible queue (QueueName), by HTTP batch push to PushURL, or both.
// PushSecret signs pushes; while a rotation's grace runs, the secret it
// replaced (PushSecretPrevious, until PushSecretPreviousUntil) signs them
// too. Stores keep both sealed.
type Subscription struct {
	AccountUID  string
	MessageType string // MsgVoiceReport, MsgVoiceCallReport or MsgVoiceRecordReport
	Queue       bool
	PushURL     string
	// PushURLTrusted says the operator set PushURL (see URLChecker): the
	// egress policy lets it reach loopback and private networks.
	PushURLTrusted          bool
	PushSecret              string
	PushSecretPrevious      string
	PushSecretPreviousUntil time.Time
	// VisibilityTimeout and Retention are the queue's attributes; zero
	// means the defaults (DefaultVisibilityTimeout, DefaultRetention).
	VisibilityTimeout time.Duration
	Retention         time.Duration
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// Queue attribute defaults and bounds (those of MNS).
const (
	DefaultVisibilityTimeout = 30 * time.Second
	DefaultRetention         = 72 * time.Hour
	MaxVisibilityTimeout     = 12 * time.Hour
	MaxRetention             = 7 * 24 * time.Hour
)

// PushSigning returns the push secrets as one SigningSecret.
func (s *Subscription) PushSigning() SigningSecret {
	return SigningSecret{Current: s.PushSecret, Previous: s.PushSecretPrevious, PreviousUntil: s.PushSecretPreviousUntil}
}

// SetPushSigning sets the push secrets from k.
func (s *Subscription) SetPushSigning(k SigningSecret) {
	s.PushSecret, s.PushSecretPrevious, s.PushSecretPreviousUntil = k.Current, k.Previous, k.PreviousUntil
}

// Visibility returns the queue's visibility timeout, defaults applied.
func (s *Subscription) Visibility() time.Duration {
	if s.VisibilityTimeout <= 0 {
		return DefaultVisibilityTimeout
	}
	return s.VisibilityTimeout
}

// RetentionPeriod returns how long a queued message is kept, defaults applied.
func (s *Subscription) RetentionPeriod() time.Duration {
	if s.Retention <= 0 {
		return DefaultRetention
	}
	return s.Retention
}

// MessageTypes lists the receipt message types in a stable order.
var MessageTypes = []string{MsgVoiceReport, MsgVoiceCallReport, MsgVoiceRecordReport}

// ValidMessageType reports whether t is a receipt message type of the voice
// service.
func ValidMessageType(t string) bool {
	switch t {
	case MsgVoiceReport, MsgVoiceCallReport, MsgVoiceRecordReport:
		return true
	}
	return false
}

const queuePrefix = "Alicom-Queue-"

// QueueName is the name Alibaba gives the queue of an account's message
// type; the official samples hard-code it, so it cannot be chosen freely.
func QueueName(accountUID, messageType string) string {
	return queuePrefix + accountUID + "-" + messageType
}

// ParseQueueName splits a queue name made by QueueName; ok is false for any
// other name.
func ParseQueueName(name string) (accountUID, messageType string, ok bool) {
	rest, found := strings.CutPrefix(name, queuePrefix)
	if !found {
		return "", "", false
	}
	uid, typ, found := strings.Cut(rest, "-")
	if !found || !ValidUID(uid) || !ValidMessageType(typ) {
		return "", "", false
	}
	return uid, typ, true
}

// QueueMessage is one message of a receipt queue. Body is the text MNS
// clients receive as MessageBody (the base64 of the receipt JSON).
type QueueMessage struct {
	ID         string
	Queue      string
	AccountUID string
	ReceiptID  string
	Body       string
	BodyMD5    string // upper-case hex MD5 of Body
	Priority   int
	EnqueuedAt time.Time
	// NextVisibleAt is when the message can be received (again).
	NextVisibleAt  time.Time
	FirstDequeueAt time.Time // zero until first received
	DequeueCount   int
	// Handle is the random part of the latest receipt handle ("" before
	// the first receive; the client's handle adds the message ID): only
	// the latest one deletes the message or changes its visibility.
	Handle    string
	ExpiresAt time.Time // end of retention
}

// PushDelivery is one receipt waiting to be pushed to the account's push
// URL for its message type, or a dead letter once its retries ran out.
type PushDelivery struct {
	ID          string // the receipt's ID
	AccountUID  string
	MessageType string
	Body        []byte // the receipt JSON
	CreatedAt   time.Time
	DueAt       time.Time // next attempt (or lease end while being pushed)
	Attempts    int       // failed attempts so far
	LastError   string
	Dead        bool
}

// PushFailure is the outcome of a failed push attempt of one delivery.
type PushFailure struct {
	ID    string
	Error string
	Next  time.Time
	Dead  bool
}

// RouteReceipt is what one outbox receipt turns into: at most one queue
// message and one push delivery, from the account's subscription.
type RouteReceipt struct {
	ReceiptID string
	Message   *QueueMessage // nil: no queue subscription
	Push      *PushDelivery // nil: no push subscription
}

// HandleRef names the message a receipt handle was issued for and the
// handle's random part, which the store compares with the current one.
type HandleRef struct {
	MessageID string
	Handle    string
}

// Errors of queue operations, besides ErrNotFound (no such message, or the
// handle expired).
var (
	// ErrStaleHandle: the handle is not the message's current one (it was
	// received again or its visibility changed since).
	ErrStaleHandle = errors.New("receipt handle is not current")
)

// QueueStats are the counts GetQueueAttributes reports.
type QueueStats struct {
	Active   int // visible now
	Inactive int // received and not yet visible again
	Delayed  int
}

// ReceiptStore keeps receipt subscriptions, routes outbox receipts and holds
// queue messages and push deliveries. Every method takes the account or
// queue it works on, and a queue belongs to exactly one account.
type ReceiptStore interface {
	// PutSubscription creates or replaces the subscription of
	// (s.AccountUID, s.MessageType); ErrNotFound when the account does not
	// exist.
	PutSubscription(ctx context.Context, s *Subscription) error
	// GetSubscription returns ErrNotFound when the account has none.
	GetSubscription(ctx context.Context, accountUID, messageType string) (*Subscription, error)
	// ListSubscriptions returns the account's subscriptions by message type.
	ListSubscriptions(ctx context.Context, accountUID string) ([]Subscription, error)
	// DeleteSubscription returns ErrNotFound when the account has none; the
	// queue's messages stay until their retention ends.
	DeleteSubscription(ctx context.Context, accountUID, messageType string) error

	// ListUnroutedReceipts returns up to limit outbox receipts that have not
	// been routed, oldest first.
	ListUnroutedReceipts(ctx context.Context, limit int) ([]Receipt, error)
	// RouteReceipts marks each receipt routed and creates its message and
	// delivery, in one transaction. A receipt already routed (by another
	// dispatcher) or unknown is skipped with nothing created; routed
	// reports which were routed by this call.
	RouteReceipts(ctx context.Context, routes []RouteReceipt, now time.Time) (routed []string, err error)
	// PurgeRoutedReceipts deletes receipts routed before before.
	PurgeRoutedReceipts(ctx context.Context, before time.Time) (int, error)

	// ReceiveMessages takes up to n messages of queue visible at now
	// (priority, then enqueue order), makes them invisible until now+
	// visibility, gives each handles[i] (len(handles) >= n), counts the
	// dequeue and returns them. None visible: an empty result.
	ReceiveMessages(ctx context.Context, queue string, n int, now time.Time, visibility time.Duration, handles []string) ([]QueueMessage, error)
	// PeekMessages returns up to n messages visible at now without
	// changing them.
	PeekMessages(ctx context.Context, queue string, n int, now time.Time) ([]QueueMessage, error)
	// DeleteMessages deletes messages by handle; errs[i] is nil,
	// ErrNotFound (no such message in queue, or its handle expired at now)
	// or ErrStaleHandle.
	DeleteMessages(ctx context.Context, queue string, refs []HandleRef, now time.Time) (errs []error, err error)
	// ChangeVisibility makes the message visible at now+visibility under
	// newHandle, with the errors of DeleteMessages.
	ChangeVisibility(ctx context.Context, queue string, ref HandleRef, newHandle string, now time.Time, visibility time.Duration) (*QueueMessage, error)
	// EnqueueMessage adds a message directly (SendMessage, tests).
	EnqueueMessage(ctx context.Context, m *QueueMessage) error
	// QueueStats counts the messages of queue at now.
	QueueStats(ctx context.Context, queue string, now time.Time) (QueueStats, error)
	// PurgeQueueMessages deletes messages whose retention ended at now.
	PurgeQueueMessages(ctx context.Context, now time.Time) (int, error)

	// ClaimPushDeliveries takes up to limit live deliveries due at now,
	// oldest first, and pushes their DueAt to lease (so that a crash
	// retries them after the lease and a second worker skips them).
	ClaimPushDeliveries(ctx context.Context, now, lease time.Time, limit int) ([]PushDelivery, error)
	// CompletePushDeliveries deletes delivered ones.
	CompletePushDeliveries(ctx context.Context, ids []string) error
	// ReleasePushDeliveries ends the lease of claimed deliveries that were
	// not pushed (the pusher had no room for them): due again at due, no
	// attempt counted. Dead letters and unknown IDs are left alone.
	ReleasePushDeliveries(ctx context.Context, ids []string, due time.Time) error
	// FailPushDeliveries records a failed attempt of each: Attempts+1,
	// LastError, and either DueAt = Next or, with Dead, a dead letter.
	FailPushDeliveries(ctx context.Context, fails []PushFailure) error
	// ListDeadLetters returns the account's dead letters, oldest first, at
	// most limit (<= 0: 100).
	ListDeadLetters(ctx context.Context, accountUID string, limit int) ([]PushDelivery, error)
	// RedriveDeadLetters makes the account's dead letters due at now with
	// no attempts; it returns how many.
	RedriveDeadLetters(ctx context.Context, accountUID string, now time.Time) (int, error)

	// RetryDeadLetter makes one dead letter of the account due at now with
	// no attempts; ErrNotFound unless id is a dead letter of the account.
	RetryDeadLetter(ctx context.Context, accountUID, id string, now time.Time) error
	// GetPushDeliveries returns the account's deliveries (waiting, leased
	// or dead) among ids, in ids' order; delivered ones are gone and
	// skipped.
	GetPushDeliveries(ctx context.Context, accountUID string, ids []string) ([]PushDelivery, error)
	// ListPushRetries returns the account's live deliveries that failed at
	// least once (waiting for their next attempt), soonest first, at most
	// limit (<= 0: 100).
	ListPushRetries(ctx context.Context, accountUID string, limit int) ([]PushDelivery, error)
	// ListReceipts returns the account's outbox receipts that f selects
	// (routed ones are kept until PurgeRoutedReceipts), newest first
	// (CreatedAt, then ID, descending).
	ListReceipts(ctx context.Context, f ReceiptFilter) ([]Receipt, error)

	// RecordPushAttempt keeps one push attempt (an ID is filled in when
	// empty) and the receipts it carried; ErrNotFound when the account does
	// not exist.
	RecordPushAttempt(ctx context.Context, a *PushAttempt) error
	// ListPushAttempts returns the attempts f selects, newest first (At,
	// then ID, descending). ReceiptIDs is not filled in.
	ListPushAttempts(ctx context.Context, f PushAttemptFilter) ([]PushAttempt, error)
	// PurgePushAttempts deletes the attempts made before before, and in
	// each group of one account, message type and kind (test pushes or
	// deliveries) all but the newest keep; it returns how many went.
	PurgePushAttempts(ctx context.Context, before time.Time, keep int) (int, error)
}

// ReceiptFilter selects receipts of one account; zero fields do not filter.
type ReceiptFilter struct {
	AccountUID  string
	CallID      string
	MessageType string
	Limit       int // <= 0: 100; at most 1000
}

// PushAttemptFilter selects push attempts of one account; zero fields do
// not filter.
type PushAttemptFilter struct {
	AccountUID  string
	MessageType string
	// ReceiptID selects the attempts that carried this receipt.
	ReceiptID string
	// Test selects test pushes (true) or deliveries (false); nil both.
	Test  *bool
	Limit int // <= 0: 100; at most 1000
}

// Push attempts are kept PushAttemptsAge, and at most PushAttemptsKept per
// account, message type and kind (test pushes apart): enough to follow a
// receipt through its retries, bounded whatever the traffic.
const (
	PushAttemptsKept = 1000
	PushAttemptsAge  = MaxRetention
	// MaxPushAnswer bounds the start of an answer kept with an attempt.
	MaxPushAnswer = 200
)

// PushAttempt is one HTTP push: a batch of Count receipts (ReceiptIDs),
// or the console's test receipt (Test). URL never carries a password.
type PushAttempt struct {
	ID          string
	AccountUID  string
	MessageType string
	At          time.Time // when the request started
	URL         string
	HTTPStatus  int // 0: no HTTP answer
	// Answer is the start of the receiver's answer (at most MaxPushAnswer
	// bytes of valid UTF-8), for the operator only. AnswerCode and
	// AnswerMsg are its "code" (as written) and "msg" when the answer is
	// Dialtone's receipt format ({"code": <number>, "msg": ...}), the only
	// part of it an account user is shown.
	Answer     string
	AnswerCode string
	AnswerMsg  string
	Latency    time.Duration
	Error      string // "": accepted
	// Rule is the egress policy's rule when it refused the URL.
	Rule       string
	ReceiptIDs []string
	Count      int
	Test       bool
	// NextRetry is when the batch is pushed again after this failed
	// attempt (the earliest of its receipts); zero when it was accepted
	// or given up (Dead: its receipts became dead letters).
	NextRetry time.Time
	Dead      bool
}
