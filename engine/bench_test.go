package engine

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/carrier/sim"
)

// benchEngine is an engine on SQLite whose Receipts hook counts calls that
// reach a state, so the benchmark can wait without polling the store.
func benchEngine(b *testing.B, scale float64, beh sim.Behavior, reached func(c *dialtone.Call)) *harness {
	st := openStore(b)
	clock := ScaledClock(scale)
	net := sim.New(&sim.Config{TimeScale: scale, Default: beh}, clock)
	h := &harness{t: b, ctx: context.Background(), st: st, clock: clock, net: net}
	h.cfg = Config{Store: st, Carrier: net, Renderer: &fakeRenderer{}, Clock: clock, Node: "bench", Logger: quiet,
		Receipts: ReceiptsFunc(func(c *dialtone.Call, _ []dialtone.CallEvent) []dialtone.Receipt {
			reached(c)
			return nil
		})}
	h.eng = New(h.cfg)
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		h.eng.Shutdown(ctx)
	})
	return h
}

// BenchmarkCallsPerSecond runs complete notification calls (create, dial,
// ring, answer, play 2 s, hang up) end to end through SQLite, with up to
// 2,000 in flight, on a clock 1,000 times faster than wall time.
func BenchmarkCallsPerSecond(b *testing.B) {
	var ended, completed atomic.Int64
	h := benchEngine(b, 0.001, sim.Behavior{Result: sim.ResultAnswer, AnswerAfter: time.Second}, func(c *dialtone.Call) {
		if c.State == dialtone.CallEnded {
			ended.Add(1)
			if c.StatusCode == dialtone.StatusCompleted {
				completed.Add(1)
			}
		}
	})
	plan := &dialtone.CallPlan{Prompt: []dialtone.Prompt{tts("您的验证码是1234")}}
	const inFlight = 2000
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		for int64(i)-ended.Load() >= inFlight {
			time.Sleep(100 * time.Microsecond)
		}
		c := h.create(dialtone.KindTTS, "", fmt.Sprintf("138%08d", i), plan)
		if err := h.eng.Start(h.ctx, c); err != nil {
			b.Fatal(err)
		}
	}
	for ended.Load() < int64(b.N) {
		time.Sleep(100 * time.Microsecond)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "calls/s")
	// On an overloaded machine the fast clock turns store latency into
	// ring timeouts; this shows whether the rate is of real completions.
	b.ReportMetric(100*float64(completed.Load())/float64(b.N), "completed-%")
}

// BenchmarkLiveCallMemory keeps N IVR calls live (answered, waiting an hour
// for a key) and reports the heap and stack they use per call.
func BenchmarkLiveCallMemory(b *testing.B) {
	const n = 10000
	for i := 0; i < b.N; i++ {
		var answered, ended atomic.Int64
		h := benchEngine(b, 0.01, sim.Behavior{Result: sim.ResultAnswer, AnswerAfter: time.Second}, func(c *dialtone.Call) {
			switch c.State {
			case dialtone.CallAnswered:
				answered.Add(1)
			case dialtone.CallEnded:
				ended.Add(1)
			}
		})
		// Starting 10,000 calls at once queues their writes for seconds of
		// wall time, which the fast clock turns into minutes.
		h.eng.cfg.RingTimeout = 10 * time.Hour
		plan := &dialtone.CallPlan{Prompt: []dialtone.Prompt{tts("请按键")}, DTMFTimeout: 10 * time.Hour,
			Menu: []dialtone.MenuItem{{Key: "1", Prompt: []dialtone.Prompt{tts("好")}}}}
		calls := make([]*dialtone.Call, n)
		for j := range calls {
			calls[j] = h.create(dialtone.KindIVR, "", fmt.Sprintf("139%08d", j), plan)
		}
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		for _, c := range calls {
			if err := h.eng.Start(h.ctx, c); err != nil {
				b.Fatal(err)
			}
		}
		for answered.Load() < n {
			if ended.Load() > 0 {
				b.Fatalf("%d calls ended early", ended.Load())
			}
			time.Sleep(time.Millisecond)
		}
		time.Sleep(200 * time.Millisecond) // let the prompts play out
		runtime.GC()
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		if h.eng.Live() != n {
			b.Fatalf("%d live, want %d", h.eng.Live(), n)
		}
		heap := float64(after.HeapInuse-before.HeapInuse) / n
		stack := float64(after.StackInuse-before.StackInuse) / n
		b.ReportMetric(heap, "heap-B/call")
		b.ReportMetric(stack, "stack-B/call")
		b.ReportMetric((heap+stack)*50000/(1<<30), "GiB/50k-calls")
		b.ReportMetric(float64(runtime.NumGoroutine())/n, "goroutines/call")
	}
}
