package dialtone

import (
	"context"
	"time"
)

// ClusterStore is the part of Store that several nodes sharing one store
// need: spreading queued calls over nodes and telling live nodes from dead
// ones. A single node runs the same claims against itself.
//
// Ownership of a call: Node and LeaseTill. A queued call is free when its
// Node is "" or its lease has run out; ClaimCalls gives free calls to one
// node, atomically and with Version+1, so that the same call is never
// handed to two nodes and a stale copy held by anyone else fails its next
// UpdateCall. A node dials a claimed call by storing state dialing (with
// the Version check) before it originates, which keeps "dialled at most
// once" whatever the claims did.
type ClusterStore interface {
	// ClaimCalls takes up to limit free queued calls (oldest first, by
	// CreatedAt then ID) for node: sets Node = node, LeaseTill = now+lease,
	// Version+1, and returns them as stored. Concurrent claimers, in this
	// or another process, never get the same call.
	ClaimCalls(ctx context.Context, node string, limit int, lease time.Duration, now time.Time) ([]Call, error)
	// ReleaseCalls frees the queued calls owned by node (Node = "",
	// LeaseTill zero, Version+1) and returns how many. Calls in other
	// states are left alone.
	ReleaseCalls(ctx context.Context, node string) (int, error)
	// Heartbeat records that node is alive at now (creating its row).
	Heartbeat(ctx context.Context, node string, now time.Time) error
	// DeadNodes lists, by name, the nodes other than self whose last
	// heartbeat is before before, and the nodes other than self that own a
	// call in a live state (neither queued nor ended), or hold slots
	// (LimitStore), but have no heartbeat row at all (a crash before the
	// first heartbeat, or a node renamed between runs).
	DeadNodes(ctx context.Context, self string, before time.Time) ([]string, error)
	// ForgetNode deletes node's heartbeat row if its last heartbeat is
	// before before (so that a reaper cannot erase a node that came back
	// meanwhile); unknown nodes are not an error.
	ForgetNode(ctx context.Context, node string, before time.Time) error
	// LiveNodes lists, by name, the nodes whose last heartbeat is at or
	// after since.
	LiveNodes(ctx context.Context, since time.Time) ([]string, error)
	// ClaimCall claims one queued call of the account for node, as
	// ClaimCalls would (Node, LeaseTill = now+lease, Version+1), when it is
	// free or already node's, and returns it as stored: a node claims a
	// call it runs before letting it wait for a slot, so that other
	// nodes' claimers leave it alone and their cancels reach it.
	// ErrNotFound unless the call is the account's; ErrConflict when it is
	// not queued or another node's lease on it still runs.
	ClaimCall(ctx context.Context, accountUID, id, node string, lease time.Duration, now time.Time) (*Call, error)
	// RenewClaims extends to till the lease of every queued call node
	// owns (the calls it keeps waiting), without changing their Version,
	// and returns how many.
	RenewClaims(ctx context.Context, node string, till time.Time) (int, error)
}
