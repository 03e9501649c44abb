package sim

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/dialtone-voice/dialtone"
)

// A simulated subscriber bridged to a leg of another carrier (a SIP trunk)
// has a real person, or a real phone, on the other side of the bridge: it
// needs a voice, and what the other party says must go somewhere.
//
// The network runs on its Clock, which may be scaled (tests run a 30 s call
// in 0.3 s) while the other carrier's media is real time: RTP is 50 frames
// of 20 ms a wall second whatever our clock says. The two are reconciled by
// keeping audio on wall time and events on the clock: the subscriber's
// voice is produced in real-time 20 ms frames by a goroutine paced by the
// wall clock, while when it starts a line, what it heard and when it hangs
// up (hangup_after) stay on the network's clock as for every other call.
// The recording places a run of live audio at the clock time the run began
// and lays it end to end from there (recording.addLive); on an unscaled
// clock, as in production, the two timelines are the same.

// Voice geometry, in wall time.
const (
	frameSamples = dialtone.MediaFrameSamples
	frameTime    = time.Duration(frameSamples) * time.Second / 8000
	// voiceLead is the pause between the bridge and the first line, as a
	// person takes a moment before speaking.
	voiceLead = 300 * time.Millisecond
	// voiceGap is the pause between lines.
	voiceGap = 700 * time.Millisecond
	// voiceCatchUp bounds the frames sent at once after the goroutine was
	// held up: a few make up for a late wake-up, more would only burst past
	// the other side's jitter queue and be cut there.
	voiceCatchUp = 5
	// heardLevel is the RMS above which a frame of the other party counts
	// as speech (G.711 silence decodes to a few units).
	heardLevel = 300
	// heardEnd is the quiet that ends an utterance of the other party: one
	// transcript entry per utterance, not one per frame.
	heardEnd = 400 * time.Millisecond
)

var errNotAnswered = errors.New("sim: leg not answered")

// heardRun follows what the other party says (under leg.mu).
type heardRun struct {
	talking  bool
	from     time.Time // clock time the utterance began
	first    time.Time // wall time of its first loud frame
	lastLoud time.Time // wall time of its last loud frame
}

// ear is a simulated leg as another carrier's leg sees it.
type ear struct{ l *leg }

// MediaIn is the sink for what the subscriber is to hear from a leg of
// another carrier (dialtone.MediaLeg).
func (l *leg) MediaIn() (dialtone.MediaSink, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ended() {
		return nil, ErrLegEnded
	}
	if !l.answered {
		return nil, errNotAnswered
	}
	return ear{l}, nil
}

// MediaOut makes the subscriber speak into sink (dialtone.MediaLeg): its
// Say lines in turn, again and again, or a generic line when it has none,
// each rendered as speech-shaped audio (voiceOf) and sent in real-time
// 20 ms frames; keys it presses go to sink too. nil stops it.
func (l *leg) MediaOut(sink dialtone.MediaSink) error {
	l.mu.Lock()
	if sink != nil {
		if l.ended() {
			l.mu.Unlock()
			return ErrLegEnded
		}
		if !l.answered {
			l.mu.Unlock()
			return errNotAnswered
		}
	}
	if l.voiceStop != nil {
		close(l.voiceStop)
		l.voiceStop = nil
	}
	l.out = sink
	var stop chan struct{}
	if sink != nil {
		stop = make(chan struct{})
		l.voiceStop = stop
	}
	l.mu.Unlock()
	if sink != nil {
		l.note("bridge", "leg of another carrier")
		go l.speak(sink, stop)
	}
	return nil
}

var _ dialtone.MediaLeg = (*leg)(nil)

// ended reports whether the leg has ended.
func (l *leg) ended() bool {
	select {
	case <-l.done:
		return true
	default:
		return false
	}
}

// WriteAudio takes what the other party says: it is recorded on channel 0
// (what this subscriber heard) and noted in the transcript once per
// utterance.
func (e ear) WriteAudio(pcm []int16) {
	l := e.l
	if len(pcm) == 0 || l.ended() {
		return
	}
	wall := time.Now()
	loud := level(pcm) >= heardLevel
	l.mu.Lock()
	at := l.now()
	if l.rec != nil {
		l.rec.addLive(0, wall, at, pcm)
	}
	h := &l.heard
	if loud {
		if !h.talking {
			h.talking, h.from, h.first = true, at, wall
		}
		h.lastLoud = wall
	}
	entry, ok := l.heardEnded(wall, false)
	l.mu.Unlock()
	if ok {
		l.net.note(l.callID, entry)
	}
}

// WriteDTMF notes keys the other party pressed.
func (e ear) WriteDTMF(keys string) {
	if keys == "" || e.l.ended() {
		return
	}
	e.l.note("heard_dtmf", keys)
}

// heardEnded closes the other party's utterance when it has been quiet for
// heardEnd (or at once when force), returning its transcript entry; l.mu
// is held.
func (l *leg) heardEnded(wall time.Time, force bool) (TranscriptEntry, bool) {
	h := &l.heard
	if !h.talking || (!force && wall.Sub(h.lastLoud) < heardEnd) {
		return TranscriptEntry{}, false
	}
	h.talking = false
	d := h.lastLoud.Sub(h.first) + frameTime
	return TranscriptEntry{At: h.from, Leg: l.name, Kind: "heard",
		Text: fmt.Sprintf("%.1f s of speech from the bridged leg", d.Seconds())}, true
}

// flushHeard notes an utterance of the other party that has ended (all
// the same when force: the bridge is over).
func (l *leg) flushHeard(force bool) {
	l.mu.Lock()
	entry, ok := l.heardEnded(time.Now(), force)
	l.mu.Unlock()
	if ok {
		l.net.note(l.callID, entry)
	}
}

// speak sends the subscriber's voice to out in real-time frames (paced)
// until stop closes or the leg ends.
func (l *leg) speak(out dialtone.MediaSink, stop <-chan struct{}) {
	defer l.flushHeard(true)
	lines := l.voiceLines()
	var (
		pos, next int
		cur       *dialtone.Audio
		quiet     = int(voiceLead / frameTime) // frames of silence before the next line
		silence   [frameSamples]int16
		frame     = make([]int16, frameSamples)
	)
	l.paced(stop, func() {
		if cur == nil && quiet <= 0 {
			cur, pos = lines[next%len(lines)], 0
			next++
			l.said(cur)
		}
		f := silence[:]
		if cur != nil {
			n := copy(frame, cur.Samples[pos:])
			clear(frame[n:])
			f = frame
			if pos += n; pos >= len(cur.Samples) {
				cur, quiet = nil, int(voiceGap/frameTime)
			}
		} else {
			quiet--
		}
		out.WriteAudio(f)
	}, func() { l.flushHeard(false) })
}

// paced calls frame once for each 20 ms frame due since it started, then
// afterTick (if set), on each tick until stop closes or the leg ends.
// Frames are counted from the start rather than from tick to tick, so
// late wake-ups do not make the clock run slow; after a long stall at
// most voiceCatchUp frames are caught up.
func (l *leg) paced(stop <-chan struct{}, frame func(), afterTick func()) {
	t := time.NewTicker(frameTime)
	defer t.Stop()
	start := time.Now()
	sent := 0
	for {
		select {
		case <-stop:
			return
		case <-l.done:
			return
		case <-t.C:
		}
		due := int(time.Since(start) / frameTime)
		if due-sent > voiceCatchUp {
			sent = due - voiceCatchUp
		}
		for ; sent < due; sent++ {
			frame()
		}
		if afterTick != nil {
			afterTick()
		}
	}
}

// said records and notes a line the subscriber starts to say into the
// bridge: channel 1 of its recording is what its peer heard.
func (l *leg) said(a *dialtone.Audio) {
	l.mu.Lock()
	if l.rec != nil {
		l.rec.add(1, l.now(), a)
	}
	l.mu.Unlock()
	l.note("voice", a.Label)
}

// voiceLines renders what the subscriber says into a bridge.
func (l *leg) voiceLines() []*dialtone.Audio {
	if len(l.beh.Say) == 0 {
		return []*dialtone.Audio{genericVoice()}
	}
	lines := make([]*dialtone.Audio, len(l.beh.Say))
	for i, s := range l.beh.Say {
		lines[i] = voiceOf(s, s)
	}
	return lines
}

// genericVoice is the line of a subscriber with no Say lines, shared by
// every call (recordings keep a reference, never a copy).
var genericVoice = sync.OnceValue(func() *dialtone.Audio {
	return voiceOf("喂，你好，听得到吗", "(simulated voice)")
})

// voiceOf renders text as speech-shaped audio lasting as long as the
// subscriber takes to say it (speechDuration): one voiced syllable per
// character, a tone rich in harmonics whose pitch follows the character,
// under a rise-and-fall envelope with a short gap. The network has no TTS
// (espeak-ng is the engine's) and needs none: what a bridge has to carry
// is talk that a listener, a level meter or a voice-activity detector on
// the other side takes for speech, where and when the line is said.
func voiceOf(text, label string) *dialtone.Audio {
	runes := []rune(text)
	if len(runes) == 0 {
		runes = []rune{'a'}
	}
	n := int(speechDuration(text) * 8000 / time.Second)
	syl := max(n/len(runes), 1)
	a := &dialtone.Audio{Samples: make([]int16, n), Label: label}
	const peak = 9000.0
	for i := range a.Samples {
		k := min(i/syl, len(runes)-1)
		f0 := 100 + float64(runes[k]%11)*12 // 100–220 Hz: a speaking voice
		ph := float64(i-k*syl) / float64(syl)
		if ph >= 0.85 {
			continue // the gap between syllables
		}
		env := math.Sin(math.Pi * ph / 0.85)
		w := 2 * math.Pi * f0 * float64(i) / 8000
		v := math.Sin(w) + 0.6*math.Sin(2*w) + 0.4*math.Sin(3*w) + 0.25*math.Sin(4*w)
		a.Samples[i] = int16(peak * env * v / 2.25)
	}
	return a
}

// level is the RMS of pcm.
func level(pcm []int16) float64 {
	var sum float64
	for _, v := range pcm {
		sum += float64(v) * float64(v)
	}
	return math.Sqrt(sum / float64(len(pcm)))
}
