package engine

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/carrier/sim"
)

// leaveLive stores c as a previous run would have left it: dialled and
// answered, with its events.
func (h *harness) leaveLive(c *dialtone.Call, node string) {
	h.t.Helper()
	now := h.clock.Now()
	c.State = dialtone.CallAnswered
	c.Node = node
	c.A.Originate, c.A.Ring, c.A.Start = now.Add(-5*time.Second), now.Add(-4*time.Second), now.Add(-3*time.Second)
	ch := &dialtone.CallChange{Call: c, Events: []dialtone.CallEvent{
		{CallID: c.ID, Seq: 1, At: c.A.Originate, Type: "originate", Leg: "A", StatusCode: dialtone.StatusConnectingCaller},
		{CallID: c.ID, Seq: 2, At: c.A.Start, Type: "answered", Leg: "A", StatusCode: dialtone.StatusCallerConnected},
	}}
	if err := h.st.UpdateCall(h.ctx, ch); err != nil {
		h.t.Fatal(err)
	}
}

func TestRecover(t *testing.T) {
	st := openStore(t)
	// The "previous run": only used to create rows.
	old := newHarnessOn(t, st, nil)
	plan := &dialtone.CallPlan{Prompt: []dialtone.Prompt{tts("hello")}}
	live := old.create(dialtone.KindTTS, "", "13800000001", plan)
	old.leaveLive(live, "node1")
	dialing := old.create(dialtone.KindTTS, "", "13800000002", plan)
	dialing.State, dialing.Node, dialing.A.Originate = dialtone.CallDialing, "node1", old.clock.Now()
	if err := st.UpdateCall(old.ctx, &dialtone.CallChange{Call: dialing, Events: []dialtone.CallEvent{
		{CallID: dialing.ID, Seq: 1, At: dialing.A.Originate, Type: "originate", Leg: "A", StatusCode: dialtone.StatusConnectingCaller}}}); err != nil {
		t.Fatal(err)
	}
	foreign := old.create(dialtone.KindTTS, "", "13800000003", plan)
	old.leaveLive(foreign, "node2")
	queued := old.create(dialtone.KindTTS, "", "13800000004", plan)

	// Two nodes start at once on the shared store: node1 ends its own
	// leftovers, and the queued call is dialled by exactly one of them.
	h1 := newHarnessOn(t, st, nil)
	h2 := newHarnessOn(t, st, nil, func(c *Config) { c.Node = "node3" })
	var wg sync.WaitGroup
	for _, h := range []*harness{h1, h2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := h.eng.Recover(context.Background()); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()

	restart := want{dialtone.StatusSystemError, SmartOther, HangupMachine, restartReason}
	for _, c := range []*dialtone.Call{live, dialing} {
		got := h1.ended(c.ID)
		h1.check(got, restart)
		types := eventTypes(h1.events(c.ID))
		if n := len(types); types[n-1] != "ended:200100" || slices.Index(types, "ended:200100") != n-1 {
			t.Errorf("%s events %v: want one final ended", c.ID, types)
		}
		if tr := append(h1.net.Transcript(c.ID), h2.net.Transcript(c.ID)...); len(tr) != 0 {
			t.Errorf("live call %s was dialled again: %+v", c.ID, tr)
		}
	}
	if got := h1.ended(live.ID); got.Duration != 3 {
		t.Errorf("recovered duration %d, want 3 (answer to last event)", got.Duration)
	}
	got := h1.ended(queued.ID)
	h1.check(got, want{dialtone.StatusCompleted, SmartAnswered, HangupMachine, ""})
	origs := len(transcriptKinds(h1.net.Transcript(queued.ID), "originate")) + len(transcriptKinds(h2.net.Transcript(queued.ID), "originate"))
	if origs != 1 {
		t.Errorf("queued call originated %d times, want 1", origs)
	}
	if c, err := st.GetCall(h1.ctx, testAccount, foreign.ID); err != nil || c.State != dialtone.CallAnswered {
		t.Errorf("another node's call touched: %v %v", c.State, err)
	}
	// Recovering again changes nothing.
	before := len(h1.events(live.ID))
	h3 := newHarnessOn(t, st, nil)
	if err := h3.eng.Recover(h3.ctx); err != nil {
		t.Fatal(err)
	}
	if after := len(h1.events(live.ID)); after != before {
		t.Errorf("second recovery added events: %d -> %d", before, after)
	}
}

func TestShutdownEndsLiveCalls(t *testing.T) {
	h := newHarness(t, map[string]sim.Behavior{"13800000001": {Result: sim.ResultAnswer, AnswerAfter: time.Second}})
	c := h.start(dialtone.KindIVR, "13800000001", &dialtone.CallPlan{Prompt: []dialtone.Prompt{tts("一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十")}, DTMFTimeout: time.Hour})
	h.waitState(c.ID, dialtone.CallAnswered)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	h.eng.Shutdown(ctx)
	got := h.ended(c.ID)
	h.check(got, want{dialtone.StatusSystemError, SmartOther, HangupMachine, "system shutdown while the call was live"})
	if h.eng.Live() != 0 {
		t.Errorf("%d calls live after shutdown", h.eng.Live())
	}
	if err := h.eng.Start(h.ctx, h.create(dialtone.KindTTS, "", "1", &dialtone.CallPlan{})); err != ErrShuttingDown {
		t.Errorf("start after shutdown: %v", err)
	}
}

func TestStartBadPlanEndsCall(t *testing.T) {
	h := newHarness(t, nil)
	c := h.create(dialtone.KindTTS, "", "1", &dialtone.CallPlan{})
	c.Params = []byte("{bad")
	if err := h.eng.Start(h.ctx, c); err == nil {
		t.Fatal("bad plan accepted")
	}
	h.check(h.ended(c.ID), want{dialtone.StatusSystemError, SmartOther, HangupMachine, "invalid call plan"})
}
