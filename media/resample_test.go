package media

import (
	"math"
	"testing"
	"time"
)

// sine generates n frames of a tone at freq Hz, amplitude amp, on every
// channel.
func sine(rate, channels int, freq, amp float64, d time.Duration) *PCM {
	n := int(int64(d) * int64(rate) / int64(time.Second))
	p := &PCM{Rate: rate, Channels: channels, Samples: make([]int16, n*channels)}
	for i := range n {
		v := int16(math.Round(amp * math.Sin(2*math.Pi*freq*float64(i)/float64(rate))))
		for c := range channels {
			p.Samples[i*channels+c] = v
		}
	}
	return p
}

// goertzel returns the amplitude of the freq component of x.
func goertzel(x []int16, rate int, freq float64) float64 {
	w := 2 * math.Pi * freq / float64(rate)
	c := 2 * math.Cos(w)
	var s1, s2 float64
	for _, v := range x {
		s := float64(v) + c*s1 - s2
		s2, s1 = s1, s
	}
	power := s1*s1 + s2*s2 - c*s1*s2
	return 2 * math.Sqrt(math.Max(power, 0)) / float64(len(x))
}

func rms(x []int16) float64 {
	if len(x) == 0 {
		return 0
	}
	var s float64
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	return math.Sqrt(s / float64(len(x)))
}

func countZeroCrossings(x []int16) int {
	n := 0
	for i := 1; i < len(x); i++ {
		if (x[i-1] < 0) != (x[i] < 0) {
			n++
		}
	}
	return n
}

func db(ratio float64) float64 { return 20 * math.Log10(ratio) }

func TestToTelephonyKeepsTone(t *testing.T) {
	const amp = 10000
	for _, rate := range []int{8000, 11025, 16000, 22050, 44100, 48000} {
		for _, ch := range []int{1, 2} {
			in := sine(rate, ch, 1000, amp, time.Second)
			a := ToTelephony(in)
			if got, want := a.Duration(), in.Duration(); absDur(got-want) > time.Millisecond {
				t.Errorf("%d Hz x%d: duration %v, want %v", rate, ch, got, want)
			}
			// Skip the filter's edge transients when measuring.
			mid := a.Samples[200 : len(a.Samples)-200]
			if zc := countZeroCrossings(mid); math.Abs(float64(zc)-2000*float64(len(mid))/8000) > 2 {
				t.Errorf("%d Hz x%d: %d zero crossings in %d samples, want ~%v", rate, ch, zc, len(mid), 2000*float64(len(mid))/8000)
			}
			g := goertzel(mid, 8000, 1000)
			if d := db(g / amp); math.Abs(d) > 0.1 {
				t.Errorf("%d Hz x%d: 1 kHz gain %.2f dB, want ~0", rate, ch, d)
			}
		}
	}
}

func TestToTelephonySuppressesAliases(t *testing.T) {
	const amp = 20000
	for _, rate := range []int{16000, 22050, 44100, 48000} {
		for _, freq := range []float64{4500, 6000, 7000} {
			if freq >= float64(rate)/2 {
				continue
			}
			a := ToTelephony(sine(rate, 1, freq, amp, time.Second))
			mid := a.Samples[200 : len(a.Samples)-200]
			// The tone folds to |8000k - freq| for some k; RMS catches
			// it wherever it lands.
			att := db(rms(mid) * math.Sqrt2 / amp)
			if att > -30 {
				t.Errorf("%d Hz: %v Hz tone attenuated only %.1f dB", rate, freq, att)
			}
			t.Logf("%d Hz: %v Hz tone at %.1f dB", rate, freq, att)
		}
	}
}

func TestResamplePassband(t *testing.T) {
	// The telephone band (300–3400 Hz) passes within 1 dB.
	for _, freq := range []float64{300, 2000, 3000, 3300} {
		a := ToTelephony(sine(22050, 1, freq, 10000, time.Second))
		mid := a.Samples[200 : len(a.Samples)-200]
		if d := db(goertzel(mid, 8000, freq) / 10000); d < -1 || d > 0.1 {
			t.Errorf("%v Hz: gain %.2f dB", freq, d)
		}
	}
}

func TestResampleClipsSafely(t *testing.T) {
	// A full-scale square wave overshoots after filtering (Gibbs ripple
	// right after each edge); it must saturate there, not wrap around to
	// the opposite sign.
	const period = 2000 // input samples
	p := &PCM{Rate: 22050, Channels: 1, Samples: make([]int16, 22050)}
	for i := range p.Samples {
		if (i/(period/2))%2 == 0 {
			p.Samples[i] = math.MaxInt16
		} else {
			p.Samples[i] = math.MinInt16
		}
	}
	a := ToTelephony(p)
	var lo, hi int16
	for i, s := range a.Samples {
		lo, hi = min(lo, s), max(hi, s)
		pos := float64(i) * 22050 / 8000 // input position of output i
		phase := math.Mod(pos, period/2)
		if phase < 3 || phase > period/2-3 || pos > 22050-period/2 {
			continue // at an edge, or in the fade-out at the end
		}
		if want := p.Samples[int(pos)]; (s < 0) != (want < 0) || math.Abs(float64(s)) < 25000 {
			t.Fatalf("output %d = %d inside a plateau of %d", i, s, want)
		}
	}
	if lo != math.MinInt16 || hi != math.MaxInt16 {
		t.Errorf("range %d..%d, want saturation at both ends", lo, hi)
	}
}

func TestResampleEdgeCases(t *testing.T) {
	if got := ToTelephony(nil); len(got.Samples) != 0 {
		t.Errorf("nil: %d samples", len(got.Samples))
	}
	if got := ToTelephony(&PCM{Rate: 22050, Channels: 1, Samples: []int16{1}}); len(got.Samples) != 0 {
		t.Errorf("one sample at 22 kHz: %d samples", len(got.Samples))
	}
	// Upsampling works too (for 4–8 kHz sources).
	a := ToTelephony(sine(6000, 1, 1000, 10000, time.Second))
	if len(a.Samples) != 8000 {
		t.Fatalf("6 kHz -> %d samples", len(a.Samples))
	}
	if d := db(goertzel(a.Samples[200:7800], 8000, 1000) / 10000); math.Abs(d) > 0.1 {
		t.Errorf("upsampled 1 kHz gain %.2f dB", d)
	}
	// An odd rate with a large reduced ratio uses quantised phases.
	a = ToTelephony(sine(44101, 1, 1000, 10000, time.Second))
	if d := db(goertzel(a.Samples[200:7800], 8000, 1000) / 10000); math.Abs(d) > 0.1 {
		t.Errorf("44101 Hz: 1 kHz gain %.2f dB", d)
	}
	// Resample is the same filter on a mono slice.
	r := Resample(sine(16000, 1, 1000, 10000, time.Second).Samples, 16000, 8000)
	if len(r) != 8000 {
		t.Errorf("Resample: %d samples", len(r))
	}
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

func BenchmarkResample22050To8000(b *testing.B) {
	p := sine(22050, 1, 1000, 10000, time.Second)
	ToTelephony(p) // build the filter outside the timing
	b.ResetTimer()
	for b.Loop() {
		ToTelephony(p)
	}
}
