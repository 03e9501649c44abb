package speech

import (
	"context"
	"math"
	"math/rand/v2"
	"os/exec"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/media"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func needESpeak(tb testing.TB) {
	tb.Helper()
	if _, err := exec.LookPath("espeak-ng"); err != nil {
		tb.Skip("espeak-ng not installed (scripts/install-deps.sh)")
	}
}

// speak synthesises English text at 8 kHz, as the SIP leg would hear it.
func speak(tb testing.TB, text string) []int16 {
	tb.Helper()
	needESpeak(tb)
	var e media.ESpeak
	a, err := e.Speak(context.Background(), text, "en", 0, 0)
	if err != nil {
		tb.Fatal(err)
	}
	return a.Samples
}

func silence(d time.Duration) []int16 { return make([]int16, sampleCount(d)) }

// noise is white noise with an RMS of dbfs.
func noise(d time.Duration, dbfs float64, seed uint64) []int16 {
	rng := rand.New(rand.NewPCG(seed, 7))
	// Uniform noise in ±a has an RMS of a/√3.
	a := math.Pow(10, dbfs/20) * 32768 * math.Sqrt(3)
	out := make([]int16, sampleCount(d))
	for i := range out {
		out[i] = int16((rng.Float64()*2 - 1) * a)
	}
	return out
}

// mix adds b into a (same length or shorter).
func mix(a, b []int16) []int16 {
	out := append([]int16(nil), a...)
	for i := range min(len(a), len(b)) {
		out[i] = int16(min(max(int32(a[i])+int32(b[i]), -32768), 32767))
	}
	return out
}

func concat(parts ...[]int16) []int16 {
	var out []int16
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// voiced is the true extent of speech in samples: from the first to the
// last sample louder than 2% of the peak.
func voiced(s []int16) (first, last int) {
	var peak int
	for _, v := range s {
		peak = max(peak, abs(int(v)))
	}
	first, last = -1, -1
	for i, v := range s {
		if abs(int(v)) > peak/50 {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	return first, last + 1
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// feed writes audio to s in 20 ms frames stamped from start and returns
// every event.
func feed(s *Segmenter, audio []int16, start time.Time) []Event {
	var evs []Event
	for i := 0; i < len(audio); i += FrameSamples {
		j := min(i+FrameSamples, len(audio))
		evs = append(evs, s.Write(audio[i:j], start.Add(sampleTime(i)))...)
	}
	return evs
}

func kinds(evs []Event) map[EventKind]int {
	m := map[EventKind]int{}
	for _, e := range evs {
		m[e.Kind]++
	}
	return m
}

func segments(evs []Event) []Event {
	var out []Event
	for _, e := range evs {
		if e.Kind == SpeechEnd && !e.Noise {
			out = append(out, e)
		}
	}
	return out
}

func near(t *testing.T, what string, got, want time.Time, tol time.Duration) {
	t.Helper()
	if d := got.Sub(want); d < -tol || d > tol {
		t.Errorf("%s = %s, want %s ±%s (off by %s)", what, got.Sub(t0), want.Sub(t0), tol, d)
	}
}

func TestSegmenterOneUtterance(t *testing.T) {
	sentence := speak(t, "Hello, I would like to speak to an operator, please.")
	first, last := voiced(sentence)
	lead := time.Second
	for _, bg := range []struct {
		name string
		dbfs float64 // background noise; 0 means digital silence
	}{{"digital silence", 0}, {"noise -55 dBFS", -55}, {"noise -45 dBFS", -45}} {
		t.Run(bg.name, func(t *testing.T) {
			audio := concat(silence(lead), sentence, silence(1500*time.Millisecond))
			if bg.dbfs != 0 {
				audio = mix(audio, noise(time.Duration(len(audio))*time.Second/Rate, bg.dbfs, 1))
			}
			s := NewSegmenter(Config{PauseTime: 700 * time.Millisecond})
			evs := feed(s, audio, t0)
			if k := kinds(evs); k[SpeechStart] != 1 || k[SpeechEnd] != 1 {
				t.Fatalf("events %v, want one SpeechStart and one SpeechEnd", k)
			}
			seg := segments(evs)
			if len(seg) != 1 {
				t.Fatalf("segment judged noise: %+v", evs)
			}
			wantStart := t0.Add(lead + sampleTime(first))
			wantEnd := t0.Add(lead + sampleTime(last))
			near(t, "start", seg[0].Start, wantStart, 100*time.Millisecond)
			near(t, "end", seg[0].End, wantEnd, 100*time.Millisecond)
			// The end is known PauseTime after the speech stops, not before.
			if lag := seg[0].At.Sub(seg[0].End); lag < 700*time.Millisecond || lag > 760*time.Millisecond {
				t.Errorf("SpeechEnd reported %s after the speech, want PauseTime", lag)
			}
			// The audio covers the speech with the rolls around it.
			wantLen := seg[0].End.Sub(seg[0].Start) + DefaultPreRoll + DefaultPostRoll
			if got := seg[0].Audio.Duration(); got < wantLen-40*time.Millisecond || got > wantLen+40*time.Millisecond {
				t.Errorf("segment audio %s, want about %s", got, wantLen)
			}
		})
	}
}

func TestSegmenterPauseTime(t *testing.T) {
	a := speak(t, "I would like to pay my bill.")
	b := speak(t, "Can you help me?")
	for _, tc := range []struct {
		gap  time.Duration
		want int
	}{
		{1200 * time.Millisecond, 2}, // longer than PauseTime: two sentences
		{300 * time.Millisecond, 1},  // shorter: one
	} {
		audio := concat(silence(500*time.Millisecond), a, silence(tc.gap), b, silence(time.Second))
		s := NewSegmenter(Config{PauseTime: 800 * time.Millisecond})
		evs := feed(s, audio, t0)
		if got := len(segments(evs)); got != tc.want {
			t.Errorf("gap %s: %d segments, want %d (%v)", tc.gap, got, tc.want, kinds(evs))
		}
	}
}

func TestSegmenterIgnoresSteadyNoise(t *testing.T) {
	// From the first frame: the floor starts at the noise.
	s := NewSegmenter(Config{MuteTime: time.Hour})
	evs := feed(s, noise(5*time.Second, -40, 2), t0)
	if len(evs) != 0 {
		t.Fatalf("constant -40 dBFS noise gave %v", kinds(evs))
	}
	if f := s.Floor(); math.Abs(f-(-40)) > 3 {
		t.Errorf("floor %.1f dBFS, want about -40", f)
	}

	// Switched on mid-call after digital silence: a step the floor cannot
	// follow at once, recognised as noise by its flat level.
	s = NewSegmenter(Config{})
	audio := concat(silence(time.Second), noise(5*time.Second, -40, 3))
	evs = feed(s, audio, t0)
	if seg := segments(evs); len(seg) != 0 {
		t.Fatalf("noise step reported as speech: %+v", seg)
	}
	if f := s.Floor(); math.Abs(f-(-40)) > 3 {
		t.Errorf("floor %.1f dBFS after the step, want about -40", f)
	}
	// Speech over that noise is still heard.
	speech := speak(t, "Yes, that is right.")
	more := mix(concat(speech, silence(1500*time.Millisecond)), noise(time.Duration(len(speech))*time.Second/Rate+1500*time.Millisecond, -40, 4))
	evs = feed(s, more, t0.Add(6*time.Second))
	if seg := segments(evs); len(seg) != 1 {
		t.Fatalf("speech over steady noise: %d segments (%v), want 1", len(seg), kinds(evs))
	}
}

func TestSegmenterMuteOncePerSilence(t *testing.T) {
	s := NewSegmenter(Config{MuteTime: time.Second, PauseTime: 500 * time.Millisecond})
	evs := feed(s, silence(3500*time.Millisecond), t0)
	mutes := 0
	for _, e := range evs {
		if e.Kind == Mute {
			mutes++
			near(t, "mute at", e.At, t0.Add(time.Second), 20*time.Millisecond)
		}
	}
	if mutes != 1 {
		t.Fatalf("%d Mute in 3.5 s of silence, want 1", mutes)
	}
	// Speech ends the silence period; the next one is reported again,
	// MuteTime after the speech ended.
	word := speak(t, "Hello?")
	at := t0.Add(3500 * time.Millisecond)
	evs = feed(s, concat(word, silence(2500*time.Millisecond)), at)
	if k := kinds(evs); k[SpeechEnd] != 1 || k[Mute] != 1 {
		t.Fatalf("after speech: %v, want one SpeechEnd and one Mute", k)
	}
	var end, mute time.Time
	for _, e := range evs {
		switch e.Kind {
		case SpeechEnd:
			end = e.End
		case Mute:
			mute = e.At
		}
	}
	near(t, "second mute", mute, end.Add(time.Second), 40*time.Millisecond)

	// While a prompt plays the caller is listening, not mute; the clock
	// starts when it stops.
	s.SetPlaying(true, at.Add(6*time.Second))
	evs = feed(s, silence(3*time.Second), at.Add(6*time.Second))
	if k := kinds(evs); k[Mute] != 0 {
		t.Fatalf("Mute while playing: %v", k)
	}
	s.SetPlaying(false, at.Add(9*time.Second))
	evs = feed(s, silence(1500*time.Millisecond), at.Add(9*time.Second))
	if k := kinds(evs); k[Mute] != 1 {
		t.Fatalf("after playback: %v, want one Mute", k)
	}
}

func TestSegmenterTimeBreak(t *testing.T) {
	long := speak(t, "Excuse me, I have been waiting for a very long time and I would like to talk to somebody now.")
	audio := concat(silence(500*time.Millisecond), long, silence(time.Second))
	for _, playing := range []bool{true, false} {
		s := NewSegmenter(Config{TimeBreak: time.Second})
		s.SetPlaying(playing, t0)
		evs := feed(s, audio, t0)
		var tb []Event
		for _, e := range evs {
			if e.Kind == TimeBreak {
				tb = append(tb, e)
			}
		}
		want := 0
		if playing {
			want = 1
		}
		if len(tb) != want {
			t.Fatalf("playing=%v: %d TimeBreak, want %d", playing, len(tb), want)
		}
		if playing {
			near(t, "time break", tb[0].At, tb[0].Start.Add(time.Second), 20*time.Millisecond)
			if k := kinds(evs); k[SpeechEnd] != 1 {
				t.Errorf("the utterance still ends once: %v", k)
			}
		}
	}
}

func TestSegmenterAnyChunkSize(t *testing.T) {
	audio := concat(silence(time.Second), speak(t, "Yes."), silence(time.Second))
	ref := segments(feed(NewSegmenter(Config{}), audio, t0))
	if len(ref) != 1 {
		t.Fatalf("%d segments", len(ref))
	}
	// RTP packets of 30 ms, or odd sizes, give the same result.
	s := NewSegmenter(Config{})
	var evs []Event
	for i, n := 0, 0; i < len(audio); i += n {
		n = min(37+i%200, len(audio)-i)
		evs = append(evs, s.Write(audio[i:i+n], t0.Add(sampleTime(i)))...)
	}
	got := segments(evs)
	if len(got) != 1 || !got[0].Start.Equal(ref[0].Start) || !got[0].End.Equal(ref[0].End) {
		t.Fatalf("chunked: %+v, framed: %+v", got, ref)
	}
}

func TestConfigFor(t *testing.T) {
	c := ConfigFor(&dialtone.SmartPlan{PauseTime: 100 * time.Millisecond, MuteTime: 5 * time.Second, ActionCodeTimeBreak: 2 * time.Second})
	if c.PauseTime != MinPauseTime || c.MuteTime != 5*time.Second || c.TimeBreak != 2*time.Second {
		t.Fatalf("%+v", c)
	}
	if c := ConfigFor(&dialtone.SmartPlan{PauseTime: 5 * time.Second}); c.PauseTime != MaxPauseTime {
		t.Fatalf("%+v", c)
	}
	if c := ConfigFor(nil); c.withDefaults().PauseTime != DefaultPauseTime {
		t.Fatalf("%+v", c)
	}
}

func BenchmarkSegmenterFrame(b *testing.B) {
	needESpeak(b)
	audio := concat(silence(time.Second), speak(b, "Hello, is anybody there?"), silence(time.Second))
	s := NewSegmenter(Config{})
	b.ResetTimer()
	for i := range b.N {
		j := (i * FrameSamples) % (len(audio) - FrameSamples)
		s.Write(audio[j:j+FrameSamples], t0.Add(time.Duration(i)*frameDur))
	}
}
