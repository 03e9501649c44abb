package provision

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/carrier/sim"
)

// examplePath is the repository's provisioning example, which the README
// and error messages refer to.
var examplePath = filepath.Join("..", "examples", "provisioning.yaml")

func TestParseExample(t *testing.T) {
	data, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := Parse(data, examplePath)
	if err != nil {
		t.Fatalf("example rejected:\n%v", err)
	}
	if len(doc.Accounts) != 1 {
		t.Fatalf("accounts = %d, want 1", len(doc.Accounts))
	}
	a := doc.Accounts[0]
	if a.UID != "1234567890123456" || a.Name != "demo" || a.Status != dialtone.AccountActive || !a.VoiceService {
		t.Errorf("account = %+v", a)
	}
	if !slices.Equal(a.Features, dialtone.AllFeatures) {
		t.Errorf("products = %v", a.Features)
	}
	if len(a.AccessKeys) != 1 || a.AccessKeys[0].ID != "LTAIdemo00000000000001" || !a.AccessKeys[0].Enabled ||
		!slices.Equal(a.AccessKeys[0].Actions, []string{"*"}) || a.AccessKeys[0].Line != 20 {
		t.Errorf("keys = %+v", a.AccessKeys)
	}
	if len(a.Numbers) != 1 || a.Numbers[0].Number.Number != "057188880000" || a.Numbers[0].Concurrency != 10 {
		t.Errorf("numbers = %+v", a.Numbers)
	}
	if len(a.TTSTemplates) != 2 || a.TTSTemplates[0].Kind != dialtone.TemplateVerification || a.TTSTemplates[1].Status != dialtone.ReviewApproved {
		t.Errorf("templates = %+v", a.TTSTemplates)
	}
	if len(a.VoiceFiles) != 1 || a.VoiceFiles[0].Path != "prompts/welcome.wav" || a.VoiceFiles[0].PathKey != "accounts[0].voice_files[0].path" {
		t.Errorf("voice files = %+v", a.VoiceFiles)
	}
	if a.FlowControl != (dialtone.FlowControl{PerMinute: 1, PerHour: 5, PerDay: 20}) {
		t.Errorf("flow control = %+v", a.FlowControl)
	}
	if len(a.Subscriptions) != 2 || a.Subscriptions[0].PushURL != "http://127.0.0.1:9999/receipts" || !a.Subscriptions[1].Queue {
		t.Errorf("subscriptions = %+v", a.Subscriptions)
	}
	if a.SmartCallCallbackURL != "http://127.0.0.1:9998/smartcall" || a.SmartCallCallbackSecret != "change-me-callback-secret" ||
		a.SmartCallCallbackSecretGrace != 24*time.Hour || a.Subscriptions[0].PushSecretGrace != 24*time.Hour {
		t.Errorf("callback = %q, secret grace %s, push secret grace %s", a.SmartCallCallbackURL, a.SmartCallCallbackSecretGrace, a.Subscriptions[0].PushSecretGrace)
	}
	if !slices.Equal(doc.EgressAllow, []string{"127.0.0.1", "10.20.0.0/16", "receiver.internal", "*.corp.example"}) {
		t.Errorf("egress_allow = %q", doc.EgressAllow)
	}

	n := doc.Network
	if n == nil || n.TimeScale != 1 || n.Default.AnswerAfter != 2*time.Second || n.Default.Result != sim.ResultAnswer {
		t.Fatalf("network = %+v", n)
	}
	b := n.Behavior("13800000001")
	if b.AnswerAfter != 3*time.Second || len(b.DTMF) != 1 || b.DTMF[0] != (sim.DTMF{AfterPrompt: 1, Digits: "1"}) {
		t.Errorf("13800000001 = %+v", b)
	}
	if b := n.Behavior("13800000002"); b.Result != sim.ResultBusy || b.AnswerAfter != 2*time.Second {
		t.Errorf("13800000002 = %+v (answer_after inherited from default)", b)
	}
	if b := n.Behavior("13800000003"); !slices.Equal(b.Say, []string{"我想查询订单", "好的，谢谢"}) {
		t.Errorf("13800000003 = %+v", b)
	}
	if b := n.Behavior("13800000004"); b.HangupAfter != 4*time.Second || b.AnswerAfter != time.Second {
		t.Errorf("13800000004 = %+v", b)
	}
	if b := n.Behavior("19999999999"); b.Result != sim.ResultAnswer || b.AnswerAfter != 2*time.Second {
		t.Errorf("unlisted = %+v", b)
	}
}

// TestParseExampleCommentedKeys: the keys the example shows commented out
// (the SIP section, ASR and TLS options) are valid too, once uncommented.
func TestParseExampleCommentedKeys(t *testing.T) {
	data, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	// From "# sip:" on, "# key: ..." lines are commented keys, some with
	// a second mark ("#     # tls_ca: ...").
	text, sipPart, ok := strings.Cut(string(data), "\n# sip:")
	if !ok {
		t.Fatal("the example has no commented sip section")
	}
	var b strings.Builder
	b.WriteString(text + "\nsip:")
	uncommented := 0
	nested := regexp.MustCompile(`^(\s*)# ([a-z_]+:)`)
	for _, line := range strings.Split(sipPart, "\n") {
		if rest, ok := strings.CutPrefix(line, "# "); ok {
			line = nested.ReplaceAllString(rest, "$1$2")
			uncommented++
		}
		b.WriteString(line + "\n")
	}
	doc, err := Parse([]byte(b.String()), "uncommented example")
	if err != nil {
		t.Fatalf("the example's commented keys are not valid:\n%v\n%s", err, b.String())
	}
	if uncommented < 30 || doc.SIP == nil || doc.SIP.ASR == nil || len(doc.SIP.Trunks) != 2 || len(doc.SIP.Routes) != 3 ||
		doc.SIP.Trunks[1].TLSCA == "" || doc.SIP.ASR.URL == "" {
		t.Errorf("uncommented %d lines; sip %+v, trunks %+v, routes %+v", uncommented, doc.SIP, doc.SIP.Trunks, doc.SIP.Routes)
	}
}

func TestParseEmpty(t *testing.T) {
	for _, in := range []string{"", "\n", "# only a comment\n", "---\n", "~\n", "{}\n"} {
		doc, err := Parse([]byte(in), "")
		if err != nil || doc == nil || len(doc.Accounts) != 0 || doc.Network != nil {
			t.Errorf("Parse(%q) = %+v, %v; want an empty document", in, doc, err)
		}
	}
	var n *sim.Config
	if n.Behavior("1").Result != sim.ResultAnswer || n.Scale() != 1 {
		t.Error("nil network does not give the defaults")
	}
}

func TestParseDefaults(t *testing.T) {
	doc, err := Parse([]byte(`
accounts:
  - name: minimal
    access_keys:
      - id: AK1
        secret: "0123456789abcdef"
    numbers:
      - number: "+8657188880000"
    tts_templates:
      - {code: TTS_1, kind: notification, content: hi}
network:
  time_scale: 0.01
  subscribers:
    - number: "13800000009"
      result: no_answer
      ring: 5s
    - number: "13800000010"
      dtmf: [{at: 1500ms, digits: "12#"}]
      silence: 12s
`), "")
	if err != nil {
		t.Fatal(err)
	}
	a := doc.Accounts[0]
	if a.UID != "" || a.Status != dialtone.AccountActive || !a.VoiceService || a.Features != nil || a.RateLimits != nil {
		t.Errorf("account defaults = %+v", a)
	}
	if k := a.AccessKeys[0]; !k.Enabled || k.Actions != nil {
		t.Errorf("key defaults = %+v", k)
	}
	if a.Numbers[0].Concurrency != dialtone.DefaultConcurrency || a.TTSTemplates[0].Status != dialtone.ReviewApproved {
		t.Errorf("defaults = %+v %+v", a.Numbers, a.TTSTemplates)
	}
	if a.FlowControl != dialtone.DefaultFlowControl {
		t.Errorf("flow control = %+v", a.FlowControl)
	}
	n := doc.Network
	if n.Scale() != 0.01 || n.Default.AnswerAfter != sim.DefaultBehavior.AnswerAfter {
		t.Errorf("network = %+v", n)
	}
	if b := n.Behavior("13800000009"); b.Result != sim.ResultNoAnswer || b.Ring != 5*time.Second {
		t.Errorf("no_answer = %+v", b)
	}
	if b := n.Behavior("13800000010"); b.DTMF[0] != (sim.DTMF{At: 1500 * time.Millisecond, Digits: "12#"}) || b.Silence != 12*time.Second {
		t.Errorf("dtmf = %+v", b)
	}
}

func TestParseExtensions(t *testing.T) {
	doc, err := Parse([]byte(`
accounts:
  - uid: 42
    name: ext
    products: []
    rate_limits: {SingleCallByTts: 5, QueryCallDetailByCallId: 0.5}
    tts_templates:
      - {code: TTS_2, kind: verification, content: "code ${code}", status: pending, voice: en-us}
    subscriptions:
      - {message_type: VoiceRecordReport, push_url: "https://example.com/r", push_secret: s3cr3t}
    flow_control: {per_minute: 0, per_day: 100}
`), "")
	if err != nil {
		t.Fatal(err)
	}
	a := doc.Accounts[0]
	if a.UID != "42" || a.Features == nil || len(a.Features) != 0 {
		t.Errorf("uid/products = %q %#v", a.UID, a.Features)
	}
	if a.RateLimits["SingleCallByTts"] != 5 || a.RateLimits["QueryCallDetailByCallId"] != 0.5 {
		t.Errorf("rate limits = %v", a.RateLimits)
	}
	if tt := a.TTSTemplates[0]; tt.Voice != "en-us" || tt.Status != dialtone.ReviewPending {
		t.Errorf("template = %+v", tt)
	}
	if s := a.Subscriptions[0]; s.Queue || s.PushSecret != "s3cr3t" {
		t.Errorf("subscription = %+v", s)
	}
	if a.FlowControl != (dialtone.FlowControl{PerMinute: 0, PerHour: 5, PerDay: 100}) {
		t.Errorf("flow control = %+v", a.FlowControl)
	}
}

// Anchors and merge keys are ordinary YAML; operators use them to share a
// behaviour between subscribers.
func TestParseMergeKeys(t *testing.T) {
	doc, err := Parse([]byte(`
network:
  default: &slow
    answer_after: 9s
    hangup_after: 20s
  subscribers:
    - <<: *slow
      number: "13800000001"
      answer_after: 1s
`), "")
	if err != nil {
		t.Fatal(err)
	}
	b := doc.Network.Behavior("13800000001")
	if b.AnswerAfter != time.Second || b.HangupAfter != 20*time.Second {
		t.Errorf("behaviour = %+v", b)
	}
}

func TestParseErrors(t *testing.T) {
	const key = "      - id: AK1\n        secret: \"0123456789abcdef\"\n"
	tests := []struct {
		name string
		in   string
		want []string // each must appear in the error text
	}{
		{"syntax", "accounts:\n  - name: a\n    status: a: b\n", []string{"line 3: invalid YAML: mapping values are not allowed"}},
		{"two documents", "accounts: []\n---\naccounts: []\n", []string{"line 2: a second YAML document"}},
		{"root not mapping", "- a\n", []string{"line 1: must be a mapping, not a list"}},
		{"unknown top key", "acounts: []\n", []string{`line 1: unknown key "acounts" (did you mean "accounts"?)`}},
		{"accounts not list", "accounts: {}\n", []string{"line 1: accounts: must be a list"}},
		{"unknown key in key", "accounts:\n  - name: a\n    access_keys:\n      - id: AK1\n        secrets: \"0123456789abcdef\"\n",
			[]string{`line 5: accounts[0].access_keys[0]: unknown key "secrets"`, `line 4: accounts[0].access_keys[0]: missing required key "secret"`}},
		{"duplicate key", "accounts:\n  - name: a\n    name: b\n", []string{`line 3: accounts[0]: duplicate key "name" (first at line 2)`}},
		{"status", "accounts:\n  - name: a\n    status: actve\n",
			[]string{`line 3: accounts[0].status: "actve" must be active, suspended, abnormal or deleted`}},
		{"uid", "accounts:\n  - name: a\n    uid: 12ab\n", []string{`line 3: accounts[0].uid: "12ab" is not 1 to 32 digits`}},
		{"uid too long", "accounts:\n  - name: a\n    uid: \"" + strings.Repeat("1", 33) + "\"\n", []string{"accounts[0].uid:"}},
		{"name missing", "accounts:\n  - uid: \"1\"\n", []string{`line 2: accounts[0]: missing required key "name"`}},
		{"name blank", "accounts:\n  - name: \" \"\n", []string{"accounts[0].name:"}},
		{"duplicate uid", "accounts:\n  - {uid: 1, name: a}\n  - {uid: \"1\", name: b}\n", []string{`line 3: accounts[1].uid: duplicate account uid "1" (first at line 2)`}},
		{"duplicate name", "accounts:\n  - {name: a}\n  - {name: a}\n", []string{`accounts[1].name: duplicate account name "a"`}},
		{"voice_service", "accounts:\n  - name: a\n    voice_service: yes\n", []string{`accounts[0].voice_service: "yes" is not true or false`}},
		{"product", "accounts:\n  - name: a\n    products: [tts, fax]\n", []string{`accounts[0].products[1]: "fax" is not a product (notify, tts, ivr, clicktodial, smartcall)`}},
		{"duplicate product", "accounts:\n  - name: a\n    products: [tts, tts]\n", []string{`accounts[0].products[1]: duplicate product "tts"`}},
		{"products scalar", "accounts:\n  - name: a\n    products: tts\n", []string{"accounts[0].products: must be a list, not a scalar"}},
		{"rate limit zero", "accounts:\n  - name: a\n    rate_limits: {SingleCallByTts: 0}\n", []string{"accounts[0].rate_limits.SingleCallByTts: requests per second must be greater than 0"}},
		{"rate limit text", "accounts:\n  - name: a\n    rate_limits: {SingleCallByTts: fast}\n", []string{`accounts[0].rate_limits.SingleCallByTts: "fast" is not a number`}},
		{"rate limit action", "accounts:\n  - name: a\n    rate_limits: {\"no such\": 1}\n", []string{`accounts[0].rate_limits: "no such" is not an API action; the actions are SingleCallByVoice`}},
		{"key id empty", "accounts:\n  - name: a\n    access_keys:\n      - id: \"\"\n        secret: \"0123456789abcdef\"\n", []string{`line 4: accounts[0].access_keys[0].id: "" must be 1 to 128`}},
		{"key id duplicate", "accounts:\n  - name: a\n    access_keys:\n" + key + "  - name: b\n    access_keys:\n" + key,
			[]string{`line 8: accounts[1].access_keys[0].id: duplicate access key id "AK1" (first at line 4)`}},
		{"secret short", "accounts:\n  - name: a\n    access_keys:\n      - id: AK1\n        secret: tooShortSecret\n",
			[]string{"line 5: accounts[0].access_keys[0].secret: must be 16 to 256 characters (it has 14)"}},
		{"secret space", "accounts:\n  - name: a\n    access_keys:\n      - id: AK1\n        secret: \"0123456789 abcdef\"\n",
			[]string{"accounts[0].access_keys[0].secret: must not contain spaces"}},
		{"actions empty", "accounts:\n  - name: a\n    access_keys:\n" + key + "        actions: []\n", []string{"accounts[0].access_keys[0].actions: must not be empty"}},
		{"action blank", "accounts:\n  - name: a\n    access_keys:\n" + key + "        actions: [\"\"]\n", []string{`line 6: accounts[0].access_keys[0].actions[0]: "" is not an API action (or "*")`}},
		{"action duplicate", "accounts:\n  - name: a\n    access_keys:\n" + key + "        actions: [IvrCall, IvrCall]\n", []string{`actions[1]: duplicate action "IvrCall"`}},
		{"enabled", "accounts:\n  - name: a\n    access_keys:\n" + key + "        enabled: 1\n", []string{`accounts[0].access_keys[0].enabled: "1" is not true or false`}},
		{"number short", "accounts:\n  - name: a\n    numbers: [{number: \"12\"}]\n", []string{`accounts[0].numbers[0].number: "12" must be 3 to 20 digits`}},
		{"number letters", "accounts:\n  - name: a\n    numbers: [{number: \"+86abc\"}]\n", []string{`accounts[0].numbers[0].number: "+86abc"`}},
		{"number duplicate", "accounts:\n  - name: a\n    numbers: [{number: \"12345\"}, {number: \"12345\"}]\n", []string{`accounts[0].numbers[1].number: duplicate number "12345"`}},
		{"concurrency", "accounts:\n  - name: a\n    numbers: [{number: \"12345\", concurrency: 0}]\n", []string{"accounts[0].numbers[0].concurrency: must be 1 to 100000"}},
		{"concurrency text", "accounts:\n  - name: a\n    numbers: [{number: \"12345\", concurrency: many}]\n", []string{`accounts[0].numbers[0].concurrency: "many" is not an integer`}},
		{"tts code", "accounts:\n  - name: a\n    tts_templates: [{code: T_1, kind: notification, content: x}]\n", []string{`accounts[0].tts_templates[0].code: "T_1" must be TTS_ followed by`}},
		{"tts kind", "accounts:\n  - name: a\n    tts_templates: [{code: TTS_1, kind: marketing, content: x}]\n", []string{`accounts[0].tts_templates[0].kind: "marketing" must be verification or notification`}},
		{"tts status", "accounts:\n  - name: a\n    tts_templates: [{code: TTS_1, kind: notification, content: x, status: ok}]\n", []string{`tts_templates[0].status: "ok" must be pending, approved or rejected`}},
		{"tts placeholder", "accounts:\n  - name: a\n    tts_templates: [{code: TTS_1, kind: notification, content: \"hi ${name\"}]\n", []string{"accounts[0].tts_templates[0].content: unterminated ${"}},
		{"tts voice", "accounts:\n  - name: a\n    tts_templates: [{code: TTS_1, kind: notification, content: x, voice: \"en us\"}]\n", []string{"accounts[0].tts_templates[0].voice:"}},
		{"tts missing", "accounts:\n  - name: a\n    tts_templates: [{code: TTS_1}]\n", []string{`missing required key "kind"`, `missing required key "content"`}},
		{"voice file ext", "accounts:\n  - name: a\n    voice_files: [{code: a.wav, path: a.ogg, kind: notification}]\n", []string{`accounts[0].voice_files[0].path: "a.ogg" must name a .wav or .mp3 file`}},
		{"voice file kind", "accounts:\n  - name: a\n    voice_files: [{code: a.wav, path: a.wav, kind: ivr}]\n", []string{`accounts[0].voice_files[0].kind: "ivr" must be notification or smartcall`}},
		{"flow control", "accounts:\n  - name: a\n    flow_control: {per_minute: -1, per_week: 3}\n", []string{"accounts[0].flow_control.per_minute: must not be negative", `accounts[0].flow_control: unknown key "per_week"`}},
		{"message type", "accounts:\n  - name: a\n    subscriptions: [{message_type: SmsReport, queue: true}]\n", []string{`subscriptions[0].message_type: "SmsReport" must be VoiceReport, VoiceCallReport or VoiceRecordReport`}},
		{"push url", "accounts:\n  - name: a\n    subscriptions: [{message_type: VoiceReport, push_url: \"ftp://x/y\"}]\n", []string{`accounts[0].subscriptions[0].push_url: "ftp://x/y" is not an http:// or https:// URL`}},
		{"nowhere", "accounts:\n  - name: a\n    subscriptions: [{message_type: VoiceReport}]\n", []string{"accounts[0].subscriptions[0]: delivers nowhere"}},
		{"push secret alone", "accounts:\n  - name: a\n    subscriptions: [{message_type: VoiceReport, queue: true, push_secret: x}]\n", []string{"subscriptions[0].push_secret: needs a push_url"}},
		{"duplicate subscription", "accounts:\n  - name: a\n    subscriptions: [{message_type: VoiceReport, queue: true}, {message_type: VoiceReport, queue: true}]\n", []string{`duplicate subscription for "VoiceReport"`}},
		{"callback url", "accounts:\n  - name: a\n    smartcall_callback_url: \"localhost:9998\"\n", []string{"accounts[0].smartcall_callback_url:"}},
		{"time scale", "network:\n  time_scale: 0\n", []string{"line 2: network.time_scale: must be greater than 0"}},
		{"time scale text", "network:\n  time_scale: fast\n", []string{`network.time_scale: "fast" is not a number`}},
		{"result", "network:\n  subscribers:\n    - number: \"13800000001\"\n      result: engaged\n",
			[]string{`line 4: network.subscribers[0].result: "engaged" is not one of answer, busy, no_answer, rejected, powered_off, suspended, invalid, unreachable`}},
		{"duration unit", "network:\n  default:\n    answer_after: 2\n", []string{`line 3: network.default.answer_after: "2" is not a duration`}},
		{"duration negative", "network:\n  default:\n    hangup_after: -1s\n", []string{`network.default.hangup_after: "-1s" must not be negative`}},
		{"subscriber number", "network:\n  subscribers:\n    - result: busy\n", []string{`network.subscribers[0]: missing required key "number"`}},
		{"subscriber duplicate", "network:\n  subscribers:\n    - number: \"13800000001\"\n    - number: \"13800000001\"\n", []string{`network.subscribers[1].number: duplicate subscriber "13800000001"`}},
		{"answer_after with busy", "network:\n  subscribers:\n    - {number: \"13800000001\", result: busy, answer_after: 1s}\n", []string{"network.subscribers[0]: answer_after only applies when result is answer, not busy"}},
		{"ring with answer", "network:\n  default: {result: answer, ring: 3s}\n", []string{"network.default: ring only applies"}},
		{"dtmf both", "network:\n  default:\n    dtmf: [{after_prompt: 1, at: 2s, digits: \"1\"}]\n", []string{"network.default.dtmf[0]: set exactly one of after_prompt and at"}},
		{"dtmf digits", "network:\n  default:\n    dtmf: [{after_prompt: 0, digits: \"x\"}]\n", []string{"network.default.dtmf[0].after_prompt: must be at least 1", `network.default.dtmf[0].digits: "x" must be 1 to 32`}},
		{"say empty", "network:\n  default:\n    say: [\"\"]\n", []string{"network.default.say[0]: must not be empty"}},
		{"say mapping", "network:\n  default:\n    say: [{a: b}]\n", []string{"network.default.say[0]: must be a single value, not a mapping"}},
		{"alias loop", "network: &n\n  default: *n\n", []string{"network.default:"}},
		{"merge loop", "network: &a\n  <<: *a\n", []string{"merge keys (<<) nested too deeply"}},
		{"egress_allow metadata", "egress_allow: [127.0.0.1, 169.254.169.254]\n", []string{`line 1: egress_allow[1]: egress allow entry "169.254.169.254" lies inside 169.254.169.254/32 (metadata), which is always refused`}},
		{"egress_allow spelling", "egress_allow:\n  - 0177.0.0.1\n", []string{`line 2: egress_allow[0]: egress allow entry "0177.0.0.1" is an address in an unusual spelling: write it as 127.0.0.1`}},
		{"egress_allow empty", "egress_allow: [\"\"]\n", []string{`egress_allow[0]: must not be empty`}},
		{"egress_allow not list", "egress_allow: 127.0.0.1\n", []string{`egress_allow: must be a list`}},
		{"push secret grace", "accounts:\n  - name: a\n    subscriptions:\n      - {message_type: VoiceReport, push_url: \"https://x.example/\", push_secret: s, push_secret_grace: 200h}\n",
			[]string{`line 4: accounts[0].subscriptions[0].push_secret_grace: must be at most 168h0m0s (7 days)`}},
		{"callback secret without URL", "accounts:\n  - name: a\n    smartcall_callback_secret: s\n", []string{`accounts[0].smartcall_callback_secret: needs a smartcall_callback_url`}},
		{"callback secret empty", "accounts:\n  - name: a\n    smartcall_callback_url: \"https://x.example/\"\n    smartcall_callback_secret: \"\"\n", []string{`line 4: accounts[0].smartcall_callback_secret: must not be empty`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := Parse([]byte(tt.in), "")
			if err == nil {
				t.Fatalf("accepted: %+v", doc)
			}
			var perr *Error
			if !errors.As(err, &perr) || len(perr.Problems) == 0 {
				t.Fatalf("error %T %v is not a *provision.Error with problems", err, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not contain %q:\n%v", w, err)
				}
			}
		})
	}
}

// Every problem is reported, not only the first.
func TestParseCollectsAllErrors(t *testing.T) {
	_, err := Parse([]byte(`
accounts:
  - uid: x
    name: a
    status: actve
    access_keys:
      - id: AK1
        secret: short
network:
  time_scale: -1
  subscribers:
    - number: "1"
`), "")
	var perr *Error
	if !errors.As(err, &perr) {
		t.Fatalf("err = %v", err)
	}
	if len(perr.Problems) != 5 {
		t.Errorf("got %d problems, want 5:\n%v", len(perr.Problems), err)
	}
	for i := 1; i < len(perr.Problems); i++ {
		if perr.Problems[i].Line < perr.Problems[i-1].Line {
			t.Errorf("problems not in line order:\n%v", err)
		}
	}
}

// Secrets must never appear in messages, whatever is wrong with them.
func TestParseErrorsHideSecrets(t *testing.T) {
	for _, in := range []string{
		"accounts:\n  - name: a\n    access_keys:\n      - id: AK1\n        secret: hunter2secretX\n",
		"accounts:\n  - name: a\n    access_keys:\n      - id: AK1\n        secret: \"hunter2secretX hunter2secretX\"\n",
		"accounts:\n  - name: a\n    subscriptions: [{message_type: VoiceReport, queue: true, push_secret: hunter2secretX}]\n",
	} {
		_, err := Parse([]byte(in), "")
		if err == nil {
			t.Fatalf("accepted %q", in)
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("error shows the secret: %v", err)
		}
	}
}

func TestParseAliasBomb(t *testing.T) {
	// 100 accounts x 100 keys x 1000 actions: 10^7 nodes after expansion
	// from a file of a few kilobytes. The walk must stop at its budget.
	acts := strings.TrimSuffix(strings.Repeat("A,", 1000), ",")
	keys := strings.TrimSuffix(strings.Repeat("*k,", 100), ",")
	accts := strings.TrimSuffix(strings.Repeat("*a,", 100), ",")
	in := "l: &l [" + acts + "]\n" +
		"k: &k {id: K, secret: \"0123456789abcdef\", actions: *l}\n" +
		"a: &a {name: n, access_keys: [" + keys + "]}\n" +
		"accounts: [" + accts + "]\n"
	start := time.Now()
	_, err := Parse([]byte(in), "")
	if err == nil {
		t.Fatal("accepted")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
	var perr *Error
	if !errors.As(err, &perr) || len(perr.Problems) > maxProblems+1 {
		t.Errorf("%d problems, want at most %d", len(perr.Problems), maxProblems+1)
	}
	t.Logf("%v, %d problems, last: %v", time.Since(start), len(perr.Problems), perr.Problems[len(perr.Problems)-1])
}
