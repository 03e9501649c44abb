package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/carrier/sim"
)

// TestCallPageAnsweredBy: the call page of a call that listened says who
// answered and when it was decided, gives the detector's verdicts their
// line in the timeline and the dialogue, and names in words what a
// voicemail subscriber sent; a call that did not listen shows none of it.
func TestCallPageAnsweredBy(t *testing.T) {
	at := time.Date(2026, 12, 1, 2, 3, 4, 0, time.UTC)
	c := &dialtone.Call{ID: "300000000011^1000000011", AccountUID: acctA, Callee: "13800000001",
		State: dialtone.CallEnded, StatusCode: dialtone.StatusCompleted, HangupDirection: dialtone.HangupMachine}
	net := &fakeNet{tx: map[string][]sim.TranscriptEntry{c.ID: {
		{At: at, Leg: "A", Kind: "answered"},
		{At: at.Add(300 * time.Millisecond), Leg: "A", Kind: "greeting", Text: "Leave a message. (1.2 s)"},
		{At: at.Add(2 * time.Second), Leg: "A", Kind: "beep", Text: "1000 Hz, 500ms"},
	}}}
	f := callsFixture(t, nil, net)
	f.call(t, c)
	plain := f.call(t, &dialtone.Call{ID: "300000000012^1000000012", AccountUID: acctA, State: dialtone.CallEnded, StatusCode: dialtone.StatusCompleted})
	c.Version = 1
	c.A = dialtone.LegTimes{Start: at, End: at.Add(9 * time.Second)}
	must(t, f.store.UpdateCall(context.Background(), &dialtone.CallChange{Call: c, Events: []dialtone.CallEvent{
		{CallID: c.ID, Seq: 1, At: at, Type: "answered", Leg: "A", StatusCode: "200102"},
		{CallID: c.ID, Seq: 2, At: at.Add(2 * time.Second), Type: dialtone.EventMachineDetection, Leg: "A",
			Detail: map[string]string{"answered_by": "machine_start", "answered_by_ms": "1800", "final": "false", "reason": "greeting longer than 1.8s"}},
		{CallID: c.ID, Seq: 3, At: at.Add(3 * time.Second), Type: dialtone.EventMachineDetection, Leg: "A",
			Detail: map[string]string{"answered_by": "machine_end_beep", "answered_by_ms": "2600", "final": "true", "reason": "beep 1000 Hz, 500ms"}},
		{CallID: c.ID, Seq: 4, At: at.Add(9 * time.Second), Type: "ended", StatusCode: "200100",
			Detail: map[string]string{"answered_by": "machine_end_beep", "answered_by_ms": "2600"}},
	}}))
	alice := f.browser(t)
	alice.mustSignIn("alice", "alice-pass")
	_, page, _ := alice.do("GET", "/console/calls/"+url.PathEscape(c.ID), nil, nil)
	for _, want := range []string{
		`<dd id="call-answered-by" data-answered-by="machine_end_beep"><code>machine_end_beep</code>: an answering machine, after its beep 答录机（提示音后） · decided 2.6 s after the answer</dd>`,
		`<tr data-event="machine_detection">`,
		"answered by an answering machine, during its greeting",
		"1800 ms after the answer: greeting longer than 1.8s",
		"Voicemail greeting 语音信箱问候语", "Voicemail beep 提示音",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("call page lacks %q", want)
		}
	}
	_, page, _ = alice.do("GET", "/console/calls/"+url.PathEscape(plain.ID), nil, nil)
	if strings.Contains(page, "call-answered-by") {
		t.Error("a call that did not listen shows who answered")
	}
}

// TestNetworkFormAnswerers: the network form sets who answers a
// subscriber (a voicemail box with its greeting, length, beep and voice)
// and the tone its network plays while it rings; editing keeps them; a
// bad value is refused by the network model's rules, named by its label.
func TestNetworkFormAnswerers(t *testing.T) {
	net := sim.New(&sim.Config{TimeScale: 1, Default: sim.DefaultBehavior, Subscribers: []sim.Subscriber{
		{Number: "13800000001", Behavior: sim.Behavior{AnsweredBy: sim.AnsweredByVoicemail, Greeting: "Hi, leave a message.", GreetingLength: 9 * time.Second, NoBeep: true}},
	}}, realClock{})
	f, _ := storeFixture(t, net)
	b := f.browser(t)
	b.mustSignIn("admin", "operator-pass")
	_, page, _ := b.do("GET", "/console/network?edit=13800000001", nil, nil)
	for _, want := range []string{`<option selected>voicemail</option>`, `Hi, leave a message.</textarea>`, `value="9s"`, `<td data-label="Answered by">voicemail</td>`} {
		if !strings.Contains(page, want) {
			t.Errorf("network page lacks %q", want)
		}
	}
	if strings.Contains(page, `id="sn-beep" type="checkbox" name="beep" checked`) {
		t.Error("the beep is ticked for a voicemail without one")
	}
	form := url.Values{"csrf": {token(t, page)}, "number": {"13800000002"}, "result": {"no_answer"},
		"answered_by": {"person"}, "hello": {"喂？"}, "voice": {"cmn"}, "early_media": {"busy"}, "tone_plan": {"EU"}}
	if st, _, hdr := b.do("POST", "/console/network", form, nil); st != http.StatusSeeOther || hdr.Get("Location") != "/console/network" {
		t.Fatalf("save: %d %s", st, hdr.Get("Location"))
	}
	got := net.Behavior("13800000002")
	if got.Hello != "喂？" || got.Voice != "cmn" || got.EarlyMedia != sim.EarlyBusy || got.TonePlan != "EU" || got.AnsweredBy != sim.AnsweredByPerson {
		t.Errorf("saved %+v", got)
	}
	form = url.Values{"csrf": {token(t, page)}, "number": {"13800000003"}, "result": {"answer"},
		"answered_by": {"voicemail"}, "greeting_length": {"5m"}, "beep": {"on"}, "voice": {"en us"}}
	b.do("POST", "/console/network", form, nil)
	_, page, _ = b.do("GET", "/console/network?edit=13800000003", nil, nil)
	for _, want := range []string{"Greeting lasts: must be at most 2m", "Voice: &#34;en us&#34; is not an espeak-ng voice name",
		`id="sn-greeting-length" name="greeting_length" value="5m" aria-invalid="true"`, `id="sn-beep" type="checkbox" name="beep" checked`} {
		if !strings.Contains(page, want) {
			t.Errorf("refused form lacks %q", want)
		}
	}
	if net.Behavior("13800000003").AnsweredBy == sim.AnsweredByVoicemail {
		t.Error("a refused form changed the network")
	}
}
