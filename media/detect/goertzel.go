package detect

import (
	"errors"
	"fmt"
	"math"
)

// Bank is a Goertzel filter bank: for each of its frequencies it measures
// how much of a frame's energy is a sinusoid at that frequency. Goertzel
// rather than an FFT because the detectors need a few dozen chosen
// frequencies, not a spectrum: each filter costs one multiply and two adds
// per sample (G. Goertzel, "An algorithm for the evaluation of finite
// trigonometric series", Amer. Math. Monthly 65, 1958).
//
// A Bank keeps the complex output of the previous frame, so every Analyze
// also gives the measurement over the last two frames (40 ms, half the
// bandwidth) at no extra cost: the DFT of two consecutive blocks is the sum
// of their DFTs, the second one phase-shifted by its offset.
//
// A Bank is not safe for concurrent use.
type Bank struct {
	freqs []float64
	coef  []float64 // 2·cos ω
	cosw  []float64 // cos ω, sin ω
	sinw  []float64
	// rot is e^{-jω(n-1)} for frames of n samples, which turns the
	// Goertzel state into the DFT referred to the frame's first sample;
	// shift is e^{-jωn}, the phase of a frame that starts n samples later.
	rotN         int
	rotRe, rotIm []float64
	shRe, shIm   []float64

	x []float64 // the frame, DC removed

	re, im         []float64 // this frame's DFT at each frequency
	prevRe, prevIm []float64 // the previous frame's
	n, prevN       int
	total          float64 // this frame's mean square
	prevTotal      float64
	frames         int
}

// MaxBankFreqs bounds the number of filters of a Bank.
const MaxBankFreqs = 256

// NewBank returns a bank measuring freqs (Hz, each strictly between 0 and
// Rate/2).
func NewBank(freqs ...float64) (*Bank, error) {
	if len(freqs) == 0 {
		return nil, errors.New("detect: a filter bank needs at least one frequency")
	}
	if len(freqs) > MaxBankFreqs {
		return nil, fmt.Errorf("detect: %d frequencies exceed %d", len(freqs), MaxBankFreqs)
	}
	b := &Bank{freqs: append([]float64(nil), freqs...)}
	k := len(freqs)
	b.coef, b.cosw, b.sinw = make([]float64, k), make([]float64, k), make([]float64, k)
	b.rotRe, b.rotIm = make([]float64, k), make([]float64, k)
	b.shRe, b.shIm = make([]float64, k), make([]float64, k)
	b.re, b.im = make([]float64, k), make([]float64, k)
	b.prevRe, b.prevIm = make([]float64, k), make([]float64, k)
	for i, f := range freqs {
		if !(f > 0 && f < Rate/2) {
			return nil, fmt.Errorf("detect: frequency %g Hz outside (0, %d)", f, Rate/2)
		}
		w := 2 * math.Pi * f / Rate
		b.cosw[i], b.sinw[i] = math.Cos(w), math.Sin(w)
		b.coef[i] = 2 * b.cosw[i]
	}
	return b, nil
}

// Freqs returns the bank's frequencies, in the order of its indexes.
func (b *Bank) Freqs() []float64 { return append([]float64(nil), b.freqs...) }

// Len is the number of filters.
func (b *Bank) Len() int { return len(b.freqs) }

func (b *Bank) setRotation(n int) {
	if n == b.rotN {
		return
	}
	b.rotN = n
	for i, f := range b.freqs {
		w := 2 * math.Pi * f / Rate
		b.rotRe[i], b.rotIm[i] = math.Cos(w*float64(n-1)), -math.Sin(w*float64(n-1))
		b.shRe[i], b.shIm[i] = math.Cos(w*float64(n)), -math.Sin(w*float64(n))
	}
}

// Analyze measures one frame (any length; an empty frame measures as
// silence). The previous frame's measurement is kept for the two-frame
// figures.
func (b *Bank) Analyze(frame []int16) {
	copy(b.prevRe, b.re)
	copy(b.prevIm, b.im)
	b.prevN, b.prevTotal = b.n, b.total
	b.frames++
	n := len(frame)
	b.n = n
	if n == 0 {
		clear(b.re)
		clear(b.im)
		b.total = 0
		return
	}
	b.setRotation(n)
	if cap(b.x) < n {
		b.x = make([]float64, n)
	}
	x := b.x[:n]
	var mean float64
	for i, v := range frame {
		x[i] = float64(v)
		mean += x[i]
	}
	mean /= float64(n)
	var sq float64
	for i := range x {
		x[i] -= mean
		sq += x[i] * x[i]
	}
	b.total = sq / float64(n)
	// Four filters per pass over the frame: each filter's recursion is a
	// chain of dependent multiply-adds, and four independent chains keep
	// the processor's pipelines full (about three times the speed of one
	// filter at a time).
	k := 0
	for ; k+4 <= len(b.coef); k += 4 {
		c0, c1, c2, c3 := b.coef[k], b.coef[k+1], b.coef[k+2], b.coef[k+3]
		var a1, a2, b1, b2, d1, d2, e1, e2 float64
		for _, v := range x {
			a1, a2 = v+c0*a1-a2, a1
			b1, b2 = v+c1*b1-b2, b1
			d1, d2 = v+c2*d1-d2, d1
			e1, e2 = v+c3*e1-e2, e1
		}
		b.finish(k, a1, a2)
		b.finish(k+1, b1, b2)
		b.finish(k+2, d1, d2)
		b.finish(k+3, e1, e2)
	}
	for ; k < len(b.coef); k++ {
		c := b.coef[k]
		var s1, s2 float64
		for _, v := range x {
			s1, s2 = v+c*s1-s2, s1
		}
		b.finish(k, s1, s2)
	}
}

// finish turns filter k's final state into its DFT value: y = s1 −
// e^{-jω}·s2 is the DFT rotated by e^{jω(n−1)}.
func (b *Bank) finish(k int, s1, s2 float64) {
	yr := s1 - b.cosw[k]*s2
	yi := b.sinw[k] * s2
	b.re[k] = yr*b.rotRe[k] - yi*b.rotIm[k]
	b.im[k] = yr*b.rotIm[k] + yi*b.rotRe[k]
}

// Total is the last frame's mean square (its power, DC removed).
func (b *Bank) Total() float64 { return b.total }

// Power is the power (mean square) of the last frame's component at
// Freqs()[i]: a sinusoid of amplitude A at exactly that frequency, over a
// whole number of periods, measures A²/2, equal to its Total.
func (b *Bank) Power(i int) float64 {
	if b.n == 0 {
		return 0
	}
	n := float64(b.n)
	return 2 * (b.re[i]*b.re[i] + b.im[i]*b.im[i]) / (n * n)
}

// Ratio is Power(i)/Total: the share of the frame's energy at Freqs()[i]
// (0 for a silent frame). Up to rounding it lies in [0, 1].
func (b *Bank) Ratio(i int) float64 {
	if b.total <= 0 {
		return 0
	}
	return min(b.Power(i)/b.total, 1)
}

// Phase is the phase, in radians, of the last frame's component at
// Freqs()[i], referred to the frame's first sample.
func (b *Bank) Phase(i int) float64 { return math.Atan2(b.im[i], b.re[i]) }

// pair reports whether the last two frames are a measurable 2-frame block.
func (b *Bank) pair() bool { return b.frames >= 2 && b.n > 0 && b.n == b.prevN }

// Total2 is the mean square over the last two frames.
func (b *Bank) Total2() float64 {
	if !b.pair() {
		return b.total
	}
	return (b.total + b.prevTotal) / 2
}

// Power2 is Power over the last two frames taken as one block: the same
// measure with half the bandwidth (25 Hz between orthogonal frequencies
// for two 20 ms frames instead of 50 Hz). Before a second frame of the same
// length, it is Power.
func (b *Bank) Power2(i int) float64 {
	if !b.pair() {
		return b.Power(i)
	}
	// X = X_prev + e^{-jωn}·X_this
	re := b.prevRe[i] + b.re[i]*b.shRe[i] - b.im[i]*b.shIm[i]
	im := b.prevIm[i] + b.re[i]*b.shIm[i] + b.im[i]*b.shRe[i]
	n := float64(2 * b.n)
	return 2 * (re*re + im*im) / (n * n)
}

// Ratio2 is Power2(i)/Total2.
func (b *Bank) Ratio2(i int) float64 {
	t := b.Total2()
	if t <= 0 {
		return 0
	}
	return min(b.Power2(i)/t, 1)
}

// dBFS is the level in dB relative to a full-scale square wave of a mean
// square power: a full-scale sine is −3 dBFS.
func dBFS(power float64) float64 {
	if power <= 0 {
		return -120
	}
	return max(10*math.Log10(power/(32768*32768)), -120)
}
