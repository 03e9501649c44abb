package vms_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/gateway"
	"github.com/dialtone-voice/dialtone/poptest"
	"github.com/dialtone-voice/dialtone/secret"
	"github.com/dialtone-voice/dialtone/sqlite"
	"github.com/dialtone-voice/dialtone/vms"
)

const (
	uidA = "1100000000000001"
	uidB = "2200000000000002"
	keyA = "LTAIvmsA000000000001"
	keyB = "LTAIvmsB000000000001"
	sec  = "vmsSecret0000000000000000000001"
)

type fixture struct {
	t      *testing.T
	dbPath string
	store  dialtone.Store
	srv    *httptest.Server
	a, b   *poptest.Signer
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	sealer, _ := secret.NewSealer(make([]byte, 32))
	dbPath := filepath.Join(t.TempDir(), "db")
	st, err := sqlite.Open(context.Background(), dbPath, sealer)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	now := time.Now()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	high := map[string]float64{}
	for _, a := range []string{"SingleCallByTts", "SingleCallByVoice", "IvrCall", "ClickToDial", "CancelCall", "SmartCall", "SmartCallOperate", "QueryCallDetailByCallId"} {
		high[a] = 1e6
	}
	for _, uid := range []string{uidA, uidB} {
		must(st.PutAccount(ctx, &dialtone.Account{UID: uid, Name: uid, Status: dialtone.AccountActive, VoiceService: true, RateLimits: high, CreatedAt: now}))
	}
	must(st.PutAccessKey(ctx, &dialtone.AccessKey{ID: keyA, AccountUID: uidA, Secret: sec, Enabled: true, CreatedAt: now}))
	must(st.PutAccessKey(ctx, &dialtone.AccessKey{ID: keyB, AccountUID: uidB, Secret: sec, Enabled: true, CreatedAt: now}))
	must(st.PutNumber(ctx, &dialtone.Number{AccountUID: uidA, Number: "057188880000", Concurrency: 10, CreatedAt: now}))
	must(st.PutNumber(ctx, &dialtone.Number{AccountUID: uidA, Number: "057188880001", Concurrency: 10, CreatedAt: now}))
	must(st.PutNumber(ctx, &dialtone.Number{AccountUID: uidB, Number: "057199990000", Concurrency: 10, CreatedAt: now}))
	tmpl := func(uid, code string, kind dialtone.TemplateKind, content string, status dialtone.ReviewStatus) {
		must(st.PutTemplate(ctx, &dialtone.TTSTemplate{AccountUID: uid, Code: code, Kind: kind, Content: content, Status: status, CreatedAt: now, UpdatedAt: now}))
	}
	tmpl(uidA, "TTS_100001", dialtone.TemplateVerification, "您的验证码是${code}，5分钟内有效。", dialtone.ReviewApproved)
	tmpl(uidA, "TTS_100002", dialtone.TemplateNotification, "Hello ${name}, your order ${order} has shipped.", dialtone.ReviewApproved)
	tmpl(uidA, "TTS_100003", dialtone.TemplateNotification, "Pending ${x}", dialtone.ReviewPending)
	tmpl(uidA, "TTS_100004", dialtone.TemplateNotification, "Goodbye.", dialtone.ReviewApproved)
	tmpl(uidB, "TTS_200001", dialtone.TemplateNotification, "Other account ${x}", dialtone.ReviewApproved)
	vf := func(uid, code string, kind dialtone.VoiceFileKind, status dialtone.ReviewStatus) {
		must(st.PutVoiceFile(ctx, &dialtone.VoiceFile{AccountUID: uid, Code: code, Kind: kind, Status: status, StoredPath: "voice/" + uid + "/" + code, Format: "wav", Duration: time.Second, CreatedAt: now}))
	}
	vf(uidA, "welcome.wav", dialtone.VoiceFileNotification, dialtone.ReviewApproved)
	vf(uidA, "pending.wav", dialtone.VoiceFileNotification, dialtone.ReviewPending)
	vf(uidA, "smart.wav", dialtone.VoiceFileSmartCall, dialtone.ReviewApproved)
	vf(uidB, "other.wav", dialtone.VoiceFileNotification, dialtone.ReviewApproved)
	must(st.PutAccountSettings(ctx, "", &dialtone.AccountSettings{FlowControl: dialtone.DefaultFlowControl, Blacklist: []string{"赌博"}}))
	must(st.PutAccountSettings(ctx, uidA, &dialtone.AccountSettings{FlowControl: dialtone.DefaultFlowControl, Blacklist: []string{"casino"},
		SmartCallCallbackURL: "http://127.0.0.1:9/smartcall"}))
	g := gateway.New(gateway.Config{Store: st})
	(&vms.Service{Store: st}).Register(g)
	f := &fixture{t: t, dbPath: dbPath, store: st, srv: httptest.NewServer(g)}
	t.Cleanup(func() { f.srv.Close(); st.Close() })
	f.a = &poptest.Signer{Endpoint: f.srv.URL, AccessKeyID: keyA, Secret: sec}
	f.b = &poptest.Signer{Endpoint: f.srv.URL, AccessKeyID: keyB, Secret: sec}
	return f
}

func (f *fixture) call(s *poptest.Signer, action string, params map[string]string) (int, map[string]any) {
	f.t.Helper()
	resp, err := http.DefaultClient.Do(s.V3(action, params))
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var body map[string]any
	if err := json.Unmarshal(b, &body); err != nil {
		f.t.Fatalf("%s: not JSON: %s", action, b)
	}
	return resp.StatusCode, body
}

func (f *fixture) expect(s *poptest.Signer, action string, params map[string]string, code string, msgFragment string) map[string]any {
	f.t.Helper()
	status, body := f.call(s, action, params)
	if status != 200 || body["Code"] != code {
		f.t.Fatalf("%s %v: got %d %v, want %s", action, params, status, body, code)
	}
	if msgFragment != "" && !strings.Contains(body["Message"].(string), msgFragment) {
		f.t.Fatalf("%s: message %q lacks %q", action, body["Message"], msgFragment)
	}
	return body
}

func merge(base map[string]string, kv ...string) map[string]string {
	out := map[string]string{}
	for k, v := range base {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "<delete>" {
			delete(out, kv[i])
		} else {
			out[kv[i]] = kv[i+1]
		}
	}
	return out
}

var tts = map[string]string{"CalledNumber": "13800000001", "CalledShowNumber": "057188880000", "TtsCode": "TTS_100001", "TtsParam": `{"code":"1234"}`}

func TestSingleCallByTtsAcceptedAndStored(t *testing.T) {
	f := newFixture(t)
	body := f.expect(f.a, "SingleCallByTts", merge(tts, "OutId", "order-42", "PlayTimes", "2", "Speed", "-100"), "OK", "")
	id := body["CallId"].(string)
	if parts := strings.Split(id, "^"); len(parts) != 2 || strings.Trim(parts[0]+parts[1], "0123456789") != "" {
		t.Fatalf("CallId %q is not <digits>^<digits>", id)
	}
	c, err := f.store.GetCall(context.Background(), uidA, id)
	if err != nil {
		t.Fatal(err)
	}
	if c.Kind != dialtone.KindTTS || c.ProdID != dialtone.ProdVerificationCode || c.Callee != "13800000001" || c.OutID != "order-42" || c.State != dialtone.CallQueued {
		t.Fatalf("stored call %+v", c)
	}
	plan, err := dialtone.DecodePlan(c)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Prompt) != 1 || plan.Prompt[0].Text != "您的验证码是1234，5分钟内有效。" || !plan.Prompt[0].Verification || plan.PlayTimes != 2 || plan.Speed != -100 || plan.Volume != 100 {
		t.Fatalf("plan %+v", plan)
	}
	// The other account cannot see it.
	if _, err := f.store.GetCall(context.Background(), uidB, id); err == nil {
		t.Fatal("call visible to another account")
	}
	// Notification template: the voice-notification ProdId; PlayTimes defaults to 3.
	body = f.expect(f.a, "SingleCallByTts", merge(tts, "CalledNumber", "13800000002", "TtsCode", "TTS_100002", "TtsParam", `{name:'Ann',order:'A-1'}`), "OK", "")
	c, _ = f.store.GetCall(context.Background(), uidA, body["CallId"].(string))
	plan, _ = dialtone.DecodePlan(c)
	if c.ProdID != dialtone.ProdVoiceNotify || plan.PlayTimes != 3 || plan.Prompt[0].Text != "Hello Ann, your order A-1 has shipped." {
		t.Fatalf("notification call %+v plan %+v", c, plan)
	}
	// An empty display number picks the account's first number.
	body = f.expect(f.a, "SingleCallByTts", merge(tts, "CalledNumber", "13800000003", "CalledShowNumber", "<delete>"), "OK", "")
	c, _ = f.store.GetCall(context.Background(), uidA, body["CallId"].(string))
	if c.CallerShowNumber != "057188880000" {
		t.Fatalf("public-mode display number %q", c.CallerShowNumber)
	}
}

func TestBusinessErrorCodes(t *testing.T) {
	f := newFixture(t)
	cases := []struct {
		name   string
		action string
		params map[string]string
		code   string
		frag   string
	}{
		{"unknown template", "SingleCallByTts", merge(tts, "TtsCode", "TTS_999999"), "isv.TTS_TEMPLATE_ILLEGAL", "TTS_999999"},
		{"pending template", "SingleCallByTts", merge(tts, "TtsCode", "TTS_100003", "TtsParam", `{"x":"1"}`), "isv.TTS_TEMPLATE_ILLEGAL", "pending"},
		{"other account's template", "SingleCallByTts", merge(tts, "TtsCode", "TTS_200001", "TtsParam", `{"x":"1"}`), "isv.TTS_TEMPLATE_ILLEGAL", "TTS_200001"},
		{"malformed display number", "SingleCallByTts", merge(tts, "CalledShowNumber", "0571-abc"), "isv.DISPLAY_NUMBER_ILLEGAL", "CalledShowNumber"},
		{"other account's display number", "SingleCallByTts", merge(tts, "CalledShowNumber", "057199990000"), "isv.DISPLAY_NUMBER_ILLEGAL", "not a number of this account"},
		{"missing variable", "SingleCallByTts", merge(tts, "TtsParam", `{"other":"1"}`), "isv.TEMPLATE_MISSING_PARAMETERS", "code"},
		{"no TtsParam", "SingleCallByTts", merge(tts, "TtsParam", "<delete>"), "isv.TEMPLATE_MISSING_PARAMETERS", "code"},
		{"global blacklist", "SingleCallByTts", merge(tts, "TtsCode", "TTS_100002", "TtsParam", `{"name":"网上赌博","order":"1"}`), "isv.BLACK_KEY_CONTROL_LIMIT", "name"},
		{"account blacklist", "SingleCallByTts", merge(tts, "TtsCode", "TTS_100002", "TtsParam", `{"name":"Big CASINO","order":"1"}`), "isv.BLACK_KEY_CONTROL_LIMIT", "name"},
		{"malformed JSON", "SingleCallByTts", merge(tts, "TtsParam", `{"code":1234`), "isv.INVALID_PARAMETERS", "TtsParam"},
		{"nested JSON", "SingleCallByTts", merge(tts, "TtsParam", `{"code":{"a":1}}`), "isv.INVALID_PARAMETERS", "objects"},
		{"PlayTimes 4", "SingleCallByTts", merge(tts, "PlayTimes", "4"), "isv.INVALID_PARAMETERS", "PlayTimes"},
		{"Volume 101", "SingleCallByTts", merge(tts, "Volume", "101"), "isv.INVALID_PARAMETERS", "Volume"},
		{"Speed -501", "SingleCallByTts", merge(tts, "Speed", "-501"), "isv.INVALID_PARAMETERS", "Speed"},
		{"Speed not a number", "SingleCallByTts", merge(tts, "Speed", "fast"), "isv.INVALID_PARAMETERS", "Speed"},
		{"URL in variable", "SingleCallByTts", merge(tts, "TtsCode", "TTS_100002", "TtsParam", `{"name":"see http://evil.example","order":"1"}`), "isv.PARAM_NOT_SUPPORT_URL", "name"},
		{"bare domain in variable", "SingleCallByTts", merge(tts, "TtsCode", "TTS_100002", "TtsParam", `{"name":"visit evil.com now","order":"1"}`), "isv.PARAM_NOT_SUPPORT_URL", "name"},
		{"bad callee", "SingleCallByTts", merge(tts, "CalledNumber", "138abc"), "isv.MOBILE_NUMBER_ILLEGAL", "CalledNumber"},
		{"two callees", "SingleCallByTts", merge(tts, "CalledNumber", "13800000001,13800000002"), "isv.MOBILE_NUMBER_ILLEGAL", "one number"},
		{"OutId too long", "SingleCallByTts", merge(tts, "OutId", "0123456789abcdef"), "isv.PARAM_LENGTH_LIMIT", "OutId"},
		{"variables too long", "SingleCallByTts", merge(tts, "TtsCode", "TTS_100002", "TtsParam", `{"name":"`+strings.Repeat("a", 250)+`","order":"1"}`), "isv.PARAM_LENGTH_LIMIT", "250"},
		{"verification code with symbols", "SingleCallByTts", merge(tts, "TtsParam", `{"code":"12-34"}`), "isv.TEMPLATE_PARAMS_ILLEGAL", "code"},
		{"unknown voice file", "SingleCallByVoice", map[string]string{"CalledNumber": "13800000001", "VoiceCode": "nope.wav"}, "isv.VOICE_FILE_ILLEGAL", "nope.wav"},
		{"pending voice file", "SingleCallByVoice", map[string]string{"CalledNumber": "13800000001", "VoiceCode": "pending.wav"}, "isv.VOICE_FILE_ILLEGAL", "pending"},
		{"other account's voice file", "SingleCallByVoice", map[string]string{"CalledNumber": "13800000001", "VoiceCode": "other.wav"}, "isv.VOICE_FILE_ILLEGAL", "other.wav"},
		{"smart-call file in a notification", "SingleCallByVoice", map[string]string{"CalledNumber": "13800000001", "VoiceCode": "smart.wav"}, "isv.VOICE_FILE_ILLEGAL", "smartcall"},
		{"voice URL", "SingleCallByVoice", map[string]string{"CalledNumber": "13800000001", "VoiceCode": "http://example.com/a.wav"}, "isv.PARAM_NOT_SUPPORT_URL", "VoiceCode"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f.t = t
			f.expect(f.a, c.action, c.params, c.code, c.frag)
		})
	}
	f.t = t
	// None of the refused requests created a call.
	calls, err := f.store.ListCalls(context.Background(), dialtone.CallFilter{AccountUID: uidA})
	if err != nil || len(calls) != 0 {
		t.Fatalf("refused requests left %d calls (%v)", len(calls), err)
	}
}

func TestMissingParametersAreGatewayErrors(t *testing.T) {
	f := newFixture(t)
	for action, missing := range map[string]string{
		"SingleCallByTts":   "TtsCode",
		"SingleCallByVoice": "VoiceCode",
		"IvrCall":           "CalledShowNumber",
		"ClickToDial":       "CallerShowNumber",
		"CancelCall":        "CallId",
		"SmartCall":         "CalledShowNumber",
		"SmartCallOperate":  "CallId",
	} {
		status, body := f.call(f.a, action, map[string]string{"CalledNumber": "13800000001"})
		if status != 400 || body["Code"] != "Missing"+missing {
			t.Errorf("%s: %d %v, want 400 Missing%s", action, status, body, missing)
		}
	}
}

func TestFlowControl(t *testing.T) {
	f := newFixture(t)
	p := merge(tts, "CalledNumber", "13900000009")
	// A refused request does not count: an invalid one first.
	f.expect(f.a, "SingleCallByTts", merge(p, "PlayTimes", "9"), "isv.INVALID_PARAMETERS", "")
	f.expect(f.a, "SingleCallByTts", p, "OK", "")
	body := f.expect(f.a, "SingleCallByTts", p, "isv.BUSINESS_LIMIT_CONTROL", "分钟")
	if !strings.Contains(body["Message"].(string), "13900000009") {
		t.Fatalf("message %v", body["Message"])
	}
	// Other callees and other accounts are not limited by it.
	f.expect(f.a, "SingleCallByTts", merge(p, "CalledNumber", "13900000008"), "OK", "")
	// Per-account limits from settings: 0 per minute means unlimited.
	ctx := context.Background()
	st, _ := f.store.GetAccountSettings(ctx, uidA)
	st.FlowControl = dialtone.FlowControl{PerMinute: 0, PerHour: 2, PerDay: 20}
	if err := f.store.PutAccountSettings(ctx, uidA, st); err != nil {
		t.Fatal(err)
	}
	f.expect(f.a, "SingleCallByTts", p, "OK", "")
	f.expect(f.a, "SingleCallByTts", p, "isv.BUSINESS_LIMIT_CONTROL", "小时")
}

func TestSystemErrorLeaksNothing(t *testing.T) {
	f := newFixture(t)
	// Closing the store makes every query fail: authentication fails first
	// with the gateway's InternalError; no SQL text escapes.
	f.store.Close()
	status, body := f.call(f.a, "SingleCallByTts", tts)
	if status != 500 || body["Code"] != "InternalError" {
		t.Fatalf("%d %v", status, body)
	}
	if msg := body["Message"].(string); strings.Contains(strings.ToLower(msg), "sql") || strings.Contains(msg, "closed") {
		t.Fatalf("internal detail leaked: %s", msg)
	}
}

var ivr = map[string]string{
	"CalledNumber": "13800000001", "CalledShowNumber": "057188880000",
	"StartCode": "TTS_100002", "StartTtsParams": `{"name":"Ann","order":"A-1"}`,
	"MenuKeyMap.1.Key": "1", "MenuKeyMap.1.Code": "TTS_100004",
	"MenuKeyMap.2.Key": "2", "MenuKeyMap.2.Code": "welcome.wav",
	"ByeCode": "TTS_100004", "Timeout": "3000", "PlayTimes": "2",
}

func TestIvrCall(t *testing.T) {
	f := newFixture(t)
	body := f.expect(f.a, "IvrCall", ivr, "OK", "")
	c, _ := f.store.GetCall(context.Background(), uidA, body["CallId"].(string))
	plan, _ := dialtone.DecodePlan(c)
	if c.ProdID != dialtone.ProdIVR || len(plan.Menu) != 2 || plan.Menu[1].Prompt[0].FileCode != "welcome.wav" || plan.DTMFTimeout != 3*time.Second || len(plan.Bye) != 1 || plan.PlayTimes != 2 {
		t.Fatalf("plan %+v", plan)
	}
	// The seed document's IvrCall sample passes StartTtsParams with mixed
	// quotes, and no MenuKeyMap.
	f.expect(f.a, "IvrCall", merge(ivr, "CalledNumber", "13800000005", "StartTtsParams", `{"name':'aliyun','order':'123'}`), "OK", "")
	f.expect(f.a, "IvrCall", merge(ivr, "CalledNumber", "13800000007", "MenuKeyMap.1.Key", "<delete>", "MenuKeyMap.1.Code", "<delete>",
		"MenuKeyMap.2.Key", "<delete>", "MenuKeyMap.2.Code", "<delete>"), "OK", "")
	many := merge(ivr, "CalledNumber", "13800000006")
	for i := 1; i <= 16; i++ {
		many["MenuKeyMap."+itoa(i)+".Key"] = string("0123456789*#ABCD"[i-1])
		many["MenuKeyMap."+itoa(i)+".Code"] = "TTS_100004"
	}
	bad := []struct {
		params map[string]string
		code   string
		frag   string
	}{
		{many, "isv.INVALID_PARAMETERS", "at most 15"},
		{merge(ivr, "MenuKeyMap.2.Key", "1"), "isv.INVALID_PARAMETERS", "used by another item"},
		{merge(ivr, "MenuKeyMap.2.Key", "12"), "isv.INVALID_PARAMETERS", "MenuKeyMap.2.Key"},
		{merge(ivr, "MenuKeyMap.1.Key", "<delete>", "MenuKeyMap.1.Code", "<delete>"), "isv.INVALID_PARAMETERS", "item 1 is missing"},
		{merge(ivr, "ByeCode", "welcome.wav"), "isv.INVALID_PARAMETERS", "same kind"},
		{merge(ivr, "StartTtsParams", `{"name":"Ann"}`), "isv.TEMPLATE_MISSING_PARAMETERS", "order"},
		{merge(ivr, "MenuKeyMap.2.Code", "missing.wav"), "isv.VOICE_FILE_ILLEGAL", "MenuKeyMap.2.Code"},
		{merge(ivr, "CalledNumber", "85200000000"), "isv.MOBILE_NUMBER_ILLEGAL", "mainland"},
		{merge(ivr, "Timeout", "-1"), "isv.INVALID_PARAMETERS", "Timeout"},
		{merge(ivr, "CalledShowNumber", "057199990000"), "isv.DISPLAY_NUMBER_ILLEGAL", ""},
	}
	for _, c := range bad {
		f.expect(f.a, "IvrCall", c.params, c.code, c.frag)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

var c2d = map[string]string{"CallerShowNumber": "057188880000", "CallerNumber": "13800000001", "CalledShowNumber": "057188880001", "CalledNumber": "13800000002",
	"RecordFlag": "true", "SessionTimeout": "120"}

func TestClickToDialAndCancel(t *testing.T) {
	f := newFixture(t)
	body := f.expect(f.a, "ClickToDial", c2d, "OK", "")
	id := body["CallId"].(string)
	c, _ := f.store.GetCall(context.Background(), uidA, id)
	plan, _ := dialtone.DecodePlan(c)
	if c.Kind != dialtone.KindClickToDial || c.ProdID != dialtone.ProdClickToDial || c.Caller != "13800000001" || c.CalleeShowNumber != "057188880001" || !plan.Record || plan.SessionTimeout != 2*time.Minute {
		t.Fatalf("call %+v plan %+v", c, plan)
	}
	for _, bad := range []struct {
		p    map[string]string
		code string
	}{
		{merge(c2d, "CalledNumber", "13800000001"), "isv.INVALID_PARAMETERS"},
		{merge(c2d, "CallerShowNumber", "057199990000"), "isv.DISPLAY_NUMBER_ILLEGAL"},
		{merge(c2d, "CallerNumber", "1380000"), "isv.MOBILE_NUMBER_ILLEGAL"},
		{merge(c2d, "RecordFlag", "yes"), "isv.INVALID_PARAMETERS"},
		{merge(c2d, "SessionTimeout", "0"), "isv.INVALID_PARAMETERS"},
	} {
		f.expect(f.a, "ClickToDial", bad.p, bad.code, "")
	}
	// CancelCall: another account's call id is unknown to it.
	f.expect(f.b, "CancelCall", map[string]string{"CallId": id}, "isv.INVALID_PARAMETERS", "not a call of this account")
	tb := f.expect(f.a, "SingleCallByTts", merge(tts, "CalledNumber", "13800000007"), "OK", "")
	f.expect(f.a, "CancelCall", map[string]string{"CallId": tb["CallId"].(string)}, "isv.INVALID_PARAMETERS", "ClickToDial")
}

var smart = map[string]string{"CalledNumber": "13800000003", "CalledShowNumber": "057188880000", "VoiceCode": "smart.wav,$greeting$",
	"VoiceCodeParam": `{"greeting":"你好"}`, "PauseTime": "5000", "MuteTime": "2000", "ActionCodeBreak": "false", "DynamicId": "v1_start"}

func TestSmartCall(t *testing.T) {
	f := newFixture(t)
	body := f.expect(f.a, "SmartCall", smart, "OK", "")
	c, _ := f.store.GetCall(context.Background(), uidA, body["CallId"].(string))
	plan, _ := dialtone.DecodePlan(c)
	sp := plan.Smart
	if c.ProdID != dialtone.ProdSmartCall || len(plan.Prompt) != 2 || plan.Prompt[1].Text != "你好" || sp.PauseTime != 800*time.Millisecond ||
		sp.MuteTime != 2*time.Second || sp.ActionCodeBreak || sp.DynamicID != "v1_start" || sp.CallbackURL != "http://127.0.0.1:9/smartcall" || sp.AsrBaseID != "customer_service_8k" {
		t.Fatalf("plan %+v smart %+v", plan, sp)
	}
	f.expect(f.a, "SmartCall", merge(smart, "VoiceCodeParam", "<delete>"), "isv.TEMPLATE_MISSING_PARAMETERS", "$greeting$")
	f.expect(f.a, "SmartCall", merge(smart, "Volume", "5"), "isv.INVALID_PARAMETERS", "Volume")
	f.expect(f.a, "SmartCall", merge(smart, "AsrBaseId", "klingon"), "isv.INVALID_PARAMETERS", "AsrBaseId")
	f.expect(f.a, "SmartCall", merge(smart, "SessionTimeout", "3601"), "isv.INVALID_PARAMETERS", "SessionTimeout")
	// Account B has no callback URL.
	f.expect(f.b, "SmartCall", merge(smart, "CalledShowNumber", "057199990000", "VoiceCode", "other.wav"), "isv.INVALID_PARAMETERS", "callback URL")
	f.expect(f.a, "SmartCallOperate", map[string]string{"CallId": body["CallId"].(string), "Command": "hangup"}, "isv.INVALID_PARAMETERS", "parallelBridge")
}

func TestFeatureNotActivated(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	a, _ := f.store.GetAccount(ctx, uidA)
	a.Features = []dialtone.Feature{dialtone.FeatureTTS}
	if err := f.store.PutAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	f.expect(f.a, "IvrCall", ivr, "isv.PRODUCT_UNSUBSCRIBE", "ivr")
	f.expect(f.a, "ClickToDial", c2d, "isv.PRODUCT_UNSUBSCRIBE", "clicktodial")
	f.expect(f.a, "SingleCallByTts", tts, "OK", "")
}

// TestSystemErrorFromAStoreFault: the calls table vanishes under a running
// server (a real storage fault, made through a second connection to the
// database file). Authentication still works, the action's insert fails,
// and the caller gets isp.SYSTEM_ERROR with no internal detail.
func TestSystemErrorFromAStoreFault(t *testing.T) {
	f := newFixture(t)
	db, err := sql.Open("sqlite", f.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("PRAGMA busy_timeout=5000; ALTER TABLE calls RENAME TO calls_lost"); err != nil {
		t.Fatal(err)
	}
	status, body := f.call(f.a, "SingleCallByTts", merge(tts, "CalledNumber", "13800000099"))
	if status != 200 || body["Code"] != "isp.SYSTEM_ERROR" {
		t.Fatalf("%d %v", status, body)
	}
	msg := strings.ToLower(body["Message"].(string))
	for _, leak := range []string{"sql", "calls", "table", "no such"} {
		if strings.Contains(msg, leak) {
			t.Fatalf("message leaks %q: %s", leak, msg)
		}
	}
}
