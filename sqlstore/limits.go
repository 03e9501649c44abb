package sqlstore

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/dialtone-voice/dialtone"
)

// The limits of a cluster (dialtone.LimitStore): slots held per key and
// holder, counted when taken, and paces of starts per key.
//
// Taking slots is exact across nodes: on PostgreSQL each key's lock
// (Dialect.SlotLock, sorted keys first) and the insert that counts run as
// one batch, one implicit transaction in one round trip, and under READ
// COMMITTED the insert's snapshot, taken after the lock, sees every slot
// whose holder held the lock before; on SQLite the single writer makes the
// insert exclusive by itself. The insert takes every key's slots or none.

const (
	sqlReleaseSlots     = `DELETE FROM limit_slots WHERE holder = $1 RETURNING key`
	sqlReleaseNodeSlots = `DELETE FROM limit_slots WHERE node = $1 RETURNING key`
	sqlSlotUsage        = `SELECT key, node, SUM(n) FROM limit_slots GROUP BY key, node ORDER BY key{C}, node{C}`
	// The pace is a GCRA with a burst of one: next_at is the earliest
	// start the next caller may have; $2 is now, $3 the interval, $4 now
	// plus the interval (all in microseconds).
	sqlPaceStart = `INSERT INTO limit_paces (key, next_at) VALUES ($1, $4)
ON CONFLICT (key) DO UPDATE SET next_at = CASE WHEN limit_paces.next_at > $2 THEN limit_paces.next_at + $3 ELSE $4 END
RETURNING next_at`
)

// takeSlotsSQL is the insert of k keys' slots: every row of want, only if
// no key of want would then hold more than its cap. $1 holder, $2 node,
// $3 since; then key, n and cap for each key.
func takeSlotsSQL(k int) string {
	var b strings.Builder
	b.WriteString(`WITH want (key, n, cap) AS (VALUES `)
	for i := range k {
		if i > 0 {
			b.WriteString(`, `)
		}
		p := 4 + 3*i
		fmt.Fprintf(&b, `(CAST($%d AS TEXT), CAST($%d AS INTEGER), CAST($%d AS INTEGER))`, p, p+1, p+2)
	}
	b.WriteString(`)
INSERT INTO limit_slots (key, holder, node, n, since)
SELECT key, $1, $2, n, $3 FROM want
WHERE NOT EXISTS (
    SELECT 1 FROM want w
    WHERE w.n + (SELECT COALESCE(SUM(s.n), 0) FROM limit_slots s WHERE s.key = w.key) > w.cap)`)
	return b.String()
}

// takeSlotsSQLs caches takeSlotsSQL per key count (one or two keys in
// practice: a call's display numbers, a leg's trunk).
var takeSlotsSQLs sync.Map // int -> string

func takeSlotsQuery(k int) string {
	if q, ok := takeSlotsSQLs.Load(k); ok {
		return q.(string)
	}
	q := takeSlotsSQL(k)
	takeSlotsSQLs.Store(k, q)
	return q
}

// TakeSlots takes want's slots for holder on node, all or none.
func (s *Store) TakeSlots(ctx context.Context, node, holder string, want []dialtone.SlotWant, now time.Time) (bool, error) {
	if holder == "" {
		return false, s.errorf("take slots: empty holder")
	}
	merged := map[string]dialtone.SlotWant{}
	for _, w := range want {
		if w.N <= 0 {
			continue
		}
		m := merged[w.Key]
		m.Key, m.N, m.Max = w.Key, m.N+w.N, w.Max
		merged[w.Key] = m
	}
	if len(merged) == 0 {
		return true, nil
	}
	keys := make([]string, 0, len(merged))
	for k := range merged {
		keys = append(keys, k)
	}
	// Locks in one order on every node: two holders of the same two keys
	// cannot wait for each other.
	sort.Strings(keys)
	args := []any{holder, node, toMillis(now)}
	var batch []Stmt
	for _, k := range keys {
		w := merged[k]
		args = append(args, k, int64(w.N), int64(w.Max))
		if s.d.SlotLock != "" {
			batch = append(batch, Stmt{SQL: s.d.SlotLock, Args: []any{k}})
		}
	}
	batch = append(batch, Stmt{SQL: takeSlotsQuery(len(keys)), Args: args})
	var taken bool
	err := s.db.Write(ctx, func(ctx context.Context, q Querier) error {
		taken = false
		return q.ExecBatch(ctx, batch, func(i int, n int64, err error) error {
			if err != nil {
				return err
			}
			if i == len(batch)-1 {
				taken = n > 0
			}
			return nil
		})
	})
	if s.d.IsUnique(err) {
		return false, s.errorf("take slots of %s: it holds some already: %w", holder, dialtone.ErrConflict)
	}
	if err != nil {
		return false, s.errorf("take slots of %s: %w", holder, err)
	}
	return taken, nil
}

// ReleaseSlots gives back holder's slots.
func (s *Store) ReleaseSlots(ctx context.Context, holder string) ([]string, error) {
	keys, err := s.deleteSlots(ctx, sqlReleaseSlots, holder)
	if err != nil {
		return nil, s.errorf("release slots of %s: %w", holder, err)
	}
	return keys, nil
}

// ReleaseNodeSlots gives back node's slots.
func (s *Store) ReleaseNodeSlots(ctx context.Context, node string) ([]string, error) {
	keys, err := s.deleteSlots(ctx, sqlReleaseNodeSlots, node)
	if err != nil {
		return nil, s.errorf("release slots of node %s: %w", node, err)
	}
	return keys, nil
}

func (s *Store) deleteSlots(ctx context.Context, del, arg string) ([]string, error) {
	var keys []string
	err := s.db.Write(ctx, func(ctx context.Context, q Querier) error {
		var err error
		keys, err = collect(ctx, q, scanName, del, arg)
		return err
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(keys)
	return slicesCompact(keys), nil
}

func slicesCompact(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// SlotUsage lists the slots held per key and node.
func (s *Store) SlotUsage(ctx context.Context) ([]dialtone.SlotUsage, error) {
	return listRows(ctx, s, "slot usage", func(row Row) (*dialtone.SlotUsage, error) {
		var u dialtone.SlotUsage
		var held int64
		err := row.Scan(&u.Key, &u.Node, &held)
		u.Held = int(held)
		return &u, err
	}, s.q.slotUsage)
}

// PaceStart reserves the next start under key.
func (s *Store) PaceStart(ctx context.Context, key string, interval time.Duration, now time.Time) (time.Time, error) {
	if interval < 0 {
		interval = 0
	}
	nowUS, ivUS := now.UnixMicro(), interval.Microseconds()
	var next int64
	err := s.db.Write(ctx, func(ctx context.Context, q Querier) error {
		return q.QueryRow(ctx, sqlPaceStart, key, nowUS, ivUS, nowUS+ivUS).Scan(&next)
	})
	if err != nil {
		return time.Time{}, s.errorf("pace %s: %w", key, err)
	}
	return time.UnixMicro(next - ivUS).UTC(), nil
}

// The shared simulated network (dialtone.NetworkStore), one row.
const (
	sqlGetNetwork = `SELECT config, version, updated_by, updated_at FROM sim_network WHERE id = 1`
	// The upsert changes the row only when the config differs (and, with
	// a base version $5 > 0, only from that version), atomically against
	// concurrent writers.
	sqlPutNetwork = `INSERT INTO sim_network (id, config, version, updated_by, updated_at) VALUES (1, $1, 1, $2, $3)
ON CONFLICT (id) DO UPDATE SET config = excluded.config, version = sim_network.version + 1,
    updated_by = excluded.updated_by, updated_at = excluded.updated_at
WHERE sim_network.config <> excluded.config AND (CAST($4 AS BIGINT) = 0 OR sim_network.version = CAST($4 AS BIGINT))`
)

func scanNetwork(row Row) (*dialtone.SharedNetwork, error) {
	var n dialtone.SharedNetwork
	var at int64
	err := row.Scan(&n.Config, &n.Version, &n.UpdatedBy, &at)
	n.UpdatedAt = fromMillis(at)
	return &n, err
}

// GetNetwork returns the shared network.
func (s *Store) GetNetwork(ctx context.Context) (*dialtone.SharedNetwork, error) {
	return getRow(ctx, s, "get network", scanNetwork, sqlGetNetwork)
}

// PutNetwork stores the shared network.
func (s *Store) PutNetwork(ctx context.Context, config, by string, base int64, now time.Time) (*dialtone.SharedNetwork, bool, error) {
	var (
		out     *dialtone.SharedNetwork
		changed bool
	)
	err := s.db.Tx(ctx, func(ctx context.Context, q Querier) error {
		out, changed = nil, false
		n, err := q.Exec(ctx, sqlPutNetwork, config, by, toMillis(now), base)
		if err != nil {
			return err
		}
		cur, err := scanNetwork(q.QueryRow(ctx, sqlGetNetwork))
		if err != nil {
			return err
		}
		out, changed = cur, n > 0
		if !changed && cur.Config != config {
			return fmt.Errorf("stored version %d, the change was made from %d: %w", cur.Version, base, dialtone.ErrConflict)
		}
		return nil
	})
	if err != nil {
		return nil, false, s.errorf("put network: %w", err)
	}
	return out, changed, nil
}
