package console_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dialtone-voice/dialtone/internal/browsertest"
	"github.com/dialtone-voice/dialtone/receipt"
	"github.com/dialtone-voice/dialtone/sdk"
	"github.com/dialtone-voice/dialtone/server"
)

const receiptsProvision = `
accounts:
  - uid: "1001"
    name: 演示账号 demo
    access_keys:
      - id: LTAIreceiptsA000000001
        secret: receiptsSecretA00000000000000001
    numbers:
      - { number: "057188880000", concurrency: 5 }
    tts_templates:
      - { code: TTS_100001, kind: notification, content: "您好，${name}" }
    flow_control: { per_minute: 0, per_hour: 0, per_day: 0 }
    subscriptions:
      - { message_type: VoiceReport, queue: true, push_url: RECEIVER/receipts, push_secret: browser-push-secret }
network:
  time_scale: 0.05
  subscribers:
    - { number: "13800000001", answer_after: 1s }
`

// A receipt whose push fails becomes a dead letter (the node runs without
// retries); the operator presses "Retry now" in the browser, the receiver
// accepts it, and the call's receipts page shows both attempts, the
// receipt's JSON as delivered and its queue message's base64, which
// decodes to the same JSON; the receipt links to its call.
func TestBrowserReceiptRedriven(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	var up atomic.Bool
	var hits atomic.Int32
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		hits.Add(1)
		if !up.Load() {
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, `{"code":1,"msg":"database down"}`)
			return
		}
		io.WriteString(w, `{"code":0,"msg":"成功"}`)
	}))
	defer recv.Close()
	base := startReceiptsNode(t, strings.ReplaceAll(receiptsProvision, "RECEIVER", recv.URL))
	api, err := sdk.New(sdk.Config{AccessKeyID: "LTAIreceiptsA000000001", AccessKeySecret: "receiptsSecretA00000000000000001", Endpoint: base})
	must(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	call, err := api.SingleCallByTts(ctx, sdk.TtsCall{CalledNumber: "13800000001", CalledShowNumber: "057188880000",
		TtsCode: "TTS_100001", TtsParam: map[string]string{"name": "李雷"}})
	must(t, err)
	deadline := time.Now().Add(30 * time.Second)
	for hits.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if hits.Load() == 0 {
		t.Fatal("the receiver got no push")
	}

	s := browsertest.New(t, base, "receipts")
	s.SignIn("admin", adminPassword)
	// The dead letter, on the account's receipts page.
	s.Do("the dead letter",
		chromedp.Navigate(base+"/console/receipts?acct=1001"),
		browsertest.Poll(`(() => { const r = document.querySelector("#dead tr[data-receipt] .retry-now"); if (r) return true; location.reload(); return false; })()`),
	)
	if row := s.Text("#dead tbody tr"); !strings.Contains(row, "HTTP 500") || !strings.Contains(row, call.CallID) {
		t.Errorf("dead letter row %q", row)
	}
	if sum := s.Text(`#receipt-summary tr[data-type=VoiceReport] .last-delivery`); !strings.Contains(sum, "failed (HTTP 500)") {
		t.Errorf("summary's last delivery %q", sum)
	}
	s.Shot("01-dead-letter")

	// The receiver is back; retry now.
	up.Store(true)
	s.Do("retry now",
		chromedp.Click("#dead tr[data-receipt] .retry-now button"),
		chromedp.WaitVisible(".flash"),
	)
	if msg := s.Text(".flash"); !strings.Contains(msg, "being pushed again") {
		t.Errorf("flash %q", msg)
	}

	// The call's receipts: both attempts and the content.
	s.Do("the call's receipts",
		chromedp.Navigate(base+"/console/receipts?acct=1001&call="+url.QueryEscape(call.CallID)),
		browsertest.Poll(`(() => { const ok = document.querySelector(".call-receipts[data-type=VoiceReport] .push-attempts tr.ok"); if (ok) return true; location.reload(); return false; })()`),
	)
	rows := s.Eval(`Array.from(document.querySelectorAll(".call-receipts[data-type=VoiceReport] .push-attempts tbody tr")).map(r => r.className + ": " + r.innerText.replace(/\s+/g, " ")).join("\n")`)
	lines := strings.Split(rows, "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "ok: ") || !strings.Contains(lines[0], "200") || !strings.Contains(lines[0], "code 0") ||
		!strings.HasPrefix(lines[1], "failed: ") || !strings.Contains(lines[1], "500") || !strings.Contains(lines[1], "HTTP 500") || !strings.Contains(lines[1], "dead letter") {
		t.Errorf("attempts of the receipt:\n%s", rows)
	}
	content := s.Text(".call-receipts[data-type=VoiceReport] pre.receipt-json")
	var body map[string]any
	if err := json.Unmarshal([]byte(content), &body); err != nil || body["call_id"] != call.CallID || body["status_code"] != "200000" {
		t.Errorf("receipt content %q: %v", content, err)
	}
	b64 := s.Text(".call-receipts[data-type=VoiceReport] pre.receipt-b64")
	if dec, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64)); err != nil || string(dec) != content {
		t.Errorf("the queue message's base64 %q does not decode to the content: %v", b64, err)
	}
	if st := s.Text(".call-receipts[data-type=VoiceReport] .receipt-state"); !strings.Contains(st, "pushed") {
		t.Errorf("receipt state %q", st)
	}
	if href := s.Eval(`document.querySelector(".call-receipts[data-type=VoiceReport] a.receipt-call").getAttribute("href")`); !strings.Contains(href, "/console/calls/") {
		t.Errorf("link to the call %q", href)
	}
	s.Shot("02-receipt-both-attempts")
	for _, w := range []int64{1366, 390} {
		s.Do("viewport", chromedp.EmulateViewport(w, 900))
		for name, path := range map[string]string{"receipts": "/console/receipts?acct=1001", "call-receipts": "/console/receipts?call=" + url.QueryEscape(call.CallID)} {
			s.Do(name, chromedp.Navigate(base+path), chromedp.WaitVisible("main h1"))
			checkFit(t, s, name, w)
		}
	}
	// From the receipt to its call, and back. The loop above ended on
	// either page (a map's order): start from the call's receipts.
	s.Do("receipt to call",
		chromedp.Navigate(base+"/console/receipts?call="+url.QueryEscape(call.CallID)),
		chromedp.WaitVisible(".call-receipts[data-type=VoiceReport] a.receipt-call"),
		chromedp.Click(".call-receipts[data-type=VoiceReport] a.receipt-call"),
		chromedp.WaitVisible("#call-receipts"),
	)
	if got := s.Eval(`document.querySelector("#call-status").innerText`); !strings.Contains(got, "200000") {
		t.Errorf("the call page's status %q", got)
	}
}

// startReceiptsNode runs a node whose pushes are not retried (a failure is
// a dead letter at once) until the test ends.
func startReceiptsNode(t *testing.T, yaml string) string {
	t.Helper()
	return startNodeConfig(t, yaml, nil, func(c *server.Config) {
		c.Receipts = receipt.Config{Push: receipt.PusherConfig{Retries: []time.Duration{}}}
	})
}
