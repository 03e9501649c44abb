package detect

import (
	"math"
	"time"
)

// toneClass is what a frame sounds like to the tone detectors: silence
// (or anything that is not a steady tone), or a tone in one of the bands
// the patterns use.
type toneClass uint8

const (
	classOff    toneClass = iota
	class4xx              // one tone of 385–475 Hz: the Chinese and European plans' 450/425 Hz
	classSIT1             // 880–1020 Hz
	classSIT2             // 1330–1470 Hz
	classSIT3             // 1730–1870 Hz
	classCNG              // 1060–1140 Hz
	class2100             // 2080–2120 Hz: CED, V.25 ANS
	class2225             // 2195–2255 Hz: Bell answer tone
	classV21              // 1650/1850 Hz FSK
	class350440           // dual tones of the North American plan
	class440480
	class480620
	classOther // a steady tone outside every band
)

var singleBands = []struct {
	class  toneClass
	lo, hi float64
}{
	{class4xx, 385, 475},
	{classSIT1, 880, 1020},
	{classCNG, 1060, 1140},
	{classSIT2, 1330, 1470},
	{classSIT3, 1730, 1870},
	{class2100, 2080, 2120},
	{class2225, 2195, 2255},
}

var dualClasses = []struct {
	class toneClass
	a, b  float64
}{
	{class350440, 350, 440},
	{class440480, 440, 480},
	{class480620, 480, 620},
}

// classOf is the class a cadence segment's audio falls in.
func classOf(s Segment) toneClass {
	switch {
	case len(s.Freqs) == 0:
		return classOff
	case s.FSK:
		return classV21
	case len(s.Freqs) == 2:
		for _, d := range dualClasses {
			if d.a == s.Freqs[0] && d.b == s.Freqs[1] {
				return d.class
			}
		}
		return classOther
	}
	return bandOf(s.Freqs[0])
}

func bandOf(f float64) toneClass {
	for _, b := range singleBands {
		if f >= b.lo && f <= b.hi {
			return b.class
		}
	}
	return classOther
}

// The analysis grid: Goertzel filters every gridStep Hz from gridLo to
// gridHi, measured over 40 ms (two frames), where filters 25 Hz apart are
// orthogonal: a tone on a filter's frequency adds nothing to its
// neighbours, and the energy of a band is the sum of its filters. The North
// American dual tones are measured by filters at their exact frequencies
// instead (the plan holds them to ±0.5%): 440 and 480 Hz are too close for
// the grid to tell two tones from one between them.
const (
	gridLo   = 300.0
	gridHi   = 2250.0
	gridStep = 25.0
	nGrid    = int((gridHi-gridLo)/gridStep) + 1
)

// Thresholds of the frame analysis.
const (
	// dualShare is the least share of the energy each tone of a dual tone
	// must have.
	dualShare = 0.25
	// fskShare is the least share of the energy each of the mark and space
	// bands of V.21 must have.
	fskShare = 0.08
)

// analyzer measures frames on the grid and classifies them.
type analyzer struct {
	bank         *Bank
	i350, i440   int
	i480, i620   int
	i2100        int // grid index of 2100 Hz, for the phase of V.25 ANS
	p            [nGrid]float64
	lastEnd      time.Time // end of the last frame analysed
	haveLastTime bool
}

// spectrum is what the analyzer found in the latest frame.
type spectrum struct {
	level  float64 // dBFS over the 40 ms window
	level1 float64 // dBFS of the latest 20 ms frame
	class  toneClass
	// peak is the estimated frequency of the strongest component and
	// purity the share of the energy within ±25 Hz of it.
	peak, purity float64
	// phase2100 is the phase of the latest 20 ms frame at 2100 Hz, valid
	// when has2100.
	phase2100 float64
	has2100   bool
}

func newAnalyzer() (*analyzer, error) {
	freqs := make([]float64, 0, nGrid+3)
	for i := range nGrid {
		freqs = append(freqs, gridLo+float64(i)*gridStep)
	}
	a := &analyzer{}
	a.i440, a.i480, a.i620 = len(freqs), len(freqs)+1, len(freqs)+2
	freqs = append(freqs, 440, 480, 620)
	a.i350 = gridIndex(350)
	a.i2100 = gridIndex(2100)
	bank, err := NewBank(freqs...)
	if err != nil {
		return nil, err
	}
	a.bank = bank
	return a, nil
}

func gridIndex(f float64) int { return int(math.Round((f - gridLo) / gridStep)) }

// analyze measures one whole frame that began at t and classifies it with
// the least purity minPurity above minLevel dBFS.
func (a *analyzer) analyze(frame []int16, t time.Time, minLevel, minPurity float64) spectrum {
	if a.haveLastTime && !t.Equal(a.lastEnd) {
		// Not contiguous with the previous frame: its half of the 40 ms
		// window would be another moment's audio.
		a.bank.Analyze(nil)
	}
	a.lastEnd, a.haveLastTime = t.Add(FrameDuration), true
	b := a.bank
	b.Analyze(frame)
	sp := spectrum{level: dBFS(b.Total2()), level1: dBFS(b.Total())}
	if sp.level < minLevel {
		return sp
	}
	total := b.Total2()
	for i := range a.p {
		a.p[i] = b.Power2(i) / total
	}
	// The 2100 Hz phase, for the reversals of a modem's answer tone.
	if b.Ratio(a.i2100) > 0.3 {
		sp.phase2100, sp.has2100 = b.Phase(a.i2100), true
	}
	// Strongest component on the grid and its frequency.
	k := 0
	for i := 1; i < nGrid; i++ {
		if a.p[i] > a.p[k] {
			k = i
		}
	}
	var e float64
	for i := max(k-1, 0); i <= min(k+1, nGrid-1); i++ {
		e += a.p[i]
	}
	sp.purity = min(e, 1)
	sp.peak = a.interpolate(k)

	// Dual tones first: their single strongest component holds only half
	// the energy.
	bestDual, bestScore := classOff, 0.0
	for _, d := range dualClasses {
		pa, pb := a.dualPower(d.a)/total, a.dualPower(d.b)/total
		if pa >= dualShare && pb >= dualShare && pa+pb >= minPurity && pa+pb > bestScore {
			bestDual, bestScore = d.class, pa+pb
		}
	}
	if bestDual != classOff {
		sp.class = bestDual
		return sp
	}
	// V.21: the energy of 1600–1700 Hz and 1800–1900 Hz, both present.
	mark, space := a.band(1600, 1700), a.band(1800, 1900)
	if mark >= fskShare && space >= fskShare && mark+space >= minPurity {
		sp.class = classV21
		return sp
	}
	if sp.purity >= minPurity {
		sp.class = bandOf(sp.peak)
	}
	return sp
}

// dualPower is the power at one of the North American plan's frequencies.
func (a *analyzer) dualPower(f float64) float64 {
	switch f {
	case 350:
		return a.bank.Power2(a.i350)
	case 440:
		return a.bank.Power2(a.i440)
	case 480:
		return a.bank.Power2(a.i480)
	case 620:
		return a.bank.Power2(a.i620)
	}
	return 0
}

// band is the share of the energy in lo…hi Hz (grid filters).
func (a *analyzer) band(lo, hi float64) float64 {
	var s float64
	for i := max(gridIndex(lo), 0); i <= min(gridIndex(hi), nGrid-1); i++ {
		s += a.p[i]
	}
	return s
}

// interpolate estimates the frequency of a tone whose strongest grid
// filter is k. With a rectangular window a tone δ bins above filter k
// gives magnitudes in the ratio |sinc(1−δ)|/|sinc(δ)| = δ/(1−δ) at k+1 and
// k, so δ = r/(1+r) for r the ratio of the magnitudes (exact for a pure
// tone far from 0 and Rate/2).
func (a *analyzer) interpolate(k int) float64 {
	f := gridLo + float64(k)*gridStep
	lo, hi := 0.0, 0.0
	if k > 0 {
		lo = a.p[k-1]
	}
	if k < nGrid-1 {
		hi = a.p[k+1]
	}
	if a.p[k] <= 0 {
		return f
	}
	if hi >= lo {
		r := math.Sqrt(hi / a.p[k])
		return f + gridStep*r/(1+r)
	}
	r := math.Sqrt(lo / a.p[k])
	return f - gridStep*r/(1+r)
}
