package detect

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// runAMD feeds audio to a detector answered at t0 in pieces of size
// samples, then closes it at the end of the audio.
func runAMD(tb testing.TB, cfg Config, audio []int16, size int) []Result {
	tb.Helper()
	d, err := NewAMD(cfg, t0)
	if err != nil {
		tb.Fatal(err)
	}
	var out []Result
	for i := 0; i < len(audio); i += size {
		out = append(out, d.Write(audio[i:min(i+size, len(audio))], t0.Add(sampleDur(i)))...)
	}
	out = append(out, d.Close(t0.Add(sampleDur(len(audio))))...)
	if !d.Done() {
		tb.Error("not done after Close")
	}
	checkResults(tb, out)
	return out
}

// checkResults holds for every run: verdicts in time order, the last one
// and only it final, at most a MachineStart before it.
func checkResults(tb testing.TB, rs []Result) {
	tb.Helper()
	if len(rs) == 0 || len(rs) > 2 {
		tb.Fatalf("%d results: %v", len(rs), rs)
	}
	for i, r := range rs {
		if r.Final != (i == len(rs)-1) {
			tb.Errorf("result %d of %d final=%v: %v", i+1, len(rs), r.Final, rs)
		}
		if r.After < 0 || !r.At.Equal(t0.Add(r.After)) {
			tb.Errorf("result %v: At %v After %v", r, r.At, r.After)
		}
		if i > 0 && (r.At.Before(rs[i-1].At) || rs[i-1].AnsweredBy != MachineStart) {
			tb.Errorf("results out of order: %v", rs)
		}
		if r.Reason == "" {
			tb.Errorf("no reason: %v", r)
		}
	}
}

// voicedBounds is the extent of speech: from the first to the last sample
// louder than 2% of the peak.
func voicedBounds(s []int16) (first, last time.Duration) {
	var peak int
	for _, v := range s {
		peak = max(peak, int(v), -int(v))
	}
	f, l := -1, -1
	for i, v := range s {
		if a := max(int(v), -int(v)); a > peak/50 {
			if f < 0 {
				f = i
			}
			l = i
		}
	}
	return sampleDur(max(f, 0)), sampleDur(max(l, 0))
}

// line is what the callee's audio is like by the time it reaches us.
func line(s []int16) []int16 { return mulaw(mix(s, noise(sampleDur(len(s)), -55, 5))) }

var allModes = []Mode{ModeDetect, ModeHangup, ModeMessage}

const (
	longGreetingEN = "Hi, you have reached the voicemail of John Smith. I am not available to take your call right now. Please leave your name and number after the tone."
	longGreetingZH = "您好，这里是张伟的语音信箱。我现在不方便接听电话，请在提示音后留言，我会尽快给您回电。"
)

func TestAMDHuman(t *testing.T) {
	for _, h := range []struct{ text, voice string }{
		{"Hello?", "en-us"}, {"Yes?", "en-gb+f3"}, {"Hello, who's this?", "en-us+m3"},
		{"喂，你好。", "cmn-latn-pinyin"}, {"哪位？", "cmn-latn-pinyin+f3"},
	} {
		for _, mode := range allModes {
			t.Run(fmt.Sprintf("%s/%s/%s", h.text, h.voice, mode), func(t *testing.T) {
				hello := speak(t, h.text, h.voice)
				audio := line(concat(silence(400*ms), scaleTo(hello, -20), silence(4*time.Second)))
				rs := runAMD(t, Config{Mode: mode}, audio, FrameSamples)
				if len(rs) != 1 || rs[0].AnsweredBy != Human {
					t.Fatalf("got %v", rs)
				}
				_, last := voicedBounds(hello)
				end := 400*ms + last
				if after := rs[0].After; after < end+DefaultAfterGreetingSilence-100*ms || after > end+DefaultAfterGreetingSilence+300*ms {
					t.Errorf("decided after %v; the voice ended at %v", after, end)
				}
				if rs[0].Greeting <= 0 || rs[0].Greeting > DefaultGreeting || rs[0].Segments < 1 {
					t.Errorf("greeting %v in %d segments", rs[0].Greeting, rs[0].Segments)
				}
			})
		}
	}
}

// A long greeting is a machine's once it outlasts Greeting; in modes
// detect and hangup that is the final verdict.
func TestAMDMachineStart(t *testing.T) {
	for _, g := range []struct{ text, voice string }{{longGreetingEN, "en-us"}, {longGreetingZH, "cmn-latn-pinyin+f2"}} {
		for _, mode := range []Mode{ModeDetect, ModeHangup} {
			t.Run(g.voice+"/"+string(mode), func(t *testing.T) {
				greeting := speak(t, g.text, g.voice)
				audio := line(concat(silence(300*ms), scaleTo(greeting, -18), silence(3*time.Second)))
				rs := runAMD(t, Config{Mode: mode}, audio, FrameSamples)
				if len(rs) != 1 || rs[0].AnsweredBy != MachineStart || !rs[0].AnsweredBy.Machine() {
					t.Fatalf("got %v", rs)
				}
				first, _ := voicedBounds(greeting)
				start := 300*ms + first
				if after := rs[0].After; after < start+DefaultGreeting || after > start+DefaultGreeting+400*ms {
					t.Errorf("decided after %v; the greeting began at %v", after, start)
				}
			})
		}
	}
}

// Mode message waits for the beep and reports it as soon as it ends.
func TestAMDMessageBeep(t *testing.T) {
	for _, g := range []struct{ text, voice string }{{longGreetingEN, "en-gb"}, {longGreetingZH, "cmn-latn-pinyin"}} {
		t.Run(g.voice, func(t *testing.T) {
			greeting := speak(t, g.text, g.voice)
			lead := concat(silence(300*ms), scaleTo(greeting, -18), silence(400*ms))
			beepEnd := sampleDur(len(lead)) + 500*ms
			audio := line(concat(lead, sine(1000, 500*ms, -16), silence(3*time.Second)))
			rs := runAMD(t, Config{Mode: ModeMessage}, audio, FrameSamples)
			if len(rs) != 2 || rs[0].AnsweredBy != MachineStart || rs[1].AnsweredBy != MachineEndBeep {
				t.Fatalf("got %v", rs)
			}
			b := rs[1].Beep
			if b == nil || b.Freq < 990 || b.Freq > 1010 {
				t.Fatalf("beep %+v", b)
			}
			if late := rs[1].After - beepEnd; late < 0 || late > 160*ms {
				t.Errorf("machine_end_beep %v after the beep ended", late)
			}
		})
	}
}

// A beep at 400–475 Hz, where China's and Europe's network tones sound,
// is taken once no second burst has followed it for a second.
func TestAMDBeepInNetworkBand(t *testing.T) {
	greeting := scaleTo(speak(t, longGreetingZH, "cmn-latn-pinyin+f3"), -18)
	lead := concat(silence(300*ms), greeting, silence(500*ms))
	beepEnd := sampleDur(len(lead)) + 600*ms
	rs := runAMD(t, Config{Mode: ModeMessage}, line(concat(lead, sine(440, 600*ms, -16), silence(3*time.Second))), FrameSamples)
	if len(rs) != 2 || rs[1].AnsweredBy != MachineEndBeep {
		t.Fatalf("got %v", rs)
	}
	if d := rs[1].After - beepEnd; d < networkToneHold || d > networkToneHold+200*ms {
		t.Errorf("machine_end_beep %v after the beep ended", d)
	}
}

// Without a beep, mode message ends the greeting after EndSilence.
func TestAMDMessageSilence(t *testing.T) {
	greeting := speak(t, longGreetingEN, "en-us+f3")
	_, last := voicedBounds(greeting)
	audio := line(concat(silence(300*ms), scaleTo(greeting, -18), silence(5*time.Second)))
	rs := runAMD(t, Config{Mode: ModeMessage}, audio, FrameSamples)
	if len(rs) != 2 || rs[0].AnsweredBy != MachineStart || rs[1].AnsweredBy != MachineEndSilence {
		t.Fatalf("got %v", rs)
	}
	end := 300*ms + last
	if d := rs[1].After - end; d < DefaultEndSilence-100*ms || d > DefaultEndSilence+300*ms {
		t.Errorf("machine_end_silence %v after the greeting ended", d)
	}
	if rs[1].Greeting < end-400*ms-300*ms {
		t.Errorf("greeting %v, ended at %v", rs[1].Greeting, end)
	}
	// A message timeout shorter than the greeting gives a final
	// machine_start.
	rs = runAMD(t, Config{Mode: ModeMessage, MessageTimeout: 5 * time.Second}, audio, FrameSamples)
	if len(rs) != 2 || rs[1].AnsweredBy != MachineStart || rs[1].After != 5*time.Second {
		t.Errorf("with a 5 s timeout: %v", rs)
	}
}

// A mailbox that answers with its beep alone: machine_end_beep in every
// mode.
func TestAMDBeepWithoutGreeting(t *testing.T) {
	for _, mode := range allModes {
		audio := line(concat(silence(500*ms), sine(800, 300*ms, -16), silence(4*time.Second)))
		rs := runAMD(t, Config{Mode: mode}, audio, FrameSamples)
		if len(rs) != 1 || rs[0].AnsweredBy != MachineEndBeep || rs[0].Beep == nil {
			t.Fatalf("%s: got %v", mode, rs)
		}
		if rs[0].After > 900*ms {
			t.Errorf("%s: decided after %v", mode, rs[0].After)
		}
	}
}

func TestAMDFax(t *testing.T) {
	ced, _ := FindPattern(ToneFaxCED, PlanFax)
	v21, _ := FindPattern(ToneFaxV21, PlanFax)
	var ans Pattern
	for _, p := range Patterns() {
		if p.Kind == ToneModem && p.Cadence[0].Reversal > 0 {
			ans = p
		}
	}
	for name, c := range map[string]struct {
		audio []int16
		kind  ToneKind
	}{
		"CED then V.21": {concat(silence(200*ms), ced.Synthesize(3*time.Second, -14), silence(75*ms), v21.Synthesize(time.Second, -14)), ToneFaxCED},
		"V.21 only":     {concat(silence(200*ms), v21.Synthesize(2*time.Second, -14)), ToneFaxV21},
		"modem":         {concat(silence(200*ms), ans.Synthesize(3*time.Second, -14)), ToneModem},
	} {
		t.Run(name, func(t *testing.T) {
			rs := runAMD(t, Config{Mode: ModeMessage}, line(concat(c.audio, silence(2*time.Second))), FrameSamples)
			if len(rs) != 1 || rs[0].AnsweredBy != Fax || rs[0].Tone == nil || rs[0].Tone.Kind != c.kind {
				t.Fatalf("got %v", rs)
			}
			if rs[0].After > 1500*ms {
				t.Errorf("decided after %v", rs[0].After)
			}
		})
	}
}

func TestAMDUnknown(t *testing.T) {
	busy, _ := FindPattern(ToneBusy, PlanChina)
	cong, _ := FindPattern(ToneCongestion, PlanChina)
	cnSIT, _ := FindPattern(ToneSIT, PlanChina)
	sit, _ := FindPattern(ToneSIT, PlanITU)
	euBusy, _ := FindPattern(ToneBusy, PlanEurope)
	naBusy, _ := FindPattern(ToneBusy, PlanNorthAmerica)
	for name, c := range map[string]struct {
		audio []int16
		after time.Duration // 0: any
		tone  ToneKind
	}{
		"silence":        {silence(8 * time.Second), DefaultInitialSilence, ""},
		"noise -50 dBFS": {noise(8*time.Second, -50, 1), DefaultInitialSilence, ""},
		"noise -35 dBFS": {noise(8*time.Second, -35, 2), DefaultInitialSilence, ""},
		"busy tone":      {busy.Synthesize(6*time.Second, -16), 0, ToneBusy},
		// Congestion's cadence takes 2.7 s to confirm, longer than
		// InitialSilence: unknown, without the tone.
		"China congestion":   {cong.Synthesize(6*time.Second, -16), DefaultInitialSilence, ""},
		"China SIT":          {cnSIT.Synthesize(6*time.Second, -16), 0, ToneSIT},
		"ITU SIT":            {concat(silence(300*ms), sit.Synthesize(6*time.Second, -16)), 0, ToneSIT},
		"Europe busy":        {euBusy.Synthesize(6*time.Second, -16), 0, ToneBusy},
		"North America busy": {naBusy.Synthesize(6*time.Second, -16), 0, ToneBusy},
		"hang-up after 1 s":  {silence(time.Second), time.Second, ""},
		"hum and noise":      {mix(sine(50, 8*time.Second, -30), noise(8*time.Second, -45, 3)), DefaultInitialSilence, ""},
		"loud noise, A-law":  {alaw(noise(8*time.Second, -25, 4)), DefaultInitialSilence, ""},
		"digital A-law zero": {alaw(silence(8 * time.Second)), DefaultInitialSilence, ""},
	} {
		t.Run(name, func(t *testing.T) {
			rs := runAMD(t, Config{Mode: ModeHangup}, c.audio, FrameSamples)
			if len(rs) != 1 || rs[0].AnsweredBy != Unknown {
				t.Fatalf("got %v", rs)
			}
			if c.after > 0 && rs[0].After != c.after {
				t.Errorf("decided after %v, want %v", rs[0].After, c.after)
			}
			if c.tone != "" && (rs[0].Tone == nil || rs[0].Tone.Kind != c.tone) {
				t.Errorf("tone %v, want %s", rs[0].Tone, c.tone)
			}
		})
	}
}

// A person who says a long sentence after a first "hello?" and a pause is
// a person: the pause decides. One who answers with a long sentence
// straight away is taken for a machine: a greeting's length is what tells
// them apart, the limit of every detector that works from timing (and
// why mode hangup is a choice of the account).
func TestAMDHumanLongSentence(t *testing.T) {
	hello := speak(t, "Hello?", "en-us")
	long := speak(t, "Yes, this is John speaking, who is calling please? I can't hear you very well.", "en-us")
	audio := line(concat(silence(500*ms), scaleTo(hello, -20), silence(1200*ms), scaleTo(long, -20), silence(2*time.Second)))
	rs := runAMD(t, Config{Mode: ModeHangup}, audio, FrameSamples)
	if len(rs) != 1 || rs[0].AnsweredBy != Human {
		t.Errorf("hello, pause, long sentence: %v", rs)
	}
	straight := speak(t, "Good afternoon, this is the front desk of the Grand Hotel, how may I help you today?", "en-gb")
	audio = line(concat(silence(500*ms), scaleTo(straight, -20), silence(2*time.Second)))
	rs = runAMD(t, Config{Mode: ModeHangup}, audio, FrameSamples)
	if len(rs) != 1 || rs[0].AnsweredBy != MachineStart {
		t.Errorf("a long sentence at once: %v (the documented limit is machine_start)", rs)
	}
}

// A greeting whose sentences are separated by pauses shorter than
// AfterGreetingSilence is one greeting: a machine, even if its first
// sentence is a short "Hi."
func TestAMDGreetingWithPauses(t *testing.T) {
	var audio []int16
	audio = append(audio, silence(300*ms)...)
	for i, s := range []string{"Hi.", "This is Anna.", "I can't come to the phone.", "Leave a message."} {
		if i > 0 {
			audio = append(audio, silence(650*ms)...)
		}
		audio = append(audio, scaleTo(trimmed(speak(t, s, "en-us+f2")), -20)...)
	}
	audio = line(concat(audio, silence(3*time.Second)))
	rs := runAMD(t, Config{Mode: ModeMessage}, audio, FrameSamples)
	if len(rs) != 2 || rs[0].AnsweredBy != MachineStart || rs[1].AnsweredBy != MachineEndSilence {
		t.Errorf("got %v", rs)
	}
	if rs[0].Segments < 2 {
		t.Errorf("%d segments", rs[0].Segments)
	}
}

// trimmed cuts the silence espeak-ng leaves around speech.
func trimmed(s []int16) []int16 {
	first, last := voicedBounds(s)
	return s[samples(first):samples(last)]
}

// A person speaking under loud line noise is still a person; the noise
// alone is nothing.
func TestAMDHumanInNoise(t *testing.T) {
	hello := scaleTo(speak(t, "Hello?", "en-gb"), -18)
	for _, lv := range []float64{-60, -48, -40} {
		audio := alaw(mix(concat(silence(600*ms), hello, silence(4*time.Second)), noise(6*time.Second, lv, 7)))
		rs := runAMD(t, Config{}, audio, FrameSamples)
		if len(rs) != 1 || rs[0].AnsweredBy != Human {
			t.Errorf("noise %g dBFS: %v", lv, rs)
		}
	}
}

// The verdicts do not depend on how the audio is cut into pieces.
func TestAMDChunking(t *testing.T) {
	greeting := speak(t, longGreetingEN, "en-us")
	audio := line(concat(silence(300*ms), scaleTo(greeting, -18), silence(300*ms), sine(1400, 400*ms, -16), silence(2*time.Second)))
	want := runAMD(t, Config{Mode: ModeMessage}, audio, FrameSamples)
	for _, size := range []int{1, 33, 80, 161, 4000} {
		got := runAMD(t, Config{Mode: ModeMessage}, audio, size)
		if len(got) != len(want) {
			t.Fatalf("pieces of %d: %v, want %v", size, got, want)
		}
		for i := range got {
			if got[i].AnsweredBy != want[i].AnsweredBy || got[i].At.Sub(want[i].At).Abs() > FrameDuration {
				t.Errorf("pieces of %d: %v, want %v", size, got, want)
			}
		}
	}
}

// Audio from before the answer (early media arriving late) is ignored;
// nothing is returned after the final verdict.
func TestAMDLifecycle(t *testing.T) {
	d, err := NewAMD(Config{Mode: ModeDetect}, t0)
	if err != nil {
		t.Fatal(err)
	}
	early := scaleTo(speak(t, longGreetingEN, "en-us"), -18)
	if rs := d.Write(early, t0.Add(-sampleDur(len(early))-time.Second)); rs != nil {
		t.Fatalf("audio before the answer decided %v", rs)
	}
	var rs []Result
	for i := 0; i < samples(3*time.Second); i += FrameSamples {
		rs = append(rs, d.Write(silence(FrameDuration), t0.Add(sampleDur(i)))...)
	}
	if len(rs) != 1 || rs[0].AnsweredBy != Unknown || rs[0].After != DefaultInitialSilence || !d.Done() {
		t.Fatalf("got %v", rs)
	}
	if more := d.Write(early, t0.Add(3*time.Second)); more != nil {
		t.Errorf("after the final verdict: %v", more)
	}
	if more := d.Close(t0.Add(5 * time.Second)); more != nil {
		t.Errorf("Close after the final verdict: %v", more)
	}
	if all := d.Results(); len(all) != 1 || all[0].AnsweredBy != Unknown {
		t.Errorf("Results %v", all)
	}
	// Closing mid-greeting in mode message gives a final machine_start.
	d, _ = NewAMD(Config{Mode: ModeMessage}, t0)
	var got []Result
	for i := 0; i < samples(4*time.Second) && i < len(early); i += FrameSamples {
		got = append(got, d.Write(early[i:i+FrameSamples], t0.Add(sampleDur(i)))...)
	}
	got = append(got, d.Close(t0.Add(4*time.Second))...)
	if len(got) != 2 || got[0].AnsweredBy != MachineStart || got[1].AnsweredBy != MachineStart || !got[1].Final {
		t.Errorf("closed mid-greeting: %v", got)
	}
}

func TestConfig(t *testing.T) {
	def := Defaults()
	if err := def.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := (Config{}).WithDefaults(); fmt.Sprint(got) != fmt.Sprint(def) {
		t.Errorf("zero config with defaults\n%+v\nwant\n%+v", got, def)
	}
	if def.Mode != ModeDetect || def.Greeting != DefaultGreeting || def.Beep.MinFreq != DefaultBeepMinFreq || def.Tone.Purity != DefaultTonePurity {
		t.Errorf("Defaults %+v", def)
	}
	bad := map[string]Config{
		"machine_detection":    {Mode: "sometimes"},
		"InitialSilence":       {InitialSilence: 100 * ms},
		"Greeting":             {Greeting: time.Minute},
		"AfterGreetingSilence": {AfterGreetingSilence: -time.Second},
		"TotalAnalysisTime":    {TotalAnalysisTime: 2 * time.Second},
		"EndSilence":           {EndSilence: time.Minute},
		"MessageTimeout":       {MessageTimeout: time.Second},
		"MinWord":              {MinWord: time.Millisecond},
		"WordGap":              {WordGap: time.Second},
		"MaxSegments":          {MaxSegments: -1},
		"VoiceThreshold":       {VoiceThreshold: 100},
		"MinVoiceLevel":        {MinVoiceLevel: 3},
		"beep":                 {Beep: BeepConfig{MinFreq: 50}},
		"tone":                 {Tone: ToneConfig{Purity: 2}},
	}
	for field, c := range bad {
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("%s: %v", field, err)
		}
		if _, err := NewAMD(c, t0); err == nil {
			t.Errorf("NewAMD accepted a bad %s", field)
		}
	}
	// Every broken rule at once.
	err := Config{Greeting: time.Minute, MaxSegments: -1}.Validate()
	if err == nil || !strings.Contains(err.Error(), "Greeting") || !strings.Contains(err.Error(), "MaxSegments") {
		t.Errorf("two broken rules: %v", err)
	}
	if _, err := NewAMD(Config{Mode: ModeOff}, t0); err == nil {
		t.Error("NewAMD in mode off")
	}
	for in, want := range map[string]Mode{"": ModeOff, "off": ModeOff, "detect": ModeDetect, "hangup": ModeHangup, "message": ModeMessage} {
		if m, err := ParseMode(in); err != nil || m != want {
			t.Errorf("ParseMode(%q) = %q, %v", in, m, err)
		}
	}
	if _, err := ParseMode("Detect"); err == nil {
		t.Error("ParseMode is case-insensitive")
	}
	if d, _ := NewAMD(Config{Mode: ModeMessage}, t0); d.Config().EndSilence != DefaultEndSilence {
		t.Error("Config() without defaults")
	}
	for _, a := range []AnsweredBy{Human, Fax, Unknown} {
		if a.Machine() {
			t.Errorf("%s is a machine", a)
		}
	}
	if !errors.Is(nil, nil) || !MachineEndSilence.Machine() {
		t.Error("machine_end_silence is not a machine")
	}
}
