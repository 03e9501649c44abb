package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/carrier/sim"
	"github.com/dialtone-voice/dialtone/engine"
)

// The simulated network is the cluster's, not a node's: its configuration
// (time scale, default, subscribers) is kept in the store. A provisioning
// file's network section is applied to it with the rest of the file (at a
// node's start, or through the admin API), and so is a subscriber changed
// in the console; every node runs what the store holds, and takes a change
// when the cluster's bus tells it (and, on PostgreSQL, at least every
// networkRecheck). A node started without a network section runs the
// cluster's; one whose section differs changes it for every node (as its
// accounts would), which its log says. A new time scale applies to calls
// started after it; calls in progress keep theirs.

// networkRecheck is how often a node of a cluster looks at the stored
// network without a signal (a lost NOTIFY).
const networkRecheck = 30 * time.Second

// simNet is the node's running copy of the cluster's network.
type simNet struct {
	n     *Node
	clock *engine.NetworkClock
	net   *sim.Network
	kick  chan struct{}

	mu      sync.Mutex
	version int64 // of the stored network running here; 0: none stored
}

// loadNetwork reads the network the cluster runs (nil, 0: none stored,
// the built-in defaults).
func (n *Node) loadNetwork(ctx context.Context) (*sim.Config, int64, error) {
	sn, err := n.store.GetNetwork(ctx)
	if errors.Is(err, dialtone.ErrNotFound) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("simulated network: %w", err)
	}
	cfg, err := sim.DecodeConfig(sn.Config)
	if err != nil {
		return nil, 0, fmt.Errorf("the cluster's simulated network (version %d, set by %s) cannot run on this node: %w", sn.Version, sn.UpdatedBy, err)
	}
	return cfg, sn.Version, nil
}

func (s *simNet) wake() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// run takes the stored network whenever it may have changed, until ctx
// ends.
func (s *simNet) run(ctx context.Context, shared bool) {
	var tick <-chan time.Time
	if shared {
		t := time.NewTicker(networkRecheck)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.kick:
		case <-tick:
		}
		opCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		if err := s.reload(opCtx); err != nil && ctx.Err() == nil {
			s.n.log.Error("the cluster's simulated network changed but cannot run here; this node keeps the previous one", "err", err)
		}
		cancel()
	}
}

// reload makes the network run the stored configuration if it is newer.
func (s *simNet) reload(ctx context.Context) error {
	sn, err := s.n.store.GetNetwork(ctx)
	if errors.Is(err, dialtone.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if sn.Version == s.version {
		return nil
	}
	cfg, err := sim.DecodeConfig(sn.Config)
	if err != nil {
		return fmt.Errorf("version %d, set by %s: %w", sn.Version, sn.UpdatedBy, err)
	}
	s.net.Reconfigure(cfg)
	s.clock.SetScale(cfg.Scale())
	s.version = sn.Version
	s.n.log.Info("the simulated network changed; this node runs it now", "version", sn.Version, "set_by", sn.UpdatedBy,
		"time_scale", cfg.Scale(), "subscribers", len(cfg.Subscribers))
	return nil
}

// Version is the version of the stored network this node runs.
func (s *simNet) Version() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.version
}

// changed tells every node (this one included) that the stored network
// changed.
func (n *Node) networkChanged(ctx context.Context) {
	if err := n.bus.NetworkChanged(ctx); err != nil {
		n.log.Warn("cannot tell the nodes that the simulated network changed; they look again within a while", "err", err)
	}
}

// consoleNet is the network as the console changes it: a subscriber's
// behaviour is stored for the cluster, not set on this node alone.
type consoleNet struct {
	*sim.Network
	s *simNet
}

// SetBehavior stores the subscriber's behaviour in the cluster's network.
// Should the store fail, the change applies on this node alone until the
// network changes next (the log says so).
func (c consoleNet) SetBehavior(number string, b sim.Behavior) {
	ctx, cancel := context.WithTimeout(dialtone.WithActor(context.Background(), "console"), 10*time.Second)
	defer cancel()
	if err := c.s.setBehavior(ctx, number, b); err != nil {
		c.s.n.log.Error("the subscriber could not be stored for the cluster; it applies on this node only, until the network changes", "number", number, "err", err)
		c.Network.SetBehavior(number, b)
	}
}

func (s *simNet) setBehavior(ctx context.Context, number string, b sim.Behavior) error {
	for attempt := 0; ; attempt++ {
		cfg, base, err := s.n.loadNetwork(ctx)
		if err != nil {
			return err
		}
		if cfg == nil {
			// Nothing stored yet: what runs here is what there is.
			cfg = s.net.Config(s.clock.Scale())
		}
		i := slices.IndexFunc(cfg.Subscribers, func(x sim.Subscriber) bool { return x.Number == number })
		if i < 0 {
			cfg.Subscribers = append(cfg.Subscribers, sim.Subscriber{Number: number})
			i = len(cfg.Subscribers) - 1
		}
		cfg.Subscribers[i].Behavior = b
		enc, err := sim.EncodeConfig(cfg)
		if err != nil {
			return err
		}
		_, _, err = s.n.res.SetSimNetwork(ctx, enc, base)
		if errors.Is(err, dialtone.ErrConflict) && attempt < 3 {
			continue // changed meanwhile: apply to the new one
		}
		if err != nil {
			return err
		}
		if err := s.reload(ctx); err != nil {
			return err
		}
		s.n.networkChanged(ctx)
		return nil
	}
}

// serveNetwork shows the network this node runs and the one stored.
func (n *Node) serveNetwork(w http.ResponseWriter, r *http.Request) {
	s := n.calls.sim
	out := map[string]any{"node": n.nodeName, "running_version": s.Version(), "time_scale": s.clock.Scale(),
		"subscribers": len(s.net.Subscribers())}
	sn, err := n.store.GetNetwork(r.Context())
	switch {
	case errors.Is(err, dialtone.ErrNotFound):
		out["stored"] = nil
	case err != nil:
		writeJSON(w, http.StatusInternalServerError, map[string]string{"code": "InternalError", "message": "the network could not be read"})
		return
	default:
		out["stored"] = map[string]any{"version": sn.Version, "set_by": sn.UpdatedBy, "set_at": sn.UpdatedAt}
	}
	writeJSON(w, http.StatusOK, out)
}

// serveLimits shows the slots held (the cluster's, on a shared store: one
// snapshot of the store, per key and node), the calls waiting on this
// node, and this node's calls per display number.
func (n *Node) serveLimits(w http.ResponseWriter, r *http.Request) {
	lim := n.cluster.Limits()
	usage, err := lim.Usage(r.Context())
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"code": "InternalError", "message": "the limits could not be read"})
		return
	}
	type slot struct {
		Key  string `json:"key"`
		Node string `json:"node"`
		Held int    `json:"held"`
	}
	slots := make([]slot, 0, len(usage))
	for _, u := range usage {
		slots = append(slots, slot{u.Key, u.Node, u.Held})
	}
	mode := "local"
	if lim.Shared() {
		mode = "shared"
	}
	writeJSON(w, http.StatusOK, map[string]any{"node": n.nodeName, "mode": mode, "slots": slots, "waiting": lim.Waiting(),
		"nodes_sharing_rates": lim.Nodes()})
}
