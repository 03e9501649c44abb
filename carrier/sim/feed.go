package sim

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/media"
	"github.com/dialtone-voice/dialtone/media/detect/synth"
	"github.com/dialtone-voice/dialtone/speech"
)

// A simulated subscriber on a media stream (a SmartCall's agent, a fork):
// what the business's application plays reaches it through Feed, frame by
// frame in real time, and is noted in its transcript once per utterance
// ("stream": how long, and the words when the network has a recogniser);
// each utterance counts as a prompt that ended, so the subscriber answers
// with its next say line and its keys after a prompt, as it does to
// prompts. Its say lines, once it is fed, are espeak-ng speech in what the
// platform hears (TapAudio), at the time it says them, so an agent can be
// tested end to end without a phone.

// streamTimeout bounds the recognition of one utterance of the stream.
const streamRecognition = 30 * time.Second

// maxUtterance bounds the audio kept per utterance for the recogniser.
const maxUtterance = 30 * 8000

// SetRecognizer sets the recogniser of what media streams play to the
// subscribers (nil: durations only).
func (n *Network) SetRecognizer(r speech.Recognizer) {
	n.spkMu.Lock()
	n.rec = r
	n.spkMu.Unlock()
}

func (n *Network) recognizer() speech.Recognizer {
	n.spkMu.Lock()
	defer n.spkMu.Unlock()
	return n.rec
}

// spokenLine is a say line in the subscriber's audio: its espeak-ng
// speech from offset at after the answer.
type spokenLine struct {
	at  int // samples after the answer
	pcm []int16
}

// streamHeard follows what the stream plays (the Feed goroutine's own).
type streamHeard struct {
	talking  bool
	from     time.Time // clock time the utterance began
	first    time.Time // wall time of its first loud frame
	lastLoud time.Time
	pcm      []int16
}

// Feed plays what src gives to the subscriber, a 20 ms frame each 20 ms of
// wall time (dialtone.AudioFeed), until stop or the end of the leg.
func (l *leg) Feed(src dialtone.PCMSource) (func(), error) {
	if src == nil {
		return nil, fmt.Errorf("sim: feed on leg %s of %s: nil source", l.name, l.callID)
	}
	l.mu.Lock()
	if l.ended() {
		l.mu.Unlock()
		return nil, ErrLegEnded
	}
	if !l.answered {
		l.mu.Unlock()
		return nil, errNotAnswered
	}
	if l.feedStop != nil {
		close(l.feedStop)
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	l.feedStop = stop
	l.mu.Unlock()
	l.renderSay()
	l.note("stream", "connected")
	go l.feed(src, stop, done)
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			if l.feedStop == stop {
				close(stop)
				l.feedStop = nil
			}
			l.mu.Unlock()
			<-done
		})
	}, nil
}

var _ dialtone.AudioFeed = (*leg)(nil)

// feed reads src in real time, a frame each 20 ms (paced).
func (l *leg) feed(src dialtone.PCMSource, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	var h streamHeard
	defer l.heardStream(&h, time.Now(), true)
	frame := make([]int16, frameSamples)
	l.paced(stop, func() {
		n := src.Read(frame)
		wall := time.Now()
		if n > 0 {
			l.mu.Lock()
			if l.rec != nil {
				l.rec.addLive(0, wall, l.now(), frame)
			}
			l.mu.Unlock()
		}
		if n > 0 && level(frame) >= heardLevel {
			if !h.talking {
				h.talking, h.from, h.first, h.pcm = true, l.now(), wall, h.pcm[:0]
			}
			h.lastLoud = wall
		}
		if h.talking && len(h.pcm)+len(frame) <= maxUtterance {
			h.pcm = append(h.pcm, frame...)
		}
		l.heardStream(&h, wall, false)
	}, nil)
}

// heardStream closes the stream's utterance when it has been quiet for
// heardEnd (or at once when force): it is noted, recognised when the
// network has a recogniser, and counts as a prompt that ended.
func (l *leg) heardStream(h *streamHeard, wall time.Time, force bool) {
	if !h.talking || (!force && wall.Sub(h.lastLoud) < heardEnd) {
		return
	}
	h.talking = false
	d := h.lastLoud.Sub(h.first) + frameTime
	at := h.from
	text := fmt.Sprintf("%.1f s from the stream", d.Seconds())
	if r := l.net.recognizer(); r != nil && len(h.pcm) > 0 {
		pcm := append([]int16(nil), h.pcm...)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), streamRecognition)
			defer cancel()
			res, err := r.Recognize(ctx, &dialtone.Audio{Samples: pcm, Label: "stream"}, speech.Hints{})
			words := ""
			if err != nil {
				words = " (not recognised: " + err.Error() + ")"
			} else {
				words = fmt.Sprintf(": %q", res.Text)
			}
			l.net.note(l.callID, TranscriptEntry{At: at, Leg: l.name, Kind: "stream", Text: text + words})
		}()
	} else {
		l.net.note(l.callID, TranscriptEntry{At: at, Leg: l.name, Kind: "stream", Text: text})
	}
	if force {
		return
	}
	l.mu.Lock()
	l.promptsEnded++
	l.mu.Unlock()
	select {
	case l.kick <- struct{}{}:
	default:
	}
}

// renderSay makes the espeak-ng speech of the subscriber's say lines, once,
// in the background: a line said before its speech is ready is said in
// silence.
func (l *leg) renderSay() {
	l.mu.Lock()
	if l.sayAudio != nil || len(l.beh.Say) == 0 {
		l.mu.Unlock()
		return
	}
	l.sayAudio = make([][]int16, len(l.beh.Say))
	l.mu.Unlock()
	voice := l.beh.Voice
	if voice == "" {
		voice = DefaultVoice
	}
	go func() {
		for i, text := range l.beh.Say {
			ctx, cancel := context.WithTimeout(context.Background(), synthTimeout)
			a, err := l.net.speaker().Speak(ctx, text, voice, 0, 0)
			cancel()
			if err != nil {
				l.note("answer_audio_error", err.Error())
				continue
			}
			s := synth.Trim(a.Samples)
			pcm := media.DecodeMuLaw(media.EncodeMuLaw(synth.Scale(s, speechLevel)))
			l.mu.Lock()
			l.sayAudio[i] = pcm
			l.mu.Unlock()
		}
	}()
}

// sayAt puts say line i's speech into the subscriber's audio from clock
// time at on (or from what the platform has heard so far, if later).
func (l *leg) sayAt(i int, at time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if i >= len(l.sayAudio) || l.sayAudio[i] == nil {
		return
	}
	pos := max(synth.Samples(at.Sub(l.answeredAt)), l.tapHigh)
	l.spoken = append(l.spoken, spokenLine{at: pos, pcm: l.sayAudio[i]})
}

// mixSpoken adds the say lines' speech overlapping [pos, pos+len(frame))
// to frame; l.mu is held.
func (l *leg) mixSpoken(frame []int16, pos int) {
	for _, s := range l.spoken {
		if pos+len(frame) <= s.at || pos >= s.at+len(s.pcm) {
			continue
		}
		for i := range frame {
			j := pos + i - s.at
			if j >= 0 && j < len(s.pcm) {
				frame[i] = clamp16(int32(frame[i]) + int32(s.pcm[j]))
			}
		}
	}
	if end := pos + len(frame); end > l.tapHigh {
		l.tapHigh = end
	}
}

func clamp16(v int32) int16 {
	return int16(min(max(v, -32768), 32767))
}
