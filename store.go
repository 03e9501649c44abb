package dialtone

import (
	"context"
	"time"
)

// Store is the persistence boundary. Every implementation (sqlite, postgres)
// passes the same conformance suite (package storetest). Methods that touch
// tenant data take the account UID and must never return another account's
// rows, whatever the other arguments say.
type Store interface {
	AccountStore
	KeyStore
	NonceStore
	CallStore
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

// CallStore keeps calls. The call engine issue extends it.
type CallStore interface {
	// CreateCall inserts a new call; ErrConflict when the ID exists.
	CreateCall(ctx context.Context, c *Call) error
	// GetCall returns ErrNotFound unless the call exists in that account.
	GetCall(ctx context.Context, accountUID, id string) (*Call, error)
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
