package detect

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/dialtone-voice/dialtone/speech"
)

// Mode is what a call does with answering-machine detection: the
// account's machine_detection setting.
type Mode string

const (
	// ModeOff: no detection (the default of an account).
	ModeOff Mode = "off"
	// ModeDetect: decide and report answered_by; the call goes on either
	// way.
	ModeDetect Mode = "detect"
	// ModeHangup: hang up when a machine answers.
	ModeHangup Mode = "hangup"
	// ModeMessage: when a machine answers, keep listening until the end of
	// its greeting (its beep, or silence) and play then, so the message
	// is recorded whole.
	ModeMessage Mode = "message"
)

// ParseMode checks a machine_detection setting ("" is off).
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case "":
		return ModeOff, nil
	case ModeOff, ModeDetect, ModeHangup, ModeMessage:
		return m, nil
	}
	return "", fmt.Errorf("machine_detection %q: want off, detect, hangup or message", s)
}

// AnsweredBy is the detector's verdict: the VoiceReport's answered_by.
type AnsweredBy string

const (
	Human AnsweredBy = "human"
	// MachineStart: a greeting too long (or too wordy) for a person's
	// "hello", decided while it plays.
	MachineStart AnsweredBy = "machine_start"
	// MachineEndBeep: the greeting's beep was heard (mode message, or a
	// beep before any other decision).
	MachineEndBeep AnsweredBy = "machine_end_beep"
	// MachineEndSilence: the greeting ended in silence without a beep
	// (mode message).
	MachineEndSilence AnsweredBy = "machine_end_silence"
	// Fax: a fax machine or a data modem answered.
	Fax AnsweredBy = "fax"
	// Unknown: no decision: silence, noise, a network tone, or the call
	// ended first.
	Unknown AnsweredBy = "unknown"
)

// Machine reports whether the verdict is an answering machine.
func (a AnsweredBy) Machine() bool {
	return a == MachineStart || a == MachineEndBeep || a == MachineEndSilence
}

// Config holds every threshold of the answering-machine detector. A zero
// field takes its default (the Default… constants, documented there);
// Defaults returns them all.
type Config struct {
	Mode Mode

	// InitialSilence: no voice this long after the answer gives Unknown
	// (a person who waits for the caller to speak, a dead line).
	InitialSilence time.Duration
	// Greeting is the longest a person's first utterance lasts: a
	// greeting still going on past it is a machine's (MachineStart).
	// Pauses shorter than AfterGreetingSilence belong to the greeting.
	Greeting time.Duration
	// AfterGreetingSilence: a greeting no longer than Greeting followed
	// by this much silence is a person waiting for an answer (Human).
	AfterGreetingSilence time.Duration
	// MaxSegments: a greeting of more voice segments than this (bursts
	// of voice separated by WordGap) is a machine's (MachineStart), even
	// if it is still short: people answer in a word or two.
	MaxSegments int
	// TotalAnalysisTime: without a decision this long after the answer,
	// the verdict is Unknown.
	TotalAnalysisTime time.Duration

	// EndSilence (mode message): after MachineStart, this much silence
	// ends the greeting (MachineEndSilence) when no beep came.
	EndSilence time.Duration
	// MessageTimeout (mode message): the longest wait for the end of the
	// greeting after the answer; then the final verdict is MachineStart.
	MessageTimeout time.Duration

	// Voice activity (the speech package's segmenter).
	// MinWord is the shortest burst of voice that counts (shorter ones are
	// clicks); WordGap the silence that separates two segments.
	MinWord, WordGap time.Duration
	// VoiceThreshold is how far above the noise floor, in dB, a frame
	// must be to be voice; MinVoiceLevel the quietest voice in dBFS.
	VoiceThreshold, MinVoiceLevel float64

	// Beep: the tone that ends a greeting.
	Beep BeepConfig
	// Tone: fax and network tones heard instead of a voice.
	Tone ToneConfig
}

// Defaults of Config. Asterisk's amd.conf starts from 2.5 s of initial
// silence, a 1.5 s greeting, 0.8 s of silence after it and 5 s of
// analysis; Twilio waits 1.2 s of silence for the end of a greeting and
// 30 s in all. The values below were tuned on the corpus of package
// corpus with the benchmark's tuning seed, never the reported one (see
// BenchmarkTuning and the README).
const (
	// DefaultInitialSilence: people speak within about two seconds of
	// picking up (the corpus: 0.15–1.8 s).
	DefaultInitialSilence = 2500 * time.Millisecond
	// DefaultGreeting: a person's "hello" lasts 0.3–1.5 s. In tuning,
	// 1.5 s took 3 of 128 people for machines and 1.8 s none; 2.1 s
	// only delayed the machines.
	DefaultGreeting = 1800 * time.Millisecond
	// DefaultAfterGreetingSilence: the pause that ends a person's hello.
	// Greetings pause 0.3–0.75 s between sentences, and line noise eats
	// the soft edges of words, which lengthens the pauses as the detector
	// hears them: in tuning 0.9 s mistook 7 greetings of 154 for people,
	// 0.8 s 10, for 0.1 s more per human decision.
	DefaultAfterGreetingSilence = 900 * time.Millisecond
	// DefaultMaxSegments: people answer in a word or two. Within the
	// Greeting limit it decided nothing in tuning (3 to 8 gave the same
	// figures); it stays as a guard against a greeting of many short
	// words.
	DefaultMaxSegments = 5
	// DefaultTotalAnalysisTime: InitialSilence plus a Greeting, and a
	// margin.
	DefaultTotalAnalysisTime = 5 * time.Second
	// DefaultEndSilence: longer than a greeting's pauses and than the
	// gap before its beep (up to a second), so that the message does not
	// start over the beep.
	DefaultEndSilence = 1500 * time.Millisecond
	// DefaultMessageTimeout: greetings last up to 20 s or so.
	DefaultMessageTimeout = 30 * time.Second
	// DefaultMinWord: shorter bursts are clicks (the segmenter's default).
	DefaultMinWord = speech.DefaultMinSpeech
	// DefaultWordGap: a comma's pause (about 150 ms) separates segments.
	DefaultWordGap = 150 * time.Millisecond
	// DefaultVoiceThreshold and DefaultMinVoiceLevel are the segmenter's
	// (9 dB over the noise floor, −50 dBFS).
	DefaultVoiceThreshold = speech.DefaultThreshold
	DefaultMinVoiceLevel  = speech.DefaultMinLevel
)

// Defaults returns the default configuration in mode detect.
func Defaults() Config {
	return Config{
		Mode:                 ModeDetect,
		InitialSilence:       DefaultInitialSilence,
		Greeting:             DefaultGreeting,
		AfterGreetingSilence: DefaultAfterGreetingSilence,
		MaxSegments:          DefaultMaxSegments,
		TotalAnalysisTime:    DefaultTotalAnalysisTime,
		EndSilence:           DefaultEndSilence,
		MessageTimeout:       DefaultMessageTimeout,
		MinWord:              DefaultMinWord,
		WordGap:              DefaultWordGap,
		VoiceThreshold:       DefaultVoiceThreshold,
		MinVoiceLevel:        DefaultMinVoiceLevel,
		Beep:                 BeepConfig{}.withDefaults(),
		Tone:                 ToneConfig{}.withDefaults(),
	}
}

// WithDefaults returns c with every zero field set to its default (the
// mode to detect).
func (c Config) WithDefaults() Config {
	d := Defaults()
	dur := func(v *time.Duration, def time.Duration) {
		if *v == 0 {
			*v = def
		}
	}
	if c.Mode == "" {
		c.Mode = d.Mode
	}
	dur(&c.InitialSilence, d.InitialSilence)
	dur(&c.Greeting, d.Greeting)
	dur(&c.AfterGreetingSilence, d.AfterGreetingSilence)
	dur(&c.TotalAnalysisTime, d.TotalAnalysisTime)
	dur(&c.EndSilence, d.EndSilence)
	dur(&c.MessageTimeout, d.MessageTimeout)
	dur(&c.MinWord, d.MinWord)
	dur(&c.WordGap, d.WordGap)
	if c.MaxSegments == 0 {
		c.MaxSegments = d.MaxSegments
	}
	if c.VoiceThreshold == 0 {
		c.VoiceThreshold = d.VoiceThreshold
	}
	if c.MinVoiceLevel == 0 {
		c.MinVoiceLevel = d.MinVoiceLevel
	}
	c.Beep = c.Beep.withDefaults()
	c.Tone = c.Tone.withDefaults()
	return c
}

// Validate reports every setting out of its range, after defaults.
func (c Config) Validate() error {
	c = c.WithDefaults()
	var errs []error
	if _, err := ParseMode(string(c.Mode)); err != nil {
		errs = append(errs, err)
	}
	between := func(name string, v, lo, hi time.Duration) {
		if v < lo || v > hi {
			errs = append(errs, fmt.Errorf("%s %v outside %v…%v", name, v, lo, hi))
		}
	}
	between("InitialSilence", c.InitialSilence, 500*time.Millisecond, 30*time.Second)
	between("Greeting", c.Greeting, 300*time.Millisecond, 10*time.Second)
	between("AfterGreetingSilence", c.AfterGreetingSilence, 200*time.Millisecond, 5*time.Second)
	between("TotalAnalysisTime", c.TotalAnalysisTime, time.Second, 60*time.Second)
	between("EndSilence", c.EndSilence, 200*time.Millisecond, 10*time.Second)
	between("MessageTimeout", c.MessageTimeout, 2*time.Second, 120*time.Second)
	between("MinWord", c.MinWord, FrameDuration, time.Second)
	between("WordGap", c.WordGap, FrameDuration, 2*time.Second)
	if c.MaxSegments < 1 || c.MaxSegments > 100 {
		errs = append(errs, fmt.Errorf("MaxSegments %d outside 1…100", c.MaxSegments))
	}
	if c.WordGap >= c.AfterGreetingSilence {
		errs = append(errs, fmt.Errorf("WordGap %v must be shorter than AfterGreetingSilence %v", c.WordGap, c.AfterGreetingSilence))
	}
	if c.WordGap >= c.EndSilence {
		errs = append(errs, fmt.Errorf("WordGap %v must be shorter than EndSilence %v", c.WordGap, c.EndSilence))
	}
	if c.TotalAnalysisTime < c.InitialSilence {
		errs = append(errs, fmt.Errorf("TotalAnalysisTime %v shorter than InitialSilence %v", c.TotalAnalysisTime, c.InitialSilence))
	}
	if c.MessageTimeout < c.TotalAnalysisTime {
		errs = append(errs, fmt.Errorf("MessageTimeout %v shorter than TotalAnalysisTime %v", c.MessageTimeout, c.TotalAnalysisTime))
	}
	if !(c.VoiceThreshold >= 3 && c.VoiceThreshold <= 40) {
		errs = append(errs, fmt.Errorf("VoiceThreshold %g dB outside 3…40", c.VoiceThreshold))
	}
	if !(c.MinVoiceLevel >= -90 && c.MinVoiceLevel <= -10) {
		errs = append(errs, fmt.Errorf("MinVoiceLevel %g dBFS outside −90…−10", c.MinVoiceLevel))
	}
	if err := c.Beep.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Tone.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Result is one verdict of the detector.
type Result struct {
	AnsweredBy AnsweredBy
	// At is the end of the audio that decided; After is At less the
	// answer: the decision time.
	At    time.Time
	After time.Duration
	// Final: no other result follows. In mode message a MachineStart is
	// followed by the end of the greeting (or by itself again, final, at
	// MessageTimeout); every other result is final.
	Final bool
	// Reason says what decided, for logs and the call's timeline.
	Reason string
	// Greeting is how long the voice heard lasted, from its first segment
	// to its last (pauses included).
	Greeting time.Duration
	// Segments is how many segments of voice the greeting had.
	Segments int
	// Beep is the beep that decided MachineEndBeep; Tone the tone that
	// decided Fax or an Unknown.
	Beep *Beep
	Tone *Tone
}

func (r Result) String() string {
	return fmt.Sprintf("%s after %v (%s)", r.AnsweredBy, r.After.Round(10*time.Millisecond), r.Reason)
}

type amdState int

const (
	amdListening amdState = iota // no verdict yet
	amdGreeting                  // MachineStart given, mode message: waiting for the end
	amdDone
)

// AMD is the answering-machine detector of one call: feed it the callee's
// audio from the answer on; it returns its verdicts as they are made. It
// combines the speech package's voice-activity segmenter (how long the
// callee speaks, and how long it is silent after), a BeepDetector's
// tracker and a ToneDetector (fax and modem tones, network tones), all
// fed from one Goertzel analysis per frame.
//
// The rules, in order, for every frame until a verdict:
//  1. a fax or modem tone confirmed: Fax; another network tone: Unknown;
//  2. a beep ended: MachineEndBeep;
//  3. a greeting longer than Greeting, or of more than MaxSegments
//     segments: MachineStart;
//  4. a greeting followed by AfterGreetingSilence of silence: Human;
//  5. no voice for InitialSilence, or no verdict by TotalAnalysisTime:
//     Unknown.
//
// In mode message a MachineStart is followed by MachineEndBeep when a
// beep ends, or MachineEndSilence after EndSilence of silence, or a final
// MachineStart at MessageTimeout.
//
// It is not safe for concurrent use: one goroutine (the leg's audio
// reader) feeds it.
type AMD struct {
	cfg      Config
	answered time.Time
	fr       framer
	an       *analyzer
	seg      *speech.Segmenter
	beep     beepTracker
	tones    *ToneDetector

	state amdState
	// The greeting: from the first voice segment on.
	haveGreeting bool
	greetStart   time.Time
	inSpeech     bool
	lastEnd      time.Time // end of the last segment of voice
	segments     int
	last         time.Time // end of the last frame
	// heldBeep is a beep in the band of the network's tones, waiting to
	// be sure it was not the first burst of a cadence.
	heldBeep *Beep
	results  []Result
	out      []Result
}

// NewAMD returns the detector of a call answered at answered.
func NewAMD(cfg Config, answered time.Time) (*AMD, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.WithDefaults()
	if cfg.Mode == ModeOff {
		return nil, errors.New("detect: machine detection is off")
	}
	an, err := newAnalyzer()
	if err != nil {
		return nil, err
	}
	tones, err := newToneDetector(cfg.Tone, an)
	if err != nil {
		return nil, err
	}
	d := &AMD{
		cfg:      cfg,
		answered: answered,
		an:       an,
		tones:    tones,
		beep:     beepTracker{cfg: cfg.Beep},
		last:     answered,
		seg: speech.NewSegmenter(speech.Config{
			PauseTime: cfg.WordGap,
			MinSpeech: cfg.MinWord,
			// Nothing is recognised: the segments' audio is not needed
			// (1 ns of pre- and post-roll is none at all).
			PreRoll:   1,
			PostRoll:  1,
			MaxSpeech: cfg.MessageTimeout,
			Threshold: cfg.VoiceThreshold,
			MinLevel:  cfg.MinVoiceLevel,
		}),
	}
	return d, nil
}

// Config returns the detector's configuration, defaults filled in.
func (d *AMD) Config() Config { return d.cfg }

// Done reports whether the final verdict has been given.
func (d *AMD) Done() bool { return d.state == amdDone }

// Results returns every verdict given so far, in order.
func (d *AMD) Results() []Result { return slices.Clone(d.results) }

// Write feeds the callee's audio that began at at: normally one 20 ms
// frame, but any length (a partial frame waits for the next call). Audio
// before the answer is ignored. It returns the verdicts this audio
// decided (usually none); after the final one, nothing more.
func (d *AMD) Write(samples []int16, at time.Time) []Result {
	if d.state == amdDone {
		return nil
	}
	d.out = d.out[:0]
	d.fr.write(samples, at, func(f []int16, t time.Time) {
		if d.state != amdDone && !t.Before(d.answered) {
			d.frame(f, t)
		}
	})
	if len(d.out) == 0 {
		return nil
	}
	return slices.Clone(d.out)
}

// Close ends the detection at at (the call ended, or the caller gives
// up): without a final verdict yet, it gives one: Unknown, or in mode
// message after MachineStart, MachineStart again.
func (d *AMD) Close(at time.Time) []Result {
	if d.state == amdDone {
		return nil
	}
	if at.Before(d.last) {
		at = d.last
	}
	d.out = d.out[:0]
	if d.state == amdGreeting {
		d.decide(MachineStart, at, true, "the call ended before the greeting did", nil, nil)
	} else {
		d.decide(Unknown, at, true, "the call ended before a decision", nil, nil)
	}
	return slices.Clone(d.out)
}

func (d *AMD) frame(f []int16, t time.Time) {
	now := t.Add(FrameDuration)
	d.last = now
	sp := d.an.analyze(f, t, min(d.cfg.Tone.MinLevel, d.cfg.Beep.MinLevel), d.cfg.Tone.Purity)
	for _, ev := range d.seg.Write(f, t) {
		d.segment(ev)
	}
	tsp := sp
	if tsp.level < d.cfg.Tone.MinLevel {
		tsp.class = classOff // heard for the beep, too quiet for a tone
	}
	d.tones.out = d.tones.out[:0]
	d.tones.frame(tsp, t)
	tones := d.tones.out
	beep, beeped := d.beep.frame(sp, t)
	if beeped && inNetworkBand(beep.Freq) {
		d.heldBeep, beeped = &beep, false
	}
	if h := d.heldBeep; h != nil && !beeped {
		switch {
		case d.beep.active && inNetworkBand(d.beep.freq()):
			d.heldBeep = nil // another burst: a cadence, not a beep
		case now.Sub(h.At) >= networkToneHold:
			beep, beeped, d.heldBeep = *h, true, nil
		}
	}

	if d.state == amdListening {
		for _, tn := range tones {
			if tn.Kind.Fax() {
				d.decide(Fax, now, true, tn.Name, nil, &tn)
				return
			}
			d.decide(Unknown, now, true, tn.Name, nil, &tn)
			return
		}
	}
	if beeped {
		d.decide(MachineEndBeep, now, true, fmt.Sprintf("beep %.0f Hz, %v", beep.Freq, beep.Duration().Round(10*time.Millisecond)), &beep, nil)
		return
	}
	c := &d.cfg
	switch d.state {
	case amdListening:
		if d.haveGreeting {
			switch g := d.greeting(now); {
			case g > c.Greeting:
				d.decide(MachineStart, now, c.Mode != ModeMessage, fmt.Sprintf("greeting longer than %v", c.Greeting), nil, nil)
			case d.segments > c.MaxSegments:
				d.decide(MachineStart, now, c.Mode != ModeMessage, fmt.Sprintf("greeting of more than %d segments", c.MaxSegments), nil, nil)
			case !d.inSpeech && now.Sub(d.lastEnd) >= c.AfterGreetingSilence && !d.beep.pending() && d.heldBeep == nil:
				d.decide(Human, now, true, fmt.Sprintf("greeting of %v then silence", g.Round(10*time.Millisecond)), nil, nil)
			}
			if d.state != amdListening {
				return
			}
		} else if now.Sub(d.answered) >= c.InitialSilence {
			d.decide(Unknown, now, true, fmt.Sprintf("no voice within %v", c.InitialSilence), nil, nil)
			return
		}
		if now.Sub(d.answered) >= c.TotalAnalysisTime {
			d.decide(Unknown, now, true, fmt.Sprintf("no decision within %v", c.TotalAnalysisTime), nil, nil)
		}
	case amdGreeting:
		switch {
		case !d.inSpeech && now.Sub(d.lastEnd) >= c.EndSilence && !d.beep.pending() && d.heldBeep == nil:
			d.decide(MachineEndSilence, now, true, fmt.Sprintf("greeting of %v then %v of silence", d.greeting(now).Round(10*time.Millisecond), c.EndSilence), nil, nil)
		case now.Sub(d.answered) >= c.MessageTimeout:
			d.decide(MachineStart, now, true, fmt.Sprintf("greeting still going on after %v", c.MessageTimeout), nil, nil)
		}
	}
}

// The call-progress tones of China's and Europe's plans sound at
// 400–450 Hz, in bursts of 0.1–1 s: the first burst of a busy tone is a
// beep to the beep tracker. So a beep in their band counts only once no
// other burst in the band has begun for networkToneHold, longer than the
// gaps of their cadences (0.7 s at most, but for ringback's 4 s after a
// 1 s burst: a ringback played after the answer is taken for a beep).
const (
	networkBandLo   = 385.0
	networkBandHi   = 475.0
	networkToneHold = time.Second
)

func inNetworkBand(f float64) bool { return f >= networkBandLo && f <= networkBandHi }

// segment follows the segmenter's events.
func (d *AMD) segment(ev speech.Event) {
	switch ev.Kind {
	case speech.SpeechStart:
		d.inSpeech = true
		if !d.haveGreeting {
			d.haveGreeting, d.greetStart, d.segments = true, ev.Start, 0
		}
		d.segments++
	case speech.SpeechEnd:
		d.inSpeech = false
		if ev.Noise {
			// Steady noise, not a voice: forget the segment.
			d.segments--
			if d.segments <= 0 {
				d.haveGreeting, d.segments = false, 0
			}
			return
		}
		d.lastEnd = ev.End
	}
}

// greeting is how long the voice has lasted, pauses included.
func (d *AMD) greeting(now time.Time) time.Duration {
	if !d.haveGreeting {
		return 0
	}
	if d.inSpeech {
		return now.Sub(d.greetStart)
	}
	return max(d.lastEnd.Sub(d.greetStart), 0)
}

func (d *AMD) decide(a AnsweredBy, at time.Time, final bool, reason string, beep *Beep, tone *Tone) {
	r := Result{
		AnsweredBy: a, At: at, After: at.Sub(d.answered), Final: final, Reason: reason,
		Greeting: d.greeting(at), Segments: d.segments, Beep: beep, Tone: tone,
	}
	d.results = append(d.results, r)
	d.out = append(d.out, r)
	switch {
	case final:
		d.state = amdDone
	case a == MachineStart:
		d.state = amdGreeting
	}
}
