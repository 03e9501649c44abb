package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/carrier/sim"
	"github.com/dialtone-voice/dialtone/secret"
	"github.com/dialtone-voice/dialtone/sqlite"
)

const (
	testScale   = 0.02
	testAccount = "1000001"
	showNumber  = "057100000001"
)

// fakeRenderer makes silent audio lasting 250 ms per character of the
// prompt (at least 1 s), cached so calls share it like the real cache.
type fakeRenderer struct {
	mu    sync.Mutex
	cache map[string]*dialtone.Audio
	calls atomic.Int64
}

func (f *fakeRenderer) Render(ctx context.Context, p dialtone.Prompt, speed, volume int) (*dialtone.Audio, error) {
	f.calls.Add(1)
	key := p.Text
	if key == "" {
		key = p.FileCode
	}
	if key == "BROKEN" {
		return nil, errors.New("unreadable audio")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cache == nil {
		f.cache = make(map[string]*dialtone.Audio)
	}
	if a, ok := f.cache[key]; ok {
		return a, nil
	}
	d := max(time.Duration(utf8.RuneCountInString(key))*250*time.Millisecond, time.Second)
	a := &dialtone.Audio{Samples: make([]int16, int(d*8000/time.Second)), Label: key}
	f.cache[key] = a
	return a, nil
}

var quiet = slog.New(slog.DiscardHandler)

type harness struct {
	t     testing.TB
	ctx   context.Context
	st    *sqlite.Store
	clock Clock
	net   *sim.Network
	eng   *Engine
	cfg   Config
	seq   atomic.Int64
}

func openStore(t testing.TB) *sqlite.Store {
	t.Helper()
	sealer, err := secret.NewSealer(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "db"), sealer, sqlite.WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ctx := context.Background()
	if err := st.PutAccount(ctx, &dialtone.Account{UID: testAccount, Name: "test", Status: dialtone.AccountActive, VoiceService: true}); err != nil {
		t.Fatal(err)
	}
	if err := st.PutAccount(ctx, &dialtone.Account{UID: "2000002", Name: "other", Status: dialtone.AccountActive, VoiceService: true}); err != nil {
		t.Fatal(err)
	}
	return st
}

// newHarness builds a store, a simulated network with the given
// subscribers and an engine on a scaled clock.
func newHarness(t testing.TB, subs map[string]sim.Behavior, tweak ...func(*Config)) *harness {
	t.Helper()
	st := openStore(t)
	return newHarnessOn(t, st, subs, tweak...)
}

func newHarnessOn(t testing.TB, st *sqlite.Store, subs map[string]sim.Behavior, tweak ...func(*Config)) *harness {
	return newHarnessScaled(t, st, testScale, subs, tweak...)
}

// newHarnessScaled runs the network and the engine at time scale scale.
func newHarnessScaled(t testing.TB, st *sqlite.Store, scale float64, subs map[string]sim.Behavior, tweak ...func(*Config)) *harness {
	clock := ScaledClock(scale)
	net := &sim.Config{TimeScale: scale, Default: sim.Behavior{Result: sim.ResultAnswer, AnswerAfter: time.Second}}
	for n, b := range subs {
		net.Subscribers = append(net.Subscribers, sim.Subscriber{Number: n, Behavior: b})
	}
	h := &harness{t: t, ctx: context.Background(), st: st, clock: clock, net: sim.New(net, clock)}
	h.cfg = Config{Store: st, Carrier: h.net, Renderer: &fakeRenderer{}, Clock: clock, Node: "node1", Logger: quiet}
	for _, f := range tweak {
		f(&h.cfg)
	}
	h.eng = New(h.cfg)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		h.eng.Shutdown(ctx)
	})
	return h
}

func tts(text string) dialtone.Prompt { return dialtone.Prompt{Text: text, Code: "TTS_1"} }

// create stores a queued call of kind to callee.
func (h *harness) create(kind dialtone.CallKind, caller, callee string, plan *dialtone.CallPlan) *dialtone.Call {
	h.t.Helper()
	params, err := dialtone.EncodePlan(plan)
	if err != nil {
		h.t.Fatal(err)
	}
	c := &dialtone.Call{
		ID: fmt.Sprintf("%d^%d", 116000000000+h.seq.Add(1), time.Now().UnixNano()%1e9), AccountUID: testAccount,
		Kind: kind, ProdID: dialtone.ProdIDFor(kind, false), Caller: caller, Callee: callee,
		CallerShowNumber: showNumber, OutID: "out-1", Params: params, State: dialtone.CallQueued,
		CreatedAt: h.clock.Now(), Version: 1,
	}
	if kind == dialtone.KindClickToDial {
		c.CalleeShowNumber = "057100000002"
	}
	if err := h.st.CreateCall(h.ctx, c, nil); err != nil {
		h.t.Fatal(err)
	}
	return c
}

func (h *harness) start(kind dialtone.CallKind, callee string, plan *dialtone.CallPlan) *dialtone.Call {
	h.t.Helper()
	c := h.create(kind, "", callee, plan)
	if err := h.eng.Start(h.ctx, c); err != nil {
		h.t.Fatal(err)
	}
	return c
}

// waitState polls the store until the call reaches one of states.
func (h *harness) waitState(id string, states ...dialtone.CallState) *dialtone.Call {
	h.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := h.st.GetCall(h.ctx, testAccount, id)
		if err != nil {
			h.t.Fatal(err)
		}
		for _, s := range states {
			if c.State == s {
				return c
			}
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("call %s stuck in %s, want %v (status %s reason %q events %v)", id, c.State, states, c.StatusCode, c.Reason, eventTypes(h.events(id)))
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func (h *harness) ended(id string) *dialtone.Call {
	h.t.Helper()
	return h.waitState(id, dialtone.CallEnded)
}

func (h *harness) events(id string) []dialtone.CallEvent {
	h.t.Helper()
	evs, err := h.st.ListCallEvents(h.ctx, testAccount, id)
	if err != nil {
		h.t.Fatal(err)
	}
	for i, ev := range evs {
		if ev.Seq != i+1 {
			h.t.Fatalf("event %d has seq %d: %+v", i, ev.Seq, evs)
		}
	}
	return evs
}

func eventTypes(evs []dialtone.CallEvent) []string {
	var out []string
	for _, ev := range evs {
		s := ev.Type
		if ev.Leg != "" {
			s += "/" + ev.Leg
		}
		if ev.StatusCode != "" {
			s += ":" + ev.StatusCode
		}
		out = append(out, s)
	}
	return out
}

func transcriptKinds(tr []sim.TranscriptEntry, kind string) []string {
	var out []string
	for _, e := range tr {
		if e.Kind == kind {
			out = append(out, e.Text)
		}
	}
	return out
}

type want struct {
	status, smart, direction, reason string
}

func (h *harness) check(c *dialtone.Call, w want) {
	h.t.Helper()
	if c.StatusCode != w.status || c.SmartStatusCode != w.smart || c.HangupDirection != w.direction || c.Reason != w.reason {
		h.t.Fatalf("call ended with status %s/%s direction %q reason %q; want %s/%s %q %q\nevents: %v",
			c.StatusCode, c.SmartStatusCode, c.HangupDirection, c.Reason, w.status, w.smart, w.direction, w.reason, eventTypes(h.events(c.ID)))
	}
	if c.OutID != "out-1" {
		h.t.Fatalf("out id changed to %q", c.OutID)
	}
}
