package detect

import (
	"fmt"
	"testing"
	"time"
)

// confirmWithin is how long each tone may take to confirm: its cadence's
// confirming segments, plus a little.
func confirmWithin(p Pattern) time.Duration {
	if p.continuous {
		return p.Cadence[0].Dur + 200*ms
	}
	var d time.Duration
	for i := range p.confirm {
		d += p.Cadence[i%len(p.Cadence)].Dur
	}
	return d + 300*ms
}

// Every pattern of the table, synthesised clean, with line noise and
// through both G.711 laws, is recognised as itself, once, within its
// cadence's time.
func TestToneDetectorEveryPattern(t *testing.T) {
	for _, p := range Patterns() {
		for _, variant := range []string{"clean", "noise", "alaw", "mulaw-quiet"} {
			t.Run(fmt.Sprintf("%s/%s/%s", p.Plan, p.Kind, variant), func(t *testing.T) {
				d := confirmWithin(p) + time.Second
				audio := concat(silence(300*ms), p.Synthesize(d, -16))
				switch variant {
				case "noise":
					audio = mix(audio, noise(d+time.Second, -40, 1))
				case "alaw":
					audio = alaw(audio)
				case "mulaw-quiet":
					audio = mulaw(concat(silence(300*ms), p.Synthesize(d, -30)))
				}
				tones := feedTones(t, ToneConfig{}, audio)
				if len(tones) == 0 {
					t.Fatalf("nothing recognised")
				}
				got := tones[0]
				if got.Kind != p.Kind || got.Plan != p.Plan {
					t.Fatalf("first tone %v, want %s %s (all: %v)", got, p.Kind, p.Plan, tones)
				}
				for _, o := range tones[1:] {
					if o.Kind != p.Kind {
						t.Errorf("then %v", o)
					}
				}
				if took := got.At.Sub(t0.Add(300 * ms)); took > confirmWithin(p) {
					t.Errorf("confirmed %v after the tone began, want within %v", took, confirmWithin(p))
				}
				if got.Took() <= 0 || got.Took() > confirmWithin(p) {
					t.Errorf("Took %v", got.Took())
				}
				if f := p.nominalFreq(); got.Freq < f-60 || got.Freq > f+60 && p.Kind != ToneSIT {
					t.Errorf("measured %.1f Hz, nominal %.0f", got.Freq, f)
				}
			})
		}
	}
}

// sitVariant is a special information tone of given frequencies and
// segment lengths, with the second of silence after it.
func sitVariant(freqs [3]float64, durs [3]time.Duration) []int16 {
	var out []int16
	for range 3 {
		for i, f := range freqs {
			out = append(out, sine(f, durs[i], -18)...)
		}
		out = append(out, silence(time.Second)...)
	}
	return out
}

// reversing is a 2100 Hz tone whose phase reverses every 450 ms (V.25),
// at freq.
func reversing(freq float64, d time.Duration) []int16 {
	s := sine(freq, d, -15)
	every := samples(450 * ms)
	for i := range s {
		if (i/every)%2 == 1 {
			s[i] = -s[i]
		}
	}
	return s
}

// Tones a little off their nominal frequency and cadence, as real
// equipment sends them, are still recognised as what they are.
func TestToneDetectorOffNominal(t *testing.T) {
	cnBusy, _ := FindPattern(ToneBusy, PlanChina)
	cases := []struct {
		name  string
		audio []int16
		kind  ToneKind
		plan  string
	}{
		{"China busy at 455 Hz", func() []int16 {
			var s []int16
			for range 5 {
				s = concat(s, sine(455, 330*ms, -20), silence(370*ms))
			}
			return s
		}(), ToneBusy, PlanChina},
		{"China busy at the table's level in noise", mix(cnBusy.Synthesize(4*time.Second, -25), noise(4*time.Second, -45, 3)), ToneBusy, PlanChina},
		{"SIT, T1.401 low frequencies, short segments", sitVariant([3]float64{913.8, 1370.6, 1776.7}, [3]time.Duration{274 * ms, 274 * ms, 380 * ms}), ToneSIT, PlanITU},
		{"SIT, T1.401 high frequencies, long segments", sitVariant([3]float64{985.2, 1428.5, 1776.7}, [3]time.Duration{380 * ms, 380 * ms, 380 * ms}), ToneSIT, PlanITU},
		{"CED 12 Hz low", sine(2088, 3*time.Second, -15), ToneFaxCED, PlanFax},
		{"CED 12 Hz high", sine(2112, 3*time.Second, -15), ToneFaxCED, PlanFax},
		{"V.25 ANS 10 Hz high", reversing(2110, 3*time.Second), ToneModem, PlanModem},
		{"V.25 ANS 10 Hz low", reversing(2090, 3*time.Second), ToneModem, PlanModem},
		{"CNG 30 Hz high", func() []int16 {
			var s []int16
			for range 3 {
				s = concat(s, sine(1130, 520*ms, -20), silence(2900*ms))
			}
			return s
		}(), ToneFaxCNG, PlanFax},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tones := feedTones(t, ToneConfig{}, mulaw(c.audio))
			if len(tones) == 0 || tones[0].Kind != c.kind || tones[0].Plan != c.plan {
				t.Fatalf("got %v, want %s (%s)", tones, c.kind, c.plan)
			}
		})
	}
}

// Speech, noise, a lone beep and silence are not call-progress tones.
func TestToneDetectorIgnoresSpeechAndNoise(t *testing.T) {
	cases := map[string][]int16{
		"silence":          silence(5 * time.Second),
		"white noise":      noise(5*time.Second, -30, 1),
		"one 1 kHz beep":   concat(silence(time.Second), sine(1000, 500*ms, -15), silence(4*time.Second)),
		"one 450 Hz burst": concat(silence(time.Second), sine(450, 350*ms, -15), silence(4*time.Second)),
		"full-scale square": func() []int16 {
			s := make([]int16, samples(3*time.Second))
			for i := range s {
				if i%40 < 20 {
					s[i] = 32767
				} else {
					s[i] = -32768
				}
			}
			return s
		}(),
	}
	needESpeak(t)
	cases["English"] = concat(speak(t, "Hi, you have reached the voicemail of John Smith. Please leave a message after the tone.", "en-us"), speak(t, "Hello? Who is this?", "en-gb+f3"))
	cases["Mandarin"] = concat(speak(t, "您好，您拨打的用户暂时无法接听，请在提示音后留言。", "cmn-latn-pinyin"), speak(t, "喂，你好，哪位？", "cmn-latn-pinyin+f3"))
	for name, audio := range cases {
		t.Run(name, func(t *testing.T) {
			if tones := feedTones(t, ToneConfig{}, alaw(audio)); len(tones) > 0 {
				t.Errorf("recognised %v", tones)
			}
		})
	}
}

// A tone that goes on is reported once; one that stops and comes back is
// reported again.
func TestToneDetectorReportsOncePerEpisode(t *testing.T) {
	busy, _ := FindPattern(ToneBusy, PlanChina)
	if got := feedTones(t, ToneConfig{}, busy.Synthesize(12*time.Second, -15)); len(got) != 1 {
		t.Errorf("12 s of busy tone: %v, want one report", got)
	}
	dial, _ := FindPattern(ToneDial, PlanChina)
	if got := feedTones(t, ToneConfig{}, dial.Synthesize(10*time.Second, -15)); len(got) != 1 {
		t.Errorf("10 s of dial tone: %v, want one report", got)
	}
	twice := concat(busy.Synthesize(3*time.Second, -15), silence(5*time.Second), busy.Synthesize(3*time.Second, -15))
	got := feedTones(t, ToneConfig{}, twice)
	if len(got) != 2 || got[0].Kind != ToneBusy || got[1].Kind != ToneBusy {
		t.Fatalf("busy, silence, busy: %v", got)
	}
	if d := got[1].Start.Sub(t0); d < 8*time.Second-100*ms || d > 8*time.Second+100*ms {
		t.Errorf("second episode starts at %v, want 8s", d)
	}
	// Busy then ringback: each reported.
	ring, _ := FindPattern(ToneRingback, PlanChina)
	got = feedTones(t, ToneConfig{}, concat(ring.Synthesize(10*time.Second, -15), busy.Synthesize(3*time.Second, -15)))
	if len(got) != 2 || got[0].Kind != ToneRingback || got[1].Kind != ToneBusy {
		t.Errorf("ringback then busy: %v", got)
	}
}

// Audio in pieces of any size, or with a packet lost now and then, is
// recognised as in whole frames.
func TestToneDetectorChunksAndLoss(t *testing.T) {
	cong, _ := FindPattern(ToneCongestion, PlanChina)
	audio := cong.Synthesize(6*time.Second, -15)
	want := feedTones(t, ToneConfig{}, audio)
	if len(want) != 1 {
		t.Fatalf("whole frames: %v", want)
	}
	for _, size := range []int{1, 7, 80, 161, 1000, 8000} {
		d, _ := NewToneDetector(ToneConfig{})
		var got []Tone
		for i := 0; i < len(audio); i += size {
			got = append(got, d.Write(audio[i:min(i+size, len(audio))], t0.Add(sampleDur(i)))...)
		}
		if len(got) != 1 || got[0].Kind != want[0].Kind || !got[0].At.Equal(want[0].At) {
			t.Errorf("pieces of %d samples: %v, want %v", size, got, want)
		}
	}
	// One packet in fifty lost (its time skipped): the same tone.
	d, _ := NewToneDetector(ToneConfig{})
	var got []Tone
	for i, n := 0, 0; i < len(audio); i, n = i+FrameSamples, n+1 {
		if n%50 == 49 {
			continue
		}
		got = append(got, d.Write(audio[i:min(i+FrameSamples, len(audio))], t0.Add(sampleDur(i)))...)
	}
	if len(got) != 1 || got[0].Kind != ToneCongestion {
		t.Errorf("with lost packets: %v", got)
	}
}

func TestToneConfig(t *testing.T) {
	if err := DefaultToneConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []ToneConfig{{MinLevel: 5}, {MinLevel: -200}, {Purity: 0.1}, {Purity: 1.5}, {Plans: []string{"XX"}}} {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v accepted", c)
		}
		if _, err := NewToneDetector(c); err == nil {
			t.Errorf("NewToneDetector(%+v) accepted", c)
		}
	}
	// Plans limit what is recognised: Europe's busy tone is nothing to a
	// detector of China's plan.
	eu, _ := FindPattern(ToneBusy, PlanEurope)
	if got := feedTones(t, ToneConfig{Plans: []string{PlanChina}}, eu.Synthesize(5*time.Second, -15)); len(got) != 0 {
		t.Errorf("China's plan only: %v", got)
	}
	if _, ok := FindPattern(ToneBusy, "XX"); ok {
		t.Error("FindPattern found a busy tone in plan XX")
	}
	// Patterns returns copies.
	ps := Patterns()
	ps[0].Cadence[0].Dur = time.Hour
	if Patterns()[0].Cadence[0].Dur == time.Hour {
		t.Error("Patterns shares the table")
	}
}
