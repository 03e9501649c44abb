package cluster

import (
	"context"
	"log/slog"
	"strings"
	"sync"

	"github.com/dialtone-voice/dialtone/mns"
	"github.com/dialtone-voice/dialtone/pgnotify"
)

// LocalBus is the Bus of a single process: a queued call signals this
// node's own claimer, and no other node runs calls that a cancel would
// have to reach.
type LocalBus struct {
	mu        sync.Mutex
	onQueued  []func()
	onFreed   []func(node string, keys []string)
	onNodes   []func()
	onNetwork []func()
	waker     mns.LocalWaker
	ready     chan struct{}
	once      sync.Once
}

// NewLocalBus returns the bus of a single process.
func NewLocalBus() *LocalBus { return &LocalBus{ready: make(chan struct{})} }

var _ Bus = (*LocalBus)(nil)

// OnCallQueued implements Bus.
func (b *LocalBus) OnCallQueued(fn func()) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.onQueued = append(b.onQueued, fn)
}

// OnCancel implements Bus: within one process the engine stops its own
// calls, so nothing arrives here.
func (b *LocalBus) OnCancel(func(node, accountUID, callID string)) {}

// CallQueued implements Bus.
func (b *LocalBus) CallQueued(context.Context) error {
	b.mu.Lock()
	fns := b.onQueued
	b.mu.Unlock()
	for _, fn := range fns {
		fn()
	}
	return nil
}

// OnSlotsFreed implements Bus.
func (b *LocalBus) OnSlotsFreed(fn func(node string, keys []string)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.onFreed = append(b.onFreed, fn)
}

// SlotsFreed implements Bus.
func (b *LocalBus) SlotsFreed(_ context.Context, node string, keys []string) error {
	b.mu.Lock()
	fns := b.onFreed
	b.mu.Unlock()
	for _, fn := range fns {
		fn(node, keys)
	}
	return nil
}

// OnNodesChanged implements Bus.
func (b *LocalBus) OnNodesChanged(fn func()) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.onNodes = append(b.onNodes, fn)
}

// NodesChanged implements Bus.
func (b *LocalBus) NodesChanged(context.Context) error {
	b.mu.Lock()
	fns := b.onNodes
	b.mu.Unlock()
	for _, fn := range fns {
		fn()
	}
	return nil
}

// OnNetworkChanged implements Bus.
func (b *LocalBus) OnNetworkChanged(fn func()) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.onNetwork = append(b.onNetwork, fn)
}

// NetworkChanged implements Bus.
func (b *LocalBus) NetworkChanged(context.Context) error {
	b.mu.Lock()
	fns := b.onNetwork
	b.mu.Unlock()
	for _, fn := range fns {
		fn()
	}
	return nil
}

// Cancel implements Bus: one process has no other node to tell.
func (b *LocalBus) Cancel(context.Context, string, string, string) error { return nil }

// Waker implements Bus.
func (b *LocalBus) Waker() mns.Waker { return &b.waker }

// Run implements Bus; there is nothing to deliver.
func (b *LocalBus) Run(ctx context.Context) {
	b.once.Do(func() { close(b.ready) })
	<-ctx.Done()
}

// Ready implements Bus.
func (b *LocalBus) Ready() <-chan struct{} { return b.ready }

// PostgresBus is the Bus of nodes sharing one PostgreSQL database: signals
// travel by NOTIFY through the store's pool and arrive on one dedicated
// LISTEN connection (package pgnotify).
type PostgresBus struct {
	listener *pgnotify.Listener
	notifier pgnotify.Notifier
	waker    *pgnotify.Waker
}

var _ Bus = (*PostgresBus)(nil)

// NewPostgresBus listens on the database named by dsn and notifies
// through n (the PostgreSQL store).
func NewPostgresBus(dsn string, n pgnotify.Notifier, log *slog.Logger) *PostgresBus {
	l := pgnotify.NewListener(dsn, log)
	return &PostgresBus{listener: l, notifier: n, waker: pgnotify.NewWaker(l, n, log)}
}

// OnCallQueued implements Bus: notifications sent while the listening
// connection was down are lost, so a (re)connection counts as one.
func (b *PostgresBus) OnCallQueued(fn func()) {
	b.listener.Handle(pgnotify.ChannelCalls, func(string) { fn() })
	b.listener.OnConnect(fn)
}

// OnCancel implements Bus.
func (b *PostgresBus) OnCancel(fn func(node, accountUID, callID string)) {
	b.listener.Handle(pgnotify.ChannelCancel, func(payload string) {
		if f := strings.Fields(payload); len(f) == 3 {
			fn(f[0], f[1], f[2])
		}
	})
}

// CallQueued implements Bus.
func (b *PostgresBus) CallQueued(ctx context.Context) error {
	return b.notifier.Notify(ctx, pgnotify.ChannelCalls, "")
}

// Cancel implements Bus; the payload is "<node> <account uid> <call id>".
func (b *PostgresBus) Cancel(ctx context.Context, node, accountUID, callID string) error {
	return b.notifier.Notify(ctx, pgnotify.ChannelCancel, node+" "+accountUID+" "+callID)
}

// OnSlotsFreed implements Bus: the payload is "<node> <key> <key>...";
// a (re)connection counts as slots freed anywhere (node "").
func (b *PostgresBus) OnSlotsFreed(fn func(node string, keys []string)) {
	b.listener.Handle(pgnotify.ChannelSlots, func(payload string) {
		if f := strings.Fields(payload); len(f) > 0 {
			fn(f[0], f[1:])
		}
	})
	b.listener.OnConnect(func() { fn("", nil) })
}

// SlotsFreed implements Bus.
func (b *PostgresBus) SlotsFreed(ctx context.Context, node string, keys []string) error {
	// A NOTIFY payload holds under 8000 bytes; a longer list is cut, and
	// the other nodes' sweeps find the rest.
	payload := node
	for _, k := range keys {
		if len(payload)+1+len(k) > 7000 {
			break
		}
		payload += " " + k
	}
	return b.notifier.Notify(ctx, pgnotify.ChannelSlots, payload)
}

// OnNodesChanged implements Bus; a (re)connection counts as a change.
func (b *PostgresBus) OnNodesChanged(fn func()) {
	b.listener.Handle(pgnotify.ChannelNodes, func(string) { fn() })
	b.listener.OnConnect(fn)
}

// NodesChanged implements Bus.
func (b *PostgresBus) NodesChanged(ctx context.Context) error {
	return b.notifier.Notify(ctx, pgnotify.ChannelNodes, "")
}

// OnNetworkChanged implements Bus; a (re)connection counts as a change.
func (b *PostgresBus) OnNetworkChanged(fn func()) {
	b.listener.Handle(pgnotify.ChannelNetwork, func(string) { fn() })
	b.listener.OnConnect(fn)
}

// NetworkChanged implements Bus.
func (b *PostgresBus) NetworkChanged(ctx context.Context) error {
	return b.notifier.Notify(ctx, pgnotify.ChannelNetwork, "")
}

// Waker implements Bus.
func (b *PostgresBus) Waker() mns.Waker { return b.waker }

// Run implements Bus.
func (b *PostgresBus) Run(ctx context.Context) { b.listener.Run(ctx) }

// Ready implements Bus.
func (b *PostgresBus) Ready() <-chan struct{} { return b.listener.Ready() }
