package media

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/dialtone-voice/dialtone"
)

// SpeakPrompt synthesises a TTS prompt with speaker: the prompt's voice, or
// VoiceFor its text; verification codes read character by character (see
// SpokenText). The audio's Label is "<code>: <text>" for transcripts.
// speed and volume are Alibaba's Speed and Volume, passed to the speaker.
func SpeakPrompt(ctx context.Context, speaker dialtone.Speaker, prompt dialtone.Prompt, speed, volume int) (*dialtone.Audio, error) {
	if !prompt.IsTTS() {
		return nil, fmt.Errorf("tts: prompt %s is voice file %s, not text (use LoadVoiceFile)", prompt.Code, prompt.FileCode)
	}
	text := SpokenText(prompt)
	voice := prompt.Voice
	if voice == "" {
		voice = VoiceFor(text)
	}
	a, err := speaker.Speak(ctx, text, voice, speed, volume)
	if err != nil {
		return nil, fmt.Errorf("tts %s: %w", prompt.Code, err)
	}
	if a == nil {
		return nil, errors.New("tts: speaker returned no audio")
	}
	// A shallow copy: the speaker's audio may be shared, the label is ours.
	out := *a
	out.Label = prompt.Text
	if prompt.Code != "" {
		out.Label = prompt.Code + ": " + prompt.Text
	}
	return &out, nil
}

// SpokenText is the text to synthesise for a TTS prompt. For verification
// prompts every occurrence of a variable's value in the (already
// substituted) text is spaced out so that it is read character by
// character: "1 2 3 4" in Chinese text (espeak-ng's Mandarin voice would
// otherwise read 1234 as 一千二百三十四) and "1, 2, 3, 4" in other text (the
// commas give each digit its own short pause, as a person reads a code).
//
// The template is gone by the time a prompt exists, so values are found by
// matching: longer values are matched first, and an unrelated run of the
// same characters elsewhere in the text would be spaced too. Verification
// templates carry only the code, so this does not arise in practice.
func SpokenText(p dialtone.Prompt) string {
	if !p.Verification || len(p.Vars) == 0 {
		return p.Text
	}
	sep := ", "
	if containsHan(p.Text) {
		sep = " "
	}
	var values []string
	for _, v := range p.Vars {
		if len([]rune(v)) > 1 && !slices.Contains(values, v) {
			values = append(values, v)
		}
	}
	if len(values) == 0 {
		return p.Text
	}
	// strings.Replacer tries old strings in argument order at each
	// position, so longer values go first ("1234" before "12").
	slices.SortFunc(values, func(a, b string) int {
		if d := len(b) - len(a); d != 0 {
			return d
		}
		return strings.Compare(a, b)
	})
	pairs := make([]string, 0, 2*len(values))
	for _, v := range values {
		pairs = append(pairs, v, spaced(v, sep))
	}
	return strings.NewReplacer(pairs...).Replace(p.Text)
}

func spaced(v, sep string) string {
	var b strings.Builder
	for i, r := range []rune(v) {
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteRune(r)
	}
	return b.String()
}
