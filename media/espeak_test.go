package media

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone"
)

func needESpeak(tb testing.TB) *ESpeak {
	tb.Helper()
	if _, err := exec.LookPath("espeak-ng"); err != nil {
		tb.Skip("espeak-ng not installed")
	}
	return &ESpeak{}
}

func TestESpeakSpeaks(t *testing.T) {
	e := needESpeak(t)
	ctx := context.Background()
	for _, tt := range []struct{ text, voice string }{
		{"Your verification code is 1, 2, 3, 4. Thank you.", ""},
		{"您的验证码是1 2 3 4，请在五分钟内输入。", ""},
		{"Hello from Dialtone.", "en-us"},
	} {
		a, err := e.Speak(ctx, tt.text, tt.voice, 0, 100)
		if err != nil {
			t.Fatalf("%q: %v", tt.text, err)
		}
		if a.Duration() < 500*time.Millisecond || a.Duration() > 15*time.Second {
			t.Errorf("%q: implausible duration %v", tt.text, a.Duration())
		}
		if r := rms(a.Samples); r < 500 {
			t.Errorf("%q: RMS %.0f, nearly silent", tt.text, r)
		}
		if a.Label != tt.text {
			t.Errorf("label %q", a.Label)
		}
		t.Logf("%q: %v, RMS %.0f", tt.text, a.Duration(), rms(a.Samples))
	}
}

func TestESpeakSpeedAndVolume(t *testing.T) {
	e := needESpeak(t)
	ctx := context.Background()
	const text = "The quick brown fox jumps over the lazy dog."
	durs := map[int]time.Duration{}
	for _, speed := range []int{-500, 0, 500} {
		a, err := e.Speak(ctx, text, "en", speed, 100)
		if err != nil {
			t.Fatal(err)
		}
		durs[speed] = a.Duration()
	}
	if !(durs[-500] > durs[0] && durs[0] > durs[500]) {
		t.Errorf("durations by speed %v: slower speed should be longer", durs)
	}
	loud, err := e.Speak(ctx, text, "en", 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	quiet, err := e.Speak(ctx, text, "en", 0, 25)
	if err != nil {
		t.Fatal(err)
	}
	if r := rms(quiet.Samples) / rms(loud.Samples); r > 0.5 || r < 0.1 {
		t.Errorf("volume 25 / volume 100 RMS ratio %.2f, want ~0.25", r)
	}
}

func TestESpeakErrors(t *testing.T) {
	ctx := context.Background()
	_, err := (&ESpeak{Path: "espeak-ng-definitely-missing"}).Speak(ctx, "hi", "en", 0, 100)
	if !errors.Is(err, ErrESpeakNotFound) || !errors.Is(err, exec.ErrNotFound) ||
		!strings.Contains(err.Error(), "espeak-ng not found: apt-get install espeak-ng") {
		t.Errorf("missing binary: %v", err)
	}
	e := needESpeak(t)
	if a, err := e.Speak(ctx, "  ", "", 0, 100); err != nil || len(a.Samples) != 0 {
		t.Errorf("blank text: %v %v", a, err)
	}
	for _, v := range []string{"-x", "../en", "en us", "en;rm"} {
		if _, err := e.Speak(ctx, "hi", v, 0, 100); err == nil || !strings.Contains(err.Error(), "invalid voice") {
			t.Errorf("voice %q: %v", v, err)
		}
	}
	if _, err := e.Speak(ctx, "hi", "nosuchvoice", 0, 100); err == nil || !strings.Contains(err.Error(), "nosuchvoice") {
		t.Errorf("unknown voice: %v", err)
	}
	if _, err := e.Speak(ctx, strings.Repeat("a", MaxTTSText+1), "", 0, 100); err == nil {
		t.Error("oversized text accepted")
	}
	// Text that looks like options is spoken, not obeyed.
	if a, err := e.Speak(ctx, "--version -w out.wav", "en", 0, 100); err != nil || len(a.Samples) == 0 {
		t.Errorf("option-like text: %v", err)
	}
}

func TestESpeakCancel(t *testing.T) {
	e := needESpeak(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.Speak(ctx, "hello", "en", 0, 100); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	// A long text killed part way.
	ctx, cancel = context.WithTimeout(context.Background(), 5*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := e.Speak(ctx, strings.Repeat("This sentence is long enough to take a while. ", 150), "en", 0, 100)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("deadline: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("kill took %v", d)
	}
}

func TestVoiceFor(t *testing.T) {
	for text, want := range map[string]string{
		"您的验证码是1234":        VoiceMandarin,
		"Code 1234, 谢谢":     VoiceMandarin,
		"Your code is 1234": VoiceEnglish,
		"":                  VoiceEnglish,
	} {
		if got := VoiceFor(text); got != want {
			t.Errorf("VoiceFor(%q) = %q, want %q", text, got, want)
		}
	}
}

// countingSpeaker counts syntheses and can be slowed or failed.
type countingSpeaker struct {
	calls atomic.Int64
	delay time.Duration
	fail  error
	next  dialtone.Speaker // nil: a synthetic tone
}

func (s *countingSpeaker) Speak(ctx context.Context, text, voice string, speed, volume int) (*dialtone.Audio, error) {
	s.calls.Add(1)
	if s.delay > 0 {
		select {
		case <-time.After(s.delay):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if s.fail != nil {
		return nil, s.fail
	}
	if s.next != nil {
		return s.next.Speak(ctx, text, voice, speed, volume)
	}
	// One sample per byte of text, so tests can size entries.
	a := &dialtone.Audio{Samples: make([]int16, len(text)), Label: text}
	for i := range a.Samples {
		a.Samples[i] = int16(i + speed + volume)
	}
	return a, nil
}

func TestCachedSpeakerHits(t *testing.T) {
	e := needESpeak(t)
	inner := &countingSpeaker{next: e}
	c := NewCachedSpeaker(inner, 0)
	ctx := context.Background()
	a1, err := c.Speak(ctx, "您的验证码是1 2 3 4", VoiceMandarin, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	a2, err := c.Speak(ctx, "您的验证码是1 2 3 4", VoiceMandarin, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if inner.calls.Load() != 1 {
		t.Errorf("%d syntheses, want 1", inner.calls.Load())
	}
	if !equal16(a1.Samples, a2.Samples) || a1.Label != a2.Label {
		t.Error("cache hit differs from the original")
	}
	// The copy is the caller's: changing it leaves the cache intact.
	ApplyVolume(a2, 10)
	a3, _ := c.Speak(ctx, "您的验证码是1 2 3 4", VoiceMandarin, 0, 100)
	if !equal16(a1.Samples, a3.Samples) {
		t.Error("ApplyVolume on a hit corrupted the cache")
	}
	// Any part of the key differing is a miss.
	for _, k := range []struct {
		text, voice   string
		speed, volume int
	}{{"您的验证码是1 2 3 4", VoiceMandarin, 100, 100}, {"您的验证码是1 2 3 4", VoiceMandarin, 0, 50}, {"您的验证码是1 2 3 4", "cmn", 0, 100}} {
		if _, err := c.Speak(ctx, k.text, k.voice, k.speed, k.volume); err != nil {
			t.Fatal(err)
		}
	}
	if got := c.Stats(); inner.calls.Load() != 4 || got.Hits != 2 || got.Misses != 4 || got.Entries != 4 {
		t.Errorf("calls %d, stats %+v", inner.calls.Load(), got)
	}
}

func TestCachedSpeakerEvictsLRU(t *testing.T) {
	inner := &countingSpeaker{}
	text := func(c byte) string { return strings.Repeat(string(c), 1000) } // 3130 B an entry
	c := NewCachedSpeaker(inner, 10000)                                    // room for 3
	ctx := context.Background()
	for _, k := range []byte("abca") { // a is now most recent
		if _, err := c.Speak(ctx, text(k), "en", 0, 0); err != nil {
			t.Fatal(err)
		}
	}
	c.Speak(ctx, text('d'), "en", 0, 0) // evicts b, the least recently used
	before := inner.calls.Load()
	c.Speak(ctx, text('a'), "en", 0, 0)
	c.Speak(ctx, text('c'), "en", 0, 0)
	c.Speak(ctx, text('d'), "en", 0, 0)
	if inner.calls.Load() != before {
		t.Errorf("a, c or d was evicted")
	}
	c.Speak(ctx, text('b'), "en", 0, 0)
	if inner.calls.Load() != before+1 {
		t.Errorf("b was not evicted")
	}
	if s := c.Stats(); s.Bytes > 10000 || s.Entries != 3 {
		t.Errorf("stats %+v", s)
	}
	// Larger than the whole cache: returned, not stored.
	if a, err := c.Speak(ctx, strings.Repeat("x", 5000), "en", 0, 0); err != nil || len(a.Samples) != 5000 {
		t.Fatal(err)
	}
	if s := c.Stats(); s.Entries != 3 {
		t.Errorf("oversized entry cached: %+v", s)
	}
}

func TestCachedSpeakerSingleflight(t *testing.T) {
	inner := &countingSpeaker{delay: 50 * time.Millisecond}
	c := NewCachedSpeaker(inner, 0)
	var wg sync.WaitGroup
	results := make([]*dialtone.Audio, 20)
	for i := range results {
		wg.Go(func() {
			a, err := c.Speak(context.Background(), "same text", "en", 0, 100)
			if err != nil {
				t.Error(err)
			}
			results[i] = a
		})
	}
	wg.Wait()
	if n := inner.calls.Load(); n != 1 {
		t.Errorf("%d syntheses for 20 concurrent requests", n)
	}
	for _, a := range results[1:] {
		if a == nil || !equal16(a.Samples, results[0].Samples) {
			t.Fatal("requests got different audio")
		}
	}
	if &results[0].Samples[0] == &results[1].Samples[0] {
		t.Error("requests share one sample slice")
	}
}

func TestCachedSpeakerCancellation(t *testing.T) {
	inner := &countingSpeaker{delay: 200 * time.Millisecond}
	c := NewCachedSpeaker(inner, 0)
	// One impatient caller gives up; the patient one still gets audio.
	short, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		_, err := c.Speak(short, "t", "en", 0, 100)
		errc <- err
	}()
	time.Sleep(2 * time.Millisecond)
	a, err := c.Speak(context.Background(), "t", "en", 0, 100)
	if err != nil || a == nil {
		t.Fatalf("patient caller: %v", err)
	}
	if err := <-errc; !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("impatient caller: %v", err)
	}
	if inner.calls.Load() != 1 {
		t.Errorf("%d syntheses", inner.calls.Load())
	}
	// When every caller gives up, the synthesis is cancelled and nothing
	// is cached; the next request starts afresh.
	short2, cancel2 := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel2()
	if _, err := c.Speak(short2, "u", "en", 0, 100); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("abandoned: %v", err)
	}
	inner.delay = 0
	// (The abandoned synthesis sees its context cancelled and fails.)
	if _, err := c.Speak(context.Background(), "u", "en", 0, 100); err != nil {
		t.Fatal(err)
	}
}

func TestCachedSpeakerErrorsNotCached(t *testing.T) {
	boom := errors.New("boom")
	inner := &countingSpeaker{fail: boom}
	c := NewCachedSpeaker(inner, 0)
	for range 2 {
		if _, err := c.Speak(context.Background(), "x", "en", 0, 100); !errors.Is(err, boom) {
			t.Errorf("err %v", err)
		}
	}
	if inner.calls.Load() != 2 {
		t.Errorf("error was cached")
	}
}

func BenchmarkTTSUncached(b *testing.B) {
	e := needESpeak(b)
	for b.Loop() {
		if _, err := e.Speak(context.Background(), "您的验证码是1 2 3 4，请在五分钟内输入。", VoiceMandarin, 0, 100); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTTSCached(b *testing.B) {
	c := NewCachedSpeaker(needESpeak(b), 0)
	for b.Loop() {
		if _, err := c.Speak(context.Background(), "您的验证码是1 2 3 4，请在五分钟内输入。", VoiceMandarin, 0, 100); err != nil {
			b.Fatal(err)
		}
	}
}

func TestSharedCachedSpeakerHandsOutOneAudio(t *testing.T) {
	c := NewSharedCachedSpeaker(&countingSpeaker{}, 0)
	a, err := c.Speak(context.Background(), "same text", "en", 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Speak(context.Background(), "same text", "en", 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Error("a shared cache handed out two copies of one prompt")
	}
}
