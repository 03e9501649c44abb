package dialtone

import (
	"context"
	"time"
)

// AuditRecord is one committed change of a resource, as the resource
// service records it in the transaction of the change: who (the actor of
// dialtone.ActorOf: "admin-api", "console:<user>", "provision:<file>"),
// when, what. Detail never holds a secret: a secret's change is recorded
// as "set", "changed", "rotated" or "removed", never its value.
type AuditRecord struct {
	ID         string
	At         time.Time
	Actor      string
	AccountUID string // "" for the node's own resources (console users, the global blacklist)
	Resource   string // "subscription", "settings", "access_key", ...
	ResourceID string
	Action     string // "created", "updated", "deleted", "approved", ...
	Detail     map[string]string
}

// AuditFilter selects audit records, newest first. Zero fields do not
// filter.
type AuditFilter struct {
	// AccountUID selects one account's records; with Node, the node's own
	// ones (AccountUID "").
	AccountUID string
	Node       bool
	// Resource selects one kind of resource.
	Resource string
	// Before lists only records older than this one (an ID cursor);
	// ErrNotFound when it is not a record.
	Before string
	Limit  int // <= 0: 100; at most 1000
}

// AuditStore keeps the audit trail.
type AuditStore interface {
	// AppendAudit adds records (IDs filled in when empty).
	AppendAudit(ctx context.Context, recs []AuditRecord) error
	// ListAudit returns the records f selects, newest first (At, then ID,
	// descending).
	ListAudit(ctx context.Context, f AuditFilter) ([]AuditRecord, error)
	// PurgeAudit deletes records older than before.
	PurgeAudit(ctx context.Context, before time.Time) (int, error)
}

// AuditRetention is how long the node keeps audit records.
const AuditRetention = 400 * 24 * time.Hour
