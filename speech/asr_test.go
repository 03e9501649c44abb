package speech

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/media"
)

func needPocketSphinx(tb testing.TB) *PocketSphinx {
	tb.Helper()
	p := &PocketSphinx{}
	if err := p.Check(); err != nil {
		tb.Skipf("%v (scripts/install-deps.sh)", err)
	}
	return p
}

var yesNoOperator = Hints{Words: []string{"yes", "no", "operator"}}

func TestPocketSphinxWords(t *testing.T) {
	p := needPocketSphinx(t)
	for _, w := range []string{"yes", "no", "operator"} {
		// Through the telephone band: espeak-ng's 22 kHz output is
		// resampled to 8 kHz by media, as every prompt is.
		a := &dialtone.Audio{Samples: speak(t, w)}
		res, err := p.Recognize(context.Background(), a, yesNoOperator)
		if err != nil {
			t.Fatal(err)
		}
		if res.Text != w {
			t.Errorf("%q recognised as %q", w, res.Text)
		}
	}
}

// TestSegmentThenRecognize is the SmartCall path: the segmenter cuts the
// callee's audio, the segment goes to the recogniser.
func TestSegmentThenRecognize(t *testing.T) {
	p := needPocketSphinx(t)
	audio := mix(concat(silence(time.Second), speak(t, "operator"), silence(time.Second)), noise(3*time.Second, -55, 9))
	seg := segments(feed(NewSegmenter(Config{}), audio, t0))
	if len(seg) != 1 {
		t.Fatalf("%d segments", len(seg))
	}
	res, err := p.Recognize(context.Background(), seg[0].Audio, yesNoOperator)
	if err != nil {
		t.Fatal(err)
	}
	if res.Text != "operator" {
		t.Fatalf("recognised %q", res.Text)
	}
}

func TestRecognizeDigits(t *testing.T) {
	needPocketSphinx(t)
	needESpeak(t)
	// The verification prompt as the platform speaks it.
	prompt := dialtone.Prompt{Text: "Your verification code is 1234.", Verification: true, Vars: map[string]string{"code": "1234"}}
	var e media.ESpeak
	a, err := media.SpeakPrompt(context.Background(), &e, prompt, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	got, err := RecognizeDigits(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	if got != "1234" {
		t.Fatalf("recognised %q, want 1234", got)
	}
	// The code alone, as a test user agent hears it.
	got, err = RecognizeDigits(context.Background(), &dialtone.Audio{Samples: speak(t, "1, 2, 3, 4")})
	if err != nil || got != "1234" {
		t.Fatalf("recognised %q, %v; want 1234", got, err)
	}
}

func TestPocketSphinxKeywords(t *testing.T) {
	p := needPocketSphinx(t)
	a := &dialtone.Audio{Samples: speak(t, "no")}
	res, err := p.Recognize(context.Background(), a, Hints{Keywords: []string{"yes", "no"}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Text != "no" || res.Confidence <= 0 || res.Confidence > 1 {
		t.Fatalf("%+v", res)
	}
}

func TestPocketSphinxModels(t *testing.T) {
	p := needPocketSphinx(t)
	p.Models = map[string]Hints{"acct-42": yesNoOperator}
	a := &dialtone.Audio{Samples: speak(t, "yes")}
	res, err := p.Recognize(context.Background(), a, Hints{Model: "acct-42"})
	if err != nil || res.Text != "yes" {
		t.Fatalf("%+v %v", res, err)
	}
	if _, err := p.Recognize(context.Background(), a, Hints{Model: "nope"}); err == nil {
		t.Fatal("unknown model accepted")
	}
	if _, err := p.Recognize(context.Background(), a, Hints{Language: "zh-CN", Words: []string{"yes"}}); err == nil {
		t.Fatal("Mandarin accepted")
	}
}

func TestPocketSphinxNotInstalled(t *testing.T) {
	a := &dialtone.Audio{Samples: silence(time.Second)}
	for name, p := range map[string]*PocketSphinx{
		"binary": {Path: "pocketsphinx_continuous_not_here"},
		"model":  {Path: "true", ModelDir: t.TempDir()},
	} {
		_, err := p.Recognize(context.Background(), a, yesNoOperator)
		if !errors.Is(err, ErrPocketSphinxNotInstalled) {
			t.Fatalf("%s: %v", name, err)
		}
		if msg := err.Error(); !strings.Contains(msg, "pocketsphinx pocketsphinx-en-us") {
			t.Errorf("%s: error does not name the packages: %s", name, msg)
		}
	}
}

func TestPocketSphinxCancelKills(t *testing.T) {
	needPocketSphinx(t)
	// A stand-in decoder that would run for a minute.
	bin := filepath.Join(t.TempDir(), "slow-decoder")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\nexec sleep 60\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	p := &PocketSphinx{Path: bin}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	began := time.Now()
	_, err := p.Recognize(ctx, &dialtone.Audio{Samples: silence(time.Second)}, yesNoOperator)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
	if took := time.Since(began); took > 3*time.Second {
		t.Fatalf("returned after %s", took)
	}
}

func TestPocketSphinxBadGrammarWord(t *testing.T) {
	p := needPocketSphinx(t)
	a := &dialtone.Audio{Samples: silence(time.Second)}
	if _, err := p.Recognize(context.Background(), a, Hints{Words: []string{"yes | <x>"}}); err == nil {
		t.Fatal("grammar syntax accepted as a word")
	}
	if _, err := p.Recognize(context.Background(), a, Hints{Keywords: []string{"yes /abc/"}}); err == nil {
		t.Fatal("bad threshold accepted")
	}
	// A word the dictionary lacks: the decoder's own complaint comes back.
	_, err := p.Recognize(context.Background(), a, Hints{Words: []string{"zzxqv"}})
	if err == nil {
		t.Fatal("unknown word accepted")
	}
	t.Log(err)
}

func TestParseOutput(t *testing.T) {
	out := "one two\n<sil> 0.000 0.250 1.000000\none(2) 0.260 0.500 0.900000\n(NULL) 0.5 0.5 1\ntwo 0.510 0.800 0.700000\n"
	res := parseOutput(out)
	if res.Text != "one two" || res.Confidence < 0.79 || res.Confidence > 0.81 {
		t.Fatalf("%+v", res)
	}
	if res := parseOutput("yes\n"); res.Text != "yes" {
		t.Fatalf("%+v", res)
	}
	if res := parseOutput(""); res.Text != "" || res.Confidence != 0 {
		t.Fatalf("%+v", res)
	}
}

func TestHTTPRecognizer(t *testing.T) {
	audio := &dialtone.Audio{Samples: noise(500*time.Millisecond, -20, 5)}
	hints := Hints{Model: "m1", Language: "zh-CN", Words: []string{"是", "不是"}}
	var gotQuery string
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotQuery = r.URL.RawQuery
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "audio/wav" || r.Header.Get("Authorization") != "Bearer k" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		pcm, err := media.DecodeWAV(r.Body)
		if err != nil || pcm.Rate != Rate || pcm.Channels != 1 || !equal(pcm.Samples, audio.Samples) {
			http.Error(w, "bad audio", http.StatusBadRequest)
			return
		}
		w.Write([]byte(`{"text":"是","confidence":0.93}`))
	}))
	defer ok.Close()
	h := &HTTPRecognizer{URL: ok.URL + "/asr", Header: http.Header{"Authorization": {"Bearer k"}}}
	res, err := h.Recognize(context.Background(), audio, hints)
	if err != nil {
		t.Fatal(err)
	}
	if res.Text != "是" || res.Confidence != 0.93 {
		t.Fatalf("%+v", res)
	}
	for _, p := range []string{"model=m1", "language=zh-CN", "word=%E6%98%AF"} {
		if !strings.Contains(gotQuery, p) {
			t.Errorf("query %q lacks %s", gotQuery, p)
		}
	}

	serve := func(status int, body string, hang bool) *HTTPRecognizer {
		release := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if hang {
				select {
				case <-release:
				case <-r.Context().Done():
				}
				return
			}
			w.WriteHeader(status)
			w.Write([]byte(body))
		}))
		t.Cleanup(srv.Close)
		// Cleanups run last-in first-out: the hung handler returns before
		// Close waits for it.
		t.Cleanup(func() { close(release) })
		return &HTTPRecognizer{URL: srv.URL, Timeout: 300 * time.Millisecond}
	}
	for _, tc := range []struct {
		name, want string
		h          *HTTPRecognizer
	}{
		{"500", "HTTP 500: engine down", serve(500, "engine down", false)},
		{"timeout", "no answer within 300ms", serve(200, `{"text":"late"}`, true)},
		{"bad JSON", "bad JSON", serve(200, `{"text":`, false)},
		{"no text", `without "text"`, serve(200, `{"result":"ok"}`, false)},
		{"confidence out of range", "outside 0…1", serve(200, `{"text":"a","confidence":7}`, false)},
	} {
		began := time.Now()
		_, err := tc.h.Recognize(context.Background(), audio, Hints{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want it to mention %q", tc.name, err, tc.want)
		}
		if took := time.Since(began); took > 2*time.Second {
			t.Errorf("%s: took %s", tc.name, took)
		}
	}
	// Nothing recognised is not an error; confidence defaults to 0.
	res, err = serve(200, `{"text":""}`, false).Recognize(context.Background(), audio, Hints{})
	if err != nil || res != (Result{}) {
		t.Fatalf("%+v %v", res, err)
	}
}

func equal(a, b []int16) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestWordsGrammarRejectsSyntax(t *testing.T) {
	for _, w := range []string{"a;", "<x>", "a | b", "a*", "", "(a)"} {
		if _, err := WordsGrammar([]string{w}); err == nil {
			t.Errorf("%q accepted", w)
		}
	}
	g, err := WordsGrammar([]string{"Yes", "speak to an operator"})
	if err != nil || !strings.Contains(g, "= yes | speak to an operator;") {
		t.Fatalf("%q %v", g, err)
	}
	if _, err := keywordList([]string{"hello /1e-20/", "bye"}); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkPocketSphinxDecode measures one utterance's decode, process
// start and model load included, in each mode.
func BenchmarkPocketSphinxDecode(b *testing.B) {
	p := needPocketSphinx(b)
	a := &dialtone.Audio{Samples: speak(b, "operator")}
	long := &dialtone.Audio{Samples: speak(b, "1, 2, 3, 4")}
	for _, bc := range []struct {
		name  string
		audio *dialtone.Audio
		run   func() error
	}{
		{"grammar", a, func() error { _, err := p.Recognize(context.Background(), a, yesNoOperator); return err }},
		{"keywords", a, func() error {
			_, err := p.Recognize(context.Background(), a, Hints{Keywords: yesNoOperator.Words})
			return err
		}},
		{"language_model", a, func() error { _, err := p.Recognize(context.Background(), a, Hints{}); return err }},
		{"digits_1234", long, func() error { _, err := p.RecognizeDigits(context.Background(), long); return err }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for range b.N {
				if err := bc.run(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(bc.audio.Duration().Seconds(), "audio-s/op")
		})
	}
}

// The recogniser's URL is the operator's, but the egress policy still
// keeps it off cloud metadata: nothing is dialled.
func TestHTTPRecognizerEgressPolicy(t *testing.T) {
	audio := &dialtone.Audio{Samples: noise(100*time.Millisecond, -20, 5)}
	h := &HTTPRecognizer{URL: "http://169.254.169.254/latest/meta-data/", Timeout: time.Second}
	_, err := h.Recognize(context.Background(), audio, Hints{Account: "100"})
	if err == nil || !strings.Contains(err.Error(), "rule metadata") {
		t.Fatalf("err = %v, want a refusal naming the metadata rule", err)
	}
}
