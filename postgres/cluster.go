package postgres

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dialtone-voice/dialtone"
)

var _ dialtone.ClusterStore = (*Store)(nil)

// qualifiedCallCols is callCols naming the calls table, for statements
// that join another relation with an id column.
var qualifiedCallCols = "calls." + strings.Join(strings.Split(strings.Join(strings.Fields(callCols), " "), ", "), ", calls.")

// The statements of dialtone.ClusterStore. The queued-call conditions
// repeat the literal state of the calls_queued partial index.
var (
	// FOR UPDATE SKIP LOCKED makes concurrent claimers on other nodes pass
	// over each other's rows instead of queueing behind them; at READ
	// COMMITTED the row lock re-checks the inner WHERE on the latest row
	// version, so a call that was dialled (or claimed) meanwhile drops out.
	// The CTE is MATERIALIZED so that it runs exactly once: written as
	// "id IN (subquery)" the planner may rescan the subquery and claim more
	// than limit rows.
	sqlClaimCalls = `
WITH picked AS MATERIALIZED (
    SELECT id FROM calls
    WHERE state = 'queued' AND (node = '' OR lease_till < $3)
    ORDER BY created_at, id` + byteOrder + `
    LIMIT $4
    FOR UPDATE SKIP LOCKED)
UPDATE calls SET node = $1, lease_till = $2, version = version + 1
FROM picked
WHERE calls.id = picked.id AND calls.state = 'queued'
RETURNING ` + qualifiedCallCols
	sqlReleaseCalls = `UPDATE calls SET node = '', lease_till = 0, version = version + 1 WHERE state = 'queued' AND node = $1`
	sqlHeartbeat    = `INSERT INTO nodes (name, last_seen) VALUES ($1, $2)
ON CONFLICT (name) DO UPDATE SET last_seen = excluded.last_seen`
	sqlDeadNodes = `
SELECT name FROM nodes WHERE last_seen < $1 AND name <> $2
UNION
SELECT DISTINCT node FROM calls
WHERE state <> 'ended' AND state <> 'queued' AND node <> '' AND node <> $2
  AND node NOT IN (SELECT name FROM nodes)`
)

// ClaimCalls takes up to limit free queued calls for node in one statement.
func (s *Store) ClaimCalls(ctx context.Context, node string, limit int, lease time.Duration, now time.Time) ([]dialtone.Call, error) {
	if node == "" {
		return nil, fmt.Errorf("postgres: claim calls: empty node name")
	}
	if limit <= 0 {
		return []dialtone.Call{}, nil
	}
	var out []dialtone.Call
	err := s.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		out, err = collect(ctx, tx, scanCall, sqlClaimCalls, node, toMillis(now.Add(lease)), toMillis(now), limit)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: claim calls for %s: %w", node, err)
	}
	// RETURNING gives no order; callers dial oldest first.
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.Before(out[j].CreatedAt)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// ReleaseCalls frees node's queued calls.
func (s *Store) ReleaseCalls(ctx context.Context, node string) (int, error) {
	n, err := s.execCount(ctx, sqlReleaseCalls, node)
	if err != nil {
		return 0, fmt.Errorf("postgres: release calls of %s: %w", node, err)
	}
	return n, nil
}

// Heartbeat records node as alive at now.
func (s *Store) Heartbeat(ctx context.Context, node string, now time.Time) error {
	if _, err := s.db.Exec(ctx, sqlHeartbeat, node, toMillis(now)); err != nil {
		return fmt.Errorf("postgres: heartbeat of %s: %w", node, err)
	}
	return nil
}

// DeadNodes lists the nodes presumed dead (see dialtone.ClusterStore).
func (s *Store) DeadNodes(ctx context.Context, self string, before time.Time) ([]string, error) {
	rows, err := s.db.Query(ctx, sqlDeadNodes, toMillis(before), self)
	if err != nil {
		return nil, fmt.Errorf("postgres: dead nodes: %w", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("postgres: dead nodes: %w", err)
	}
	if names == nil {
		names = []string{}
	}
	sort.Strings(names)
	return names, nil
}

// ForgetNode deletes node's heartbeat row.
func (s *Store) ForgetNode(ctx context.Context, node string, before time.Time) error {
	if _, err := s.db.Exec(ctx, `DELETE FROM nodes WHERE name = $1 AND last_seen < $2`, node, toMillis(before)); err != nil {
		return fmt.Errorf("postgres: forget node %s: %w", node, err)
	}
	return nil
}

// Notify sends payload on a LISTEN/NOTIFY channel to every session of the
// database listening on it, including this node's own listener. The
// notification is delivered when (and only if) this statement's implicit
// transaction commits.
func (s *Store) Notify(ctx context.Context, channel, payload string) error {
	if _, err := s.db.Exec(ctx, `SELECT pg_notify($1, $2)`, channel, payload); err != nil {
		return fmt.Errorf("postgres: notify %s: %w", channel, err)
	}
	return nil
}

// DSN is the connection string the store was opened with, for components
// that need a dedicated connection of their own (a LISTEN session cannot
// share a pooled one).
func (s *Store) DSN() string { return s.pool.Config().ConnString() }
