package detect_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone/media/detect"
	"github.com/dialtone-voice/dialtone/media/detect/corpus"
)

// BenchmarkTuning is how the defaults were chosen: a sweep of the main
// thresholds over the corpus of TuningSeed only (the README's figures are
// ReportSeed's, on which nothing was tuned).
//
//	go test -run '^$' -bench Tuning -benchtime 1x ./media/detect/
func BenchmarkTuning(b *testing.B) {
	items, err := corpus.Generate(context.Background(), corpus.Options{Seed: TuningSeed, CacheDir: b.TempDir()})
	if corpus.IsMissingSpeaker(err) {
		b.Skip("espeak-ng is not installed (scripts/install-deps.sh installs it): the corpus speaks with it")
	}
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		fmt.Println("| AfterGreetingSilence | Greeting | MaxSegments | right | humans as machines | human median, p95 | machine median, p95 |")
		fmt.Println("|---|---|---|---|---|---|---|")
		for _, ags := range []time.Duration{700, 800, 900, 1000} {
			for _, greeting := range []time.Duration{1500, 1800, 2100} {
				for _, segments := range []int{3, 5} {
					cfg := detect.Config{Mode: detect.ModeMessage, AfterGreetingSilence: ags * time.Millisecond, Greeting: greeting * time.Millisecond, MaxSegments: segments}
					ev := evaluate(b, items, cfg)
					fmt.Printf("| %v | %v | %d | %.1f%% | %d | %.2f s, %.2f s | %.2f s, %.2f s |\n", cfg.AfterGreetingSilence, cfg.Greeting, segments,
						100*ev.correctShare(), ev.humanAsMachine(), ev.humanTimes.quantile(0.5).Seconds(), ev.humanTimes.quantile(0.95).Seconds(),
						ev.machineTimes.quantile(0.5).Seconds(), ev.machineTimes.quantile(0.95).Seconds())
				}
			}
		}
	}
}
