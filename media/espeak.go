package media

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/dialtone-voice/dialtone"
)

// Voices chosen when a template names none (see VoiceFor).
const (
	// VoiceMandarin speaks Han text with Mandarin phonemes and tones. The
	// plain "cmn"/"zh" voice would look up pinyin and then read it with
	// English phonemes ("ni three, hey three" for 你好).
	VoiceMandarin = "cmn-latn-pinyin"
	VoiceEnglish  = "en"
)

// MaxTTSText bounds the text of one synthesis, in bytes. Alibaba's TTS
// templates are a few hundred characters; this leaves room for variables
// without letting one request occupy the synthesiser for minutes.
const MaxTTSText = 8 << 10

// ErrESpeakNotFound means the espeak-ng binary is not installed.
var ErrESpeakNotFound = errors.New("espeak-ng not found: apt-get install espeak-ng")

// ESpeak is a dialtone.Speaker that runs the espeak-ng binary once per
// text. A process per synthesis, rather than libespeak-ng through cgo, keeps
// the server buildable with CGO_ENABLED=0 and isolates the engine: it holds
// global state, is not reentrant, and a crash in it costs one prompt. At
// ~15 ms per sentence the fork is cheap, and CachedSpeaker removes repeats.
type ESpeak struct {
	// Path is the binary to run; "" looks up "espeak-ng" on $PATH.
	Path string

	voicesMu sync.Mutex
	voices   *dialtone.Voices // the installed voices, once asked (Voices)
}

// Speak synthesises text. voice is an espeak-ng voice name ("" chooses by
// VoiceFor); speed is Alibaba's Speed (−500…500, see ESpeakRate); volume is
// Alibaba's Volume (0–100, see ESpeakAmplitude). Cancelling ctx kills the
// process.
func (e *ESpeak) Speak(ctx context.Context, text, voice string, speed, volume int) (*dialtone.Audio, error) {
	if strings.TrimSpace(text) == "" {
		// espeak-ng writes nothing at all, not even a WAV header, for
		// empty input.
		return &dialtone.Audio{Samples: []int16{}, Label: text}, nil
	}
	if len(text) > MaxTTSText {
		return nil, fmt.Errorf("espeak-ng: text of %d bytes exceeds %d", len(text), MaxTTSText)
	}
	if voice == "" {
		voice = VoiceFor(text)
	}
	if !validVoice(voice) {
		return nil, fmt.Errorf("espeak-ng: invalid voice name %q", voice)
	}
	bin := e.Path
	if bin == "" {
		bin = "espeak-ng"
	}
	path, err := exec.LookPath(bin)
	if err != nil {
		return nil, fmt.Errorf("%w (%w)", ErrESpeakNotFound, err)
	}
	cmd := exec.CommandContext(ctx, path,
		"--stdout",
		"--stdin", // the text never appears as an argument, so it cannot be an option
		"-b", "1", // UTF-8
		"-v", voice,
		"-s", strconv.Itoa(ESpeakRate(speed)),
		"-a", strconv.Itoa(ESpeakAmplitude(volume)),
	)
	cmd.Stdin = strings.NewReader(text)
	var stdout, stderr cappedBuffer
	stdout.max, stderr.max = MaxInputBytes, 4<<10
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// If espeak-ng ignores the kill for some reason, don't wait on its
	// pipes forever.
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Run(); err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, fmt.Errorf("espeak-ng: %w", ctxErr)
		}
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return nil, fmt.Errorf("espeak-ng -v %s: %w: %s", voice, err, msg)
		}
		return nil, fmt.Errorf("espeak-ng -v %s: %w", voice, err)
	}
	if stdout.overflow {
		return nil, fmt.Errorf("espeak-ng: %w: output larger than %d MiB", ErrTooLong, MaxInputBytes>>20)
	}
	pcm, err := DecodeWAV(bytes.NewReader(stdout.Bytes()))
	if err != nil {
		return nil, fmt.Errorf("espeak-ng output: %w", err)
	}
	a := ToTelephony(pcm)
	a.Label = text
	return a, nil
}

// ESpeakRate maps Alibaba's Speed (−500…500, 0 normal) to espeak-ng's words
// per minute. It follows Alibaba's own definition of the parameter: a
// negative value s slows speech to 1/(1−0.002·s) of normal (−500 is half
// speed), a positive one speeds it up to 1/(1−0.001·s) (500 is double).
// espeak-ng's normal rate is 175 wpm, so the range is 88–350 wpm, inside
// espeak-ng's 80–450. Values outside −500…500 are clamped.
func ESpeakRate(speed int) int {
	s := float64(max(-500, min(500, speed)))
	factor := 1 / (1 - 0.001*s)
	if s < 0 {
		factor = 1 / (1 - 0.002*s)
	}
	return int(math.Round(175 * factor))
}

// ESpeakAmplitude maps Alibaba's Volume (0–100) to espeak-ng's amplitude
// (0–200, 100 normal): 100 is espeak-ng's normal loudness, lower values
// scale it linearly like ApplyVolume. 0 means "not given", as in
// ApplyVolume, and gives 100.
func ESpeakAmplitude(volume int) int {
	if volume <= 0 || volume > DefaultVolume {
		return DefaultVolume
	}
	return volume
}

// VoiceFor chooses a voice for text when its template names none:
// Mandarin if it contains any Han character, English otherwise.
func VoiceFor(text string) string {
	if containsHan(text) {
		return VoiceMandarin
	}
	return VoiceEnglish
}

func containsHan(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}

// validVoice accepts espeak-ng voice names ("en", "en-us", "cmn-latn-pinyin",
// "en+f3") and nothing that could be read as an option or a path.
func validVoice(v string) bool {
	if v == "" || len(v) > 64 || v[0] == '-' {
		return false
	}
	for _, r := range v {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
			r == '-' || r == '_' || r == '+' || r == '.'
		if !ok {
			return false
		}
	}
	return true
}

// cappedBuffer collects up to max bytes of a child's output and drops the
// rest, so a runaway process cannot exhaust our memory.
type cappedBuffer struct {
	bytes.Buffer
	max      int
	overflow bool
}

func (b *cappedBuffer) Write(p []byte) (int, error) {
	n := len(p)
	if room := b.max - b.Len(); len(p) > room {
		b.overflow = true
		p = p[:max(room, 0)]
	}
	b.Buffer.Write(p)
	// Report everything as written: an error would make the copier stop
	// reading and leave the child blocked on a full pipe.
	return n, nil
}
