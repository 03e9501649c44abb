package detect

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Beep is a steady narrow-band tone: the beep of an answering machine
// after its greeting.
type Beep struct {
	Freq       float64 // Hz, the mean over the beep
	Start, End time.Time
	At         time.Time // when it was reported, about 100 ms after End
}

// Duration is how long the beep sounded.
func (b Beep) Duration() time.Duration { return b.End.Sub(b.Start) }

// BeepConfig tunes a BeepDetector. Zero fields take the defaults.
type BeepConfig struct {
	// MinFreq and MaxFreq bound the beep's frequency (Hz). Answering
	// machines and network mailboxes beep between about 400 and 2000 Hz
	// (1000 Hz most often). Defaults 400 and 2000.
	MinFreq, MaxFreq float64
	// MinDur and MaxDur bound its length. A beep lasts 100 ms to about a
	// second; a longer tone is something else (dial tone, a fax's CED).
	// Defaults 100 ms and 1.2 s.
	MinDur, MaxDur time.Duration
	// Purity is the least share of a frame's energy within ±25 Hz of the
	// beep's frequency (over 40 ms). Default 0.8: a sine under line noise
	// 15 dB down measures about 0.95, the strongest harmonic of a vowel
	// rarely 0.6.
	Purity float64
	// MinLevel is the quietest beep heard, dBFS. Default −45.
	MinLevel float64
}

// Defaults of BeepConfig.
const (
	DefaultBeepMinFreq  = 400.0
	DefaultBeepMaxFreq  = 2000.0
	DefaultBeepMinDur   = 100 * time.Millisecond
	DefaultBeepMaxDur   = 1200 * time.Millisecond
	DefaultBeepPurity   = 0.8
	DefaultBeepMinLevel = -45.0
)

// beepFreqSlack is how far a beep's frequency may wander from frame to
// frame (Hz): a frequency estimate from 40 ms is good to a few Hz, a
// vowel's harmonics glide by far more.
const beepFreqSlack = 20.0

func (c BeepConfig) withDefaults() BeepConfig {
	if c.MinFreq == 0 {
		c.MinFreq = DefaultBeepMinFreq
	}
	if c.MaxFreq == 0 {
		c.MaxFreq = DefaultBeepMaxFreq
	}
	if c.MinDur == 0 {
		c.MinDur = DefaultBeepMinDur
	}
	if c.MaxDur == 0 {
		c.MaxDur = DefaultBeepMaxDur
	}
	if c.Purity == 0 {
		c.Purity = DefaultBeepPurity
	}
	if c.MinLevel == 0 {
		c.MinLevel = DefaultBeepMinLevel
	}
	return c
}

// Validate reports every setting out of its range.
func (c BeepConfig) Validate() error {
	c = c.withDefaults()
	var errs []error
	if !(c.MinFreq >= gridLo+gridStep && c.MaxFreq <= gridHi-gridStep && c.MinFreq < c.MaxFreq) {
		errs = append(errs, fmt.Errorf("beep frequencies %g…%g Hz: want %g ≤ MinFreq < MaxFreq ≤ %g", c.MinFreq, c.MaxFreq, gridLo+gridStep, gridHi-gridStep))
	}
	if !(c.MinDur >= 3*FrameDuration && c.MinDur < c.MaxDur && c.MaxDur <= 10*time.Second) {
		errs = append(errs, fmt.Errorf("beep length %v…%v: want 60ms ≤ MinDur < MaxDur ≤ 10s", c.MinDur, c.MaxDur))
	}
	if !(c.Purity >= 0.3 && c.Purity <= 0.99) {
		errs = append(errs, fmt.Errorf("beep Purity %g outside 0.3…0.99", c.Purity))
	}
	if !(c.MinLevel >= -90 && c.MinLevel <= -3) {
		errs = append(errs, fmt.Errorf("beep MinLevel %g dBFS outside −90…−3", c.MinLevel))
	}
	return errors.Join(errs...)
}

// beepTracker follows runs of tonal frames in the spectra an analyzer
// gives, for BeepDetector and AMD.
type beepTracker struct {
	cfg     BeepConfig
	active  bool
	tooLong bool
	start   time.Time
	last    time.Time // end of the last tonal frame
	freqSum float64
	n       int
	miss    int
	// seq: the run began as another tone ended, without a gap: part of a
	// sequence of tones (a SIT), not a beep.
	seq bool
	// held is a beep that ended, waiting heldFrames to be sure no other
	// tone follows it at once.
	held     *Beep
	heldWait int
}

// heldFrames: the 40 ms window mixes two tones that follow each other in
// one or two frames, after which the second is clear.
const heldFrames = 2

// beepEdge is how far outside MinFreq…MaxFreq a frame's frequency
// estimate may fall, and the beep's mean estimate half as far: a beep at
// exactly MinFreq measures a few Hz either side of it.
const beepEdge = gridStep

func (b *beepTracker) tonal(sp spectrum) bool {
	c := &b.cfg
	return sp.level >= c.MinLevel && sp.purity >= c.Purity &&
		sp.peak >= c.MinFreq-beepEdge && sp.peak <= c.MaxFreq+beepEdge
}

// frame follows one frame that began at t; it returns a beep that ended.
func (b *beepTracker) frame(sp spectrum, t time.Time) (Beep, bool) {
	end := t.Add(FrameDuration)
	tonal := b.tonal(sp)
	if b.held != nil {
		if tonal {
			b.begin(sp, t, true)
			return Beep{}, false
		}
		if b.heldWait--; b.heldWait > 0 {
			return Beep{}, false
		}
		beep := *b.held
		b.held = nil
		beep.At = end
		return beep, true
	}
	if b.active {
		if tonal && math.Abs(sp.peak-b.freqSum/float64(b.n)) <= beepFreqSlack {
			b.last = end
			b.freqSum += sp.peak
			b.n++
			b.miss = 0
			if b.last.Sub(b.start) > b.cfg.MaxDur+2*FrameDuration {
				b.tooLong = true
			}
			return Beep{}, false
		}
		// One frame off (a click, a codec's rounding at a quiet moment)
		// does not end a beep; a new frequency does, and then neither
		// tone is a beep: a beep ends in silence or voice, and one tone
		// straight after another is a sequence (the special information
		// tone's three).
		b.miss++
		if b.miss < 2 && !tonal {
			return Beep{}, false
		}
		if tonal {
			b.begin(sp, t, true)
			return Beep{}, false
		}
		if beep, ok := b.finish(end); ok {
			b.held, b.heldWait = &beep, heldFrames
		}
		return Beep{}, false
	}
	if tonal {
		b.begin(sp, t, false)
	}
	return Beep{}, false
}

func (b *beepTracker) begin(sp spectrum, t time.Time, seq bool) {
	*b = beepTracker{cfg: b.cfg, active: true, start: t, last: t.Add(FrameDuration), freqSum: sp.peak, n: 1, seq: seq}
}

// finish ends the run; it was a beep if its length fits. The 40 ms
// window sees a tone one frame after it stops: the run's last frame is
// taken off.
func (b *beepTracker) finish(at time.Time) (Beep, bool) {
	r := *b
	b.active = false
	end := r.last.Add(-FrameDuration)
	d := end.Sub(r.start)
	f := r.freqSum / float64(r.n)
	if r.tooLong || r.seq || d < r.cfg.MinDur || d > r.cfg.MaxDur ||
		f < r.cfg.MinFreq-beepEdge/2 || f > r.cfg.MaxFreq+beepEdge/2 {
		return Beep{}, false
	}
	return Beep{Freq: f, Start: r.start, End: end, At: at}, true
}

func (b *beepTracker) freq() float64 {
	if b.n == 0 {
		return 0
	}
	return b.freqSum / float64(b.n)
}

// pending reports whether a run of tonal frames is under way that may
// still become a beep.
func (b *beepTracker) pending() bool { return b.held != nil || b.active && !b.tooLong }

// BeepDetector finds beeps in a stream of 8 kHz audio: steady tones
// within a frequency range that last between a minimum and a maximum,
// with no other tone right before or after (a tone that follows another
// at once is a sequence, such as the special information tone). A beep is
// reported when it ends. It is not safe for concurrent use.
type BeepDetector struct {
	cfg BeepConfig
	an  *analyzer
	fr  framer
	tr  beepTracker
	out []Beep
}

// NewBeepDetector returns a detector with cfg (zero fields take defaults).
func NewBeepDetector(cfg BeepConfig) (*BeepDetector, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	an, err := newAnalyzer()
	if err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	return &BeepDetector{cfg: cfg, an: an, tr: beepTracker{cfg: cfg}}, nil
}

// Write feeds audio that began at at (any length) and returns the beeps
// that ended in it.
func (d *BeepDetector) Write(samples []int16, at time.Time) []Beep {
	d.out = d.out[:0]
	d.fr.write(samples, at, func(f []int16, t time.Time) {
		sp := d.an.analyze(f, t, d.cfg.MinLevel, 1)
		if b, ok := d.tr.frame(sp, t); ok {
			d.out = append(d.out, b)
		}
	})
	if len(d.out) == 0 {
		return nil
	}
	return append([]Beep(nil), d.out...)
}
