package detect

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"
)

// ToneConfig tunes a ToneDetector. Zero fields take the defaults.
type ToneConfig struct {
	// MinLevel is the quietest tone heard, in dBFS over 40 ms; quieter
	// frames are silence. E.180 sends tones at −10 to −24 dBm0 (about −13
	// to −27 dBFS with G.711's 3.14 dBm0 full scale), and a long line or
	// a quiet gateway takes some 10 dB more off. Default −45.
	MinLevel float64
	// Purity is the least share of a frame's energy the tone (both tones
	// of a dual tone) must have for the frame to count as that tone.
	// Default 0.7: line noise 10 dB under the tone leaves about 0.9, a
	// vowel's strongest harmonic rarely reaches 0.6.
	Purity float64
	// Plans limits the tones recognised to these plans (PlanChina, ...);
	// empty: every plan.
	Plans []string
}

// Defaults of ToneConfig.
const (
	DefaultToneMinLevel = -45.0
	DefaultTonePurity   = 0.7
)

// DefaultToneConfig returns the defaults, spelt out.
func DefaultToneConfig() ToneConfig {
	return ToneConfig{MinLevel: DefaultToneMinLevel, Purity: DefaultTonePurity}
}

func (c ToneConfig) withDefaults() ToneConfig {
	if c.MinLevel == 0 {
		c.MinLevel = DefaultToneMinLevel
	}
	if c.Purity == 0 {
		c.Purity = DefaultTonePurity
	}
	return c
}

// Validate reports every setting out of its range.
func (c ToneConfig) Validate() error {
	c = c.withDefaults()
	var errs []error
	if !(c.MinLevel >= -90 && c.MinLevel <= -3) {
		errs = append(errs, fmt.Errorf("tone MinLevel %g dBFS outside −90…−3", c.MinLevel))
	}
	if !(c.Purity >= 0.3 && c.Purity <= 0.99) {
		errs = append(errs, fmt.Errorf("tone Purity %g outside 0.3…0.99", c.Purity))
	}
	known := map[string]bool{}
	for _, p := range patterns {
		known[p.Plan] = true
	}
	for _, p := range c.Plans {
		if !known[p] {
			errs = append(errs, fmt.Errorf("tone plan %q unknown", p))
		}
	}
	return errors.Join(errs...)
}

// Tone is a call-progress tone recognised by its cadence.
type Tone struct {
	Kind ToneKind
	Plan string
	Name string
	// Freq is the measured frequency of a single tone, averaged over the
	// segments that confirmed it (for the SIT, over its three); a dual
	// tone or FSK gives its pattern's first frequency.
	Freq float64
	// Start is when the first segment of the confirming sequence began,
	// At when the cadence was confirmed.
	Start, At time.Time
}

// Took is how long the cadence took to confirm: At − Start.
func (t Tone) Took() time.Duration { return t.At.Sub(t.Start) }

func (t Tone) String() string {
	return fmt.Sprintf("%s (%s, %.0f Hz, confirmed after %v)", t.Kind, t.Name, t.Freq, t.Took().Round(10*ms))
}

// run is a stretch of frames of one class.
type run struct {
	class      toneClass
	start, end time.Time
	freqSum    float64
	freqN      int
	reversals  int
}

func (r *run) dur() time.Duration { return r.end.Sub(r.start) }

func (r *run) freq() float64 {
	if r.freqN == 0 {
		return 0
	}
	return r.freqSum / float64(r.freqN)
}

const maxRuns = 16 // longest cadence (China's SIT: 8) twice

// debounceFrames is how many consecutive frames of another class end a
// segment: fewer are noise, a click, or the smeared frames around a
// modem's phase reversal, and belong to the segment they interrupt.
const debounceFrames = 3

// ToneDetector recognises call-progress tones, fax and modem tones in a
// stream of 8 kHz audio by their frequencies and cadence. Feed it the
// far end's audio, early media or after the answer, with the time each
// piece began; it reports each tone once its cadence is confirmed, and
// again only after the tone has stopped or changed.
//
// Each 20 ms frame is measured over the last 40 ms by a Goertzel bank
// (see Bank) and classed as silence or a tone band; a class counts from
// two consecutive frames on, so one frame of noise does not split a
// segment; the segments' classes and lengths are matched against the
// table of patterns (Patterns).
//
// It is not safe for concurrent use.
type ToneDetector struct {
	cfg      ToneConfig
	patterns []Pattern
	an       *analyzer
	fr       framer

	cur       run
	started   bool
	cand      toneClass // a different class seen in the last frame
	candStart time.Time
	candN     int
	runs      []run // completed, oldest first, at most maxRuns
	reported  []bool

	// V.25 phase reversals in the current 2100 Hz run.
	ph        [2]float64 // phases of the last two frames
	phOK      [2]bool
	drift     float64 // phase advance per frame of a steady tone
	haveDrift bool
	sinceRev  int

	out []Tone
}

// NewToneDetector returns a detector with cfg (zero fields take defaults).
func NewToneDetector(cfg ToneConfig) (*ToneDetector, error) {
	an, err := newAnalyzer()
	if err != nil {
		return nil, err
	}
	return newToneDetector(cfg, an)
}

// newToneDetector returns a detector analysing with an (shared with the
// other detectors of an AMD, which feeds it through frame).
func newToneDetector(cfg ToneConfig, an *analyzer) (*ToneDetector, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	d := &ToneDetector{cfg: cfg, an: an}
	for _, p := range Patterns() {
		if len(cfg.Plans) == 0 || slices.Contains(cfg.Plans, p.Plan) {
			d.patterns = append(d.patterns, p)
		}
	}
	d.reported = make([]bool, len(d.patterns))
	return d, nil
}

// Write feeds audio that began at at: normally one 20 ms frame, but any
// length (a partial frame waits for the next call). It returns the tones
// this audio confirmed, in order.
func (d *ToneDetector) Write(samples []int16, at time.Time) []Tone {
	d.out = d.out[:0]
	d.fr.write(samples, at, func(f []int16, t time.Time) {
		sp := d.an.analyze(f, t, d.cfg.MinLevel, d.cfg.Purity)
		d.frame(sp, t)
	})
	if len(d.out) == 0 {
		return nil
	}
	return slices.Clone(d.out)
}

// frame advances the runs by one analysed frame that began at t.
func (d *ToneDetector) frame(sp spectrum, t time.Time) {
	end := t.Add(FrameDuration)
	c := sp.class
	if !d.started {
		d.started = true
		d.cur = run{class: c, start: t, end: t}
	}
	switch {
	case c == d.cur.class:
		d.candN = 0
	case d.candN > 0 && c == d.cand:
		d.candN++
		if d.candN < debounceFrames {
			break
		}
		// Enough frames of a new class: the segment changes where it
		// began.
		d.cur.end = d.candStart
		d.complete()
		d.cur = run{class: c, start: d.candStart, end: d.candStart}
		d.candN = 0
		d.resetPhase()
	default:
		d.cand, d.candStart, d.candN = c, t, 1
	}
	d.cur.end = end
	if c == d.cur.class && c != classOff {
		d.cur.freqSum += sp.peak
		d.cur.freqN++
	}
	if d.cur.class == class2100 {
		d.trackPhase(sp)
	}
	d.evaluate(end)
}

// complete closes the current run.
func (d *ToneDetector) complete() {
	r := d.cur
	if r.dur() <= 0 {
		return
	}
	if len(d.runs) == maxRuns {
		copy(d.runs, d.runs[1:])
		d.runs = d.runs[:maxRuns-1]
	}
	d.runs = append(d.runs, r)
	// A pattern whose cadence has no segment like this one has stopped:
	// it may be reported again when it resumes.
	for i := range d.patterns {
		if !d.patterns[i].fits(r) {
			d.reported[i] = false
		}
	}
}

// fits reports whether a completed run could be one of the pattern's
// segments.
func (p *Pattern) fits(r run) bool {
	for _, e := range p.elems {
		if e.class == r.class && r.dur() >= e.min && r.dur() <= e.max {
			return true
		}
	}
	return false
}

// evaluate reports the patterns the runs now confirm.
func (d *ToneDetector) evaluate(now time.Time) {
	// A tone segment longer than any of a pattern's stops the pattern.
	if d.cur.class != classOff {
		for i := range d.patterns {
			if p := &d.patterns[i]; !p.continuous && d.cur.dur() > p.maxFor(d.cur.class) {
				d.reported[i] = false
			}
		}
	}
	best, bestCost := -1, math.Inf(1)
	var bestStart time.Time
	var bestFreq float64
	var matching []int
	for i := range d.patterns {
		start, freq, cost, ok := d.match(&d.patterns[i])
		if !ok {
			continue
		}
		if d.reported[i] {
			// Reported already: this is the same episode, and the
			// patterns matching it with it stay quiet too.
			return
		}
		matching = append(matching, i)
		if cost < bestCost {
			best, bestCost, bestStart, bestFreq = i, cost, start, freq
		}
	}
	if best < 0 {
		return
	}
	for _, i := range matching {
		d.reported[i] = true
	}
	p := d.patterns[best]
	freq := bestFreq
	if len(p.Cadence[0].Freqs) != 1 {
		freq = p.nominalFreq() // a dual tone or FSK: its lower frequency
	}
	d.out = append(d.out, Tone{Kind: p.Kind, Plan: p.Plan, Name: p.Name, Freq: freq, Start: bestStart, At: now})
}

func (p *Pattern) maxFor(c toneClass) time.Duration {
	var m time.Duration
	for _, e := range p.elems {
		if e.class == c {
			m = max(m, e.max)
		}
	}
	return m
}

// match tries the pattern against the latest runs: confirm consecutive
// segments ending with the current one (at least its minimum so far), or
// the latest completed ones. It returns when the matched sequence began,
// its mean tone frequency and a cost (relative deviation from the
// nominal cadence and frequency) to choose among patterns matching the
// same audio.
func (p *Pattern) matchRuns(window []run, lastOngoing bool) (time.Time, float64, float64, bool) {
	k, m := p.confirm, len(p.elems)
	if len(window) < k {
		return time.Time{}, 0, 0, false
	}
	window = window[len(window)-k:]
	bestCost := math.Inf(1)
	var freq float64
	for j := range m {
		if p.elems[j].class == classOff {
			continue // a cadence is recognised from a tone on
		}
		cost, fsum, fn, ok := 0.0, 0.0, 0, true
		for i, r := range window {
			e := p.elems[(j+i)%m]
			if r.class != e.class {
				ok = false
				break
			}
			dur := r.dur()
			ongoing := lastOngoing && i == len(window)-1
			if dur < e.min || dur > e.max {
				ok = false
				break
			}
			if !ongoing && !p.continuous {
				cost += math.Abs(float64(dur-e.nominal)) / float64(e.nominal)
			}
			if r.class != classOff && r.freqN > 0 {
				fsum += r.freqSum
				fn += r.freqN
			}
		}
		if !ok {
			continue
		}
		f := 0.0
		if fn > 0 {
			f = fsum / float64(fn)
		}
		if nominal := p.nominalFreq(); nominal > 0 && f > 0 && len(p.Cadence[0].Freqs) == 1 {
			// Plans sharing a cadence (China's and Europe's ringback)
			// differ in frequency: 25 Hz off costs as much as a segment
			// 100% off its length.
			cost += math.Abs(f-nominal) / 25
		}
		if cost < bestCost {
			bestCost, freq = cost, f
		}
	}
	if math.IsInf(bestCost, 1) {
		return time.Time{}, 0, 0, false
	}
	return window[0].start, freq, bestCost, true
}

func (p *Pattern) nominalFreq() float64 {
	for _, s := range p.Cadence {
		if len(s.Freqs) > 0 {
			return s.Freqs[0]
		}
	}
	return 0
}

func (d *ToneDetector) match(p *Pattern) (time.Time, float64, float64, bool) {
	// The extra conditions of the 2100 Hz tones: a modem's reverses its
	// phase, a fax's does not.
	if p.Cadence[0].Reversal > 0 || (p.Kind == ToneFaxCED) {
		if d.cur.class != class2100 {
			return time.Time{}, 0, 0, false
		}
		if (p.Cadence[0].Reversal > 0) != (d.cur.reversals > 0) {
			return time.Time{}, 0, 0, false
		}
	}
	window := append(d.runs[max(len(d.runs)-p.confirm, 0):len(d.runs):len(d.runs)], d.cur)
	if s, f, c, ok := p.matchRuns(window, true); ok {
		return s, f, c, true
	}
	if p.continuous {
		return time.Time{}, 0, 0, false
	}
	return p.matchRuns(d.runs, false)
}

func (d *ToneDetector) resetPhase() {
	d.phOK = [2]bool{}
	d.haveDrift = false
	d.sinceRev = 0
}

// trackPhase counts the 180° phase reversals of a 2100 Hz tone (V.25
// ANS). A steady tone advances its phase by the same amount every frame
// (zero at exactly 2100 Hz: 42 periods a frame; up to 0.6π a frame at the
// ±15 Hz the recommendation allows); a reversal adds π, spread over the
// frame it falls in and the next. So the phase two frames apart is
// compared with twice the steady advance.
func (d *ToneDetector) trackPhase(sp spectrum) {
	d.sinceRev++
	prev2, ok2 := d.ph[0], d.phOK[0]
	prev1, ok1 := d.ph[1], d.phOK[1]
	d.ph[0], d.phOK[0] = prev1, ok1
	d.ph[1], d.phOK[1] = sp.phase2100, sp.has2100
	if !sp.has2100 {
		return
	}
	if ok1 {
		step := wrap(sp.phase2100 - prev1)
		if !d.haveDrift {
			d.drift, d.haveDrift = step, true
		} else if math.Abs(wrap(step-d.drift)) < math.Pi/4 {
			d.drift = wrap(d.drift + 0.3*wrap(step-d.drift))
		}
	}
	if ok2 && d.haveDrift && d.sinceRev > 5 {
		if math.Abs(wrap(sp.phase2100-prev2-2*d.drift)) > 2*math.Pi/3 {
			d.cur.reversals++
			d.sinceRev = 0
		}
	}
}

// wrap brings an angle into (−π, π].
func wrap(a float64) float64 {
	a = math.Mod(a+math.Pi, 2*math.Pi)
	if a < 0 {
		a += 2 * math.Pi
	}
	return a - math.Pi
}
