package main

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dialtone-voice/dialtone/sdk"
)

// The live-calls row: how much memory one node needs per call it holds.

// liveScale is the simulated network's time scale in the live-calls row:
// every simulated second lasts 60 wall seconds, so that a notification of
// a few simulated seconds stays live for minutes while the row places and
// measures its calls.
const liveScale = "60"

// liveBudget bounds the whole live-calls row (placing, waiting, measuring).
const liveBudget = 5 * time.Minute

// liveResult is what the live-calls row measured.
type liveResult struct {
	calls, live int
	place       time.Duration
	// heap and stack are the node's in-use heap and goroutine stacks with
	// the calls live (after a GC); base* before any call; goroutines
	// likewise.
	heap, baseHeap, stack, baseStack uint64
	goroutines, baseGoroutines       int
}

func (r liveResult) row() benchRow {
	per := func(v, base uint64) float64 { return (float64(v) - float64(base)) / float64(max(r.live, 1)) / 1024 }
	const gib = 1 << 30
	return benchRow{fmt.Sprintf("live calls held (%d simulated TTS calls)", r.calls),
		fmt.Sprintf("%d live", r.live),
		fmt.Sprintf("heap %.0f MiB (%.2f of the 2 GiB goal; with stacks %.2f), %.1f KB per live call; stacks %.1f KB per call; %.2f goroutines per call; placed in %.1f s through the API, simulated time x%s",
			float64(r.heap)/(1<<20), float64(r.heap)/(2*gib), float64(r.heap+r.stack)/(2*gib), per(r.heap, r.baseHeap), per(r.stack, r.baseStack),
			float64(r.goroutines-r.baseGoroutines)/float64(max(r.live, 1)), r.place.Seconds(), liveScale)}
}

// benchLive starts a node on SQLite whose simulated subscribers answer at
// once and listen to the end, places n SingleCallByTts calls through the
// API, waits until the node runs all of them, and measures its heap,
// stacks and goroutines beside those it had before the first call. The
// calls last minutes of wall time (liveScale), far longer than the row.
func benchLive(ctx context.Context, dir, key string, n int, memProfile string) (liveResult, error) {
	res := liveResult{calls: n}
	ctx, cancel := context.WithTimeout(ctx, liveBudget)
	defer cancel()
	node, err := startBenchNodeDoc(ctx, dir, "live", "", key, benchDocAnswer(liveScale, "100ms"), n+1000)
	if err != nil {
		return res, err
	}
	defer node.stop()
	// Up to 64 requests in flight, on as many kept-alive connections.
	hc := benchHTTPClient(64)
	client, err := sdk.New(sdk.Config{AccessKeyID: benchKeyID, AccessKeySecret: benchSecret, Endpoint: node.addr, MaxRetries: -1, HTTPClient: hc})
	if err != nil {
		return res, err
	}
	res.baseHeap, res.baseStack, res.baseGoroutines = memNow()
	var next, failed atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	start := time.Now()
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				_, err := client.SingleCallByTts(ctx, sdk.TtsCall{CalledNumber: fmt.Sprintf("139%08d", i), CalledShowNumber: "057188880000",
					TtsCode: "TTS_100002", PlayTimes: 3})
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err)
				}
			}
		}()
	}
	wg.Wait()
	res.place = time.Since(start)
	if f := failed.Load(); f > 0 {
		return res, fmt.Errorf("%d of %d calls refused: %v", f, n, firstErr.Load())
	}
	// Every call is live once the node runs it; then wait for the
	// subscribers to answer (100 ms simulated, 3 s of wall time) and the
	// prompts to play.
	for node.node.LiveCalls() < n {
		select {
		case <-ctx.Done():
			return res, fmt.Errorf("%d of %d calls live: %w", node.node.LiveCalls(), n, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
	select {
	case <-ctx.Done():
		return res, ctx.Err()
	case <-time.After(5 * time.Second):
	}
	res.heap, res.stack, res.goroutines = memNow()
	res.live = node.node.LiveCalls()
	if memProfile != "" {
		if err := writeHeapProfile(memProfile); err != nil {
			return res, err
		}
	}
	if res.live < n {
		return res, fmt.Errorf("only %d of %d calls still live when measured: calls ended too soon", res.live, n)
	}
	return res, nil
}

// memNow is the in-use heap and stacks after a collection, and the
// goroutines.
func memNow() (heap, stack uint64, goroutines int) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse, ms.StackInuse, runtime.NumGoroutine()
}

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("heap profile: %w", err)
	}
	if err := pprof.WriteHeapProfile(f); err != nil {
		f.Close()
		return fmt.Errorf("heap profile: %w", err)
	}
	return f.Close()
}
