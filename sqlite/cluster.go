package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"time"

	"github.com/dialtone-voice/dialtone"
)

var _ dialtone.ClusterStore = (*Store)(nil)

// The statements of dialtone.ClusterStore. The queued-call conditions
// repeat the literal state of the calls_queued partial index.
const (
	sqlClaimCalls = `
UPDATE calls SET node = ?, lease_till = ?, version = version + 1
WHERE state = 'queued' AND id IN (
    SELECT id FROM calls
    WHERE state = 'queued' AND (node = '' OR lease_till < ?)
    ORDER BY created_at, id
    LIMIT ?)
RETURNING ` + callCols
	sqlReleaseCalls = `UPDATE calls SET node = '', lease_till = 0, version = version + 1 WHERE state = 'queued' AND node = ?`
	sqlHeartbeat    = `INSERT INTO nodes (name, last_seen) VALUES (?, ?)
ON CONFLICT (name) DO UPDATE SET last_seen = excluded.last_seen`
	sqlDeadNodes = `
SELECT name FROM nodes WHERE last_seen < ? AND name <> ?
UNION
SELECT DISTINCT node FROM calls
WHERE state <> 'ended' AND state <> 'queued' AND node <> '' AND node <> ?
  AND node NOT IN (SELECT name FROM nodes)`
)

// ClaimCalls takes up to limit free queued calls for node in one write
// transaction; the single writer makes it atomic against every other write
// of this process, and BEGIN IMMEDIATE against other processes.
func (s *Store) ClaimCalls(ctx context.Context, node string, limit int, lease time.Duration, now time.Time) ([]dialtone.Call, error) {
	if node == "" {
		return nil, fmt.Errorf("sqlite: claim calls: empty node name")
	}
	if limit <= 0 {
		return []dialtone.Call{}, nil
	}
	var out []dialtone.Call
	err := s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		out = out[:0] // the op may run again after a failed batch
		rows, err := tx.QueryContext(ctx, sqlClaimCalls, node, toMillis(now.Add(lease)), toMillis(now), limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			c, err := scanCall(rows)
			if err != nil {
				return err
			}
			out = append(out, *c)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: claim calls for %s: %w", node, err)
	}
	// RETURNING gives no order; callers dial oldest first.
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.Before(out[j].CreatedAt)
		}
		return out[i].ID < out[j].ID
	})
	if out == nil {
		out = []dialtone.Call{}
	}
	return out, nil
}

// ReleaseCalls frees node's queued calls.
func (s *Store) ReleaseCalls(ctx context.Context, node string) (int, error) {
	var n int64
	err := s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, sqlReleaseCalls, node)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("sqlite: release calls of %s: %w", node, err)
	}
	return int(n), nil
}

// Heartbeat records node as alive at now.
func (s *Store) Heartbeat(ctx context.Context, node string, now time.Time) error {
	err := s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, sqlHeartbeat, node, toMillis(now))
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: heartbeat of %s: %w", node, err)
	}
	return nil
}

// DeadNodes lists the nodes presumed dead (see dialtone.ClusterStore).
func (s *Store) DeadNodes(ctx context.Context, self string, before time.Time) ([]string, error) {
	rows, err := s.read.QueryContext(ctx, sqlDeadNodes, toMillis(before), self, self)
	if err != nil {
		return nil, fmt.Errorf("sqlite: dead nodes: %w", err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, fmt.Errorf("sqlite: dead nodes: %w", err)
		}
		out = append(out, name)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: dead nodes: %w", err)
	}
	sort.Strings(out)
	return out, nil
}

// ForgetNode deletes node's heartbeat row.
func (s *Store) ForgetNode(ctx context.Context, node string, before time.Time) error {
	err := s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM nodes WHERE name = ? AND last_seen < ?`, node, toMillis(before))
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: forget node %s: %w", node, err)
	}
	return nil
}
