package detect

import (
	"math"
	"testing"
	"time"
)

// A tone on a filter's frequency measures its full power there and
// nothing on the filters a whole number of bins away; Power2 halves the
// bandwidth.
func TestBankPowerAndOrthogonality(t *testing.T) {
	b, err := NewBank(400, 450, 500, 425, 1000)
	if err != nil {
		t.Fatal(err)
	}
	f := sine(450, 20*ms, -10)
	b.Analyze(f)
	want := math.Pow(10, -10.0/10) * 32768 * 32768
	if p := b.Power(1); math.Abs(p/want-1) > 0.01 {
		t.Errorf("power at 450 Hz %g, want %g", p, want)
	}
	if r := b.Ratio(1); r < 0.99 {
		t.Errorf("ratio at 450 Hz %.3f", r)
	}
	for _, i := range []int{0, 2, 4} {
		if r := b.Ratio(i); r > 0.001 {
			t.Errorf("%g Hz sees %.4f of a 450 Hz tone", b.Freqs()[i], r)
		}
	}
	// 425 Hz is half a bin from 450 over 20 ms (sinc² ≈ 0.405) and a
	// whole bin over 40 ms (≈ 0).
	if r := b.Ratio(3); math.Abs(r-0.405) > 0.03 {
		t.Errorf("425 Hz over 20 ms sees %.3f of a 450 Hz tone, want ≈0.405", r)
	}
	b.Analyze(sine(450, 40*ms, -10)[FrameSamples:])
	if r := b.Ratio2(3); r > 0.01 {
		t.Errorf("425 Hz over 40 ms sees %.3f of a 450 Hz tone", r)
	}
	if r := b.Ratio2(1); r < 0.99 {
		t.Errorf("450 Hz over 40 ms: %.3f", r)
	}
	// Silence and an empty frame measure nothing, without NaNs.
	b.Analyze(make([]int16, FrameSamples))
	b.Analyze(nil)
	for i := range b.Len() {
		if b.Ratio(i) != 0 || b.Ratio2(i) != 0 || math.IsNaN(b.Phase(i)) {
			t.Errorf("silence: ratio %g, ratio2 %g, phase %g", b.Ratio(i), b.Ratio2(i), b.Phase(i))
		}
	}
}

// The phase of a steady tone is the same in consecutive frames when the
// frame holds whole periods, and turns by π when the tone reverses.
func TestBankPhase(t *testing.T) {
	b, _ := NewBank(2100)
	s := sine(2100, 60*ms, -10)
	b.Analyze(s[:FrameSamples])
	p0 := b.Phase(0)
	b.Analyze(s[FrameSamples : 2*FrameSamples])
	if d := math.Abs(wrap(b.Phase(0) - p0)); d > 0.01 {
		t.Errorf("phase moved %.3f rad between frames", d)
	}
	inv := make([]int16, FrameSamples)
	for i, v := range s[2*FrameSamples:] {
		inv[i] = -v
	}
	b.Analyze(inv)
	if d := math.Abs(wrap(b.Phase(0) - p0)); math.Abs(d-math.Pi) > 0.01 {
		t.Errorf("reversed tone's phase moved %.3f rad, want π", d)
	}
}

func TestNewBankRejects(t *testing.T) {
	for _, freqs := range [][]float64{nil, {0}, {-5}, {4000}, {math.NaN()}, make([]float64, MaxBankFreqs+1)} {
		if _, err := NewBank(freqs...); err == nil {
			t.Errorf("NewBank(%v) accepted", freqs)
		}
	}
}

// BenchmarkBankFrame is the cost of the detectors' analysis of one 20 ms
// frame (the grid of 82 filters).
func BenchmarkBankFrame(b *testing.B) {
	a, err := newAnalyzer()
	if err != nil {
		b.Fatal(err)
	}
	f := mix(sine(1000, 20*ms, -20), noise(20*ms, -40, 1))
	t := t0
	for b.Loop() {
		a.analyze(f, t, -45, 0.7)
		t = t.Add(20 * time.Millisecond)
	}
}
