// Package cluster coordinates the nodes that share one store. Every node
// takes API requests; the node that accepts a call starts it itself while
// it runs fewer than MaxLiveCalls, and otherwise leaves it queued for any
// node to claim. Each node runs:
//
//   - a claimer, woken by a signal on the bus and by a sweep every second,
//     that claims free queued calls (dialtone.ClusterStore.ClaimCalls) up
//     to its capacity and starts them;
//   - a heartbeat (the nodes table), every NodeLease/3;
//   - a reaper, on the same period, that ends the live calls of nodes
//     whose heartbeat is older than NodeLease (status 999999, a reason
//     naming the node, and their receipts) and frees their queued calls;
//   - cross-node cancel: a call cancelled on one node is stopped by the
//     node that runs it;
//   - the node's Limits (LocalLimits or SharedLimits, see limits.go): the
//     reaper gives back a dead node's slots with its calls, a start gives
//     back what the node's previous run held, the heartbeat renews the
//     claims of calls waiting for a slot and recounts the live nodes that
//     share the request rates.
//
// What differs between one process and several is the Bus that carries
// the signals ("a call is queued", "cancel this call", "a receipt queue has
// messages"), chosen once at start: LocalBus within one process (the
// embedded SQLite store), PostgresBus through LISTEN/NOTIFY for nodes on
// one PostgreSQL database. The loops are the same in both modes. A signal
// is only a hint to look at the store, which stays the truth: every loop
// also sweeps on a timer, so a signal lost while a connection was down
// delays work but never loses it.
//
// "Dialled at most once" does not depend on any of this being timely: the
// engine stores state dialing with the Version check before it originates,
// a claim bumps Version, and an end by a reaper or a cancel does too, so
// of two nodes holding the same call at most one ever dials it, and a node
// that finds its call ended elsewhere hangs up.
package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/mns"
)

// Config tunes the node's part in a cluster; zero values take the
// defaults.
type Config struct {
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

// Defaults of Config.
const (
	DefaultMaxLiveCalls = 10000
	DefaultNodeLease    = 15 * time.Second
	DefaultSweep        = time.Second
	// claimBatch bounds one ClaimCalls; a node with more room claims again.
	claimBatch = 64
	// opTimeout bounds one store operation of the loops.
	opTimeout = 10 * time.Second
	// readyWait bounds how long Start waits for the bus to hear the
	// other nodes.
	readyWait = 5 * time.Second
)

func (c *Config) defaults() {
	if c.MaxLiveCalls <= 0 {
		c.MaxLiveCalls = DefaultMaxLiveCalls
	}
	if c.NodeLease <= 0 {
		c.NodeLease = DefaultNodeLease
	}
	if c.Sweep <= 0 {
		c.Sweep = DefaultSweep
	}
}

// Store is what the cluster needs of the store (dialtone.Store has it).
type Store interface {
	dialtone.ClusterStore
	ListUnfinishedCalls(ctx context.Context, node string) ([]dialtone.Call, error)
}

// Engine is what the cluster needs of the node's call engine.
type Engine interface {
	// Node names this node.
	Node() string
	// Live counts the calls running on this node.
	Live() int
	// Start runs a stored queued call on this node.
	Start(ctx context.Context, c *dialtone.Call) error
	// StopLocal stops a call running here that was ended elsewhere.
	StopLocal(accountUID, callID string) bool
	// RecoverLive ends what this node's previous run left live.
	RecoverLive(ctx context.Context) error
	// EndLost ends in the store a live call of a dead node.
	EndLost(ctx context.Context, c *dialtone.Call, reason string) (bool, error)
}

// Bus carries the cluster's signals between nodes (LocalBus, PostgresBus).
// Handlers run on the bus's goroutine and must not block.
type Bus interface {
	// OnCallQueued registers fn to run when a call was left queued for
	// any node, and whenever signals may have been lost (a reconnection).
	OnCallQueued(fn func())
	// OnCancel registers fn to run when a call that node runs was
	// cancelled elsewhere.
	OnCancel(fn func(node, accountUID, callID string))
	// CallQueued tells every node, this one included, that a call waits.
	CallQueued(ctx context.Context) error
	// Cancel tells node to stop a call it runs.
	Cancel(ctx context.Context, node, accountUID, callID string) error
	// OnSlotsFreed registers fn to run when node gave back slots under
	// keys, and with node "" whenever signals may have been lost.
	OnSlotsFreed(fn func(node string, keys []string))
	// SlotsFreed tells every node that node gave back slots under keys.
	SlotsFreed(ctx context.Context, node string, keys []string) error
	// OnNodesChanged registers fn to run when a node joined or left, and
	// whenever signals may have been lost.
	OnNodesChanged(fn func())
	// NodesChanged tells every node that this one joined or left.
	NodesChanged(ctx context.Context) error
	// OnNetworkChanged registers fn to run when the shared simulated
	// network changed, and whenever signals may have been lost.
	OnNetworkChanged(fn func())
	// NetworkChanged tells every node, this one included, that the shared
	// simulated network changed.
	NetworkChanged(ctx context.Context) error
	// Waker wakes the receipt queues' long polls on every node.
	Waker() mns.Waker
	// Run delivers signals until ctx ends.
	Run(ctx context.Context)
	// Ready is closed once signals of other nodes reach this one.
	Ready() <-chan struct{}
}

// Cluster is one node's part in the cluster.
type Cluster struct {
	log   *slog.Logger
	cfg   Config
	store Store
	bus   Bus
	// shuttingDown is the engine's error for a call refused while it stops.
	shuttingDown error

	engine  Engine
	node    string
	limits  Limits
	kick    chan struct{}      // wakes the claimer
	recount chan struct{}      // a node joined or left
	stop    context.CancelFunc // ends the loops
	wg      sync.WaitGroup     // the loops
	started bool
}

// New prepares the cluster parts that receipt delivery and the engine need
// before the engine exists. shuttingDown is the error the engine's Start
// returns while it stops: such a call stays queued for a claimer.
func New(cfg Config, store Store, bus Bus, shuttingDown error, log *slog.Logger) *Cluster {
	cfg.defaults()
	if log == nil {
		log = slog.Default()
	}
	c := &Cluster{log: log.With("component", "cluster"), cfg: cfg, store: store, bus: bus, shuttingDown: shuttingDown,
		kick: make(chan struct{}, 1), recount: make(chan struct{}, 1)}
	bus.OnCallQueued(c.signal)
	bus.OnCancel(c.onCancel)
	bus.OnNodesChanged(func() {
		select {
		case c.recount <- struct{}{}:
		default:
		}
	})
	return c
}

// SetLimits gives the cluster the node's limits; it must run before
// Attach. Without it the node counts its limits alone (LocalLimits).
func (c *Cluster) SetLimits(l Limits) { c.limits = l }

// Limits returns the node's limits (nil before Attach unless SetLimits
// ran).
func (c *Cluster) Limits() Limits { return c.limits }

// Config returns the configuration with its defaults.
func (c *Cluster) Config() Config { return c.cfg }

// Waker is the waker of the receipt queues' long polls.
func (c *Cluster) Waker() mns.Waker { return c.bus.Waker() }

// Attach completes the cluster once the engine exists; it must run before
// Start and before any call is started.
func (c *Cluster) Attach(e Engine) {
	c.engine, c.node = e, e.Node()
	if c.limits == nil {
		c.limits = NewLocalLimits(c.node)
	}
}

// CancelElsewhere is the engine's hook for a call cancelled here that
// node runs: the end is stored, and the bus tells the owner to hang up.
func (c *Cluster) CancelElsewhere(ctx context.Context, node, accountUID, callID string) {
	if err := c.bus.Cancel(ctx, node, accountUID, callID); err != nil {
		// The end is stored; the owner hangs up at its next write.
		c.log.Warn("cannot tell the owner node of a cancel", "node", node, "call_id", callID, "err", err)
	}
}

// onCancel stops a call cancelled on another node if it runs here.
func (c *Cluster) onCancel(node, accountUID, callID string) {
	if node != c.node || c.engine == nil {
		return
	}
	if c.engine.StopLocal(accountUID, callID) {
		c.log.Info("stopped a call cancelled on another node", "call_id", callID)
	}
}

// signal wakes this node's claimer without blocking.
func (c *Cluster) signal() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// StartCall runs an accepted call here when there is room; otherwise it
// leaves the call queued and wakes the claimers of every node. It is the
// API's way to start a call (the dialer's Start).
func (c *Cluster) StartCall(ctx context.Context, call *dialtone.Call) error {
	if c.engine.Live() < c.cfg.MaxLiveCalls {
		err := c.engine.Start(ctx, call)
		if c.shuttingDown == nil || !errors.Is(err, c.shuttingDown) {
			return err
		}
		// Shutting down: the call is stored queued, another node (or
		// this one's next run) claims it.
	}
	c.signal()
	if err := c.bus.CallQueued(ctx); err != nil {
		c.log.Warn("cannot signal a queued call; the sweeps will find it", "err", err)
	}
	return nil
}

// Start runs at node start, before the API accepts requests: it announces
// the node, ends what its previous run left live, frees what that run had
// claimed, and starts the loops.
func (c *Cluster) Start(ctx context.Context) error {
	if c.engine == nil {
		return errors.New("cluster: start before the engine is attached")
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
	// What the previous run held was held by calls that are over now.
	if err := c.limits.ReleaseNode(ctx, c.node); err != nil {
		errs = append(errs, err)
	}
	loops, cancel := context.WithCancel(context.Background())
	c.stop = cancel
	run := func(f func(context.Context)) {
		c.wg.Add(1)
		go func() { defer c.wg.Done(); f(loops) }()
	}
	run(c.bus.Run)
	// Long polls and cancels of other nodes reach this one only once it
	// hears them; a short wait makes that true before the node is ready,
	// without making a slow database block start-up.
	select {
	case <-c.bus.Ready():
	case <-time.After(readyWait):
		c.log.Warn("cluster signals not connected yet; continuing")
	}
	run(c.limits.Run)
	run(c.heartbeats)
	run(c.claimer)
	c.started = true
	c.signal()
	// The other nodes' shares of the request rates shrink now.
	c.countNodes(ctx)
	if err := c.bus.NodesChanged(ctx); err != nil {
		c.log.Warn("cannot tell the other nodes that this one started", "err", err)
	}
	return errors.Join(errs...)
}

// Shutdown stops claiming, lets the engine end its live calls
// (engineShutdown), then stops the other loops and removes the node's
// heartbeat row so that nobody reaps it.
func (c *Cluster) Shutdown(engineShutdown func()) {
	if !c.started {
		engineShutdown()
		return
	}
	c.stop()
	c.wg.Wait()
	engineShutdown()
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	if _, err := c.store.ReleaseCalls(ctx, c.node); err != nil {
		c.log.Warn("release queued calls", "err", err)
	}
	// Calls the engine had to abandon stay live under this name and, with
	// the row gone, are reaped as orphans by the next node that looks
	// (their slots with them).
	if err := c.store.ForgetNode(ctx, c.node, time.Now().Add(time.Hour)); err != nil {
		c.log.Warn("remove heartbeat", "err", err)
	}
	// The other nodes' shares of the request rates grow now.
	if err := c.bus.NodesChanged(ctx); err != nil {
		c.log.Warn("cannot tell the other nodes that this one stopped", "err", err)
	}
}

// heartbeats records this node as alive and reaps dead nodes, every third
// of the lease, so that one lost beat does not make it look dead.
func (c *Cluster) heartbeats(ctx context.Context) {
	t := time.NewTicker(c.cfg.NodeLease / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.recount:
			opCtx, cancel := context.WithTimeout(ctx, opTimeout)
			c.countNodes(opCtx)
			cancel()
			continue
		case <-t.C:
		}
		opCtx, cancel := context.WithTimeout(ctx, opTimeout)
		now := time.Now()
		if err := c.store.Heartbeat(opCtx, c.node, now); err != nil && ctx.Err() == nil {
			c.log.Warn("heartbeat", "err", err)
		}
		// Calls waiting here for a slot stay this node's.
		if _, err := c.store.RenewClaims(opCtx, c.node, now.Add(c.cfg.NodeLease)); err != nil && ctx.Err() == nil {
			c.log.Warn("renew the claims of waiting calls", "err", err)
		}
		c.reap(opCtx)
		c.countNodes(opCtx)
		cancel()
	}
}

// countNodes tells the limits how many live nodes share the request
// rates: those whose heartbeat is within the lease. A node that died
// still counts until then, so the cluster admits less, never more.
func (c *Cluster) countNodes(ctx context.Context) {
	nodes, err := c.store.LiveNodes(ctx, time.Now().Add(-c.cfg.NodeLease))
	if err != nil {
		if ctx.Err() == nil {
			c.log.Warn("count live nodes", "err", err)
		}
		return
	}
	n := len(nodes)
	if !slices.Contains(nodes, c.node) {
		n++
	}
	c.limits.SetNodes(n)
}

// reap ends the live calls of dead nodes and frees their queued calls.
func (c *Cluster) reap(ctx context.Context) {
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

func (c *Cluster) reapNode(ctx context.Context, dead string) error {
	calls, err := c.store.ListUnfinishedCalls(ctx, dead)
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
	// Its calls are over: their slots are free for the calls waiting.
	if err := c.limits.ReleaseNode(ctx, dead); err != nil {
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
func (c *Cluster) claimer(ctx context.Context) {
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
func (c *Cluster) claim(ctx context.Context) {
	for range 64 {
		room := c.cfg.MaxLiveCalls - c.engine.Live()
		if room <= 0 {
			return
		}
		limit := min(room, claimBatch)
		opCtx, cancel := context.WithTimeout(ctx, opTimeout)
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
