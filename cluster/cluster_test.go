package cluster

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/secret"
	"github.com/dialtone-voice/dialtone/sqlite"
)

// The cluster's logic runs here on the embedded store (in process, the same
// ClusterStore queries as on PostgreSQL) with a fake engine; the
// PostgreSQL bus and real nodes are exercised by the black-box cluster
// tests (test/cluster_test.go).

var quiet = slog.New(slog.DiscardHandler)

func openStore(t *testing.T) *sqlite.Store {
	t.Helper()
	sl, err := secret.NewSealer(bytes.Repeat([]byte{7}, secret.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "c.db"), sl, sqlite.WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.PutAccount(context.Background(), &dialtone.Account{UID: "1", Status: dialtone.AccountActive}); err != nil {
		t.Fatal(err)
	}
	return st
}

var errStopping = errors.New("engine stopping")

// fakeEngine runs nothing: it records what the cluster asks of it and,
// like the real engine, writes the states that make "dialled at most
// once" hold (dialing on start, ended on EndLost) with the Version check.
type fakeEngine struct {
	node  string
	store dialtone.Store

	mu       sync.Mutex
	started  []string
	stopped  []string
	lost     []string
	live     int
	stopping bool
}

func (e *fakeEngine) Node() string { return e.node }

func (e *fakeEngine) Live() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.live
}

func (e *fakeEngine) Start(ctx context.Context, c *dialtone.Call) error {
	e.mu.Lock()
	stopping := e.stopping
	e.mu.Unlock()
	if stopping {
		return errStopping
	}
	// Like the engine: the dial is stored with the Version check, so of
	// an API start and a claim of the same call only one dials it.
	cur, err := e.store.GetCall(ctx, c.AccountUID, c.ID)
	if err != nil {
		return err
	}
	if cur.State != dialtone.CallQueued {
		return dialtone.ErrConflict
	}
	cur.State, cur.Node = dialtone.CallDialing, e.node
	if err := e.store.UpdateCall(ctx, &dialtone.CallChange{Call: cur}); err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.started = append(e.started, c.ID)
	e.live++
	return nil
}

func (e *fakeEngine) StopLocal(accountUID, callID string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.stopped = append(e.stopped, accountUID+"/"+callID)
	return true
}

func (e *fakeEngine) RecoverLive(context.Context) error { return nil }

func (e *fakeEngine) EndLost(ctx context.Context, c *dialtone.Call, reason string) (bool, error) {
	cp := *c
	cp.State, cp.Reason = dialtone.CallEnded, reason
	if err := e.store.UpdateCall(ctx, &dialtone.CallChange{Call: &cp}); err != nil {
		return false, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.lost = append(e.lost, c.ID)
	return true, nil
}

func (e *fakeEngine) snapshot() (started, stopped, lost []string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.started), slices.Clone(e.stopped), slices.Clone(e.lost)
}

func queue(t *testing.T, st dialtone.Store, id string, created time.Time) *dialtone.Call {
	t.Helper()
	c := &dialtone.Call{ID: id, AccountUID: "1", Kind: dialtone.KindTTS, Callee: "139", State: dialtone.CallQueued, CreatedAt: created}
	if err := st.CreateCall(context.Background(), c, nil); err != nil {
		t.Fatal(err)
	}
	return c
}

// node starts one node's cluster on st with bus; it is shut down when the
// test ends.
func node(t *testing.T, st dialtone.Store, bus Bus, name string, cfg Config) (*Cluster, *fakeEngine) {
	t.Helper()
	e := &fakeEngine{node: name, store: st}
	c := New(cfg, st, bus, errStopping, quiet)
	c.Attach(e)
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Shutdown(func() {}) })
	return c, e
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestDefaults(t *testing.T) {
	c := New(Config{}, openStore(t), NewLocalBus(), nil, nil)
	if got := c.Config(); got.MaxLiveCalls != DefaultMaxLiveCalls || got.NodeLease != DefaultNodeLease || got.Sweep != DefaultSweep {
		t.Errorf("defaults = %+v", got)
	}
}

// A node with room runs an accepted call itself; a full node leaves it
// queued, and the bus wakes the claimer of a node with room at once (the
// sweep is an hour, so only the signal can do it).
func TestStartCallRoomOrQueue(t *testing.T) {
	st := openStore(t)
	bus := NewLocalBus()
	cfg := Config{MaxLiveCalls: 1, Sweep: time.Hour, NodeLease: time.Hour}
	a, ea := node(t, st, bus, "a", cfg)
	ctx := context.Background()
	now := time.Now()

	// Node a's own claimer may take the call first; either way a runs it.
	c1 := queue(t, st, "c1", now)
	if err := a.StartCall(ctx, c1); err != nil && !errors.Is(err, dialtone.ErrConflict) {
		t.Fatal(err)
	}
	waitFor(t, "node a to run c1", func() bool { s, _, _ := ea.snapshot(); return slices.Equal(s, []string{"c1"}) })
	_, eb := node(t, st, bus, "b", cfg)
	// a is full now: c2 stays queued until b claims it.
	c2 := queue(t, st, "c2", now.Add(time.Millisecond))
	if err := a.StartCall(ctx, c2); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "node b to claim c2", func() bool { s, _, _ := eb.snapshot(); return slices.Equal(s, []string{"c2"}) })
	got, err := st.GetCall(ctx, "1", "c2")
	if err != nil {
		t.Fatal(err)
	}
	if got.Node != "b" || got.State != dialtone.CallDialing {
		t.Errorf("c2 is %s on %q, want dialing on b", got.State, got.Node)
	}
	if started, _, _ := ea.snapshot(); len(started) != 1 {
		t.Errorf("node a started %v beyond its capacity", started)
	}
}

// An engine that is stopping (its node's loops have stopped already)
// refuses the call; it stays queued for a claimer, and the API is told it
// was accepted.
func TestStartCallWhileStopping(t *testing.T) {
	st := openStore(t)
	bus := NewLocalBus()
	a := New(Config{Sweep: time.Hour, NodeLease: time.Hour}, st, bus, errStopping, quiet)
	a.Attach(&fakeEngine{node: "a", store: st, stopping: true})
	c := queue(t, st, "c1", time.Now())
	if err := a.StartCall(context.Background(), c); err != nil {
		t.Fatalf("StartCall while stopping = %v, want nil (left queued)", err)
	}
	got, err := st.GetCall(context.Background(), "1", "c1")
	if err != nil {
		t.Fatal(err)
	}
	if got.State != dialtone.CallQueued {
		t.Errorf("call is %s, want queued", got.State)
	}
	_, eb := node(t, st, bus, "b", Config{Sweep: 10 * time.Millisecond, NodeLease: time.Hour})
	waitFor(t, "node b to claim the call", func() bool { s, _, _ := eb.snapshot(); return slices.Equal(s, []string{"c1"}) })
}

// A node whose heartbeat is older than the lease is dead: its live calls
// are ended (once) and its queued calls freed for the others, and its row
// is forgotten.
func TestReaper(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	old := time.Now().Add(-time.Hour)
	if err := st.Heartbeat(ctx, "dead", old); err != nil {
		t.Fatal(err)
	}
	live := queue(t, st, "live", old)
	live.State, live.Node = dialtone.CallRinging, "dead"
	if err := st.UpdateCall(ctx, &dialtone.CallChange{Call: live}); err != nil {
		t.Fatal(err)
	}
	queued := queue(t, st, "queued", old.Add(time.Millisecond))
	if _, err := st.ClaimCalls(ctx, "dead", 10, time.Hour, time.Now()); err != nil {
		t.Fatal(err)
	}
	// An orphan: a live call of a node that never beat at all.
	orphan := queue(t, st, "orphan", old.Add(2*time.Millisecond))
	orphan.State, orphan.Node = dialtone.CallAnswered, "ghost"
	if err := st.UpdateCall(ctx, &dialtone.CallChange{Call: orphan}); err != nil {
		t.Fatal(err)
	}
	_ = queued

	_, e := node(t, st, NewLocalBus(), "a", Config{NodeLease: 150 * time.Millisecond, Sweep: 10 * time.Millisecond})
	waitFor(t, "the reaper", func() bool {
		_, _, lost := e.snapshot()
		started, _, _ := e.snapshot()
		return len(lost) == 2 && slices.Contains(started, "queued")
	})
	_, _, lost := e.snapshot()
	slices.Sort(lost)
	if !slices.Equal(lost, []string{"live", "orphan"}) {
		t.Errorf("ended %v, want live and orphan", lost)
	}
	for _, id := range []string{"live", "orphan"} {
		c, err := st.GetCall(ctx, "1", id)
		if err != nil {
			t.Fatal(err)
		}
		if c.State != dialtone.CallEnded {
			t.Errorf("%s is %s, want ended", id, c.State)
		}
	}
	waitFor(t, "the dead node's row to go", func() bool {
		dead, err := st.DeadNodes(ctx, "a", time.Now())
		return err == nil && !slices.Contains(dead, "dead")
	})
}

// Shutdown frees the node's claimed queued calls and removes its
// heartbeat, so that no reaper takes it for dead.
func TestShutdown(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	e := &fakeEngine{node: "a", store: st, live: 1}
	c := New(Config{MaxLiveCalls: 1, NodeLease: time.Hour, Sweep: time.Hour}, st, NewLocalBus(), errStopping, quiet)
	c.Attach(e)
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	queue(t, st, "q", time.Now())
	if _, err := st.ClaimCalls(ctx, "a", 1, time.Hour, time.Now()); err != nil {
		t.Fatal(err)
	}
	engineDown := false
	c.Shutdown(func() { engineDown = true })
	if !engineDown {
		t.Error("Shutdown did not stop the engine")
	}
	got, err := st.GetCall(ctx, "1", "q")
	if err != nil {
		t.Fatal(err)
	}
	if got.Node != "" {
		t.Errorf("queued call still owned by %q after shutdown", got.Node)
	}
	// With the row gone, a node that was never seen is only reported when
	// it owns live calls; it owns none.
	dead, err := st.DeadNodes(ctx, "other", time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(dead, "a") {
		t.Errorf("node a left a heartbeat row: dead nodes %v", dead)
	}
}

// recordingBus is a LocalBus that also delivers cancels, as the
// PostgreSQL bus does between processes.
type recordingBus struct {
	*LocalBus
	mu       sync.Mutex
	onCancel []func(node, accountUID, callID string)
}

func (b *recordingBus) OnCancel(fn func(node, accountUID, callID string)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.onCancel = append(b.onCancel, fn)
}

func (b *recordingBus) Cancel(_ context.Context, node, accountUID, callID string) error {
	b.mu.Lock()
	fns := b.onCancel
	b.mu.Unlock()
	for _, fn := range fns {
		fn(node, accountUID, callID)
	}
	return nil
}

// A cancel accepted on one node stops the call on the node that runs it,
// and on no other.
func TestCancelElsewhere(t *testing.T) {
	st := openStore(t)
	bus := &recordingBus{LocalBus: NewLocalBus()}
	cfg := Config{Sweep: time.Hour, NodeLease: time.Hour}
	a, ea := node(t, st, bus, "a", cfg)
	_, eb := node(t, st, bus, "b", cfg)
	a.CancelElsewhere(context.Background(), "b", "1", "c9")
	if _, stopped, _ := eb.snapshot(); !slices.Equal(stopped, []string{"1/c9"}) {
		t.Errorf("node b stopped %v, want 1/c9", stopped)
	}
	if _, stopped, _ := ea.snapshot(); len(stopped) != 0 {
		t.Errorf("node a stopped %v, want nothing", stopped)
	}
}

// The local bus wakes the long polls of its process.
func TestLocalBusWaker(t *testing.T) {
	b := NewLocalBus()
	w := b.Waker()
	ch := w.Wait("q")
	w.Wake("q")
	select {
	case <-ch:
	case <-time.After(time.Second):
		t.Fatal("Wake did not release Wait")
	}
}

// The cluster drives the node's limits: at start it gives back what the
// node's previous run held, its reaper gives back a dead node's slots, its
// heartbeat renews the claims of the calls waiting for a slot, and the
// live nodes share the request rates.
func TestClusterLimits(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	bus := NewLocalBus()
	take := func(node, holder string) {
		t.Helper()
		if ok, err := st.TakeSlots(ctx, node, holder, []dialtone.SlotWant{{Key: "k", N: 1, Max: 10}}, time.Now()); err != nil || !ok {
			t.Fatalf("TakeSlots = %v, %v", ok, err)
		}
	}
	held := func(node string) int {
		u, err := st.SlotUsage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, x := range u {
			if x.Node == node {
				n += x.Held
			}
		}
		return n
	}
	old := time.Now().Add(-time.Hour)
	if err := st.Heartbeat(ctx, "dead", old); err != nil {
		t.Fatal(err)
	}
	take("dead", "d1")
	take("ghost", "g1") // a node that never beat
	take("a", "previous-run")
	waiting := queue(t, st, "waiting", time.Now())
	if _, err := st.ClaimCall(ctx, "1", waiting.ID, "a", time.Millisecond, time.Now()); err != nil {
		t.Fatal(err)
	}

	const lease = 150 * time.Millisecond
	// Any renewal from the start on reaches past started+lease/2, while
	// the claim above (1 ms) does not: the check does not depend on how
	// soon after a renewal it reads, which a loaded machine stretches.
	started := time.Now()
	e := &fakeEngine{node: "a", store: st, live: 1}
	c := New(Config{NodeLease: lease, Sweep: time.Hour}, st, bus, errStopping, quiet)
	limits := NewSharedLimits(st, bus, "a", 10*time.Millisecond, quiet)
	c.SetLimits(limits)
	c.Attach(e)
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Shutdown(func() {}) })
	if c.Limits() != limits {
		t.Fatal("the cluster does not use the limits it was given")
	}
	if held("a") != 0 {
		t.Error("the slots of the node's previous run were not given back at start")
	}
	waitFor(t, "the reaper to give back the dead nodes' slots", func() bool { return held("dead") == 0 && held("ghost") == 0 })
	waitFor(t, "the waiting call's claim renewed", func() bool {
		got, err := st.GetCall(ctx, "1", "waiting")
		return err == nil && got.Node == "a" && got.LeaseTill.After(started.Add(lease/2))
	})
	// A second node joins: each admits half the rate.
	if limits.Nodes() != 1 {
		t.Errorf("one node shares the rates with %d", limits.Nodes())
	}
	if err := st.Heartbeat(ctx, "b", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := bus.NodesChanged(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the rates shared by two", func() bool { return limits.Nodes() == 2 })
}
