package sip

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/engine"
	"github.com/dialtone-voice/dialtone/media"
	"github.com/dialtone-voice/dialtone/media/detect"
	"github.com/dialtone-voice/dialtone/media/detect/synth"
)

// Answering-machine detection and call-progress tones end to end over
// loopback: the engine dials through this carrier to a far end that
// answers with a recorded greeting and beep, with a person's hello, or
// that plays busy tone in a 183 and never answers (SIPp).

func speak(t *testing.T, text string) []int16 {
	t.Helper()
	a, err := (&media.ESpeak{}).Speak(context.Background(), text, "en-us", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	return synth.Scale(synth.Trim(a.Samples), -20)
}

// heardFrom is how long after it began to send say the first audible
// packet from us arrived (both on its clock: under load our pacer skips
// frames, so a count of the samples heard would run short).
func (u *testUAS) heardFrom() time.Duration {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.firstLoud.IsZero() || u.sayStart.IsZero() {
		return -1
	}
	return u.firstLoud.Sub(u.sayStart)
}

func machineVerdicts(evs []dialtone.CallEvent) []string {
	var out []string
	for _, ev := range evs {
		if ev.Type == dialtone.EventMachineDetection {
			s := ev.Detail[dialtone.DetailAnsweredBy]
			if ev.Detail["final"] == "true" {
				s += "(final)"
			}
			out = append(out, s)
		}
	}
	return out
}

func endedOf(t *testing.T, evs []dialtone.CallEvent) map[string]string {
	t.Helper()
	if len(evs) == 0 || evs[len(evs)-1].Type != "ended" {
		t.Fatalf("no ended event last")
	}
	return evs[len(evs)-1].Detail
}

// TestE2EMachineGreetingAndBeep: a far end that answers with a recorded
// greeting and a beep gets, in mode message, the verification code after
// the beep, whole, and the call reports machine_end_beep.
func TestE2EMachineGreetingAndBeep(t *testing.T) {
	greeting := speak(t, "Hello, you have reached the voicemail of Ann Smith. Please leave a message after the tone.")
	lead, gap, beepLen := 300*time.Millisecond, 500*time.Millisecond, 500*time.Millisecond
	say := synth.Concat(synth.Silence(lead), greeting, synth.Silence(gap), synth.Beep(1000, beepLen, -14), synth.Silence(time.Second))
	beepEnd := lead + synth.Dur(len(greeting)) + gap + beepLen
	u := startUAS(t, &testUAS{say: say})
	e := newE2E(t, u.addr)
	prompt, err := media.SpeakPrompt(context.Background(), e.voice, codePrompt, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	got := e.run(dialtone.KindTTS, &dialtone.CallPlan{Prompt: []dialtone.Prompt{codePrompt}, PlayTimes: 1,
		MachineDetection: dialtone.MachineDetectionMessage})
	if got.StatusCode != dialtone.StatusCompleted {
		t.Fatalf("call ended %s (%s) %q", got.StatusCode, got.StatusMsg, got.Reason)
	}
	evs := e.events(got.ID)
	if v := machineVerdicts(evs); !slices.Equal(v, []string{"machine_start", "machine_end_beep(final)"}) {
		t.Fatalf("verdicts %v", v)
	}
	d := endedOf(t, evs)
	ms, _ := strconv.Atoi(d[dialtone.DetailAnsweredByMS])
	after := time.Duration(ms) * time.Millisecond
	if d[dialtone.DetailAnsweredBy] != "machine_end_beep" || after < beepEnd || after > beepEnd+time.Second {
		t.Errorf("ended detail %v; the beep ended %v after the answer", d, beepEnd)
	}
	select {
	case <-u.bye:
	case <-time.After(5 * time.Second):
		t.Fatal("far end got no BYE")
	}
	// The message began after the beep (give or take a packet's timing)
	// and was heard whole.
	from := u.heardFrom()
	if from < beepEnd-60*time.Millisecond || from > beepEnd+1500*time.Millisecond {
		t.Errorf("the message began %v after the answer; the beep ended at %v", from, beepEnd)
	}
	t.Logf("machine_end_beep decided %v after the answer (the beep ended at %v); the far end heard the message from %v", after, beepEnd, from)
	if span, _ := u.heardSpan(); span < prompt.Duration()*9/10 {
		t.Errorf("far end heard %v of a %v message", span, prompt.Duration())
	}
}

// TestE2EMachineHello: a person who answers "Hello?" is human, decided
// within 2.5 s, and hears the whole message in modes hangup and message.
func TestE2EMachineHello(t *testing.T) {
	hello := speak(t, "Hello?")
	say := synth.Concat(synth.Silence(400*time.Millisecond), hello, synth.Silence(4*time.Second))
	for _, mode := range []dialtone.MachineDetection{dialtone.MachineDetectionHangup, dialtone.MachineDetectionMessage} {
		t.Run(string(mode), func(t *testing.T) {
			u := startUAS(t, &testUAS{say: say})
			e := newE2E(t, u.addr)
			prompt, err := media.SpeakPrompt(context.Background(), e.voice, codePrompt, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			got := e.run(dialtone.KindTTS, &dialtone.CallPlan{Prompt: []dialtone.Prompt{codePrompt}, PlayTimes: 1, MachineDetection: mode})
			if got.StatusCode != dialtone.StatusCompleted {
				t.Fatalf("call ended %s (%s) %q", got.StatusCode, got.StatusMsg, got.Reason)
			}
			evs := e.events(got.ID)
			if v := machineVerdicts(evs); !slices.Equal(v, []string{"human(final)"}) {
				t.Fatalf("verdicts %v", v)
			}
			d := endedOf(t, evs)
			ms, _ := strconv.Atoi(d[dialtone.DetailAnsweredByMS])
			if d[dialtone.DetailAnsweredBy] != "human" || ms > 2500 {
				t.Errorf("ended detail %v", d)
			}
			t.Logf("human decided %d ms after the answer", ms)
			select {
			case <-u.bye:
			case <-time.After(5 * time.Second):
				t.Fatal("far end got no BYE")
			}
			helloEnd := 400*time.Millisecond + synth.Dur(len(hello))
			if from := u.heardFrom(); from < helloEnd {
				t.Errorf("the message began %v after the answer, over the hello (ends %v)", from, helloEnd)
			}
			if span, _ := u.heardSpan(); span < prompt.Duration()*9/10 {
				t.Errorf("far end heard %v of a %v message", span, prompt.Duration())
			}
		})
	}
}

// TestE2EEarlyBusyToneThenTimeout: SIPp answers the INVITE with 183 and
// China's busy tone as RTP, and would let the call ring to its timeout.
// The carrier hears the tone in the early media, gives the call up with
// CANCEL a few seconds later, and the call is busy (200002, USER_BUSY),
// not unanswered; the failure names the tone.
func TestE2EEarlyBusyToneThenTimeout(t *testing.T) {
	dir := t.TempDir()
	busy, _ := detect.FindPattern(detect.ToneBusy, detect.PlanChina)
	audio := filepath.Join(dir, "busy.ulaw")
	if err := os.WriteFile(audio, media.EncodeMuLaw(busy.Synthesize(7*time.Second, -18)), 0o644); err != nil {
		t.Fatal(err)
	}
	tmpl, err := os.ReadFile(filepath.Join("testdata", "early_tone.xml"))
	if err != nil {
		t.Fatal(err)
	}
	scenario := filepath.Join(dir, "early_tone.xml")
	if err := os.WriteFile(scenario, []byte(strings.ReplaceAll(string(tmpl), "AUDIO_FILE", audio)), 0o644); err != nil {
		t.Fatal(err)
	}
	p := startSipp(t, scenario)
	e := newE2E(t, p.addr)
	start := time.Now()
	got := e.run(dialtone.KindTTS, &dialtone.CallPlan{Prompt: []dialtone.Prompt{codePrompt}})
	if got.StatusCode != dialtone.StatusBusy || got.SmartStatusCode != engine.SmartUserBusy {
		t.Fatalf("call ended %s/%s %q; want busy", got.StatusCode, got.SmartStatusCode, got.Reason)
	}
	if d := time.Since(start); d > 8*time.Second {
		t.Errorf("gave up after %v: the ring timeout, not the tone", d)
	} else {
		t.Logf("busy in %v (the ring timeout is 10 s)", d.Round(10*time.Millisecond))
	}
	var failed map[string]string
	for _, ev := range e.events(got.ID) {
		if ev.Type == "failed" {
			failed = ev.Detail
		}
	}
	if failed["reason"] != "busy tone in early media" || failed["sip_status"] != "183" || failed["early_media_tone"] != "busy" || !strings.Contains(failed["early_media_tone_name"], "China busy tone") {
		t.Errorf("failed event %v", failed)
	}
	p.wait(t, 5*time.Second)
}

// TestUASEarlyBusyToneThen480: busy tone in the early media, then a 480
// (temporarily unavailable, which says nothing of why): the tone decides,
// busy. A 404 needs no tone; the tone is noted all the same. Three seconds
// of tone: a loaded machine's late packets are heard as gaps that break a
// cadence, and the tone must still be confirmed before the final response
// (which comes before progress.Grace after the confirmation).
func TestUASEarlyBusyToneThen480(t *testing.T) {
	busy, _ := detect.FindPattern(detect.ToneBusy, detect.PlanChina)
	for _, c := range []struct {
		final int
		want  dialtone.FailReason
	}{{480, dialtone.FailBusy}, {404, dialtone.FailInvalid}} {
		u := startUAS(t, &testUAS{early: true, earlySay: busy.Synthesize(3*time.Second, -18), earlyEnd: c.final})
		cr := newTestCarrier(t, u.addr, nil)
		l := originate(t, cr, "13800000000", 20*time.Second)
		ev, _ := waitFor(t, l, dialtone.LegFailed, 10*time.Second)
		if ev.Reason != c.want || ev.Detail["sip_status"] != strconv.Itoa(c.final) || ev.Detail["early_media_tone"] != "busy" {
			t.Errorf("%d after busy tone: %s %v, want %s", c.final, ev.Reason, ev.Detail, c.want)
		}
		waitClosed(t, l, 5*time.Second)
	}
}

// TestTapFillsSilence: a far end that answers and sends no RTP at all
// (silence suppression) is heard as silence from the answer on, without
// holes, so the detector's clock runs.
func TestTapFillsSilence(t *testing.T) {
	u := startUAS(t, &testUAS{silent: true})
	c := newTestCarrier(t, u.addr, nil)
	l := originate(t, c, "13800000000", 10*time.Second)
	waitFor(t, l, dialtone.LegAnswered, 5*time.Second)
	got := make(chan time.Duration, 200)
	stop, err := l.(dialtone.AudioTap).TapAudio(func(pcm []int16, since time.Duration) {
		for _, s := range pcm {
			if s != 0 {
				t.Errorf("sound in the silence at %v", since)
				break
			}
		}
		select {
		case got <- since:
		default:
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	stop()
	close(got)
	var prev time.Duration = -1
	var n int
	for since := range got {
		if prev >= 0 && since != prev+frameTime {
			t.Errorf("audio at %v after audio at %v", since, prev)
		}
		prev = since
		n++
	}
	if n < 30 {
		t.Errorf("%d frames of silence in a second", n)
	}
	if err := l.Hangup(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitClosed(t, l, 5*time.Second)
}
