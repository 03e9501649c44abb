package receipt_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/admin"
	"github.com/dialtone-voice/dialtone/receipt"
	"github.com/dialtone-voice/dialtone/resource"
)

// startPush subscribes account A's VoiceReport to the receiver and runs a
// dispatcher and a pusher with millisecond retries.
func startPush(t *testing.T, e *env, rcv *pushReceiver, retries []time.Duration) *receipt.Pusher {
	t.Helper()
	ctx := context.Background()
	must(t, e.store.PutSubscription(ctx, &dialtone.Subscription{AccountUID: acctA, MessageType: dialtone.MsgVoiceReport,
		Queue: true, PushURL: rcv.srv.URL + "/receipts", PushURLTrusted: true, PushSecret: "push-secret"}))
	p := receipt.NewPusher(receipt.PusherConfig{Store: e.store, Retries: retries, Sweep: 5 * time.Millisecond, Concurrency: 2})
	e.dispatcher = receipt.NewDispatcher(receipt.DispatcherConfig{Store: e.store, QueueReady: e.waker.Wake, PushReady: p.Notify})
	e.runDispatcher()
	pctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); p.Run(pctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return p
}

func TestPushReceiverDownThenUpGetsEverything(t *testing.T) {
	e := newEnv(t)
	rcv := newPushReceiver(t)
	rcv.down.Store(true)
	startPush(t, e, rcv, []time.Duration{20 * time.Millisecond, 50 * time.Millisecond, 2 * time.Second})
	var ids []string
	for i := range 5 {
		ids = append(ids, e.endCall(acctA, `{"n":`+strconv.Itoa(i)+`,"receipt_id":"x"}`)...)
	}
	e.dispatcher.Notify()
	waitFor(t, 5*time.Second, "two failed attempts", func() bool { return rcv.hits.Load() >= 2 })
	rcv.down.Store(false)
	waitFor(t, 10*time.Second, "every receipt pushed", func() bool { return len(rcv.received()) >= 1 && totalPushed(rcv) >= len(ids) })
	// Bodies are the receipts as built (receipt_id included), in JSON arrays.
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	n := 0
	for _, b := range rcv.batches {
		n += len(b)
		if len(b) > 100 {
			t.Errorf("batch of %d receipts", len(b))
		}
	}
	if n != len(ids) {
		t.Errorf("pushed %d receipts, want %d exactly", n, len(ids))
	}
	dead, err := e.store.ListDeadLetters(context.Background(), acctA, 0)
	must(t, err)
	if len(dead) != 0 {
		t.Errorf("dead letters: %+v", dead)
	}
}

func totalPushed(r *pushReceiver) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, b := range r.batches {
		n += len(b)
	}
	return n
}

func TestPushSignatureVerifiable(t *testing.T) {
	e := newEnv(t)
	rcv := newPushReceiver(t)
	startPush(t, e, rcv, nil)
	e.endCall(acctA, `{"call_id":"sig"}`)
	e.dispatcher.Notify()
	waitFor(t, 5*time.Second, "a push", func() bool { return totalPushed(rcv) == 1 })
	rcv.mu.Lock()
	h, body := rcv.headers[0], rcv.bodies[0]
	rcv.mu.Unlock()
	sig := h.Get(receipt.SignatureHeader)
	if err := receipt.VerifySignature("push-secret", sig, body, time.Now(), 5*time.Minute); err != nil {
		t.Errorf("signature %q does not verify: %v", sig, err)
	}
	if err := receipt.VerifySignature("other", sig, body, time.Now(), 5*time.Minute); err == nil {
		t.Error("signature verified with the wrong secret")
	}
	if err := receipt.VerifySignature("push-secret", sig, append(body, ' '), time.Now(), 5*time.Minute); err == nil {
		t.Error("signature verified a changed body")
	}
	if err := receipt.VerifySignature("push-secret", sig, body, time.Now().Add(time.Hour), 5*time.Minute); err == nil {
		t.Error("signature verified an old timestamp")
	}
	if ct := h.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q", ct)
	}
	var arr []map[string]any
	if err := json.Unmarshal(body, &arr); err != nil || len(arr) != 1 || arr[0]["call_id"] != "sig" {
		t.Errorf("body %s", body)
	}
}

func TestPushSuccessNeedsNumericCode(t *testing.T) {
	e := newEnv(t)
	answers := make(chan string, 10)
	answers <- `{"code":"0"}`
	answers <- `not json`
	answers <- `{"code": 0}`
	var extra atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Never block: a handler stuck on the channel would hang srv.Close.
		select {
		case a := <-answers:
			w.Write([]byte(a))
		default:
			extra.Add(1)
			w.Write([]byte(`{"code":0}`))
		}
	}))
	defer srv.Close()
	rcv := &pushReceiver{srv: srv}
	startPush(t, e, rcv, []time.Duration{time.Millisecond, time.Millisecond, time.Millisecond})
	e.endCall(acctA, `{}`)
	e.dispatcher.Notify()
	waitFor(t, 5*time.Second, "the third answer", func() bool { return len(answers) == 0 })
	// Wait for the pusher's own record of the accepted POST; claiming the
	// deliveries here to see whether any are left would steal them from
	// the pusher mid-flight and cause the very re-sends this test forbids.
	waitFor(t, 5*time.Second, "completion", func() bool {
		rs, err := e.store.ListPushAttempts(context.Background(), dialtone.PushAttemptFilter{AccountUID: acctA, MessageType: dialtone.MsgVoiceReport})
		return err == nil && len(rs) == 3 && rs[0].Error == ""
	})
	dead, _ := e.store.ListDeadLetters(context.Background(), acctA, 0)
	if len(dead) != 0 {
		t.Errorf("delivered push became a dead letter: %+v", dead)
	}
	time.Sleep(50 * time.Millisecond) // retries are 1 ms apart: any re-send would have happened
	if n := extra.Load(); n != 0 {
		t.Errorf("%d pushes after the accepted one", n)
	}
}

func TestDeadLettersRedriven(t *testing.T) {
	e := newEnv(t)
	rcv := newPushReceiver(t)
	rcv.down.Store(true)
	p := startPush(t, e, rcv, []time.Duration{time.Millisecond, 2 * time.Millisecond, 3 * time.Millisecond})
	ids := e.endCall(acctA, `{"n":1}`, `{"n":2}`)
	e.dispatcher.Notify()
	ctx := context.Background()
	waitFor(t, 5*time.Second, "dead letters", func() bool {
		d, err := e.store.ListDeadLetters(ctx, acctA, 0)
		return err == nil && len(d) == len(ids)
	})
	if hits := rcv.hits.Load(); hits < 4 {
		t.Errorf("%d attempts before giving up, want 4 (first + 3 retries)", hits)
	}
	// Through the admin API, as the CLI does.
	h := admin.New(resource.New(e.store, "", nil), admin.TokenList("tok"), nil, admin.WithReceipts(e.store, p.Notify))
	adm := httptest.NewServer(h)
	defer adm.Close()
	dls, err := admin.ListDeadLetters(ctx, adm.URL, "tok", acctA, nil)
	must(t, err)
	if len(dls) != 2 || dls[0].Attempts != 4 || dls[0].LastError != "HTTP 503" || string(dls[0].Body) != `{"n":1}` {
		t.Errorf("dead letters = %+v", dls)
	}
	if _, err := admin.ListDeadLetters(ctx, adm.URL, "wrong", acctA, nil); err == nil {
		t.Error("wrong admin token accepted")
	}
	rcv.down.Store(false)
	n, err := admin.Redrive(ctx, adm.URL, "tok", acctA, nil)
	must(t, err)
	if n != 2 {
		t.Errorf("redrove %d", n)
	}
	waitFor(t, 5*time.Second, "redriven pushes", func() bool { return totalPushed(rcv) == 2 })
	dls, err = admin.ListDeadLetters(ctx, adm.URL, "tok", acctA, nil)
	must(t, err)
	if len(dls) != 0 {
		t.Errorf("dead letters after redrive: %+v", dls)
	}
}

func TestRecordURLs(t *testing.T) {
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "call_1.wav"), []byte("RIFFdata"), 0o600))
	must(t, os.WriteFile(filepath.Join(filepath.Dir(dir), "secret.txt"), []byte("no"), 0o600))
	clock := &fakeClock{}
	rec := receipt.NewRecords(receipt.RecordKey([]byte("master")), dir, "http://example.test/", clock)
	srv := httptest.NewServer(rec)
	defer srv.Close()
	get := func(u string) int {
		u = strings.Replace(u, "http://example.test", srv.URL, 1)
		resp, err := http.Get(u)
		must(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	u := rec.URL("100", "call^1", "call_1.wav")
	if !strings.HasPrefix(u, "http://example.test/records/call_1.wav?acct=100&expires=") {
		t.Fatalf("URL %s", u)
	}
	if s := get(u); s != http.StatusOK {
		t.Errorf("valid URL: %d", s)
	}
	if s := get(strings.Replace(u, "acct=100", "acct=200", 1)); s != http.StatusForbidden {
		t.Errorf("other account: %d", s)
	}
	if s := get(strings.Replace(u, "call_1.wav", "call_2.wav", 1)); s != http.StatusForbidden {
		t.Errorf("other file: %d", s)
	}
	if s := get(srv.URL + "/records/..%2Fsecret.txt?acct=100&expires=9999999999&sig=00"); s != http.StatusForbidden {
		t.Errorf("traversal: %d", s)
	}
	if rec.URL("100", "c", "../secret.txt") != "" {
		t.Error("signed a path")
	}
	clock.Advance(receipt.RecordURLTTL + time.Second)
	if s := get(u); s != http.StatusForbidden {
		t.Errorf("expired URL: %d", s)
	}
}
