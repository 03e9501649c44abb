package console_test

import (
	"context"
	"fmt"
	"go/format"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dialtone-voice/dialtone/console"
	"github.com/dialtone-voice/dialtone/internal/browsertest"
	"github.com/dialtone-voice/dialtone/sdk"
)

// The Explorer's account: two display numbers, approved templates (one
// with a variable) and a pending one, an approved voice file, and a
// simulated subscriber who answers.
const explorerProvision = `
accounts:
  - uid: "1001"
    name: explorer
    access_keys:
      - id: LTAIexplorer000000001
        secret: explorerSecret00000000000000001
    numbers:
      - number: "057188880000"
      - number: "057188880001"
    tts_templates:
      - {code: TTS_700001, kind: notification, status: approved, content: "您好${name}，您的订单已发货。"}
      - {code: TTS_700002, kind: notification, status: pending, content: "Pending, not offered."}
      - {code: TTS_700003, kind: notification, status: approved, content: "Your parcel has arrived."}
    voice_files:
      - {code: explorer-notice.wav, path: notice.wav, kind: notification, status: approved}
    flow_control: { per_minute: 0, per_hour: 0, per_day: 0 }
network:
  time_scale: 0.05
  subscribers:
    - number: "13800000001"
      answer_after: 2s
`

// TestBrowserExplorer: the Explorer offers the account's real values in
// its pickers and starts with them; empty fields look empty; the code of
// every library follows a pick, with the install line of the client table
// and copy buttons; and the Dialtone SDK and curl snippets, copied from the
// page, place a call that is answered.
func TestBrowserExplorer(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	wav, err := os.ReadFile(sineWAV(t))
	must(t, err)
	base := startNodeWith(t, explorerProvision, map[string][]byte{"notice.wav": wav})
	s := browsertest.New(t, base, "explorer")
	s.SignIn("admin", adminPassword)
	s.Do("explorer", chromedp.Navigate(base+"/console/explorer?acct=1001"), chromedp.WaitVisible("#ex-action"),
		browsertest.Poll(`document.querySelector("#explorer").dataset.codeState === "ready"`))
	s.Shot("01-explorer-start")

	// The pickers hold the account's values, approved ones only.
	list := func(kind string) string {
		return s.Eval(fmt.Sprintf(`Array.from(document.querySelectorAll("#ex-list-%s option")).map(function(o){return o.value}).join(",")`, kind))
	}
	if got := list("number"); got != "057188880000,057188880001" {
		t.Errorf("display numbers offered: %q", got)
	}
	if got := list("template"); got != "TTS_700001,TTS_700003" {
		t.Errorf("templates offered: %q (approved ones only)", got)
	}
	if got := list("voice"); got != "explorer-notice.wav" {
		t.Errorf("voice files offered: %q", got)
	}
	if got := list("callee"); got != "13800000001" {
		t.Errorf("callees offered: %q", got)
	}

	// The fields start with real values (sent as shown), not placeholders.
	value := func(id string) string { return s.Eval(fmt.Sprintf(`document.getElementById(%q).value`, id)) }
	for id, want := range map[string]string{
		"ex-SingleCallByTts-CalledShowNumber":   "057188880000",
		"ex-SingleCallByTts-TtsCode":            "TTS_700001",
		"ex-SingleCallByTts-TtsParam":           `{"name":"name"}`,
		"ex-SingleCallByTts-CalledNumber":       "13800000001",
		"ex-SingleCallByVoice-VoiceCode":        "explorer-notice.wav",
		"ex-ClickToDial-CallerShowNumber":       "057188880000",
		"ex-ClickToDial-CalledShowNumber":       "057188880001",
		"ex-SingleCallByTts-OutId":              "",
		"ex-QueryCallDetailByCallId-CallId":     "",
		"ex-SingleCallByTts-PlayTimes":          "",
		"ex-IvrCall-StartCode":                  "TTS_700001",
		"ex-IvrCall-CalledShowNumber":           "057188880000",
		"ex-SingleCallByVoice-CalledShowNumber": "057188880000",
		"ex-SmartCall-CalledShowNumber":         "057188880000",
		"ex-QueryCallDetailByCallId-QueryDate":  "",
		"ex-SingleCallByVoice-CalledNumber":     "13800000001",
		"ex-ClickToDial-CallerNumber":           "13800000001",
		"ex-CancelCall-CallId":                  "",
		"ex-SmartCallOperate-CallId":            "",
		"ex-SingleCallByTts-Volume":             "",
		"ex-IvrCall-MenuKeyMap":                 `[{"Code":"TTS_700001","Key":"1","TtsParams":"{\"name\":\"name\"}"},{"Code":"TTS_700003","Key":"2"}]`,
		"ex-SingleCallByVoice-OutId":            "",
		"ex-QueryCallDetailByCallId-ProdId":     "11000000300006",
		"ex-SmartCall-VoiceCode":                "",
		"ex-SingleCallByTts-Speed":              "",
		"ex-ClickToDial-SessionTimeout":         "",
		"ex-SmartCall-CalledNumber":             "13800000001",
		"ex-IvrCall-Timeout":                    "",
		"ex-SingleCallByVoice-PlayTimes":        "",
		"ex-SmartCallOperate-Param":             "",
	} {
		if got := value(id); got != want {
			t.Errorf("%s starts as %q, want %q", id, got, want)
		}
	}
	// What stays empty looks empty: an "e.g." placeholder in grey italics.
	if ph := s.Eval(`document.getElementById("ex-SingleCallByTts-OutId").placeholder`); !strings.HasPrefix(ph, "e.g. ") {
		t.Errorf("OutId placeholder %q", ph)
	}
	if st := s.Eval(`getComputedStyle(document.getElementById("ex-SingleCallByTts-OutId"), "::placeholder").fontStyle`); st != "italic" {
		t.Errorf("placeholder font style %q, want italic", st)
	}

	// Pick another template and the second number: the code follows, and
	// the variables of the old template are dropped (the new one has none).
	pick := func(field, kind, v string) string {
		return fmt.Sprintf(`(function(){var o=Array.from(document.querySelectorAll("#ex-list-%s option")).find(function(o){return o.value===%q});`+
			`var el=document.getElementById(%q);el.value=o.value;el.dispatchEvent(new Event("input",{bubbles:true}));return el.value;})()`, kind, v, field)
	}
	if got := s.Eval(pick("ex-SingleCallByTts-TtsCode", "template", "TTS_700003")); got != "TTS_700003" {
		t.Fatalf("picking a template: %q", got)
	}
	if got := s.Eval(pick("ex-SingleCallByTts-CalledShowNumber", "number", "057188880001")); got != "057188880001" {
		t.Fatalf("picking a number: %q", got)
	}
	if got := value("ex-SingleCallByTts-TtsParam"); got != "" {
		t.Errorf("TtsParam after picking a template without variables: %q", got)
	}
	s.Do("code follows the pick", browsertest.Poll(`(function(){var c=document.getElementById("ex-code-go-seed").textContent;`+
		`return c.indexOf("TTS_700003")>=0 && c.indexOf("057188880001")>=0 && document.querySelector("#explorer").dataset.codeState==="ready";})()`))

	// Every library of the table: a tab, its install line as the table
	// says, its code, a copy button for each.
	for _, l := range console.ClientLibs {
		code := s.Eval(fmt.Sprintf(`document.getElementById("ex-code-%s").textContent`, l.ID))
		if !strings.Contains(code, "TTS_700003") {
			t.Errorf("%s code lacks the picked template:\n%s", l.ID, code)
		}
		if strings.Contains(code, "explorerSecret") {
			t.Errorf("%s code carries the secret", l.ID)
		}
		if strings.HasSuffix(l.File, ".go") {
			if f, err := format.Source([]byte(code)); err != nil || string(f) != code {
				t.Errorf("%s code from the page is not gofmt-clean (%v):\n%s", l.ID, err, code)
			}
		}
		if n := s.Eval(fmt.Sprintf(`String(document.querySelectorAll('#ex-tab-%s[role=tab]').length)`, l.ID)); n != "1" {
			t.Errorf("%s: %s tabs", l.ID, n)
		}
		if n := s.Eval(fmt.Sprintf(`String(document.querySelectorAll('button.ex-copy[data-copy="ex-code-%s"]').length)`, l.ID)); n != "1" {
			t.Errorf("%s: %s copy buttons for the code", l.ID, n)
		}
		if l.Install() == "" {
			continue
		}
		if got := s.Eval(fmt.Sprintf(`document.getElementById("ex-install-%s").textContent`, l.ID)); got != l.Install() {
			t.Errorf("%s install line %q, the table says %q", l.ID, got, l.Install())
		}
		if n := s.Eval(fmt.Sprintf(`String(document.querySelectorAll('button.ex-copy[data-copy="ex-install-%s"]').length)`, l.ID)); n != "1" {
			t.Errorf("%s: %s copy buttons for the install line", l.ID, n)
		}
	}
	// The seed's generation comes first, and its tab is the one shown.
	if first := s.Eval(`document.querySelector("#ex-code [role=tab]").dataset.snippet`); first != "go-seed" {
		t.Errorf("first tab %q, want go-seed", first)
	}
	if sel := s.Eval(`document.querySelector("#ex-code [role=tab][aria-selected=true]").dataset.snippet`); sel != "go-seed" {
		t.Errorf("selected tab %q", sel)
	}
	// A tab shows its panel; copy gives feedback (the clipboard, or the
	// text selected for Ctrl+C where the browser refuses it).
	s.Do("node tab and copy",
		chromedp.Click("#ex-tab-node-seed"),
		chromedp.WaitVisible("#ex-panel-node-seed"),
		chromedp.Click(`button.ex-copy[data-copy="ex-code-node-seed"]`),
		browsertest.Poll(`document.querySelector('button.ex-copy[data-copy="ex-code-node-seed"]').dataset.copied === "true"`),
	)
	if note := s.Text("#ex-panel-node-seed .ex-note"); !strings.Contains(note, "CommonJS") || !strings.Contains(note, "node example.js") {
		t.Errorf("the Node snippet does not say how it runs: %q", note)
	}
	s.Shot("02-explorer-picked")

	// The Dialtone SDK and curl snippets, as copied from the page, place
	// calls that are answered.
	secretEnv := []string{"ALIBABA_CLOUD_ACCESS_KEY_SECRET=explorerSecret00000000000000001"}
	goCode := s.Eval(`document.getElementById("ex-code-go-dialtone").textContent`)
	curlCode := s.Eval(`document.getElementById("ex-code-curl").textContent`)
	root, err := filepath.Abs("..")
	must(t, err)
	dir, err := os.MkdirTemp(root, "_explorer-snippets-")
	must(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	must(t, os.WriteFile(filepath.Join(dir, "main.go"), []byte(goCode), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "call.sh"), []byte(curlCode), 0o644))
	bin := filepath.Join(t.TempDir(), "snippet")
	run(t, root, nil, "go", "build", "-o", bin, "./"+filepath.Base(dir))
	client, err := sdk.New(sdk.Config{AccessKeyID: "LTAIexplorer000000001", AccessKeySecret: "explorerSecret00000000000000001", Endpoint: base})
	must(t, err)
	for name, cmd := range map[string][]string{"go-dialtone": {bin}, "curl": {"bash", filepath.Join(dir, "call.sh")}} {
		out := run(t, dir, secretEnv, cmd...)
		m := regexp.MustCompile(`"?CallId"?\s*:\s*"?([^"\s,}]+)`).FindStringSubmatch(out)
		if m == nil {
			t.Errorf("%s printed no CallId:\n%s", name, out)
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		d, err := client.WaitForCall(ctx, sdk.CallDetailQuery{CallID: m[1], ProdID: sdk.ProdVoiceNotify}, 100*time.Millisecond)
		cancel()
		if err != nil || d.State != "200000" {
			t.Errorf("%s: call %s: %v %+v", name, m[1], err, d)
		}
	}
}

// run runs a command (bounded) and returns its output; a failure fails the test.
func run(t *testing.T, dir string, env []string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}
