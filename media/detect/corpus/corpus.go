// Package corpus generates a labelled corpus of call answers for the
// answering-machine detector of package detect: people answering ("hello?"
// and a pause, perhaps a second try), answering machines and network
// mailboxes (espeak-ng greetings of 2–15 s in several voices and
// languages, most ending in a beep of some frequency and length, some in
// silence), fax machines and modems, silence and line noise; every answer
// at a random level, under line noise of several levels, and through G.711
// (A-law or µ-law, encoded and decoded).
//
// The corpus is generated, not stored: the same seed gives the same
// corpus, sample for sample, given the same espeak-ng. Speech is
// synthesised by espeak-ng (as a process, through media.ESpeak) and may be
// cached in a directory for the length of a test run.
package corpus

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/media"
	"github.com/dialtone-voice/dialtone/media/detect"
	"github.com/dialtone-voice/dialtone/media/detect/synth"
)

// Truth is who really answered.
type Truth string

const (
	Human   Truth = "human"
	Machine Truth = "machine"
	Fax     Truth = "fax"
	// Nobody: silence or line noise only.
	Nobody Truth = "nobody"
)

// Item is one labelled answer: Audio starts at the answer.
type Item struct {
	ID    int
	Truth Truth
	// Desc describes the item ("machine en-us+f3 greeting 7.2s, beep
	// 1000Hz 400ms after 500ms; noise -48dBFS; A-law").
	Desc  string
	Audio []int16
	Lang  string // "en", "cmn", ... for speech
	Voice string
	// Offsets from the answer. VoiceStart and VoiceEnd bound the
	// speech (a person's first utterance; a machine's whole greeting);
	// a machine's beep, if any, is BeepStart…BeepEnd.
	VoiceStart, VoiceEnd time.Duration
	Beep                 bool
	BeepFreq             float64
	BeepStart, BeepEnd   time.Duration
}

// Options of Generate.
type Options struct {
	Seed uint64
	// N is the number of items; default 320.
	N int
	// Speaker synthesises speech; nil runs espeak-ng (media.ESpeak).
	Speaker dialtone.Speaker
	// CacheDir, if set, keeps syntheses as files between calls (a test
	// run's temporary directory).
	CacheDir string
}

// DefaultN is the default corpus size.
const DefaultN = 320

// Shares of the corpus by kind.
var shares = []struct {
	kind  string
	share float64
}{
	{"human", 0.40},
	{"machine", 0.45},
	{"beeponly", 0.03},
	{"fax", 0.06},
	{"silence", 0.03},
	{"noise", 0.03},
}

// Generate makes the corpus of opt.Seed. It fails if speech cannot be
// synthesised (media.ErrESpeakNotFound without espeak-ng).
func Generate(ctx context.Context, opt Options) ([]Item, error) {
	n := opt.N
	if n <= 0 {
		n = DefaultN
	}
	g := &generator{
		ctx:   ctx,
		rng:   rand.New(rand.NewPCG(opt.Seed, 0x18a3d)),
		cache: opt.CacheDir,
		spk:   opt.Speaker,
	}
	if g.spk == nil {
		g.spk = &media.ESpeak{}
	}
	kinds := plan(g.rng, n)
	items := make([]Item, 0, n)
	for i, k := range kinds {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var it Item
		var err error
		switch k {
		case "human":
			it, err = g.human()
		case "machine":
			it, err = g.machine()
		case "beeponly":
			it = g.beepOnly()
		case "fax":
			it = g.fax()
		case "silence":
			it = g.silence()
		default:
			it = g.noiseOnly()
		}
		if err != nil {
			return nil, fmt.Errorf("corpus item %d (%s): %w", i, k, err)
		}
		it.ID = i
		g.line(&it)
		items = append(items, it)
	}
	return items, nil
}

// plan is the kind of each of n items: exact counts by share, shuffled.
func plan(rng *rand.Rand, n int) []string {
	var kinds []string
	for i, s := range shares {
		c := int(math.Round(s.share * float64(n)))
		if i == len(shares)-1 {
			c = n - len(kinds)
		}
		for range max(c, 0) {
			kinds = append(kinds, s.kind)
		}
	}
	kinds = kinds[:n]
	rng.Shuffle(len(kinds), func(i, j int) { kinds[i], kinds[j] = kinds[j], kinds[i] })
	return kinds
}

type generator struct {
	ctx   context.Context
	rng   *rand.Rand
	cache string
	spk   dialtone.Speaker
}

func (g *generator) uniform(lo, hi float64) float64 { return lo + g.rng.Float64()*(hi-lo) }

func (g *generator) dur(lo, hi time.Duration) time.Duration {
	return lo + time.Duration(g.rng.Int64N(int64(hi-lo)+1))
}

func pick[T any](g *generator, s []T) T { return s[g.rng.IntN(len(s))] }

func (g *generator) language() (string, *language) {
	x := g.rng.Float64()
	for _, w := range languageWeights {
		if x < w.weight {
			return w.code, languages[w.code]
		}
		x -= w.weight
	}
	return "en", languages["en"]
}

// fill puts a name or a number into a template.
func (g *generator) fill(l *language, text string) string {
	text = strings.ReplaceAll(text, "{name}", pick(g, l.names))
	if strings.Contains(text, "{digits}") {
		var b strings.Builder
		for i := range 8 {
			if i == 3 {
				b.WriteString(", ")
			} else if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteByte(byte('0' + g.rng.IntN(10)))
		}
		text = strings.ReplaceAll(text, "{digits}", b.String())
	}
	return text
}

// speak synthesises text, trimmed of the silence espeak-ng puts around it.
func (g *generator) speak(text, voice string, speed int) ([]int16, error) {
	key := sha256.Sum256([]byte(fmt.Sprintf("%s\x00%s\x00%d", text, voice, speed)))
	var path string
	if g.cache != "" {
		path = filepath.Join(g.cache, hex.EncodeToString(key[:12])+".pcm")
		if b, err := os.ReadFile(path); err == nil && len(b)%2 == 0 {
			s := make([]int16, len(b)/2)
			for i := range s {
				s[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
			}
			return s, nil
		}
	}
	a, err := g.spk.Speak(g.ctx, text, voice, speed, 0)
	if err != nil {
		return nil, err
	}
	s := synth.Trim(a.Samples)
	if len(s) == 0 {
		return nil, fmt.Errorf("%s said nothing for %q", voice, text)
	}
	if path != "" {
		b := make([]byte, 2*len(s))
		for i, v := range s {
			binary.LittleEndian.PutUint16(b[2*i:], uint16(v))
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// human: a person answers after a moment with a word or two, then waits;
// most, hearing nothing, speak again.
func (g *generator) human() (Item, error) {
	code, l := g.language()
	voice := pick(g, l.voices)
	speed := g.rng.IntN(251) - 100
	var hello []int16
	var text string
	// A person's "hello" lasts 0.3–1.5 s; a phrase that comes out longer
	// in this voice and speed is drawn again.
	for try := 0; ; try++ {
		text = g.fill(l, pick(g, l.hellos))
		s, err := g.speak(text, voice, speed)
		if err != nil {
			return Item{}, err
		}
		if d := synth.Dur(len(s)); d <= 1500*time.Millisecond || try >= 8 {
			hello = s
			break
		}
	}
	delay := g.dur(150*time.Millisecond, time.Second)
	if g.rng.Float64() < 0.15 {
		delay = g.dur(time.Second, 1800*time.Millisecond)
	}
	level := g.uniform(-26, -14)
	it := Item{Truth: Human, Lang: code, Voice: voice}
	audio := synth.Concat(synth.Silence(delay), synth.Scale(hello, level))
	it.VoiceStart, it.VoiceEnd = delay, delay+synth.Dur(len(hello))
	desc := fmt.Sprintf("human %s %q %.2fs after %.2fs", voice, text, synth.Dur(len(hello)).Seconds(), delay.Seconds())
	if g.rng.Float64() < 0.65 {
		pause := g.dur(time.Second, 2500*time.Millisecond)
		again := g.fill(l, pick(g, l.again))
		s, err := g.speak(again, voice, speed)
		if err != nil {
			return Item{}, err
		}
		audio = synth.Concat(audio, synth.Silence(pause), synth.Scale(s, level+g.uniform(-2, 3)))
		desc += fmt.Sprintf(", %.1fs pause, %q", pause.Seconds(), again)
	}
	it.Audio = synth.Concat(audio, synth.Silence(3*time.Second))
	it.Desc = desc
	return it, nil
}

// machine: a greeting of 2–15 s in sentences, most ending in a beep.
func (g *generator) machine() (Item, error) {
	code, l := g.language()
	voice := pick(g, l.voices)
	speed := g.rng.IntN(301) - 150
	target := g.dur(2*time.Second, 15*time.Second)
	// Pauses between sentences: espeak-ng's own are 0.3 s; people who
	// record greetings pause longer, some much longer.
	pauseLo, pauseHi := 250*time.Millisecond, 600*time.Millisecond
	style := "plain"
	switch x := g.rng.Float64(); {
	case x < 0.12:
		style, pauseLo, pauseHi = "pauses", 500*time.Millisecond, 750*time.Millisecond
	case x < 0.16:
		// "Hello." and a long pause, as if waiting for an answer: the
		// greeting a detector cannot tell from a person.
		style = "hello-pause"
	}
	var greeting []int16
	var texts []string
	order := g.rng.Perm(len(l.greetings))
	opener := pick(g, l.openers)
	if style == "hello-pause" {
		// The shortest opener without a name: "Hello.", "您好。".
		for _, o := range l.openers {
			if !strings.Contains(o, "{") && (strings.Contains(opener, "{") || len(o) < len(opener)) {
				opener = o
			}
		}
	}
	first := g.fill(l, opener)
	sentences := []string{first}
	for _, i := range order {
		sentences = append(sentences, g.fill(l, l.greetings[i]))
	}
	for i, text := range sentences {
		s, err := g.speak(text, voice, speed)
		if err != nil {
			return Item{}, err
		}
		if i > 0 {
			pause := g.dur(pauseLo, pauseHi)
			if style == "hello-pause" && i == 1 {
				pause = g.dur(time.Second, 1600*time.Millisecond)
			}
			if synth.Dur(len(greeting)+len(s))+pause > 15*time.Second && synth.Dur(len(greeting)) >= 2*time.Second {
				break
			}
			greeting = synth.Concat(greeting, synth.Silence(pause))
		}
		greeting = append(greeting, s...)
		texts = append(texts, text)
		if synth.Dur(len(greeting)) >= target {
			break
		}
	}
	delay := g.dur(100*time.Millisecond, 900*time.Millisecond)
	level := g.uniform(-26, -14)
	it := Item{Truth: Machine, Lang: code, Voice: voice}
	audio := synth.Concat(synth.Silence(delay), synth.Scale(greeting, level))
	it.VoiceStart, it.VoiceEnd = delay, synth.Dur(len(audio))
	it.Desc = fmt.Sprintf("machine %s greeting %.1fs (%d sentences, %s)", voice, synth.Dur(len(greeting)).Seconds(), len(texts), style)
	if g.rng.Float64() < 0.75 {
		gap := g.dur(100*time.Millisecond, time.Second)
		audio = synth.Concat(audio, synth.Silence(gap))
		g.addBeep(&it, &audio)
		it.Desc += fmt.Sprintf(", beep %.0fHz %dms after %dms", it.BeepFreq, (it.BeepEnd - it.BeepStart).Milliseconds(), gap.Milliseconds())
	} else {
		it.Desc += ", no beep"
	}
	it.Audio = synth.Concat(audio, synth.Silence(3*time.Second))
	return it, nil
}

// addBeep appends a beep of 400–2000 Hz and 150–1000 ms.
func (g *generator) addBeep(it *Item, audio *[]int16) {
	f := math.Round(g.uniform(400, 2000))
	d := g.dur(150*time.Millisecond, time.Second)
	it.Beep, it.BeepFreq = true, f
	it.BeepStart = synth.Dur(len(*audio))
	*audio = synth.Concat(*audio, synth.Beep(f, d, g.uniform(-20, -10)))
	it.BeepEnd = synth.Dur(len(*audio))
}

// beepOnly: a mailbox that answers with its beep and no greeting.
func (g *generator) beepOnly() Item {
	it := Item{Truth: Machine}
	audio := synth.Silence(g.dur(200*time.Millisecond, time.Second))
	g.addBeep(&it, &audio)
	it.Audio = synth.Concat(audio, synth.Silence(5*time.Second))
	it.Desc = fmt.Sprintf("machine without greeting, beep %.0fHz %dms", it.BeepFreq, (it.BeepEnd - it.BeepStart).Milliseconds())
	return it
}

// fax: an answering fax's CED and V.21 preamble, a fax that skips CED,
// or a data modem's answer tone.
func (g *generator) fax() Item {
	level := g.uniform(-18, -10)
	audio := synth.Silence(g.dur(100*time.Millisecond, 600*time.Millisecond))
	v21, _ := detect.FindPattern(detect.ToneFaxV21, detect.PlanFax)
	var desc string
	switch x := g.rng.Float64(); {
	case x < 0.65:
		ced, _ := detect.FindPattern(detect.ToneFaxCED, detect.PlanFax)
		d := g.dur(2600*time.Millisecond, 3800*time.Millisecond)
		audio = synth.Concat(audio, ced.Synthesize(d, level), synth.Silence(75*time.Millisecond), v21.Synthesize(g.dur(time.Second, 1500*time.Millisecond), level))
		desc = fmt.Sprintf("fax: CED %.1fs then V.21 flags", d.Seconds())
	case x < 0.8:
		audio = synth.Concat(audio, v21.Synthesize(g.dur(time.Second, 2*time.Second), level))
		desc = "fax: V.21 flags without CED"
	default:
		ans := detect.Patterns()
		for _, p := range ans {
			if p.Kind == detect.ToneModem && p.Cadence[0].Reversal > 0 {
				audio = synth.Concat(audio, p.Synthesize(3300*time.Millisecond, level))
			}
		}
		desc = "modem: V.25 answer tone with phase reversals"
	}
	return Item{Truth: Fax, Audio: synth.Concat(audio, synth.Silence(2*time.Second)), Desc: desc}
}

func (g *generator) silence() Item {
	return Item{Truth: Nobody, Audio: synth.Silence(8 * time.Second), Desc: "silence"}
}

func (g *generator) noiseOnly() Item {
	lv := g.uniform(-50, -35)
	return Item{Truth: Nobody, Audio: synth.Noise(g.rng, 8*time.Second, lv), Desc: fmt.Sprintf("line noise only %.0fdBFS", lv)}
}

// noiseLevels are the line noise levels (dBFS RMS; 0: none).
var noiseLevels = []float64{0, -62, -55, -48, -42}

// line passes an item through the line: noise, then G.711.
func (g *generator) line(it *Item) {
	if lv := pick(g, noiseLevels); lv != 0 && it.Truth != Nobody {
		it.Audio = synth.Mix(it.Audio, synth.Noise(g.rng, synth.Dur(len(it.Audio)), lv))
		it.Desc += fmt.Sprintf("; noise %.0fdBFS", lv)
	}
	if g.rng.IntN(2) == 0 {
		it.Audio = media.DecodeALaw(media.EncodeALaw(it.Audio))
		it.Desc += "; A-law"
	} else {
		it.Audio = media.DecodeMuLaw(media.EncodeMuLaw(it.Audio))
		it.Desc += "; µ-law"
	}
}

// IsMissingSpeaker reports whether err means that espeak-ng is not
// installed.
func IsMissingSpeaker(err error) bool { return errors.Is(err, media.ErrESpeakNotFound) }
