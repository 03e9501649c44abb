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

// Conformance of the call engine's part of the store (updates, events,
// receipts, flow control, listing) and of the console resources.

func normEvent(e dialtone.CallEvent) dialtone.CallEvent {
	e.At = normTime(e.At)
	if len(e.Detail) == 0 {
		e.Detail = nil
	}
	return e
}

func normEvents(es []dialtone.CallEvent) []dialtone.CallEvent {
	out := make([]dialtone.CallEvent, len(es))
	for i, e := range es {
		out[i] = normEvent(e)
	}
	return out
}

func callIDs(cs []dialtone.Call) []string {
	ids := []string{}
	for _, c := range cs {
		ids = append(ids, c.ID)
	}
	return ids
}

func sameIDs(t *testing.T, what string, got []dialtone.Call, want ...string) {
	t.Helper()
	if want == nil {
		want = []string{}
	}
	if g := callIDs(got); !reflect.DeepEqual(g, want) {
		t.Errorf("%s = %v, want %v", what, g, want)
	}
}

// createCall creates a minimal call with the given ID, callee and creation
// time, without flow control.
func createCall(t *testing.T, st dialtone.Store, acct, id, callee string, created time.Time) *dialtone.Call {
	t.Helper()
	c := &dialtone.Call{ID: id, AccountUID: acct, Kind: dialtone.KindTTS, Callee: callee, State: dialtone.CallQueued, CreatedAt: created}
	must(t, "CreateCall "+id, st.CreateCall(ctx(t), c, nil))
	return c
}

func (s *suite) callUpdateRoundTrip(t *testing.T) {
	st := s.store(t)
	putAccount(t, st, "100")
	c := &dialtone.Call{ID: "c1", AccountUID: "100", Kind: dialtone.KindVoice, State: dialtone.CallQueued, CreatedAt: at(0)}
	must(t, "CreateCall", st.CreateCall(ctx(t), c, nil))

	// Every field changes; the identity, CreatedAt and what the call was
	// asked to do (kind, product, numbers, out_id, params) must not.
	upd := fullCall("c1", "100")
	upd.CreatedAt = at(time.Hour)
	upd.Version = 1
	events := []dialtone.CallEvent{
		{Seq: 1, At: at(time.Second).In(elsewhere), Type: "originate", Leg: "A"},
		{CallID: "c1", Seq: 2, At: at(2 * time.Second), Type: "ringing", Leg: "A", StatusCode: dialtone.StatusRinging,
			Detail: map[string]string{"carrier": "sim", "词": "值", "empty": ""}},
	}
	receipts := []dialtone.Receipt{
		{ID: "r1", MessageType: dialtone.MsgVoiceReport, Body: []byte(`{"call_id":"c1","status_code":"200201"}`), CreatedAt: at(2 * time.Second)},
		{ID: "r2", AccountUID: "100", CallID: "c1", MessageType: dialtone.MsgVoiceCallReport, Body: []byte(`{}`), CreatedAt: at(2 * time.Second)},
	}
	must(t, "UpdateCall", st.UpdateCall(ctx(t), &dialtone.CallChange{Call: upd, Events: events, Receipts: receipts}))
	if upd.Version != 2 {
		t.Errorf("UpdateCall left Version %d, want 2", upd.Version)
	}
	got, err := st.GetCall(ctx(t), "100", "c1")
	must(t, "GetCall", err)
	want := *upd
	want.CreatedAt = c.CreatedAt
	want.Kind, want.ProdID, want.Caller, want.Callee = c.Kind, c.ProdID, c.Caller, c.Callee
	want.CallerShowNumber, want.CalleeShowNumber, want.OutID, want.Params = c.CallerShowNumber, c.CalleeShowNumber, c.OutID, c.Params
	equal(t, "updated call", *got, want, normCall)

	evs, err := st.ListCallEvents(ctx(t), "100", "c1")
	must(t, "ListCallEvents", err)
	wantEvs := []dialtone.CallEvent{events[0], events[1]}
	wantEvs[0].CallID = "c1"
	equal(t, "events", evs, wantEvs, normEvents)
	if len(evs) == 2 && !evs[0].At.Equal(events[0].At) {
		t.Errorf("event At = %v, want %v", evs[0].At, events[0].At)
	}

	// A second change appends; a change without events or receipts is fine;
	// events come back in Seq order whatever the order they were written in.
	upd.State = dialtone.CallEnded
	must(t, "UpdateCall 2", st.UpdateCall(ctx(t), &dialtone.CallChange{Call: upd, Events: []dialtone.CallEvent{
		{Seq: 4, At: at(4 * time.Second), Type: "ended", Detail: map[string]string{}},
		{Seq: 3, At: at(3 * time.Second), Type: "hangup", Leg: "B"},
	}}))
	must(t, "UpdateCall 3", st.UpdateCall(ctx(t), &dialtone.CallChange{Call: upd}))
	if upd.Version != 4 {
		t.Errorf("Version after three updates = %d, want 4", upd.Version)
	}
	evs, err = st.ListCallEvents(ctx(t), "100", "c1")
	must(t, "ListCallEvents", err)
	var seqs []int
	for _, e := range evs {
		seqs = append(seqs, e.Seq)
	}
	if !reflect.DeepEqual(seqs, []int{1, 2, 3, 4}) {
		t.Errorf("event seqs = %v, want 1..4", seqs)
	}
	got, err = st.GetCall(ctx(t), "100", "c1")
	must(t, "GetCall", err)
	if got.Version != 4 || got.State != dialtone.CallEnded {
		t.Errorf("stored call version %d state %s, want 4 ended", got.Version, got.State)
	}
}

func (s *suite) callUpdateConflict(t *testing.T) {
	st := s.store(t)
	putAccount(t, st, "100")
	c := createCall(t, st, "100", "c1", "139", t0)
	first := *c
	first.State = dialtone.CallDialing
	must(t, "UpdateCall", st.UpdateCall(ctx(t), &dialtone.CallChange{Call: &first}))

	stale := *c // still Version 1
	stale.State = dialtone.CallEnded
	err := st.UpdateCall(ctx(t), &dialtone.CallChange{Call: &stale,
		Events:   []dialtone.CallEvent{{Seq: 1, At: t0, Type: "ended"}},
		Receipts: []dialtone.Receipt{{ID: "r-stale", MessageType: dialtone.MsgVoiceReport, Body: []byte(`{}`)}}})
	wantErr(t, "UpdateCall with a stale version", err, dialtone.ErrConflict)
	if stale.Version != 1 {
		t.Errorf("failed UpdateCall changed Version to %d", stale.Version)
	}
	got, err := st.GetCall(ctx(t), "100", "c1")
	must(t, "GetCall", err)
	if got.State != dialtone.CallDialing || got.Version != 2 {
		t.Errorf("after refused update: state %s version %d, want dialing 2", got.State, got.Version)
	}
	evs, err := st.ListCallEvents(ctx(t), "100", "c1")
	must(t, "ListCallEvents", err)
	if len(evs) != 0 {
		t.Errorf("refused update appended events %+v", evs)
	}
	// The refused receipt ID was not queued: it can be used now.
	must(t, "UpdateCall with the current version", st.UpdateCall(ctx(t), &dialtone.CallChange{Call: &first,
		Receipts: []dialtone.Receipt{{ID: "r-stale", MessageType: dialtone.MsgVoiceReport, Body: []byte(`{}`)}}}))
	// A version ahead of the stored one is as wrong as one behind.
	ahead := *got
	ahead.Version = 99
	wantErr(t, "UpdateCall with a future version", st.UpdateCall(ctx(t), &dialtone.CallChange{Call: &ahead}), dialtone.ErrConflict)
}

// callUpdateConcurrent: writers racing from one version, exactly one wins.
func (s *suite) callUpdateConcurrent(t *testing.T) {
	st := s.store(t)
	putAccount(t, st, "100")
	c := createCall(t, st, "100", "c1", "139", t0)
	const n = 10
	var (
		wg                sync.WaitGroup
		mu                sync.Mutex
		wins, conflicts   int
		start             = make(chan struct{})
		unexpected        []error
		winningNode       string
		winningVersionOut int64
	)
	for i := range n {
		wg.Go(func() {
			mine := *c
			mine.Node = fmt.Sprintf("node-%d", i)
			<-start
			err := st.UpdateCall(ctx(t), &dialtone.CallChange{Call: &mine,
				Events: []dialtone.CallEvent{{Seq: 1, At: t0, Type: "claim", Detail: map[string]string{"node": mine.Node}}}})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
				winningNode, winningVersionOut = mine.Node, mine.Version
			case errors.Is(err, dialtone.ErrConflict):
				conflicts++
			default:
				unexpected = append(unexpected, err)
			}
		})
	}
	close(start)
	wg.Wait()
	for _, err := range unexpected {
		t.Errorf("UpdateCall: %v", err)
	}
	if wins != 1 || conflicts != n-1 {
		t.Fatalf("%d wins and %d conflicts among %d concurrent updates of one version, want 1 and %d", wins, conflicts, n, n-1)
	}
	got, err := st.GetCall(ctx(t), "100", "c1")
	must(t, "GetCall", err)
	if got.Node != winningNode || got.Version != 2 || winningVersionOut != 2 {
		t.Errorf("stored node %s version %d (winner %s, %d)", got.Node, got.Version, winningNode, winningVersionOut)
	}
	evs, err := st.ListCallEvents(ctx(t), "100", "c1")
	must(t, "ListCallEvents", err)
	if len(evs) != 1 || evs[0].Detail["node"] != winningNode {
		t.Errorf("events = %+v, want the winner's only", evs)
	}
}

func (s *suite) callUpdateNotFound(t *testing.T) {
	st := s.store(t)
	putAccount(t, st, "100")
	putAccount(t, st, "200")
	c := createCall(t, st, "100", "c1", "139", t0)
	other := *c
	other.AccountUID = "200"
	other.State = dialtone.CallEnded
	wantErr(t, "UpdateCall through another account", st.UpdateCall(ctx(t), &dialtone.CallChange{Call: &other}), dialtone.ErrNotFound)
	missing := *c
	missing.ID = "nope"
	wantErr(t, "UpdateCall of an unknown call", st.UpdateCall(ctx(t), &dialtone.CallChange{Call: &missing}), dialtone.ErrNotFound)
	got, err := st.GetCall(ctx(t), "100", "c1")
	must(t, "GetCall", err)
	if got.State != dialtone.CallQueued || got.Version != 1 || got.AccountUID != "100" {
		t.Errorf("call changed by refused updates: %+v", got)
	}
}

// callUpdateAtomic: any failing part of a change leaves nothing behind.
func (s *suite) callUpdateAtomic(t *testing.T) {
	st := s.store(t)
	putAccount(t, st, "100")
	putAccount(t, st, "200")
	c := createCall(t, st, "100", "c1", "139", t0)
	c2 := createCall(t, st, "100", "c2", "139", t0)
	must(t, "UpdateCall", st.UpdateCall(ctx(t), &dialtone.CallChange{Call: c,
		Events:   []dialtone.CallEvent{{Seq: 1, At: t0, Type: "originate"}},
		Receipts: []dialtone.Receipt{{ID: "r1", MessageType: dialtone.MsgVoiceReport, Body: []byte(`{}`)}}}))
	// c2 shares the receipt namespace, not the event Seqs.
	must(t, "UpdateCall of another call with Seq 1", st.UpdateCall(ctx(t), &dialtone.CallChange{Call: c2,
		Events: []dialtone.CallEvent{{Seq: 1, At: t0, Type: "originate"}}}))

	bad := map[string]struct {
		ch     dialtone.CallChange
		target error // nil: any error
	}{
		"stored seq": {ch: dialtone.CallChange{Events: []dialtone.CallEvent{{Seq: 2, Type: "ok"}, {Seq: 1, Type: "dup"}}}, target: dialtone.ErrConflict},
		"seq twice":  {ch: dialtone.CallChange{Events: []dialtone.CallEvent{{Seq: 5, Type: "a"}, {Seq: 5, Type: "b"}}}, target: dialtone.ErrConflict},
		"queued receipt": {ch: dialtone.CallChange{Events: []dialtone.CallEvent{{Seq: 2, Type: "ok"}},
			Receipts: []dialtone.Receipt{{ID: "r2"}, {ID: "r1"}}}, target: dialtone.ErrConflict},
		"receipt twice":      {ch: dialtone.CallChange{Receipts: []dialtone.Receipt{{ID: "r3"}, {ID: "r3"}}}, target: dialtone.ErrConflict},
		"seq zero":           {ch: dialtone.CallChange{Events: []dialtone.CallEvent{{Seq: 0, Type: "bad"}}}},
		"event of another":   {ch: dialtone.CallChange{Events: []dialtone.CallEvent{{CallID: "c2", Seq: 9, Type: "bad"}}}},
		"receipt of another": {ch: dialtone.CallChange{Receipts: []dialtone.Receipt{{ID: "r9", AccountUID: "200"}}}},
		"receipt, call":      {ch: dialtone.CallChange{Receipts: []dialtone.Receipt{{ID: "r9", CallID: "c2"}}}},
		"receipt without ID": {ch: dialtone.CallChange{Receipts: []dialtone.Receipt{{MessageType: dialtone.MsgVoiceReport}}}},
	}
	for name, b := range bad {
		cur := *c
		cur.State = dialtone.CallEnded
		ch := b.ch
		ch.Call = &cur
		err := st.UpdateCall(ctx(t), &ch)
		if err == nil {
			t.Errorf("%s: UpdateCall succeeded", name)
			continue
		}
		if b.target != nil {
			wantErr(t, name, err, b.target)
		}
		if cur.Version != c.Version {
			t.Errorf("%s: failed UpdateCall changed Version to %d", name, cur.Version)
		}
	}
	got, err := st.GetCall(ctx(t), "100", "c1")
	must(t, "GetCall", err)
	if got.Version != 2 || got.State != dialtone.CallQueued {
		t.Errorf("call after failed changes: version %d state %s, want 2 queued", got.Version, got.State)
	}
	evs, err := st.ListCallEvents(ctx(t), "100", "c1")
	must(t, "ListCallEvents", err)
	if len(evs) != 1 || evs[0].Type != "originate" {
		t.Errorf("events after failed changes = %+v", evs)
	}
	// The receipt IDs of the failed changes were not queued.
	c.State = dialtone.CallEnded
	must(t, "UpdateCall reusing refused receipt IDs", st.UpdateCall(ctx(t), &dialtone.CallChange{Call: c,
		Events:   []dialtone.CallEvent{{Seq: 2, Type: "ended"}},
		Receipts: []dialtone.Receipt{{ID: "r2"}, {ID: "r3"}, {ID: "r9"}}}))
}

func (s *suite) callEventsIsolation(t *testing.T) {
	st := s.store(t)
	putAccount(t, st, "100")
	putAccount(t, st, "200")
	c := createCall(t, st, "100", "c1", "139", t0)
	createCall(t, st, "200", "c2", "139", t0)
	evs, err := st.ListCallEvents(ctx(t), "100", "c1")
	must(t, "ListCallEvents of a call without events", err)
	if len(evs) != 0 {
		t.Errorf("new call has events %+v", evs)
	}
	must(t, "UpdateCall", st.UpdateCall(ctx(t), &dialtone.CallChange{Call: c,
		Events: []dialtone.CallEvent{{Seq: 1, At: t0, Type: "originate", Detail: map[string]string{"secret": "x"}}}}))
	_, err = st.ListCallEvents(ctx(t), "200", "c1")
	wantErr(t, "ListCallEvents through another account", err, dialtone.ErrNotFound)
	_, err = st.ListCallEvents(ctx(t), "", "c1")
	wantErr(t, "ListCallEvents without account", err, dialtone.ErrNotFound)
	_, err = st.ListCallEvents(ctx(t), "100", "c3")
	wantErr(t, "ListCallEvents of an unknown call", err, dialtone.ErrNotFound)
	evs, err = st.ListCallEvents(ctx(t), "200", "c2")
	must(t, "ListCallEvents", err)
	if len(evs) != 0 {
		t.Errorf("account 200's call shows events %+v", evs)
	}
}

// --- flow control ---

func flowCall(acct, id, callee string, created time.Time) *dialtone.Call {
	return &dialtone.Call{ID: id, AccountUID: acct, Kind: dialtone.KindTTS, Callee: callee, State: dialtone.CallQueued, CreatedAt: created}
}

// tryFlow creates a call at now under limits and returns the refusal (nil
// when the call was created). Any error other than a flow limit fails.
func tryFlow(t *testing.T, st dialtone.Store, acct, id, callee string, now time.Time, limits dialtone.FlowControl) *dialtone.FlowLimitError {
	t.Helper()
	err := st.CreateCall(ctx(t), flowCall(acct, id, callee, now), &dialtone.FlowGuard{Limits: limits, Now: now})
	if err == nil {
		return nil
	}
	var fl *dialtone.FlowLimitError
	if !errors.As(err, &fl) {
		t.Fatalf("CreateCall %s: %v, want nil or *FlowLimitError", id, err)
	}
	// A refused call is not stored.
	if _, err := st.GetCall(ctx(t), acct, id); !errors.Is(err, dialtone.ErrNotFound) {
		t.Errorf("refused call %s: GetCall = %v, want ErrNotFound", id, err)
	}
	return fl
}

func wantFlow(t *testing.T, what string, got *dialtone.FlowLimitError, window string, limit int) {
	t.Helper()
	if window == "" {
		if got != nil {
			t.Errorf("%s: refused (%v), want accepted", what, got)
		}
		return
	}
	if got == nil || got.Window != window || got.Limit != limit {
		t.Errorf("%s: refusal %+v, want window %s limit %d", what, got, window, limit)
	}
}

func (s *suite) flowMinute(t *testing.T) {
	st := s.store(t)
	putAccount(t, st, "100")
	perMinute := dialtone.FlowControl{PerMinute: 1}
	wantFlow(t, "first call", tryFlow(t, st, "100", "m1", "139", t0, perMinute), "", 0)
	wantFlow(t, "same instant", tryFlow(t, st, "100", "m2", "139", t0, perMinute), "minute", 1)
	wantFlow(t, "1ms before the minute ends", tryFlow(t, st, "100", "m3", "139", at(time.Minute-time.Millisecond), perMinute), "minute", 1)
	// (now-1m, now]: the call made exactly a minute ago no longer counts.
	wantFlow(t, "exactly a minute later", tryFlow(t, st, "100", "m4", "139", at(time.Minute), perMinute), "", 0)
	// Limits <= 0 are unlimited, in every window.
	for i := range 3 {
		wantFlow(t, "unlimited", tryFlow(t, st, "100", fmt.Sprintf("u%d", i), "139", at(time.Minute), dialtone.FlowControl{}), "", 0)
		wantFlow(t, "negative limits", tryFlow(t, st, "100", fmt.Sprintf("n%d", i), "139", at(time.Minute),
			dialtone.FlowControl{PerMinute: -1, PerHour: -1, PerDay: -1}), "", 0)
	}
	// A call created after Now (clock skew) is outside (now-1m, now].
	must(t, "CreateCall future", st.CreateCall(ctx(t), flowCall("100", "f1", "137", at(time.Hour+time.Millisecond)), nil))
	wantFlow(t, "a later call does not count", tryFlow(t, st, "100", "f2", "137", at(time.Hour), perMinute), "", 0)
	// The default is 1/minute, 5/hour, 20/day.
	wantFlow(t, "defaults", tryFlow(t, st, "100", "d1", "137", at(time.Hour+time.Second), dialtone.DefaultFlowControl), "minute", 1)
	// A nil guard skips flow control.
	must(t, "CreateCall without guard", st.CreateCall(ctx(t), flowCall("100", "g1", "139", at(time.Minute)), nil))
}

func (s *suite) flowHourDay(t *testing.T) {
	st := s.store(t)
	putAccount(t, st, "100")
	limits := dialtone.FlowControl{PerMinute: 1, PerHour: 2, PerDay: 3}
	wantFlow(t, "call 1", tryFlow(t, st, "100", "h1", "139", t0, limits), "", 0)
	wantFlow(t, "call 2", tryFlow(t, st, "100", "h2", "139", at(30*time.Minute), limits), "", 0)
	// Both the minute and the hour are full: the minute is reported.
	wantFlow(t, "minute before hour", tryFlow(t, st, "100", "h3", "139", at(30*time.Minute), limits), "minute", 1)
	wantFlow(t, "hour full", tryFlow(t, st, "100", "h4", "139", at(time.Hour-time.Millisecond), limits), "hour", 2)
	wantFlow(t, "first call left the hour", tryFlow(t, st, "100", "h5", "139", at(time.Hour), limits), "", 0)
	// Day: h1, h2, h5 are within (now-24h, now].
	wantFlow(t, "day full", tryFlow(t, st, "100", "d1", "139", at(10*time.Hour), limits), "day", 3)
	wantFlow(t, "day full 1ms before h1 leaves", tryFlow(t, st, "100", "d2", "139", at(24*time.Hour-time.Millisecond), limits), "day", 3)
	wantFlow(t, "h1 left the day", tryFlow(t, st, "100", "d3", "139", at(24*time.Hour), limits), "", 0)
	// Only the day limit set.
	wantFlow(t, "day only", tryFlow(t, st, "100", "d4", "139", at(24*time.Hour), dialtone.FlowControl{PerDay: 3}), "day", 3)
}

// flowScope: only the same account's calls to the same callee count.
func (s *suite) flowScope(t *testing.T) {
	st := s.store(t)
	putAccount(t, st, "100")
	putAccount(t, st, "200")
	one := dialtone.FlowControl{PerMinute: 1, PerHour: 1, PerDay: 1}
	wantFlow(t, "first", tryFlow(t, st, "100", "a1", "139", t0, one), "", 0)
	wantFlow(t, "other callee", tryFlow(t, st, "100", "a2", "138", t0, one), "", 0)
	wantFlow(t, "other account", tryFlow(t, st, "200", "b1", "139", t0, one), "", 0)
	wantFlow(t, "same again", tryFlow(t, st, "100", "a3", "139", t0, one), "minute", 1)
	// The duplicate check comes first: resubmitting an existing ID is a
	// conflict even when it would also be over the limit.
	err := st.CreateCall(ctx(t), flowCall("100", "a1", "139", t0), &dialtone.FlowGuard{Limits: one, Now: t0})
	wantErr(t, "duplicate under flow control", err, dialtone.ErrConflict)
	err = st.CreateCall(ctx(t), flowCall("999", "z1", "139", t0), &dialtone.FlowGuard{Limits: one, Now: t0})
	wantErr(t, "unknown account under flow control", err, dialtone.ErrNotFound)
}

func (s *suite) flowConcurrent(t *testing.T) {
	st := s.store(t)
	putAccount(t, st, "100")
	const n = 10
	var (
		wg      sync.WaitGroup
		start   = make(chan struct{})
		mu      sync.Mutex
		created []string
		refused int
	)
	for i := range n {
		wg.Go(func() {
			id := fmt.Sprintf("c%d", i)
			<-start
			err := st.CreateCall(ctx(t), flowCall("100", id, "139", t0), &dialtone.FlowGuard{Limits: dialtone.FlowControl{PerMinute: 1}, Now: t0})
			var fl *dialtone.FlowLimitError
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				created = append(created, id)
			case errors.As(err, &fl):
				refused++
			default:
				t.Errorf("CreateCall %s: %v", id, err)
			}
		})
	}
	close(start)
	wg.Wait()
	if len(created) != 1 || refused != n-1 {
		t.Fatalf("%d created (%v), %d refused of %d concurrent calls at 1/minute; want 1 and %d", len(created), created, refused, n, n-1)
	}
	list, err := st.ListCalls(ctx(t), dialtone.CallFilter{AccountUID: "100"})
	must(t, "ListCalls", err)
	sameIDs(t, "stored calls", list, created...)
}

// --- listing ---

func (s *suite) callListFilters(t *testing.T) {
	st := s.store(t)
	putAccount(t, st, "100")
	putAccount(t, st, "200")
	mk := func(id string, created time.Duration, edit func(c *dialtone.Call)) {
		c := &dialtone.Call{ID: id, AccountUID: "100", Kind: dialtone.KindTTS, State: dialtone.CallEnded,
			Caller: "0571", Callee: "139" + id, StatusCode: dialtone.StatusCompleted, CreatedAt: at(created)}
		if edit != nil {
			edit(c)
		}
		must(t, "CreateCall "+id, st.CreateCall(ctx(t), c, nil))
	}
	mk("a", 0, nil)
	mk("b", time.Minute, func(c *dialtone.Call) { c.Kind = dialtone.KindIVR; c.OutID = "o-1" })
	mk("c", 2*time.Minute, func(c *dialtone.Call) { c.StatusCode = dialtone.StatusBusy; c.CallerShowNumber = "400" })
	mk("d", 3*time.Minute, func(c *dialtone.Call) { c.CalleeShowNumber = "400"; c.OutID = "o-1" })
	mk("e", 3*time.Minute, func(c *dialtone.Call) { c.Callee = "400" })
	// Another account's calls match every filter below but never show.
	for _, id := range []string{"x1", "x2"} {
		c := fullCall(id, "200")
		c.CreatedAt, c.Callee, c.OutID, c.Kind, c.StatusCode = at(time.Minute), "400", "o-1", dialtone.KindTTS, dialtone.StatusCompleted
		must(t, "CreateCall "+id, st.CreateCall(ctx(t), c, nil))
	}
	list := func(f dialtone.CallFilter) []dialtone.Call {
		t.Helper()
		if f.AccountUID == "" {
			f.AccountUID = "100"
		}
		out, err := st.ListCalls(ctx(t), f)
		must(t, "ListCalls", err)
		return out
	}
	// Newest first; equal times by ID descending.
	all := list(dialtone.CallFilter{})
	sameIDs(t, "all", all, "e", "d", "c", "b", "a")
	if len(all) == 5 {
		want := dialtone.Call{ID: "a", AccountUID: "100", Kind: dialtone.KindTTS, State: dialtone.CallEnded,
			Caller: "0571", Callee: "139a", StatusCode: dialtone.StatusCompleted, CreatedAt: at(0), Version: 1}
		equal(t, "listed call", all[4], want, normCall)
	}
	sameIDs(t, "From (inclusive)", list(dialtone.CallFilter{From: at(time.Minute)}), "e", "d", "c", "b")
	sameIDs(t, "To (exclusive)", list(dialtone.CallFilter{To: at(2 * time.Minute)}), "b", "a")
	sameIDs(t, "From and To", list(dialtone.CallFilter{From: at(time.Minute), To: at(3*time.Minute + time.Millisecond)}), "e", "d", "c", "b")
	sameIDs(t, "Number in any role", list(dialtone.CallFilter{Number: "400"}), "e", "d", "c")
	sameIDs(t, "Number as caller", list(dialtone.CallFilter{Number: "0571"}), "e", "d", "c", "b", "a")
	sameIDs(t, "StatusCode", list(dialtone.CallFilter{StatusCode: dialtone.StatusBusy}), "c")
	sameIDs(t, "Kind", list(dialtone.CallFilter{Kind: dialtone.KindIVR}), "b")
	sameIDs(t, "OutID", list(dialtone.CallFilter{OutID: "o-1"}), "d", "b")
	sameIDs(t, "combined", list(dialtone.CallFilter{OutID: "o-1", Number: "400", From: at(0)}), "d")
	sameIDs(t, "no match", list(dialtone.CallFilter{OutID: "none"}))
	sameIDs(t, "account 200", list(dialtone.CallFilter{AccountUID: "200", Number: "400"}), "x2", "x1")
	out, err := st.ListCalls(ctx(t), dialtone.CallFilter{AccountUID: "999"})
	must(t, "ListCalls unknown account", err)
	sameIDs(t, "unknown account", out)
}

// callListContains: Number and OutID match a part of the value, ASCII
// letters in either case, and the LIKE wildcards % and _ (and the escape
// character \) typed in a filter match only themselves.
func (s *suite) callListContains(t *testing.T) {
	st := s.store(t)
	putAccount(t, st, "100")
	putAccount(t, st, "200")
	mk := func(acct, id string, created time.Duration, callee, show, outID string) {
		c := &dialtone.Call{ID: id, AccountUID: acct, Kind: dialtone.KindTTS, State: dialtone.CallEnded,
			Callee: callee, CalleeShowNumber: show, OutID: outID, StatusCode: dialtone.StatusCompleted, CreatedAt: at(created)}
		must(t, "CreateCall "+id, st.CreateCall(ctx(t), c, nil))
	}
	mk("100", "p1", 0, "13912345678", "057188880000", "Order-42")
	mk("100", "p2", time.Second, "13800000000", "057100001111", "order_42")
	mk("100", "p3", 2*time.Second, "13700000000", "+8613700000000", "100%done")
	mk("100", "p4", 3*time.Second, "13600000000", "", "ORDERX42")
	mk("100", "p5", 4*time.Second, "13500000000", "", `a\b`)
	// Another account's calls match every filter below but never show.
	mk("200", "x1", 0, "13912345678", "+8657188880000", "order_42%a\\b")
	list := func(f dialtone.CallFilter) []dialtone.Call {
		t.Helper()
		f.AccountUID = "100"
		out, err := st.ListCalls(ctx(t), f)
		must(t, "ListCalls", err)
		return out
	}
	sameIDs(t, "Number: part of the callee", list(dialtone.CallFilter{Number: "2345"}), "p1")
	sameIDs(t, "Number: part of a show number", list(dialtone.CallFilter{Number: "0571"}), "p2", "p1")
	sameIDs(t, "Number: a leading +", list(dialtone.CallFilter{Number: "+86"}), "p3")
	sameIDs(t, "Number: the whole number", list(dialtone.CallFilter{Number: "13600000000"}), "p4")
	sameIDs(t, "Number: % is a character", list(dialtone.CallFilter{Number: "%"}))
	sameIDs(t, "Number: _ is a character", list(dialtone.CallFilter{Number: "1_9"}))
	sameIDs(t, "OutID: part, either case", list(dialtone.CallFilter{OutID: "order"}), "p4", "p2", "p1")
	sameIDs(t, "OutID: upper case finds lower", list(dialtone.CallFilter{OutID: "ORDER-"}), "p1")
	sameIDs(t, "OutID: _ matches only _", list(dialtone.CallFilter{OutID: "r_4"}), "p2")
	sameIDs(t, "OutID: % matches only %", list(dialtone.CallFilter{OutID: "0%d"}), "p3")
	sameIDs(t, "OutID: a lone %", list(dialtone.CallFilter{OutID: "%"}), "p3")
	sameIDs(t, `OutID: \ matches only \`, list(dialtone.CallFilter{OutID: `a\b`}), "p5")
	sameIDs(t, `OutID: a lone \`, list(dialtone.CallFilter{OutID: `\`}), "p5")
	sameIDs(t, "OutID: no part", list(dialtone.CallFilter{OutID: "order-43"}))
	sameIDs(t, "Number and OutID together", list(dialtone.CallFilter{Number: "139", OutID: "42"}), "p1")
	sameIDs(t, "with another filter", list(dialtone.CallFilter{OutID: "42", From: at(time.Second), To: at(3 * time.Second)}), "p2")
}

func (s *suite) callListCursor(t *testing.T) {
	st := s.store(t)
	putAccount(t, st, "100")
	putAccount(t, st, "200")
	// Three calls share one millisecond: the cursor must tie-break by ID.
	for _, c := range []struct {
		id      string
		created time.Duration
	}{{"c1", 0}, {"c2", time.Second}, {"c3b", time.Second}, {"c3a", time.Second}, {"c3c", time.Second}, {"c4", 2 * time.Second}} {
		createCall(t, st, "100", c.id, "139", at(c.created))
	}
	createCall(t, st, "200", "x", "139", at(time.Second))
	var pages [][]string
	before := ""
	for range 10 {
		page, err := st.ListCalls(ctx(t), dialtone.CallFilter{AccountUID: "100", Limit: 2, Before: before})
		must(t, "ListCalls", err)
		if len(page) == 0 {
			break
		}
		pages = append(pages, callIDs(page))
		before = page[len(page)-1].ID
	}
	want := [][]string{{"c4", "c3c"}, {"c3b", "c3a"}, {"c2", "c1"}}
	if !reflect.DeepEqual(pages, want) {
		t.Errorf("pages = %v, want %v", pages, want)
	}
	// The cursor combines with filters.
	page, err := st.ListCalls(ctx(t), dialtone.CallFilter{AccountUID: "100", Before: "c3b", From: at(time.Second)})
	must(t, "ListCalls", err)
	sameIDs(t, "cursor and From", page, "c3a", "c2")
	_, err = st.ListCalls(ctx(t), dialtone.CallFilter{AccountUID: "100", Before: "x"})
	wantErr(t, "cursor of another account's call", err, dialtone.ErrNotFound)
	_, err = st.ListCalls(ctx(t), dialtone.CallFilter{AccountUID: "100", Before: "nope"})
	wantErr(t, "unknown cursor", err, dialtone.ErrNotFound)
}

func (s *suite) callListLimit(t *testing.T) {
	st := s.store(t)
	putAccount(t, st, "100")
	for i := range 105 {
		createCall(t, st, "100", fmt.Sprintf("c%03d", i), "139", at(time.Duration(i)*time.Millisecond))
	}
	for _, tc := range []struct{ limit, want int }{{0, 100}, {-1, 100}, {3, 3}, {105, 105}, {5000, 105}} {
		out, err := st.ListCalls(ctx(t), dialtone.CallFilter{AccountUID: "100", Limit: tc.limit})
		must(t, "ListCalls", err)
		if len(out) != tc.want {
			t.Errorf("Limit %d: %d calls, want %d", tc.limit, len(out), tc.want)
		} else if out[0].ID != "c104" {
			t.Errorf("Limit %d: first call %s, want c104", tc.limit, out[0].ID)
		}
	}
}

func (s *suite) callUnfinished(t *testing.T) {
	st := s.store(t)
	putAccount(t, st, "100")
	putAccount(t, st, "200")
	out, err := st.ListUnfinishedCalls(ctx(t), "")
	must(t, "ListUnfinishedCalls empty", err)
	sameIDs(t, "empty store", out)
	mk := func(acct, id string, state dialtone.CallState, node string, created time.Duration) *dialtone.Call {
		c := &dialtone.Call{ID: id, AccountUID: acct, Kind: dialtone.KindVoice, State: state, Node: node, CreatedAt: at(created)}
		must(t, "CreateCall "+id, st.CreateCall(ctx(t), c, nil))
		return c
	}
	mk("100", "q", dialtone.CallQueued, "", 5*time.Second)
	live := mk("100", "b", dialtone.CallBridged, "n1", 2*time.Second)
	mk("200", "r", dialtone.CallRinging, "n2", time.Second)
	mk("100", "e", dialtone.CallEnded, "n1", 0)
	mk("200", "a2", dialtone.CallAnswered, "n1", 3*time.Second)
	mk("200", "a1", dialtone.CallDialing, "n1", 3*time.Second)
	list := func(node string) []dialtone.Call {
		t.Helper()
		out, err := st.ListUnfinishedCalls(ctx(t), node)
		must(t, "ListUnfinishedCalls", err)
		return out
	}
	// Oldest first across accounts; equal times by ID.
	sameIDs(t, "any node", list(""), "r", "b", "a1", "a2", "q")
	sameIDs(t, "node n1", list("n1"), "b", "a1", "a2")
	sameIDs(t, "node n2", list("n2"), "r")
	sameIDs(t, "unknown node", list("n9"))
	got := list("n1")
	if len(got) > 0 {
		want := *live
		equal(t, "unfinished call", got[0], want, normCall)
	}
	// Ending a call takes it off the list; moving it changes its node.
	live.State = dialtone.CallEnded
	must(t, "UpdateCall", st.UpdateCall(ctx(t), &dialtone.CallChange{Call: live}))
	sameIDs(t, "after ending b", list("n1"), "a1", "a2")
}

// --- numbers ---

func (s *suite) numberRoundTrip(t *testing.T) {
	st := s.store(t)
	putAccount(t, st, "100")
	n := &dialtone.Number{AccountUID: "100", Number: "057188880000", Concurrency: 10, CreatedAt: at(time.Hour).In(elsewhere)}
	must(t, "PutNumber", st.PutNumber(ctx(t), n))
	got, err := st.GetNumber(ctx(t), "100", n.Number)
	must(t, "GetNumber", err)
	norm := func(n dialtone.Number) dialtone.Number { n.CreatedAt = normTime(n.CreatedAt); return n }
	equal(t, "number", *got, *n, norm)
	// Upsert replaces every field, CreatedAt included.
	n2 := &dialtone.Number{AccountUID: "100", Number: "057188880000", Concurrency: 0}
	must(t, "PutNumber again", st.PutNumber(ctx(t), n2))
	got, err = st.GetNumber(ctx(t), "100", n.Number)
	must(t, "GetNumber", err)
	equal(t, "number after upsert", *got, *n2, norm)
	// Listing is by number, whatever the insertion order.
	for _, num := range []string{"3", "1", "2"} {
		must(t, "PutNumber", st.PutNumber(ctx(t), &dialtone.Number{AccountUID: "100", Number: num, Concurrency: 1, CreatedAt: t0}))
	}
	list, err := st.ListNumbers(ctx(t), "100")
	must(t, "ListNumbers", err)
	var nums []string
	for _, x := range list {
		nums = append(nums, x.Number)
	}
	if !reflect.DeepEqual(nums, []string{"057188880000", "1", "2", "3"}) {
		t.Errorf("ListNumbers order = %v", nums)
	}
	if len(list) == 4 {
		equal(t, "listed number", list[1], dialtone.Number{AccountUID: "100", Number: "1", Concurrency: 1, CreatedAt: t0}, norm)
	}
	must(t, "DeleteNumber", st.DeleteNumber(ctx(t), "100", "2"))
	_, err = st.GetNumber(ctx(t), "100", "2")
	wantErr(t, "GetNumber after delete", err, dialtone.ErrNotFound)
	wantErr(t, "DeleteNumber twice", st.DeleteNumber(ctx(t), "100", "2"), dialtone.ErrNotFound)
	wantErr(t, "PutNumber for unknown account", st.PutNumber(ctx(t), &dialtone.Number{AccountUID: "999", Number: "5"}), dialtone.ErrNotFound)
	wantErr(t, "PutNumber for account \"\"", st.PutNumber(ctx(t), &dialtone.Number{Number: "5"}), dialtone.ErrNotFound)
	_, err = st.GetNumber(ctx(t), "999", "5")
	wantErr(t, "GetNumber after refused put", err, dialtone.ErrNotFound)
}

func (s *suite) numberIsolation(t *testing.T) {
	st := s.store(t)
	putAccount(t, st, "100")
	putAccount(t, st, "200")
	must(t, "PutNumber", st.PutNumber(ctx(t), &dialtone.Number{AccountUID: "100", Number: "1", Concurrency: 1}))
	must(t, "PutNumber", st.PutNumber(ctx(t), &dialtone.Number{AccountUID: "100", Number: "2", Concurrency: 1}))
	// The same number in another account is that account's own record.
	must(t, "PutNumber", st.PutNumber(ctx(t), &dialtone.Number{AccountUID: "200", Number: "2", Concurrency: 7}))
	_, err := st.GetNumber(ctx(t), "200", "1")
	wantErr(t, "GetNumber of another account's number", err, dialtone.ErrNotFound)
	wantErr(t, "DeleteNumber of another account's number", st.DeleteNumber(ctx(t), "200", "1"), dialtone.ErrNotFound)
	if n, err := st.GetNumber(ctx(t), "100", "2"); err != nil || n.Concurrency != 1 {
		t.Errorf("account 100's number 2 = %+v, %v; want concurrency 1", n, err)
	}
	must(t, "DeleteNumber", st.DeleteNumber(ctx(t), "200", "2"))
	if _, err := st.GetNumber(ctx(t), "100", "2"); err != nil {
		t.Errorf("deleting account 200's number removed account 100's: %v", err)
	}
	for acct, want := range map[string]int{"100": 2, "200": 0, "999": 0} {
		list, err := st.ListNumbers(ctx(t), acct)
		must(t, "ListNumbers", err)
		if len(list) != want {
			t.Errorf("account %s lists %d numbers, want %d", acct, len(list), want)
		}
	}
}

// --- templates ---

func normTemplate(x dialtone.TTSTemplate) dialtone.TTSTemplate {
	x.CreatedAt, x.UpdatedAt = normTime(x.CreatedAt), normTime(x.UpdatedAt)
	return x
}

func (s *suite) templateRoundTrip(t *testing.T) {
	st := s.store(t)
	putAccount(t, st, "100")
	tp := &dialtone.TTSTemplate{AccountUID: "100", Code: "TTS_100001", Kind: dialtone.TemplateVerification,
		Content: "您的验证码是${code}，5分钟内有效", Status: dialtone.ReviewApproved, Voice: "xiaoyun",
		CreatedAt: at(0).In(elsewhere), UpdatedAt: at(time.Hour)}
	must(t, "PutTemplate", st.PutTemplate(ctx(t), tp))
	got, err := st.GetTemplate(ctx(t), "100", tp.Code)
	must(t, "GetTemplate", err)
	equal(t, "template", *got, *tp, normTemplate)
	tp2 := &dialtone.TTSTemplate{AccountUID: "100", Code: "TTS_100001", Kind: dialtone.TemplateNotification, Status: dialtone.ReviewRejected}
	must(t, "PutTemplate again", st.PutTemplate(ctx(t), tp2))
	got, err = st.GetTemplate(ctx(t), "100", tp.Code)
	must(t, "GetTemplate", err)
	equal(t, "template after upsert", *got, *tp2, normTemplate)
	must(t, "PutTemplate", st.PutTemplate(ctx(t), &dialtone.TTSTemplate{AccountUID: "100", Code: "TTS_0", Content: "x"}))
	list, err := st.ListTemplates(ctx(t), "100")
	must(t, "ListTemplates", err)
	if len(list) != 2 || list[0].Code != "TTS_0" || list[1].Code != "TTS_100001" {
		t.Errorf("ListTemplates = %+v", list)
	} else {
		equal(t, "listed template", list[1], *tp2, normTemplate)
	}
	must(t, "DeleteTemplate", st.DeleteTemplate(ctx(t), "100", "TTS_0"))
	_, err = st.GetTemplate(ctx(t), "100", "TTS_0")
	wantErr(t, "GetTemplate after delete", err, dialtone.ErrNotFound)
	wantErr(t, "DeleteTemplate twice", st.DeleteTemplate(ctx(t), "100", "TTS_0"), dialtone.ErrNotFound)
	wantErr(t, "PutTemplate for unknown account", st.PutTemplate(ctx(t), &dialtone.TTSTemplate{AccountUID: "999", Code: "TTS_1"}), dialtone.ErrNotFound)
}

func (s *suite) templateIsolation(t *testing.T) {
	st := s.store(t)
	putAccount(t, st, "100")
	putAccount(t, st, "200")
	must(t, "PutTemplate", st.PutTemplate(ctx(t), &dialtone.TTSTemplate{AccountUID: "100", Code: "TTS_1", Content: "mine"}))
	must(t, "PutTemplate", st.PutTemplate(ctx(t), &dialtone.TTSTemplate{AccountUID: "200", Code: "TTS_2", Content: "theirs"}))
	_, err := st.GetTemplate(ctx(t), "200", "TTS_1")
	wantErr(t, "GetTemplate of another account's template", err, dialtone.ErrNotFound)
	wantErr(t, "DeleteTemplate of another account's template", st.DeleteTemplate(ctx(t), "200", "TTS_1"), dialtone.ErrNotFound)
	// Putting the same code in another account does not touch the first.
	must(t, "PutTemplate same code", st.PutTemplate(ctx(t), &dialtone.TTSTemplate{AccountUID: "200", Code: "TTS_1", Content: "copy"}))
	if got, err := st.GetTemplate(ctx(t), "100", "TTS_1"); err != nil || got.Content != "mine" {
		t.Errorf("account 100's template = %+v, %v", got, err)
	}
	list, err := st.ListTemplates(ctx(t), "100")
	must(t, "ListTemplates", err)
	if len(list) != 1 || list[0].AccountUID != "100" {
		t.Errorf("account 100 lists %+v", list)
	}
	list, err = st.ListTemplates(ctx(t), "999")
	must(t, "ListTemplates unknown account", err)
	if len(list) != 0 {
		t.Errorf("unknown account lists %+v", list)
	}
}

// --- voice files ---

func normVoiceFile(f dialtone.VoiceFile) dialtone.VoiceFile {
	f.CreatedAt = normTime(f.CreatedAt)
	f.Duration = f.Duration.Truncate(time.Millisecond)
	return f
}

func (s *suite) voiceFileRoundTrip(t *testing.T) {
	st := s.store(t)
	putAccount(t, st, "100")
	f := &dialtone.VoiceFile{AccountUID: "100", Code: "3a7c1f0e-0000-4000-8000-000000000001.wav", Kind: dialtone.VoiceFileSmartCall,
		Status: dialtone.ReviewPending, StoredPath: "voice/100/3a7c.pcm", Format: "mp3",
		Duration: 12345 * time.Millisecond, CreatedAt: at(time.Minute).In(elsewhere)}
	must(t, "PutVoiceFile", st.PutVoiceFile(ctx(t), f))
	got, err := st.GetVoiceFile(ctx(t), "100", f.Code)
	must(t, "GetVoiceFile", err)
	equal(t, "voice file", *got, *f, normVoiceFile)
	f2 := &dialtone.VoiceFile{AccountUID: "100", Code: f.Code, Kind: dialtone.VoiceFileNotification, Status: dialtone.ReviewApproved, Format: "wav"}
	must(t, "PutVoiceFile again", st.PutVoiceFile(ctx(t), f2))
	got, err = st.GetVoiceFile(ctx(t), "100", f.Code)
	must(t, "GetVoiceFile", err)
	equal(t, "voice file after upsert", *got, *f2, normVoiceFile)
	must(t, "PutVoiceFile", st.PutVoiceFile(ctx(t), &dialtone.VoiceFile{AccountUID: "100", Code: "0.wav"}))
	list, err := st.ListVoiceFiles(ctx(t), "100")
	must(t, "ListVoiceFiles", err)
	if len(list) != 2 || list[0].Code != "0.wav" {
		t.Errorf("ListVoiceFiles = %+v", list)
	} else {
		equal(t, "listed voice file", list[1], *f2, normVoiceFile)
	}
	must(t, "DeleteVoiceFile", st.DeleteVoiceFile(ctx(t), "100", "0.wav"))
	wantErr(t, "DeleteVoiceFile twice", st.DeleteVoiceFile(ctx(t), "100", "0.wav"), dialtone.ErrNotFound)
	_, err = st.GetVoiceFile(ctx(t), "100", "0.wav")
	wantErr(t, "GetVoiceFile after delete", err, dialtone.ErrNotFound)
	wantErr(t, "PutVoiceFile for unknown account", st.PutVoiceFile(ctx(t), &dialtone.VoiceFile{AccountUID: "999", Code: "x.wav"}), dialtone.ErrNotFound)
}

func (s *suite) voiceFileIsolation(t *testing.T) {
	st := s.store(t)
	putAccount(t, st, "100")
	putAccount(t, st, "200")
	must(t, "PutVoiceFile", st.PutVoiceFile(ctx(t), &dialtone.VoiceFile{AccountUID: "100", Code: "a.wav", StoredPath: "mine"}))
	_, err := st.GetVoiceFile(ctx(t), "200", "a.wav")
	wantErr(t, "GetVoiceFile of another account's file", err, dialtone.ErrNotFound)
	wantErr(t, "DeleteVoiceFile of another account's file", st.DeleteVoiceFile(ctx(t), "200", "a.wav"), dialtone.ErrNotFound)
	must(t, "PutVoiceFile same code", st.PutVoiceFile(ctx(t), &dialtone.VoiceFile{AccountUID: "200", Code: "a.wav", StoredPath: "theirs"}))
	if got, err := st.GetVoiceFile(ctx(t), "100", "a.wav"); err != nil || got.StoredPath != "mine" {
		t.Errorf("account 100's file = %+v, %v", got, err)
	}
	list, err := st.ListVoiceFiles(ctx(t), "200")
	must(t, "ListVoiceFiles", err)
	if len(list) != 1 || list[0].StoredPath != "theirs" {
		t.Errorf("account 200 lists %+v", list)
	}
}

// --- settings ---

func normSettings(s dialtone.AccountSettings) dialtone.AccountSettings {
	if len(s.Blacklist) == 0 {
		s.Blacklist = nil
	}
	if len(s.ForkStreamKinds) == 0 {
		s.ForkStreamKinds = nil
	}
	s.SmartCallCallbackSecret.PreviousUntil = normTime(s.SmartCallCallbackSecret.PreviousUntil)
	return s
}

func (s *suite) settingsDefaults(t *testing.T) {
	st := s.store(t)
	putAccount(t, st, "100")
	def := dialtone.AccountSettings{FlowControl: dialtone.DefaultFlowControl}
	for _, acct := range []string{"100", "999", ""} {
		got, err := st.GetAccountSettings(ctx(t), acct)
		must(t, "GetAccountSettings "+acct, err)
		equal(t, "defaults of "+acct, *got, def, normSettings)
	}
	if dialtone.DefaultFlowControl != (dialtone.FlowControl{PerMinute: 1, PerHour: 5, PerDay: 20}) {
		t.Errorf("DefaultFlowControl was modified: %+v", dialtone.DefaultFlowControl)
	}
}

func (s *suite) settingsRoundTrip(t *testing.T) {
	st := s.store(t)
	putAccount(t, st, "100")
	putAccount(t, st, "200")
	want := &dialtone.AccountSettings{
		FlowControl:          dialtone.FlowControl{PerMinute: 3, PerHour: 30, PerDay: 300},
		SmartCallCallbackURL: "https://example.com/smart?x=1&y=☎",
		Blacklist:            []string{"赌博", "loan"},
	}
	must(t, "PutAccountSettings", st.PutAccountSettings(ctx(t), "100", want))
	got, err := st.GetAccountSettings(ctx(t), "100")
	must(t, "GetAccountSettings", err)
	equal(t, "settings", *got, *want, normSettings)
	// Other accounts still have the defaults.
	other, err := st.GetAccountSettings(ctx(t), "200")
	must(t, "GetAccountSettings 200", err)
	equal(t, "settings of 200", *other, dialtone.AccountSettings{FlowControl: dialtone.DefaultFlowControl}, normSettings)
	// Replacing stores every field as given: zero limits mean unlimited.
	zero := &dialtone.AccountSettings{}
	must(t, "PutAccountSettings zero", st.PutAccountSettings(ctx(t), "100", zero))
	got, err = st.GetAccountSettings(ctx(t), "100")
	must(t, "GetAccountSettings", err)
	equal(t, "zero settings", *got, *zero, normSettings)
	wantErr(t, "PutAccountSettings for unknown account", st.PutAccountSettings(ctx(t), "999", want), dialtone.ErrNotFound)
	got, err = st.GetAccountSettings(ctx(t), "999")
	must(t, "GetAccountSettings 999", err)
	equal(t, "settings after refused put", *got, dialtone.AccountSettings{FlowControl: dialtone.DefaultFlowControl}, normSettings)
}

func (s *suite) settingsGlobal(t *testing.T) {
	st := s.store(t) // no account at all
	global := &dialtone.AccountSettings{FlowControl: dialtone.DefaultFlowControl, Blacklist: []string{"forbidden"}}
	must(t, "PutAccountSettings \"\"", st.PutAccountSettings(ctx(t), "", global))
	got, err := st.GetAccountSettings(ctx(t), "")
	must(t, "GetAccountSettings \"\"", err)
	equal(t, "global settings", *got, *global, normSettings)
	putAccount(t, st, "100")
	acct, err := st.GetAccountSettings(ctx(t), "100")
	must(t, "GetAccountSettings 100", err)
	if len(acct.Blacklist) != 0 {
		t.Errorf("account 100 inherited the global blacklist in its own settings: %v", acct.Blacklist)
	}
}
