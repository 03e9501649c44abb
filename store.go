package dialtone

import (
	"context"
	"time"
)

// Store is the persistence boundary, the whole of it: every part a caller
// may need is in this one interface, so nothing discovers optional parts at
// run time. Every implementation (sqlite, postgres, both over sqlstore)
// passes the same conformance suite (package storetest). Methods that touch
// tenant data take the account UID and must never return another account's
// rows, whatever the other arguments say.
type Store interface {
	AccountStore
	KeyStore
	NonceStore
	CallStore
	ResourceStore
	AdminTokenStore
	ReceiptStore
	ClusterStore
	LimitStore
	NetworkStore
	ConsoleUserStore
	ConsoleSessionStore
	CallStatsStore
	CertStore
	AuditStore
	// Atomic runs fn with a view of the store whose writes all commit
	// together when fn returns nil, and are all discarded when it returns an
	// error (which Atomic returns). Reads through the view see its own
	// writes; other users of the store see none of them before the commit.
	// fn may run more than once (a store retries a transaction the database
	// aborted to resolve a conflict), so it must act only through the view
	// and reset what it collects; it must not use the view after returning,
	// nor from several goroutines, nor the outer store (whose writes may wait
	// for this transaction). Atomic on a view nests: the inner fn's writes
	// are undone alone when it fails.
	Atomic(ctx context.Context, fn func(ctx context.Context, tx Store) error) error
	// Ping reports whether the store can serve requests (readiness).
	Ping(ctx context.Context) error
	// Close releases the store; it is safe to call once after all use ends.
	Close() error
}

// AccountStore keeps tenant accounts.
type AccountStore interface {
	// PutAccount creates or replaces the account with a.UID.
	PutAccount(ctx context.Context, a *Account) error
	// GetAccount returns ErrNotFound for an unknown UID.
	GetAccount(ctx context.Context, uid string) (*Account, error)
	ListAccounts(ctx context.Context) ([]Account, error)
}

// KeyStore keeps access keys (secrets sealed at rest) and temporary
// credentials.
type KeyStore interface {
	// PutAccessKey creates or replaces a key. It returns ErrNotFound when the
	// account does not exist and ErrConflict when the ID belongs to another
	// account.
	PutAccessKey(ctx context.Context, k *AccessKey) error
	// GetAccessKey finds a key by ID alone (authentication does not know the
	// account yet); ErrNotFound when unknown.
	GetAccessKey(ctx context.Context, id string) (*AccessKey, error)
	ListAccessKeys(ctx context.Context, accountUID string) ([]AccessKey, error)
	// DeleteAccessKey returns ErrNotFound unless the key exists in that account.
	DeleteAccessKey(ctx context.Context, accountUID, id string) error

	PutTempCredential(ctx context.Context, c *TempCredential) error
	// GetTempCredential returns ErrNotFound when unknown; expired credentials
	// may still be returned (callers check Expired) until purged.
	GetTempCredential(ctx context.Context, accessKeyID string) (*TempCredential, error)
	PurgeTempCredentials(ctx context.Context, now time.Time) (int, error)
}

// NonceStore remembers request nonces so that a signed request cannot be
// replayed; it survives restarts and is shared by every node.
type NonceStore interface {
	// UseNonce records nonce under scope (the access key ID) until expires and
	// reports true, or reports false when it is already recorded and unexpired.
	UseNonce(ctx context.Context, scope, nonce string, now, expires time.Time) (bool, error)
	PurgeNonces(ctx context.Context, now time.Time) (int, error)
}

// CallStore keeps calls, their events and the receipts they cause.
type CallStore interface {
	// CreateCall inserts a new call with Version 1 (whatever c.Version says;
	// c.Version is set to 1 on success); ErrConflict when the ID exists in
	// any account, ErrNotFound when the account does not. With a non-nil
	// guard it first counts the account's calls to the same callee created
	// in (Now-1m, Now], (Now-1h, Now] and (Now-24h, Now] and refuses with
	// *FlowLimitError for the first window (minute, hour, day) whose count
	// has reached its limit (limits <= 0 are unlimited), atomically with the
	// insert, so two concurrent requests cannot both pass a limit of one. A
	// refused call is not stored and does not count.
	CreateCall(ctx context.Context, c *Call, guard *FlowGuard) error
	// GetCall returns ErrNotFound unless the call exists in that account.
	GetCall(ctx context.Context, accountUID, id string) (*Call, error)
	// UpdateCall writes ch.Call (whose Version must equal the stored one, else
	// ErrConflict; the stored Version becomes Version+1 and ch.Call.Version is
	// updated), appends ch.Events and inserts ch.Receipts into the outbox, all
	// in one transaction. ErrNotFound unless the call exists in
	// ch.Call.AccountUID. ID, AccountUID and CreatedAt, and what the call
	// was asked to do (Kind, ProdID, Caller, Callee, the show numbers,
	// OutID, Params), are fixed at creation and not rewritten: a change
	// writes the call's progress (State, the status fields, DTMF, the leg
	// times, Duration, Node, LeaseTill). Events and receipts belong to ch.Call:
	// their CallID (and a receipt's AccountUID) may be left empty and are
	// filled in, and must match when set. An event Seq (>= 1) already
	// recorded for the call or a receipt ID already in the outbox fails the
	// whole change with ErrConflict, writing nothing; on any error
	// ch.Call.Version is left as it was.
	UpdateCall(ctx context.Context, ch *CallChange) error
	// ListCallEvents returns a call's events in Seq order (ErrNotFound unless
	// the call is the account's).
	ListCallEvents(ctx context.Context, accountUID, callID string) ([]CallEvent, error)
	// ListCalls returns the account's calls matching f, newest first
	// (CreatedAt descending, then ID descending), at most f.Limit of them.
	ListCalls(ctx context.Context, f CallFilter) ([]Call, error)
	// ListUnfinishedCalls returns every call (any account) whose State is not
	// CallEnded, owned by node ("" = any node), oldest first (CreatedAt,
	// then ID): used at start-up to end what a crash left live and to dial
	// what was never dialled.
	ListUnfinishedCalls(ctx context.Context, node string) ([]Call, error)
}

// FlowGuard is the per-callee flow control checked by CreateCall.
type FlowGuard struct {
	Limits FlowControl
	// Now ends the windows; it is passed in (not read from a clock inside
	// the store) so that the engine's scaled test clock applies.
	Now time.Time
}

// CallChange is one atomic step of a call.
type CallChange struct {
	Call     *Call
	Events   []CallEvent
	Receipts []Receipt
}

// CallFilter selects calls of one account. Zero fields do not filter.
type CallFilter struct {
	AccountUID string
	From, To   time.Time // CreatedAt in [From, To)
	// Number and OutID match a part of the value, ASCII letters in either
	// case ("0571" finds 057188880000; "%" and "_" are plain characters):
	// Number of the caller, the callee or a show number.
	Number     string
	StatusCode string
	Kind       CallKind
	OutID      string
	Limit      int // <= 0: 100; at most 1000
	// Before is an ID cursor: only calls ordered after this one (created
	// before it, or at the same millisecond with a smaller ID) are listed.
	// ErrNotFound when it is not one of the account's calls.
	Before string
}

// AccountSettings are per-account settings of the call engine.
type AccountSettings struct {
	// FlowControl is stored as given: a zero limit means unlimited, not
	// "default" (defaults apply only while nothing is stored).
	FlowControl FlowControl
	// SmartCallCallbackURL receives SmartCall conversation callbacks.
	SmartCallCallbackURL string
	// SmartCallCallbackTrusted says the operator set the callback URL (see
	// URLChecker); SmartCallCallbackSecret signs the callbacks (stores
	// keep it sealed).
	SmartCallCallbackTrusted bool
	SmartCallCallbackSecret  SigningSecret
	// Blacklist holds forbidden keywords for template variables (in addition
	// to the operator's global list, kept under account UID "").
	Blacklist []string
	// MachineDetection is what calls that play to the callee do about
	// answering machines ("" is off).
	MachineDetection MachineDetection
	// SmartCallStreamURL, when set, connects every answered SmartCall to
	// this media stream (ws:// or wss://) at once; ForkStreamURL streams a
	// listen-only copy of the answered calls of ForkStreamKinds (all of
	// them when empty). Each *Trusted says the operator set the URL.
	SmartCallStreamURL     string
	SmartCallStreamTrusted bool
	ForkStreamURL          string
	ForkStreamTrusted      bool
	ForkStreamKinds        []ForkKind
}

// ResourceStore keeps the console resources that calls use. Every method is
// scoped to one account: another account's resource is ErrNotFound. Put*
// create or replace every field (CreatedAt included) and return ErrNotFound
// when the account does not exist; Get* and Delete* return ErrNotFound when
// the resource is not the account's; List* return an empty result, ordered
// by number or code, when there is nothing to list.
type ResourceStore interface {
	PutNumber(ctx context.Context, n *Number) error
	GetNumber(ctx context.Context, accountUID, number string) (*Number, error)
	ListNumbers(ctx context.Context, accountUID string) ([]Number, error)
	DeleteNumber(ctx context.Context, accountUID, number string) error

	PutTemplate(ctx context.Context, t *TTSTemplate) error
	GetTemplate(ctx context.Context, accountUID, code string) (*TTSTemplate, error)
	ListTemplates(ctx context.Context, accountUID string) ([]TTSTemplate, error)
	DeleteTemplate(ctx context.Context, accountUID, code string) error

	PutVoiceFile(ctx context.Context, f *VoiceFile) error
	GetVoiceFile(ctx context.Context, accountUID, code string) (*VoiceFile, error)
	ListVoiceFiles(ctx context.Context, accountUID string) ([]VoiceFile, error)
	DeleteVoiceFile(ctx context.Context, accountUID, code string) error

	// GetAccountSettings returns defaults (DefaultFlowControl, no URL, no
	// blacklist) for an account that has none stored, known or not. Account
	// "" holds the operator's global blacklist and needs no account row.
	GetAccountSettings(ctx context.Context, accountUID string) (*AccountSettings, error)
	// PutAccountSettings replaces every setting; ErrNotFound when the
	// account (other than "") does not exist.
	PutAccountSettings(ctx context.Context, accountUID string, s *AccountSettings) error
}

// Sealer encrypts secrets at rest. Implementations use authenticated
// encryption so tampering is detected on Open.
type Sealer interface {
	Seal(plaintext []byte) ([]byte, error)
	Open(ciphertext []byte) ([]byte, error)
}

// Clock is the time source; the engine runs on a scaled clock in tests.
type Clock interface {
	Now() time.Time
}

// SystemClock is the wall clock.
type SystemClock struct{}

func (SystemClock) Now() time.Time { return time.Now() }
