package sipbench

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/carrier/sip"
	"github.com/dialtone-voice/dialtone/carrier/sip/sipconf"
)

// DialtoneCalls places calls calls offered at rate per second through a
// new SIP carrier to the answerer at uas; each is hung up (BYE) 100 ms
// after the answer. The CPU is this whole process's, so run nothing else
// in it meanwhile. Bounded: calls still up after 30 s are an error.
func DialtoneCalls(ctx context.Context, uas string, rate, calls int) (CPSResult, error) {
	if rate <= 0 || calls <= 0 {
		return CPSResult{}, fmt.Errorf("dialtone calls: rate %d and calls %d must be positive", rate, calls)
	}
	c, err := sip.New(sip.Config{Config: sipconf.Config{Listen: "127.0.0.1:0", Trunks: []sip.Trunk{{Name: "sipp", Address: uas}},
		DefaultTrunk: "sipp", RTPTimeout: sipconf.RTPTimeoutDisabled}}, quietLog())
	if err != nil {
		return CPSResult{}, fmt.Errorf("sip carrier: %w", err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var ok, failed atomic.Int64
	var wg sync.WaitGroup
	cpu0, err := processCPU()
	if err != nil {
		return CPSResult{}, err
	}
	start := time.Now()
	for i := 0; i < calls && ctx.Err() == nil; i++ {
		// Paced against the start so the offered rate does not drift.
		time.Sleep(time.Until(start.Add(time.Duration(i) * time.Second / time.Duration(rate))))
		l, err := c.Originate(ctx, dialtone.OriginateRequest{CallID: strconv.Itoa(i), Leg: "A", AccountUID: "bench",
			To: "13800000000", From: "05710000000", RingTimeout: 5 * time.Second})
		if err != nil {
			failed.Add(1)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			answered := false
			for ev := range l.Events() {
				switch ev.Kind {
				case dialtone.LegAnswered:
					answered = true
					time.AfterFunc(100*time.Millisecond, func() { _ = l.Hangup(ctx) })
				case dialtone.LegFailed:
					failed.Add(1)
				}
			}
			if answered {
				ok.Add(1)
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		return CPSResult{}, fmt.Errorf("calls still up after 30 s (%d ended): %w", ok.Load(), ctx.Err())
	}
	elapsed := time.Since(start)
	cpu1, err := processCPU()
	if err != nil {
		return CPSResult{}, err
	}
	return CPSResult{OK: int(ok.Load()), Failed: int(failed.Load()), Elapsed: elapsed, CPU: cpu1 - cpu0}, nil
}
