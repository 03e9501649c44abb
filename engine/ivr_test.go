package engine

import (
	"slices"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/carrier/sim"
)

func ivrPlan() *dialtone.CallPlan {
	return &dialtone.CallPlan{
		Prompt:    []dialtone.Prompt{tts("欢迎致电，查询请按一，人工请按二")},
		PlayTimes: 2,
		Menu: []dialtone.MenuItem{
			{Key: "1", Prompt: []dialtone.Prompt{tts("您的订单已发货")}},
			{Key: "2", Prompt: []dialtone.Prompt{tts("正在为您转接")}},
		},
		Bye:         []dialtone.Prompt{tts("再见")},
		DTMFTimeout: 3 * time.Second,
	}
}

func TestIVRKeyChosen(t *testing.T) {
	h := newHarness(t, map[string]sim.Behavior{"13800000001": {Result: sim.ResultAnswer, AnswerAfter: 3 * time.Second,
		DTMF: []sim.DTMF{{AfterPrompt: 1, Digits: "2"}}}})
	c := h.start(dialtone.KindIVR, "13800000001", ivrPlan())
	got := h.ended(c.ID)
	h.check(got, want{dialtone.StatusCompleted, SmartAnswered, HangupMachine, ""})
	if got.DTMF != "2" {
		t.Errorf("dtmf %q", got.DTMF)
	}
	plays := transcriptKinds(h.net.Transcript(c.ID), "play")
	// The key is pressed when the first start prompt ends, so the second
	// round of the start prompt is cut at once (or never starts).
	if n := len(plays); n < 3 || plays[n-2] != "正在为您转接" || plays[n-1] != "再见" {
		t.Fatalf("plays %v", plays)
	}
	var dtmf []dialtone.CallEvent
	for _, ev := range h.events(c.ID) {
		if ev.Type == "dtmf" {
			dtmf = append(dtmf, ev)
		}
	}
	if len(dtmf) != 1 || dtmf[0].StatusCode != dialtone.StatusDTMF || dtmf[0].Detail["digits"] != "2" {
		t.Errorf("dtmf events %+v", dtmf)
	}
}

func TestIVRTimedKeyDuringPrompt(t *testing.T) {
	h := newHarness(t, map[string]sim.Behavior{"13800000001": {Result: sim.ResultAnswer, AnswerAfter: time.Second,
		DTMF: []sim.DTMF{{At: 2 * time.Second, Digits: "1"}}}})
	c := h.start(dialtone.KindIVR, "13800000001", ivrPlan())
	got := h.ended(c.ID)
	h.check(got, want{dialtone.StatusCompleted, SmartAnswered, HangupMachine, ""})
	tr := h.net.Transcript(c.ID)
	plays := transcriptKinds(tr, "play")
	if !slices.Equal(plays, []string{"欢迎致电，查询请按一，人工请按二", "您的订单已发货", "再见"}) {
		t.Fatalf("plays %v", plays)
	}
	for _, e := range tr {
		if e.Kind == "play" && e.Text == plays[0] && !e.Interrupted {
			t.Errorf("start prompt not cut by the key: %+v", e)
		}
	}
}

func TestIVRTimeout(t *testing.T) {
	h := newHarness(t, nil)
	c := h.start(dialtone.KindIVR, "13800000010", ivrPlan())
	got := h.ended(c.ID)
	h.check(got, want{dialtone.StatusDTMFTimeout, SmartAnswered, HangupMachine, ""})
	if got.StatusMsg != dialtone.StatusText(dialtone.StatusDTMFTimeout) {
		t.Errorf("status msg %q", got.StatusMsg)
	}
	// Both rounds of the start prompt (15 characters: 3.75 s) then 3 s.
	if got.Duration < 10 || got.Duration > 13 {
		t.Errorf("duration %d, want about 10.5 s", got.Duration)
	}
}

func TestIVRWrongKeyReplays(t *testing.T) {
	h := newHarness(t, map[string]sim.Behavior{"13800000001": {Result: sim.ResultAnswer, AnswerAfter: time.Second,
		DTMF: []sim.DTMF{{AfterPrompt: 1, Digits: "9"}, {AfterPrompt: 2, Digits: "1"}}}})
	p := ivrPlan()
	p.PlayTimes = 1
	c := h.start(dialtone.KindIVR, "13800000001", p)
	got := h.ended(c.ID)
	h.check(got, want{dialtone.StatusCompleted, SmartAnswered, HangupMachine, ""})
	if got.DTMF != "91" {
		t.Errorf("dtmf %q", got.DTMF)
	}
	plays := transcriptKinds(h.net.Transcript(c.ID), "play")
	if len(plays) < 4 || plays[len(plays)-2] != "您的订单已发货" {
		t.Errorf("plays %v", plays)
	}
}

func TestIVRHangupDuringPrompt(t *testing.T) {
	h := newHarness(t, map[string]sim.Behavior{"13800000004": {Result: sim.ResultAnswer, AnswerAfter: time.Second, HangupAfter: 2 * time.Second}})
	c := h.start(dialtone.KindIVR, "13800000004", ivrPlan())
	h.check(h.ended(c.ID), want{dialtone.StatusHungUpEarly, SmartAnswered, HangupUser, ""})
}

// TestIVRWithoutMenu: an IvrCall without MenuKeyMap (the SDK reference's
// samples send none) plays its start prompt PlayTimes times and the bye
// prompt, waits for no key, and ends as listened to.
func TestIVRWithoutMenu(t *testing.T) {
	h := newHarness(t, nil)
	p := ivrPlan()
	p.Menu = nil
	c := h.start(dialtone.KindIVR, "13800000010", p)
	got := h.ended(c.ID)
	h.check(got, want{dialtone.StatusCompleted, SmartAnswered, HangupMachine, ""})
	plays := transcriptKinds(h.net.Transcript(c.ID), "play")
	if !slices.Equal(plays, []string{"欢迎致电，查询请按一，人工请按二", "欢迎致电，查询请按一，人工请按二", "再见"}) {
		t.Fatalf("plays %v", plays)
	}
}
