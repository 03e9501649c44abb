package pgnotify

import (
	"context"
	"log/slog"
	"time"

	"github.com/dialtone-voice/dialtone/mns"
)

// notifyTimeout bounds one NOTIFY of Wake, which runs on the dispatcher's
// path: a slow database must not hold receipt routing for long.
const notifyTimeout = 2 * time.Second

// Waker is an mns.Waker for several nodes: Wake releases this node's long
// polls at once and tells the other nodes through NOTIFY on ChannelQueues,
// whose listeners release theirs. (This node hears its own notification
// too; the second wake finds no waiter, or one that re-checks a queue.)
type Waker struct {
	local    mns.LocalWaker
	notifier Notifier
	log      *slog.Logger
}

var _ mns.Waker = (*Waker)(nil)

// NewWaker registers the waker's handler on l; l must not be running yet.
func NewWaker(l *Listener, n Notifier, log *slog.Logger) *Waker {
	if log == nil {
		log = slog.Default()
	}
	w := &Waker{notifier: n, log: log}
	l.Handle(ChannelQueues, w.local.Wake)
	return w
}

// Wait implements mns.Waker.
func (w *Waker) Wait(queue string) <-chan struct{} { return w.local.Wait(queue) }

// Wake implements mns.Waker.
func (w *Waker) Wake(queue string) {
	w.local.Wake(queue)
	ctx, cancel := context.WithTimeout(context.Background(), notifyTimeout)
	defer cancel()
	if err := w.notifier.Notify(ctx, ChannelQueues, queue); err != nil {
		// Other nodes' long polls then wake at their next re-check.
		w.log.Warn("cannot notify other nodes of queue messages", "queue", queue, "err", err)
	}
}
