package server

import (
	"context"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/admin"
	"github.com/dialtone-voice/dialtone/engine"
	"github.com/dialtone-voice/dialtone/gateway"
	"github.com/dialtone-voice/dialtone/mns"
	"github.com/dialtone-voice/dialtone/receipt"
)

// Receipt delivery of a node: the outbox dispatcher, the HTTP push worker,
// the MNS-compatible queue API (/queues/), QueryTokenForMnsQueue and signed
// recording URLs (/records/). Kept apart from server.go, which only calls
// the functions below.

// RecordDir is where the engine stores recordings (engine.Config.RecordDir)
// and where /records/ serves them from.
func RecordDir(dataDir string) string { return filepath.Join(dataDir, "records") }

type receipts struct {
	store      dialtone.Store
	waker      mns.Waker
	queues     *mns.Server
	dispatcher *receipt.Dispatcher
	pusher     *receipt.Pusher
	tokens     *receipt.Tokens
	records    *receipt.Records
	builder    *receipt.Builder
}

// initReceipts builds the receipt parts; masterKey derives the recording
// URL key.
func (n *Node) initReceipts(masterKey []byte) error {
	rs := n.store
	// The settings are receipt.Config's; the node adds the store, its
	// logger and the hooks between the parts.
	rc := n.cfg.Receipts
	r := &receipts{store: rs, waker: n.clusterWaker()}
	r.queues = mns.New(mns.Config{Store: rs, Waker: r.waker, Logger: n.log.With("component", "mns"), Window: n.cfg.SignatureWindow})
	push := rc.Push
	push.Store, push.Logger, push.Client = rs, n.log, n.out
	r.pusher = receipt.NewPusher(push)
	dispatch := rc.Dispatch
	dispatch.Store, dispatch.Logger, dispatch.QueueReady, dispatch.PushReady = rs, n.log, r.waker.Wake, r.pusher.Notify
	r.dispatcher = receipt.NewDispatcher(dispatch)
	tokens := rc.Tokens
	tokens.Store = rs
	r.tokens = &tokens
	r.records = receipt.NewRecords(receipt.RecordKey(masterKey), RecordDir(n.cfg.DataDir), rc.PublicURL, nil)
	r.builder = &receipt.Builder{RecordURL: r.records.URL}
	n.receipts = r
	return nil
}

// mountReceipts registers QueryTokenForMnsQueue and the queue and
// recording endpoints.
func (n *Node) mountReceipts(gw *gateway.Gateway, mux *http.ServeMux) {
	n.receipts.tokens.Register(gw)
	mux.Handle("/queues/", n.receipts.queues)
	mux.Handle("/records/", n.receipts.records)
}

// adminReceiptOptions lets a redrive wake the push worker at once.
func (n *Node) adminReceiptOptions() []admin.Option {
	return []admin.Option{admin.WithReceipts(n.receipts.store, n.receipts.pusher.Notify)}
}

// runReceipts starts the dispatcher, the push worker and the purge job;
// the returned function stops them and waits (pushes in flight finish
// within their timeout).
func (n *Node) runReceipts(baseURL string) (stop func()) {
	r := n.receipts
	if n.cfg.Receipts.PublicURL == "" {
		r.records.SetBaseURL(baseURL)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, run := range []func(context.Context){r.dispatcher.Run, r.pusher.Run, n.purgeReceipts} {
		wg.Add(1)
		go func() { defer wg.Done(); run(ctx) }()
	}
	return func() { cancel(); wg.Wait() }
}

// purgeReceipts deletes queue messages past their retention, routed
// outbox rows older than the longest retention and the push attempts past
// their bounds, once a minute.
func (n *Node) purgeReceipts(ctx context.Context) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := time.Now()
		if _, err := n.receipts.store.PurgeQueueMessages(ctx, now); err != nil && ctx.Err() == nil {
			n.log.Warn("purge queue messages", "err", err)
		}
		if _, err := n.receipts.store.PurgeRoutedReceipts(ctx, now.Add(-dialtone.MaxRetention)); err != nil && ctx.Err() == nil {
			n.log.Warn("purge routed receipts", "err", err)
		}
		if _, err := n.receipts.store.PurgePushAttempts(ctx, now.Add(-dialtone.PushAttemptsAge), dialtone.PushAttemptsKept); err != nil && ctx.Err() == nil {
			n.log.Warn("purge push attempts", "err", err)
		}
	}
}

// ReceiptBuilder is the engine's Receipts hook (engine.Config.Receipts:
// node.ReceiptBuilder().Build), with signed recording URLs.
func (n *Node) ReceiptBuilder() *receipt.Builder { return n.receipts.builder }

// NotifyReceipts wakes the dispatcher; call it after a change carrying
// receipts committed. EngineStore does it for the engine.
func (n *Node) NotifyReceipts() { n.receipts.dispatcher.Notify() }

// EngineStore wraps the store given to the engine so that every committed
// call change that carries receipts wakes the dispatcher at once (the
// Receipts hook itself runs before the commit, too early to signal).
func (n *Node) EngineStore(s engine.Store) engine.Store {
	return notifyingStore{Store: s, notify: n.NotifyReceipts}
}

type notifyingStore struct {
	engine.Store
	notify func()
}

func (s notifyingStore) UpdateCall(ctx context.Context, ch *dialtone.CallChange) error {
	err := s.Store.UpdateCall(ctx, ch)
	if err == nil && len(ch.Receipts) > 0 {
		s.notify()
	}
	return err
}
