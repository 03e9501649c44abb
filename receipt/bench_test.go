package receipt_test

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/mns"
)

// BenchmarkReceiveDelete16 is the consumer's steady state: BatchReceive of
// 16 then BatchDelete of their handles, over HTTP with MNS signatures, by 4
// concurrent consumers. One op is one message; msg/s is the throughput.
func BenchmarkReceiveDelete16(b *testing.B) {
	e := newEnv(b)
	ctx := context.Background()
	now := time.Now()
	var wg sync.WaitGroup
	var next atomic.Int64
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				m := mns.NewReceiptMessage(&dialtone.Receipt{ID: fmt.Sprint("r", i), AccountUID: acctA, Body: []byte(`{"call_id":"x","status_code":"200000"}`)}, queueA, now, time.Hour)
				if err := e.store.EnqueueMessage(ctx, m); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	tok := e.token(akA, secA, dialtone.MsgVoiceReport)
	var done atomic.Int64
	b.ResetTimer()
	start := time.Now()
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for done.Load() < int64(b.N) {
				status, msgs, _ := e.receive(tok, queueA, 16, 0)
				if status != http.StatusOK {
					if status == http.StatusNotFound {
						continue // the others hold the rest
					}
					b.Errorf("receive: %d", status)
					return
				}
				hs := make([]string, len(msgs))
				for i, m := range msgs {
					hs[i] = m.ReceiptHandle
				}
				if status, body := e.mnsReq(tok, http.MethodDelete, "/queues/"+queueA+"/messages", deleteBody(hs...)); status != http.StatusNoContent {
					b.Errorf("delete: %d %s", status, body)
					return
				}
				done.Add(int64(len(msgs)))
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msg/s")
}

// BenchmarkCallEndToReceivable measures from the call change that ends a
// call (UpdateCall with its VoiceReport, then the dispatcher signal the
// server's EngineStore sends) to the moment a consumer's long poll returns
// the message. It reports the p50 and p99 latencies.
func BenchmarkCallEndToReceivable(b *testing.B) {
	e := newEnv(b)
	e.runDispatcher()
	tok := e.token(akA, secA, dialtone.MsgVoiceReport)
	got := make(chan time.Time, 1)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			status, msgs, _ := e.receive(tok, queueA, 16, 1)
			if status != http.StatusOK {
				continue
			}
			at := time.Now()
			hs := make([]string, len(msgs))
			for i, m := range msgs {
				hs[i] = m.ReceiptHandle
			}
			e.mnsReq(tok, http.MethodDelete, "/queues/"+queueA+"/messages", deleteBody(hs...))
			for range msgs {
				got <- at
			}
		}
	}()
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		e.endCall(acctA, `{"call_id":"lat"}`)
		e.dispatcher.Notify()
		select {
		case at := <-got:
			lat = append(lat, at.Sub(start))
		case <-time.After(10 * time.Second):
			b.Fatal("receipt not received within 10 s")
		}
	}
	b.StopTimer()
	close(stop)
	wg.Wait()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}
