package sipbench

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/carrier/sip"
	"github.com/dialtone-voice/dialtone/carrier/sip/sipconf"
)

// rampCPS is how fast RunConcurrent sets its calls up: quick, but not a
// burst that would measure the call set-up instead of the media.
const rampCPS = 500

// ConcurrentResult is what RunConcurrent measured.
type ConcurrentResult struct {
	Lateness Lateness
	// CPUPerCall is ms of this process's CPU per second of one call.
	CPUPerCall float64
	// KBPerCall is the live heap per call, in KiB, once every call plays.
	KBPerCall  float64
	Goroutines int
}

// RunConcurrent places n calls through a new SIP carrier to the far end
// f, plays a one-minute tone on each once answered, and when all play
// measures for window: the lateness of their RTP (from f), this process's
// CPU per call and its heap per call. Then it hangs every call up. The
// figures are this whole process's, so run nothing else in it meanwhile.
// Bounded: two minutes in all.
func RunConcurrent(ctx context.Context, f *FarEnd, n int, window time.Duration) (ConcurrentResult, error) {
	var res ConcurrentResult
	if n <= 0 || window <= 0 {
		return res, fmt.Errorf("concurrent RTP: calls %d and window %v must be positive", n, window)
	}
	c, err := sip.New(sip.Config{Config: sipconf.Config{Listen: "127.0.0.1:0", Trunks: []sip.Trunk{{Name: "far", Address: f.SIP}},
		DefaultTrunk: "far", RTPTimeout: sipconf.RTPTimeoutDisabled}}, quietLog())
	if err != nil {
		return res, fmt.Errorf("sip carrier: %w", err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	// One prompt shared by every call (Play only reads it), longer than
	// any call here.
	prompt := Tone(time.Minute, 440)

	runtime.GC()
	var m0 runtime.MemStats
	runtime.ReadMemStats(&m0)

	legs := make([]dialtone.Leg, 0, n)
	answered := make(chan error, n)
	defer func() {
		// Hang up everything, bounded: Hangup waits at most 3 s per leg,
		// and they run side by side. A fresh context, so that calls end
		// cleanly even when ctx is what stopped the run.
		hctx, hcancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer hcancel()
		var wg sync.WaitGroup
		for _, l := range legs {
			wg.Add(1)
			go func() { defer wg.Done(); _ = l.Hangup(hctx) }()
		}
		wg.Wait()
	}()
	start := time.Now()
	for i := 0; i < n; i++ {
		time.Sleep(time.Until(start.Add(time.Duration(i) * time.Second / rampCPS)))
		l, err := c.Originate(ctx, dialtone.OriginateRequest{CallID: strconv.Itoa(i), Leg: "A", AccountUID: "bench",
			To: "13800000000", From: "05710000000", RingTimeout: 10 * time.Second})
		if err != nil {
			return res, fmt.Errorf("originate %d: %w", i, err)
		}
		legs = append(legs, l)
		go func() {
			once := false
			for ev := range l.Events() {
				switch ev.Kind {
				case dialtone.LegAnswered:
					once = true
					answered <- nil
					go func() { _, _ = l.Play(ctx, prompt, nil) }()
				case dialtone.LegFailed:
					if !once {
						once = true
						answered <- fmt.Errorf("call failed: %s %v", ev.Reason, ev.Detail)
					}
				}
			}
		}()
	}
	if err := awaitAll(ctx, answered, n, "calls answered"); err != nil {
		return res, err
	}
	runtime.GC()
	var m1 runtime.MemStats
	runtime.ReadMemStats(&m1)
	res.KBPerCall = (float64(m1.HeapAlloc) - float64(m0.HeapAlloc)) / float64(n) / 1024
	res.Goroutines = runtime.NumGoroutine()

	cpu0, err := processCPU()
	if err != nil {
		return res, err
	}
	t0 := time.Now()
	lat, err := f.Measure(ctx, window)
	if err != nil {
		return res, err
	}
	wall := time.Since(t0)
	cpu1, err := processCPU()
	if err != nil {
		return res, err
	}
	res.Lateness = lat
	res.CPUPerCall = msPerCallSecond(cpu1-cpu0, wall, n)
	return res, nil
}

func msPerCallSecond(cpu, wall time.Duration, n int) float64 {
	return float64(cpu.Microseconds()) / 1000 / wall.Seconds() / float64(n)
}

// BareResult is what RunBare measured.
type BareResult struct {
	Lateness Lateness
	// CPUPerCall is ms of this process's CPU per second of one stream.
	CPUPerCall float64
}

// RunBare writes n streams of 172-byte RTP packets every 20 ms from one
// goroutine, one socket per stream, to the far end's sinks, and measures
// them for window: no locks, no encoding, no SIP. Its CPU per call is the
// floor of any pacer, its lateness what the machine allows.
func RunBare(ctx context.Context, f *FarEnd, n int, window time.Duration) (BareResult, error) {
	if n <= 0 || window <= 0 {
		return BareResult{}, fmt.Errorf("bare loop: streams %d and window %v must be positive", n, window)
	}
	type out struct {
		conn *net.UDPConn
		to   *net.UDPAddr
		pkt  []byte
	}
	outs := make([]out, 0, n)
	defer func() {
		for _, o := range outs {
			o.conn.Close()
		}
	}()
	for i := 0; i < n; i++ {
		conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			return BareResult{}, fmt.Errorf("bare loop: %w", err)
		}
		to, err := net.ResolveUDPAddr("udp", f.Sinks[i%len(f.Sinks)])
		if err != nil {
			conn.Close()
			return BareResult{}, fmt.Errorf("bare loop: %w", err)
		}
		pkt := make([]byte, 12+frameSamples)
		pkt[0], pkt[1] = 0x80, 0 // RTP version 2, PCMU
		binary.BigEndian.PutUint32(pkt[8:], uint32(0x10000+i))
		outs = append(outs, out{conn, to, pkt})
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(frameTime)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			for i := range outs {
				o := &outs[i]
				binary.BigEndian.PutUint16(o.pkt[2:], binary.BigEndian.Uint16(o.pkt[2:])+1)
				binary.BigEndian.PutUint32(o.pkt[4:], binary.BigEndian.Uint32(o.pkt[4:])+frameSamples)
				_, _ = o.conn.WriteToUDP(o.pkt, o.to)
			}
		}
	}()
	defer func() { close(stop); <-done }()
	// Let the sockets and the far end's readers settle, as for the calls.
	select {
	case <-time.After(time.Second):
	case <-ctx.Done():
		return BareResult{}, ctx.Err()
	}
	cpu0, err := processCPU()
	if err != nil {
		return BareResult{}, err
	}
	t0 := time.Now()
	lat, err := f.Measure(ctx, window)
	if err != nil {
		return BareResult{}, err
	}
	wall := time.Since(t0)
	cpu1, err := processCPU()
	if err != nil {
		return BareResult{}, err
	}
	return BareResult{Lateness: lat, CPUPerCall: msPerCallSecond(cpu1-cpu0, wall, n)}, nil
}

// awaitAll takes n results from ready (an error ends it), then lets the
// calls' media settle for a second.
func awaitAll(ctx context.Context, ready <-chan error, n int, what string) error {
	for i := 0; i < n; i++ {
		select {
		case err := <-ready:
			if err != nil {
				return err
			}
		case <-ctx.Done():
			return fmt.Errorf("%d of %d %s: %w", i, n, what, ctx.Err())
		}
	}
	select {
	case <-time.After(time.Second):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
