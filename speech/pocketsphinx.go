package speech

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/media"
)

// ErrPocketSphinxNotInstalled means the pocketsphinx_continuous binary or
// its English model is missing.
var ErrPocketSphinxNotInstalled = errors.New("pocketsphinx not installed: apt-get install pocketsphinx pocketsphinx-en-us")

// modelRoots are where the model packages put their files: Debian's
// pocketsphinx-en-us, and a source build's default prefix.
var modelRoots = []string{"/usr/share/pocketsphinx/model", "/usr/local/share/pocketsphinx/model"}

// DefaultLanguage is the model directory PocketSphinx uses when none is
// configured: the one Debian ships.
const DefaultLanguage = "en-us"

// decodeRate is the rate of the acoustic model in pocketsphinx-en-us.
const decodeRate = 16000

// PocketSphinx recognises speech by running pocketsphinx_continuous once
// per utterance. A process rather than libpocketsphinx through cgo keeps
// the server buildable with CGO_ENABLED=0 and confines the decoder's global
// state and crashes to one utterance; loading the model costs ~0.1 s per
// run, which keyword-level recognition can afford.
//
// It is an English, keyword-level engine: good at choosing among a few
// words or spotting a keyword, poor at free speech. Configure a grammar or
// keyword list per account (Models, Hints).
type PocketSphinx struct {
	// Path is the binary; "" looks up pocketsphinx_continuous on $PATH.
	Path string
	// ModelDir holds the acoustic model directory, the dictionary (*.dict)
	// and the language model (*.lm.bin), as pocketsphinx-en-us lays them
	// out; "" discovers DefaultLanguage under the packages' model roots.
	ModelDir string
	// Models are named hint sets, chosen by Hints.Model (an account's
	// AsrModelID): a grammar or keyword list per account.
	Models map[string]Hints
	// Default is used when neither the hints nor Models say anything; if it
	// is empty too, the package's general language model decodes free
	// speech.
	Default Hints
	// MaxProcs bounds concurrent decoder processes (each takes a core for
	// ~0.1–1 s); 0 is the number of CPUs. Calls over it wait.
	MaxProcs int
	// Logger receives one debug line per decode; nil is slog.Default.
	Logger *slog.Logger

	once sync.Once
	sem  chan struct{}
}

// model is a discovered model directory.
type model struct {
	hmm, dict, lm string
}

// findModel locates the acoustic model, dictionary and language model in
// dir, or under the model roots when dir is "". It globs rather than
// naming files, because the package names them after the language
// (cmudict-en-us.dict, en-us.lm.bin).
func findModel(dir string) (model, error) {
	dirs := []string{dir}
	if dir == "" {
		dirs = nil
		for _, root := range modelRoots {
			dirs = append(dirs, filepath.Join(root, DefaultLanguage))
		}
	}
	for _, d := range dirs {
		params, _ := filepath.Glob(filepath.Join(d, "*", "feat.params"))
		dicts, _ := filepath.Glob(filepath.Join(d, "*.dict"))
		if len(params) == 0 || len(dicts) == 0 {
			continue
		}
		m := model{hmm: filepath.Dir(params[0]), dict: dicts[0]}
		lms, _ := filepath.Glob(filepath.Join(d, "*.lm.bin"))
		for _, lm := range lms {
			// en-us-phone.lm.bin is a phone model for phonetic decoding,
			// not words.
			if !strings.Contains(filepath.Base(lm), "phone") {
				m.lm = lm
				break
			}
		}
		return m, nil
	}
	if dir != "" {
		return model{}, fmt.Errorf("%w: no acoustic model (*/feat.params) and dictionary (*.dict) in %s", ErrPocketSphinxNotInstalled, dir)
	}
	return model{}, fmt.Errorf("%w: no %s model under %s", ErrPocketSphinxNotInstalled, DefaultLanguage, strings.Join(modelRoots, " or "))
}

// Check reports whether the binary and the model are installed.
func (p *PocketSphinx) Check() error {
	if _, err := p.binary(); err != nil {
		return err
	}
	_, err := findModel(p.ModelDir)
	return err
}

func (p *PocketSphinx) binary() (string, error) {
	bin := p.Path
	if bin == "" {
		bin = "pocketsphinx_continuous"
	}
	path, err := exec.LookPath(bin)
	if err != nil {
		return "", fmt.Errorf("%w (%w)", ErrPocketSphinxNotInstalled, err)
	}
	return path, nil
}

func (p *PocketSphinx) acquire(ctx context.Context) error {
	p.once.Do(func() {
		n := p.MaxProcs
		if n <= 0 {
			n = runtime.NumCPU()
		}
		p.sem = make(chan struct{}, n)
	})
	select {
	case p.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("pocketsphinx: waiting for a decoder: %w", ctx.Err())
	}
}

func (p *PocketSphinx) release() { <-p.sem }

// resolve picks the hints that apply: the call's own, else its named model,
// else the default.
func (p *PocketSphinx) resolve(h Hints) (Hints, error) {
	if !h.empty() {
		return h, nil
	}
	if h.Model != "" {
		m, ok := p.Models[h.Model]
		if !ok {
			return Hints{}, fmt.Errorf("pocketsphinx: no model %q configured", h.Model)
		}
		return m, nil
	}
	return p.Default, nil
}

// Recognize decodes one utterance. Cancelling ctx kills the decoder.
func (p *PocketSphinx) Recognize(ctx context.Context, audio *dialtone.Audio, hints Hints) (Result, error) {
	if err := checkAudio(audio); err != nil {
		return Result{}, err
	}
	if lang := strings.ToLower(hints.Language); lang != "" && !strings.HasPrefix(lang, "en") {
		return Result{}, fmt.Errorf("pocketsphinx: no model for language %q (English only)", hints.Language)
	}
	bin, err := p.binary()
	if err != nil {
		return Result{}, err
	}
	m, err := findModel(p.ModelDir)
	if err != nil {
		return Result{}, err
	}
	h, err := p.resolve(hints)
	if err != nil {
		return Result{}, err
	}
	dir, err := os.MkdirTemp("", "dialtone-asr-")
	if err != nil {
		return Result{}, fmt.Errorf("pocketsphinx: %w", err)
	}
	defer os.RemoveAll(dir)

	args := []string{"-hmm", m.hmm, "-dict", m.dict, "-samprate", strconv.Itoa(decodeRate), "-time", "yes"}
	mode := "lm"
	switch {
	case h.Grammar != "" || len(h.Words) > 0:
		mode = "jsgf"
		g := h.Grammar
		if g == "" {
			if g, err = WordsGrammar(h.Words); err != nil {
				return Result{}, err
			}
		}
		f := filepath.Join(dir, "grammar.gram")
		if err := os.WriteFile(f, []byte(g), 0o600); err != nil {
			return Result{}, fmt.Errorf("pocketsphinx: %w", err)
		}
		args = append(args, "-jsgf", f)
	case len(h.Keywords) > 0:
		mode = "kws"
		list, err := keywordList(h.Keywords)
		if err != nil {
			return Result{}, err
		}
		f := filepath.Join(dir, "keywords.txt")
		if err := os.WriteFile(f, []byte(list), 0o600); err != nil {
			return Result{}, fmt.Errorf("pocketsphinx: %w", err)
		}
		args = append(args, "-kws", f)
	default:
		if m.lm == "" {
			return Result{}, fmt.Errorf("%w: no language model (*.lm.bin) beside %s; give a grammar or keywords", ErrPocketSphinxNotInstalled, m.dict)
		}
		args = append(args, "-lm", m.lm)
	}
	wav, err := decoderInput(audio)
	if err != nil {
		return Result{}, err
	}
	in := filepath.Join(dir, "utterance.wav")
	if err := os.WriteFile(in, wav, 0o600); err != nil {
		return Result{}, fmt.Errorf("pocketsphinx: %w", err)
	}
	args = append(args, "-infile", in)

	if err := p.acquire(ctx); err != nil {
		return Result{}, err
	}
	defer p.release()
	began := time.Now()
	cmd := exec.CommandContext(ctx, bin, args...)
	var stdout bytes.Buffer
	stderr := &tailBuffer{max: 4 << 10}
	cmd.Stdout = &limitedWriter{w: &stdout, n: 64 << 10}
	cmd.Stderr = stderr
	// If the decoder ignores the kill, don't wait on its pipes forever.
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Run(); err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return Result{}, fmt.Errorf("pocketsphinx: %w", ctxErr)
		}
		return Result{}, fmt.Errorf("pocketsphinx (%s): %w: %s", mode, err, lastErrorLine(stderr.String()))
	}
	res := parseOutput(stdout.String())
	p.logger().Debug("pocketsphinx decoded", "mode", mode, "audio", audio.Duration(), "took", time.Since(began), "text", res.Text)
	return res, nil
}

func (p *PocketSphinx) logger() *slog.Logger {
	if p.Logger != nil {
		return p.Logger
	}
	return slog.Default()
}

// keywordList renders a -kws file: one phrase a line with its threshold.
func keywordList(kws []string) (string, error) {
	var b strings.Builder
	for _, k := range kws {
		phrase, thr := strings.TrimSpace(k), defaultKWSThreshold
		if i := strings.IndexByte(phrase, '/'); i >= 0 {
			t := strings.TrimSpace(phrase[i:])
			if len(t) < 3 || !strings.HasSuffix(t, "/") {
				return "", fmt.Errorf("speech: keyword %q: threshold must be written /1e-20/", k)
			}
			if _, err := strconv.ParseFloat(t[1:len(t)-1], 64); err != nil {
				return "", fmt.Errorf("speech: keyword %q: bad threshold: %w", k, err)
			}
			phrase, thr = strings.TrimSpace(phrase[:i]), t
		}
		phrase = strings.ToLower(phrase)
		if !validPhrase(phrase) {
			return "", fmt.Errorf("speech: keyword %q is not a plain word or phrase", k)
		}
		b.WriteString(phrase + " " + thr + "\n")
	}
	return b.String(), nil
}

// defaultKWSThreshold is PocketSphinx's usual starting point for single
// words (its guidance is 1e-5…1e-50, tuned per phrase). On synthetic
// telephone speech 1e-5 missed "yes" and "operator" and 1e-30 spotted "no"
// everywhere; real voices need tuning per keyword ("word /1e-20/").
const defaultKWSThreshold = "/1e-10/"

// Padding and comfort noise for the decoder's input (see decoderInput).
const (
	padDur = 300 * time.Millisecond
	// comfortNoise is the peak of the added white noise: ±60 of 32768,
	// about −58 dBFS RMS, below any line's own noise and far below speech.
	// Louder noise (±100 and more) started to turn "one" into "four".
	comfortNoise = 60
)

// decoderInput prepares an utterance for the en-us model: resampled to
// 16 kHz, padded with 300 ms on both sides, and with faint white noise
// added throughout.
//
// Why the noise: the model was trained on wideband speech and computes
// features up to 6.8 kHz, while telephone audio is empty above 4 kHz and
// synthetic or codec silence is exactly zero. Those empty bands give the
// log filterbank values far below anything seen in training, which wrecks
// cepstral normalisation: in our measurements the ten digits spoken one by
// one by espeak-ng through an 8 kHz line were recognised 3 times in 10
// without the noise and 8 in 10 with it, and "no" and "operator" not at
// all without it. The padding gives the decoder's own voice detector the lead-in
// it needs before the first word.
func decoderInput(a *dialtone.Audio) ([]byte, error) {
	up := media.Resample(a.Samples, Rate, decodeRate)
	pad := int(padDur * decodeRate / time.Second)
	x := make([]int16, pad+len(up)+pad)
	copy(x[pad:], up)
	// A fixed seed: the same utterance decodes the same way every time,
	// which makes recognition reproducible in tests and in bug reports.
	rng := rand.New(rand.NewPCG(1, 2))
	for i, v := range x {
		n := int32(v) + rng.Int32N(2*comfortNoise+1) - comfortNoise
		x[i] = int16(min(max(n, -32768), 32767))
	}
	var b bytes.Buffer
	if err := media.EncodeWAV(&b, x, decodeRate, 1); err != nil {
		return nil, fmt.Errorf("pocketsphinx: encoding WAV: %w", err)
	}
	return b.Bytes(), nil
}

// parseOutput reads pocketsphinx_continuous's stdout. With -time yes it
// prints, per utterance it found in the file, the hypothesis on one line
// and then one line per word: "word start end posterior". Words are taken
// from the timing lines, without fillers (<s>, <sil>, [NOISE], (NULL)) and
// alternate-pronunciation suffixes ("one(2)"); the confidence is the mean
// posterior of the words kept. Without timing lines the hypothesis lines
// are the text.
func parseOutput(out string) Result {
	var words, hyps []string
	var sum float64
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) == 4 && isFloat(f[1]) && isFloat(f[2]) && isFloat(f[3]) {
			w := f[0]
			if i := strings.IndexByte(w, '('); i > 0 {
				w = w[:i]
			}
			if filler(w) {
				continue
			}
			prob, _ := strconv.ParseFloat(f[3], 64)
			words = append(words, w)
			sum += prob
			continue
		}
		hyps = append(hyps, strings.Join(f, " "))
	}
	if len(words) > 0 {
		return Result{Text: strings.Join(words, " "), Confidence: min(max(sum/float64(len(words)), 0), 1)}
	}
	if len(hyps) > 0 {
		return Result{Text: strings.Join(hyps, " "), Confidence: 1}
	}
	return Result{}
}

func isFloat(s string) bool {
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
}

func filler(w string) bool {
	return w == "" || w[0] == '<' || w[0] == '[' || w[0] == '(' || strings.HasPrefix(w, "++")
}

// lastErrorLine picks the most telling line of the decoder's log: the last
// ERROR or FATAL line, else the last line.
func lastErrorLine(log string) string {
	lines := strings.Split(strings.TrimSpace(log), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.HasPrefix(lines[i], "ERROR") || strings.HasPrefix(lines[i], "FATAL") {
			return strings.TrimSpace(lines[i])
		}
	}
	if len(lines) == 0 || lines[len(lines)-1] == "" {
		return "no output"
	}
	return strings.TrimSpace(lines[len(lines)-1])
}

// tailBuffer keeps the last max bytes written: the decoder logs tens of
// kilobytes, and the error is at the end.
type tailBuffer struct {
	b   []byte
	max int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if over := len(t.b) - t.max; over > 0 {
		t.b = append(t.b[:0], t.b[over:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string { return string(t.b) }

// limitedWriter drops what exceeds n bytes, reporting it written so the
// child does not block on a full pipe.
type limitedWriter struct {
	w *bytes.Buffer
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if room := l.n - l.w.Len(); room > 0 {
		l.w.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}
