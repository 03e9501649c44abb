package detect

import (
	"fmt"
	"math"
	"testing"
	"time"
)

func feedBeeps(tb testing.TB, cfg BeepConfig, audio []int16) []Beep {
	tb.Helper()
	d, err := NewBeepDetector(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	var out []Beep
	for i := 0; i < len(audio); i += FrameSamples {
		out = append(out, d.Write(audio[i:min(i+FrameSamples, len(audio))], t0.Add(sampleDur(i)))...)
	}
	return out
}

// Beeps across the range of frequencies and lengths are found, with their
// frequency and length, just after they end.
func TestBeepDetector(t *testing.T) {
	for _, f := range []float64{400, 440, 700, 1000, 1333, 1800, 2000} {
		for _, d := range []time.Duration{100 * ms, 150 * ms, 500 * ms, 1000 * ms} {
			t.Run(fmt.Sprintf("%gHz/%v", f, d), func(t *testing.T) {
				start := 700 * ms
				audio := concat(silence(start), sine(f, d, -18), silence(time.Second))
				audio = mulaw(mix(audio, noise(3*time.Second, -50, 2)))
				beeps := feedBeeps(t, BeepConfig{}, audio)
				if len(beeps) != 1 {
					t.Fatalf("found %v", beeps)
				}
				b := beeps[0]
				if math.Abs(b.Freq-f) > 10 {
					t.Errorf("frequency %.1f", b.Freq)
				}
				if e := b.Duration() - d; e < -40*ms || e > 40*ms {
					t.Errorf("length %v", b.Duration())
				}
				if e := b.Start.Sub(t0) - start; e < -40*ms || e > 40*ms {
					t.Errorf("start %v", b.Start.Sub(t0))
				}
				if late := b.At.Sub(t0) - (start + d); late < 0 || late > 140*ms {
					t.Errorf("reported %v after it ended", late)
				}
			})
		}
	}
}

func TestBeepDetectorRejects(t *testing.T) {
	cases := map[string][]int16{
		"too short (60 ms)":     concat(silence(500*ms), sine(1000, 60*ms, -18), silence(time.Second)),
		"too long (1.6 s)":      concat(silence(500*ms), sine(1000, 1600*ms, -18), silence(time.Second)),
		"too low (300 Hz)":      concat(silence(500*ms), sine(300, 500*ms, -18), silence(time.Second)),
		"too high (2200 Hz)":    concat(silence(500*ms), sine(2200, 500*ms, -18), silence(time.Second)),
		"too quiet (-55 dBFS)":  concat(silence(500*ms), sine(1000, 500*ms, -55), silence(time.Second)),
		"two tones at once":     concat(silence(500*ms), mix(sine(800, 500*ms, -20), sine(1200, 500*ms, -20)), silence(time.Second)),
		"white noise":           noise(3*time.Second, -25, 9),
		"a sequence (SIT)":      concat(silence(500*ms), sine(950, 330*ms, -18), sine(1400, 330*ms, -18), sine(1800, 330*ms, -18), silence(time.Second)),
		"a glide (800-1400 Hz)": concat(silence(500*ms), glide(800, 1400, 600*ms), silence(time.Second)),
	}
	needESpeak(t)
	cases["English speech"] = speak(t, "Hello? Yes, hello, who is calling please? Ooh, hmm.", "en-us+f3")
	cases["Mandarin speech"] = speak(t, "喂，你好，哪位？我听不清楚。", "cmn-latn-pinyin")
	for name, audio := range cases {
		t.Run(name, func(t *testing.T) {
			if got := feedBeeps(t, BeepConfig{}, alaw(audio)); len(got) != 0 {
				t.Errorf("found %v", got)
			}
		})
	}
}

// glide is a tone sweeping from f0 to f1.
func glide(f0, f1 float64, d time.Duration) []int16 {
	n := samples(d)
	out := make([]int16, n)
	var ph float64
	a := math.Sqrt2 * 32768 * math.Pow(10, -18.0/20)
	for i := range out {
		f := f0 + (f1-f0)*float64(i)/float64(n)
		ph += 2 * math.Pi * f / Rate
		out[i] = clip(a * math.Sin(ph))
	}
	return out
}

func TestBeepConfig(t *testing.T) {
	if err := (BeepConfig{}).Validate(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []BeepConfig{
		{MinFreq: 100}, {MaxFreq: 3500}, {MinFreq: 1500, MaxFreq: 1000},
		{MinDur: 20 * ms}, {MinDur: time.Second, MaxDur: 500 * ms}, {MaxDur: time.Minute},
		{Purity: 0.1}, {Purity: 2}, {MinLevel: 1}, {MinLevel: -100},
	} {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v accepted", c)
		}
		if _, err := NewBeepDetector(c); err == nil {
			t.Errorf("NewBeepDetector(%+v) accepted", c)
		}
	}
	// A narrower range is honoured.
	audio := concat(silence(500*ms), sine(600, 400*ms, -18), silence(time.Second))
	if got := feedBeeps(t, BeepConfig{MinFreq: 900, MaxFreq: 1100}, audio); len(got) != 0 {
		t.Errorf("600 Hz with a 900-1100 Hz range: %v", got)
	}
}
