package dialtone

import (
	"context"
	"time"
)

// Limits keeps the caps and rates that protect the operator's numbers and
// carrier: a display number's concurrency, a trunk's max_calls and
// max_cps, an account's request rates per action. A single node keeps
// them in memory; nodes sharing one PostgreSQL store keep slots and paces
// in it, so that a cap holds for the whole cluster (package cluster has
// both implementations behind this one interface, chosen at start).
//
// A slot is held by a holder (a call, a SIP leg) under a key (a display
// number, a trunk) until Release; a key's cap is the most slots held
// under it at once.
type Limits interface {
	// TryAcquire takes, for holder, one slot under each of caps (a key
	// listed twice takes two), all or none, without waiting: false when a
	// key is at its cap. Caps with Max <= 0 are not limited.
	TryAcquire(ctx context.Context, holder string, caps []SlotCap) (bool, error)
	// Acquire is TryAcquire waiting, behind the holders already waiting on
	// this node for the same keys, until the slots are free or ctx ends
	// (its error is then returned and nothing is held).
	Acquire(ctx context.Context, holder string, caps []SlotCap) error
	// Release gives back every slot holder holds; releasing nothing is not
	// an error.
	Release(ctx context.Context, holder string) error
	// Pace waits until one more start under key keeps the starts under key
	// at least 1/perSecond apart (perSecond <= 0: no wait), or until ctx
	// ends. A start whose wait is cut short still counts.
	Pace(ctx context.Context, key string, perSecond float64) error
	// Allow reports whether one more request under key fits a token
	// bucket of perSecond with burst, at now; it never waits nor touches a
	// store (in a cluster each node admits its share, see package cluster).
	Allow(key string, perSecond float64, burst int, now time.Time) bool
}

// SlotCap is one slot wanted under Key, whose cap is Max.
type SlotCap struct {
	Key string
	Max int
}

// NumberSlotKey is the key of a display number's concurrency.
func NumberSlotKey(accountUID, number string) string { return "number:" + accountUID + ":" + number }

// TrunkSlotKey is the key of a SIP trunk's max_calls.
func TrunkSlotKey(trunk string) string { return "trunk:" + trunk }

// TrunkPaceKey is the key of a SIP trunk's max_cps.
func TrunkPaceKey(trunk string) string { return "cps:" + trunk }

// SlotWant is what a holder takes under one key: N slots, with at most
// Max held under the key once they are taken.
type SlotWant struct {
	Key string
	N   int
	Max int
}

// SlotUsage is how many slots one node holds under one key.
type SlotUsage struct {
	Key  string
	Node string
	Held int
}

// LimitStore keeps the slots and paces of nodes that share the store
// (Limits in a cluster). Every method is one atomic step, exact however
// many nodes run it at once.
type LimitStore interface {
	// TakeSlots records that holder, on node, holds want's slots, all or
	// none: it reports false and records nothing when any key would then
	// hold more than its Max. A holder that already holds slots under one
	// of the keys is ErrConflict. Wants with N <= 0 are ignored.
	TakeSlots(ctx context.Context, node, holder string, want []SlotWant, now time.Time) (bool, error)
	// ReleaseSlots gives back every slot holder holds and returns the keys
	// they were under (sorted, each once; empty when it held none).
	ReleaseSlots(ctx context.Context, holder string) ([]string, error)
	// ReleaseNodeSlots gives back every slot node holds (a dead node, or a
	// node's previous run) and returns the keys they were under.
	ReleaseNodeSlots(ctx context.Context, node string) ([]string, error)
	// SlotUsage lists the slots held, per key and node, ordered by key
	// then node.
	SlotUsage(ctx context.Context) ([]SlotUsage, error)
	// PaceStart reserves the next start under key: at now when the last
	// reserved start is at least interval before now, else interval after
	// the last reserved start. It returns the reserved start.
	PaceStart(ctx context.Context, key string, interval time.Duration, now time.Time) (time.Time, error)
}

// SharedNetwork is the simulated network's configuration as the nodes of
// a cluster share it: Config is its encoding (the simulator's to read;
// the store keeps it opaque), Version grows with every change.
type SharedNetwork struct {
	Config    string
	Version   int64
	UpdatedBy string
	UpdatedAt time.Time
}

// NetworkStore keeps the shared simulated network.
type NetworkStore interface {
	// GetNetwork returns the stored network; ErrNotFound when none was
	// stored.
	GetNetwork(ctx context.Context) (*SharedNetwork, error)
	// PutNetwork stores config as the network, changed by by at now. With
	// base > 0 the change is made from that version: another stored
	// version is ErrConflict. Storing the config already stored changes
	// nothing and reports false. It returns the network as stored.
	PutNetwork(ctx context.Context, config, by string, base int64, now time.Time) (*SharedNetwork, bool, error)
}
