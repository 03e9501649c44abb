package sim

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone"
)

// scaled is a minimal test clock: by default 1 simulated second per 10
// milliseconds (f, when set, is the real duration of a simulated one).
type scaled struct {
	start time.Time
	f     float64
}

const scale = 0.01 // 0.001 left a loaded machine too little slack

func (c scaled) factor() float64 {
	if c.f > 0 {
		return c.f
	}
	return scale
}

func (c scaled) Now() time.Time {
	return c.start.Add(time.Duration(float64(time.Since(c.start)) / c.factor()))
}
func (c scaled) NewTimer(d time.Duration) *time.Timer {
	return time.NewTimer(time.Duration(float64(d) * c.factor()))
}
func (c scaled) AfterFunc(d time.Duration, f func()) *time.Timer {
	return time.AfterFunc(time.Duration(float64(d)*c.factor()), f)
}

func newNet(subs ...Subscriber) *Network {
	return newNetScaled(scale, subs...)
}

// newNetScaled runs the network at time scale f: a test whose outcome
// depends on real work done during simulated time (detecting a tone in
// audio) needs a slower clock than the default, or a loaded machine's
// delays become simulated seconds.
func newNetScaled(f float64, subs ...Subscriber) *Network {
	return New(&Config{TimeScale: f, Default: DefaultBehavior, Subscribers: subs}, scaled{start: time.Now(), f: f})
}

func next(t *testing.T, l dialtone.Leg) dialtone.LegEvent {
	t.Helper()
	select {
	case ev, ok := <-l.Events():
		if !ok {
			t.Fatal("events closed")
		}
		return ev
	case <-time.After(5 * time.Second):
		t.Fatal("no event")
	}
	return dialtone.LegEvent{}
}

func audio(label string, d time.Duration) *dialtone.Audio {
	return &dialtone.Audio{Samples: make([]int16, int(d*8000/time.Second)), Label: label}
}

func TestAnswerPlayDTMFSpeechHangup(t *testing.T) {
	n := newNet(Subscriber{Number: "1", Behavior: Behavior{Result: ResultAnswer, AnswerAfter: 3 * time.Second,
		HangupAfter: 60 * time.Second, Say: []string{"你好"}, Silence: time.Second,
		DTMF: []DTMF{{AfterPrompt: 1, Digits: "7"}}}})
	ctx := context.Background()
	l, err := n.Originate(ctx, dialtone.OriginateRequest{CallID: "c1", Leg: "A", To: "1", From: "9"})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []dialtone.LegEventKind{dialtone.LegTrying, dialtone.LegRinging, dialtone.LegAnswered} {
		if ev := next(t, l); ev.Kind != k {
			t.Fatalf("got %s, want %s", ev.Kind, k)
		}
	}
	clock := n.clock
	start := clock.Now()
	if _, err := l.Play(ctx, audio("p1", 5*time.Second), nil); err != nil {
		t.Fatal(err)
	}
	if d := clock.Now().Sub(start); d < 5*time.Second || d > 20*time.Second { // generous: a loaded CI machine delays timers
		t.Errorf("play took %s of clock time, want 5 s", d)
	}
	if ev := next(t, l); ev.Kind != dialtone.LegDTMF || ev.Digits != "7" {
		t.Fatalf("got %+v, want key 7", ev)
	}
	ev := next(t, l)
	if ev.Kind != dialtone.LegSpeech || ev.Text != "你好" || ev.SpeechEnd.Sub(ev.SpeechStart) < 500*time.Millisecond {
		t.Fatalf("got %+v, want speech", ev)
	}
	if ev := next(t, l); ev.Kind != dialtone.LegHangup {
		t.Fatalf("got %+v, want hangup", ev)
	}
	if _, ok := <-l.Events(); ok {
		t.Error("events not closed after hangup")
	}
	if _, err := l.Play(ctx, audio("late", time.Second), nil); err == nil {
		t.Error("play on an ended leg succeeded")
	}
	tr := n.Transcript("c1")
	if _, err := json.Marshal(tr); err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, e := range tr {
		kinds = append(kinds, e.Kind)
	}
	want := []string{"originate", "ringing", "answered", "play", "dtmf", "speech", "hangup"}
	if len(kinds) != len(want) {
		t.Fatalf("transcript %v, want %v", kinds, want)
	}
	for i := range want {
		if kinds[i] != want[i] {
			t.Fatalf("transcript %v, want %v", kinds, want)
		}
	}
}

func TestFailuresAndSetBehavior(t *testing.T) {
	n := newNet()
	ctx := context.Background()
	for res, reason := range failReason {
		n.SetBehavior("x", Behavior{Result: res, Ring: time.Second})
		l, _ := n.Originate(ctx, dialtone.OriginateRequest{CallID: string(res), Leg: "A", To: "x"})
		var last dialtone.LegEvent
		for ev := range l.Events() {
			last = ev
		}
		if last.Kind != dialtone.LegFailed || last.Reason != reason {
			t.Errorf("%s: last event %+v", res, last)
		}
	}
}

func TestInterruptBridgeRecord(t *testing.T) {
	n := newNet()
	ctx := context.Background()
	a, _ := n.Originate(ctx, dialtone.OriginateRequest{CallID: "c", Leg: "A", To: "a"})
	b, _ := n.Originate(ctx, dialtone.OriginateRequest{CallID: "c", Leg: "B", To: "b"})
	for _, l := range []dialtone.Leg{a, b} {
		for next(t, l).Kind != dialtone.LegAnswered {
		}
	}
	if err := a.Record(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.Bridge(ctx, b); err != nil {
		t.Fatal(err)
	}
	intr := make(chan struct{})
	done := make(chan bool)
	go func() {
		cut, _ := b.Play(ctx, audio("long", time.Hour), intr)
		done <- cut
	}()
	if _, err := a.Play(ctx, audio("short", time.Second), nil); err != nil {
		t.Fatal(err)
	}
	close(intr)
	if !<-done {
		t.Error("play not interrupted")
	}
	a.Hangup(ctx)
	b.Hangup(ctx)
	wav := a.Recording()
	if len(wav) < 44+8000*4 || string(wav[8:12]) != "WAVE" {
		t.Errorf("recording %d bytes", len(wav))
	}
	if b.Recording() != nil {
		t.Error("B recorded without Record")
	}
}

func TestTranscriptEviction(t *testing.T) {
	n := newNet()
	n.SetMaxTranscripts(2)
	for _, id := range []string{"1", "2", "3"} {
		n.note(id, TranscriptEntry{Kind: "x"})
	}
	if n.Transcript("1") != nil || n.Transcript("3") == nil {
		t.Error("oldest transcript not evicted")
	}
}
