package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/engine"
	"github.com/dialtone-voice/dialtone/mns"
	"github.com/dialtone-voice/dialtone/pgnotify"
	"github.com/dialtone-voice/dialtone/postgres"
)

// Several nodes on one store. Every node takes API requests; the node that
// accepts a call starts it itself while it runs fewer than MaxLiveCalls,
// and otherwise leaves it queued for any node to claim. Each node runs:
//
//   - a claimer, woken by a signal (PostgreSQL NOTIFY on dialtone_calls,
//     or in-process for SQLite) and by a sweep every second, that claims
//     free queued calls (dialtone.ClusterStore.ClaimCalls) up to its
//     capacity and starts them;
//   - a heartbeat (the nodes table), every NodeLease/3;
//   - a reaper, on the same period, that ends the live calls of nodes
//     whose heartbeat is older than NodeLease (status 999999, a reason
//     naming the node, and their receipts) and frees their queued calls.
//
// "Dialled at most once" does not depend on any of this being timely: the
// engine stores state dialing with the Version check before it originates,
// a claim bumps Version, and an end by a reaper or a cancel does too, so
// of two nodes holding the same call at most one ever dials it, and a node
// that finds its call ended elsewhere hangs up.

// ClusterConfig tunes the node's part in a cluster; zero values take the
// defaults. A single SQLite node runs the same loops against itself.
type ClusterConfig struct {
	// MaxLiveCalls is how many calls this node runs at once; beyond it,
	// accepted calls wait queued for a node with room. Default 10,000.
	MaxLiveCalls int
	// NodeLease is how long a node may miss heartbeats before the others
	// take it for dead, and how long a claim of a queued call holds.
	// Default 15 s.
	NodeLease time.Duration
	// Sweep is the period of the claimer's scan without a signal; default
	// 1 s.
	Sweep time.Duration
}

// Defaults of ClusterConfig.
const (
	DefaultMaxLiveCalls = 10000
	DefaultNodeLease    = 15 * time.Second
	defaultSweep        = time.Second
	// claimBatch bounds one ClaimCalls; a node with more room claims again.
	claimBatch = 64
	// clusterOpTimeout bounds one store operation of the loops.
	clusterOpTimeout = 10 * time.Second
)

type cluster struct {
	log      *slog.Logger
	cfg      ClusterConfig
	store    dialtone.ClusterStore
	calls    engine.Store
	engine   *engine.Engine
	node     string
	pg       *postgres.Store    // nil unless the store is PostgreSQL
	listener *pgnotify.Listener // nil unless the store is PostgreSQL
	waker    mns.Waker          // receipt queues' long polls
	kick     chan struct{}      // wakes the claimer
	stop     context.CancelFunc // ends the loops
	wg       sync.WaitGroup     // the loops
	started  bool
}

// initCluster prepares the cluster parts that receipt delivery and the
// engine need before they exist; it runs first in Open.
func (n *Node) initCluster() {
	cfg := n.cfg.Calls.Cluster
	if cfg.MaxLiveCalls <= 0 {
		cfg.MaxLiveCalls = DefaultMaxLiveCalls
	}
	if cfg.NodeLease <= 0 {
		cfg.NodeLease = DefaultNodeLease
	}
	if cfg.Sweep <= 0 {
		cfg.Sweep = defaultSweep
	}
	c := &cluster{log: n.log.With("component", "cluster"), cfg: cfg, kick: make(chan struct{}, 1), waker: &mns.LocalWaker{}}
	c.store = n.store
	if pg, ok := n.store.(*postgres.Store); ok {
		c.pg = pg
		c.listener = pgnotify.NewListener(pg.DSN(), n.log)
		c.waker = pgnotify.NewWaker(c.listener, pg, n.log)
		c.listener.Handle(pgnotify.ChannelCalls, func(string) { c.signal() })
		c.listener.Handle(pgnotify.ChannelCancel, c.onCancel)
		// Signals sent while the connection was down are lost: look now.
		c.listener.OnConnect(c.signal)
	}
	n.cluster = c
}

// clusterWaker is the waker of the receipt queues' long polls.
func (n *Node) clusterWaker() mns.Waker { return n.cluster.waker }

// attachEngine completes the cluster once the engine exists; it returns
// the dialer the API hands accepted calls to.
func (c *cluster) attachEngine(e *engine.Engine, st engine.Store) *clusterDialer {
	c.engine, c.calls, c.node = e, st, e.Node()
	return &clusterDialer{Engine: e, c: c}
}

// cancelElsewhere is the engine's CancelElsewhere hook.
func (c *cluster) cancelElsewhere(ctx context.Context, node, accountUID, callID string) {
	if c.pg == nil {
		return // one process: no other node runs calls
	}
	if err := c.pg.Notify(ctx, pgnotify.ChannelCancel, node+" "+accountUID+" "+callID); err != nil {
		// The end is stored; the owner hangs up at its next write.
		c.log.Warn("cannot tell the owner node of a cancel", "node", node, "call_id", callID, "err", err)
	}
}

// onCancel stops a call cancelled on another node if it runs here.
func (c *cluster) onCancel(payload string) {
	f := strings.Fields(payload)
	if len(f) != 3 || f[0] != c.node || c.engine == nil {
		return
	}
	if c.engine.StopLocal(f[1], f[2]) {
		c.log.Info("stopped a call cancelled on another node", "call_id", f[2])
	}
}

// signal wakes this node's claimer without blocking.
func (c *cluster) signal() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// clusterDialer is the API's dialer: the engine, with Start deferring to
// the claimers when this node is full.
type clusterDialer struct {
	*engine.Engine
	c *cluster
}

// Start runs the call here when there is room; otherwise it leaves the
// call queued and wakes the claimers of every node.
func (d *clusterDialer) Start(ctx context.Context, call *dialtone.Call) error {
	if d.c.store == nil || d.Engine.Live() < d.c.cfg.MaxLiveCalls {
		err := d.Engine.Start(ctx, call)
		if !errors.Is(err, engine.ErrShuttingDown) || d.c.store == nil {
			return err
		}
		// Shutting down: the call is stored queued, another node (or
		// this one's next run) claims it.
	}
	d.c.signal()
	if d.c.pg != nil {
		if err := d.c.pg.Notify(ctx, pgnotify.ChannelCalls, ""); err != nil {
			d.c.log.Warn("cannot signal a queued call; the sweeps will find it", "err", err)
		}
	}
	return nil
}

// start runs at node start, before the API accepts requests: it announces
// the node, ends what its previous run left live, frees what that run had
// claimed, and starts the loops. Without a ClusterStore it falls back to
// the single-node Recover.
func (c *cluster) start(ctx context.Context) error {
	if c.store == nil {
		return c.engine.Recover(ctx)
	}
	// A heartbeat first: until it lands, this node's live calls would look
	// orphaned to other nodes' reapers.
	var errs []error
	if err := c.store.Heartbeat(ctx, c.node, time.Now()); err != nil {
		errs = append(errs, err)
	}
	if err := c.engine.RecoverLive(ctx); err != nil {
		errs = append(errs, err)
	}
	if _, err := c.store.ReleaseCalls(ctx, c.node); err != nil {
		errs = append(errs, err)
	}
	loops, cancel := context.WithCancel(context.Background())
	c.stop = cancel
	run := func(f func(context.Context)) {
		c.wg.Add(1)
		go func() { defer c.wg.Done(); f(loops) }()
	}
	if c.listener != nil {
		run(c.listener.Run)
		// Long polls and cancels of other nodes reach this one only once
		// it listens; a short wait makes that true before the node is
		// ready, without making a slow database block start-up.
		select {
		case <-c.listener.Ready():
		case <-time.After(5 * time.Second):
			c.log.Warn("notification listener not connected yet; continuing")
		}
	}
	run(c.heartbeats)
	run(c.claimer)
	c.started = true
	c.signal()
	return errors.Join(errs...)
}

// shutdown stops claiming, lets the engine end its live calls, then stops
// the other loops and removes the node's heartbeat row so that nobody
// reaps it.
func (c *cluster) shutdown(engineShutdown func()) {
	if !c.started {
		engineShutdown()
		return
	}
	c.stop()
	c.wg.Wait()
	engineShutdown()
	ctx, cancel := context.WithTimeout(context.Background(), clusterOpTimeout)
	defer cancel()
	if _, err := c.store.ReleaseCalls(ctx, c.node); err != nil {
		c.log.Warn("release queued calls", "err", err)
	}
	// Calls the engine had to abandon stay live under this name and, with
	// the row gone, are reaped as orphans by the next node that looks.
	if err := c.store.ForgetNode(ctx, c.node, time.Now().Add(time.Hour)); err != nil {
		c.log.Warn("remove heartbeat", "err", err)
	}
}

// heartbeats records this node as alive and reaps dead nodes, every third
// of the lease, so that one lost beat does not make it look dead.
func (c *cluster) heartbeats(ctx context.Context) {
	t := time.NewTicker(c.cfg.NodeLease / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		opCtx, cancel := context.WithTimeout(ctx, clusterOpTimeout)
		if err := c.store.Heartbeat(opCtx, c.node, time.Now()); err != nil && ctx.Err() == nil {
			c.log.Warn("heartbeat", "err", err)
		}
		c.reap(opCtx)
		cancel()
	}
}

// reap ends the live calls of dead nodes and frees their queued calls.
func (c *cluster) reap(ctx context.Context) {
	now := time.Now()
	before := now.Add(-c.cfg.NodeLease)
	dead, err := c.store.DeadNodes(ctx, c.node, before)
	if err != nil {
		if ctx.Err() == nil {
			c.log.Warn("list dead nodes", "err", err)
		}
		return
	}
	for _, d := range dead {
		if err := c.reapNode(ctx, d); err != nil {
			if ctx.Err() == nil {
				c.log.Warn("reap dead node", "node", d, "err", err)
			}
			continue
		}
		if err := c.store.ForgetNode(ctx, d, before); err != nil && ctx.Err() == nil {
			c.log.Warn("forget dead node", "node", d, "err", err)
		}
	}
}

func (c *cluster) reapNode(ctx context.Context, dead string) error {
	calls, err := c.calls.ListUnfinishedCalls(ctx, dead)
	if err != nil {
		return err
	}
	reason := fmt.Sprintf("node %s stopped sending heartbeats while the call was live", dead)
	var errs []error
	ended := 0
	for i := range calls {
		cl := &calls[i]
		if cl.State == dialtone.CallQueued {
			continue
		}
		done, err := c.engine.EndLost(ctx, cl, reason)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if done {
			ended++
		}
	}
	freed, err := c.store.ReleaseCalls(ctx, dead)
	if err != nil {
		errs = append(errs, err)
	}
	if ended > 0 || freed > 0 {
		c.log.Warn("reaped a dead node", "node", dead, "ended_calls", ended, "freed_queued_calls", freed)
		c.signal()
	}
	return errors.Join(errs...)
}

// claimer claims queued calls up to this node's capacity whenever it is
// signalled and on every sweep.
func (c *cluster) claimer(ctx context.Context) {
	t := time.NewTicker(c.cfg.Sweep)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.kick:
		case <-t.C:
		}
		c.claim(ctx)
	}
}

// claim starts claimed calls until the node is full or nothing is free;
// bounded so that a flood of queued calls cannot starve the sweep timer.
func (c *cluster) claim(ctx context.Context) {
	for range 64 {
		room := c.cfg.MaxLiveCalls - c.engine.Live()
		if room <= 0 {
			return
		}
		limit := min(room, claimBatch)
		opCtx, cancel := context.WithTimeout(ctx, clusterOpTimeout)
		calls, err := c.store.ClaimCalls(opCtx, c.node, limit, c.cfg.NodeLease, time.Now())
		cancel()
		if err != nil {
			if ctx.Err() == nil {
				c.log.Warn("claim queued calls", "err", err)
			}
			return
		}
		for i := range calls {
			// A call already running here (started by the API a moment
			// ago) is a conflict, and its run wins the dial.
			if err := c.engine.Start(context.WithoutCancel(ctx), &calls[i]); err != nil && !errors.Is(err, dialtone.ErrConflict) {
				c.log.Warn("start claimed call", "call_id", calls[i].ID, "err", err)
			}
		}
		if len(calls) < limit {
			return
		}
	}
}
