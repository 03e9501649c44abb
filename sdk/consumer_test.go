package sdk_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone/sdk"
)

// proxy sits in front of Dialtone: it counts token requests and can make
// the next queue request fail with an expired-token error.
type proxy struct {
	tokens    atomic.Int32
	expireOne atomic.Bool
	rp        *httputil.ReverseProxy
}

func (p *proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("x-acs-action") == "QueryTokenForMnsQueue" {
		p.tokens.Add(1)
	}
	if strings.HasPrefix(r.URL.Path, "/queues/") && p.expireOne.CompareAndSwap(true, false) {
		w.Header().Set("Content-Type", "text/xml;charset=utf-8")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Error xmlns="http://mns.aliyuncs.com/doc/v1/"><Code>SecurityTokenExpired</Code><Message>The security token you provided has expired.</Message><RequestId>x</RequestId><HostId>h</HostId></Error>`)
		return
	}
	p.rp.ServeHTTP(w, r)
}

func consumerClient(t *testing.T) (*sdk.Client, *proxy) {
	u, _ := url.Parse("http://" + endpoint)
	p := &proxy{rp: httputil.NewSingleHostReverseProxy(u)}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	c, err := sdk.New(sdk.Config{AccessKeyID: consumerKeyID, AccessKeySecret: consumerSecret, Endpoint: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	return c, p
}

func placeConsumerCall(t *testing.T, c *sdk.Client, callee string) string {
	t.Helper()
	call, err := c.SingleCallByTts(context.Background(), sdk.TtsCall{CalledNumber: callee, CalledShowNumber: "057188889999",
		TtsCode: "TTS_200001", TtsParam: map[string]string{"name": "x"}})
	if err != nil {
		t.Fatal(err)
	}
	return call.CallID
}

type seen struct {
	mu    sync.Mutex
	calls map[string][]sdk.Receipt
	errs  []error
}

func (s *seen) add(r sdk.Receipt) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[r.CallID] = append(s.calls[r.CallID], r)
}

func (s *seen) get(id string) []sdk.Receipt {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]sdk.Receipt(nil), s.calls[id]...)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(45 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timeout waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestConsumer(t *testing.T) {
	c, p := consumerClient(t)
	s := &seen{calls: map[string][]sdk.Receipt{}}
	var failOnce sync.Map // call IDs whose first delivery the handler refuses
	cons := &sdk.Consumer{
		Client: c, MessageType: sdk.VoiceReportType, AccountUID: consumerUID,
		Batch: 4, Wait: time.Second, Concurrency: 3, RetryDelay: time.Second,
		// The server's tokens live 6 h and it has no flag to shorten them:
		// renewing 6 h minus 3 s before ExpireTime makes every token
		// "expire" about 3 s after it is issued.
		RefreshBefore: 6*time.Hour - 3*time.Second,
		Handler: func(ctx context.Context, r sdk.Receipt) error {
			if r.Type != sdk.VoiceReportType || r.Voice == nil || r.ID == "" || r.MessageID == "" {
				return fmt.Errorf("bad receipt %+v", r)
			}
			s.add(r)
			if _, ok := failOnce.LoadAndDelete(r.CallID); ok {
				return errors.New("not now")
			}
			return nil
		},
		OnError: func(err error) {
			s.mu.Lock()
			s.errs = append(s.errs, err)
			s.mu.Unlock()
		},
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- cons.Run(ctx) }()

	// A record arrives and is decoded.
	id1 := placeConsumerCall(t, c, "13800000001")
	waitFor(t, "the first record", func() bool { return len(s.get(id1)) == 1 })
	r := s.get(id1)[0]
	if r.Voice.StatusCode != "200000" || r.Voice.Callee != "13800000001" || r.Voice.StartTime.IsZero() || r.DequeueCount != 1 {
		t.Fatalf("record %+v", r.Voice)
	}

	// A handler error: the message comes back (after RetryDelay) and is
	// deleted once accepted.
	id2 := placeConsumerCall(t, c, "13800000002")
	failOnce.Store(id2, true)
	waitFor(t, "the redelivery", func() bool { return len(s.get(id2)) == 2 })
	if rs := s.get(id2); rs[1].DequeueCount != 2 || rs[1].ID != rs[0].ID {
		t.Fatalf("redelivery %+v", rs)
	}

	// Token expiry: by now (several seconds) tokens were renewed on time...
	waitFor(t, "a token renewal", func() bool { return p.tokens.Load() >= 2 })
	// ...and a queue answering "token expired" makes the consumer renew at once.
	before := p.tokens.Load()
	p.expireOne.Store(true)
	waitFor(t, "the injected expiry", func() bool { return !p.expireOne.Load() })
	id3 := placeConsumerCall(t, c, "13800000004")
	waitFor(t, "a record after the expiry", func() bool { return len(s.get(id3)) == 1 })
	if p.tokens.Load() <= before {
		t.Fatal("no new token after SecurityTokenExpired")
	}

	// Empty queue: long polls keep going quietly (1 s each).
	time.Sleep(2500 * time.Millisecond)
	if len(s.get(id1)) != 1 || len(s.get(id2)) != 2 || len(s.get(id3)) != 1 {
		t.Fatalf("deleted messages came back: %d %d %d", len(s.get(id1)), len(s.get(id2)), len(s.get(id3)))
	}
	s.mu.Lock()
	for _, err := range s.errs {
		if !strings.Contains(err.Error(), "not now") && !strings.Contains(err.Error(), "SecurityTokenExpired") {
			t.Errorf("unexpected error: %v", err)
		}
	}
	s.mu.Unlock()

	// Cancellation during a long poll: Run returns nil promptly.
	start := time.Now()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not stop")
	}
	if time.Since(start) > 3*time.Second {
		t.Fatalf("stopping took %v", time.Since(start))
	}
}

func TestConsumerConfigErrors(t *testing.T) {
	ctx := ctxT(t)
	c, _ := consumerClient(t)
	h := func(context.Context, sdk.Receipt) error { return nil }
	for _, cons := range []*sdk.Consumer{
		{Client: c, MessageType: "Nope", AccountUID: consumerUID, Handler: h},
		{Client: c, MessageType: sdk.VoiceReportType, Handler: h},
		{Client: c, MessageType: sdk.VoiceRecordReportType, AccountUID: consumerUID, Handler: h}, // no subscription
	} {
		if err := cons.Run(ctx); err == nil {
			t.Errorf("%+v: no error", cons)
		}
	}
	// A queue of another account: the token is refused for it.
	err := (&sdk.Consumer{Client: c, MessageType: sdk.VoiceReportType, QueueName: "Alicom-Queue-" + exampleUID + "-VoiceReport", Handler: h}).Run(ctx)
	if !errors.Is(err, sdk.ErrInvalidParameters) {
		t.Fatalf("foreign queue: %v", err)
	}
}

func TestPushHandler(t *testing.T) {
	var got [][]sdk.Receipt
	fail := false
	h := sdk.PushHandler("s3cret", func(ctx context.Context, rs []sdk.Receipt) error {
		if fail {
			return errors.New("db down")
		}
		got = append(got, rs)
		return nil
	})
	body := []byte(`[{"call_id":"1^2","status_code":"200102","status_time":"2026-11-25 08:00:00","receipt_id":"1^2-3-VoiceCallReport"},{"call_id":"1^2","status_code":"200000","callee":"138","receipt_id":"r2"}]`)
	post := func(sig string, b []byte) *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", "/", bytes.NewReader(b))
		if sig != "" {
			req.Header.Set(sdk.PushSignatureHeader, sig)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w
	}
	now := time.Now()
	w := post(sdk.SignPush("s3cret", now, body), body)
	if w.Code != 200 || strings.TrimSpace(w.Body.String()) != `{"code":0,"msg":"接收成功"}` {
		t.Fatalf("good push: %d %s", w.Code, w.Body)
	}
	if len(got) != 1 || got[0][0].Type != sdk.VoiceCallReportType || got[0][0].Call.StatusTime.IsZero() ||
		got[0][1].Type != sdk.VoiceReportType || got[0][1].Voice.Callee != "138" {
		t.Fatalf("decoded %+v", got)
	}
	for name, sig := range map[string]string{
		"missing":  "",
		"wrong":    sdk.SignPush("other", now, body),
		"old":      sdk.SignPush("s3cret", now.Add(-6*time.Minute), body),
		"future":   sdk.SignPush("s3cret", now.Add(6*time.Minute), body),
		"garbage":  "t=abc,v1=00",
		"tampered": sdk.SignPush("s3cret", now, append([]byte(" "), body...)),
	} {
		if w := post(sig, body); w.Code != http.StatusUnauthorized {
			t.Errorf("%s signature: %d", name, w.Code)
		}
	}
	fail = true
	if w := post(sdk.SignPush("s3cret", now, body), body); w.Code != 500 || !strings.Contains(w.Body.String(), `"code":1`) {
		t.Fatalf("handler error: %d %s", w.Code, w.Body)
	}
}

// "dialtone receipts watch" is a Consumer too.
func TestCLIReceiptsWatch(t *testing.T) {
	c, _ := consumerClient(t)
	id := placeConsumerCall(t, c, "13800000001")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, dialtoneBin, "receipts", "watch", "--type", "VoiceReport", "-n", "1",
		"--endpoint", endpoint, "--access-key-id", consumerKeyID, "--access-key-secret", consumerSecret, "--admin-token", adminToken)
	cmd.Env = []string{"HOME=" + t.TempDir()}
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "VoiceReport call "+id) || !strings.Contains(string(out), "status_code=200000") {
		t.Fatalf("watch: %v\n%s", err, out)
	}
}
