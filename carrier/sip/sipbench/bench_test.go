//go:build linux

package sipbench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone/media"
)

// Benchmarks of the SIP carrier, each beside its physical limit measured
// in the same run on the same machine (issue 6). The same measurements
// are rows of `dialtone bench`.
//
// Run: go test -run '^$' -bench SIP -benchtime 1x ./carrier/sip/sipbench/
// Everything is on loopback and bounded in calls and time.

// farEndEnv makes the test binary, started again as a child, be the far
// end (TestSIPBenchFarEnd).
const farEndEnv = "DIALTONE_SIP_BENCH_FAREND"

// TestSIPBenchFarEnd is the far end of BenchmarkSIPConcurrentRTP when run
// as its child process; otherwise it does nothing.
func TestSIPBenchFarEnd(t *testing.T) {
	if os.Getenv(farEndEnv) != "1" {
		t.Skip("the far end of BenchmarkSIPConcurrentRTP, run as its child process")
	}
	if err := FarEndMain(context.Background(), os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "far end:", err)
		os.Exit(1)
	}
	// Exit here: the rest of the test framework would print to stdout.
	os.Exit(0)
}

// startFarEnd starts this test binary as the far end; Cleanup ends it.
func startFarEnd(tb testing.TB) *FarEnd {
	tb.Helper()
	return startChild(tb, "TestSIPBenchFarEnd", farEndEnv)
}

// startChild starts this test binary running only test, with env set to
// 1 (which makes that test a far end); Cleanup ends it.
func startChild(tb testing.TB, test, env string) *FarEnd {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$", "-test.v=false")
	cmd.Env = append(os.Environ(), env+"=1")
	cmd.Stderr = os.Stderr
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	f, err := StartFarEnd(ctx, cmd)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := f.Close(); err != nil {
			tb.Error(err)
		}
	})
	return f
}

// startUAS starts a SIPp answerer; Cleanup ends it.
func startUAS(tb testing.TB) *Sipp {
	tb.Helper()
	s, err := StartSippUAS(context.Background(), tb.TempDir())
	if errors.Is(err, ErrNoSipp) {
		tb.Skip(err)
	}
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

// BenchmarkSIPCallsPerSecond: Dialtone as the caller against a SIPp
// answerer, beside SIPp calling SIPp at the same offered rate in the same
// run, without media and with RTP as Dialtone's calls have. The ratio of
// the rates is the figure; CPU per call is the caller's own (this
// process; the SIPp caller's rusage).
func BenchmarkSIPCallsPerSecond(b *testing.B) {
	if !SippInstalled() {
		b.Skip(ErrNoSipp)
	}
	ctx := context.Background()
	for _, rate := range []int{250, 1000, 2000} {
		calls := min(2000, rate*4)
		b.Run(fmt.Sprintf("offered=%dcps", rate), func(b *testing.B) {
			for range b.N {
				sp, err := SippCalls(ctx, b.TempDir(), startUAS(b).Addr, rate, calls)
				if err != nil {
					b.Fatal(err)
				}
				spm, err := SippCallsRTP(ctx, b.TempDir(), startUAS(b).Addr, rate, calls)
				if err != nil {
					b.Fatal(err)
				}
				dt, err := DialtoneCalls(ctx, startUAS(b).Addr, rate, calls)
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(dt.CPS(), "dialtone_cps")
				b.ReportMetric(sp.CPS(), "sipp_cps")
				b.ReportMetric(dt.CPS()/sp.CPS(), "ratio")
				b.ReportMetric(float64(dt.Failed), "dialtone_failed")
				b.ReportMetric(float64(sp.Failed), "sipp_failed")
				b.ReportMetric(float64(dt.CPUPerCall().Nanoseconds())/1000, "dialtone_cpu_us/call")
				b.ReportMetric(float64(sp.CPUPerCall().Nanoseconds())/1000, "sipp_cpu_us/call")
				b.ReportMetric(float64(spm.CPUPerCall().Nanoseconds())/1000, "sipp_rtp_cpu_us/call")
				b.ReportMetric(float64(spm.Failed), "sipp_rtp_failed")
				b.Logf("%d calls offered at %d/s: dialtone %d ok %d failed in %v (%.0f cps); sipp %d ok %d failed in %v (%.0f cps)",
					calls, rate, dt.OK, dt.Failed, dt.Elapsed.Round(time.Millisecond), dt.CPS(),
					sp.OK, sp.Failed, sp.Elapsed.Round(time.Millisecond), sp.CPS())
			}
		})
	}
}

// BenchmarkSIPConcurrentRTP holds N answered G.711 calls, each playing a
// prompt, and measures over a window: the share of packets sent more than
// 5 ms after their 20 ms slot, CPU per call (ms of CPU per second of
// call) and heap per call. Beside it, in the same run, a bare loop writes
// the same number of 172-byte packets every 20 ms from one goroutine on
// as many sockets: the cost of the system calls alone, the physical
// limit the pacer is measured against.
func BenchmarkSIPConcurrentRTP(b *testing.B) {
	const window = 5 * time.Second
	ctx := context.Background()
	for _, n := range []int{200, 500, 1000, 2000} {
		b.Run(fmt.Sprintf("calls=%d", n), func(b *testing.B) {
			for range b.N {
				f := startFarEnd(b)
				r, err := RunConcurrent(ctx, f, n, window)
				if err != nil {
					b.Fatal(err)
				}
				bare, err := RunBare(ctx, f, n, window)
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(r.Lateness.LatePct(), "late_pct")
				b.ReportMetric(float64(r.Lateness.P99.Microseconds())/1000, "p99_late_ms")
				b.ReportMetric(r.CPUPerCall, "cpu_ms_per_call_s")
				b.ReportMetric(r.KBPerCall, "KB_per_call")
				b.ReportMetric(bare.Lateness.LatePct(), "bare_late_pct")
				b.ReportMetric(bare.CPUPerCall, "bare_cpu_ms_per_call_s")
				b.ReportMetric(float64(r.Lateness.Packets)/(float64(n)*window.Seconds()*50)*100, "rx_pct")
				b.Logf("%d calls: %d packets from %d streams in %v; late>5ms %.3f%% (>20ms %d), p99 %v, max %v; CPU %.1f%% of a core = %.3f ms/call/s (bare sender %.3f, late %.3f%%); heap %.1f KB/call, %d goroutines",
					n, r.Lateness.Packets, r.Lateness.Streams, window, r.Lateness.LatePct(), r.Lateness.Late20, r.Lateness.P99, r.Lateness.Max,
					r.CPUPerCall*float64(n)/10, r.CPUPerCall, bare.CPUPerCall, bare.Lateness.LatePct(), r.KBPerCall, r.Goroutines)
			}
		})
	}
}

// streamFarEndEnv makes the test binary, started again as a child, be the
// far end of the stream measurement (TestSIPBenchStreamFarEnd).
const streamFarEndEnv = "DIALTONE_SIP_BENCH_STREAM_FAREND"

// TestSIPBenchStreamFarEnd is the far end of BenchmarkSIPStreams when run
// as its child process; otherwise it does nothing.
func TestSIPBenchStreamFarEnd(t *testing.T) {
	if os.Getenv(streamFarEndEnv) != "1" {
		t.Skip("the far end of BenchmarkSIPStreams, run as its child process")
	}
	if err := StreamFarEndMain(context.Background(), os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "far end:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

func startStreamFarEnd(tb testing.TB) *FarEnd {
	tb.Helper()
	return startChild(tb, "TestSIPBenchStreamFarEnd", streamFarEndEnv)
}

// BenchmarkSIPStreams holds N answered G.711 calls, each connected to an
// echo application over a media stream as the engine connects an agent,
// and measures over a window, beside the limit of the same run: the
// latency added each way (RTP in → WebSocket out; WebSocket in → RTP out,
// which includes the wait for the call's next 20 ms send slot), the share
// of RTP packets more than 5 ms late, CPU per stream (this process: the
// carrier and the streams; the far end and the application are a child)
// and frames dropped. Goal: p99 under 10 ms added and under 1% late at
// 500 streams on 2 cores.
//
// What WebSocket in → RTP out can be: the echo of a frame arrives at a
// phase of the 20 ms frame set by the far end's send slot, unrelated to
// the call's own send slot in Dialtone's pacer, so it would wait 0–20 ms
// for that slot however fast Dialtone is; the slot follows the phase of
// the application's audio instead (the carrier's feedPhase), keeping a
// margin the jitter sets. An echo that comes late for its slot, or that
// queued while the pacer skipped slots, is dropped when the next comes
// (mediastream.Playout), and so is a single frame left standing in the
// queue for a second, all counted with the drops; but after a stall
// longer than mediastream.MaxHiccup (the calls being set up on a
// saturated machine) more than a frame may stay queued, and the call
// waits a frame more for each such frame from then on.
func BenchmarkSIPStreams(b *testing.B) {
	const window = 5 * time.Second
	ctx := context.Background()
	for _, n := range []int{100, 250, 500} {
		b.Run(fmt.Sprintf("streams=%d", n), func(b *testing.B) {
			for range b.N {
				f := startStreamFarEnd(b)
				r, err := RunStreams(ctx, f, n, window)
				if err != nil {
					b.Fatal(err)
				}
				l := r.Latency
				ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
				b.ReportMetric(ms(l.Up50), "up_p50_ms")
				b.ReportMetric(ms(l.Up99), "up_p99_ms")
				b.ReportMetric(ms(l.Down50), "down_p50_ms")
				b.ReportMetric(ms(l.Down99), "down_p99_ms")
				b.ReportMetric(l.LatePct(), "late_pct")
				b.ReportMetric(r.CPUPerStream, "cpu_ms_per_stream_s")
				b.ReportMetric(float64(r.Drops), "drops")
				b.ReportMetric(float64(l.FarCPU.Microseconds())/1000/float64(n), "far_cpu_ms_per_stream_s")
				b.ReportMetric(r.RxPct, "rx_pct")
				b.Logf("%d streams: RTP→WS p50 %v p99 %v (%d frames); WS→RTP p50 %v p99 %v (%d frames); RTP late>5ms %.3f%% (p99 %v) of %d packets from %d streams (%.1f%% of those due); CPU %.3f ms per stream-second (%.1f%% of a core); far end and application %.1f%% of a core; %d frames dropped",
					n, l.Up50, l.Up99, l.Up, l.Down50, l.Down99, l.Down, l.LatePct(), l.P99, l.Packets, l.Streams, r.RxPct,
					r.CPUPerStream, r.CPUPerStream*float64(n)/10, float64(l.FarCPU)/float64(time.Second)*100, r.Drops)
			}
		})
	}
}

// TestStampSurvivesMuLaw: the stamps the stream measurement puts in
// payloads come back unchanged through G.711 decoding and encoding.
func TestStampSurvivesMuLaw(t *testing.T) {
	p := make([]byte, 2*stampLen)
	ns := time.Now().UnixNano()
	putStamp(p, ns)
	putStamp(p[stampLen:], ns+12345)
	back := media.EncodeMuLaw(media.DecodeMuLaw(p))
	a, ok1 := getStamp(back)
	c, ok2 := getStamp(back[stampLen:])
	if !ok1 || !ok2 || a != ns || c != ns+12345 {
		t.Fatalf("stamps %d %d (%v %v), want %d %d", a, c, ok1, ok2, ns, ns+12345)
	}
	for _, m := range magic {
		if media.EncodeMuLaw(media.DecodeMuLaw([]byte{m}))[0] != m {
			t.Fatalf("magic byte %#x changes", m)
		}
	}
}
