package cluster

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"slices"
	"sort"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/dialtone-voice/dialtone"
)

// Limits are the node's dialtone.Limits as the cluster drives them. Like
// the Bus, there are two, chosen once at start:
//
//   - LocalLimits, for a single node (the embedded SQLite store): every
//     cap, pace and rate is counted in this process's memory, and no store
//     round trip is added to a call.
//   - SharedLimits, for nodes sharing one PostgreSQL database: a slot is a
//     row of the store (dialtone.LimitStore), taken under the key's lock,
//     so a display number's concurrency and a trunk's max_calls hold for
//     the whole cluster exactly; a trunk's max_cps is one pace row per
//     trunk, whose starts are spaced for the whole cluster too (see
//     paceMargin); and the gateway's per-account request rates are
//     shared out: each node admits rate/N with a burst of burst/N (at
//     least 1), N being the live nodes, recounted at every heartbeat and
//     whenever a node joins or leaves.
//
// In both, a holder that finds a key full waits on its node in a queue,
// oldest first; a slot given back anywhere wakes the queues (through the
// bus between nodes, and a sweep every second in case a signal was lost
// or a cap was raised).
type Limits interface {
	dialtone.Limits
	// ReleaseNode gives back every slot node holds: a dead node's, found
	// by the reaper, or this node's previous run's, at start.
	ReleaseNode(ctx context.Context, node string) error
	// SetNodes tells how many live nodes share the request rates.
	SetNodes(n int)
	// Nodes is how many nodes share the request rates (1 for LocalLimits).
	Nodes() int
	// Usage lists the slots held, per key and node.
	Usage(ctx context.Context) ([]dialtone.SlotUsage, error)
	// Waiting counts the holders waiting on this node, per key.
	Waiting() map[string]int
	// Shared reports whether the limits hold across nodes.
	Shared() bool
	// Run serves the node's queue until ctx ends.
	Run(ctx context.Context)
}

// mergeCaps turns caps into one want per limited key (a key listed twice
// wants two slots), sorted by key.
func mergeCaps(caps []dialtone.SlotCap) []dialtone.SlotWant {
	var out []dialtone.SlotWant
	for _, c := range caps {
		if c.Max <= 0 || c.Key == "" {
			continue
		}
		found := false
		for i := range out {
			if out[i].Key == c.Key {
				out[i].N++
				out[i].Max = c.Max
				found = true
				break
			}
		}
		if !found {
			out = append(out, dialtone.SlotWant{Key: c.Key, N: 1, Max: c.Max})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// waiter is a holder waiting on this node for its slots.
type waiter struct {
	holder string
	want   []dialtone.SlotWant
	done   chan struct{} // closed when granted
	// granted and gone are guarded by the lock of the queue's owner: gone is
	// set by a waiter that stopped waiting before it was granted.
	granted, gone bool
	// twin (guarded alike): its holder holds slots already, taken by
	// another run of the same call on another node (an API start and a
	// claim raced). It waits for that run to dial the call or give them
	// back, not for room, so it holds back no one behind it: else every
	// call of its keys on this node would wait for the twin's whole call.
	twin bool
}

func (w *waiter) touches(keys map[string]bool) bool {
	for _, x := range w.want {
		if keys[x.Key] {
			return true
		}
	}
	return false
}

// waitQueue is the node's waiters, oldest first.
type waitQueue []*waiter

// ahead reports whether someone waits for one of want's keys: a newcomer
// then queues behind rather than overtake.
func (q waitQueue) ahead(want []dialtone.SlotWant) bool {
	keys := map[string]bool{}
	for _, w := range want {
		keys[w.Key] = true
	}
	for _, w := range q {
		if !w.twin && w.touches(keys) {
			return true
		}
	}
	return false
}

func (q *waitQueue) remove(w *waiter) {
	for i, x := range *q {
		if x == w {
			*q = append((*q)[:i], (*q)[i+1:]...)
			return
		}
	}
}

func (q waitQueue) waiting() map[string]int {
	out := map[string]int{}
	for _, w := range q {
		for _, x := range w.want {
			out[x.Key]++
		}
	}
	return out
}

// rates are the request rates a node admits (Allow): a token bucket per
// key with the node's share of the configured rate.
type rates struct {
	mu    sync.Mutex
	nodes int
	lims  map[string]*share
}

type share struct {
	lim       *rate.Limiter
	perSecond float64
	burst     int
	nodes     int
}

func newRates() *rates { return &rates{nodes: 1, lims: map[string]*share{}} }

func (r *rates) setNodes(n int) {
	r.mu.Lock()
	r.nodes = max(n, 1)
	r.mu.Unlock()
}

// allow admits one request under key if the node's share has a token: a
// rate of perSecond/N, a burst of burst/N rounded down but at least 1.
func (r *rates) allow(key string, perSecond float64, burst int, now time.Time) bool {
	if perSecond <= 0 {
		return true
	}
	r.mu.Lock()
	n := r.nodes
	s := r.lims[key]
	limit, b := rate.Limit(perSecond/float64(n)), max(burst/n, 1)
	if s == nil {
		s = &share{lim: rate.NewLimiter(limit, b)}
		r.lims[key] = s
	} else if s.perSecond != perSecond || s.burst != burst || s.nodes != n {
		// The configured rate changed, or the nodes sharing it did.
		s.lim.SetLimitAt(now, limit)
		s.lim.SetBurstAt(now, b)
	}
	s.perSecond, s.burst, s.nodes = perSecond, burst, n
	r.mu.Unlock()
	return s.lim.AllowN(now, 1)
}

// sleepUntil waits until t or ctx ends.
func sleepUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err()
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// paceMargin widens the spacing of paced starts beyond 1/perSecond: a
// start leaves for the wire a little after its reserved time (a timer, a
// goroutine, the store's answer), and starts spaced by exactly 1/perSecond
// put perSecond+1 of them into one second as soon as one leaves later
// than the next. With 10 %, a 10/s trunk's starts are 110 ms apart:
// eleven within one second would need one of them 100 ms late.
const paceMargin = 1.10

func paceInterval(perSecond float64) time.Duration {
	return time.Duration(paceMargin * float64(time.Second) / perSecond)
}

// LocalLimits are the limits of a single node, in memory.
type LocalLimits struct {
	node  string
	rates *rates

	mu      sync.Mutex
	held    map[string]int                 // slots held per key
	holders map[string][]dialtone.SlotWant // what each holder holds
	q       waitQueue
	paces   map[string]time.Time // the next start per key
}

var _ Limits = (*LocalLimits)(nil)

// NewLocalLimits returns the limits of a single node named node.
func NewLocalLimits(node string) *LocalLimits {
	return &LocalLimits{node: node, rates: newRates(), held: map[string]int{}, holders: map[string][]dialtone.SlotWant{}, paces: map[string]time.Time{}}
}

// fits reports whether want's slots are free; l.mu is held.
func (l *LocalLimits) fits(want []dialtone.SlotWant) bool {
	for _, w := range want {
		if l.held[w.Key]+w.N > w.Max {
			return false
		}
	}
	return true
}

// take records want's slots for holder; l.mu is held.
func (l *LocalLimits) take(holder string, want []dialtone.SlotWant) {
	for _, w := range want {
		l.held[w.Key] += w.N
	}
	l.holders[holder] = append(l.holders[holder], want...)
}

// TryAcquire implements dialtone.Limits.
func (l *LocalLimits) TryAcquire(_ context.Context, holder string, caps []dialtone.SlotCap) (bool, error) {
	want := mergeCaps(caps)
	if len(want) == 0 {
		return true, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.holders[holder] != nil {
		return false, errHolds(holder)
	}
	if l.q.ahead(want) || !l.fits(want) {
		return false, nil
	}
	l.take(holder, want)
	return true, nil
}

func errHolds(holder string) error {
	return errors.Join(errors.New("limits: "+holder+" holds slots already"), dialtone.ErrConflict)
}

// Acquire implements dialtone.Limits.
func (l *LocalLimits) Acquire(ctx context.Context, holder string, caps []dialtone.SlotCap) error {
	want := mergeCaps(caps)
	if len(want) == 0 {
		return nil
	}
	l.mu.Lock()
	if l.holders[holder] != nil {
		l.mu.Unlock()
		return errHolds(holder)
	}
	if !l.q.ahead(want) && l.fits(want) {
		l.take(holder, want)
		l.mu.Unlock()
		return nil
	}
	w := &waiter{holder: holder, want: want, done: make(chan struct{})}
	l.q = append(l.q, w)
	l.mu.Unlock()
	select {
	case <-w.done:
		return nil
	case <-ctx.Done():
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if w.granted {
		l.give(holder)
	} else {
		w.gone = true
		l.q.remove(w)
	}
	// Its leaving may let those behind it through.
	l.grant()
	return ctx.Err()
}

// give returns holder's slots; l.mu is held.
func (l *LocalLimits) give(holder string) bool {
	want, ok := l.holders[holder]
	if !ok {
		return false
	}
	delete(l.holders, holder)
	for _, w := range want {
		if l.held[w.Key] -= w.N; l.held[w.Key] <= 0 {
			delete(l.held, w.Key)
		}
	}
	return true
}

// grant hands free slots to the waiters, oldest first: one that does not
// fit holds back those behind it on its keys; l.mu is held.
func (l *LocalLimits) grant() {
	blocked := map[string]bool{}
	for i := 0; i < len(l.q); {
		w := l.q[i]
		if w.touches(blocked) || !l.fits(w.want) {
			for _, x := range w.want {
				blocked[x.Key] = true
			}
			i++
			continue
		}
		l.take(w.holder, w.want)
		w.granted = true
		close(w.done)
		l.q = append(l.q[:i], l.q[i+1:]...)
	}
}

// Release implements dialtone.Limits.
func (l *LocalLimits) Release(_ context.Context, holder string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.give(holder) {
		l.grant()
	}
	return nil
}

// Pace implements dialtone.Limits: the same spacing as SharedLimits, in
// memory.
func (l *LocalLimits) Pace(ctx context.Context, key string, perSecond float64) error {
	if perSecond <= 0 {
		return nil
	}
	iv := paceInterval(perSecond)
	now := time.Now()
	l.mu.Lock()
	start := now
	if next := l.paces[key]; next.After(now) {
		start = next
	}
	l.paces[key] = start.Add(iv)
	l.mu.Unlock()
	return sleepUntil(ctx, start)
}

// Allow implements dialtone.Limits.
func (l *LocalLimits) Allow(key string, perSecond float64, burst int, now time.Time) bool {
	return l.rates.allow(key, perSecond, burst, now)
}

// ReleaseNode implements Limits; one node holds only its own slots, which
// its calls give back themselves.
func (l *LocalLimits) ReleaseNode(context.Context, string) error { return nil }

// SetNodes implements Limits; a single node admits the whole rate.
func (l *LocalLimits) SetNodes(int) {}

// Nodes implements Limits.
func (l *LocalLimits) Nodes() int { return 1 }

// Usage implements Limits.
func (l *LocalLimits) Usage(context.Context) ([]dialtone.SlotUsage, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]dialtone.SlotUsage, 0, len(l.held))
	for k, n := range l.held {
		out = append(out, dialtone.SlotUsage{Key: k, Node: l.node, Held: n})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// Waiting implements Limits.
func (l *LocalLimits) Waiting() map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.q.waiting()
}

// Shared implements Limits.
func (l *LocalLimits) Shared() bool { return false }

// Run implements Limits; the queue is served by Release itself.
func (l *LocalLimits) Run(ctx context.Context) { <-ctx.Done() }

// LimitStore is what SharedLimits needs of the store.
type LimitStore interface {
	dialtone.LimitStore
}

// SharedLimits are the limits of nodes sharing one store (see Limits).
type SharedLimits struct {
	store LimitStore
	bus   Bus
	node  string
	log   *slog.Logger
	sweep time.Duration
	rates *rates

	mu    sync.Mutex
	q     waitQueue
	dirty map[string]bool // keys whose slots were given back since the last pump
	all   bool            // look at every waiter at the next pump
	kick  chan struct{}

	// The other nodes' news of slots this node gave back (freed): the
	// keys not signalled yet, and whether a signaller is running.
	outMu      sync.Mutex
	outKeys    map[string]bool
	signalling bool
}

var _ Limits = (*SharedLimits)(nil)

// signalEvery is the least time between two of a node's signals of freed
// slots. A node ending calls at hundreds a second would otherwise send a
// NOTIFY, a round trip and a transaction, for every call, and every node
// would wake for each: the first slot freed after a quiet spell is
// signalled at once, and what is freed within the next signalEvery goes
// in one signal after it. A waiter on another node learns of a slot at
// most this much later.
const signalEvery = 10 * time.Millisecond

// NewSharedLimits returns the limits of node, kept in store, whose other
// nodes are told through bus that slots were given back. sweep is how
// often waiters look at the store without a signal (default 1 s).
func NewSharedLimits(store LimitStore, bus Bus, node string, sweep time.Duration, log *slog.Logger) *SharedLimits {
	if sweep <= 0 {
		sweep = DefaultSweep
	}
	if log == nil {
		log = slog.Default()
	}
	s := &SharedLimits{store: store, bus: bus, node: node, log: log.With("component", "limits"), sweep: sweep,
		rates: newRates(), dirty: map[string]bool{}, kick: make(chan struct{}, 1), outKeys: map[string]bool{}}
	bus.OnSlotsFreed(s.onFreed)
	return s
}

// onFreed is the bus's news that node gave back slots under keys; node ""
// means signals may have been lost.
func (s *SharedLimits) onFreed(node string, keys []string) {
	if node == s.node {
		return // marked when they were given back
	}
	if node == "" {
		s.markAll()
		return
	}
	s.mark(keys)
}

func (s *SharedLimits) mark(keys []string) {
	s.mu.Lock()
	for _, k := range keys {
		s.dirty[k] = true
	}
	s.mu.Unlock()
	s.wake()
}

func (s *SharedLimits) markAll() {
	s.mu.Lock()
	s.all = true
	s.mu.Unlock()
	s.wake()
}

func (s *SharedLimits) wake() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// TryAcquire implements dialtone.Limits: one store statement (a batch of
// the keys' locks and the insert on PostgreSQL).
func (s *SharedLimits) TryAcquire(ctx context.Context, holder string, caps []dialtone.SlotCap) (bool, error) {
	want := mergeCaps(caps)
	if len(want) == 0 {
		return true, nil
	}
	s.mu.Lock()
	ahead := s.q.ahead(want)
	s.mu.Unlock()
	if ahead {
		return false, nil
	}
	return s.store.TakeSlots(ctx, s.node, holder, want, time.Now())
}

// Acquire implements dialtone.Limits.
func (s *SharedLimits) Acquire(ctx context.Context, holder string, caps []dialtone.SlotCap) error {
	want := mergeCaps(caps)
	if len(want) == 0 {
		return nil
	}
	ok, err := s.TryAcquire(ctx, holder, caps)
	// A holder that holds already is another run of the same call, on
	// another node (an API start and a claim raced): this one waits for
	// it to give them back, which it does unless it dials the call, and
	// then this one finds the call taken.
	if err != nil && !errors.Is(err, dialtone.ErrConflict) || ok {
		return err
	}
	w := &waiter{holder: holder, want: want, done: make(chan struct{}), twin: err != nil}
	s.mu.Lock()
	s.q = append(s.q, w)
	// A slot given back between the try and now would wake nobody.
	for _, x := range want {
		s.dirty[x.Key] = true
	}
	s.mu.Unlock()
	s.wake()
	select {
	case <-w.done:
		return nil
	case <-ctx.Done():
	}
	s.mu.Lock()
	granted := w.granted
	if !granted {
		w.gone = true
		s.q.remove(w)
		for _, x := range want {
			s.dirty[x.Key] = true // those behind it may pass now
		}
	}
	s.mu.Unlock()
	s.wake()
	if granted {
		// Granted as the wait ended: nothing is held, as promised.
		s.giveBack(holder)
	}
	return ctx.Err()
}

// giveBack releases holder's slots on a context of its own (the caller's
// has ended).
func (s *SharedLimits) giveBack(holder string) {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	if err := s.Release(ctx, holder); err != nil {
		s.log.Warn("give back slots", "holder", holder, "err", err)
	}
}

// Release implements dialtone.Limits: one DELETE; when it freed slots,
// the other nodes are signalled (freed).
func (s *SharedLimits) Release(ctx context.Context, holder string) error {
	keys, err := s.store.ReleaseSlots(ctx, holder)
	if err != nil {
		return err
	}
	s.freed(keys)
	return nil
}

// freed tells this node's queue and the others' that slots under keys are
// free again: this node's at once, the others' by a signal on the bus,
// coalesced (signalEvery) and sent off the caller's path.
func (s *SharedLimits) freed(keys []string) {
	if len(keys) == 0 {
		return
	}
	s.mark(keys)
	s.outMu.Lock()
	for _, k := range keys {
		s.outKeys[k] = true
	}
	start := !s.signalling
	s.signalling = true
	s.outMu.Unlock()
	if start {
		go s.signalFreed()
	}
}

// signalFreed sends the keys freed so far in one signal, then again after
// signalEvery while more were freed meanwhile. It ends when a pause finds
// nothing new, so it outlives the last Release by one send and a pause.
func (s *SharedLimits) signalFreed() {
	for {
		s.outMu.Lock()
		if len(s.outKeys) == 0 {
			s.signalling = false
			s.outMu.Unlock()
			return
		}
		keys := slices.Sorted(maps.Keys(s.outKeys))
		clear(s.outKeys)
		s.outMu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		if err := s.bus.SlotsFreed(ctx, s.node, keys); err != nil {
			// The other nodes' sweeps find the slots within a second.
			s.log.Warn("cannot signal freed slots", "err", err)
		}
		cancel()
		time.Sleep(signalEvery)
	}
}

// ReleaseNode implements Limits.
func (s *SharedLimits) ReleaseNode(ctx context.Context, node string) error {
	keys, err := s.store.ReleaseNodeSlots(ctx, node)
	if err != nil {
		return err
	}
	if len(keys) > 0 {
		s.log.Info("gave back the slots of a node", "node", node, "keys", len(keys))
	}
	s.freed(keys)
	return nil
}

// Pace implements dialtone.Limits: one statement reserves the start, then
// the caller sleeps until it.
func (s *SharedLimits) Pace(ctx context.Context, key string, perSecond float64) error {
	if perSecond <= 0 {
		return nil
	}
	start, err := s.store.PaceStart(ctx, key, paceInterval(perSecond), time.Now())
	if err != nil {
		return err
	}
	return sleepUntil(ctx, start)
}

// Allow implements dialtone.Limits with this node's share of the rate.
func (s *SharedLimits) Allow(key string, perSecond float64, burst int, now time.Time) bool {
	return s.rates.allow(key, perSecond, burst, now)
}

// SetNodes implements Limits.
func (s *SharedLimits) SetNodes(n int) { s.rates.setNodes(n) }

// Nodes implements Limits.
func (s *SharedLimits) Nodes() int {
	s.rates.mu.Lock()
	defer s.rates.mu.Unlock()
	return s.rates.nodes
}

// Usage implements Limits: the whole cluster's, read from the store.
func (s *SharedLimits) Usage(ctx context.Context) ([]dialtone.SlotUsage, error) {
	return s.store.SlotUsage(ctx)
}

// Waiting implements Limits.
func (s *SharedLimits) Waiting() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.q.waiting()
}

// Shared implements Limits.
func (s *SharedLimits) Shared() bool { return true }

// Run implements Limits: it serves the queue when slots are given back
// and on every sweep.
func (s *SharedLimits) Run(ctx context.Context) {
	t := time.NewTicker(s.sweep)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.kick:
		case <-t.C:
			s.mu.Lock()
			s.all = len(s.q) > 0
			s.mu.Unlock()
		}
		s.pump(ctx)
	}
}

// pump offers the store's free slots to the waiters, oldest first, one
// take per waiter at most; a waiter that does not get its slots holds
// back those behind it on its keys, so each full key costs one statement.
func (s *SharedLimits) pump(ctx context.Context) {
	s.mu.Lock()
	dirty, all := s.dirty, s.all
	s.dirty, s.all = map[string]bool{}, false
	waiting := append(waitQueue(nil), s.q...)
	s.mu.Unlock()
	blocked := map[string]bool{}
	for _, w := range waiting {
		if !all && !w.touches(dirty) {
			continue
		}
		s.mu.Lock()
		twin := w.twin
		s.mu.Unlock()
		if w.touches(blocked) {
			if !twin {
				for _, x := range w.want {
					blocked[x.Key] = true
				}
			}
			continue
		}
		opCtx, cancel := context.WithTimeout(ctx, opTimeout)
		ok, err := s.store.TakeSlots(opCtx, s.node, w.holder, w.want, time.Now())
		cancel()
		conflict := errors.Is(err, dialtone.ErrConflict)
		if conflict || err == nil {
			// Held by another run of the holder (see waiter.twin), or
			// not: what it waits for from now on.
			s.mu.Lock()
			w.twin = conflict
			s.mu.Unlock()
		}
		if conflict {
			continue
		}
		if err != nil {
			if ctx.Err() == nil {
				s.log.Warn("take slots for a waiting call", "holder", w.holder, "err", err)
			}
			// Look again at the next sweep.
			s.mu.Lock()
			s.all = true
			s.mu.Unlock()
			return
		}
		if !ok {
			for _, x := range w.want {
				blocked[x.Key] = true
			}
			continue
		}
		s.mu.Lock()
		gone := w.gone
		if !gone {
			w.granted = true
			s.q.remove(w)
			close(w.done)
		}
		s.mu.Unlock()
		if gone {
			s.giveBack(w.holder)
		}
	}
}
