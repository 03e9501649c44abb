package speech

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/media"
)

// MaxUtterance bounds the audio one Recognize call accepts. It matches
// DefaultMaxSpeech: the segmenter never produces more, and anything longer
// is a mistake that would occupy a recogniser for minutes.
const MaxUtterance = DefaultMaxSpeech

// ErrTooLong reports audio longer than MaxUtterance.
var ErrTooLong = errors.New("speech: utterance too long")

// Hints tell a recogniser what to listen for. All fields are optional; the
// first of Grammar, Words and Keywords that is set decides the mode, then
// Model, then the engine's default.
type Hints struct {
	// Model names a grammar or model configured in the engine (SmartCall
	// AsrModelID, or a per-account name). Engines pass it on (network) or
	// look it up (PocketSphinx.Models).
	Model string
	// Grammar is a JSGF grammar, for engines that take one.
	Grammar string
	// Words are the utterances expected, one word or phrase each ("yes",
	// "no", "speak to an operator"); the engine builds a grammar of them.
	Words []string
	// Keywords are phrases to spot inside free speech, optionally with a
	// PocketSphinx threshold ("operator /1e-20/").
	Keywords []string
	// Language is a BCP 47 tag ("en-US", "zh-CN") for engines that serve
	// several; PocketSphinx from Debian is English only.
	Language string
	// Account is the account whose call is recognised: a network engine's
	// requests count against its outbound caps.
	Account string
}

func (h Hints) empty() bool {
	return h.Grammar == "" && len(h.Words) == 0 && len(h.Keywords) == 0
}

// Result is what was recognised. Text is "" when nothing was.
type Result struct {
	Text string
	// Confidence is the engine's score in 0…1. PocketSphinx reports word
	// posteriors, which are 1 in grammar mode (the grammar leaves no
	// alternative) and meaningful in keyword mode.
	Confidence float64
}

// Recognizer turns one utterance (8 kHz mono, as Segmenter cuts it) into
// text. Implementations must be safe for concurrent use: every call's
// listener shares one.
type Recognizer interface {
	Recognize(ctx context.Context, audio *dialtone.Audio, hints Hints) (Result, error)
}

// EncodeWAV renders audio as a 16-bit mono WAV file at Rate.
func EncodeWAV(a *dialtone.Audio) ([]byte, error) {
	var b bytes.Buffer
	if err := media.EncodeWAV(&b, a.Samples, Rate, 1); err != nil {
		return nil, fmt.Errorf("speech: encoding WAV: %w", err)
	}
	return b.Bytes(), nil
}

func checkAudio(a *dialtone.Audio) error {
	if a == nil {
		return errors.New("speech: no audio")
	}
	if d := a.Duration(); d > MaxUtterance {
		return fmt.Errorf("%w: %s (max %s)", ErrTooLong, d.Round(time.Millisecond), MaxUtterance)
	}
	return nil
}

// validPhrase accepts a word or phrase for a grammar or keyword list:
// letters, apostrophes, hyphens and single spaces. Anything else could
// change the JSGF grammar's structure (| ; < > * + ( ) [ ]) or the
// keyword file's threshold syntax.
func validPhrase(p string) bool {
	if p == "" || len(p) > 200 || strings.TrimSpace(p) != p || strings.Contains(p, "  ") {
		return false
	}
	for _, r := range p {
		if !unicode.IsLetter(r) && r != '\'' && r != '-' && r != ' ' {
			return false
		}
	}
	return true
}

// WordsGrammar builds a JSGF grammar accepting exactly one of words
// (lower-cased, as PocketSphinx's dictionary spells them).
func WordsGrammar(words []string) (string, error) {
	if len(words) == 0 {
		return "", errors.New("speech: no words for a grammar")
	}
	alts := make([]string, 0, len(words))
	for _, w := range words {
		w = strings.ToLower(strings.TrimSpace(w))
		if !validPhrase(w) {
			return "", fmt.Errorf("speech: %q is not a plain word or phrase", w)
		}
		alts = append(alts, w)
	}
	return "#JSGF V1.0;\ngrammar words;\npublic <utterance> = " + strings.Join(alts, " | ") + ";\n", nil
}

// DigitsGrammar is a JSGF grammar of one spoken digit ("oh" is zero).
const DigitsGrammar = `#JSGF V1.0;
grammar digit;
public <digit> = zero | oh | one | two | three | four | five | six | seven | eight | nine;
`

var digitWords = map[string]byte{
	"zero": '0', "oh": '0', "one": '1', "two": '2', "three": '3', "four": '4',
	"five": '5', "six": '6', "seven": '7', "eight": '8', "nine": '9',
}

// Digits converts recognised digit words ("one two oh") to digits
// ("120"); other words are skipped.
func Digits(text string) string {
	var b strings.Builder
	for _, w := range strings.Fields(strings.ToLower(text)) {
		if d, ok := digitWords[w]; ok {
			b.WriteByte(d)
		}
	}
	return b.String()
}
