package receipt

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/mns"
)

// DispatchStore is what the Dispatcher needs from the store.
type DispatchStore interface {
	GetSubscription(ctx context.Context, accountUID, messageType string) (*dialtone.Subscription, error)
	ListUnroutedReceipts(ctx context.Context, limit int) ([]dialtone.Receipt, error)
	RouteReceipts(ctx context.Context, routes []dialtone.RouteReceipt, now time.Time) ([]string, error)
}

// DispatcherConfig configures a Dispatcher.
type DispatcherConfig struct {
	Store  DispatchStore
	Clock  dialtone.Clock
	Logger *slog.Logger
	// Sweep is the period of the scan that runs without a signal, so that
	// receipts committed before a crash (or whose signal was lost) are
	// routed all the same. Default 1 s.
	Sweep time.Duration
	// Batch bounds the receipts routed per transaction; default 256.
	Batch int
	// QueueReady is called with each queue that received messages (to
	// wake its long polls); PushReady when push deliveries were created.
	QueueReady func(queue string)
	PushReady  func()
}

// Dispatcher routes outbox receipts to their account's subscriptions: a
// message in the queue, a delivery for the push worker, or nothing, in the
// transaction that marks the receipt routed. Several dispatchers (nodes)
// may run at once; the store routes each receipt exactly once.
type Dispatcher struct {
	cfg  DispatcherConfig
	log  *slog.Logger
	wake chan struct{}
}

// Defaults returns c with every unset field at its default.
func (cfg DispatcherConfig) Defaults() DispatcherConfig {
	if cfg.Clock == nil {
		cfg.Clock = dialtone.SystemClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Sweep <= 0 {
		cfg.Sweep = time.Second
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 256
	}
	return cfg
}

// NewDispatcher returns a dispatcher; Run starts it.
func NewDispatcher(cfg DispatcherConfig) *Dispatcher {
	cfg = cfg.Defaults()
	return &Dispatcher{cfg: cfg, log: cfg.Logger.With("component", "receipt-dispatcher"), wake: make(chan struct{}, 1)}
}

// Notify tells the dispatcher that receipts were committed. It never
// blocks: signals that arrive while one is pending merge into it.
func (d *Dispatcher) Notify() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run routes receipts when notified and every Sweep until ctx ends.
func (d *Dispatcher) Run(ctx context.Context) {
	t := time.NewTicker(d.cfg.Sweep)
	defer t.Stop()
	for {
		if _, err := d.Drain(ctx); err != nil && ctx.Err() == nil {
			d.log.WarnContext(ctx, "routing receipts failed; retrying at the next sweep", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-d.wake:
		case <-t.C:
		}
	}
}

// Drain routes every receipt that is unrouted now and returns how many
// this dispatcher routed.
func (d *Dispatcher) Drain(ctx context.Context) (int, error) {
	total := 0
	for {
		n, more, err := d.routeBatch(ctx)
		total += n
		if err != nil || !more {
			return total, err
		}
	}
}

func (d *Dispatcher) routeBatch(ctx context.Context) (routedCount int, more bool, err error) {
	rs, err := d.cfg.Store.ListUnroutedReceipts(ctx, d.cfg.Batch)
	if err != nil || len(rs) == 0 {
		return 0, false, err
	}
	now := d.cfg.Clock.Now()
	type key struct{ account, msgType string }
	subs := map[key]*dialtone.Subscription{}
	routes := make([]dialtone.RouteReceipt, len(rs))
	queues := map[string]string{} // receipt ID -> queue
	pushes := map[string]bool{}
	for i := range rs {
		r := &rs[i]
		k := key{r.AccountUID, r.MessageType}
		sub, seen := subs[k]
		if !seen {
			sub, err = d.cfg.Store.GetSubscription(ctx, r.AccountUID, r.MessageType)
			if errors.Is(err, dialtone.ErrNotFound) {
				sub, err = nil, nil
			}
			if err != nil {
				return 0, false, fmt.Errorf("subscription %s of %s: %w", r.MessageType, r.AccountUID, err)
			}
			subs[k] = sub
		}
		routes[i].ReceiptID = r.ID
		if sub == nil {
			continue // no subscription: routed to nowhere, as on Alibaba
		}
		if sub.Queue {
			q := dialtone.QueueName(r.AccountUID, r.MessageType)
			routes[i].Message = mns.NewReceiptMessage(r, q, now, sub.RetentionPeriod())
			queues[r.ID] = q
		}
		if sub.PushURL != "" {
			routes[i].Push = &dialtone.PushDelivery{
				ID: r.ID, AccountUID: r.AccountUID, MessageType: r.MessageType,
				Body: r.Body, CreatedAt: now, DueAt: now,
			}
			pushes[r.ID] = true
		}
	}
	routed, err := d.cfg.Store.RouteReceipts(ctx, routes, now)
	if err != nil {
		return 0, false, err
	}
	woken := map[string]bool{}
	pushed := false
	for _, id := range routed {
		if q, ok := queues[id]; ok && !woken[q] {
			woken[q] = true
			if d.cfg.QueueReady != nil {
				d.cfg.QueueReady(q)
			}
		}
		pushed = pushed || pushes[id]
	}
	if pushed && d.cfg.PushReady != nil {
		d.cfg.PushReady()
	}
	// A full batch means there may be more; a batch that another
	// dispatcher took entirely says nothing new, but the list was full.
	return len(routed), len(rs) == d.cfg.Batch, nil
}
