package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dialtone-voice/dialtone"
)

// Several nodes share one store: each dials the calls it claimed (see
// dialtone.ClusterStore) and ends only its own. These methods are what the
// node's cluster loops (package cluster) need besides Start and Cancel.

// RecoverLive runs at start-up: it ends once (status 999999, with
// restartReason) the calls this node left live in a previous run, which are
// never dialled again. Unlike Recover it leaves queued calls alone: in a
// cluster they are claimed (ClaimCalls), by this node or another, within
// each node's capacity.
func (e *Engine) RecoverLive(ctx context.Context) error {
	calls, err := e.cfg.Store.ListUnfinishedCalls(ctx, "")
	if err != nil {
		return fmt.Errorf("engine: recover: %w", err)
	}
	var errs []error
	for i := range calls {
		c := &calls[i]
		if c.State == dialtone.CallQueued || e.lookup(c.AccountUID, c.ID) != nil {
			continue
		}
		// Calls of another named node are that node's, or its reaper's
		// once it is found dead. An unnamed owner predates node names.
		if c.Node != "" && c.Node != e.cfg.Node {
			continue
		}
		if _, err := e.endStored(ctx, c, Outcome{dialtone.StatusSystemError, SmartOther}, HangupMachine, restartReason); err != nil {
			errs = append(errs, fmt.Errorf("engine: recover %s: %w", c.ID, err))
		}
	}
	return errors.Join(errs...)
}

// EndLost ends, directly in the store, a live call that no goroutine of
// this engine runs: its node died. It records status 999999, hangup
// direction 机器 and reason, and the receipts of the end in the same
// transaction. The Version check makes it exactly once however many
// reapers try: it reports false when the call had ended already.
func (e *Engine) EndLost(ctx context.Context, c *dialtone.Call, reason string) (bool, error) {
	if c.State == dialtone.CallEnded {
		return false, nil
	}
	if e.lookup(c.AccountUID, c.ID) != nil {
		return false, fmt.Errorf("engine: end %s: the call runs on this node", c.ID)
	}
	cp := *c
	done, err := e.endStored(ctx, &cp, Outcome{dialtone.StatusSystemError, SmartOther}, HangupMachine, reason)
	if err != nil {
		return false, fmt.Errorf("engine: end %s: %w", c.ID, err)
	}
	return done, nil
}

// StopLocal stops a call running on this node as CancelCall does, for a
// cancel that another node received (and already recorded in the store);
// false when the call does not run here.
func (e *Engine) StopLocal(accountUID, callID string) bool {
	r := e.lookup(accountUID, callID)
	if r == nil || r.over.Load() {
		return false
	}
	r.requestStop(stopCancel, "cancelled")
	return true
}

// Node is the name this engine owns calls under.
func (e *Engine) Node() string { return e.cfg.Node }

// claimedElsewhere reports whether fresh, a call this run has not written
// yet, was claimed by another node whose lease still runs: that node dials
// it, so this run must step back. Leases are wall-clock times shared by
// every node, whatever the engine's (possibly scaled) clock.
func (e *Engine) claimedElsewhere(fresh *dialtone.Call) bool {
	return fresh.Node != "" && fresh.Node != e.cfg.Node && fresh.LeaseTill.After(time.Now())
}
