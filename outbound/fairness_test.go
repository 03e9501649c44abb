package outbound

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// One account's receiver never answers; another account's 1,000 requests
// all complete, none of them waiting for a slot, at the latency they have
// beside a healthy receiver. Both runs are in the log:
//
//	go test -run TestFairness -v ./outbound/
func TestFairness(t *testing.T) {
	if testing.Short() {
		t.Skip("the fairness runs take a few seconds")
	}
	healthy := fairnessRun(t, false)
	hanging := fairnessRun(t, true)
	t.Logf("account B, 1000 requests by 8 workers: p50 %s, p99 %s, max %s beside A healthy; p50 %s, p99 %s, max %s beside A hanging",
		healthy.p50, healthy.p99, healthy.max, hanging.p50, hanging.p99, hanging.max)
	t.Logf("account A: %d answers, %d timeouts, %d busy beside B when healthy; %d answers, %d timeouts, %d busy when hanging",
		healthy.aOK, healthy.aTimeout, healthy.aBusy, hanging.aOK, hanging.aTimeout, hanging.aBusy)
}

type fairness struct {
	p50, p99, max        time.Duration
	aOK, aTimeout, aBusy int64
	aDestFullAtBsEnd     bool
	aAccountSlotsAtBsEnd int
}

const (
	fairPerAccount     = 16
	fairPerDestination = 8
	bRequests          = 1000
	bWorkers           = 8 // no more than B's caps: B never needs to wait
	aWorkers           = 32
)

func fairnessRun(t *testing.T, aHangs bool) fairness {
	ctx := ctxT(t)
	stop := make(chan struct{})
	aRcv := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		if aHangs {
			select { // never answers: the client's timeout ends it
			case <-r.Context().Done():
			case <-stop:
			}
			return
		}
		okHandler(w, r)
	})
	bRcv := newReceiver(t, okHandler)
	c := newClient(t, Config{Timeout: 2 * time.Second, PerAccount: fairPerAccount, PerDestination: fairPerDestination}, "127.0.0.1")
	a := Meta{Account: "A", Purpose: PurposePush}
	b := Meta{Account: "B", Purpose: PurposePush} // Wait 0: a slot B had to wait for would fail it
	u, _ := url.Parse(aRcv.URL)
	aDest := "A\x00" + destination(u)

	// A's deliveries: a pusher retrying whatever fails, as fast as its
	// workers can, until B is done.
	var res fairness
	var aWG sync.WaitGroup
	aCtx, aStop := context.WithCancel(ctx)
	for range aWorkers {
		aWG.Add(1)
		go func() {
			defer aWG.Done()
			for aCtx.Err() == nil {
				_, err := c.Send(aCtx, a, Request{URL: aRcv.URL + "/push", Body: []byte(`[{"receipt_id":"a"}]`)})
				switch {
				case err == nil:
					atomic.AddInt64(&res.aOK, 1)
				case errors.Is(err, ErrBusy):
					atomic.AddInt64(&res.aBusy, 1)
					time.Sleep(5 * time.Millisecond)
				case errors.Is(err, context.DeadlineExceeded):
					atomic.AddInt64(&res.aTimeout, 1)
				}
			}
		}()
	}
	if aHangs {
		// A's destination is full before B starts.
		deadline := time.Now().Add(10 * time.Second)
		for c.dests.inFlight(aDest) < fairPerDestination {
			if time.Now().After(deadline) {
				t.Fatalf("A's destination holds %d slots", c.dests.inFlight(aDest))
			}
			time.Sleep(5 * time.Millisecond)
		}
	}

	// B's 1,000 requests.
	lat := make([]time.Duration, bRequests)
	var next atomic.Int64
	var bWG sync.WaitGroup
	var bErrs atomic.Int64
	for range bWorkers {
		bWG.Add(1)
		go func() {
			defer bWG.Done()
			for {
				i := next.Add(1) - 1
				if i >= bRequests {
					return
				}
				start := time.Now()
				resp, err := c.Send(ctx, b, Request{URL: bRcv.URL + "/push", Body: []byte(`[{"receipt_id":"b"}]`)})
				lat[i] = time.Since(start)
				if err != nil || resp.Status != 200 {
					if bErrs.Add(1) <= 5 {
						t.Errorf("B's request %d: %v", i, err)
					}
				}
			}
		}()
	}
	bWG.Wait()
	res.aDestFullAtBsEnd = c.dests.inFlight(aDest) == fairPerDestination
	res.aAccountSlotsAtBsEnd = c.inFlight("A")
	// A's senders stop before its receiver is released: a hanging handler
	// let go while a request was still in flight would answer it.
	aStop()
	aWG.Wait()
	close(stop)

	if n := bErrs.Load(); n != 0 {
		t.Fatalf("A hanging=%v: %d of B's %d requests failed", aHangs, n, bRequests)
	}
	if got := bRcv.hits.Load(); got != bRequests {
		t.Fatalf("B's receiver got %d requests, want %d", got, bRequests)
	}
	if aHangs {
		if !res.aDestFullAtBsEnd {
			t.Errorf("A's destination was not full while B ran: B's run proved nothing")
		}
		if res.aOK != 0 {
			t.Errorf("A's hanging receiver answered %d times", res.aOK)
		}
		if res.aAccountSlotsAtBsEnd > fairPerDestination {
			t.Errorf("A's one dead destination held %d of its account's slots, more than the %d per destination", res.aAccountSlotsAtBsEnd, fairPerDestination)
		}
	}
	slices.Sort(lat)
	res.p50, res.p99, res.max = lat[bRequests/2], lat[bRequests*99/100], lat[bRequests-1]
	return res
}
