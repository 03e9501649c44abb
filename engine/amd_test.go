package engine

import (
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/carrier/sim"
	"github.com/dialtone-voice/dialtone/media"
)

// Answering-machine detection end to end on the simulated network: the
// engine listens to what the subscriber sends (espeak-ng greetings and
// hellos, a beep, fax tones), holds or plays the prompt by mode, and
// records answered_by.

const (
	vmBeep   = "13700000001" // voicemail: the default greeting, then a beep
	vmQuiet  = "13700000002" // voicemail without a beep
	person   = "13700000003" // a person who says hello
	faxLine  = "13700000004"
	silentVM = "13700000005" // a person who answers and says nothing
)

func needESpeak(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("espeak-ng"); err != nil {
		t.Fatalf("espeak-ng not found (Debian package espeak-ng, or scripts/install-deps.sh): %v", err)
	}
}

// amdScale is the time scale of the detection tests (newAMDHarness).
const amdScale = 0.25

// speech is shared by the tests' networks, so that each text is
// synthesised once.
var speech = media.NewCachedSpeaker(&media.ESpeak{}, 16<<20)

// newAMDHarness is newHarness for subscribers who send audio: a network
// that shares the tests' speech cache, and a ring timeout long enough for
// a greeting's first synthesis (wall time, which the scaled clock turns
// into minutes).
func newAMDHarness(t *testing.T, subs map[string]sim.Behavior) *harness {
	t.Helper()
	needESpeak(t)
	// The detector hears the subscriber's audio 20 ms at a time, fed in
	// real time: at the engine tests' usual scale that is 2,500 frames a
	// second, which a loaded machine (the race detector, other packages'
	// tests) cannot keep up with, and the lag becomes simulated seconds of
	// silence. A quarter of real time leaves it room.
	h := newHarnessScaled(t, openStore(t), amdScale, subs, func(c *Config) { c.RingTimeout = time.Hour })
	h.net.SetSpeaker(speech)
	return h
}

func amdHarness(t *testing.T) *harness {
	t.Helper()
	return newAMDHarness(t, map[string]sim.Behavior{
		vmBeep:   {AnswerAfter: time.Second, AnsweredBy: sim.AnsweredByVoicemail},
		vmQuiet:  {AnswerAfter: time.Second, AnsweredBy: sim.AnsweredByVoicemail, NoBeep: true, Greeting: "This is Ann. Leave a message."},
		person:   {AnswerAfter: time.Second, Hello: "Hello?"},
		faxLine:  {AnswerAfter: time.Second, AnsweredBy: sim.AnsweredByFax},
		silentVM: {AnswerAfter: time.Second},
	})
}

var message = []dialtone.Prompt{tts("Your parcel arrives tomorrow between nine and noon.")}

// verdicts are the call's machine_detection events as "answered_by" or
// "answered_by(final)".
func verdicts(evs []dialtone.CallEvent) []string {
	var out []string
	for _, ev := range evs {
		if ev.Type != dialtone.EventMachineDetection {
			continue
		}
		s := ev.Detail[dialtone.DetailAnsweredBy]
		if ev.Detail["final"] == "true" {
			s += "(final)"
		}
		out = append(out, s)
	}
	return out
}

func endedDetail(t *testing.T, evs []dialtone.CallEvent) map[string]string {
	t.Helper()
	if len(evs) == 0 || evs[len(evs)-1].Type != "ended" {
		t.Fatalf("last event is not ended: %v", eventTypes(evs))
	}
	return evs[len(evs)-1].Detail
}

func decisionTime(t *testing.T, d map[string]string) time.Duration {
	t.Helper()
	ms, err := strconv.Atoi(d[dialtone.DetailAnsweredByMS])
	if err != nil {
		t.Fatalf("answered_by_ms %q", d[dialtone.DetailAnsweredByMS])
	}
	return time.Duration(ms) * time.Millisecond
}

func entry(tr []sim.TranscriptEntry, kind string) (sim.TranscriptEntry, bool) {
	for _, e := range tr {
		if e.Kind == kind {
			return e, true
		}
	}
	return sim.TranscriptEntry{}, false
}

// TestMachineMessageAfterBeep: mode message to a voicemail box holds the
// message until the greeting's beep has ended, plays it whole, and
// reports machine_end_beep (after machine_start) with the time the
// decision took.
func TestMachineMessageAfterBeep(t *testing.T) {
	t.Parallel() // each has its own store and network; they share the speech cache
	h := amdHarness(t)
	c := h.start(dialtone.KindTTS, vmBeep, &dialtone.CallPlan{Prompt: message, PlayTimes: 1, MachineDetection: dialtone.MachineDetectionMessage})
	got := h.ended(c.ID)
	h.check(got, want{dialtone.StatusCompleted, SmartAnswered, HangupMachine, ""})
	evs := h.events(c.ID)
	if v := verdicts(evs); !slices.Equal(v, []string{"machine_start", "machine_end_beep(final)"}) {
		t.Fatalf("verdicts %v; events %v", v, eventTypes(evs))
	}
	d := endedDetail(t, evs)
	if d[dialtone.DetailAnsweredBy] != "machine_end_beep" {
		t.Errorf("ended detail %v", d)
	}
	tr := h.net.Transcript(c.ID)
	beep, ok := entry(tr, "beep")
	if !ok {
		t.Fatalf("no beep in the transcript: %+v", tr)
	}
	play, ok := entry(tr, "play")
	if !ok || play.Interrupted {
		t.Fatalf("message not played whole: %+v", tr)
	}
	// The beep lasts 0.5 s; the message starts after it, not over it.
	if beepEnd := beep.At.Add(500 * time.Millisecond); play.At.Before(beepEnd) {
		t.Errorf("message began at %v, %v before the end of the beep", play.At.Format("15:04:05.000"), beepEnd.Sub(play.At))
	}
	// Decided within a second of the beep's end, counted from the answer
	// (both on the network's clock: the call's own runs elsewhere).
	after := decisionTime(t, d)
	answered, _ := entry(tr, "answered")
	beepEnd := beep.At.Add(500 * time.Millisecond).Sub(answered.At)
	if after < beepEnd || after > beepEnd+time.Second {
		t.Errorf("decided %v after the answer; the beep ended %v after it", after, beepEnd)
	}
	t.Logf("machine_end_beep decided %v after the answer, %v after the beep ended; the message began %v after it",
		after, after-beepEnd, play.At.Sub(beep.At.Add(500*time.Millisecond)))
	// The event order: answered, the verdicts, the message, the end.
	types := eventTypes(evs)
	iPlay := slices.Index(types, "play/A")
	if iPlay < 0 || slices.Index(types, "machine_detection/A") > iPlay || slices.Index(types, "answered/A:200102") > slices.Index(types, "machine_detection/A") {
		t.Errorf("events %v", types)
	}
}

// TestMachineMessageAfterSilence: a greeting without a beep is over once
// it has been quiet EndSilence: machine_end_silence, then the message.
func TestMachineMessageAfterSilence(t *testing.T) {
	t.Parallel() // each has its own store and network; they share the speech cache
	h := amdHarness(t)
	c := h.start(dialtone.KindTTS, vmQuiet, &dialtone.CallPlan{Prompt: message, MachineDetection: dialtone.MachineDetectionMessage})
	got := h.ended(c.ID)
	h.check(got, want{dialtone.StatusCompleted, SmartAnswered, HangupMachine, ""})
	if d := endedDetail(t, h.events(c.ID)); d[dialtone.DetailAnsweredBy] != "machine_end_silence" {
		t.Errorf("ended detail %v", d)
	}
	tr := h.net.Transcript(c.ID)
	greeting, _ := entry(tr, "greeting")
	play, ok := entry(tr, "play")
	if !ok || play.Interrupted || !play.At.After(greeting.At.Add(time.Second)) {
		t.Errorf("transcript %+v", tr)
	}
}

// TestMachineHangup: mode hangup ends a call a voicemail box answers
// without playing anything, with its receipt fields and reason: status
// 200001 (the message was not heard), CALL_FORWARDING, hung up by the
// platform, answered_by machine_start.
func TestMachineHangup(t *testing.T) {
	t.Parallel() // each has its own store and network; they share the speech cache
	h := amdHarness(t)
	c := h.start(dialtone.KindVoice, vmBeep, &dialtone.CallPlan{Prompt: []dialtone.Prompt{{FileCode: "notice.wav"}}, MachineDetection: dialtone.MachineDetectionHangup})
	got := h.ended(c.ID)
	if got.StatusCode != dialtone.StatusHungUpEarly || got.SmartStatusCode != SmartCallForwarding || got.HangupDirection != HangupMachine ||
		!strings.HasPrefix(got.Reason, "answered by machine_start after ") || got.StatusMsg != got.Reason {
		t.Fatalf("call ended %s/%s %q reason %q msg %q", got.StatusCode, got.SmartStatusCode, got.HangupDirection, got.Reason, got.StatusMsg)
	}
	evs := h.events(c.ID)
	if v := verdicts(evs); !slices.Equal(v, []string{"machine_start(final)"}) {
		t.Errorf("verdicts %v", v)
	}
	d := endedDetail(t, evs)
	after := decisionTime(t, d)
	if d[dialtone.DetailAnsweredBy] != "machine_start" || after < 1500*time.Millisecond || after > 4*time.Second {
		t.Errorf("ended detail %v", d)
	}
	t.Logf("machine_start decided %v after the answer; hung up", after)
	if plays := transcriptKinds(h.net.Transcript(c.ID), "play"); len(plays) != 0 {
		t.Errorf("played %v to a machine", plays)
	}
	if got.Duration < 1 || got.A.Start.IsZero() {
		t.Errorf("an answered call: duration %d, start %v", got.Duration, got.A.Start)
	}
}

// TestMachineHuman: a person who says hello gets human within a few
// seconds and hears the whole message, in every mode that holds it.
func TestMachineHuman(t *testing.T) {
	t.Parallel() // each has its own store and network; they share the speech cache
	h := amdHarness(t)
	for _, mode := range []dialtone.MachineDetection{dialtone.MachineDetectionMessage, dialtone.MachineDetectionHangup} {
		t.Run(string(mode), func(t *testing.T) {
			c := h.start(dialtone.KindTTS, person, &dialtone.CallPlan{Prompt: message, PlayTimes: 2, MachineDetection: mode})
			got := h.ended(c.ID)
			h.check(got, want{dialtone.StatusCompleted, SmartAnswered, HangupMachine, ""})
			evs := h.events(c.ID)
			if v := verdicts(evs); !slices.Equal(v, []string{"human(final)"}) {
				t.Fatalf("verdicts %v", v)
			}
			d := endedDetail(t, evs)
			after := decisionTime(t, d)
			if d[dialtone.DetailAnsweredBy] != "human" || after > 2500*time.Millisecond {
				t.Errorf("ended detail %v", d)
			}
			t.Logf("human decided %v after the answer", after)
			tr := h.net.Transcript(c.ID)
			var plays int
			for _, e := range tr {
				if e.Kind == "play" {
					plays++
					if e.Interrupted {
						t.Errorf("a play was cut: %+v", e)
					}
				}
			}
			if plays != 2 {
				t.Errorf("%d plays of 2: %+v", plays, tr)
			}
			hello, _ := entry(tr, "hello")
			play, _ := entry(tr, "play")
			if !play.At.After(hello.At) {
				t.Errorf("the message began before the hello: %+v", tr)
			}
		})
	}
}

// TestMachineDetectPlaysAtOnce: mode detect plays as without detection
// (from the answer, over the greeting) and records the verdict.
func TestMachineDetectPlaysAtOnce(t *testing.T) {
	t.Parallel() // each has its own store and network; they share the speech cache
	h := amdHarness(t)
	c := h.start(dialtone.KindTTS, vmBeep, &dialtone.CallPlan{Prompt: message, MachineDetection: dialtone.MachineDetectionDetect})
	got := h.ended(c.ID)
	h.check(got, want{dialtone.StatusCompleted, SmartAnswered, HangupMachine, ""})
	evs := h.events(c.ID)
	if v := verdicts(evs); !slices.Equal(v, []string{"machine_start(final)"}) {
		t.Errorf("verdicts %v", v)
	}
	if d := endedDetail(t, evs); d[dialtone.DetailAnsweredBy] != "machine_start" {
		t.Errorf("ended detail %v", d)
	}
	tr := h.net.Transcript(c.ID)
	play, _ := entry(tr, "play")
	answered, _ := entry(tr, "answered")
	if play.At.Sub(answered.At) > time.Second {
		t.Errorf("mode detect held the message %v", play.At.Sub(answered.At))
	}
}

// TestMachineFaxAndSilence: a fax is hung up on in mode message (nobody
// would hear the message); a person who says nothing is unknown and
// hears the message.
func TestMachineFaxAndSilence(t *testing.T) {
	t.Parallel() // each has its own store and network; they share the speech cache
	h := amdHarness(t)
	c := h.start(dialtone.KindTTS, faxLine, &dialtone.CallPlan{Prompt: message, MachineDetection: dialtone.MachineDetectionMessage})
	got := h.ended(c.ID)
	if got.StatusCode != dialtone.StatusHungUpEarly || got.SmartStatusCode != SmartCallForwarding || !strings.HasPrefix(got.Reason, "answered by fax") {
		t.Errorf("fax call ended %s/%s %q", got.StatusCode, got.SmartStatusCode, got.Reason)
	}
	if d := endedDetail(t, h.events(c.ID)); d[dialtone.DetailAnsweredBy] != "fax" {
		t.Errorf("fax: ended detail %v", d)
	}
	c = h.start(dialtone.KindTTS, silentVM, &dialtone.CallPlan{Prompt: message, MachineDetection: dialtone.MachineDetectionHangup})
	got = h.ended(c.ID)
	h.check(got, want{dialtone.StatusCompleted, SmartAnswered, HangupMachine, ""})
	if d := endedDetail(t, h.events(c.ID)); d[dialtone.DetailAnsweredBy] != "unknown" {
		t.Errorf("silence: ended detail %v", d)
	}
}

// TestMachineOff: without the setting nothing listens and nothing is
// recorded.
func TestMachineOff(t *testing.T) {
	t.Parallel() // each has its own store and network; they share the speech cache
	h := amdHarness(t)
	c := h.start(dialtone.KindTTS, vmBeep, &dialtone.CallPlan{Prompt: message})
	h.ended(c.ID)
	evs := h.events(c.ID)
	if v := verdicts(evs); len(v) != 0 {
		t.Errorf("verdicts %v", v)
	}
	if _, ok := endedDetail(t, evs)[dialtone.DetailAnsweredBy]; ok {
		t.Errorf("answered_by without detection")
	}
}

// TestMachineCalleeHangsUpWhileHeld: a callee who hangs up while the
// message is held ends the call as any early hang-up, with the verdict
// the detector could give.
func TestMachineCalleeHangsUpWhileHeld(t *testing.T) {
	t.Parallel() // each has its own store and network; they share the speech cache
	h := newAMDHarness(t, map[string]sim.Behavior{
		vmBeep: {AnswerAfter: time.Second, AnsweredBy: sim.AnsweredByVoicemail, HangupAfter: 4 * time.Second},
	})
	c := h.start(dialtone.KindTTS, vmBeep, &dialtone.CallPlan{Prompt: message, MachineDetection: dialtone.MachineDetectionMessage})
	got := h.ended(c.ID)
	h.check(got, want{dialtone.StatusHungUpEarly, SmartAnswered, HangupUser, ""})
	evs := h.events(c.ID)
	if v := verdicts(evs); !slices.Equal(v, []string{"machine_start", "machine_start(final)"}) {
		t.Errorf("verdicts %v", v)
	}
	if d := endedDetail(t, evs); d[dialtone.DetailAnsweredBy] != "machine_start" {
		t.Errorf("ended detail %v", d)
	}
}

// TestMachineIVRAndSmartCall: an IVR's start prompt waits for the beep
// as a notification's does; a SmartCall that a voicemail box answers in
// mode hangup ends before its first prompt and before any callback.
func TestMachineIVRAndSmartCall(t *testing.T) {
	t.Parallel() // each has its own store and network; they share the speech cache
	h := amdHarness(t)
	c := h.start(dialtone.KindIVR, vmBeep, &dialtone.CallPlan{Prompt: []dialtone.Prompt{tts("Press one.")},
		Bye: []dialtone.Prompt{tts("Bye.")}, MachineDetection: dialtone.MachineDetectionMessage})
	got := h.ended(c.ID)
	h.check(got, want{dialtone.StatusCompleted, SmartAnswered, HangupMachine, ""})
	tr := h.net.Transcript(c.ID)
	beep, _ := entry(tr, "beep")
	play, ok := entry(tr, "play")
	if !ok || play.At.Before(beep.At.Add(500*time.Millisecond)) {
		t.Errorf("IVR transcript %+v", tr)
	}

	cb := newCallbackServer(t, `{"result":"success","code":200,"data":{"action":"hangup"}}`)
	c = h.start(dialtone.KindSmartCall, vmBeep, &dialtone.CallPlan{Prompt: []dialtone.Prompt{tts("Hello, this is Acme.")},
		Smart: &dialtone.SmartPlan{CallbackURL: cb.URL}, MachineDetection: dialtone.MachineDetectionHangup})
	got = h.ended(c.ID)
	if got.SmartStatusCode != SmartCallForwarding || got.HangupDirection != HangupMachine {
		t.Errorf("smart call ended %s/%s %q", got.StatusCode, got.SmartStatusCode, got.Reason)
	}
	if n := len(cb.requests()); n != 0 {
		t.Errorf("%d callbacks for a call a machine answered", n)
	}
	if plays := transcriptKinds(h.net.Transcript(c.ID), "play"); len(plays) != 0 {
		t.Errorf("played %v", plays)
	}
}

// TestMachineClickToDial: a ClickToDial whose callee is a voicemail box
// is bridged at once; in mode hangup the call ends when the detector
// says machine, the caller spared the greeting; in mode detect it goes on.
func TestMachineClickToDial(t *testing.T) {
	t.Parallel() // each has its own store and network; they share the speech cache
	h := newAMDHarness(t, map[string]sim.Behavior{
		aNum: {AnswerAfter: time.Second, HangupAfter: 30 * time.Second},
		bNum: {AnswerAfter: time.Second, AnsweredBy: sim.AnsweredByVoicemail},
	})
	c := h.startC2D(aNum, bNum, &dialtone.CallPlan{MachineDetection: dialtone.MachineDetectionHangup})
	got := h.ended(c.ID)
	if got.StatusCode != dialtone.StatusCompleted || got.SmartStatusCode != SmartCallForwarding || got.HangupDirection != HangupMachine {
		t.Fatalf("click-to-dial ended %s/%s %q %q", got.StatusCode, got.SmartStatusCode, got.HangupDirection, got.Reason)
	}
	evs := h.events(c.ID)
	if v := verdicts(evs); !slices.Equal(v, []string{"machine_start(final)"}) {
		t.Errorf("verdicts %v", v)
	}
	if ev := evs[slices.IndexFunc(evs, func(e dialtone.CallEvent) bool { return e.Type == dialtone.EventMachineDetection })]; ev.Leg != "B" {
		t.Errorf("verdict on leg %q", ev.Leg)
	}
	if got.Duration > 5 {
		t.Errorf("bridged %d s with a machine", got.Duration)
	}

	c = h.startC2D(aNum, bNum, &dialtone.CallPlan{MachineDetection: dialtone.MachineDetectionDetect})
	got = h.ended(c.ID)
	h.check(got, want{dialtone.StatusCompleted, SmartAnswered, HangupUser, ""})
	if d := endedDetail(t, h.events(c.ID)); d[dialtone.DetailAnsweredBy] != "machine_start" {
		t.Errorf("detect: ended detail %v", d)
	}
}
