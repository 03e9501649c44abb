package speech

import (
	"context"
	"fmt"
	"time"

	"github.com/dialtone-voice/dialtone"
)

// digitSplit cuts a spoken code into single digits. A code is read with a
// short pause after each digit ("1, 2, 3, 4"; see media.SpokenText), far
// shorter than a SmartCall PauseTime, so this bypasses ConfigFor's clamp.
var digitSplit = Config{
	PauseTime: 120 * time.Millisecond,
	MinSpeech: 60 * time.Millisecond,
	PreRoll:   100 * time.Millisecond,
	PostRoll:  100 * time.Millisecond,
}

// RecognizeDigits recognises a spoken digit string ("one, two, three,
// four" → "1234") with PocketSphinx from the Debian packages. It is the
// oracle of the telephony tests: what a person on the line would have
// understood of a verification code.
func RecognizeDigits(ctx context.Context, audio *dialtone.Audio) (string, error) {
	var p PocketSphinx
	return p.RecognizeDigits(ctx, audio)
}

// RecognizeDigits recognises a spoken digit string. The audio is cut at
// the pauses between digits and each piece is decoded with a one-digit
// grammar: PocketSphinx recognises isolated digits reliably, but decoding a
// run of them with a "digits+" grammar inserts and drops words freely.
func (p *PocketSphinx) RecognizeDigits(ctx context.Context, audio *dialtone.Audio) (string, error) {
	if err := checkAudio(audio); err != nil {
		return "", err
	}
	var out []byte
	for _, seg := range Split(audio, digitSplit) {
		res, err := p.Recognize(ctx, seg, Hints{Grammar: DigitsGrammar})
		if err != nil {
			return "", fmt.Errorf("digit %d: %w", len(out)+1, err)
		}
		out = append(out, Digits(res.Text)...)
	}
	return string(out), nil
}

// Split runs a Segmenter with cfg over recorded audio and returns its
// utterances (steady noise left out).
func Split(audio *dialtone.Audio, cfg Config) []*dialtone.Audio {
	s := NewSegmenter(cfg)
	var t0 time.Time // any origin: only the audio is used
	var segs []*dialtone.Audio
	take := func(evs []Event) {
		for _, ev := range evs {
			if ev.Kind == SpeechEnd && !ev.Noise {
				segs = append(segs, ev.Audio)
			}
		}
	}
	// Open with silence: the segmenter takes its first frame as the noise
	// floor, and recorded audio often starts right on a word.
	silence := make([]int16, FrameSamples)
	for range 5 {
		take(s.Write(silence, t0))
	}
	for i := 0; i < len(audio.Samples); i += FrameSamples {
		j := min(i+FrameSamples, len(audio.Samples))
		take(s.Write(audio.Samples[i:j], t0.Add(sampleTime(i))))
	}
	// Close with silence so that a last word ending at the very end of the
	// audio is not lost to the pause it never got.
	end := sampleTime(len(audio.Samples))
	for d := time.Duration(0); d < s.cfg.PauseTime+frameDur; d += frameDur {
		take(s.Write(silence, t0.Add(end+d)))
	}
	take(s.Flush(t0.Add(end + s.cfg.PauseTime)))
	return segs
}

func sampleTime(i int) time.Duration { return time.Duration(i) * time.Second / Rate }
