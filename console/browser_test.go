package console_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dialtone-voice/dialtone/internal/browsertest"
	"github.com/dialtone-voice/dialtone/media"
	"github.com/dialtone-voice/dialtone/server"
)

// The browser tests drive the console in real headless Chromium against a
// whole node (server.Open + Run): what a person does, including the
// JavaScript, the event stream and the loopback POP call of the Explorer.

const browserProvision = `
accounts:
  - uid: "1001"
    name: 演示账号 demo
    access_keys:
      - id: LTAIconsoleA0000000001
        secret: consoleSecretA000000000000000001
    numbers:
      - number: "057188880000"
        concurrency: 5
    flow_control: { per_minute: 100, per_hour: 1000, per_day: 10000 }
  - uid: "2002"
    name: other
network:
  time_scale: 0.25
  subscribers:
    - number: "13800000001"
      answer_after: 8s
`

const adminPassword = "console-admin-pw"

// startNode runs a node on a loopback port until the test ends.
func startNode(t *testing.T) string { return startNodeWith(t, browserProvision, nil) }

// startNodeWith runs a node provisioned from yaml, with files (by name)
// written next to the provisioning file.
func startNodeWith(t *testing.T, yaml string, files map[string][]byte) string {
	t.Helper()
	return startNodeConfig(t, yaml, files, nil)
}

// startNodeConfig is startNodeWith with tweak (if set) changing the node's
// configuration before it opens.
func startNodeConfig(t *testing.T, yaml string, files map[string][]byte, tweak func(*server.Config)) string {
	t.Helper()
	dir := t.TempDir()
	prov := filepath.Join(dir, "provision.yaml")
	must(t, os.WriteFile(prov, []byte(yaml), 0o600))
	for name, b := range files {
		must(t, os.WriteFile(filepath.Join(dir, name), b, 0o600))
	}
	ready := make(chan string, 1)
	ctx, cancel := context.WithCancel(context.Background())
	cfg := server.Config{
		DataDir: filepath.Join(dir, "data"), HTTPAddr: "127.0.0.1:0", ProvisionFile: prov, ConsolePassword: adminPassword,
		SignatureWindow: 15 * time.Minute, ShutdownTimeout: 5 * time.Second,
		Logger: slog.New(slog.DiscardHandler), Stdout: io.Discard,
		Ready: func(addr string) { ready <- addr },
	}
	if tweak != nil {
		tweak(&cfg)
	}
	node, err := server.Open(ctx, cfg)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- node.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("node: %v", err)
		}
	})
	select {
	case addr := <-ready:
		return "http://" + addr
	case err := <-done:
		t.Fatalf("node stopped: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("node did not start")
	}
	return ""
}

// sineWAV makes a short 16 kHz tone to upload.
func sineWAV(t *testing.T) string {
	samples := make([]int16, 16000)
	for i := range samples {
		samples[i] = int16(8000 * math.Sin(2*math.Pi*440*float64(i)/16000))
	}
	var buf bytes.Buffer
	must(t, media.EncodeWAV(&buf, samples, 16000, 1))
	path := filepath.Join(t.TempDir(), "提示音 prompt.wav")
	must(t, os.WriteFile(path, buf.Bytes(), 0o600))
	return path
}

var callIDRE = regexp.MustCompile(`"CallId":"([^"]+)"`)

func TestBrowserMainFlow(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	base := startNode(t)
	s := browsertest.New(t, base, "console")
	t.Logf("screenshots in %s", s.Dir)

	// Sign in as the operator from DIALTONE_CONSOLE_ADMIN_PASSWORD.
	s.Do("sign-in page", chromedp.Navigate(base+"/console/signin"), chromedp.WaitVisible("#username"))
	s.Shot("01-signin")
	s.SignIn("admin", adminPassword)
	s.Do("overview", chromedp.Navigate(base+"/console/overview?acct=1001"), chromedp.WaitVisible("#live-account"))
	if h := s.Text("main h1"); !strings.Contains(h, "概览") {
		t.Errorf("overview heading %q", h)
	}
	s.Shot("02-overview")

	// Create a template with variables and approve it.
	s.Do("create template",
		chromedp.Navigate(base+"/console/templates"),
		chromedp.WaitVisible("#tpl-content"),
		chromedp.SendKeys("#tpl-content", "您好${name}，您的订单${order}已发货。"),
		chromedp.Submit("#tpl-content"),
		chromedp.WaitVisible(".flash"),
	)
	code := s.Eval(`document.querySelector("tr[data-code]").dataset.code`)
	if !strings.HasPrefix(code, "TTS_") {
		t.Fatalf("template code %q", code)
	}
	s.Do("approve template",
		chromedp.Click(fmt.Sprintf(`tr[data-code=%q] form[action="/console/templates/review"] input[value=approved] ~ button`, code)),
		chromedp.WaitVisible(fmt.Sprintf(`tr[data-code=%q] .badge.approved`, code)),
	)
	// Preview renders through the TTS engine and plays in the page.
	s.Do("preview template",
		chromedp.SendKeys(fmt.Sprintf(`#pv-%s-name`, code), "张三"),
		chromedp.Click(fmt.Sprintf(`tr[data-code=%q] form[data-preview] button`, code)),
		browsertest.Poll(fmt.Sprintf(`(function(){var a=document.querySelector('tr[data-code=%q] audio');return !!a && !a.hidden && a.readyState>=1 && a.duration>0.5;})()`, code)),
	)
	s.Shot("03-templates")

	// Upload a voice file through the XHR with progress.
	s.Do("upload voice file",
		chromedp.Navigate(base+"/console/voicefiles"),
		chromedp.WaitVisible("#vf-file"),
		chromedp.SetUploadFiles("#vf-file", []string{sineWAV(t)}),
		chromedp.Click("#upload-form button[type=submit]"),
		chromedp.WaitVisible("tr[data-code] audio"),
	)
	if f := s.Text("tbody tr[data-code] td:nth-child(3)"); f != "wav" {
		t.Errorf("uploaded format %q, want wav", f)
	}
	s.Shot("04-voicefiles")

	// Place a TTS call from the API Explorer to a simulated subscriber.
	s.Do("explorer",
		chromedp.Navigate(base+"/console/explorer"),
		chromedp.WaitVisible("#ex-action"),
		chromedp.SetValue("#ex-action", "SingleCallByTts"),
		// The fields start with the account's values; these are set over them.
		chromedp.SetValue("#ex-SingleCallByTts-CalledNumber", "13800000001"),
		chromedp.SetValue("#ex-SingleCallByTts-CalledShowNumber", "057188880000"),
		chromedp.SetValue("#ex-SingleCallByTts-TtsCode", code),
		chromedp.SendKeys("#ex-SingleCallByTts-PlayTimes", "7"),
		chromedp.Click("#ex-send"),
		chromedp.WaitVisible("#ex-problems"),
	)
	// Client-side validation stopped the out-of-range PlayTimes.
	if p := s.Text("#ex-problems"); !strings.Contains(p, "PlayTimes must be between 1 and 3") {
		t.Errorf("validation message %q", p)
	}
	s.Do("explorer send",
		chromedp.SetValue("#ex-SingleCallByTts-PlayTimes", "1"),
		chromedp.SetValue("#ex-SingleCallByTts-TtsParam", `{"name":"张三","order":"42"}`),
		chromedp.SendKeys("#ex-SingleCallByTts-OutId", "browser-1"),
		chromedp.Click("#ex-send"),
		browsertest.Poll(`document.querySelector("#ex-response").textContent.indexOf("CallId") >= 0`),
	)
	resp := s.Text("#ex-response")
	req := s.Text("#ex-request")
	m := callIDRE.FindStringSubmatch(resp)
	if m == nil || !strings.Contains(resp, `"Code":"OK"`) {
		t.Fatalf("explorer response:\n%s", resp)
	}
	callID := m[1]
	if !strings.Contains(req, "Signature=") || strings.Contains(req, "consoleSecretA") {
		t.Errorf("raw request lacks a signature or shows the secret:\n%s", req)
	}
	if c := s.Eval(`document.querySelector("#ex-code-go-seed").textContent`); !strings.Contains(c, "dyvmsapi.SingleCallByTtsRequest") || !strings.Contains(c, code) {
		t.Errorf("Go snippet:\n%s", c)
	}
	s.Shot("05-explorer")

	// Call records: the call appears and progresses without a reload.
	s.Do("call records",
		chromedp.Navigate(base+"/console/calls"),
		chromedp.WaitVisible(fmt.Sprintf(`tr[data-call=%q]`, callID)),
	)
	s.Eval(`window.__marker = "no reload"; ""`)
	states := map[string]bool{}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		st := s.Eval(fmt.Sprintf(`(function(){var r=document.querySelector('tr[data-call=%q]');return r?r.dataset.state:"";})()`, callID))
		states[st] = true
		if st == "ended" {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !states["ended"] {
		t.Fatalf("the call did not end on the page; states seen %v", states)
	}
	if len(states) < 2 {
		t.Errorf("the page showed only %v: no progress seen", states)
	}
	if s.Eval(`window.__marker || ""`) != "no reload" {
		t.Error("the page reloaded instead of updating in place")
	}
	if st := s.Text(fmt.Sprintf(`tr[data-call=%q] td:nth-child(7)`, callID)); !strings.Contains(st, "200000") {
		t.Errorf("final status %q, want 200000", st)
	}
	s.Shot("06-calls")

	s.Do("call page",
		chromedp.Click(fmt.Sprintf(`tr[data-call=%q] a`, callID)),
		chromedp.WaitVisible(`#timeline tr[data-event=ended]`),
	)
	for _, ev := range []string{"originate", "ringing", "answered", "play", "hangup", "ended"} {
		if s.Eval(fmt.Sprintf(`document.querySelector('#timeline tr[data-event=%q]') ? "yes" : ""`, ev)) != "yes" {
			t.Errorf("timeline lacks %s", ev)
		}
	}
	s.Shot("07-call")

	// The other pages, for the record.
	for _, p := range []string{"numbers", "keys", "receipts", "network", "users", "overview"} {
		s.Do(p, chromedp.Navigate(base+"/console/"+p), chromedp.WaitVisible("main h1"))
		s.Shot("08-" + p)
	}

	// The operator adds an account user of the other account...
	s.Do("add user",
		chromedp.Navigate(base+"/console/users"),
		chromedp.WaitVisible("#u-name"),
		chromedp.SendKeys("#u-name", "bob"),
		chromedp.SendKeys("#u-pass", "bob-password"),
		chromedp.Click("#u-role-acct"),
		chromedp.SetValue("#u-acct", "2002"),
		chromedp.Submit("#u-name"),
		chromedp.WaitVisible(".flash"),
		chromedp.Click(`form[action="/console/signout"] button`),
		chromedp.WaitVisible("#username"),
	)
	// ...who cannot open account 1001's call by editing the URL.
	s.SignIn("bob", "bob-password")
	s.Do("foreign call", chromedp.Navigate(base+"/console/calls/"+callID+"?acct=1001"), chromedp.WaitVisible("main h1"))
	if h := s.Text("main h1"); h != "Not found" {
		t.Errorf("bob opening account 1001's call sees %q, want Not found", h)
	}
	if body := s.Text("main"); strings.Contains(body, "browser-1") {
		t.Error("bob sees account 1001's call")
	}
	s.Shot("09-foreign-call-404")
}

// TestBrowserReceiptsAndNetwork: the Receipts page shows the delivery
// result of "send a test receipt" to a real receiver, and an edit on the
// simulated network page decides how the next call goes.
func TestBrowserReceiptsAndNetwork(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	received := make(chan string, 4)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		received <- string(body)
		_, _ = io.WriteString(w, `{"code":0,"msg":"成功"}`)
	}))
	defer recv.Close()
	base := startNode(t)
	s := browsertest.New(t, base, "console")
	s.SignIn("admin", adminPassword)

	// Subscribe VoiceReport by push and send a test receipt.
	s.Do("subscribe push",
		chromedp.Navigate(base+"/console/receipts?acct=1001"),
		chromedp.WaitVisible("#push-VoiceReport"),
		chromedp.SendKeys("#push-VoiceReport", recv.URL+"/receipts"),
		chromedp.Submit("#push-VoiceReport"),
		chromedp.WaitVisible(".flash"),
	)
	s.Do("send a test receipt",
		chromedp.Click(`#rc-VoiceReport ~ form[action="/console/receipts/test"] button`),
		chromedp.WaitVisible(`#tests-VoiceReport tr.ok`),
	)
	select {
	case body := <-received:
		if !strings.Contains(body, "console-test") {
			t.Errorf("the receiver got %q", body)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the receiver got nothing")
	}
	if row := s.Text(`#tests-VoiceReport tr.ok`); !strings.Contains(row, "200") || !strings.Contains(row, "(test)") || !strings.Contains(row, "code 0") {
		t.Errorf("test push row %q", row)
	}
	// A test push is not a delivery: the summary says so.
	if sum := s.Text(`#receipt-summary tr[data-type=VoiceReport] .last-delivery`); !strings.Contains(sum, "no deliveries yet") {
		t.Errorf("summary's last delivery %q", sum)
	}
	if sum := s.Text(`#receipt-summary tr[data-type=VoiceReport] .last-test`); !strings.Contains(sum, "accepted (test)") {
		t.Errorf("summary's last test %q", sum)
	}
	s.Shot("10-receipts-test-result")

	// Make the provisioned subscriber busy.
	s.Do("edit subscriber",
		chromedp.Navigate(base+"/console/network?edit=13800000001"),
		chromedp.WaitVisible("#sn-form"),
		chromedp.SetValue("#sn-result", "busy"),
		chromedp.Submit("#sn-number"),
		chromedp.WaitVisible(".flash"),
	)
	if row := s.Text(`tr[data-number="13800000001"]`); !strings.Contains(row, "busy") {
		t.Fatalf("subscriber row after edit %q", row)
	}
	s.Shot("11-network-edited")

	// The next call to it: an approved template, then the Explorer.
	s.Do("create template",
		chromedp.Navigate(base+"/console/templates"),
		chromedp.WaitVisible("#tpl-content"),
		chromedp.SendKeys("#tpl-content", "您好，测试忙音。"),
		chromedp.Submit("#tpl-content"),
		chromedp.WaitVisible(".flash"),
	)
	code := s.Eval(`document.querySelector("tr[data-code]").dataset.code`)
	s.Do("approve template",
		chromedp.Click(fmt.Sprintf(`tr[data-code=%q] form[action="/console/templates/review"] input[value=approved] ~ button`, code)),
		chromedp.WaitVisible(fmt.Sprintf(`tr[data-code=%q] .badge.approved`, code)),
	)
	s.Do("explorer send",
		chromedp.Navigate(base+"/console/explorer"),
		chromedp.WaitVisible("#ex-action"),
		chromedp.SetValue("#ex-action", "SingleCallByTts"),
		chromedp.SetValue("#ex-SingleCallByTts-CalledNumber", "13800000001"),
		chromedp.SetValue("#ex-SingleCallByTts-CalledShowNumber", "057188880000"),
		chromedp.SetValue("#ex-SingleCallByTts-TtsCode", code),
		chromedp.Click("#ex-send"),
		browsertest.Poll(`document.querySelector("#ex-response").textContent.indexOf("CallId") >= 0`),
	)
	m := callIDRE.FindStringSubmatch(s.Text("#ex-response"))
	if m == nil {
		t.Fatalf("explorer response:\n%s", s.Text("#ex-response"))
	}
	s.Do("busy call ends",
		chromedp.Navigate(base+"/console/calls"),
		browsertest.Poll(fmt.Sprintf(`(function(){var r=document.querySelector('tr[data-call=%q]');return !!r && r.dataset.state==="ended";})()`, m[1])),
	)
	if st := s.Text(fmt.Sprintf(`tr[data-call=%q] td:nth-child(7)`, m[1])); !strings.Contains(st, "200002") {
		t.Errorf("status of the call to the busy subscriber %q, want 200002", st)
	}
	s.Shot("12-calls-busy")
}
