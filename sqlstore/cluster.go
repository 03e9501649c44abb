package sqlstore

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/dialtone-voice/dialtone"
)

// qualifiedCallCols is callCols naming the calls table, for statements
// that join another relation with an id column.
var qualifiedCallCols = "calls." + strings.Join(strings.Split(strings.Join(strings.Fields(callCols), " "), ", "), ", calls.")

// The statements of the cluster's part of the store. The queued-call
// conditions repeat the literal state of the calls_queued partial index.
var (
	// The claim picks the oldest free queued calls and takes them in one
	// statement. With row locks (PostgreSQL) concurrent claimers on other
	// nodes pass over each other's rows instead of queueing behind them;
	// at READ COMMITTED the row lock re-checks the inner WHERE on the
	// latest row version, so a call that was dialled (or claimed)
	// meanwhile drops out. The CTE is MATERIALIZED so that it runs exactly
	// once: written as "id IN (subquery)" a planner may rescan the
	// subquery and claim more than limit rows.
	sqlClaimCalls = `
WITH picked AS MATERIALIZED (
    SELECT id FROM calls
    WHERE state = 'queued' AND (node = '' OR lease_till < $3)
    ORDER BY created_at, id{C}
    LIMIT $4{SKIP LOCKED})
UPDATE calls SET node = $1, lease_till = $2, version = version + 1
FROM picked
WHERE calls.id = picked.id AND calls.state = 'queued'
RETURNING ` + qualifiedCallCols
)

const (
	sqlReleaseCalls = `UPDATE calls SET node = '', lease_till = 0, version = version + 1 WHERE state = 'queued' AND node = $1`
	sqlHeartbeat    = `INSERT INTO nodes (name, last_seen) VALUES ($1, $2)
ON CONFLICT (name) DO UPDATE SET last_seen = excluded.last_seen`
	sqlDeadNodes = `
SELECT name FROM nodes WHERE last_seen < $1 AND name <> $2
UNION
SELECT DISTINCT node FROM calls
WHERE state <> 'ended' AND state <> 'queued' AND node <> '' AND node <> $2
  AND node NOT IN (SELECT name FROM nodes)
UNION
SELECT DISTINCT node FROM limit_slots
WHERE node <> $2 AND node NOT IN (SELECT name FROM nodes)`
	sqlForgetNode = `DELETE FROM nodes WHERE name = $1 AND last_seen < $2`
	sqlLiveNodes  = `SELECT name FROM nodes WHERE last_seen >= $1`
	// One call claimed for a node that runs it (see ClaimCall): free, its
	// lease run out, or the node's own already.
	sqlClaimCall = `UPDATE calls SET node = $1, lease_till = $2, version = version + 1
WHERE account_uid = $3 AND id = $4 AND state = 'queued' AND (node = '' OR node = $1 OR lease_till < $5)
RETURNING ` + callCols
	// Leases of a node's waiting calls, extended without a new Version:
	// the owner's copies stay current.
	sqlRenewClaims = `UPDATE calls SET lease_till = $2 WHERE state = 'queued' AND node = $1 AND lease_till < $2`
)

// LiveNodes lists the nodes seen since since.
func (s *Store) LiveNodes(ctx context.Context, since time.Time) ([]string, error) {
	names, err := collect(ctx, s.db.Reader(), scanName, sqlLiveNodes, toMillis(since))
	if err != nil {
		return nil, s.errorf("live nodes: %w", err)
	}
	sort.Strings(names)
	return names, nil
}

// ClaimCall claims one queued call for node.
func (s *Store) ClaimCall(ctx context.Context, accountUID, id, node string, lease time.Duration, now time.Time) (*dialtone.Call, error) {
	if node == "" {
		return nil, s.errorf("claim call: empty node name")
	}
	var out *dialtone.Call
	err := s.db.Write(ctx, func(ctx context.Context, q Querier) error {
		out = nil
		c, err := scanCall(q.QueryRow(ctx, sqlClaimCall, node, toMillis(now.Add(lease)), accountUID, id, toMillis(now)))
		if isNoRows(err) {
			return nil
		}
		out = c
		return err
	})
	if err != nil {
		return nil, s.errorf("claim call %s for %s: %w", id, node, err)
	}
	if out != nil {
		return out, nil
	}
	c, err := s.GetCall(ctx, accountUID, id)
	if err != nil {
		return nil, err
	}
	if c.State != dialtone.CallQueued {
		return nil, s.errorf("claim call %s for %s: it is %s: %w", id, node, c.State, dialtone.ErrConflict)
	}
	return nil, s.errorf("claim call %s for %s: node %s holds it until %s: %w", id, node, c.Node, c.LeaseTill.Format(time.RFC3339Nano), dialtone.ErrConflict)
}

// RenewClaims extends the leases of node's queued calls.
func (s *Store) RenewClaims(ctx context.Context, node string, till time.Time) (int, error) {
	n, err := s.execCount(ctx, sqlRenewClaims, node, toMillis(till))
	if err != nil {
		return 0, s.errorf("renew claims of %s: %w", node, err)
	}
	return n, nil
}

// ClaimCalls takes up to limit free queued calls for node, in one
// transaction.
func (s *Store) ClaimCalls(ctx context.Context, node string, limit int, lease time.Duration, now time.Time) ([]dialtone.Call, error) {
	if node == "" {
		return nil, s.errorf("claim calls: empty node name")
	}
	if limit <= 0 {
		return []dialtone.Call{}, nil
	}
	var out []dialtone.Call
	err := s.db.Tx(ctx, func(ctx context.Context, q Querier) error {
		var err error
		out, err = collect(ctx, q, scanCall, s.q.claimCalls, node, toMillis(now.Add(lease)), toMillis(now), limit)
		return err
	})
	if err != nil {
		return nil, s.errorf("claim calls for %s: %w", node, err)
	}
	// RETURNING gives no order; callers dial oldest first.
	sortCalls(out)
	return out, nil
}

// ReleaseCalls frees node's queued calls.
func (s *Store) ReleaseCalls(ctx context.Context, node string) (int, error) {
	n, err := s.execCount(ctx, sqlReleaseCalls, node)
	if err != nil {
		return 0, s.errorf("release calls of %s: %w", node, err)
	}
	return n, nil
}

// Heartbeat records node as alive at now.
func (s *Store) Heartbeat(ctx context.Context, node string, now time.Time) error {
	if _, err := s.execCount(ctx, sqlHeartbeat, node, toMillis(now)); err != nil {
		return s.errorf("heartbeat of %s: %w", node, err)
	}
	return nil
}

// DeadNodes lists the nodes presumed dead (see dialtone.ClusterStore).
func (s *Store) DeadNodes(ctx context.Context, self string, before time.Time) ([]string, error) {
	names, err := collect(ctx, s.db.Reader(), scanName, sqlDeadNodes, toMillis(before), self)
	if err != nil {
		return nil, s.errorf("dead nodes: %w", err)
	}
	sort.Strings(names)
	return names, nil
}

func scanName(row Row) (*string, error) {
	var name string
	err := row.Scan(&name)
	return &name, err
}

// ForgetNode deletes node's heartbeat row.
func (s *Store) ForgetNode(ctx context.Context, node string, before time.Time) error {
	if _, err := s.execCount(ctx, sqlForgetNode, node, toMillis(before)); err != nil {
		return s.errorf("forget node %s: %w", node, err)
	}
	return nil
}
