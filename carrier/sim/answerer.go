package sim

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/carrier/progress"
	"github.com/dialtone-voice/dialtone/media"
	"github.com/dialtone-voice/dialtone/media/detect"
	"github.com/dialtone-voice/dialtone/media/detect/synth"
)

// Who answers, as the platform hears it, and what the network plays
// before: the cases of answering-machine detection (issue 18), so that a
// business can try its handling of answered_by without a phone.
//
// An answered subscriber has an answer track: what it sends from the
// answer on (a person's hello, a voicemail box's espeak-ng greeting and
// beep, a fax machine's tones; then silence), made while the call rings
// and passed through G.711 as a line would. A call that listens reads it
// through TapAudio (dialtone.AudioTap) at the pace of the network's clock;
// what it holds is noted in the transcript when it is heard (hello,
// greeting, beep, fax), listened to or not.
//
// Early media: a subscriber whose network plays a tone while it rings
// (EarlyMedia) has that tone read by the network, as a SIP trunk's
// carrier reads a 183's RTP (package progress).

// Levels of the answer track: speech at −20 dBFS RMS, a beep at −14 dBFS,
// tones at −18 dBFS (the corpus's levels lie around these).
const (
	speechLevel = -20.0
	beepLevel   = -14.0
	toneLevel   = -18.0
)

// Timing of the answer track.
const (
	// helloAfter: a person speaks a moment after picking up.
	helloAfter = 400 * time.Millisecond
	// greetingAfter: a mailbox starts its greeting at once, nearly.
	greetingAfter = 300 * time.Millisecond
	// beepGap and beep: the pause before the beep, and the beep (1 kHz,
	// half a second: the common mailbox beep).
	beepGap  = 500 * time.Millisecond
	beepFreq = 1000.0
	beepLen  = 500 * time.Millisecond
	// greetingPause separates the repeats of a greeting made to last
	// GreetingLength.
	greetingPause = 400 * time.Millisecond
	// faxFor: a fax machine sends CED, then its V.21 preamble again every
	// few seconds, for this long.
	faxFor = 30 * time.Second
	// maxEarly bounds the early media read (as a SIP leg keeps a minute).
	maxEarly = time.Minute
	// tapTick: how often a listening call is handed the audio due.
	tapTick = 100 * time.Millisecond
	// synthTimeout bounds making an answer track.
	synthTimeout = 30 * time.Second
)

// mark is something the answer track holds from offset on, for the
// transcript.
type mark struct {
	at   time.Duration
	kind string
	text string
}

// SetSpeaker sets the speech synthesiser of hellos and greetings (by
// default espeak-ng through a cache of 16 MB).
func (n *Network) SetSpeaker(s dialtone.Speaker) {
	n.spkMu.Lock()
	n.spk = s
	n.spkMu.Unlock()
}

func (n *Network) speaker() dialtone.Speaker {
	n.spkMu.Lock()
	defer n.spkMu.Unlock()
	if n.spk == nil {
		n.spk = media.NewCachedSpeaker(&media.ESpeak{}, 16<<20)
	}
	return n.spk
}

// hasAnswerTrack reports whether b sends anything when it answers.
func (b Behavior) hasAnswerTrack() bool {
	return b.AnsweredBy.OrPerson() != AnsweredByPerson || b.Hello != ""
}

// answerTrack makes what b sends from the answer on, and its marks.
func (n *Network) answerTrack(ctx context.Context, b Behavior) ([]int16, []mark, error) {
	voice := b.Voice
	if voice == "" {
		voice = DefaultVoice
	}
	speak := func(text string) ([]int16, error) {
		a, err := n.speaker().Speak(ctx, text, voice, 0, 0)
		if err != nil {
			return nil, fmt.Errorf("sim: speak %q in %s: %w", text, voice, err)
		}
		s := synth.Trim(a.Samples)
		if len(s) == 0 {
			return nil, fmt.Errorf("sim: %s said nothing for %q", voice, text)
		}
		return synth.Scale(s, speechLevel), nil
	}
	var pcm []int16
	var marks []mark
	switch b.AnsweredBy.OrPerson() {
	case AnsweredByPerson:
		if b.Hello == "" {
			return nil, nil, nil
		}
		s, err := speak(b.Hello)
		if err != nil {
			return nil, nil, err
		}
		pcm = synth.Concat(synth.Silence(helloAfter), s)
		marks = append(marks, mark{helloAfter, "hello", b.Hello})
	case AnsweredByVoicemail:
		text := b.Greeting
		if text == "" {
			text = DefaultGreeting
		}
		s, err := speak(text)
		if err != nil {
			return nil, nil, err
		}
		if want := b.GreetingLength; want > 0 {
			g := s
			for synth.Dur(len(g)) < want {
				g = synth.Concat(g, synth.Silence(greetingPause), s)
			}
			s = fadeOut(g[:synth.Samples(want)])
		}
		pcm = synth.Concat(synth.Silence(greetingAfter), s)
		marks = append(marks, mark{greetingAfter, "greeting", fmt.Sprintf("%s (%.1f s)", text, synth.Dur(len(s)).Seconds())})
		if !b.NoBeep {
			pcm = synth.Concat(pcm, synth.Silence(beepGap))
			marks = append(marks, mark{synth.Dur(len(pcm)), "beep", fmt.Sprintf("%.0f Hz, %v", beepFreq, beepLen)})
			pcm = synth.Concat(pcm, synth.Beep(beepFreq, beepLen, beepLevel))
		}
	case AnsweredByFax:
		v21, _ := detect.FindPattern(detect.ToneFaxV21, detect.PlanFax)
		pcm = synth.Concat(synth.Silence(greetingAfter), synth.Fax(3*time.Second, 1500*time.Millisecond, toneLevel))
		for synth.Dur(len(pcm)) < faxFor {
			pcm = synth.Concat(pcm, synth.Silence(1500*time.Millisecond), v21.Synthesize(1500*time.Millisecond, toneLevel))
		}
		marks = append(marks, mark{greetingAfter, "fax", "CED 2100 Hz, then V.21 flags"})
	}
	// Through the line: G.711 µ-law, as a trunk delivers it.
	return media.DecodeMuLaw(media.EncodeMuLaw(pcm)), marks, nil
}

// fadeOut ramps the last 10 ms of s down, so that a greeting cut short
// does not end in a click.
func fadeOut(s []int16) []int16 {
	n := min(synth.Samples(10*time.Millisecond), len(s))
	for i := range n {
		j := len(s) - n + i
		s[j] = int16(float64(s[j]) * float64(n-i) / float64(n))
	}
	return s
}

// prepareAnswer starts making the leg's answer track, if it has one; the
// subscriber waits for it before it answers (ready).
func (l *leg) prepareAnswer() {
	if !l.beh.Result.Answers() || !l.beh.hasAnswerTrack() {
		return
	}
	l.trackReady = make(chan struct{})
	go func() {
		defer close(l.trackReady)
		ctx, cancel := context.WithTimeout(context.Background(), synthTimeout)
		defer cancel()
		go func() {
			select {
			case <-l.hangupRq:
				cancel()
			case <-ctx.Done():
			}
		}()
		pcm, marks, err := l.net.answerTrack(ctx, l.beh)
		if err != nil {
			// The subscriber still answers, in silence; the transcript
			// says why.
			l.note("answer_audio_error", err.Error())
			return
		}
		l.mu.Lock()
		l.track, l.marks = pcm, marks
		l.mu.Unlock()
	}()
}

// awaitTrack waits for the answer track; false means the platform hung
// up meanwhile.
func (l *leg) awaitTrack() bool {
	if l.trackReady == nil {
		return true
	}
	select {
	case <-l.trackReady:
		return true
	case <-l.hangupRq:
		return false
	}
}

// TapAudio hands f what the subscriber sends from the answer on
// (dialtone.AudioTap): its answer track, then silence, in 20 ms frames,
// at the pace of the network's clock, from the start whenever it is
// called.
func (l *leg) TapAudio(f func(pcm []int16, sinceAnswer time.Duration)) (func(), error) {
	l.mu.Lock()
	if l.ended() {
		l.mu.Unlock()
		return nil, ErrLegEnded
	}
	if !l.answered {
		l.mu.Unlock()
		return nil, errNotAnswered
	}
	start, track := l.answeredAt, l.track
	l.mu.Unlock()
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		frame := make([]int16, frameSamples)
		pos := 0
		for {
			due := synth.Samples(l.now().Sub(start))
			for pos+frameSamples <= due {
				clear(frame)
				if pos < len(track) {
					copy(frame, track[pos:])
				}
				l.mu.Lock()
				l.mixSpoken(frame, pos)
				l.mu.Unlock()
				select {
				case <-stop:
					return
				default:
				}
				f(frame, synth.Dur(pos))
				pos += frameSamples
			}
			t := l.net.clock.NewTimer(tapTick)
			select {
			case <-t.C:
			case <-stop:
				t.Stop()
				return
			case <-l.done:
				t.Stop()
				return
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() { close(stop) })
		<-done
	}, nil
}

var _ dialtone.AudioTap = (*leg)(nil)

// earlyTone reads the tone the network plays while the leg rings for
// ringFor (forever: until the platform gives up). When it is one that
// ends the call (busy, congestion, special information), it returns
// when: Grace after the tone is confirmed, if that comes before ringFor
// runs out.
func (l *leg) earlyTone(ringFor time.Duration, forever bool) (cutAfter time.Duration, tone detect.Tone, cut bool) {
	if l.beh.EarlyMedia == "" {
		return 0, detect.Tone{}, false
	}
	p, ok := earlyPattern(l.beh.EarlyMedia, l.beh.TonePlan)
	if !ok {
		return 0, detect.Tone{}, false
	}
	span := maxEarly
	if !forever && ringFor < span {
		span = ringFor
	}
	if span <= 0 {
		return 0, detect.Tone{}, false
	}
	l.note("early_media", p.Name)
	pcm := media.DecodeMuLaw(media.EncodeMuLaw(p.Synthesize(span, toneLevel)))
	l.early = progress.NewReader(nil)
	t0 := time.Unix(0, 0)
	for i := 0; i < len(pcm); i += frameSamples {
		l.early.Write(pcm[i:min(i+frameSamples, len(pcm))], t0.Add(synth.Dur(i)))
		if t, ok := l.early.Decisive(); ok {
			after := t.At.Sub(t0) + progress.Grace
			if forever || after < ringFor {
				return after, t, true
			}
			break
		}
	}
	return 0, detect.Tone{}, false
}

// earlyPattern is the tone of kind in plan (CN when ""); the special
// information tone of plans without one of their own is ITU-T E.180's.
func earlyPattern(kind EarlyTone, plan string) (detect.Pattern, bool) {
	switch plan {
	case "", "CN":
		plan = detect.PlanChina
	case "EU":
		plan = detect.PlanEurope
	case "NA":
		plan = detect.PlanNorthAmerica
	}
	if p, ok := detect.FindPattern(detect.ToneKind(kind), plan); ok {
		return p, true
	}
	if kind == EarlySIT {
		return detect.FindPattern(detect.ToneSIT, detect.PlanITU)
	}
	return detect.Pattern{}, false
}

// failTone ends a ringing leg the way a carrier gives up on a decisive
// tone in early media: CANCEL, and the tone's failure.
func (l *leg) failTone(t detect.Tone) {
	reason, _ := progress.Reason(t.Kind)
	l.note("failed", string(reason)+": "+t.Name)
	l.finish()
	detail := map[string]string{"sip_status": "487", "reason": string(t.Kind) + " tone in early media",
		progress.DetailTone: string(t.Kind), progress.DetailToneName: t.Name}
	l.send(dialtone.LegEvent{Kind: dialtone.LegFailed, At: l.now(), Reason: reason, Detail: detail})
}
