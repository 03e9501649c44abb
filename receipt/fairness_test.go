package receipt_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/receipt"
)

// TestPushFairness pushes real receipts of two accounts through one
// dispatcher, one pusher (64 POSTs at once) and the default outbound
// client (8 per account and destination), each receipt a push of its own.
// Account A's calls keep ending while B's do, and A's receiver never
// answers: A's pushes hang until the 700 ms push timeout, or fail at once
// when A's slots for its receiver are taken (both retried after a
// minute). Account B's 1,000 receipts must all be delivered. B's
// latencies, from the commit of the call change carrying the receipt to
// its arrival at B's receiver, are logged beside the same run with A's
// receiver healthy (the same load, so the same work for the store):
//
//	go test -run TestPushFairness -v ./receipt/
//
// Speed is reported, not asserted: this machine is shared.
func TestPushFairness(t *testing.T) {
	if testing.Short() {
		t.Skip("the fairness runs take several seconds")
	}
	healthy := pushFairnessRun(t, false)
	hanging := pushFairnessRun(t, true)
	t.Logf("account B, %d receipts pushed one per request: p50 %s, p99 %s, max %s beside A healthy; p50 %s, p99 %s, max %s beside A hanging",
		fairReceipts, healthy.p50, healthy.p99, healthy.max, hanging.p50, hanging.p99, hanging.max)
	t.Logf("account A meanwhile: %d pushes answered, %d failed when healthy; %d answered, %d failed (%d at its cap, %d timed out) when hanging",
		healthy.aOK, healthy.aFailed, hanging.aOK, hanging.aFailed, hanging.aBusy, hanging.aTimeout)
}

const (
	fairReceipts = 1000
	fairAWarm    = 64 // A's receipts written first: as many pushes as the pusher makes at once
	fairWriters  = 4  // B's, each writing calls one after the other
	fairAWriters = 2  // A's, until B's receipts are all written
)

type pushFairness struct {
	p50, p99, max                 time.Duration
	aOK, aFailed, aBusy, aTimeout int
}

func pushFairnessRun(t *testing.T, aHangs bool) pushFairness {
	e := newEnv(t)
	ctx := context.Background()
	stop := make(chan struct{})
	aRcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if aHangs {
			select { // never answers: the push timeout ends it
			case <-r.Context().Done():
			case <-stop:
			}
			return
		}
		_, _ = io.WriteString(w, `{"code":0,"msg":"ok"}`)
	}))
	defer aRcv.Close()
	defer close(stop)
	var mu sync.Mutex
	arrived := map[string]time.Time{}
	bRcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		now := time.Now()
		var batch []struct {
			N string `json:"n"`
		}
		if err := json.Unmarshal(body, &batch); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		mu.Lock()
		for _, r := range batch {
			if _, dup := arrived[r.N]; !dup {
				arrived[r.N] = now
			}
		}
		mu.Unlock()
		_, _ = io.WriteString(w, `{"code":0,"msg":"ok"}`)
	}))
	defer bRcv.Close()
	for acct, u := range map[string]string{acctA: aRcv.URL, acctB: bRcv.URL} {
		must(t, e.store.PutSubscription(ctx, &dialtone.Subscription{AccountUID: acct, MessageType: dialtone.MsgVoiceReport,
			PushURL: u + "/receipts", PushURLTrusted: true}))
	}
	p := receipt.NewPusher(receipt.PusherConfig{Store: e.store, BatchSize: 1, Sweep: 10 * time.Millisecond})
	e.dispatcher = receipt.NewDispatcher(receipt.DispatcherConfig{Store: e.store, PushReady: p.Notify, Sweep: 10 * time.Millisecond})
	e.runDispatcher()
	pctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); p.Run(pctx) }()
	defer func() { cancel(); <-done }()

	for i := range fairAWarm {
		e.endCall(acctA, fmt.Sprintf(`{"n":"a%d"}`, i))
	}
	e.dispatcher.Notify()
	time.Sleep(200 * time.Millisecond) // A's pushes are under way (and hanging)

	committed := make([]time.Time, fairReceipts)
	var next atomic.Int64
	var wg sync.WaitGroup
	var aWG sync.WaitGroup
	aDone := make(chan struct{})
	var aN atomic.Int64
	for range fairAWriters {
		aWG.Add(1)
		go func() {
			defer aWG.Done()
			for {
				select {
				case <-aDone:
					return
				default:
				}
				e.endCall(acctA, fmt.Sprintf(`{"n":"a-%d"}`, aN.Add(1)))
				e.dispatcher.Notify()
			}
		}()
	}
	for range fairWriters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= fairReceipts {
					return
				}
				e.endCall(acctB, fmt.Sprintf(`{"n":"b%d"}`, i))
				committed[i] = time.Now()
				e.dispatcher.Notify()
			}
		}()
	}
	wg.Wait()
	close(aDone)
	aWG.Wait()
	waitFor(t, 60*time.Second, "B's receipts all delivered", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(arrived) == fairReceipts
	})
	lat := make([]time.Duration, fairReceipts)
	mu.Lock()
	for i := range fairReceipts {
		lat[i] = max(0, arrived[fmt.Sprintf("b%d", i)].Sub(committed[i]))
	}
	mu.Unlock()
	slices.Sort(lat)
	var res pushFairness
	res.p50, res.p99, res.max = lat[fairReceipts/2], lat[fairReceipts*99/100], lat[fairReceipts-1]
	no := false
	time.Sleep(800 * time.Millisecond) // A's last pushes end (timeout) and are recorded
	as, err := e.store.ListPushAttempts(ctx, dialtone.PushAttemptFilter{AccountUID: acctA, Test: &no, Limit: 1000})
	must(t, err)
	for _, a := range as {
		switch {
		case a.Error == "":
			res.aOK++
		case strings.Contains(a.Error, "requests in flight"):
			res.aBusy++
			res.aFailed++
		case strings.Contains(a.Error, "no answer in time"):
			res.aTimeout++
			res.aFailed++
		default:
			res.aFailed++
		}
	}
	return res
}
