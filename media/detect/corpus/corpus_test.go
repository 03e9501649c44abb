package corpus

import (
	"context"
	"errors"
	"hash/fnv"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/media"
	"github.com/dialtone-voice/dialtone/media/detect/synth"
)

// buzz is a stand-in for espeak-ng: a voiced buzz, its pitch from the
// voice, 70 ms a character at speed 0, with syllables.
type buzz struct{ calls atomic.Int64 }

func (b *buzz) Speak(_ context.Context, text, voice string, speed, _ int) (*dialtone.Audio, error) {
	b.calls.Add(1)
	h := fnv.New32a()
	h.Write([]byte(voice))
	f0 := 100 + float64(h.Sum32()%120)
	n := int(float64(len([]rune(text))) * 0.07 * 8000 / (1 + float64(speed)/500))
	s := make([]int16, n+1600) // and 0.2 s of silence, as espeak-ng leaves
	for i := range n {
		t := float64(i) / 8000
		env := 0.5 + 0.5*math.Sin(2*math.Pi*4*t)
		var v float64
		for k := 1; k <= 8; k++ {
			v += math.Sin(2*math.Pi*f0*float64(k)*t) / float64(k)
		}
		s[800+i] = int16(6000 * env * v)
	}
	return &dialtone.Audio{Samples: s}, nil
}

func digest(items []Item) []string {
	var out []string
	for _, it := range items {
		h := fnv.New64a()
		for _, v := range it.Audio {
			h.Write([]byte{byte(v), byte(v >> 8)})
		}
		out = append(out, it.Desc+"|"+string(h.Sum(nil)))
	}
	return out
}

// The same seed gives the same corpus, sample for sample; another seed
// another corpus.
func TestGenerateReproducible(t *testing.T) {
	gen := func(seed uint64) []Item {
		items, err := Generate(context.Background(), Options{Seed: seed, N: 40, Speaker: &buzz{}})
		if err != nil {
			t.Fatal(err)
		}
		return items
	}
	a, b, c := gen(7), gen(7), gen(8)
	if !slices.Equal(digest(a), digest(b)) {
		t.Error("seed 7 twice: different corpora")
	}
	if slices.Equal(digest(a), digest(c)) {
		t.Error("seeds 7 and 8: the same corpus")
	}
}

// The default corpus has at least 300 answers in the planned shares.
func TestPlan(t *testing.T) {
	kinds := plan(rand.New(rand.NewPCG(1, 2)), DefaultN)
	if len(kinds) != DefaultN || DefaultN < 300 {
		t.Fatalf("%d items", len(kinds))
	}
	count := map[string]int{}
	for _, k := range kinds {
		count[k]++
	}
	want := map[string]int{"human": 128, "machine": 144, "beeponly": 10, "fax": 19, "silence": 10, "noise": 9}
	if !maps.Equal(count, want) {
		t.Errorf("kinds %v, want %v", count, want)
	}
	if k := plan(rand.New(rand.NewPCG(1, 2)), 7); len(k) != 7 {
		t.Errorf("7 items: %v", k)
	}
}

// A corpus has both languages, both G.711 laws, beeps and noise of
// several kinds, every item within its bounds.
func TestGenerateItems(t *testing.T) {
	const n = 90
	items, err := Generate(context.Background(), Options{Seed: 1, N: n, Speaker: &buzz{}})
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != n {
		t.Fatalf("%d items", len(items))
	}
	count := map[Truth]int{}
	seen := map[string]bool{}
	beepFreqs := map[int]bool{}
	for i, it := range items {
		count[it.Truth]++
		if it.ID != i || len(it.Audio) == 0 || synth.Dur(len(it.Audio)) > 30*time.Second {
			t.Errorf("#%d: id %d, %v of audio", i, it.ID, synth.Dur(len(it.Audio)))
		}
		for _, k := range []string{"A-law", "µ-law", "noise", "no beep", "CED", "V.21", "modem", "silence", "pauses", "hello-pause"} {
			if strings.Contains(it.Desc, k) {
				seen[k] = true
			}
		}
		seen["lang "+it.Lang] = true
		switch it.Truth {
		case Human:
			if d := it.VoiceEnd - it.VoiceStart; d <= 0 || d > 1500*time.Millisecond {
				t.Errorf("#%d: a person's hello of %v: %s", i, d, it.Desc)
			}
		case Machine:
			if it.Beep {
				beepFreqs[int(it.BeepFreq)/200] = true
				if it.BeepFreq < 400 || it.BeepFreq > 2000 || it.BeepEnd-it.BeepStart < 150*time.Millisecond || it.BeepEnd-it.BeepStart > time.Second || it.BeepStart < it.VoiceEnd {
					t.Errorf("#%d: beep %+v", i, it)
				}
			}
			if it.Lang != "" {
				if d := it.VoiceEnd - it.VoiceStart; d < 2*time.Second || d > 16*time.Second {
					t.Errorf("#%d: a greeting of %v: %s", i, d, it.Desc)
				}
			}
		}
	}
	want := map[Truth]int{Human: 36, Machine: 44, Fax: 5, Nobody: 5}
	if !maps.Equal(count, want) {
		t.Errorf("%v, want %v", count, want)
	}
	for _, k := range []string{"A-law", "µ-law", "noise", "no beep", "CED", "V.21", "silence", "pauses", "lang en", "lang cmn"} {
		if !seen[k] {
			t.Errorf("no item with %s", k)
		}
	}
	if len(beepFreqs) < 5 {
		t.Errorf("beeps in only %d bands of 200 Hz", len(beepFreqs))
	}
}

// With espeak-ng, a small corpus speaks, and a second generation reads
// the cache instead of running espeak-ng again.
func TestGenerateESpeak(t *testing.T) {
	if _, err := exec.LookPath("espeak-ng"); err != nil {
		t.Skip("espeak-ng not installed (scripts/install-deps.sh installs it)")
	}
	dir := t.TempDir()
	first, err := Generate(context.Background(), Options{Seed: 3, N: 12, CacheDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	files, _ := os.ReadDir(dir)
	if len(files) == 0 {
		t.Fatal("nothing cached")
	}
	var b buzz
	cached := &countingSpeaker{next: &media.ESpeak{}, calls: &b.calls}
	second, err := Generate(context.Background(), Options{Seed: 3, N: 12, CacheDir: dir, Speaker: cached})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(digest(first), digest(second)) {
		t.Error("the cached corpus differs")
	}
	if n := b.calls.Load(); n != 0 {
		t.Errorf("%d syntheses with everything cached", n)
	}
}

type countingSpeaker struct {
	next  dialtone.Speaker
	calls *atomic.Int64
}

func (c *countingSpeaker) Speak(ctx context.Context, text, voice string, speed, volume int) (*dialtone.Audio, error) {
	c.calls.Add(1)
	return c.next.Speak(ctx, text, voice, speed, volume)
}

func TestGenerateErrors(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Generate(ctx, Options{Seed: 1, N: 5, Speaker: &buzz{}}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	_, err := Generate(context.Background(), Options{Seed: 1, N: 20, Speaker: &media.ESpeak{Path: "/nonexistent/espeak-ng"}})
	if !IsMissingSpeaker(err) {
		t.Errorf("without espeak-ng: %v", err)
	}
}
