package engine

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/carrier/sim"
)

const (
	aNum = "13900000001"
	bNum = "13900000002"
)

func (h *harness) startC2D(a, b string, plan *dialtone.CallPlan) *dialtone.Call {
	h.t.Helper()
	c := h.create(dialtone.KindClickToDial, a, b, plan)
	if err := h.eng.Start(h.ctx, c); err != nil {
		h.t.Fatal(err)
	}
	return c
}

func TestClickToDialCompleted(t *testing.T) {
	dir := t.TempDir()
	h := newHarness(t, map[string]sim.Behavior{
		aNum: {Result: sim.ResultAnswer, AnswerAfter: 2 * time.Second},
		bNum: {Result: sim.ResultAnswer, AnswerAfter: 3 * time.Second, HangupAfter: 20 * time.Second},
	}, func(c *Config) { c.Recordings = RecordDir(dir) })
	c := h.startC2D(aNum, bNum, &dialtone.CallPlan{Record: true})
	got := h.ended(c.ID)
	h.check(got, want{dialtone.StatusCompleted, SmartAnswered, HangupUser, ""})
	types := eventTypes(h.events(c.ID))
	wantTypes := []string{"originate/A:200101", "ringing/A:200201", "answered/A:200102", "originate/B", "ringing/B:200201",
		"answered/B:200103", "hangup/B", "recording", "hangup", "ended:200100"}
	if !slices.Equal(types, wantTypes) {
		t.Fatalf("events %v\nwant   %v", types, wantTypes)
	}
	if got.Duration < 20 || got.Duration > 22 {
		t.Errorf("duration %d, want about 20 (bridged time)", got.Duration)
	}
	if got.B.Start.IsZero() || got.B.End.IsZero() || got.A.Start.After(got.B.Originate) {
		t.Errorf("leg times A %+v B %+v", got.A, got.B)
	}
	tr := h.net.Transcript(c.ID)
	if origs := transcriptKinds(tr, "originate"); !slices.Equal(origs, []string{aNum, bNum}) {
		t.Errorf("originated %v", origs)
	}
	var rec dialtone.CallEvent
	for _, ev := range h.events(c.ID) {
		if ev.Type == "recording" {
			rec = ev
		}
	}
	wav, err := os.ReadFile(filepath.Join(dir, rec.Detail["file"]))
	if err != nil {
		t.Fatalf("recording file: %v (event %+v)", err, rec)
	}
	if string(wav[:4]) != "RIFF" || len(wav) < 44+20*8000*4 {
		t.Errorf("recording is %d bytes, want a stereo WAV of the ~23 s call", len(wav))
	}
}

func TestClickToDialFailures(t *testing.T) {
	subs := map[string]sim.Behavior{
		"busyA":    {Result: sim.ResultBusy},
		"offA":     {Result: sim.ResultPoweredOff},
		"busyB":    {Result: sim.ResultBusy},
		"invalidB": {Result: sim.ResultInvalid},
		"rejectB":  {Result: sim.ResultRejected, Ring: time.Second},
		"noansB":   {Result: sim.ResultNoAnswer},
		"unreachB": {Result: sim.ResultUnreachable},
	}
	h := newHarness(t, subs)
	cases := []struct {
		a, b string
		w    want
	}{
		{"busyA", bNum, want{dialtone.StatusBusy, SmartUserBusy, HangupUser, ""}},
		{"offA", bNum, want{dialtone.StatusPoweredOff, SmartPoweredOff, HangupUser, ""}},
		{aNum, "busyB", want{dialtone.StatusCalleeBusy, SmartUserBusy, HangupUser, ""}},
		{aNum, "invalidB", want{dialtone.StatusCalleeInvalid, SmartInvalid, HangupUser, ""}},
		{aNum, "rejectB", want{dialtone.StatusCalleeRejected, SmartRejected, HangupUser, ""}},
		{aNum, "noansB", want{dialtone.StatusCalleeNoAnswer, SmartNoAnswer, HangupMachine, "ring timeout"}},
		{aNum, "unreachB", want{dialtone.StatusCalleeOutOfArea, SmartUnavailable, HangupUser, ""}},
	}
	for _, tc := range cases {
		c := h.startC2D(tc.a, tc.b, &dialtone.CallPlan{})
		got := h.ended(c.ID)
		h.check(got, tc.w)
		if got.Duration != 0 {
			t.Errorf("%s->%s: duration %d without a bridge", tc.a, tc.b, got.Duration)
		}
	}
}

func TestClickToDialSessionTimeout(t *testing.T) {
	h := newHarness(t, nil)
	c := h.startC2D(aNum, bNum, &dialtone.CallPlan{SessionTimeout: 30 * time.Second})
	got := h.ended(c.ID)
	h.check(got, want{dialtone.StatusCompleted, SmartAnswered, HangupMachine, "session timeout"})
	if total := got.A.End.Sub(got.A.Originate); total < 30*time.Second || total > 40*time.Second { // slack for loaded machines
		t.Errorf("call lasted %s, want the 30 s session", total)
	}
}

func TestClickToDialCancel(t *testing.T) {
	// slow rings until the ring timeout, far away, so the test cannot miss
	// the ringing phase on a loaded machine.
	slow := sim.Behavior{Result: sim.ResultNoAnswer}
	fast := sim.Behavior{Result: sim.ResultAnswer, AnswerAfter: time.Second}
	cases := []struct {
		name    string
		a, b    sim.Behavior
		waitFor dialtone.CallState
		w       want
	}{
		{"A ringing", slow, fast, dialtone.CallRinging, want{dialtone.StatusNoAnswer, SmartCancel, HangupMachine, "cancelled"}},
		{"B ringing", fast, slow, dialtone.CallAnswered, want{dialtone.StatusCalleeNoAnswer, SmartCancel, HangupMachine, "cancelled"}},
		{"bridged", fast, fast, dialtone.CallBridged, want{dialtone.StatusCompleted, SmartCancel, HangupMachine, "cancelled"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, map[string]sim.Behavior{aNum: tc.a, bNum: tc.b}, func(c *Config) { c.RingTimeout = time.Hour })
			c := h.startC2D(aNum, bNum, &dialtone.CallPlan{})
			h.waitState(c.ID, tc.waitFor)
			if _, err := h.eng.Cancel(h.ctx, "2000002", c.ID); !errors.Is(err, dialtone.ErrNotFound) {
				t.Fatalf("cancel from another account: %v, want not found", err)
			}
			ok, err := h.eng.Cancel(h.ctx, testAccount, c.ID)
			if err != nil || !ok {
				t.Fatalf("cancel = %v, %v", ok, err)
			}
			got := h.ended(c.ID)
			h.check(got, tc.w)
			for h.eng.Live() != 0 {
				time.Sleep(time.Millisecond)
			}
			if ok, err := h.eng.Cancel(h.ctx, testAccount, c.ID); ok || err != nil {
				t.Errorf("second cancel = %v, %v; want false", ok, err)
			}
			for _, e := range h.net.Transcript(c.ID) {
				if e.Kind == "hangup" && e.By != "platform" {
					t.Errorf("a subscriber hung up: %+v", e)
				}
			}
		})
	}
}

func TestCancelUnknownAndQueued(t *testing.T) {
	h := newHarness(t, nil)
	if _, err := h.eng.Cancel(h.ctx, testAccount, "nope"); !errors.Is(err, dialtone.ErrNotFound) {
		t.Fatalf("cancel unknown: %v", err)
	}
	// A queued call nobody runs yet (another node's, or not yet started).
	c := h.create(dialtone.KindClickToDial, aNum, bNum, &dialtone.CallPlan{})
	ok, err := h.eng.Cancel(h.ctx, testAccount, c.ID)
	if err != nil || !ok {
		t.Fatalf("cancel queued = %v, %v", ok, err)
	}
	got := h.ended(c.ID)
	h.check(got, want{dialtone.StatusNoAnswer, SmartCancel, HangupMachine, "cancelled"})
}
