package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone"
)

// The limits of a cluster (dialtone.LimitStore), the shared simulated
// network (dialtone.NetworkStore) and the cluster's claims of single
// calls; run by RunCluster.

func (c *csuite) liveNodes(t *testing.T) {
	st := c.store(t)
	got, err := st.LiveNodes(ctx(t), at(0))
	must(t, "LiveNodes", err)
	if len(got) != 0 {
		t.Errorf("no nodes: live %v", got)
	}
	must(t, "Heartbeat b", st.Heartbeat(ctx(t), "b", at(10*time.Second)))
	must(t, "Heartbeat a", st.Heartbeat(ctx(t), "a", at(5*time.Second)))
	must(t, "Heartbeat c", st.Heartbeat(ctx(t), "c", at(time.Second)))
	got, err = st.LiveNodes(ctx(t), at(5*time.Second))
	must(t, "LiveNodes", err)
	if !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Errorf("live since 5 s = %v, want [a b] (at the bound included, sorted)", got)
	}
}

func (c *csuite) claimCall(t *testing.T) {
	st := c.store(t)
	putAccount(t, st, "100")
	putAccount(t, st, "200")
	now := at(time.Hour)
	free := mkOwned(t, st, "free", dialtone.CallQueued, "", time.Time{}, 0)
	mkOwned(t, st, "held", dialtone.CallQueued, "n2", now.Add(time.Second), 0)
	mkOwned(t, st, "expired", dialtone.CallQueued, "n2", now.Add(-time.Millisecond), 0)
	mkOwned(t, st, "mine", dialtone.CallQueued, "n1", now.Add(time.Second), 0)
	mkOwned(t, st, "dialing", dialtone.CallDialing, "", time.Time{}, 0)

	got, err := st.ClaimCall(ctx(t), "100", "free", "n1", 10*time.Second, now)
	must(t, "ClaimCall free", err)
	if got.Node != "n1" || !normTime(got.LeaseTill).Equal(normTime(now.Add(10*time.Second))) || got.Version != free.Version+1 || got.State != dialtone.CallQueued {
		t.Errorf("claimed: node %q lease %v version %d state %s", got.Node, got.LeaseTill, got.Version, got.State)
	}
	stored, err := st.GetCall(ctx(t), "100", "free")
	must(t, "GetCall", err)
	equal(t, "claimed call as stored", *stored, *got, normCall)
	// A copy read before the claim is stale.
	free.State = dialtone.CallDialing
	if err := st.UpdateCall(ctx(t), &dialtone.CallChange{Call: free}); !errors.Is(err, dialtone.ErrConflict) {
		t.Errorf("stale UpdateCall after ClaimCall: %v, want ErrConflict", err)
	}
	for _, id := range []string{"expired", "mine"} {
		if _, err := st.ClaimCall(ctx(t), "100", id, "n1", 10*time.Second, now); err != nil {
			t.Errorf("ClaimCall %s: %v", id, err)
		}
	}
	for _, id := range []string{"held", "dialing"} {
		if _, err := st.ClaimCall(ctx(t), "100", id, "n1", 10*time.Second, now); !errors.Is(err, dialtone.ErrConflict) {
			t.Errorf("ClaimCall %s: %v, want ErrConflict", id, err)
		}
	}
	for _, acct := range []string{"200", "300"} {
		if _, err := st.ClaimCall(ctx(t), acct, "free", "n1", 10*time.Second, now); !errors.Is(err, dialtone.ErrNotFound) {
			t.Errorf("ClaimCall of account %s: %v, want ErrNotFound", acct, err)
		}
	}
	if _, err := st.ClaimCall(ctx(t), "100", "nope", "n1", 10*time.Second, now); !errors.Is(err, dialtone.ErrNotFound) {
		t.Errorf("ClaimCall of an unknown call: %v, want ErrNotFound", err)
	}
	// The claimers of other nodes leave a claimed call alone.
	claimed, err := st.ClaimCalls(ctx(t), "n3", 10, time.Minute, now)
	must(t, "ClaimCalls", err)
	sameIDs(t, "ClaimCalls after ClaimCall", claimed)
}

func (c *csuite) renewClaims(t *testing.T) {
	st := c.store(t)
	putAccount(t, st, "100")
	now := at(time.Hour)
	mine := mkOwned(t, st, "mine", dialtone.CallQueued, "n1", now.Add(time.Second), 0)
	mkOwned(t, st, "other", dialtone.CallQueued, "n2", now.Add(time.Second), 0)
	mkOwned(t, st, "live", dialtone.CallAnswered, "n1", now.Add(time.Second), 0)
	n, err := st.RenewClaims(ctx(t), "n1", now.Add(time.Minute))
	must(t, "RenewClaims", err)
	if n != 1 {
		t.Errorf("renewed %d, want 1 (queued calls of n1 only)", n)
	}
	got, err := st.GetCall(ctx(t), "100", "mine")
	must(t, "GetCall", err)
	if !normTime(got.LeaseTill).Equal(normTime(now.Add(time.Minute))) || got.Version != mine.Version {
		t.Errorf("renewed call: lease %v version %d (want the same version %d)", got.LeaseTill, got.Version, mine.Version)
	}
	// The owner's copy stays current.
	mine.State = dialtone.CallDialing
	must(t, "UpdateCall of the renewed call", st.UpdateCall(ctx(t), &dialtone.CallChange{Call: mine}))
	for _, id := range []string{"other", "live"} {
		got, err := st.GetCall(ctx(t), "100", id)
		must(t, "GetCall", err)
		if !normTime(got.LeaseTill).Equal(normTime(now.Add(time.Second))) {
			t.Errorf("%s: lease changed to %v", id, got.LeaseTill)
		}
	}
}

func usage(t *testing.T, st dialtone.Store) map[string]int {
	t.Helper()
	u, err := st.SlotUsage(ctx(t))
	must(t, "SlotUsage", err)
	out := map[string]int{}
	for _, x := range u {
		out[x.Key+"@"+x.Node] += x.Held
	}
	return out
}

func (c *csuite) slots(t *testing.T) {
	st := c.store(t)
	take := func(node, holder string, want ...dialtone.SlotWant) bool {
		t.Helper()
		ok, err := st.TakeSlots(ctx(t), node, holder, want, at(0))
		must(t, "TakeSlots "+holder, err)
		return ok
	}
	num := func(n, max int) dialtone.SlotWant { return dialtone.SlotWant{Key: "number:1:0571", N: n, Max: max} }
	trunk := func(n, max int) dialtone.SlotWant { return dialtone.SlotWant{Key: "trunk:t1", N: n, Max: max} }
	if !take("n1", "c1", num(1, 2)) || !take("n2", "c2", num(1, 2)) {
		t.Fatal("two slots of a cap of two not taken")
	}
	if take("n1", "c3", num(1, 2)) {
		t.Error("a third slot of a cap of two was taken")
	}
	// All or none: the trunk has room, the number has not.
	if take("n1", "c3", trunk(1, 5), num(1, 2)) {
		t.Error("slots taken while one key is full")
	}
	if got := usage(t, st); !reflect.DeepEqual(got, map[string]int{"number:1:0571@n1": 1, "number:1:0571@n2": 1}) {
		t.Errorf("usage after a refused take = %v", got)
	}
	// A raised cap counts what is held.
	if !take("n1", "c3", num(1, 3)) {
		t.Error("slot under a raised cap not taken")
	}
	// The same holder twice under one key is a conflict, and changes nothing.
	if _, err := st.TakeSlots(ctx(t), "n1", "c3", []dialtone.SlotWant{num(1, 10)}, at(0)); !errors.Is(err, dialtone.ErrConflict) {
		t.Errorf("TakeSlots of a holder already holding: %v, want ErrConflict", err)
	}
	// A key listed twice takes two; N <= 0 is ignored.
	if !take("n2", "ctd", trunk(1, 2), trunk(1, 2), dialtone.SlotWant{Key: "number:1:x", N: 0, Max: 0}) {
		t.Error("two slots of one key for one holder not taken")
	}
	if take("n2", "ctd2", trunk(1, 2)) {
		t.Error("a trunk slot over its cap was taken")
	}
	if !take("n2", "nothing") {
		t.Error("taking nothing must succeed")
	}
	want := map[string]int{"number:1:0571@n1": 2, "number:1:0571@n2": 1, "trunk:t1@n2": 2}
	if got := usage(t, st); !reflect.DeepEqual(got, want) {
		t.Errorf("usage = %v, want %v", got, want)
	}
	u, err := st.SlotUsage(ctx(t))
	must(t, "SlotUsage", err)
	if !sort.SliceIsSorted(u, func(i, j int) bool { return u[i].Key < u[j].Key || u[i].Key == u[j].Key && u[i].Node < u[j].Node }) {
		t.Errorf("SlotUsage not ordered by key, node: %v", u)
	}

	keys, err := st.ReleaseSlots(ctx(t), "ctd")
	must(t, "ReleaseSlots", err)
	if !reflect.DeepEqual(keys, []string{"trunk:t1"}) {
		t.Errorf("released keys %v", keys)
	}
	keys, err = st.ReleaseSlots(ctx(t), "ctd")
	must(t, "ReleaseSlots again", err)
	if len(keys) != 0 {
		t.Errorf("released again: %v", keys)
	}
	if !take("n2", "ctd2", trunk(1, 2)) {
		t.Error("a released slot was not free again")
	}
	// A node's slots go at once, whoever holds them.
	keys, err = st.ReleaseNodeSlots(ctx(t), "n2")
	must(t, "ReleaseNodeSlots", err)
	if !reflect.DeepEqual(keys, []string{"number:1:0571", "trunk:t1"}) {
		t.Errorf("released keys of n2 = %v", keys)
	}
	if got := usage(t, st); !reflect.DeepEqual(got, map[string]int{"number:1:0571@n1": 2}) {
		t.Errorf("usage after releasing n2 = %v", got)
	}
	if !take("n3", "c4", num(1, 3)) {
		t.Error("a slot of the released node was not free again")
	}
}

// slotsConcurrent: takers on several connections at once never hold more
// than the cap, and every freed slot is taken again.
func (c *csuite) slotsConcurrent(t *testing.T) {
	st := c.store(t)
	const cap, workers, rounds = 3, 8, 15
	var (
		held, peak atomic.Int64
		wg         sync.WaitGroup
		errs       = make(chan error, workers)
		takes      atomic.Int64
	)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			node := fmt.Sprintf("n%d", w%3)
			for r := range rounds {
				holder := fmt.Sprintf("w%d-%d", w, r)
				ok, err := st.TakeSlots(ctx(t), node, holder, []dialtone.SlotWant{{Key: "k", N: 1, Max: cap}, {Key: fmt.Sprintf("own%d", w), N: 1, Max: 1}}, at(0))
				if err != nil {
					errs <- err
					return
				}
				if !ok {
					continue
				}
				takes.Add(1)
				h := held.Add(1)
				for {
					p := peak.Load()
					if h <= p || peak.CompareAndSwap(p, h) {
						break
					}
				}
				time.Sleep(time.Millisecond)
				held.Add(-1)
				if _, err := st.ReleaseSlots(ctx(t), holder); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if p := peak.Load(); p > cap {
		t.Errorf("%d slots held at once under a cap of %d", p, cap)
	}
	if takes.Load() < cap {
		t.Errorf("only %d takes succeeded", takes.Load())
	}
	if got := usage(t, st); len(got) != 0 {
		t.Errorf("slots left after every release: %v", got)
	}
}

func (c *csuite) pace(t *testing.T) {
	st := c.store(t)
	start := func(key string, now time.Duration) time.Time {
		t.Helper()
		got, err := st.PaceStart(ctx(t), key, 100*time.Millisecond, at(now))
		must(t, "PaceStart", err)
		return got
	}
	check := func(what string, got time.Time, want time.Duration) {
		t.Helper()
		if !got.Equal(at(want)) {
			t.Errorf("%s: start %v, want %v", what, got.Sub(t0), want)
		}
	}
	check("first start", start("cps:t1", 0), 0)
	check("second at once", start("cps:t1", 0), 100*time.Millisecond)
	check("third at once", start("cps:t1", 10*time.Millisecond), 200*time.Millisecond)
	check("other key", start("cps:t2", 10*time.Millisecond), 10*time.Millisecond)
	// After a pause the next start is now, not the backlog's end.
	check("after a pause", start("cps:t1", time.Second), time.Second)
	check("then spaced", start("cps:t1", time.Second), 1100*time.Millisecond)
}

// paceConcurrent: starts reserved at once from several connections are
// all distinct and spaced by the interval.
func (c *csuite) paceConcurrent(t *testing.T) {
	st := c.store(t)
	const workers, each = 6, 5
	var (
		mu     sync.Mutex
		starts []time.Time
		wg     sync.WaitGroup
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				s, err := st.PaceStart(ctx(t), "cps:x", 10*time.Millisecond, at(0))
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				starts = append(starts, s)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	sort.Slice(starts, func(i, j int) bool { return starts[i].Before(starts[j]) })
	for i, s := range starts {
		if want := at(time.Duration(i) * 10 * time.Millisecond); !s.Equal(want) {
			t.Fatalf("start %d at %v, want %v (every reservation distinct and spaced)", i, s.Sub(t0), want.Sub(t0))
		}
	}
}

func (c *csuite) network(t *testing.T) {
	st := c.store(t)
	if _, err := st.GetNetwork(ctx(t)); !errors.Is(err, dialtone.ErrNotFound) {
		t.Fatalf("GetNetwork of an empty store: %v, want ErrNotFound", err)
	}
	n, changed, err := st.PutNetwork(ctx(t), `{"a":1}`, "node0", 0, at(0))
	must(t, "PutNetwork", err)
	if !changed || n.Version != 1 || n.Config != `{"a":1}` || n.UpdatedBy != "node0" || !normTime(n.UpdatedAt).Equal(normTime(at(0))) {
		t.Errorf("first put: %+v changed %v", n, changed)
	}
	n, changed, err = st.PutNetwork(ctx(t), `{"a":1}`, "node1", 0, at(time.Second))
	must(t, "PutNetwork same", err)
	if changed || n.Version != 1 || n.UpdatedBy != "node0" {
		t.Errorf("same config: %+v changed %v", n, changed)
	}
	n, changed, err = st.PutNetwork(ctx(t), `{"a":2}`, "node1", 0, at(2*time.Second))
	must(t, "PutNetwork other", err)
	if !changed || n.Version != 2 || n.UpdatedBy != "node1" {
		t.Errorf("changed config: %+v changed %v", n, changed)
	}
	// A change made from an old version is refused and changes nothing.
	if _, _, err := st.PutNetwork(ctx(t), `{"a":3}`, "console", 1, at(3*time.Second)); !errors.Is(err, dialtone.ErrConflict) {
		t.Errorf("put from version 1 over 2: %v, want ErrConflict", err)
	}
	n, changed, err = st.PutNetwork(ctx(t), `{"a":3}`, "console", 2, at(3*time.Second))
	must(t, "PutNetwork from the current version", err)
	if !changed || n.Version != 3 {
		t.Errorf("put from the current version: %+v changed %v", n, changed)
	}
	got, err := st.GetNetwork(ctx(t))
	must(t, "GetNetwork", err)
	equal(t, "stored network", *got, *n, func(n dialtone.SharedNetwork) dialtone.SharedNetwork {
		n.UpdatedAt = normTime(n.UpdatedAt)
		return n
	})
}
