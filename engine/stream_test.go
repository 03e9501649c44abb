package engine

import (
	"context"
	"encoding/json"
	"math"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/carrier/sim"
	"github.com/dialtone-voice/dialtone/internal/streamtest"
	"github.com/dialtone-voice/dialtone/media"
	"github.com/dialtone-voice/dialtone/receipt"
)

// Media streams on the simulated network, end to end: a real WebSocket
// application on loopback, the engine, and simulated subscribers whose
// say lines are espeak-ng speech. Streams run on wall time, so these
// calls run on an unscaled clock.

// streamHarness is a harness on a real-time clock whose receipts are
// built by the receipt package and kept for the test.
func streamHarness(t *testing.T, subs map[string]sim.Behavior, tweak ...func(*Config)) (*harness, *receiptLog) {
	t.Helper()
	st := openStore(t)
	clock := RealClock{}
	net := &sim.Config{TimeScale: 1, Default: sim.Behavior{Result: sim.ResultAnswer, AnswerAfter: 200 * time.Millisecond}}
	for n, b := range subs {
		net.Subscribers = append(net.Subscribers, sim.Subscriber{Number: n, Behavior: b})
	}
	rl := &receiptLog{}
	h := &harness{t: t, ctx: context.Background(), st: st, clock: clock, net: sim.New(net, clock)}
	h.cfg = Config{Store: st, Carrier: h.net, Renderer: &fakeRenderer{}, Clock: clock, Node: "node1", Logger: quiet,
		Prompts: PromptsFunc(resolveTTS), Receipts: rl}
	for _, f := range tweak {
		f(&h.cfg)
	}
	h.eng = New(h.cfg)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		h.eng.Shutdown(ctx)
	})
	return h, rl
}

// receiptLog builds receipts with the receipt package and keeps them.
type receiptLog struct {
	b   receipt.Builder
	mu  sync.Mutex
	all []dialtone.Receipt
}

func (l *receiptLog) Build(c *dialtone.Call, ev []dialtone.CallEvent) []dialtone.Receipt {
	rs := l.b.Build(c, ev)
	l.mu.Lock()
	l.all = append(l.all, rs...)
	l.mu.Unlock()
	return rs
}

// voiceReport is the call's VoiceReport, decoded.
func (l *receiptLog) voiceReport(t *testing.T, callID string) map[string]any {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range l.all {
		if r.MessageType != dialtone.MsgVoiceReport {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(r.Body, &m); err != nil {
			t.Fatal(err)
		}
		if m["call_id"] == callID {
			return m
		}
	}
	t.Fatalf("no VoiceReport for %s", callID)
	return nil
}

func streamEvents(evs []dialtone.CallEvent) []map[string]string {
	var out []map[string]string
	for _, ev := range evs {
		if ev.Type == "stream" {
			out = append(out, ev.Detail)
		}
	}
	return out
}

// espeak renders text as the simulated subscriber says it, for matching.
func espeak(t *testing.T, text string) []int16 {
	t.Helper()
	a, err := (&media.ESpeak{}).Speak(context.Background(), text, sim.DefaultVoice, 0, 0)
	if err != nil {
		t.Skipf("espeak-ng: %v", err)
	}
	return a.Samples
}

var streamHeardRE = regexp.MustCompile(`^([0-9.]+) s from the stream`)

// TestStreamAgentOnSimulatedNetwork: the account's smartcall_stream_url
// connects the answered SmartCall at once. The application plays a
// second of tone: the subscriber hears it (its transcript says 1.0 s from
// the stream), answers with its say line, which reaches the application
// as espeak-ng's speech sample for sample (cross-correlation), and presses
// a key, which arrives as a dtmf event. The application's hangup ends the
// call (reason recorded); the timeline, the VoiceReport and the call
// detail carry the stream's figures.
func TestStreamAgentOnSimulatedNetwork(t *testing.T) {
	const callee = "13800000021"
	phrase := "hello, this is the callee speaking"
	ref := espeak(t, phrase)
	h, rl := streamHarness(t, map[string]sim.Behavior{callee: {Result: sim.ResultAnswer, AnswerAfter: 200 * time.Millisecond,
		Say: []string{phrase}, Silence: 300 * time.Millisecond, DTMF: []sim.DTMF{{AfterPrompt: 1, Digits: "7"}}}})
	tone := media.DecodeMuLaw(media.EncodeMuLaw(sineWave(time.Second, 440, 8000)))
	app := streamtest.Start(streamtest.Config{Lead: -1, Script: func(ctx context.Context, s *streamtest.Session) {
		if err := s.Stream.WriteAudio(ctx, tone); err != nil {
			return
		}
		_ = s.Stream.Mark(ctx, "tone-played")
		// Until the callee has pressed its key and begun its line: the
		// match is looked for at most every 100 ms, not at every message
		// (it is real work, and the call's media run beside it).
		var looked time.Time
		ok := s.Wait(20*time.Second, func(s *streamtest.Session) bool {
			if len(s.DTMF()) == 0 || time.Since(looked) < 100*time.Millisecond {
				return false
			}
			looked = time.Now()
			return streamtest.ChunkMatch(s.PCM("inbound"), ref[:min(len(ref), 4000)], 0.98) >= 0.8
		})
		if !ok {
			return
		}
		time.Sleep(time.Duration(len(ref))*time.Second/8000 + 200*time.Millisecond) // the rest of the line
		_ = s.Stream.Hangup(ctx, "order confirmed")
	}})
	defer app.Close()
	plan := smartPlan("", "您好")
	plan.Smart.CallbackURL = ""
	plan.Stream = &dialtone.StreamPlan{URL: app.URL, Trusted: true}
	c := h.start(dialtone.KindSmartCall, callee, plan)
	got := h.ended(c.ID)
	if got.StatusCode != dialtone.StatusCompleted || got.Reason != "stream hangup: order confirmed" || got.HangupDirection != HangupMachine {
		t.Fatalf("ended %s %q by %s", got.StatusCode, got.Reason, got.HangupDirection)
	}
	s := app.WaitSession(1, time.Second)
	if s == nil {
		t.Fatal("no stream reached the application")
	}
	if st := s.Start; st.CallSID != c.ID || st.AccountSID != testAccount || strings.Join(st.Tracks, ",") != "inbound" || st.Encoding != "audio/x-mulaw" {
		t.Errorf("start %+v", st)
	}
	if keys := s.DTMF(); strings.Join(keys, "") != "7" {
		t.Errorf("keys %v", keys)
	}
	if m := streamtest.BestMatch(s.PCM("inbound"), ref); m < 0.95 {
		t.Errorf("the callee's line matches espeak-ng's at %.3f", m)
	}
	if marks := s.Marks(); len(marks) != 1 || marks[0] != "tone-played" {
		t.Errorf("marks %v", marks)
	}
	if !s.Wait(2*time.Second, (*streamtest.Session).Stopped) {
		t.Error("no stop")
	}
	// The subscriber heard the tone, for as long as it lasts.
	var heard []string
	for _, e := range h.net.Transcript(c.ID) {
		if e.Kind == "stream" {
			heard = append(heard, e.Text)
		}
	}
	var secs []float64
	for _, txt := range heard {
		if m := streamHeardRE.FindStringSubmatch(txt); m != nil {
			v, _ := strconv.ParseFloat(m[1], 64)
			secs = append(secs, v)
		}
	}
	if len(secs) != 1 || secs[0] < 0.9 || secs[0] > 1.1 {
		t.Errorf("transcript's stream entries %q", heard)
	}
	evs := h.events(c.ID)
	se := streamEvents(evs)
	if len(se) != 1 || se[0][dialtone.DetailStreamRole] != "agent" || se[0][dialtone.DetailStreamEnd] != "hangup" ||
		se[0][dialtone.DetailStreamFramesIn] != "50" || se[0][dialtone.DetailStreamDrops] != "0" {
		t.Fatalf("stream events %v", se)
	}
	sent, _ := strconv.Atoi(se[0][dialtone.DetailStreamFramesOut])
	dur, _ := strconv.Atoi(se[0][dialtone.DetailStreamDurationMS])
	if want := dur / 20; sent < want*8/10 || sent > want+5 {
		t.Errorf("%d frames sent in %d ms", sent, dur)
	}
	vr := rl.voiceReport(t, c.ID)
	if vr["stream_end"] != "hangup" || vr["stream_role"] != "agent" || vr["stream_duration_ms"] != se[0][dialtone.DetailStreamDurationMS] ||
		vr["stream_frames_received"] != "50" || vr["stream_end_detail"] != "order confirmed" {
		t.Errorf("VoiceReport %v", vr)
	}
}

// TestStreamCallbackFallback: a callback answers stream with
// stream_params; the application gets them as customParameters, then
// closes the socket (fallback continue: the call goes back to the
// callback, whose next answer hangs up) or crashes (no fallback given:
// hangup, with the reason recorded).
func TestStreamCallbackFallback(t *testing.T) {
	const callee = "13800000022"
	for _, c := range []struct {
		name, params string
		kill         bool
		wantReason   *regexp.Regexp
		callbacks    int
	}{
		{"closed-continue", `{"fallback":"continue","order":"A-1001","priority":2}`, false, regexp.MustCompile(`^$`), 2},
		{"killed-hangup", `{"order":"A-1001"}`, true, regexp.MustCompile(`^stream (failed|closed) \(.+\); fallback hangup$`), 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			h, _ := streamHarness(t, map[string]sim.Behavior{callee: {Result: sim.ResultAnswer, AnswerAfter: 200 * time.Millisecond,
				Say: []string{"你好"}}})
			var app *streamtest.App
			app = streamtest.Start(streamtest.Config{Lead: -1, Script: func(ctx context.Context, s *streamtest.Session) {
				time.Sleep(300 * time.Millisecond)
				if c.kill {
					app.Kill()
					return
				}
				// A normal close of the socket by the application.
				s.Close()
			}})
			defer app.Close()
			streamAnswer := `{"result":"success","code":200,"data":{"action":"stream","stream_url":"` + app.URL + `","stream_params":` + c.params + `}}`
			srv := newCallbackServer(t, streamAnswer, answer("hangup", "", "", ""))
			plan := smartPlan(srv.URL, "您好")
			plan.Smart.MuteTime = 500 * time.Millisecond
			call := h.start(dialtone.KindSmartCall, callee, plan)
			got := h.ended(call.ID)
			if got.StatusCode != dialtone.StatusCompleted || !c.wantReason.MatchString(got.Reason) {
				t.Errorf("ended %s %q", got.StatusCode, got.Reason)
			}
			if n := len(srv.requests()); n != c.callbacks {
				t.Errorf("%d callbacks, want %d", n, c.callbacks)
			}
			s := app.WaitSession(1, time.Second)
			if s == nil {
				t.Fatal("no stream")
			}
			if p := s.Start.CustomParameters; p["order"] != "A-1001" || p["fallback"] != "" || (!c.kill && p["priority"] != "2") {
				t.Errorf("customParameters %v", p)
			}
			se := streamEvents(h.events(call.ID))
			if len(se) != 1 || !strings.Contains("closed failed", se[0][dialtone.DetailStreamEnd]) {
				t.Errorf("stream events %v", se)
			}
		})
	}
}

// TestStreamForkClickToDial: the account's fork of click-to-dial calls
// streams both parties as two tracks, the callee's as inbound; it is
// listen-only (the call goes on as without it) and ends with the call.
func TestStreamForkClickToDial(t *testing.T) {
	const caller, callee = "13800000031", "13800000032"
	h, rl := streamHarness(t, map[string]sim.Behavior{
		caller: {Result: sim.ResultAnswer, AnswerAfter: 200 * time.Millisecond},
		callee: {Result: sim.ResultAnswer, AnswerAfter: 200 * time.Millisecond, Hello: "hello there", HangupAfter: 3 * time.Second},
	})
	app := streamtest.Start(streamtest.Config{Lead: -1, Script: func(ctx context.Context, s *streamtest.Session) {
		// Whatever a fork's application sends is ignored.
		_ = s.Stream.WriteAudio(ctx, sineWave(500*time.Millisecond, 300, 8000))
	}})
	defer app.Close()
	plan := &dialtone.CallPlan{Fork: &dialtone.StreamPlan{URL: app.URL, Trusted: true}}
	c := h.startC2D(caller, callee, plan)
	got := h.ended(c.ID)
	if got.StatusCode != dialtone.StatusCompleted {
		t.Fatalf("ended %s %q", got.StatusCode, got.Reason)
	}
	s := app.WaitSession(1, time.Second)
	if s == nil {
		t.Fatal("no fork")
	}
	if tr := strings.Join(s.Start.Tracks, ","); tr != "inbound,outbound" {
		t.Errorf("tracks %s", tr)
	}
	if !s.Wait(2*time.Second, (*streamtest.Session).Stopped) {
		t.Error("no stop at the end of the call")
	}
	in, out := s.PCM("inbound"), s.PCM("outbound")
	if len(in) < 2*8000 || len(out) < 2*8000 {
		t.Errorf("tracks of %d and %d samples for a call of about 3 s", len(in), len(out))
	}
	if !streamtest.Loud(in, 300) || streamtest.Loud(out, 300) {
		t.Errorf("the callee's hello is not on inbound alone")
	}
	se := streamEvents(h.events(c.ID))
	if len(se) != 1 || se[0][dialtone.DetailStreamRole] != "fork" || se[0][dialtone.DetailStreamEnd] != "stopped" {
		t.Fatalf("stream events %v", se)
	}
	if vr := rl.voiceReport(t, c.ID); vr["stream_role"] != "fork" || vr["stream_end"] != "stopped" {
		t.Errorf("VoiceReport %v", vr)
	}
}

// TestStreamCap: past the account's cap a stream is not opened; the
// SmartCall follows its fallback with the reason recorded.
func TestStreamCap(t *testing.T) {
	const callee = "13800000023"
	h, _ := streamHarness(t, map[string]sim.Behavior{callee: {Result: sim.ResultAnswer, AnswerAfter: 200 * time.Millisecond}},
		func(c *Config) { c.StreamsPerAccount = 1 })
	release, ok := h.eng.takeStream(testAccount)
	if !ok {
		t.Fatal("first slot refused")
	}
	defer release()
	app := streamtest.Start(streamtest.Config{Lead: -1})
	defer app.Close()
	plan := smartPlan("", "您好")
	plan.Smart.CallbackURL = ""
	plan.Stream = &dialtone.StreamPlan{URL: app.URL, Trusted: true}
	c := h.start(dialtone.KindSmartCall, callee, plan)
	got := h.ended(c.ID)
	if !strings.Contains(got.Reason, "concurrent streams are at their cap") {
		t.Errorf("reason %q", got.Reason)
	}
	se := streamEvents(h.events(c.ID))
	if len(se) != 1 || se[0][dialtone.DetailStreamEnd] != "busy" {
		t.Errorf("stream events %v", se)
	}
	if n := len(app.Sessions()); n != 0 {
		t.Errorf("%d streams opened over the cap", n)
	}
	if n := h.eng.Streams(testAccount); n != 1 {
		t.Errorf("%d slots held", n)
	}
}

// sineWave is d of a sine at freq Hz, amplitude amp.
func sineWave(d time.Duration, freq, amp float64) []int16 {
	n := int(d * 8000 / time.Second)
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(amp * math.Sin(2*math.Pi*freq*float64(i)/8000))
	}
	return out
}
