package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone"
)

// ClusterStore is the store as RunCluster takes it (dialtone.Store has
// the part that several nodes sharing it need).
type ClusterStore interface {
	dialtone.Store
}

// RunCluster is the conformance suite of dialtone.ClusterStore: claiming
// queued calls (each to exactly one node, oldest first, with a lease),
// releasing them, and node heartbeats; and of what several nodes share
// besides: dialtone.LimitStore (slots under caps, exact under concurrent
// takers, and paces) and dialtone.NetworkStore.
func RunCluster(t *testing.T, open func(t *testing.T) ClusterStore) {
	c := &csuite{open: open}
	t.Run("Claim", c.claim)
	t.Run("ClaimMakesCopiesStale", c.claimStale)
	t.Run("ClaimConcurrent", c.claimConcurrent)
	t.Run("Release", c.release)
	t.Run("Nodes", c.nodes)
	t.Run("LiveNodes", c.liveNodes)
	t.Run("ClaimCall", c.claimCall)
	t.Run("RenewClaims", c.renewClaims)
	t.Run("Slots", c.slots)
	t.Run("SlotsConcurrent", c.slotsConcurrent)
	t.Run("Pace", c.pace)
	t.Run("PaceConcurrent", c.paceConcurrent)
	t.Run("Network", c.network)
}

type csuite struct {
	open func(t *testing.T) ClusterStore
}

func (c *csuite) store(t *testing.T) ClusterStore {
	t.Helper()
	st := c.open(t)
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return st
}

func mkOwned(t *testing.T, st dialtone.Store, id string, state dialtone.CallState, node string, lease time.Time, created time.Duration) *dialtone.Call {
	t.Helper()
	cl := &dialtone.Call{ID: id, AccountUID: "100", Kind: dialtone.KindTTS, Callee: "1", State: state, Node: node, LeaseTill: lease, CreatedAt: at(created)}
	must(t, "CreateCall "+id, st.CreateCall(ctx(t), cl, nil))
	return cl
}

func (c *csuite) claim(t *testing.T) {
	st := c.store(t)
	putAccount(t, st, "100")
	now := at(time.Hour)
	mkOwned(t, st, "free2", dialtone.CallQueued, "", time.Time{}, 2*time.Second)
	mkOwned(t, st, "free1", dialtone.CallQueued, "", time.Time{}, time.Second)
	mkOwned(t, st, "expired", dialtone.CallQueued, "n2", now.Add(-time.Millisecond), 3*time.Second)
	mkOwned(t, st, "held", dialtone.CallQueued, "n2", now.Add(time.Second), 0)
	mkOwned(t, st, "dialing", dialtone.CallDialing, "", time.Time{}, 0)
	mkOwned(t, st, "ended", dialtone.CallEnded, "", time.Time{}, 0)

	got, err := st.ClaimCalls(ctx(t), "n1", 2, 10*time.Second, now)
	must(t, "ClaimCalls", err)
	sameIDs(t, "first claim (limit 2, oldest first)", got, "free1", "free2")
	for _, cl := range got {
		if cl.Node != "n1" || !normTime(cl.LeaseTill).Equal(normTime(now.Add(10*time.Second))) || cl.Version != 2 || cl.State != dialtone.CallQueued {
			t.Errorf("claimed %s: node %q lease %v version %d state %s", cl.ID, cl.Node, cl.LeaseTill, cl.Version, cl.State)
		}
		stored, err := st.GetCall(ctx(t), "100", cl.ID)
		must(t, "GetCall", err)
		equal(t, "claimed call as stored", *stored, cl, normCall)
	}
	got, err = st.ClaimCalls(ctx(t), "n1", 10, 10*time.Second, now)
	must(t, "ClaimCalls", err)
	sameIDs(t, "second claim takes the expired lease only", got, "expired")
	got, err = st.ClaimCalls(ctx(t), "n3", 10, 10*time.Second, now)
	must(t, "ClaimCalls", err)
	sameIDs(t, "nothing left while leases hold", got)
	// Once n1's leases run out another node may take its calls; a held
	// lease is taken only after it ends.
	got, err = st.ClaimCalls(ctx(t), "n3", 10, 10*time.Second, now.Add(11*time.Second))
	must(t, "ClaimCalls", err)
	sameIDs(t, "after the leases", got, "held", "free1", "free2", "expired")
	got, err = st.ClaimCalls(ctx(t), "n3", 0, time.Second, now)
	must(t, "ClaimCalls limit 0", err)
	sameIDs(t, "limit 0", got)
}

func (c *csuite) claimStale(t *testing.T) {
	st := c.store(t)
	putAccount(t, st, "100")
	cl := mkOwned(t, st, "q", dialtone.CallQueued, "", time.Time{}, 0)
	if _, err := st.ClaimCalls(ctx(t), "n1", 1, time.Minute, t0); err != nil {
		t.Fatal(err)
	}
	// Whoever read the call before the claim (a node about to dial it)
	// must lose its write.
	cl.State = dialtone.CallDialing
	if err := st.UpdateCall(ctx(t), &dialtone.CallChange{Call: cl}); !errors.Is(err, dialtone.ErrConflict) {
		t.Fatalf("stale UpdateCall after a claim: %v, want ErrConflict", err)
	}
	// A dialled call is never claimed again, lease or not.
	fresh, err := st.GetCall(ctx(t), "100", "q")
	must(t, "GetCall", err)
	fresh.State = dialtone.CallDialing
	must(t, "UpdateCall", st.UpdateCall(ctx(t), &dialtone.CallChange{Call: fresh}))
	got, err := st.ClaimCalls(ctx(t), "n2", 5, time.Minute, t0.Add(time.Hour))
	must(t, "ClaimCalls", err)
	sameIDs(t, "claim of a dialled call", got)
}

func (c *csuite) claimConcurrent(t *testing.T) {
	st := c.store(t)
	putAccount(t, st, "100")
	const calls, claimers = 60, 4
	for i := range calls {
		mkOwned(t, st, fmt.Sprintf("c%03d", i), dialtone.CallQueued, "", time.Time{}, time.Duration(i)*time.Millisecond)
	}
	var (
		mu    sync.Mutex
		owner = map[string]string{}
		wg    sync.WaitGroup
		errs  = make(chan error, claimers)
	)
	for w := range claimers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			node := fmt.Sprintf("n%d", w)
			for range calls { // bounded: at most one round per call
				got, err := st.ClaimCalls(ctx(t), node, 3, time.Minute, t0)
				if err != nil {
					errs <- err
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, cl := range got {
					if prev, dup := owner[cl.ID]; dup {
						errs <- fmt.Errorf("%s claimed by %s and %s", cl.ID, prev, node)
					}
					owner[cl.ID] = node
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if len(owner) != calls {
		t.Errorf("%d of %d calls claimed", len(owner), calls)
	}
}

func (c *csuite) release(t *testing.T) {
	st := c.store(t)
	putAccount(t, st, "100")
	mkOwned(t, st, "q1", dialtone.CallQueued, "n1", at(time.Hour), 0)
	mkOwned(t, st, "q2", dialtone.CallQueued, "n2", at(time.Hour), 0)
	live := mkOwned(t, st, "live", dialtone.CallAnswered, "n1", at(time.Hour), 0)
	n, err := st.ReleaseCalls(ctx(t), "n1")
	must(t, "ReleaseCalls", err)
	if n != 1 {
		t.Errorf("released %d, want 1", n)
	}
	got, err := st.GetCall(ctx(t), "100", "q1")
	must(t, "GetCall", err)
	if got.Node != "" || !got.LeaseTill.IsZero() || got.Version != 2 {
		t.Errorf("released call: node %q lease %v version %d", got.Node, got.LeaseTill, got.Version)
	}
	still, err := st.GetCall(ctx(t), "100", "live")
	must(t, "GetCall", err)
	equal(t, "live call untouched", *still, *live, normCall)
	claimed, err := st.ClaimCalls(ctx(t), "n3", 10, time.Minute, t0)
	must(t, "ClaimCalls", err)
	sameIDs(t, "claim after release", claimed, "q1")
}

func (c *csuite) nodes(t *testing.T) {
	st := c.store(t)
	putAccount(t, st, "100")
	dead := func(self string, before time.Time) []string {
		t.Helper()
		got, err := st.DeadNodes(ctx(t), self, before)
		must(t, "DeadNodes", err)
		return got
	}
	if got := dead("a", at(time.Hour)); len(got) != 0 {
		t.Errorf("no nodes: dead %v", got)
	}
	must(t, "Heartbeat a", st.Heartbeat(ctx(t), "a", at(0)))
	must(t, "Heartbeat b", st.Heartbeat(ctx(t), "b", at(0)))
	must(t, "Heartbeat b again", st.Heartbeat(ctx(t), "b", at(10*time.Second)))
	if got := dead("a", at(5*time.Second)); len(got) != 0 {
		t.Errorf("self is never dead, b is fresh: %v", got)
	}
	if got := dead("b", at(5*time.Second)); !reflect.DeepEqual(got, []string{"a"}) {
		t.Errorf("dead as seen by b = %v, want [a]", got)
	}
	// A node with live calls and no heartbeat row is dead too; queued
	// calls do not count (they are claimed, not live), nor ended ones.
	mkOwned(t, st, "orphan", dialtone.CallRinging, "ghost", time.Time{}, 0)
	mkOwned(t, st, "queued", dialtone.CallQueued, "ghost2", time.Time{}, 0)
	mkOwned(t, st, "over", dialtone.CallEnded, "ghost3", time.Time{}, 0)
	mkOwned(t, st, "mine", dialtone.CallAnswered, "b", time.Time{}, 0)
	if got := dead("b", at(5*time.Second)); !reflect.DeepEqual(got, []string{"a", "ghost"}) {
		t.Errorf("dead as seen by b = %v, want [a ghost]", got)
	}
	// A node that beat again after the reaper looked is not forgotten.
	must(t, "ForgetNode b too early", st.ForgetNode(ctx(t), "b", at(5*time.Second)))
	if got := dead("a", at(5*time.Second)); !reflect.DeepEqual(got, []string{"ghost"}) {
		t.Errorf("b forgotten despite a heartbeat after before: dead %v, want [ghost]", got)
	}
	must(t, "ForgetNode a", st.ForgetNode(ctx(t), "a", at(time.Second)))
	must(t, "ForgetNode unknown", st.ForgetNode(ctx(t), "zzz", at(time.Hour)))
	if got := dead("b", at(time.Hour)); !reflect.DeepEqual(got, []string{"ghost"}) {
		t.Errorf("after forgetting a = %v, want [ghost]", got)
	}
	// Forgetting a node that still owns live calls makes it an orphan,
	// which keeps it on the list until its calls are ended.
	must(t, "ForgetNode b", st.ForgetNode(ctx(t), "b", at(time.Hour)))
	if got := dead("a", at(time.Hour)); !reflect.DeepEqual(got, []string{"b", "ghost"}) {
		t.Errorf("after forgetting b = %v, want [b ghost]", got)
	}
	// So is a node that holds slots without a heartbeat row, until they
	// are given back.
	if ok, err := st.TakeSlots(ctx(t), "slotter", "h", []dialtone.SlotWant{{Key: "k", N: 1, Max: 1}}, at(0)); err != nil || !ok {
		t.Fatalf("TakeSlots = %v, %v", ok, err)
	}
	if got := dead("a", at(time.Hour)); !reflect.DeepEqual(got, []string{"b", "ghost", "slotter"}) {
		t.Errorf("with slots of a node without a row = %v, want [b ghost slotter]", got)
	}
	_, err := st.ReleaseNodeSlots(ctx(t), "slotter")
	must(t, "ReleaseNodeSlots", err)
	if got := dead("a", at(time.Hour)); !reflect.DeepEqual(got, []string{"b", "ghost"}) {
		t.Errorf("after its slots were given back = %v, want [b ghost]", got)
	}
}
