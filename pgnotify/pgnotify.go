// Package pgnotify carries signals between the nodes of a cluster through
// PostgreSQL LISTEN/NOTIFY: "a call is waiting to be claimed", "cancel this
// call", "a receipt queue has messages". A notification is only a hint to
// look at the store, which stays the truth: every receiver also sweeps on a
// timer, so a notification lost while a connection was down delays work
// but never loses it.
package pgnotify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// Channels used by Dialtone nodes.
const (
	// ChannelCalls: payload empty; a call was left queued for any node.
	ChannelCalls = "dialtone_calls"
	// ChannelCancel: payload "<node> <account uid> <call id>"; the call
	// was cancelled (already ended in the store) while node runs it.
	ChannelCancel = "dialtone_cancel"
	// ChannelQueues: payload the queue name; messages may have arrived.
	ChannelQueues = "dialtone_queues"
	// ChannelSlots: payload "<node> <key> <key>..."; node gave back slots
	// under the keys (a call ended), so calls waiting for them may go.
	ChannelSlots = "dialtone_slots"
	// ChannelNodes: payload empty; a node joined or left the cluster, so
	// the nodes' shares of the request rates change.
	ChannelNodes = "dialtone_nodes"
	// ChannelNetwork: payload empty; the shared simulated network changed.
	ChannelNetwork = "dialtone_network"
)

// Notifier sends a notification (postgres.Store implements it).
type Notifier interface {
	Notify(ctx context.Context, channel, payload string) error
}

// Backoff bounds of reconnection.
const (
	minBackoff = 100 * time.Millisecond
	maxBackoff = 5 * time.Second
)

// Listener holds one dedicated connection (a LISTEN session cannot be a
// pooled one: the pool would hand it to other work) and calls the handlers
// of each notification's channel. Handlers run on the listener's goroutine
// and must not block.
type Listener struct {
	dsn string
	log *slog.Logger

	mu        sync.Mutex
	handlers  map[string][]func(payload string)
	onConnect []func()
	ready     chan struct{}
	readyOnce sync.Once
}

// NewListener returns a listener for the database named by dsn; it does
// not connect before Run.
func NewListener(dsn string, log *slog.Logger) *Listener {
	if log == nil {
		log = slog.Default()
	}
	return &Listener{dsn: dsn, log: log.With("component", "pgnotify"), handlers: map[string][]func(string){}, ready: make(chan struct{})}
}

// Handle registers fn for channel; call it before Run.
func (l *Listener) Handle(channel string, fn func(payload string)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.handlers[channel] = append(l.handlers[channel], fn)
}

// OnConnect registers fn to run after every (re)connection, once the
// channels are listened to: notifications sent while the connection was
// down are lost, so receivers take this as "look at the store now".
func (l *Listener) OnConnect(fn func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.onConnect = append(l.onConnect, fn)
}

// Ready is closed once the first connection listens on every channel.
func (l *Listener) Ready() <-chan struct{} { return l.ready }

// Run listens until ctx ends, reconnecting with backoff after any error.
func (l *Listener) Run(ctx context.Context) {
	backoff := minBackoff
	for ctx.Err() == nil {
		started := time.Now()
		err := l.session(ctx)
		if ctx.Err() != nil {
			return
		}
		// A session that lasted a while earned a fast reconnect.
		if time.Since(started) > maxBackoff {
			backoff = minBackoff
		}
		l.log.Warn("notification connection lost; reconnecting", "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// session is one connection's life: LISTEN, then dispatch until an error.
func (l *Listener) session(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	conn, err := pgx.Connect(cctx, l.dsn)
	cancel()
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = conn.Close(cctx)
	}()
	l.mu.Lock()
	channels := make([]string, 0, len(l.handlers))
	for ch := range l.handlers {
		channels = append(channels, ch)
	}
	hooks := append([]func(){}, l.onConnect...)
	l.mu.Unlock()
	for _, ch := range channels {
		if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{ch}.Sanitize()); err != nil {
			return fmt.Errorf("listen %s: %w", ch, err)
		}
	}
	l.readyOnce.Do(func() { close(l.ready) })
	for _, h := range hooks {
		h()
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
				return err
			}
			return fmt.Errorf("wait: %w", err)
		}
		l.mu.Lock()
		hs := l.handlers[n.Channel]
		l.mu.Unlock()
		for _, h := range hs {
			h(n.Payload)
		}
	}
}
