package console_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/internal/browsertest"
	"github.com/dialtone-voice/dialtone/sdk"
)

// The calls pages as an operator reads them, in headless Chromium against a
// whole node on real time (time_scale 1, so that talk time in the page and
// in the engine agree), with realistic data: a few calls of every outcome,
// keys with long action lists, templates with long content, a voice file,
// a receipt subscription with a long push URL.

const callsProvision = `
accounts:
  - uid: "1001"
    name: 演示账号 demo
    access_keys:
      - id: LTAIcallsA000000000001
        secret: callsSecretA00000000000000000001
      - id: LTAIcallsB000000000002
        secret: callsSecretB00000000000000000002
        actions: [SingleCallByTts, SingleCallByVoice, IvrCall, ClickToDial, CancelCall, QueryCallDetailByCallId, SmartCall, SmartCallOperate]
      - id: LTAIcallsC000000000003
        secret: callsSecretC00000000000000000003
        enabled: false
    numbers:
      - { number: "057188880000", concurrency: 20 }
      - { number: "+8657188880001", concurrency: 5 }
    tts_templates:
      - code: TTS_100001
        kind: notification
        content: "尊敬的${name}客户您好，您在本店购买的订单${order}已经由顺丰速运发出，预计将于${date}送达，届时请保持电话畅通。如有任何疑问，请拨打客服热线或者在应用内联系在线客服，我们将竭诚为您服务，感谢您的支持与信任，祝您生活愉快，再见。"
      - code: TTS_100002
        kind: verification
        content: "您的验证码是${code}，5分钟内有效。"
      - code: TTS_100003
        kind: notification
        content: "Hello ${name}, your parcel ${tracking} is on its way: reference ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 will be delivered tomorrow."
        voice: en-us
    voice_files:
      - code: 2d4c-4e78-8d2a-afbb06cf0000-welcome-message-long-name.wav
        path: welcome.wav
        kind: notification
    flow_control: { per_minute: 1000, per_hour: 10000, per_day: 100000 }
    subscriptions:
      - message_type: VoiceReport
        queue: true
        push_url: RECEIVER/receipts/voice-report/with/a/rather/long/path?token=0123456789abcdef0123456789abcdef
      - message_type: VoiceCallReport
        queue: true
  - uid: "2002"
    name: other
network:
  time_scale: 1
  subscribers:
    - { number: "13800000001", answer_after: 1s }
    - { number: "13800000002", result: busy }
    - { number: "13800000003", answer_after: 1s }
    - { number: "13800000005", result: no_answer, ring: 1s }
`

// startCallsNode runs a node with callsProvision until the test ends; it
// returns the console's base URL.
func startCallsNode(t *testing.T, receiver string) string {
	t.Helper()
	wav, err := os.ReadFile(sineWAV(t))
	must(t, err)
	return startNodeWith(t, strings.ReplaceAll(callsProvision, "RECEIVER", receiver), map[string][]byte{"welcome.wav": wav})
}

// consolePages are every page of the console, by path under /console/.
var consolePages = []string{"overview", "numbers", "templates", "voicefiles", "keys", "receipts", "RECEIPTS", "settings", "callback", "calls", "CALL", "network", "explorer", "users", "audit", "no-such-page"}

func TestBrowserCallsReadable(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = io.WriteString(w, `{"code":0,"msg":"成功"}`)
	}))
	defer recv.Close()
	base := startCallsNode(t, recv.URL)
	api, err := sdk.New(sdk.Config{AccessKeyID: "LTAIcallsA000000000001", AccessKeySecret: "callsSecretA00000000000000000001", Endpoint: base})
	must(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	tts := func(callee, code string, vars map[string]string, times int, outID string) string {
		t.Helper()
		c, err := api.SingleCallByTts(ctx, sdk.TtsCall{CalledNumber: callee, CalledShowNumber: "057188880000", TtsCode: code,
			TtsParam: vars, PlayTimes: times, OutID: outID})
		must(t, err)
		return c.CallID
	}
	dial := func(outID string) string {
		t.Helper()
		c, err := api.ClickToDial(ctx, sdk.ClickToDial{CallerShowNumber: "057188880000", CallerNumber: "13800000001",
			CalledShowNumber: "057188880000", CalledNumber: "13800000003", SessionTimeout: 5 * time.Minute, OutID: outID})
		must(t, err)
		return c.CallID
	}
	answered := tts("13900000009", "TTS_100002", map[string]string{"code": "4321"}, 1, "order-ok-0571")
	busy := tts("13800000002", "TTS_100002", map[string]string{"code": "1234"}, 1, "order-busy-1")
	noAnswer := tts("13800000005", "TTS_100002", map[string]string{"code": "5678"}, 1, "order-na-1")
	long := tts("13800000001", "TTS_100001", map[string]string{"name": "张三", "order": "20261201-0042", "date": "十二月三日"}, 3, "long-call-1")
	viaAPI := dial("c2d-api")
	viaConsole := dial("c2d-console")

	s := browsertest.New(t, base, "calls")
	t.Logf("screenshots in %s", s.Dir)
	// The pages without a session fit too.
	for _, w := range []int64{390, 1366} {
		s.Do(fmt.Sprintf("viewport %d", w), chromedp.EmulateViewport(w, 844))
		s.Do("sign-in page", chromedp.Navigate(base+"/console/signin"), chromedp.WaitVisible("#username"))
		checkFit(t, s, "signin", w)
	}
	s.Do("viewport", chromedp.EmulateViewport(1366, 900))
	s.SignIn("admin", adminPassword)
	row := func(id string) string { return fmt.Sprintf(`tr[data-call=%q]`, id) }
	s.Do("calls end and go live",
		chromedp.Navigate(base+"/console/calls?acct=1001"),
		chromedp.WaitVisible(row(long)),
		browsertest.Poll(fmt.Sprintf(`(function(){var r=document.querySelector('%s');return !!r && r.dataset.outcome==="answered";})()`, row(answered))),
		browsertest.Poll(fmt.Sprintf(`(function(){var r=document.querySelector('%s');return !!r && r.dataset.outcome==="busy";})()`, row(busy))),
		browsertest.Poll(fmt.Sprintf(`(function(){var r=document.querySelector('%s');return !!r && r.dataset.outcome==="no-answer";})()`, row(noAnswer))),
		browsertest.Poll(fmt.Sprintf(`(function(){var r=document.querySelector('%s');return !!r && r.dataset.state==="answered";})()`, row(long))),
	)

	// One badge per outcome class: 200000 and 200002 look different.
	style := func(id, prop string) string {
		return s.Eval(fmt.Sprintf(`getComputedStyle(document.querySelector('%s .badge')).%s`, row(id), prop))
	}
	if st := textOf(s, row(answered)+" td:nth-child(7)"); !strings.Contains(st, "200000") {
		t.Errorf("answered call's status %q", st)
	}
	if st := textOf(s, row(busy)+" td:nth-child(7)"); !strings.Contains(st, "200002") {
		t.Errorf("busy call's status %q", st)
	}
	for _, prop := range []string{"backgroundColor", "color"} {
		if a, b := style(answered, prop), style(busy, prop); a == b {
			t.Errorf("the badges of 200000 and 200002 share the %s %s", prop, a)
		}
	}
	if a, n := style(answered, "backgroundColor"), style(noAnswer, "backgroundColor"); a == n {
		t.Errorf("the badges of answered and unanswered calls share the background %s", a)
	}
	if b := s.Eval(fmt.Sprintf(`document.querySelector('%s .badge').dataset.outcome`, row(busy))); b != "busy" {
		t.Errorf("busy badge data-outcome %q", b)
	}
	s.Shot("calls-outcomes")

	// The live call's duration counts up in place.
	s.Eval(`window.__marker = "no reload"; ""`)
	durationOf := func(sel string) int {
		t.Helper()
		txt := strings.TrimSpace(textOf(s, sel))
		n, err := strconv.Atoi(strings.TrimSuffix(txt, " s"))
		if err != nil {
			t.Fatalf("duration %q of %s", txt, sel)
		}
		return n
	}
	// It must move on by itself; how soon depends on the machine's load, so
	// the test waits for it (bounded by Do's time limit) rather than
	// sampling after a fixed sleep.
	countsUp := func(sel string, from int) {
		t.Helper()
		s.Do("duration of "+sel+" counts up from "+strconv.Itoa(from),
			browsertest.Poll(fmt.Sprintf(`parseInt(document.querySelector(%q).textContent, 10) > %d`, sel, from)))
	}
	d1 := durationOf(row(long) + " td:nth-child(8)")
	countsUp(row(long)+" td:nth-child(8)", d1)
	if s.Eval(`window.__marker || ""`) != "no reload" {
		t.Error("the page reloaded to count")
	}

	// Filters match a part of the number and of the OutId; an empty result
	// says which filters found nothing.
	s.Do("filter by part of a number",
		chromedp.SendKeys("#f-number", "800000002"),
		chromedp.Click(`form.filters button[type=submit]`),
		// The old list shows the busy call too: wait for the new page,
		// whose field holds the filter in its value attribute.
		chromedp.WaitVisible(`#f-number[value="800000002"]`),
		chromedp.WaitVisible(row(busy)),
	)
	if n := s.Eval(`String(document.querySelectorAll("#calls-rows tr[data-call]").length)`); n != "1" {
		t.Errorf("number contains 800000002: %s rows, want the busy call alone", n)
	}
	s.Do("filter by part of an OutId",
		chromedp.Navigate(base+"/console/calls?outid=ORDER-"),
		chromedp.WaitVisible(row(answered)),
	)
	if n := s.Eval(`String(document.querySelectorAll("#calls-rows tr[data-call]").length)`); n != "3" {
		t.Errorf("OutId contains ORDER-: %s rows, want the three order calls", n)
	}
	s.Do("filter finding nothing",
		chromedp.Navigate(base+"/console/calls"),
		chromedp.WaitVisible("#f-outid"),
		chromedp.SetValue("#f-from", "2026-12-01"),
		chromedp.SendKeys("#f-number", "0571"),
		chromedp.SendKeys("#f-outid", "nothing-here"),
		chromedp.Click(`form.filters button[type=submit]`),
		chromedp.WaitVisible("#calls-empty"),
	)
	if msg := textOf(s, "#calls-empty"); !strings.Contains(msg, "No calls from 2026-12-01 on whose number contains 0571 and whose OutId contains nothing-here") {
		t.Errorf("empty result says %q", msg)
	}
	s.Shot("calls-empty-filter")

	// The call page: live duration, transcript in CST, link to receipts.
	s.Do("long call page",
		chromedp.Navigate(base+"/console/calls/"+url.PathEscape(long)),
		chromedp.WaitVisible("#call-duration .talk-live"),
		chromedp.WaitVisible("#transcript"),
	)
	countsUp("#call-duration", durationOf("#call-duration"))
	first := textOf(s, "#transcript tbody tr:first-child td:first-child")
	at, err := time.ParseInLocation("2006-01-02 15:04:05.000", first, dialtone.ChinaTime)
	if err != nil {
		t.Errorf("transcript time %q: %v", first, err)
	} else if d := time.Since(at); d < -time.Minute || d > 5*time.Minute {
		t.Errorf("transcript time %q read as CST is %v from now: not China time", first, d)
	}
	if what := textOf(s, "#transcript tbody tr:first-child td:nth-child(3)"); !strings.Contains(what, "placed") {
		t.Errorf("first transcript line says %q", what)
	}
	if dump := textOf(s, "#transcript"); strings.Contains(dump, "{") || strings.Contains(dump, "At:") {
		t.Errorf("transcript is a struct dump:\n%s", dump)
	}
	href := s.Eval(`document.querySelector("#call-receipts").getAttribute("href")`)
	if want := "/console/receipts?call=" + url.QueryEscape(long); !strings.EqualFold(href, want) {
		t.Errorf("receipts link %q, want %q", href, want)
	}
	s.Shot("call-live")
	s.Do("receipts of the call", chromedp.Click("#call-receipts"), chromedp.WaitVisible("#receipts-call"))
	if txt := textOf(s, "#receipts-call"); !strings.Contains(txt, long) {
		t.Errorf("receipts page of the call says %q", txt)
	}

	// Hang up a live ClickToDial from the console; its twin is cancelled
	// through the API: both end the same way.
	s.Do("wait for the two-leg calls to talk",
		chromedp.Navigate(base+"/console/calls"),
		browsertest.Poll(fmt.Sprintf(`(function(){var r=document.querySelector('%s');return !!r && r.dataset.state==="bridged";})()`, row(viaConsole))),
		browsertest.Poll(fmt.Sprintf(`(function(){var r=document.querySelector('%s');return !!r && r.dataset.state==="bridged";})()`, row(viaAPI))),
	)
	ok, err := api.CancelCall(ctx, viaAPI)
	if err != nil || !ok {
		t.Fatalf("CancelCall: %v %v", ok, err)
	}
	s.Do("hang up from the console",
		chromedp.Navigate(base+"/console/calls/"+url.PathEscape(viaConsole)),
		chromedp.WaitVisible("#hangup-form button"),
	)
	if dir := textOf(s, "#call-hangup"); dir != "—" {
		t.Errorf("a live call has a hang-up direction %q", dir)
	}
	s.Shot("call-before-hangup")
	s.Eval(`window.confirm = function () { return true; }; ""`)
	s.Do("hang up",
		chromedp.Click("#hangup-form button"),
		chromedp.WaitVisible(".flash"),
		browsertest.Poll(`(function(){var b=document.querySelector("#call-outcome .badge");return !!b && b.dataset.outcome==="cancelled";})()`),
		chromedp.WaitNotPresent("#hangup-form"),
	)
	if f := textOf(s, ".flash"); !strings.Contains(f, "Hung up") {
		t.Errorf("flash after the hang-up %q", f)
	}
	if strings.Contains(s.Eval(`location.href`), "msg=") {
		t.Error("the hang-up's message travels in the URL")
	}
	facts := func() (status, hangup string) {
		return textOf(s, "#call-status"), textOf(s, "#call-hangup")
	}
	consoleStatus, consoleHangup := facts()
	s.Shot("call-hung-up")
	s.Do("the call cancelled by the API",
		chromedp.Navigate(base+"/console/calls/"+url.PathEscape(viaAPI)),
		browsertest.Poll(`(function(){var b=document.querySelector("#call-outcome .badge");return !!b && b.dataset.outcome==="cancelled";})()`),
	)
	apiStatus, apiHangup := facts()
	if consoleStatus != apiStatus || consoleHangup != apiHangup {
		t.Errorf("hung up in the console: %q, %q; cancelled by the API: %q, %q", consoleStatus, consoleHangup, apiStatus, apiHangup)
	}
	if !strings.Contains(consoleStatus, "CANCEL") || !strings.Contains(consoleHangup, "Platform 机器") {
		t.Errorf("hung-up call: status %q, hang-up %q", consoleStatus, consoleHangup)
	}
	if s.Eval(`document.querySelector("#hangup-form") ? "yes" : ""`) != "" {
		t.Error("a hang-up button on a cancelled call")
	}
	if ok, err := api.CancelCall(ctx, viaConsole); err != nil || ok {
		t.Errorf("CancelCall after the console's hang-up: %v %v, want false: already ended", ok, err)
	}

	// Every page fits 1366 and 390 px wide without scrolling sideways.
	s.Do("answered call page", chromedp.Navigate(base+"/console/calls/"+url.PathEscape(answered)), chromedp.WaitVisible("#timeline"))
	if s.Eval(`document.querySelector("#hangup-form") ? "yes" : ""`) != "" {
		t.Error("a hang-up button on an ended call")
	}
	for _, w := range []struct{ width, height int64 }{{1366, 900}, {1024, 768}, {390, 844}} {
		s.Do(fmt.Sprintf("viewport %d", w.width), chromedp.EmulateViewport(w.width, w.height))
		for _, p := range consolePages {
			path := "/console/" + p
			switch p {
			case "CALL":
				path = "/console/calls/" + url.PathEscape(viaConsole)
				p = "call"
			case "RECEIPTS":
				path = "/console/receipts?call=" + url.QueryEscape(answered)
				p = "call-receipts"
			}
			s.Do(p, chromedp.Navigate(base+path), chromedp.WaitVisible("main h1"))
			if p == "templates" || p == "voicefiles" {
				// Wait for the audio controls to take their size.
				s.Do("settle", chromedp.Sleep(300*time.Millisecond))
			}
			checkFit(t, s, p, w.width)
		}
	}
	// At 390 px a call list row is a card whose cells name their column.
	s.Do("calls at 390", chromedp.Navigate(base+"/console/calls"), chromedp.WaitVisible(row(busy)))
	if lbl := s.Eval(fmt.Sprintf(`getComputedStyle(document.querySelector('%s td:nth-child(6)'), "::before").content`, row(busy))); !strings.Contains(lbl, "Outcome") {
		t.Errorf("the outcome cell of a stacked row is labelled %s", lbl)
	}
}

// textOf is the text of the first element sel matches, read in one go: the
// live refresh replaces fragments under the test's feet, so a node found in
// one call may be gone in the next.
func textOf(s *browsertest.Session, sel string) string {
	s.T.Helper()
	return strings.TrimSpace(s.Eval(fmt.Sprintf(`(function(){var e=document.querySelector(%q);return e?e.textContent:"";})()`, sel)))
}

// checkFit fails the test when the page, or a table, form, section or
// listing of its main area, is wider than the viewport; then it keeps a
// screenshot of the page.
func checkFit(t *testing.T, s *browsertest.Session, page string, width int64) {
	t.Helper()
	fit := s.Eval(`(function(){
		var de = document.documentElement, out = [];
		if (de.scrollWidth > de.clientWidth) { out.push("page " + de.scrollWidth + " > " + de.clientWidth); }
		document.querySelectorAll("main table, main form, main pre, main dl, main section").forEach(function (el) {
			var r = el.getBoundingClientRect();
			if (r.width > 0 && (r.right > de.clientWidth + 0.5 || el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX !== "auto")) {
				out.push(el.tagName + (el.getAttribute("id") ? "#" + el.getAttribute("id") : "") + " right " + Math.round(r.right) + " scroll " + el.scrollWidth + "/" + el.clientWidth);
			}
		});
		return out.join("; ");
	})()`)
	if fit != "" {
		t.Errorf("%s at %d px does not fit: %s", page, width, fit)
	}
	s.Shot(fmt.Sprintf("width-%d-%s", width, page))
}
