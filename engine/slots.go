package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dialtone-voice/dialtone"
)

// Display-number concurrency. Before it dials, a call takes one slot of
// each purchased number it is shown from (Config.Limits: counted in this
// node's memory, or in the store shared by the nodes of a cluster), and
// gives them back when it ends. A call that finds a number at its
// concurrency waits, still queued, until a slot is free: it is claimed for
// this node first (so that other nodes' claimers leave it alone and a
// cancel on any node reaches it), and it ends with 200121 only when no
// slot came within Config.QueueTimeout.

// Defaults of the slot wait.
const (
	// DefaultQueueTimeout bounds how long a call waits for a display
	// number's slot (on the call's clock).
	DefaultQueueTimeout = 10 * time.Minute
	// DefaultClaimLease is the lease of a waiting call's claim; the
	// cluster renews it while the call waits (cluster.DefaultNodeLease).
	DefaultClaimLease = 15 * time.Second
)

var (
	errQueueTimeout = errors.New("no free slot in time")
	errStopped      = errors.New("stopped while waiting")
)

// numberCaps returns the concurrency caps of the display numbers a call
// of the account is shown from; numbers the account does not have (public
// mode, a number deleted since) have none.
func (e *Engine) numberCaps(ctx context.Context, accountUID string, numbers []string) ([]dialtone.SlotCap, error) {
	var caps []dialtone.SlotCap
	for _, n := range numbers {
		if n == "" {
			continue // public mode: no number of the account to limit
		}
		num, err := e.cfg.Store.GetNumber(ctx, accountUID, n)
		if errors.Is(err, dialtone.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("concurrency of %s: %w", n, err)
		}
		caps = append(caps, dialtone.SlotCap{Key: dialtone.NumberSlotKey(accountUID, n), Max: num.Concurrency})
	}
	return caps, nil
}

// tally counts the calls of this node per display number (LiveByNumber).
func (e *Engine) tally(numbers []string, d int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, n := range numbers {
		if n == "" {
			continue
		}
		if e.byNumber[n] += d; e.byNumber[n] <= 0 {
			delete(e.byNumber, n)
		}
	}
}

// takeSlots takes the call's display-number slots, waiting queued while a
// number is at its concurrency. It reports false when the call must not
// go on; its end is then written, or left to the node that owns it.
func (r *run) takeSlots() bool {
	numbers := r.displayNumbers()
	caps, err := r.e.numberCaps(r.ctx, r.c.AccountUID, numbers)
	if err != nil {
		r.log.Error("concurrency check failed", "err", err)
		r.finish(Outcome{dialtone.StatusSystemError, SmartOther}, HangupMachine, "concurrency check failed")
		return false
	}
	ok, err := r.e.limits.TryAcquire(r.ctx, r.c.ID, caps)
	if errors.Is(err, dialtone.ErrConflict) {
		// Another run of this call holds them, on another node (an API
		// start and a claim raced): wait; one of the two dials it.
		ok, err = false, nil
	}
	if err != nil {
		r.log.Error("concurrency check failed", "err", err)
		r.finish(Outcome{dialtone.StatusSystemError, SmartOther}, HangupMachine, "concurrency check failed")
		return false
	}
	if !ok && !r.waitSlots(caps) {
		return false
	}
	r.numbers = numbers
	r.e.tally(numbers, 1)
	return true
}

// waitSlots claims the call for this node and waits for its slots.
func (r *run) waitSlots(caps []dialtone.SlotCap) bool {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.ctx), storeTimeout)
	fresh, err := r.e.cfg.Store.ClaimCall(ctx, r.c.AccountUID, r.c.ID, r.e.cfg.Node, r.e.cfg.ClaimLease, time.Now())
	cancel()
	if errors.Is(err, dialtone.ErrConflict) || errors.Is(err, dialtone.ErrNotFound) {
		// Cancelled, or claimed by another node that runs it.
		r.log.Info("call taken elsewhere before it waited for a slot", "err", err)
		r.over.Store(true)
		return false
	}
	if err != nil {
		r.abandon(fmt.Errorf("claim the call to wait for a slot: %w", err))
		return false
	}
	// What the claim changed (the rest of a queued call does not change,
	// and other goroutines read its account under the engine's lock).
	r.c.Node, r.c.LeaseTill, r.c.Version = fresh.Node, fresh.LeaseTill, fresh.Version
	r.log.Info("a display number is at its concurrency; the call waits queued")
	wctx, stop := context.WithCancelCause(r.ctx)
	defer stop(nil)
	go func() {
		select {
		case <-r.stop:
			stop(errStopped)
		case <-wctx.Done():
		}
	}()
	timer := r.clock().AfterFunc(r.e.cfg.QueueTimeout, func() { stop(errQueueTimeout) })
	defer timer.Stop()
	err = r.e.limits.Acquire(wctx, r.c.ID, caps)
	if err == nil {
		return true
	}
	switch cause := context.Cause(wctx); {
	case errors.Is(cause, errQueueTimeout):
		r.finish(Outcome{dialtone.StatusOverConcurrency, SmartOther}, HangupMachine,
			fmt.Sprintf("display number concurrency limit reached: no free slot within %s", r.e.cfg.QueueTimeout))
	case errors.Is(cause, errStopped):
		if kind, _ := r.stopReason(); kind == stopShutdown {
			// Still queued: the cluster frees the claim and another node,
			// or this one's next run, dials it.
			r.over.Store(true)
			return false
		}
		r.stopped(roleOf(r.c.Kind, r.c.State), false)
	default:
		r.log.Error("waiting for a display number's slot failed", "err", err)
		r.finish(Outcome{dialtone.StatusSystemError, SmartOther}, HangupMachine, "concurrency check failed")
	}
	return false
}

// giveSlots gives back the call's slots when it ends.
func (r *run) giveSlots() {
	if r.numbers == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.ctx), storeTimeout)
	defer cancel()
	if err := r.e.limits.Release(ctx, r.c.ID); err != nil {
		// Held until the node's next start, or its reaping.
		r.log.Error("cannot give back the display numbers' slots", "err", err)
	}
	r.e.tally(r.numbers, -1)
	r.numbers = nil
}
