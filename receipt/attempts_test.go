package receipt_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/outbound"
	"github.com/dialtone-voice/dialtone/receipt"
	"github.com/dialtone-voice/dialtone/sdk"
)

// runPusher runs a dispatcher and a pusher (with client) until the test
// ends.
func runPusher(t *testing.T, e *env, client *outbound.Client, retries []time.Duration) *receipt.Pusher {
	t.Helper()
	p := receipt.NewPusher(receipt.PusherConfig{Store: e.store, Client: client, Retries: retries, Sweep: 5 * time.Millisecond, Concurrency: 2})
	e.dispatcher = receipt.NewDispatcher(receipt.DispatcherConfig{Store: e.store, QueueReady: e.waker.Wake, PushReady: p.Notify})
	e.runDispatcher()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); p.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return p
}

func attempts(t *testing.T, e *env, f dialtone.PushAttemptFilter) []dialtone.PushAttempt {
	t.Helper()
	as, err := e.store.ListPushAttempts(context.Background(), f)
	must(t, err)
	return as
}

// Every attempt is recorded with what came back: the status, the start of
// the answer and, in the receipt format, its code and msg, the latency,
// the error and the next retry, then the accepted one.
func TestPushAttemptsRecorded(t *testing.T) {
	e := newEnv(t)
	rcv := newPushReceiver(t)
	rcv.down.Store(true)
	must(t, e.store.PutSubscription(context.Background(), &dialtone.Subscription{AccountUID: acctA, MessageType: dialtone.MsgVoiceReport,
		PushURL: rcv.srv.URL + "/receipts", PushURLTrusted: true}))
	runPusher(t, e, nil, []time.Duration{300 * time.Millisecond})
	before := time.Now()
	ids := e.endCall(acctA, `{"call_id":"c-1"}`)
	e.dispatcher.Notify()
	f := dialtone.PushAttemptFilter{AccountUID: acctA, ReceiptID: ids[0]}
	waitFor(t, 5*time.Second, "the failed attempt", func() bool { return len(attempts(t, e, f)) == 1 })
	rcv.down.Store(false)
	waitFor(t, 5*time.Second, "the accepted attempt", func() bool { return len(attempts(t, e, f)) == 2 })
	as := attempts(t, e, f)
	ok, failed := as[0], as[1]
	if failed.HTTPStatus != 503 || failed.Error != "HTTP 503" || failed.Count != 1 || failed.Dead || failed.Test ||
		failed.NextRetry.Before(before.Add(300*time.Millisecond)) || failed.NextRetry.After(time.Now().Add(time.Second)) ||
		!strings.HasPrefix(failed.URL, rcv.srv.URL) || failed.AnswerCode != "" {
		t.Errorf("failed attempt = %+v", failed)
	}
	if ok.HTTPStatus != 200 || ok.Error != "" || ok.AnswerCode != "0" || ok.AnswerMsg != "接收成功" || ok.Answer != `{"code": 0, "msg": "接收成功"}` ||
		!ok.NextRetry.IsZero() || ok.Latency < 0 || ok.Latency > 5*time.Second {
		t.Errorf("accepted attempt = %+v", ok)
	}
}

// A push URL the egress policy refuses is refused at delivery too, without
// a connection, and the failure names the rule.
func TestPushRefusedAtDelivery(t *testing.T) {
	e := newEnv(t)
	rcv := newPushReceiver(t)
	// Entered by an account user (untrusted): loopback is refused.
	must(t, e.store.PutSubscription(context.Background(), &dialtone.Subscription{AccountUID: acctA, MessageType: dialtone.MsgVoiceReport,
		PushURL: strings.Replace(rcv.srv.URL, "127.0.0.1", "0177.0.0.1", 1) + "/receipts"}))
	runPusher(t, e, nil, []time.Duration{})
	ids := e.endCall(acctA, `{"call_id":"c-2"}`)
	e.dispatcher.Notify()
	f := dialtone.PushAttemptFilter{AccountUID: acctA, ReceiptID: ids[0]}
	waitFor(t, 5*time.Second, "the refused attempt", func() bool { return len(attempts(t, e, f)) == 1 })
	a := attempts(t, e, f)[0]
	if a.Rule != "loopback" || !strings.Contains(a.Error, "rule loopback") || a.HTTPStatus != 0 || !a.Dead {
		t.Errorf("refused attempt = %+v", a)
	}
	dead, err := e.store.ListDeadLetters(context.Background(), acctA, 0)
	must(t, err)
	if len(dead) != 1 || !strings.Contains(dead[0].LastError, "rule loopback") {
		t.Errorf("dead letters = %+v", dead)
	}
	if n := rcv.hits.Load(); n != 0 {
		t.Errorf("the receiver got %d requests", n)
	}
	// The operator's allow-list lets it through.
	allow, err := outbound.NewPolicy("127.0.0.1")
	must(t, err)
	client, err := outbound.New(outbound.Config{Policy: allow})
	must(t, err)
	o := receipt.Push(context.Background(), client, outbound.PurposePush, &dialtone.Subscription{AccountUID: acctA,
		MessageType: dialtone.MsgVoiceReport, PushURL: strings.Replace(rcv.srv.URL, "127.0.0.1", "0177.0.0.1", 1)}, []byte(`[{}]`))
	if o.Err != nil || o.Status != http.StatusOK || !o.ReceiptFormat {
		t.Errorf("allowed push: %+v", o)
	}
}

// While a rotation's grace runs, pushes carry a signature with each secret
// and the Go SDK accepts either; after it, only the new one verifies.
func TestPushRotation(t *testing.T) {
	e := newEnv(t)
	rcv := newPushReceiver(t)
	now := time.Now()
	sub := &dialtone.Subscription{AccountUID: acctA, MessageType: dialtone.MsgVoiceReport, PushURL: rcv.srv.URL + "/r", PushURLTrusted: true}
	sub.SetPushSigning(dialtone.SigningSecret{Current: "old-secret"}.Rotate("new-secret", now, time.Hour))
	must(t, e.store.PutSubscription(context.Background(), sub))
	runPusher(t, e, nil, nil)
	e.endCall(acctA, `{"call_id":"rot"}`)
	e.dispatcher.Notify()
	waitFor(t, 5*time.Second, "a push", func() bool { return totalPushed(rcv) == 1 })
	rcv.mu.Lock()
	h, body := rcv.headers[0].Get(receipt.SignatureHeader), rcv.bodies[0]
	rcv.mu.Unlock()
	if strings.Count(h, "v1=") != 2 {
		t.Errorf("signature during the grace = %q, want two v1 values", h)
	}
	for _, secret := range []string{"new-secret", "old-secret"} {
		if err := sdk.VerifySignature(secret, h, body, time.Now(), 5*time.Minute); err != nil {
			t.Errorf("during the grace, %s does not verify: %v", secret, err)
		}
	}
	// The grace ends.
	sub.PushSecretPreviousUntil = time.Now().Add(-time.Second)
	must(t, e.store.PutSubscription(context.Background(), sub))
	e.endCall(acctA, `{"call_id":"rot-2"}`)
	e.dispatcher.Notify()
	waitFor(t, 5*time.Second, "a second push", func() bool { return totalPushed(rcv) == 2 })
	rcv.mu.Lock()
	h, body = rcv.headers[1].Get(receipt.SignatureHeader), rcv.bodies[1]
	rcv.mu.Unlock()
	if err := sdk.VerifySignature("new-secret", h, body, time.Now(), 5*time.Minute); err != nil {
		t.Errorf("after the grace, the new secret does not verify: %v", err)
	}
	if err := sdk.VerifySignature("old-secret", h, body, time.Now(), 5*time.Minute); err == nil {
		t.Error("after the grace, the old secret still verifies")
	}
}

// A burst of one account's receipts, more than its receiver may take at
// once, is delivered in turn: what waits is neither failed nor retried a
// minute later, and no attempt is recorded for it.
func TestPushBurstWaitsItsTurn(t *testing.T) {
	e := newEnv(t)
	var inFlight, most atomic.Int32
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		io.Copy(io.Discard, r.Body)
		time.Sleep(10 * time.Millisecond)
		io.WriteString(w, `{"code":0}`)
	}))
	defer rcv.Close()
	must(t, e.store.PutSubscription(context.Background(), &dialtone.Subscription{AccountUID: acctA, MessageType: dialtone.MsgVoiceReport,
		PushURL: rcv.URL, PushURLTrusted: true}))
	// A timeout far beyond the receiver's 10 ms: what is measured is the
	// waiting in turn, and a loaded machine's slow answer is not a failure
	// of it.
	p := receipt.NewPusher(receipt.PusherConfig{Store: e.store, BatchSize: 1, Sweep: 10 * time.Millisecond, Timeout: 10 * time.Second})
	e.dispatcher = receipt.NewDispatcher(receipt.DispatcherConfig{Store: e.store, PushReady: p.Notify})
	const n = 300
	for i := range n {
		e.endCall(acctA, fmt.Sprintf(`{"n":%d}`, i))
	}
	e.runDispatcher()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); p.Run(ctx) }()
	defer func() { cancel(); <-done }()
	e.dispatcher.Notify()
	waitFor(t, 30*time.Second, "every receipt pushed", func() bool {
		return len(attempts(t, e, dialtone.PushAttemptFilter{AccountUID: acctA, Limit: 1000})) >= n
	})
	as := attempts(t, e, dialtone.PushAttemptFilter{AccountUID: acctA, Limit: 1000})
	for _, a := range as {
		if a.Error != "" {
			t.Fatalf("a failed attempt in the burst: %+v", a)
		}
	}
	if len(as) != n {
		t.Errorf("%d attempts for %d receipts", len(as), n)
	}
	if m := most.Load(); m > 4 {
		t.Errorf("the receiver had %d pushes at once, more than the 4 per receiver", m)
	}
}
