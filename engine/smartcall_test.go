package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/carrier/sim"
	"github.com/dialtone-voice/dialtone/outbound"
	"github.com/dialtone-voice/dialtone/sdk"
	"github.com/dialtone-voice/dialtone/smartcall"
)

// callbackServer is a SmartCall callback receiver driven by a script: the
// n-th request gets the n-th answer (the last one repeats).
type callbackServer struct {
	*httptest.Server
	mu      sync.Mutex
	reqs    []map[string]string // form values, content decoded into "c.<key>"
	answers []string
	delay   time.Duration
	status  int
	// raw holds each request's body as received and its signature header.
	raw  [][]byte
	sigs []string
}

func newCallbackServer(t *testing.T, answers ...string) *callbackServer {
	s := &callbackServer{answers: answers, status: http.StatusOK}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *callbackServer) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.raw = append(s.raw, body)
	s.sigs = append(s.sigs, r.Header.Get("X-Dialtone-Signature"))
	s.mu.Unlock()
	r.Body = io.NopCloser(bytes.NewReader(body))
	if err := r.ParseForm(); err != nil || r.Method != http.MethodPost {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	req := map[string]string{}
	for k := range r.PostForm {
		req[k] = r.PostForm.Get(k)
	}
	var content map[string]string
	if err := json.Unmarshal([]byte(req["content"]), &content); err != nil {
		req["content_error"] = err.Error()
	}
	for k, v := range content {
		req["c."+k] = v
	}
	s.mu.Lock()
	n := len(s.reqs)
	s.reqs = append(s.reqs, req)
	ans := s.answers[min(n, len(s.answers)-1)]
	delay, status := s.delay, s.status
	s.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprint(w, ans)
}

func (s *callbackServer) requests() []map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.reqs)
}

func answer(action, code, tts, dynamicID string, extra ...string) string {
	d := map[string]any{"action": action, "dynamic_id": dynamicID}
	if code != "" {
		d["action_code"] = code
	}
	if tts != "" {
		p, _ := json.Marshal(map[string]string{"tts": tts})
		d["action_code_param"] = string(p)
	}
	for i := 0; i+1 < len(extra); i += 2 {
		d[extra[i]] = extra[i+1]
	}
	b, _ := json.Marshal(map[string]any{"result": "success", "code": 200, "msg": "成功", "data": d})
	return string(b)
}

// resolveTTS resolves $tts$ items from their parameter and anything else as
// a voice file code.
func resolveTTS(ctx context.Context, accountUID, code, paramJSON string) (dialtone.Prompt, error) {
	if strings.HasPrefix(code, "$") && strings.HasSuffix(code, "$") {
		var vars map[string]string
		if err := json.Unmarshal([]byte(paramJSON), &vars); err != nil {
			return dialtone.Prompt{}, err
		}
		text, ok := vars[strings.Trim(code, "$")]
		if !ok {
			return dialtone.Prompt{}, fmt.Errorf("no value for %s", code)
		}
		return dialtone.Prompt{Text: text, Code: code}, nil
	}
	return dialtone.Prompt{FileCode: code}, nil
}

func smartHarness(t *testing.T, subs map[string]sim.Behavior) *harness {
	return newHarness(t, subs, func(c *Config) { c.Prompts = PromptsFunc(resolveTTS) })
}

func smartPlan(url, first string) *dialtone.CallPlan {
	return &dialtone.CallPlan{
		Prompt: []dialtone.Prompt{tts(first)},
		Smart: &dialtone.SmartPlan{CallbackURL: url, CallbackTrusted: true, MuteTime: 10 * time.Second, ActionCodeBreak: true,
			PauseTime: 800 * time.Millisecond, DynamicID: "start"},
	}
}

func callbackEvents(evs []dialtone.CallEvent) []map[string]string {
	var out []map[string]string
	for _, ev := range evs {
		if ev.Type == "callback" {
			out = append(out, ev.Detail)
		}
	}
	return out
}

func TestSmartCallDialogue(t *testing.T) {
	const callee = "13800000003"
	h := smartHarness(t, map[string]sim.Behavior{callee: {Result: sim.ResultAnswer, AnswerAfter: time.Second,
		Say: []string{"我想查询订单", "好的，谢谢"}}})
	srv := newCallbackServer(t,
		answer("play", "$tts$", "您的订单已发货", "d1"),
		answer("hangup", "$tts$", "再见", "d2"))
	c := h.start(dialtone.KindSmartCall, callee, smartPlan(srv.URL, "您好，请问有什么可以帮您"))
	got := h.ended(c.ID)
	h.check(got, want{dialtone.StatusCompleted, SmartAnswered, HangupMachine, ""})

	reqs := srv.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d callbacks: %v", len(reqs), reqs)
	}
	for i, w := range []struct{ words, dyn string }{{"我想查询订单", "start"}, {"好的，谢谢", "d1"}} {
		r := reqs[i]
		if r["call_id"] != c.ID || r["content_type"] != "normal" || r["c.role"] != "B" || r["c.words"] != w.words ||
			r["c.dynamic_id"] != w.dyn || r["c.is_playing"] != "false" || r["timestamp"] == "" || r["c.asr_begin_time"] == "" {
			t.Errorf("callback %d: %v", i, r)
		}
	}
	plays := transcriptKinds(h.net.Transcript(c.ID), "play")
	if !slices.Equal(plays, []string{"您好，请问有什么可以帮您", "您的订单已发货", "再见"}) {
		t.Errorf("plays %v", plays)
	}
	cbs := callbackEvents(h.events(c.ID))
	if len(cbs) != 2 || cbs[0]["action"] != "play" || cbs[0]["words"] != "我想查询订单" || cbs[1]["action"] != "hangup" {
		t.Errorf("dialogue events %v", cbs)
	}
}

func TestSmartCallBreakAndMute(t *testing.T) {
	const callee = "13800000011"
	h := smartHarness(t, map[string]sim.Behavior{callee: {Result: sim.ResultAnswer, AnswerAfter: time.Second,
		DTMF: []sim.DTMF{{At: 2 * time.Second, Digits: "0"}}}})
	srv := newCallbackServer(t,
		answer("break", "$tts$", "好的", "after-key"),
		answer("hangup", "", "", ""))
	long := "一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十"
	c := h.start(dialtone.KindSmartCall, callee, smartPlan(srv.URL, long))
	got := h.ended(c.ID)
	h.check(got, want{dialtone.StatusCompleted, SmartAnswered, HangupMachine, ""})
	if got.DTMF != "0" {
		t.Errorf("dtmf %q", got.DTMF)
	}
	reqs := srv.requests()
	if len(reqs) != 2 || reqs[0]["content_type"] != "dtmf" || reqs[0]["c.dtmf_digits"] != "0" || reqs[0]["c.is_playing"] != "true" ||
		reqs[0]["c.current_media_code"] != long || reqs[1]["content_type"] != "mute" || reqs[1]["c.dynamic_id"] != "after-key" {
		t.Fatalf("callbacks %v", reqs)
	}
	tr := h.net.Transcript(c.ID)
	var plays []string
	for _, e := range tr {
		if e.Kind == "play" {
			plays = append(plays, e.Text)
			if e.Text == long && !e.Interrupted {
				t.Errorf("long prompt not broken: %+v", e)
			}
		}
	}
	if !slices.Equal(plays, []string{long, "好的"}) {
		t.Errorf("plays %v", plays)
	}
	// Mute comes MuteTime after the last prompt: 1 s ring + 2 s + ~1 s + 10 s.
	if got.Duration < 12 || got.Duration > 16 {
		t.Errorf("duration %d", got.Duration)
	}
}

func TestSmartCallNoBargeIn(t *testing.T) {
	const callee = "13800000012"
	h := smartHarness(t, map[string]sim.Behavior{callee: {Result: sim.ResultAnswer, AnswerAfter: time.Second,
		DTMF: []sim.DTMF{{At: 2 * time.Second, Digits: "0"}}}})
	srv := newCallbackServer(t, answer("break", "", "", ""), answer("hangup", "", "", ""))
	p := smartPlan(srv.URL, "一二三四五六七八九十一二三四五六七八九十")
	p.Smart.ActionCodeBreak = false
	c := h.start(dialtone.KindSmartCall, callee, p)
	h.ended(c.ID)
	for _, e := range h.net.Transcript(c.ID) {
		if e.Kind == "play" && e.Interrupted {
			t.Errorf("playback broken although ActionCodeBreak is false: %+v", e)
		}
	}
}

func TestSmartCallBadCallbacks(t *testing.T) {
	const callee = "13800000003"
	subs := map[string]sim.Behavior{callee: {Result: sim.ResultAnswer, AnswerAfter: time.Second, Say: []string{"你好"}}}
	cases := []struct {
		name   string
		setup  func(*callbackServer)
		answer string
		reason string
	}{
		{"slow", func(s *callbackServer) { s.delay = time.Second }, answer("play", "$tts$", "x", ""), "callback failed: callback timed out after 300ms"},
		{"bad json", nil, `{"result":"success",`, "callback failed: callback answered bad JSON"},
		{"http 500", func(s *callbackServer) { s.status = 500 }, answer("play", "$tts$", "x", ""), "callback failed: callback answered HTTP 500"},
		{"fail result", nil, `{"result":"fail","msg":"nope","data":{}}`, `callback failed: callback answered result "fail": nope`},
		{"unknown action", nil, answer("dance", "", "", ""), `callback answered unknown action "dance"`},
		{"unplayable", nil, answer("play", "$tts$", "", ""), "callback answered unplayable media"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, subs, func(c *Config) { c.Prompts = PromptsFunc(resolveTTS); c.CallbackTimeout = 300 * time.Millisecond })
			srv := newCallbackServer(t, tc.answer)
			if tc.setup != nil {
				tc.setup(srv)
			}
			c := h.start(dialtone.KindSmartCall, callee, smartPlan(srv.URL, "您好"))
			got := h.ended(c.ID)
			if got.StatusCode != dialtone.StatusCompleted || got.HangupDirection != HangupMachine || !strings.HasPrefix(got.Reason, tc.reason) {
				t.Fatalf("ended %s %s reason %q, want prefix %q", got.StatusCode, got.HangupDirection, got.Reason, tc.reason)
			}
			cbs := callbackEvents(h.events(c.ID))
			if len(cbs) != 1 || cbs[0]["content_type"] != "normal" || cbs[0]["words"] != "你好" {
				t.Errorf("dialogue events %v", cbs)
			}
		})
	}
}

func TestSmartCallNetworkError(t *testing.T) {
	const callee = "13800000003"
	h := smartHarness(t, map[string]sim.Behavior{callee: {Result: sim.ResultAnswer, AnswerAfter: time.Second, Say: []string{"你好"}}})
	srv := newCallbackServer(t, "")
	srv.Close() // nothing listens any more
	c := h.start(dialtone.KindSmartCall, callee, smartPlan(srv.URL, "您好"))
	got := h.ended(c.ID)
	if !strings.HasPrefix(got.Reason, "callback failed: callback: ") || got.HangupDirection != HangupMachine {
		t.Fatalf("reason %q direction %s", got.Reason, got.HangupDirection)
	}
}

func TestSmartCallTransferAndOperate(t *testing.T) {
	const callee, agent = "13800000003", "13800000020"
	h := smartHarness(t, map[string]sim.Behavior{
		callee: {Result: sim.ResultAnswer, AnswerAfter: time.Second, Say: []string{"转人工"}},
		agent:  {Result: sim.ResultAnswer, AnswerAfter: 2 * time.Second, HangupAfter: 30 * time.Second},
	})
	srv := newCallbackServer(t, answer("transfer", "", "", "", "number", agent))
	c := h.start(dialtone.KindSmartCall, callee, smartPlan(srv.URL, "您好"))
	h.waitState(c.ID, dialtone.CallBridged)
	ok, err := h.eng.Operate(h.ctx, testAccount, c.ID, "parallelBridge", "agent-7")
	if err != nil || !ok {
		t.Fatalf("operate = %v, %v", ok, err)
	}
	if _, err := h.eng.Operate(h.ctx, testAccount, c.ID, "explode", ""); err == nil {
		t.Error("unknown command accepted")
	}
	got := h.ended(c.ID)
	h.check(got, want{dialtone.StatusCompleted, SmartAnswered, HangupUser, ""})
	if got.B.Start.IsZero() || got.B.End.IsZero() {
		t.Errorf("B leg %+v", got.B)
	}
	var op map[string]string
	for _, ev := range h.events(c.ID) {
		if ev.Type == "operate" {
			op = ev.Detail
		}
	}
	if op["command"] != "parallelBridge" || op["param"] != "agent-7" {
		t.Errorf("operate event %v", op)
	}
	if ok, err := h.eng.Operate(h.ctx, testAccount, c.ID, "parallelBridge", ""); ok || err != nil {
		t.Errorf("operate on an ended call = %v, %v", ok, err)
	}
	if origs := transcriptKinds(h.net.Transcript(c.ID), "originate"); !slices.Equal(origs, []string{callee, agent}) {
		t.Errorf("originated %v", origs)
	}
}

// Callbacks carry X-Dialtone-Signature with the account's callback secret,
// and during a rotation's grace a second v1 with the replaced one; the
// Go SDK's verifier accepts either.
func TestSmartCallSignedCallback(t *testing.T) {
	const callee = "13800000003"
	signer := outbound.Signer{Secret: "old-callback-secret"}.Rotate("new-callback-secret", time.Now(), time.Hour)
	h := newHarness(t, map[string]sim.Behavior{callee: {Result: sim.ResultAnswer, AnswerAfter: time.Second, Say: []string{"你好"}}},
		func(c *Config) {
			c.Prompts = PromptsFunc(resolveTTS)
			c.Secrets = smartcall.SecretsFunc(func(_ context.Context, acct string) (outbound.Signer, error) {
				if acct != testAccount {
					return outbound.Signer{}, fmt.Errorf("asked for account %q", acct)
				}
				return signer, nil
			})
		})
	srv := newCallbackServer(t, answer("hangup", "", "", ""))
	c := h.start(dialtone.KindSmartCall, callee, smartPlan(srv.URL, "您好"))
	h.ended(c.ID)
	srv.mu.Lock()
	raw, sigs := slices.Clone(srv.raw), slices.Clone(srv.sigs)
	srv.mu.Unlock()
	if len(raw) != 1 || strings.Count(sigs[0], "v1=") != 2 {
		t.Fatalf("callbacks %d, signature %q", len(raw), sigs)
	}
	for _, k := range []string{"new-callback-secret", "old-callback-secret"} {
		if err := sdk.VerifySignature(k, sigs[0], raw[0], time.Now(), 5*time.Minute); err != nil {
			t.Errorf("%s does not verify the callback: %v", k, err)
		}
	}
	if err := sdk.VerifySignature("another", sigs[0], raw[0], time.Now(), 5*time.Minute); err == nil {
		t.Error("a wrong secret verifies the callback")
	}
}

// A callback URL an account user entered may not reach loopback: the
// call ends with the refusal, which names the rule; nothing is sent.
func TestSmartCallUntrustedCallbackRefused(t *testing.T) {
	const callee = "13800000003"
	h := smartHarness(t, map[string]sim.Behavior{callee: {Result: sim.ResultAnswer, AnswerAfter: time.Second, Say: []string{"你好"}}})
	srv := newCallbackServer(t, answer("hangup", "", "", ""))
	p := smartPlan(srv.URL, "您好")
	p.Smart.CallbackTrusted = false
	c := h.start(dialtone.KindSmartCall, callee, p)
	got := h.ended(c.ID)
	if !strings.Contains(got.Reason, "refused by the egress policy (rule loopback)") || got.HangupDirection != HangupMachine {
		t.Errorf("reason %q", got.Reason)
	}
	if n := len(srv.requests()); n != 0 {
		t.Errorf("the callback server got %d requests", n)
	}
	cbs := callbackEvents(h.events(c.ID))
	if len(cbs) != 1 || !strings.Contains(cbs[0]["error"], "rule loopback") {
		t.Errorf("callback events %v", cbs)
	}
}
