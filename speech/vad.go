package speech

import (
	"math"
	"time"

	"github.com/dialtone-voice/dialtone"
)

// Rate is the sample rate the segmenter works at: dialtone.Audio's.
const Rate = 8000

// FrameSamples is one 20 ms frame at Rate, the size of a G.711 RTP packet's
// payload: the natural unit the SIP leg delivers.
const FrameSamples = Rate / 50

const frameDur = 20 * time.Millisecond

// Defaults and bounds of Config.
const (
	DefaultPauseTime = 800 * time.Millisecond
	// MinPauseTime and MaxPauseTime bound the PauseTime a SmartCall may ask
	// for (ConfigFor clamps to them): below 300 ms the pauses between words
	// would split sentences, above 1.2 s the caller waits noticeably for the
	// answer.
	MinPauseTime = 300 * time.Millisecond
	MaxPauseTime = 1200 * time.Millisecond

	DefaultMinSpeech = 100 * time.Millisecond
	// DefaultMaxSpeech cuts an utterance that never pauses (a radio, a
	// stuck line) so that memory stays bounded and the business still hears
	// something.
	DefaultMaxSpeech = 60 * time.Second
	DefaultPreRoll   = 200 * time.Millisecond
	DefaultPostRoll  = 100 * time.Millisecond
	// DefaultThreshold is how far above the noise floor, in dB, a frame must
	// be to count as voice. Speech sits 15–30 dB above a line's noise;
	// 9 dB leaves room for quiet talkers without triggering on the
	// fluctuation of the noise itself.
	DefaultThreshold = 9.0
	// DefaultMinLevel is the quietest frame, in dBFS, that may count as
	// voice whatever the floor: on a digitally silent line the floor falls
	// to the bottom and the crumbs of a codec would otherwise be "speech".
	DefaultMinLevel = -50.0
	// DefaultHangover keeps the noise floor frozen this long after a voiced
	// frame, so the weak tail of a word (a trailing "s" or "t") is not
	// learnt as noise.
	DefaultHangover = 100 * time.Millisecond
)

// Config tunes a Segmenter. The zero value of a field takes its default.
type Config struct {
	// PauseTime is the silence that ends an utterance (SmartCall PauseTime).
	PauseTime time.Duration
	// MuteTime is the silence after which Mute is reported once (SmartCall
	// MuteTime); 0 never reports it.
	MuteTime time.Duration
	// TimeBreak reports TimeBreak when an utterance has lasted this long
	// while audio is playing to the caller (SmartCall
	// ActionCodeTimeBreak); 0 never reports it.
	TimeBreak time.Duration
	// MinSpeech is the shortest burst that counts as an utterance; shorter
	// ones are clicks and coughs.
	MinSpeech time.Duration
	// MaxSpeech ends an utterance that goes on this long.
	MaxSpeech time.Duration
	// PreRoll and PostRoll widen the audio of a segment beyond its voiced
	// bounds: an energy detector fires a little after a soft onset and stops
	// a little before a soft ending, and recognisers want the context.
	PreRoll, PostRoll time.Duration
	// Threshold (dB over the noise floor) and MinLevel (dBFS) decide voice.
	Threshold, MinLevel float64
	// Hangover is how long after a voiced frame the floor stays frozen.
	Hangover time.Duration
}

// ConfigFor derives the segmenter settings of a SmartCall plan, with
// PauseTime clamped to MinPauseTime…MaxPauseTime. A nil plan gives defaults.
func ConfigFor(p *dialtone.SmartPlan) Config {
	var c Config
	if p == nil {
		return c
	}
	c.PauseTime = p.PauseTime
	if c.PauseTime > 0 {
		c.PauseTime = min(max(c.PauseTime, MinPauseTime), MaxPauseTime)
	}
	c.MuteTime = p.MuteTime
	c.TimeBreak = p.ActionCodeTimeBreak
	return c
}

func (c Config) withDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.PauseTime, DefaultPauseTime)
	def(&c.MinSpeech, DefaultMinSpeech)
	def(&c.MaxSpeech, DefaultMaxSpeech)
	def(&c.PreRoll, DefaultPreRoll)
	def(&c.PostRoll, DefaultPostRoll)
	def(&c.Hangover, DefaultHangover)
	if c.Threshold <= 0 {
		c.Threshold = DefaultThreshold
	}
	if c.MinLevel == 0 {
		c.MinLevel = DefaultMinLevel
	}
	return c
}

// EventKind is what a Segmenter reports.
type EventKind string

const (
	// SpeechStart: voice began at Event.Start (reported once it has lasted
	// long enough to be more than a click, so a little after Start).
	SpeechStart EventKind = "speech_start"
	// SpeechEnd: the utterance that began at Start ended at End;
	// Event.Audio holds it. Every SpeechStart is followed by one SpeechEnd.
	SpeechEnd EventKind = "speech_end"
	// Mute: silence has lasted MuteTime (Start is when it began). Reported
	// once per silence period.
	Mute EventKind = "mute"
	// TimeBreak: the utterance that began at Start has lasted TimeBreak
	// while audio was playing; the caller is talking over the prompt.
	// Reported at most once per utterance.
	TimeBreak EventKind = "time_break"
)

// Event is one report of a Segmenter.
type Event struct {
	Kind EventKind
	// At is when the event was detected (the end of the frame that caused
	// it).
	At time.Time
	// Start and End bound the voiced part of an utterance (SpeechStart,
	// SpeechEnd, TimeBreak) or the silence (Mute: Start only).
	Start, End time.Time
	// Audio is the utterance with PreRoll and PostRoll around it
	// (SpeechEnd only).
	Audio *dialtone.Audio
	// Noise marks a SpeechEnd whose "utterance" had the flat energy of
	// steady noise (a fan, a hum switched on mid-call) rather than the
	// syllabic rise and fall of speech: the floor has learnt it, and the
	// segment should not be recognised or reported.
	Noise bool
}

type segState int

const (
	stSilence segState = iota
	stOnset            // voiced frames seen, not yet MinSpeech of them
	stSpeech
)

// flatWindow is how many recent frame levels the stationarity test looks
// at (1 s): speech always rises and falls by far more than flatSpread
// within a second, steady noise never does.
const (
	flatWindow = 50
	flatSpread = 4.0 // dB
	// silentLevel is the level of a digitally silent frame: log of zero
	// is not a number to average.
	silentLevel = -100.0
	// initialFloor is the floor before the first frame. The first frame
	// replaces it (see Write), so it matters only for documentation.
	initialFloor = -70.0
	// floorDown and floorUp are the per-frame smoothing factors of the
	// floor: it follows falling levels within ~60 ms (a quieter moment is
	// proof the floor is lower) and rising ones over ~1 s (it must not
	// learn a slow syllable as noise).
	floorDown = 0.3
	floorUp   = 0.02
)

// Segmenter is an energy voice-activity detector that cuts a stream of
// 8 kHz audio into utterances. It is not safe for concurrent use: one
// goroutine (the leg's audio reader) feeds it.
//
// Energy rather than a spectral or neural detector: telephone audio is
// already band-limited and level-controlled, the decision runs for every
// 20 ms of every call (thousands of calls per core), and the segment bounds
// only need to be good to a frame or two for PauseTime and MuteTime.
type Segmenter struct {
	cfg Config

	pending []int16   // samples short of a whole frame
	next    time.Time // time of the first pending sample
	started bool

	floor    float64
	levels   [flatWindow]float64 // ring of recent frame levels
	nLevels  int
	hangover int // frames left during which the floor is frozen

	state      segState
	start      time.Time // first voiced frame of the utterance
	lastVoice  time.Time // end of the last voiced frame
	voiced     int       // voiced frames in this utterance
	buf        []int16   // utterance audio, preroll included
	preroll    []int16   // ring of the latest PreRoll of audio while silent
	post       int       // samples to take after lastVoice (postroll)
	timeBroken bool
	// noiseSegment: the stationarity test fired during the utterance.
	noiseSegment bool
	minLvl       float64 // level range of the utterance's voiced frames,
	maxLvl       float64 // for the noise test

	playing     bool
	silentSince time.Time // start of the current silence period
	muted       bool      // Mute already reported for this silence
}

// NewSegmenter returns a segmenter with cfg (zero fields take defaults).
func NewSegmenter(cfg Config) *Segmenter {
	return &Segmenter{cfg: cfg.withDefaults(), floor: initialFloor}
}

// SetPlaying tells the segmenter whether audio is being played to the
// caller now. TimeBreak is only reported while playing, and silence counts
// towards MuteTime only while not playing: a caller listening to a prompt
// is not mute. at is when playback started or stopped.
func (s *Segmenter) SetPlaying(playing bool, at time.Time) {
	if s.playing == playing {
		return
	}
	s.playing = playing
	if !playing {
		s.silentSince, s.muted = at, false
	}
}

// SetMuteTime changes MuteTime from now on (a SmartCall callback may answer
// a new mute_time).
func (s *Segmenter) SetMuteTime(d time.Duration) { s.cfg.MuteTime = d }

// Floor is the current noise floor estimate in dBFS.
func (s *Segmenter) Floor() float64 { return s.floor }

// Write feeds audio that began at at: normally one 20 ms frame of
// FrameSamples, but any length is accepted (the remainder of a partial
// frame waits for the next call). It returns what the audio completed, in
// order.
func (s *Segmenter) Write(frame []int16, at time.Time) []Event {
	if !s.started {
		s.started = true
		s.silentSince = at
	}
	if len(s.pending) > 0 {
		// A partial frame waits. If this audio does not follow it (packets
		// lost, or the stream paused), the partial frame is stale: drop it
		// rather than shift every later timestamp.
		if d := at.Sub(s.next.Add(time.Duration(len(s.pending)) * time.Second / Rate)); d < -frameDur || d > frameDur {
			s.pending = s.pending[:0]
		}
	}
	if len(s.pending) == 0 {
		s.next = at
	}
	var evs []Event
	for len(frame) > 0 {
		n := min(FrameSamples-len(s.pending), len(frame))
		s.pending = append(s.pending, frame[:n]...)
		frame = frame[n:]
		if len(s.pending) < FrameSamples {
			break
		}
		evs = s.frame(s.pending, s.next, evs)
		s.pending = s.pending[:0]
		s.next = s.next.Add(frameDur)
	}
	return evs
}

// Flush ends an utterance in progress (the call is ending) and returns its
// SpeechEnd, if any.
func (s *Segmenter) Flush(at time.Time) []Event {
	if s.state == stSilence {
		return nil
	}
	if s.state == stOnset {
		s.reset()
		return nil
	}
	return []Event{s.end(at)}
}

// level is the frame's RMS in dBFS.
func level(f []int16) float64 {
	var sum float64
	for _, v := range f {
		x := float64(v)
		sum += x * x
	}
	if sum == 0 {
		return silentLevel
	}
	return max(10*math.Log10(sum/float64(len(f))/(32768*32768)), silentLevel)
}

// frame processes one whole frame that began at t.
func (s *Segmenter) frame(f []int16, t time.Time, evs []Event) []Event {
	c := &s.cfg
	lv := level(f)
	end := t.Add(frameDur)
	if s.nLevels == 0 {
		// Start from the first frame's level, not a guess: a line that
		// opens onto steady noise must not look like speech while the floor
		// climbs to it. If the first frame is speech, the floor falls back
		// within a few frames of the first pause.
		s.floor = lv
	}
	s.levels[s.nLevels%flatWindow] = lv
	s.nLevels++

	thr := s.floor + c.Threshold
	if s.state == stSpeech {
		// Hysteresis: once talking, a slightly weaker frame still counts.
		thr -= 3
	}
	voice := lv >= thr && lv >= c.MinLevel

	// Noise floor.
	switch {
	case lv < s.floor:
		s.floor += (lv - s.floor) * floorDown
	case voice:
		s.hangover = int(c.Hangover / frameDur)
	case s.hangover > 0:
		s.hangover--
	default:
		s.floor += (lv - s.floor) * floorUp
	}
	if s.flat() {
		// A second of steady level is noise, whatever its loudness: learn
		// it now rather than over the slow rise.
		s.floor = s.meanLevel()
		if voice {
			voice = false
			if s.state == stSpeech {
				s.noiseSegment = true
			}
		}
	}

	switch s.state {
	case stSilence:
		if voice {
			s.state = stOnset
			s.start, s.lastVoice = t, end
			s.voiced = 1
			s.minLvl, s.maxLvl = lv, lv
			s.buf = append(s.buf[:0], s.preroll...)
			s.buf = append(s.buf, f...)
			s.timeBroken = false
			s.noiseSegment = false
			if s.cfg.MinSpeech <= frameDur {
				evs = s.confirm(end, evs)
			}
		} else {
			s.keepPreroll(f)
			evs = s.checkMute(end, evs)
		}
	case stOnset:
		s.buf = append(s.buf, f...)
		if voice {
			s.voiced++
			s.lastVoice = end
			s.track(lv)
			if time.Duration(s.voiced)*frameDur >= c.MinSpeech {
				evs = s.confirm(end, evs)
			}
		} else if end.Sub(s.lastVoice) > c.MinSpeech {
			// A click: forget it, keeping its audio as preroll.
			s.preroll = append(s.preroll[:0], tail(s.buf, sampleCount(c.PreRoll))...)
			s.state = stSilence
			evs = s.checkMute(end, evs)
		}
	case stSpeech:
		s.buf = append(s.buf, f...)
		if voice {
			s.voiced++
			s.lastVoice = end
			s.track(lv)
		}
		switch {
		case s.noiseSegment, end.Sub(s.lastVoice) >= c.PauseTime, end.Sub(s.start) >= c.MaxSpeech:
			evs = append(evs, s.end(end))
		case c.TimeBreak > 0 && s.playing && !s.timeBroken && end.Sub(s.start) >= c.TimeBreak:
			s.timeBroken = true
			evs = append(evs, Event{Kind: TimeBreak, At: end, Start: s.start, End: s.lastVoice})
		}
	}
	return evs
}

func (s *Segmenter) track(lv float64) {
	s.minLvl = min(s.minLvl, lv)
	s.maxLvl = max(s.maxLvl, lv)
}

func (s *Segmenter) confirm(at time.Time, evs []Event) []Event {
	s.state = stSpeech
	return append(evs, Event{Kind: SpeechStart, At: at, Start: s.start})
}

// end closes the utterance at at and returns its SpeechEnd.
func (s *Segmenter) end(at time.Time) Event {
	c := &s.cfg
	// The buffer runs from the preroll to at; cut it PostRoll after the
	// last voiced frame.
	keep := len(s.buf) - sampleCount(at.Sub(s.lastVoice)) + sampleCount(c.PostRoll)
	keep = min(max(keep, 0), len(s.buf))
	ev := Event{
		Kind:  SpeechEnd,
		At:    at,
		Start: s.start,
		End:   s.lastVoice,
		Audio: &dialtone.Audio{Samples: append([]int16(nil), s.buf[:keep]...)},
		Noise: s.noiseSegment || s.maxLvl-s.minLvl < flatSpread,
	}
	s.reset()
	if !ev.Noise {
		// Steady noise is not the caller speaking: the silence they keep
		// goes on counting towards MuteTime.
		s.silentSince, s.muted = s.lastVoice, false
	}
	return ev
}

func (s *Segmenter) reset() {
	s.state = stSilence
	s.buf = s.buf[:0]
	s.preroll = s.preroll[:0]
	s.noiseSegment = false
}

// checkMute reports Mute once when silence has lasted MuteTime.
func (s *Segmenter) checkMute(at time.Time, evs []Event) []Event {
	if s.cfg.MuteTime <= 0 || s.playing || s.muted || at.Sub(s.silentSince) < s.cfg.MuteTime {
		return evs
	}
	s.muted = true
	return append(evs, Event{Kind: Mute, At: at, Start: s.silentSince})
}

func (s *Segmenter) keepPreroll(f []int16) {
	n := sampleCount(s.cfg.PreRoll)
	s.preroll = append(s.preroll, f...)
	if over := len(s.preroll) - n; over > 0 {
		s.preroll = append(s.preroll[:0], s.preroll[over:]...)
	}
}

// flat reports whether the last flatWindow frames all lie within
// flatSpread dB of each other and above digital silence.
func (s *Segmenter) flat() bool {
	if s.nLevels < flatWindow {
		return false
	}
	lo, hi := s.levels[0], s.levels[0]
	for _, v := range s.levels {
		lo, hi = min(lo, v), max(hi, v)
	}
	return lo > silentLevel && hi-lo < flatSpread
}

func (s *Segmenter) meanLevel() float64 {
	var sum float64
	for _, v := range s.levels {
		sum += v
	}
	return sum / flatWindow
}

func sampleCount(d time.Duration) int {
	if d <= 0 {
		return 0
	}
	return int(d * Rate / time.Second)
}

func tail(s []int16, n int) []int16 {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}
