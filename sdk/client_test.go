package sdk_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone/sdk"
)

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestMethodsAgainstDialtone(t *testing.T) {
	for _, sig := range []sdk.Signature{sdk.SignatureV3, sdk.SignatureV1} {
		c := newClient(t, func(cfg *sdk.Config) { cfg.Signature = sig; cfg.Region = "cn-hangzhou" })
		ctx := ctxT(t)
		tts, err := c.SingleCallByTts(ctx, sdk.TtsCall{CalledNumber: "13800000010", CalledShowNumber: "057188880000",
			TtsCode: "TTS_100002", TtsParam: map[string]string{"name": "A B*~", "order": "中文 1"}, PlayTimes: 1, Volume: 80, Speed: 10, OutID: "out-1"})
		if err != nil || tts.CallID == "" || tts.RequestID == "" {
			t.Fatalf("sig %d SingleCallByTts: %+v %v", sig, tts, err)
		}
		voice, err := c.SingleCallByVoice(ctx, sdk.VoiceCall{CalledNumber: "13800000011", CalledShowNumber: "057188880000",
			VoiceCode: "e271f3f2-e155-4366-a9f4-0fe55765b3ec.wav", PlayTimes: 2})
		if err != nil {
			t.Fatalf("SingleCallByVoice: %v", err)
		}
		ivr, err := c.IvrCall(ctx, sdk.IvrCall{CalledNumber: "13800000001", CalledShowNumber: "057188880000", StartCode: "TTS_100003",
			StartTtsParams: map[string]string{"order": "X"}, MenuKeyMap: []sdk.MenuItem{{Key: "1", Code: "TTS_100004"}},
			ByeCode: "TTS_100004", Timeout: 2 * time.Second, PlayTimes: 1})
		if err != nil {
			t.Fatalf("IvrCall: %v", err)
		}
		ctd, err := c.ClickToDial(ctx, sdk.ClickToDial{CallerShowNumber: "057188880000", CallerNumber: "13800000012",
			CalledShowNumber: "057188880001", CalledNumber: "13800000013", RecordFlag: true, SessionTimeout: 90 * time.Second})
		if err != nil {
			t.Fatalf("ClickToDial: %v", err)
		}
		for _, w := range []struct {
			id   string
			prod int64
			want string
		}{{tts.CallID, sdk.ProdVoiceNotify, "200000"}, {voice.CallID, sdk.ProdVoiceNotify, "200000"}, {ivr.CallID, sdk.ProdIVR, "200000"}, {ctd.CallID, sdk.ProdClickToDial, "200000"}} {
			d, err := c.WaitForCall(ctx, sdk.CallDetailQuery{CallID: w.id, ProdID: w.prod}, 50*time.Millisecond)
			if err != nil {
				t.Fatalf("wait %s: %v", w.id, err)
			}
			if d.State != w.want || d.Raw["state"] != w.want || d.GmtCreate.Location() != sdk.ChinaTime {
				t.Fatalf("detail of %s: %+v", w.id, d)
			}
		}
		// A finished two-leg call cannot be cancelled any more.
		if ok, err := c.CancelCall(ctx, ctd.CallID); err != nil || ok {
			t.Fatalf("CancelCall after the end: %v %v", ok, err)
		}
		// Unknown call: no detail, no error.
		if d, err := c.QueryCallDetailByCallId(ctx, sdk.CallDetailQuery{CallID: "1^2", ProdID: sdk.ProdIVR}); d != nil || err != nil {
			t.Fatalf("unknown call: %v %v", d, err)
		}
		tok, err := c.QueryTokenForMnsQueue(ctx, "VoiceReport", "")
		if err != nil || tok.AccessKeyID == "" || tok.SecurityToken == "" || !tok.ExpireTime.After(time.Now()) || tok.CreateTime.After(time.Now()) {
			t.Fatalf("QueryTokenForMnsQueue: %+v %v", tok, err)
		}
	}
}

func TestSmartCallAndOperate(t *testing.T) {
	c := newClient(t)
	ctx := ctxT(t)
	operated := make(chan error, 1)
	serveCallback(sdk.SmartCallHandler(func(ctx context.Context, ev sdk.SmartCallEvent) (sdk.SmartCallAction, error) {
		if ev.Words == "我想查询订单" {
			// While the call is live: only parallelBridge exists.
			_, err := c.SmartCallOperate(ctx, ev.CallID, "parallelBridge", "")
			operated <- err
			return sdk.SmartCallAction{Action: "play", ActionCode: "$a$", ActionCodeParam: map[string]string{"a": "好的"}, DynamicID: "2"}, nil
		}
		if ev.Words != "" {
			return sdk.SmartCallAction{Action: "hangup"}, nil
		}
		return sdk.SmartCallAction{}, nil
	}))
	call, err := c.SmartCall(ctx, sdk.SmartCall{CalledNumber: "13800000003", CalledShowNumber: "057188880000", VoiceCode: "$g$",
		VoiceCodeParam: map[string]string{"g": "您好"}, DisableActionCodeBreak: true, ActionCodeTimeBreak: 2 * time.Second,
		RecordFlag: true, TtsStyle: "xiaoyun", TtsConf: true, TtsVolume: 50, EnableITN: true, StreamAsr: true, NoiseThreshold: 0.5, OutID: "smart"})
	if err != nil {
		t.Fatal(err)
	}
	d, err := c.WaitForCall(ctx, sdk.CallDetailQuery{CallID: call.CallID, ProdID: sdk.ProdSmartCall}, 50*time.Millisecond)
	if err != nil || d.State != "200000" {
		t.Fatalf("smart call: %+v %v", d, err)
	}
	select {
	case err := <-operated:
		if err != nil {
			t.Fatalf("SmartCallOperate: %v", err)
		}
	default:
		t.Fatal("the callback never heard the first sentence")
	}
	if _, err := c.SmartCallOperate(ctx, call.CallID, "nonsense", ""); !errors.Is(err, sdk.ErrInvalidParameters) {
		t.Fatalf("bad command: %v", err)
	}
}

func TestErrorsFromDialtone(t *testing.T) {
	ctx := ctxT(t)
	c := newClient(t)
	// Business error: HTTP 200, Code isv.*.
	_, err := c.SingleCallByTts(ctx, sdk.TtsCall{CalledNumber: "13800000001", CalledShowNumber: "057188880000", TtsCode: "TTS_999999"})
	var e *sdk.Error
	if !errors.As(err, &e) || e.HTTPStatus != 200 || !strings.HasPrefix(e.Code, "isv.") || e.RequestID == "" || e.Action != "SingleCallByTts" {
		t.Fatalf("unknown template: %#v", err)
	}
	// Missing parameter: a gateway error.
	_, err = c.SingleCallByTts(ctx, sdk.TtsCall{CalledShowNumber: "057188880000", TtsCode: "TTS_100001"})
	if !errors.Is(err, sdk.ErrInvalidParameters) {
		t.Fatalf("missing callee: %v", err)
	}
	// Wrong secret, both signatures.
	for _, sig := range []sdk.Signature{sdk.SignatureV3, sdk.SignatureV1} {
		bad := newClient(t, func(cfg *sdk.Config) { cfg.AccessKeySecret = "wrong"; cfg.Signature = sig })
		_, err = bad.QueryTokenForMnsQueue(ctx, "VoiceReport", "")
		if !errors.Is(err, sdk.ErrAuth) || !errors.As(err, &e) || e.HTTPStatus != 400 || e.Code != "SignatureDoesNotMatch" {
			t.Fatalf("sig %d wrong secret: %v", sig, err)
		}
	}
	unknown := newClient(t, func(cfg *sdk.Config) { cfg.AccessKeyID = "LTAInobody" })
	if _, err = unknown.CancelCall(ctx, "1^1"); !errors.Is(err, sdk.ErrAuth) {
		t.Fatalf("unknown key: %v", err)
	}
	// A message type without a queue subscription.
	if _, err = c.QueryTokenForMnsQueue(ctx, "VoiceRecordReport", ""); !errors.Is(err, sdk.ErrInvalidParameters) {
		t.Fatalf("no subscription: %v", err)
	}
	if _, err := sdk.New(sdk.Config{}); !errors.Is(err, sdk.ErrNoCredentials) {
		t.Fatalf("no credentials: %v", err)
	}
}

func TestSTSCredentialsOnPOP(t *testing.T) {
	// The temporary credential of a queue token signs POP requests too
	// (V3 x-acs-security-token); Dialtone limits it to its queue, so the
	// answer is an authorization error, not a signature error.
	ctx := ctxT(t)
	tok, err := newClient(t).QueryTokenForMnsQueue(ctx, "VoiceReport", "")
	if err != nil {
		t.Fatal(err)
	}
	sts := newClient(t, func(cfg *sdk.Config) {
		cfg.AccessKeyID, cfg.AccessKeySecret, cfg.SecurityToken = tok.AccessKeyID, tok.AccessKeySecret, tok.SecurityToken
	})
	_, err = sts.QueryCallDetailByCallId(ctx, sdk.CallDetailQuery{CallID: "1^1", ProdID: sdk.ProdIVR})
	var e *sdk.Error
	if err != nil && (!errors.As(err, &e) || e.Code == "SignatureDoesNotMatch") {
		t.Fatalf("STS on POP: %v", err)
	}
}

func TestEndpoint(t *testing.T) {
	for in, want := range map[string]string{
		"127.0.0.1:8080":            "http://127.0.0.1:8080",
		"localhost:1":               "http://localhost:1",
		"[::1]:9":                   "http://[::1]:9",
		"dyvmsapi.aliyuncs.com":     "https://dyvmsapi.aliyuncs.com",
		"voice.example.com:8443":    "https://voice.example.com:8443",
		"http://voice.example.com/": "http://voice.example.com",
	} {
		c, err := sdk.New(sdk.Config{AccessKeyID: "a", AccessKeySecret: "b", Endpoint: in})
		if err != nil || c.Endpoint() != want {
			t.Errorf("%s: %v %v", in, c, err)
		}
	}
	if _, err := sdk.ParseEndpoint("ftp://x"); err == nil {
		t.Error("ftp accepted")
	}
	t.Setenv(sdk.EnvAccessKeyID, "id")
	t.Setenv(sdk.EnvAccessKeySecret, "secret")
	t.Setenv(sdk.EnvEndpoint, "10.0.0.1:80")
	c, err := sdk.FromEnv()
	if err != nil || c.Endpoint() != "https://10.0.0.1:80" {
		t.Fatalf("FromEnv: %v %v", c, err)
	}
}

// fake is a scripted POP server recording nonces.
type fake struct {
	mu      sync.Mutex
	nonces  []string
	replies []func(w http.ResponseWriter)
}

func (f *fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	n := len(f.nonces)
	f.nonces = append(f.nonces, r.Header.Get("x-acs-signature-nonce"))
	reply := f.replies[min(n, len(f.replies)-1)]
	f.mu.Unlock()
	reply(w)
}

func (f *fake) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.nonces)
}

func jsonReply(status int, body map[string]any) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/json;charset=utf-8")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(body)
	}
}

var (
	okCall     = jsonReply(200, map[string]any{"RequestId": "r", "Code": "OK", "Message": "OK", "CallId": "1^2"})
	okDetail   = jsonReply(200, map[string]any{"RequestId": "r", "Code": "OK", "Message": "OK"})
	throttled  = jsonReply(400, map[string]any{"RequestId": "t", "Code": "Throttling.User", "Message": "Request was denied due to user flow control."})
	internal   = jsonReply(500, map[string]any{"RequestId": "i", "Code": "InternalError", "Message": "boom"})
	unavailble = jsonReply(503, map[string]any{"RequestId": "u", "Code": "ServiceUnavailable", "Message": "busy"})
	flowCtl    = jsonReply(200, map[string]any{"RequestId": "f", "Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发分钟级流控"})
)

func fakeClient(t *testing.T, f *fake, retries int) *sdk.Client {
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	c, err := sdk.New(sdk.Config{AccessKeyID: "a", AccessKeySecret: "b", Endpoint: srv.URL, MaxRetries: retries,
		RetryBase: time.Millisecond, RetryMax: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRetries(t *testing.T) {
	ctx := ctxT(t)
	tts := sdk.TtsCall{CalledNumber: "1", TtsCode: "T"}

	// Throttling is retried for a call-creating action, each time signed anew.
	f := &fake{replies: []func(http.ResponseWriter){throttled, throttled, okCall}}
	call, err := fakeClient(t, f, 3).SingleCallByTts(ctx, tts)
	if err != nil || call.CallID != "1^2" || f.count() != 3 || f.nonces[0] == f.nonces[1] || f.nonces[1] == f.nonces[2] {
		t.Fatalf("throttled: %v %v %v", call, err, f.nonces)
	}
	// 503 ServiceUnavailable too.
	f = &fake{replies: []func(http.ResponseWriter){unavailble, okCall}}
	if _, err := fakeClient(t, f, 3).SingleCallByTts(ctx, tts); err != nil || f.count() != 2 {
		t.Fatalf("503: %v %d", err, f.count())
	}
	// 500 InternalError may have placed the call: not retried.
	f = &fake{replies: []func(http.ResponseWriter){internal, okCall}}
	_, err = fakeClient(t, f, 3).SingleCallByTts(ctx, tts)
	var e *sdk.Error
	if !errors.As(err, &e) || e.HTTPStatus != 500 || f.count() != 1 {
		t.Fatalf("500 on a call: %v %d", err, f.count())
	}
	// ...but a read is retried.
	f = &fake{replies: []func(http.ResponseWriter){internal, internal, okDetail}}
	if d, err := fakeClient(t, f, 3).QueryCallDetailByCallId(ctx, sdk.CallDetailQuery{CallID: "x", ProdID: 1}); err != nil || d != nil || f.count() != 3 {
		t.Fatalf("500 on a read: %v %d", err, f.count())
	}
	// Bounded: MaxRetries 2 means 3 attempts.
	f = &fake{replies: []func(http.ResponseWriter){throttled}}
	if _, err := fakeClient(t, f, 2).SingleCallByTts(ctx, tts); !errors.Is(err, sdk.ErrThrottled) || f.count() != 3 {
		t.Fatalf("bounded: %v %d", err, f.count())
	}
	// Disabled.
	f = &fake{replies: []func(http.ResponseWriter){throttled}}
	if _, err := fakeClient(t, f, -1).SingleCallByTts(ctx, tts); !errors.Is(err, sdk.ErrThrottled) || f.count() != 1 {
		t.Fatalf("disabled: %v %d", err, f.count())
	}
	// Flow control is a business answer: returned at once.
	f = &fake{replies: []func(http.ResponseWriter){flowCtl}}
	if _, err := fakeClient(t, f, 3).SingleCallByTts(ctx, tts); !errors.Is(err, sdk.ErrFlowControlled) || errors.Is(err, sdk.ErrThrottled) || f.count() != 1 {
		t.Fatalf("flow control: %v %d", err, f.count())
	}
}

func TestRetryNetwork(t *testing.T) {
	ctx := ctxT(t)
	// Connection refused: nothing was sent, so even a call is retried.
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	c, _ := sdk.New(sdk.Config{AccessKeyID: "a", AccessKeySecret: "b", Endpoint: addr, MaxRetries: 2, RetryBase: time.Millisecond})
	start := time.Now()
	_, err := c.SingleCallByTts(ctx, sdk.TtsCall{CalledNumber: "1", TtsCode: "T"})
	if err == nil || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("refused: %v", err)
	}
	_ = start

	// A timeout after the request was sent: a call is not retried, a read is.
	var mu sync.Mutex
	hits := 0
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits++
		mu.Unlock()
		time.Sleep(300 * time.Millisecond)
	}))
	defer slow.Close()
	c, _ = sdk.New(sdk.Config{AccessKeyID: "a", AccessKeySecret: "b", Endpoint: slow.URL, MaxRetries: 2, RetryBase: time.Millisecond,
		HTTPClient: &http.Client{Timeout: 50 * time.Millisecond}})
	if _, err := c.SingleCallByTts(ctx, sdk.TtsCall{CalledNumber: "1", TtsCode: "T"}); err == nil {
		t.Fatal("timeout: no error")
	}
	time.Sleep(400 * time.Millisecond)
	mu.Lock()
	if hits != 1 {
		t.Fatalf("a timed-out call was sent %d times", hits)
	}
	hits = 0
	mu.Unlock()
	if _, err := c.QueryTokenForMnsQueue(ctx, "VoiceReport", ""); err == nil {
		t.Fatal("timeout read: no error")
	}
	time.Sleep(400 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if hits != 3 {
		t.Fatalf("a timed-out read was sent %d times, want 3", hits)
	}
}

func TestContextCancelsBackoff(t *testing.T) {
	f := &fake{replies: []func(http.ResponseWriter){throttled}}
	srv := httptest.NewServer(f)
	defer srv.Close()
	c, _ := sdk.New(sdk.Config{AccessKeyID: "a", AccessKeySecret: "b", Endpoint: srv.URL, MaxRetries: 10, RetryBase: time.Second, RetryMax: time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.QueryTokenForMnsQueue(ctx, "VoiceReport", "")
	if !errors.Is(err, sdk.ErrThrottled) || time.Since(start) > 2*time.Second {
		t.Fatalf("%v after %v", err, time.Since(start))
	}
}
