package cluster

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone"
)

// The two Limits under the same checks: LocalLimits in memory, and
// SharedLimits of several "nodes" over one store (the embedded one here,
// whose single writer makes the counts exact as PostgreSQL's locks do;
// the PostgreSQL path is the storetest suite's and test/'s).

func caps(key string, max int) []dialtone.SlotCap { return []dialtone.SlotCap{{Key: key, Max: max}} }

// sharedNodes are n SharedLimits sharing one store and one bus.
func sharedNodes(t *testing.T, n int) []*SharedLimits {
	t.Helper()
	st := openStore(t)
	bus := NewLocalBus()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var out []*SharedLimits
	for i := range n {
		l := NewSharedLimits(st, bus, fmt.Sprintf("n%d", i), 50*time.Millisecond, quiet)
		wg.Add(1)
		go func() { defer wg.Done(); l.Run(ctx) }()
		out = append(out, l)
	}
	t.Cleanup(func() { cancel(); wg.Wait() })
	return out
}

// limitsUnderTest gives each test both kinds: for the shared kind, the
// "nodes" are distinct SharedLimits; for the local kind, one LocalLimits
// plays every node.
func limitsUnderTest(t *testing.T, n int, f func(t *testing.T, nodes []Limits)) {
	t.Run("local", func(t *testing.T) {
		l := NewLocalLimits("solo")
		nodes := make([]Limits, n)
		for i := range nodes {
			nodes[i] = l
		}
		f(t, nodes)
	})
	t.Run("shared", func(t *testing.T) {
		var nodes []Limits
		for _, l := range sharedNodes(t, n) {
			nodes = append(nodes, l)
		}
		f(t, nodes)
	})
}

func TestLimitsCapAllOrNone(t *testing.T) {
	limitsUnderTest(t, 2, func(t *testing.T, nodes []Limits) {
		ctx := context.Background()
		a, b := nodes[0], nodes[1]
		try := func(l Limits, holder string, c ...dialtone.SlotCap) bool {
			t.Helper()
			ok, err := l.TryAcquire(ctx, holder, c)
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		if !try(a, "c1", caps("k", 2)...) || !try(b, "c2", caps("k", 2)...) {
			t.Fatal("two slots of a cap of two not taken")
		}
		if try(a, "c3", caps("k", 2)...) {
			t.Error("a third slot taken")
		}
		if try(b, "c3", dialtone.SlotCap{Key: "other", Max: 5}, dialtone.SlotCap{Key: "k", Max: 2}) {
			t.Error("slots taken while one key is full")
		}
		// Unlimited caps take nothing.
		if !try(a, "c4", dialtone.SlotCap{Key: "k", Max: 0}) {
			t.Error("an unlimited cap refused")
		}
		if err := a.Release(ctx, "c2"); err != nil { // released on the other node
			t.Fatal(err)
		}
		if !try(b, "c3", dialtone.SlotCap{Key: "other", Max: 5}, dialtone.SlotCap{Key: "k", Max: 2}) {
			t.Error("a slot given back is not free")
		}
		u, err := a.Usage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		held := map[string]int{}
		for _, x := range u {
			held[x.Key] += x.Held
		}
		if held["k"] != 2 || held["other"] != 1 {
			t.Errorf("usage %v", u)
		}
	})
}

// TestLimitsWaitersAcrossNodes: holders on several nodes compete for a
// cap; never more than the cap hold at once, waiters are woken by slots
// given back on another node, and every one gets through.
func TestLimitsWaitersAcrossNodes(t *testing.T) {
	limitsUnderTest(t, 3, func(t *testing.T, nodes []Limits) {
		const cap, holders = 3, 30
		var (
			held, peak atomic.Int64
			wg         sync.WaitGroup
			done       atomic.Int64
		)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for i := range holders {
			l := nodes[i%len(nodes)]
			wg.Add(1)
			go func() {
				defer wg.Done()
				holder := fmt.Sprintf("h%d", i)
				if err := l.Acquire(ctx, holder, caps("k", cap)); err != nil {
					t.Error(err)
					return
				}
				h := held.Add(1)
				for p := peak.Load(); h > p && !peak.CompareAndSwap(p, h); p = peak.Load() {
				}
				time.Sleep(5 * time.Millisecond)
				held.Add(-1)
				if err := l.Release(ctx, holder); err != nil {
					t.Error(err)
				}
				done.Add(1)
			}()
		}
		wg.Wait()
		if p := peak.Load(); p > cap {
			t.Errorf("%d held at once under a cap of %d", p, cap)
		}
		if done.Load() != holders {
			t.Errorf("%d of %d holders got through", done.Load(), holders)
		}
		if w := nodes[0].Waiting(); len(w) != 0 {
			t.Errorf("still waiting: %v", w)
		}
	})
}

// TestLimitsWaitFIFOAndCancel: on one node waiters go in their order; one
// that stops waiting holds nothing and lets the next through.
func TestLimitsWaitFIFOAndCancel(t *testing.T) {
	limitsUnderTest(t, 1, func(t *testing.T, nodes []Limits) {
		l := nodes[0]
		ctx := context.Background()
		if err := l.Acquire(ctx, "first", caps("k", 1)); err != nil {
			t.Fatal(err)
		}
		order := make(chan string, 3)
		cctx, cancelSecond := context.WithCancel(ctx)
		second := make(chan error, 1)
		go func() { second <- l.Acquire(cctx, "second", caps("k", 1)) }()
		waitFor(t, "the second waiting", func() bool { return l.Waiting()["k"] == 1 })
		for _, h := range []string{"third", "fourth"} {
			go func() {
				if err := l.Acquire(ctx, h, caps("k", 1)); err != nil {
					t.Error(err)
					return
				}
				order <- h
			}()
			waitFor(t, h+" waiting", func() bool { return l.Waiting()["k"] >= 2 })
			time.Sleep(20 * time.Millisecond) // "fourth" queues behind "third"
		}
		// A newcomer does not overtake the queue, even with TryAcquire.
		if ok, _ := l.TryAcquire(ctx, "newcomer", caps("k", 5)); ok {
			t.Error("TryAcquire overtook the waiters")
		}
		cancelSecond()
		if err := <-second; !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled waiter: %v", err)
		}
		if err := l.Release(ctx, "first"); err != nil {
			t.Fatal(err)
		}
		if got := <-order; got != "third" {
			t.Errorf("after the first: %s, want third", got)
		}
		if err := l.Release(ctx, "third"); err != nil {
			t.Fatal(err)
		}
		if got := <-order; got != "fourth" {
			t.Errorf("then %s, want fourth", got)
		}
		if err := l.Release(ctx, "fourth"); err != nil {
			t.Fatal(err)
		}
		if ok, err := l.TryAcquire(ctx, "second", caps("k", 1)); !ok || err != nil {
			t.Errorf("the cancelled waiter held something: %v %v", ok, err)
		}
	})
}

// TestLimitsReleaseNode: a dead node's slots are given back at once and
// wake the waiters of the others.
func TestLimitsReleaseNode(t *testing.T) {
	nodes := sharedNodes(t, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := nodes[0].Acquire(ctx, "dead-call", caps("k", 1)); err != nil {
		t.Fatal(err)
	}
	got := make(chan error, 1)
	go func() { got <- nodes[1].Acquire(ctx, "waiting", caps("k", 1)) }()
	waitFor(t, "a waiter on n1", func() bool { return nodes[1].Waiting()["k"] == 1 })
	if err := nodes[1].ReleaseNode(ctx, "n0"); err != nil {
		t.Fatal(err)
	}
	if err := <-got; err != nil {
		t.Fatal(err)
	}
}

// TestLimitsPace: starts under one key are spaced by 1/rate, across the
// nodes of the shared kind too.
func TestLimitsPace(t *testing.T) {
	limitsUnderTest(t, 2, func(t *testing.T, nodes []Limits) {
		ctx := context.Background()
		var (
			mu     sync.Mutex
			starts []time.Time
			wg     sync.WaitGroup
		)
		for i := range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := nodes[i%len(nodes)].Pace(ctx, "cps", 50); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				starts = append(starts, time.Now())
				mu.Unlock()
			}()
		}
		wg.Wait()
		first, last := starts[0], starts[0]
		for _, s := range starts {
			if s.Before(first) {
				first = s
			}
			if s.After(last) {
				last = s
			}
		}
		// Six starts at 50/s span at least five intervals of 20 ms.
		if d := last.Sub(first); d < 95*time.Millisecond {
			t.Errorf("6 starts at 50/s within %v", d)
		}
	})
}

// TestLimitsAllowShare: each node admits its share of a rate, and the
// shares follow the number of nodes.
func TestLimitsAllowShare(t *testing.T) {
	count := func(l Limits, key string, rate float64, now time.Time) int {
		n := 0
		for range 100 {
			if l.Allow(key, rate, int(rate), now) {
				n++
			}
		}
		return n
	}
	now := time.Now()
	solo := NewLocalLimits("solo")
	solo.SetNodes(3) // a single node ignores it
	if got := count(solo, "a/x", 30, now); got != 30 {
		t.Errorf("single node admits %d at once of 30/s, want the burst of 30", got)
	}
	nodes := sharedNodes(t, 3)
	total := 0
	for _, l := range nodes {
		l.SetNodes(3)
		total += count(l, "a/x", 30, now)
	}
	if total != 30 {
		t.Errorf("three nodes admit %d at once of 30/s, want 30 (10 each)", total)
	}
	// One second later each node has its share again: 10/s.
	later := now.Add(time.Second)
	if got := count(nodes[0], "a/x", 30, later); got != 10 {
		t.Errorf("a node admits %d a second later, want 10", got)
	}
	// Two nodes left: each admits half from now on (the second before
	// was earned at the old share).
	nodes[0].SetNodes(2)
	if got := count(nodes[0], "a/x", 30, later.Add(time.Second)); got != 10 {
		t.Errorf("the second before the change: %d, want 10", got)
	}
	if got := count(nodes[0], "a/x", 30, later.Add(2*time.Second)); got != 15 {
		t.Errorf("with two nodes a node admits %d in a second, want 15", got)
	}
}

// signalBus records the freed-slot signals a node sends.
type signalBus struct {
	*LocalBus
	mu      sync.Mutex
	signals [][]string
}

func (b *signalBus) SlotsFreed(ctx context.Context, node string, keys []string) error {
	b.mu.Lock()
	b.signals = append(b.signals, keys)
	b.mu.Unlock()
	return b.LocalBus.SlotsFreed(ctx, node, keys)
}

func (b *signalBus) sent() (n int, keys map[string]bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	keys = map[string]bool{}
	for _, s := range b.signals {
		for _, k := range s {
			keys[k] = true
		}
	}
	return len(b.signals), keys
}

// TestFreedSignalsCoalesce: slots given back in a burst reach the other
// nodes in far fewer signals than releases, the first at once and every
// key in one of them; a release after a quiet spell is signalled alone.
func TestFreedSignalsCoalesce(t *testing.T) {
	st := openStore(t)
	bus := &signalBus{LocalBus: NewLocalBus()}
	l := NewSharedLimits(st, bus, "n0", time.Hour, quiet)
	ctx := context.Background()
	const holders = 40
	for i := range holders {
		key := fmt.Sprintf("k%d", i%8)
		holder := fmt.Sprintf("h%d", i)
		if err := l.Acquire(ctx, holder, caps(key, holders)); err != nil {
			t.Fatal(err)
		}
	}
	// All at once, as a node ending many calls gives them back.
	var wg sync.WaitGroup
	for i := range holders {
		wg.Go(func() {
			if err := l.Release(ctx, fmt.Sprintf("h%d", i)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	deadline := time.Now().Add(10 * time.Second)
	for {
		n, keys := bus.sent()
		if len(keys) == 8 {
			if n >= holders {
				t.Errorf("%d releases sent %d signals", holders, n)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 10 s, %d signals carried keys %v of 8", n, keys)
		}
		time.Sleep(time.Millisecond)
	}
	// Quiet: the signaller has stopped; the next release goes at once,
	// alone.
	time.Sleep(5 * signalEvery)
	before, _ := bus.sent()
	if err := l.Acquire(ctx, "late", caps("late", 1)); err != nil {
		t.Fatal(err)
	}
	if err := l.Release(ctx, "late"); err != nil {
		t.Fatal(err)
	}
	for {
		bus.mu.Lock()
		n := len(bus.signals)
		var last []string
		if n > before {
			last = bus.signals[before]
		}
		bus.mu.Unlock()
		if n > before {
			if fmt.Sprint(last) != "[late]" {
				t.Errorf("signal after a quiet spell carried %v, want [late]", last)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the release after a quiet spell was never signalled")
		}
		time.Sleep(time.Millisecond)
	}
}

// TestLimitsTwinHoldsBackNoOne: a run of a call that waits because
// another run of the same call (on another node) holds its slots waits
// for that run, not for room: other calls of its keys on its node pass it,
// and it gets the slots once the other run gives them back.
func TestLimitsTwinHoldsBackNoOne(t *testing.T) {
	nodes := sharedNodes(t, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := nodes[0].Acquire(ctx, "c1", caps("k", 10)); err != nil {
		t.Fatal(err)
	}
	twin := make(chan error, 1)
	go func() { twin <- nodes[1].Acquire(ctx, "c1", caps("k", 10)) }()
	for len(nodes[1].Waiting()) == 0 {
		if ctx.Err() != nil {
			t.Fatal("the twin never waited")
		}
		time.Sleep(time.Millisecond)
	}
	ok, err := nodes[1].TryAcquire(ctx, "c2", caps("k", 10))
	if err != nil || !ok {
		t.Fatalf("another call of the key behind the twin: TryAcquire = %v, %v; want the free slot", ok, err)
	}
	got := make(chan error, 1)
	go func() { got <- nodes[1].Acquire(ctx, "c3", caps("k", 10)) }()
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a call with room waited behind the twin for 5 s")
	}
	select {
	case err := <-twin:
		t.Fatalf("the twin got the slots its other run holds: %v", err)
	default:
	}
	if err := nodes[0].Release(ctx, "c1"); err != nil {
		t.Fatal(err)
	}
	if err := <-twin; err != nil {
		t.Fatalf("the twin after the other run gave back: %v", err)
	}
	if w := nodes[1].Waiting(); len(w) != 0 {
		t.Errorf("still waiting: %v", w)
	}
}
