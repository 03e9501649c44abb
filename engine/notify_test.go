package engine

import (
	"slices"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/carrier/sim"
)

func TestNotifyAnsweredAndListened(t *testing.T) {
	// Durations are asserted to the second, so this call runs at a tenth
	// of real time: at the usual 1/50, 60 ms of a loaded machine's commit
	// lag adds 3 simulated seconds.
	h := newHarnessScaled(t, openStore(t), 0.1, map[string]sim.Behavior{"13800000001": {Result: sim.ResultAnswer, AnswerAfter: 2 * time.Second}})
	c := h.start(dialtone.KindTTS, "13800000001", &dialtone.CallPlan{Prompt: []dialtone.Prompt{tts("您的验证码是一二三四")}, PlayTimes: 2})
	got := h.ended(c.ID)
	h.check(got, want{dialtone.StatusCompleted, SmartAnswered, HangupMachine, ""})
	if got.StatusMsg != "执行完成" {
		t.Errorf("status msg %q", got.StatusMsg)
	}
	evs := h.events(c.ID)
	wantTypes := []string{"originate/A:200101", "ringing/A:200201", "answered/A:200102", "play/A", "play/A", "hangup", "ended:200100"}
	if !slices.Equal(eventTypes(evs), wantTypes) {
		t.Fatalf("events %v, want %v", eventTypes(evs), wantTypes)
	}
	if evs[3].Detail["prompt"] != "您的验证码是一二三四" {
		t.Errorf("play event detail %v", evs[3].Detail)
	}
	// 10 characters = 2.5 s, twice.
	if got.Duration < 5 || got.Duration > 7 {
		t.Errorf("duration %d, want about 5", got.Duration)
	}
	if got.A.Originate.IsZero() || got.A.Ring.IsZero() || got.A.Start.IsZero() || got.A.End.IsZero() {
		t.Errorf("leg times %+v", got.A)
	}
	// The engine times each event when it takes it (on the call's own
	// timeline), so a ringing taken late on a loaded machine shortens the
	// span: at 1/50 time, 100 µs of lag is 5 ms. A quarter of slack still
	// tells the 2 s answer delay from none.
	if span := got.A.Start.Sub(got.A.Ring); span < 2*time.Second*3/4 {
		t.Errorf("answered %s after ringing, want 2 s", span)
	}
	plays := transcriptKinds(h.net.Transcript(c.ID), "play")
	if len(plays) != 2 || plays[0] != "您的验证码是一二三四" {
		t.Errorf("transcript plays %v", plays)
	}
	// The run unregisters just after its final write: allow it a moment.
	for deadline := time.Now().Add(2 * time.Second); (h.eng.Live() != 0 || h.eng.LiveByNumber(showNumber) != 0) && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	if h.eng.Live() != 0 || h.eng.LiveByNumber(showNumber) != 0 {
		t.Errorf("live %d, by number %d after the end", h.eng.Live(), h.eng.LiveByNumber(showNumber))
	}
}

func TestNotifyBusy(t *testing.T) {
	h := newHarness(t, map[string]sim.Behavior{"13800000002": {Result: sim.ResultBusy}})
	c := h.start(dialtone.KindVoice, "13800000002", &dialtone.CallPlan{Prompt: []dialtone.Prompt{{FileCode: "a.wav"}}})
	got := h.ended(c.ID)
	h.check(got, want{dialtone.StatusBusy, SmartUserBusy, HangupUser, ""})
	if got.Duration != 0 || !got.A.Start.IsZero() {
		t.Errorf("busy call has duration %d start %v", got.Duration, got.A.Start)
	}
	if got.StatusMsg != dialtone.StatusText(dialtone.StatusBusy) {
		t.Errorf("status msg %q", got.StatusMsg)
	}
	types := eventTypes(h.events(c.ID))
	if slices.Contains(types, "answered/A:200102") {
		t.Errorf("busy call answered: %v", types)
	}
}

func TestNotifyFailures(t *testing.T) {
	cases := map[sim.CallResult]want{
		sim.ResultPoweredOff:  {dialtone.StatusPoweredOff, SmartPoweredOff, HangupUser, ""},
		sim.ResultSuspended:   {dialtone.StatusSuspended, SmartSuspend, HangupUser, ""},
		sim.ResultInvalid:     {dialtone.StatusInvalidNumber, SmartInvalid, HangupUser, ""},
		sim.ResultUnreachable: {dialtone.StatusUnreachable, SmartUnavailable, HangupUser, ""},
	}
	subs := map[string]sim.Behavior{}
	for res := range cases {
		subs[string(res)] = sim.Behavior{Result: res}
	}
	subs["rejecter"] = sim.Behavior{Result: sim.ResultRejected, Ring: 2 * time.Second}
	cases["rejecter"] = want{dialtone.StatusUnreachable, SmartRejected, HangupUser, ""}
	h := newHarness(t, subs)
	for res, w := range cases {
		c := h.start(dialtone.KindTTS, string(res), &dialtone.CallPlan{Prompt: []dialtone.Prompt{tts("hello")}})
		h.check(h.ended(c.ID), w)
	}
}

func TestNotifyRingTimeout(t *testing.T) {
	h := newHarness(t, map[string]sim.Behavior{"13800000005": {Result: sim.ResultNoAnswer}})
	c := h.start(dialtone.KindTTS, "13800000005", &dialtone.CallPlan{Prompt: []dialtone.Prompt{tts("hello")}})
	got := h.ended(c.ID)
	h.check(got, want{dialtone.StatusNoAnswer, SmartNoAnswer, HangupMachine, "ring timeout"})
	if rang := got.A.End.Sub(got.A.Originate); rang < DefaultRingTimeout || rang > DefaultRingTimeout+10*time.Second {
		t.Errorf("rang for %s, want the ring timeout %s", rang, DefaultRingTimeout)
	}
	tr := h.net.Transcript(c.ID)
	if last := tr[len(tr)-1]; last.Kind != "hangup" || last.By != "platform" {
		t.Errorf("transcript ends with %+v, want a platform hangup (CANCEL)", last)
	}
}

func TestNotifyNoAnswerFromNetwork(t *testing.T) {
	h := newHarness(t, map[string]sim.Behavior{"13800000006": {Result: sim.ResultNoAnswer, Ring: 5 * time.Second}})
	c := h.start(dialtone.KindTTS, "13800000006", &dialtone.CallPlan{Prompt: []dialtone.Prompt{tts("hello")}})
	h.check(h.ended(c.ID), want{dialtone.StatusNoAnswer, SmartNoAnswer, HangupUser, ""})
}

func TestNotifyCalleeHangsUpEarly(t *testing.T) {
	h := newHarness(t, map[string]sim.Behavior{"13800000004": {Result: sim.ResultAnswer, AnswerAfter: time.Second, HangupAfter: 4 * time.Second}})
	// 40 characters: 10 s of speech, three times.
	c := h.start(dialtone.KindTTS, "13800000004", &dialtone.CallPlan{Prompt: []dialtone.Prompt{tts("一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十")}, PlayTimes: 3})
	got := h.ended(c.ID)
	h.check(got, want{dialtone.StatusHungUpEarly, SmartAnswered, HangupUser, ""})
	if got.Duration < 4 || got.Duration > 6 {
		t.Errorf("duration %d, want about 4", got.Duration)
	}
	tr := h.net.Transcript(c.ID)
	plays := 0
	for _, e := range tr {
		if e.Kind == "play" {
			plays++
			if !e.Interrupted {
				t.Errorf("play not interrupted: %+v", e)
			}
		}
	}
	if plays != 1 {
		t.Errorf("%d plays, want 1 cut short", plays)
	}
}

func TestNotifyDTMFRecorded(t *testing.T) {
	h := newHarness(t, map[string]sim.Behavior{"13800000007": {Result: sim.ResultAnswer, AnswerAfter: time.Second,
		DTMF: []sim.DTMF{{At: time.Second, Digits: "5"}}}})
	c := h.start(dialtone.KindTTS, "13800000007", &dialtone.CallPlan{Prompt: []dialtone.Prompt{tts("一二三四五六七八九十一二")}})
	got := h.ended(c.ID)
	h.check(got, want{dialtone.StatusCompleted, SmartAnswered, HangupMachine, ""})
	if got.DTMF != "5" {
		t.Errorf("dtmf %q", got.DTMF)
	}
	if !slices.Contains(eventTypes(h.events(c.ID)), "dtmf/A:300000") {
		t.Errorf("no dtmf event: %v", eventTypes(h.events(c.ID)))
	}
}

func TestPlaybackFailure(t *testing.T) {
	h := newHarness(t, nil)
	c := h.start(dialtone.KindVoice, "13800000008", &dialtone.CallPlan{Prompt: []dialtone.Prompt{{FileCode: "BROKEN"}}})
	got := h.ended(c.ID)
	if got.StatusCode != dialtone.StatusPlaybackFailed || got.HangupDirection != HangupMachine {
		t.Fatalf("status %s direction %s", got.StatusCode, got.HangupDirection)
	}
	if tr := h.net.Transcript(c.ID); len(tr) != 0 {
		t.Errorf("a call with a broken prompt was dialled: %+v", tr)
	}
}

// TestConcurrencyCap: a call over its display number's concurrency waits
// queued (claimed by this node, never originated meanwhile) and is dialled
// once the call holding the slot ends.
func TestConcurrencyCap(t *testing.T) {
	h := newHarness(t, map[string]sim.Behavior{"13800000009": {Result: sim.ResultAnswer, AnswerAfter: 30 * time.Second}})
	if err := h.st.PutNumber(h.ctx, &dialtone.Number{AccountUID: testAccount, Number: showNumber, Concurrency: 1, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	plan := &dialtone.CallPlan{Prompt: []dialtone.Prompt{tts("hello")}}
	first := h.start(dialtone.KindTTS, "13800000009", plan)
	h.waitState(first.ID, dialtone.CallRinging)
	if n := h.eng.LiveByNumber(showNumber); n != 1 {
		t.Fatalf("LiveByNumber %d, want 1", n)
	}
	second := h.start(dialtone.KindTTS, "13800000009", plan)
	// It waits: claimed for this node, still queued, not on the network.
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := h.st.GetCall(h.ctx, testAccount, second.ID)
		if err != nil {
			t.Fatal(err)
		}
		if c.Node == "node1" {
			if c.State != dialtone.CallQueued {
				t.Fatalf("over-cap call is %s, want queued", c.State)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("over-cap call not claimed for waiting: node %q state %s", c.Node, c.State)
		}
		time.Sleep(2 * time.Millisecond)
	}
	if tr := h.net.Transcript(second.ID); len(tr) != 0 {
		t.Errorf("over-cap call reached the network while the first was live: %+v", tr)
	}
	if n := h.eng.LiveByNumber(showNumber); n != 1 {
		t.Errorf("LiveByNumber %d while one waits, want 1", n)
	}
	h.check(h.ended(first.ID), want{dialtone.StatusCompleted, SmartAnswered, HangupMachine, ""})
	got := h.ended(second.ID)
	h.check(got, want{dialtone.StatusCompleted, SmartAnswered, HangupMachine, ""})
	// On the network's one clock, the second was dialled after the first
	// hung up.
	t1, t2 := h.net.Transcript(first.ID), h.net.Transcript(second.ID)
	if len(t1) == 0 || len(t2) == 0 || t1[len(t1)-1].Kind != "hangup" || t2[0].Kind != "originate" || t2[0].At.Before(t1[len(t1)-1].At) {
		t.Errorf("transcripts overlap:\nfirst %+v\nsecond %+v", t1, t2)
	}
	for deadline := time.Now().Add(2 * time.Second); h.eng.LiveByNumber(showNumber) != 0 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	if n := h.eng.LiveByNumber(showNumber); n != 0 {
		t.Errorf("LiveByNumber %d after both ended", n)
	}
}

// TestConcurrencyQueueTimeout: a call that finds no free slot within
// QueueTimeout ends with 200121 without being dialled.
func TestConcurrencyQueueTimeout(t *testing.T) {
	h := newHarness(t, map[string]sim.Behavior{"13800000009": {Result: sim.ResultAnswer, AnswerAfter: time.Hour}},
		func(c *Config) { c.QueueTimeout = 5 * time.Second })
	if err := h.st.PutNumber(h.ctx, &dialtone.Number{AccountUID: testAccount, Number: showNumber, Concurrency: 1, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	plan := &dialtone.CallPlan{Prompt: []dialtone.Prompt{tts("hello")}}
	first := h.start(dialtone.KindTTS, "13800000009", plan)
	h.waitState(first.ID, dialtone.CallRinging)
	second := h.start(dialtone.KindTTS, "13800000009", plan)
	got := h.ended(second.ID)
	h.check(got, want{dialtone.StatusOverConcurrency, SmartOther, HangupMachine, "display number concurrency limit reached: no free slot within 5s"})
	if !got.A.Originate.IsZero() {
		t.Errorf("over-cap call was originated")
	}
	if tr := h.net.Transcript(second.ID); len(tr) != 0 {
		t.Errorf("over-cap call reached the network: %+v", tr)
	}
	if types := eventTypes(h.events(second.ID)); !slices.Equal(types, []string{"hangup", "ended:200100"}) {
		t.Errorf("events %v", types)
	}
	if _, err := h.eng.Cancel(h.ctx, testAccount, first.ID); err != nil {
		t.Fatal(err)
	}
	h.ended(first.ID)
}

// TestConcurrencyCancelWhileWaiting: CancelCall ends a waiting call as
// cancelled, and its place in the queue goes to the next.
func TestConcurrencyCancelWhileWaiting(t *testing.T) {
	h := newHarness(t, map[string]sim.Behavior{"13800000009": {Result: sim.ResultAnswer, AnswerAfter: time.Hour}})
	if err := h.st.PutNumber(h.ctx, &dialtone.Number{AccountUID: testAccount, Number: showNumber, Concurrency: 1, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	plan := &dialtone.CallPlan{Prompt: []dialtone.Prompt{tts("hello")}}
	first := h.start(dialtone.KindTTS, "13800000009", plan)
	h.waitState(first.ID, dialtone.CallRinging)
	second := h.start(dialtone.KindTTS, "13800000009", plan)
	third := h.start(dialtone.KindTTS, "13800000001", plan)
	for deadline := time.Now().Add(5 * time.Second); ; {
		c, err := h.st.GetCall(h.ctx, testAccount, third.ID)
		if err != nil {
			t.Fatal(err)
		}
		if c.Node == "node1" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("third call not waiting")
		}
		time.Sleep(2 * time.Millisecond)
	}
	if ok, err := h.eng.Cancel(h.ctx, testAccount, second.ID); err != nil || !ok {
		t.Fatalf("Cancel = %v, %v", ok, err)
	}
	got := h.ended(second.ID)
	if got.StatusCode != FailOutcome(dialtone.FailCancelled, RoleSingle).StatusCode || !got.A.Originate.IsZero() {
		t.Errorf("cancelled waiting call: status %s, originated %v", got.StatusCode, got.A.Originate)
	}
	if _, err := h.eng.Cancel(h.ctx, testAccount, first.ID); err != nil {
		t.Fatal(err)
	}
	// The slot goes to the third, which answers after a second.
	h.check(h.ended(third.ID), want{dialtone.StatusCompleted, SmartAnswered, HangupMachine, ""})
}

// TestStartIsIdempotent: a second Start of a call already running here
// (the node's claimer raced the API) succeeds and runs the call once.
func TestStartIsIdempotent(t *testing.T) {
	h := newHarness(t, nil)
	c := h.create(dialtone.KindTTS, "", "13800000001", &dialtone.CallPlan{Prompt: []dialtone.Prompt{tts("hello")}})
	if err := h.eng.Start(h.ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := h.eng.Start(h.ctx, c); err != nil {
		t.Fatalf("second start: %v", err)
	}
	got := h.ended(c.ID)
	h.check(got, want{dialtone.StatusCompleted, SmartAnswered, HangupMachine, ""})
	originates := 0
	for _, ev := range h.events(c.ID) {
		if ev.Type == "originate" {
			originates++
		}
	}
	if originates != 1 {
		t.Fatalf("%d originate events, want 1", originates)
	}
}
