package engine

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/carrier/sim"
)

// wrapCarrier dials through another carrier and records the requests; its
// legs can inject one event after answer (what a SIP leg's listener
// reports) and can report no statistics at all.
type wrapCarrier struct {
	inner    dialtone.Carrier
	inject   *dialtone.LegEvent
	after    time.Duration // wall time after answer
	nilStats bool

	mu   sync.Mutex
	reqs []dialtone.OriginateRequest
}

func (c *wrapCarrier) Originate(ctx context.Context, req dialtone.OriginateRequest) (dialtone.Leg, error) {
	c.mu.Lock()
	c.reqs = append(c.reqs, req)
	c.mu.Unlock()
	l, err := c.inner.Originate(ctx, req)
	if err != nil {
		return nil, err
	}
	w := &wrapLeg{Leg: l, out: make(chan dialtone.LegEvent, 16), nilStats: c.nilStats}
	go func() {
		defer close(w.out)
		in := l.Events()
		var fire <-chan time.Time
		for {
			select {
			case ev, ok := <-in:
				if !ok {
					return
				}
				w.out <- ev
				if ev.Kind == dialtone.LegAnswered && c.inject != nil {
					fire = time.After(c.after)
				}
			case <-fire:
				fire = nil
				w.out <- *c.inject
			}
		}
	}()
	return w, nil
}

func (c *wrapCarrier) requests() []dialtone.OriginateRequest {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]dialtone.OriginateRequest(nil), c.reqs...)
}

type wrapLeg struct {
	dialtone.Leg
	out      chan dialtone.LegEvent
	nilStats bool
}

func (l *wrapLeg) Events() <-chan dialtone.LegEvent { return l.out }

func (l *wrapLeg) Stats() map[string]string {
	if l.nilStats {
		return nil
	}
	return l.Leg.Stats()
}

func wrapHarness(t *testing.T, callee string, w *wrapCarrier) *harness {
	subs := map[string]sim.Behavior{callee: {Result: sim.ResultAnswer, AnswerAfter: time.Second}}
	return newHarness(t, subs, func(c *Config) {
		c.Prompts = PromptsFunc(resolveTTS)
		w.inner = c.Carrier
		c.Carrier = w
	})
}

func hangupDetail(t *testing.T, evs []dialtone.CallEvent) map[string]string {
	t.Helper()
	for _, ev := range evs {
		if ev.Type == "hangup" && ev.Leg == "" {
			return ev.Detail
		}
	}
	t.Fatalf("no hangup event in %v", eventTypes(evs))
	return nil
}

// TestSmartCallListensAndTimeBreak: a SmartCall asks the carrier to listen
// (the plan travels in the request, a notification's does not), and a
// barge-in report without words (a SIP leg's TimeBreak) interrupts the
// breakable prompt and posts timebreak.
func TestSmartCallListensAndTimeBreak(t *testing.T) {
	const callee = "13800000021"
	now := time.Now()
	w := &wrapCarrier{after: 20 * time.Millisecond,
		inject: &dialtone.LegEvent{Kind: dialtone.LegSpeech, SpeechStart: now, SpeechEnd: now.Add(time.Second)}}
	h := wrapHarness(t, callee, w)
	srv := newCallbackServer(t, answer("hangup", "", "", ""))
	// 250 s of prompt (2.5 s of wall time): still playing when the report
	// comes, however slow the machine.
	p := smartPlan(srv.URL, strings.Repeat("一二三四五六七八九十", 100))
	p.Smart.ActionCodeTimeBreak = 500 * time.Millisecond
	p.Smart.AsrModelID = "yesno"
	c := h.start(dialtone.KindSmartCall, callee, p)
	h.check(h.ended(c.ID), want{dialtone.StatusCompleted, SmartAnswered, HangupMachine, ""})

	reqs := w.requests()
	if len(reqs) != 1 || reqs[0].Listen == nil || reqs[0].Listen.AsrModelID != "yesno" || reqs[0].Listen.ActionCodeTimeBreak != 500*time.Millisecond {
		t.Fatalf("originate requests %+v", reqs)
	}
	cbs := srv.requests()
	if len(cbs) != 1 || cbs[0]["content_type"] != "timebreak" || cbs[0]["c.words"] != "" || cbs[0]["c.is_playing"] != "true" {
		t.Fatalf("callbacks %v", cbs)
	}
	for _, e := range h.net.Transcript(c.ID) {
		if e.Kind == "play" && !e.Interrupted {
			t.Errorf("prompt not interrupted by the barge-in: %+v", e)
		}
	}
	// The sim carrier's own statistics are in the call detail.
	if d := hangupDetail(t, h.events(c.ID)); d["A.carrier"] != "sim" || d["direction"] != HangupMachine {
		t.Errorf("hangup detail %v", d)
	}
}

// TestSmartCallSpeechWithoutWords: a barge-in report arriving after the
// prompt ended has no words to tell; the business hears of the silence
// (mute) instead. A leg without statistics leaves the call detail without
// them.
func TestSmartCallSpeechWithoutWords(t *testing.T) {
	const callee = "13800000022"
	now := time.Now()
	w := &wrapCarrier{after: 50 * time.Millisecond, nilStats: true,
		inject: &dialtone.LegEvent{Kind: dialtone.LegSpeech, SpeechStart: now, SpeechEnd: now.Add(time.Second)}}
	h := wrapHarness(t, callee, w)
	srv := newCallbackServer(t, answer("hangup", "", "", ""))
	p := smartPlan(srv.URL, "好") // 1 s of prompt: 10 ms of wall time
	p.Smart.ActionCodeTimeBreak = 500 * time.Millisecond
	c := h.start(dialtone.KindSmartCall, callee, p)
	h.check(h.ended(c.ID), want{dialtone.StatusCompleted, SmartAnswered, HangupMachine, ""})
	cbs := srv.requests()
	if len(cbs) != 1 || cbs[0]["content_type"] != "mute" {
		t.Fatalf("callbacks %v", cbs)
	}
	d := hangupDetail(t, h.events(c.ID))
	for k := range d {
		if strings.HasPrefix(k, "A.") {
			t.Errorf("statistics of a leg that has none: %v", d)
		}
	}
}

// TestNotifyDoesNotListen: only a SmartCall's leg is listened to.
func TestNotifyDoesNotListen(t *testing.T) {
	const callee = "13800000023"
	w := &wrapCarrier{}
	h := wrapHarness(t, callee, w)
	c := h.start(dialtone.KindTTS, callee, &dialtone.CallPlan{Prompt: []dialtone.Prompt{tts("您好")}, PlayTimes: 1})
	h.ended(c.ID)
	if reqs := w.requests(); len(reqs) != 1 || reqs[0].Listen != nil {
		t.Fatalf("originate requests %+v", reqs)
	}
}
