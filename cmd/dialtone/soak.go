package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/dialtone-voice/dialtone/sdk"
)

// cmdSoak holds a steady load of SingleCallByTts against an in-process
// node and reports memory and latency every --every, so that leaks and
// slow drifts show over minutes or hours. It is not part of CI.
func cmdSoak(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("soak", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dur := fs.Duration("duration", 5*time.Minute, "how long to hold the load (at most 24h)")
	rate := fs.Int("rate", 50, "calls per second (1-5000)")
	every := fs.Duration("every", 10*time.Second, "report period")
	scale := fs.String("time-scale", "0.05", "simulated network time_scale (0.05: a call lives about 0.1-0.5 s)")
	storeURL := fs.String("store", "", "store URL (default SQLite in a temporary directory)")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return errUsage
	}
	if *dur <= 0 || *dur > 24*time.Hour || *rate < 1 || *rate > 5000 || *every <= 0 {
		return errors.New("soak: --duration in (0, 24h], --rate in [1, 5000], --every > 0")
	}
	dir, err := os.MkdirTemp("", "dialtone-soak-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	key, err := newMasterKey()
	if err != nil {
		return err
	}
	n, err := startBenchNode(ctx, dir, "soak", *storeURL, key, *scale, 0)
	if err != nil {
		return err
	}
	defer n.stop()
	fmt.Fprintf(stdout, "soak: %d calls/s for %s on %s\n", *rate, *dur, machineInfo())
	fmt.Fprintf(stdout, "%8s %8s %8s %6s %8s %8s %8s %8s %9s %9s %6s\n",
		"elapsed", "placed", "failed", "live", "p50", "p95", "p99", "max", "heap MiB", "sys MiB", "gorout")

	ctx, cancel := context.WithTimeout(ctx, *dur)
	defer cancel()
	var (
		mu        sync.Mutex
		latencies []time.Duration
		placed    int
		failed    int
		inflight  sync.WaitGroup
	)
	// At most this many requests wait at once; beyond it the load is
	// shed (counted as failed) rather than piling up goroutines.
	sem := make(chan struct{}, 4*(*rate)+16)
	tick := time.NewTicker(time.Second / time.Duration(*rate))
	defer tick.Stop()
	report := time.NewTicker(*every)
	defer report.Stop()
	start := time.Now()
	i := 0
	print := func() {
		mu.Lock()
		lat := latencies
		latencies = nil
		p, f := placed, failed
		mu.Unlock()
		slices.Sort(lat)
		pct := func(q float64) time.Duration {
			if len(lat) == 0 {
				return 0
			}
			return lat[min(len(lat)-1, int(q*float64(len(lat))))].Round(100 * time.Microsecond)
		}
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		live, _ := n.unfinished(context.Background())
		fmt.Fprintf(stdout, "%8s %8d %8d %6d %8s %8s %8s %8s %9.1f %9.1f %6d\n",
			time.Since(start).Round(time.Second), p, f, live, pct(0.5), pct(0.95), pct(0.99), pct(1),
			float64(ms.HeapAlloc)/(1<<20), float64(ms.Sys)/(1<<20), runtime.NumGoroutine())
	}
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-report.C:
			print()
		case <-tick.C:
			select {
			case sem <- struct{}{}:
			default:
				mu.Lock()
				failed++
				mu.Unlock()
				continue
			}
			i++
			inflight.Add(1)
			go func(i int) {
				defer inflight.Done()
				defer func() { <-sem }()
				rctx, rcancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer rcancel()
				t0 := time.Now()
				_, err := n.client.SingleCallByTts(rctx, sdk.TtsCall{CalledNumber: fmt.Sprintf("139%08d", i%100000000),
					CalledShowNumber: "057188880000", TtsCode: "TTS_100002", PlayTimes: 1})
				d := time.Since(t0)
				mu.Lock()
				if err != nil {
					failed++
				} else {
					placed++
					latencies = append(latencies, d)
				}
				mu.Unlock()
			}(i)
		}
	}
	inflight.Wait()
	print()
	return nil
}
