package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/gateway"
	"github.com/dialtone-voice/dialtone/media"
	"github.com/dialtone-voice/dialtone/poptest"
	"github.com/dialtone-voice/dialtone/resource"
	"github.com/dialtone-voice/dialtone/vms"
)

const (
	resA    = "3300000000000001"
	resB    = "4400000000000002"
	resNone = "5500000000000003" // valid UID, no such account
	resKey  = "LTAIres0000000000001"
	resKeyB = "LTAIres0000000000002"
	resSec  = "resSecret000000000000000000001"
)

// newResEnv serves the admin API with real voice-file import into a
// temporary data directory, over two accounts A and B.
func newResEnv(t *testing.T) *env {
	t.Helper()
	e := newEnv(t, token)
	dataDir := t.TempDir()
	logger := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e.h = New(resource.New(e.store, dataDir, logger), TokenList(token), logger)
	ctx := context.Background()
	high := map[string]float64{"SingleCallByVoice": 1e6, "SingleCallByTts": 1e6}
	for _, uid := range []string{resA, resB} {
		if err := e.store.PutAccount(ctx, &dialtone.Account{UID: uid, Name: uid, Status: dialtone.AccountActive, VoiceService: true,
			RateLimits: high, CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// testWAV is a 16 kHz mono WAV of a 440 Hz tone (silent when amp is 0).
func testWAV(t *testing.T, d time.Duration, amp float64) string {
	t.Helper()
	const rate = 16000
	s := make([]int16, int(d.Seconds()*rate))
	for i := range s {
		s[i] = int16(amp * math.Sin(2*math.Pi*440*float64(i)/rate))
	}
	var b bytes.Buffer
	if err := media.EncodeWAV(&b, s, rate, 1); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func (r response) want(t *testing.T, status int, v any) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, r.body)
	}
	if v != nil {
		r.decode(t, v)
	}
}

// wantField checks a 400 whose message names the field.
func (r response) wantField(t *testing.T, field string) {
	t.Helper()
	er := r.wantError(t, 400, CodeInvalidRequest)
	if !strings.Contains(er.Message, field) {
		t.Fatalf("message %q does not name %q", er.Message, field)
	}
}

func TestNumbers(t *testing.T) {
	e := newResEnv(t)
	base := "/admin/v1/accounts/" + resA + "/numbers"
	r := e.do("GET", base, "")
	if r.status != 200 || strings.TrimSpace(r.body) != `{"numbers":[]}` {
		t.Fatalf("empty list: %d %s", r.status, r.body)
	}
	var n dialtone.Number
	e.do("POST", base, `{"number":"057188880000"}`).want(t, 201, &n)
	if n.Number != "057188880000" || n.Concurrency != 10 || n.CreatedAt.IsZero() {
		t.Fatalf("created %+v", n)
	}
	e.do("POST", base, `{"number":"+8657188880001","concurrency":3}`).want(t, 201, &n)
	if n.Concurrency != 3 {
		t.Fatalf("created %+v", n)
	}
	for _, bad := range []string{`"12"`, `"12345678901234567890123"`, `"0571-8888"`, `"+"`, `""`, `"abc"`, `5712345`} {
		e.do("POST", base, `{"number":`+bad+`}`).wantField(t, "number")
	}
	e.do("POST", base, `{"concurrency":2}`).wantField(t, "number")
	e.do("POST", base, `{"number":"057100000001","concurrency":0}`).wantField(t, "concurrency")
	e.do("POST", base, `{"number":"057100000001","concurrency":1.5}`).wantField(t, "concurrency")
	e.do("POST", base, `{"number":"057100000001","cap":2}`).wantField(t, "cap")
	e.do("POST", base, ``).wantError(t, 400, CodeInvalidRequest)
	e.do("POST", base, `{"number":"057188880000","concurrency":99}`).wantError(t, 409, CodeConflict)

	var list struct{ Numbers []dialtone.Number }
	e.do("GET", base, "").want(t, 200, &list)
	if len(list.Numbers) != 2 || list.Numbers[0].Number != "+8657188880001" || list.Numbers[1].Concurrency != 10 {
		t.Fatalf("list %+v", list)
	}
	e.do("GET", base+"/057188880000", "").want(t, 200, &n)
	if n.Concurrency != 10 {
		t.Fatalf("get %+v", n)
	}
	e.do("PATCH", base+"/057188880000", `{"concurrency":25}`).want(t, 200, &n)
	if got, _ := e.store.GetNumber(context.Background(), resA, "057188880000"); n.Concurrency != 25 || got.Concurrency != 25 {
		t.Fatalf("patched %+v, stored %+v", n, got)
	}
	e.do("PATCH", base+"/057188880000", `{"concurrency":0}`).wantField(t, "concurrency")
	e.do("PATCH", base+"/057188880000", `{}`).wantField(t, "concurrency")
	e.do("PATCH", base+"/057188880000", `{"number":"057188889999","concurrency":2}`).wantField(t, "number")
	e.do("PATCH", base+"/057199999999", `{"concurrency":2}`).wantError(t, 404, CodeNumberNotFound)

	// Account B sees none of A's numbers and cannot touch them.
	other := "/admin/v1/accounts/" + resB + "/numbers/057188880000"
	e.do("GET", other, "").wantError(t, 404, CodeNumberNotFound)
	e.do("PATCH", other, `{"concurrency":1}`).wantError(t, 404, CodeNumberNotFound)
	e.do("DELETE", other, "").wantError(t, 404, CodeNumberNotFound)
	e.do("GET", "/admin/v1/accounts/"+resB+"/numbers", "").want(t, 200, &list)
	if len(list.Numbers) != 0 {
		t.Fatalf("B lists A's numbers: %+v", list)
	}
	// B may own the same number independently.
	e.do("POST", "/admin/v1/accounts/"+resB+"/numbers", `{"number":"057188880000","concurrency":1}`).want(t, 201, nil)

	none := "/admin/v1/accounts/" + resNone + "/numbers"
	e.do("GET", none, "").wantError(t, 404, CodeAccountNotFound)
	e.do("POST", none, `{"number":"057188880000"}`).wantError(t, 404, CodeAccountNotFound)
	e.do("GET", none+"/057188880000", "").wantError(t, 404, CodeAccountNotFound)
	e.do("PATCH", none+"/057188880000", `{"concurrency":1}`).wantError(t, 404, CodeAccountNotFound)
	e.do("DELETE", none+"/057188880000", "").wantError(t, 404, CodeAccountNotFound)
	e.do("GET", "/admin/v1/accounts/x1/numbers", "").wantError(t, 404, CodeAccountNotFound)

	if r := e.do("DELETE", base+"/057188880000", ""); r.status != 204 {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	e.do("DELETE", base+"/057188880000", "").wantError(t, 404, CodeNumberNotFound)
	e.do("GET", base+"/057188880000", "").wantError(t, 404, CodeNumberNotFound)
	if got, err := e.store.GetNumber(context.Background(), resB, "057188880000"); err != nil || got.Concurrency != 1 {
		t.Fatalf("B's number after A's delete: %+v %v", got, err)
	}
}

// TestCreateRace: of concurrent creations of one number exactly one wins;
// the others get 409 instead of silently replacing it.
func TestCreateRace(t *testing.T) {
	e := newResEnv(t)
	var wg sync.WaitGroup
	codes := make([]int, 8)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := httptest.NewRequest("POST", "/admin/v1/accounts/"+resA+"/numbers", strings.NewReader(`{"number":"057100000000","concurrency":`+string(rune('1'+i))+`}`))
			req.Header.Set("Authorization", "Bearer "+token)
			rec := httptest.NewRecorder()
			e.h.ServeHTTP(rec, req)
			codes[i] = rec.Code
		}()
	}
	wg.Wait()
	created := 0
	for _, c := range codes {
		switch c {
		case 201:
			created++
		case 409:
		default:
			t.Errorf("status %d", c)
		}
	}
	if created != 1 {
		t.Fatalf("%d creations succeeded: %v", created, codes)
	}
}

var generatedCode = regexp.MustCompile(`^TTS_[1-9][0-9]{5,8}$`)

func TestTemplates(t *testing.T) {
	e := newResEnv(t)
	base := "/admin/v1/accounts/" + resA + "/tts-templates"
	r := e.do("GET", base, "")
	if r.status != 200 || strings.TrimSpace(r.body) != `{"tts_templates":[]}` {
		t.Fatalf("empty list: %d %s", r.status, r.body)
	}
	var tp dialtone.TTSTemplate
	e.do("POST", base, `{"kind":"notification","content":"Hello ${name}, order ${order_1} shipped."}`).want(t, 201, &tp)
	if !generatedCode.MatchString(tp.Code) || tp.Status != "pending" || tp.Kind != "notification" || tp.Voice != "" {
		t.Fatalf("created %+v", tp)
	}
	gen := tp.Code
	e.do("POST", base, `{"code":"TTS_100001","kind":"verification","content":"您的验证码是${code}","voice":"cmn-latn-pinyin","status":"approved"}`).want(t, 201, &tp)
	if tp.Code != "TTS_100001" || tp.Status != "approved" || tp.Voice != "cmn-latn-pinyin" {
		t.Fatalf("created %+v", tp)
	}
	e.do("POST", base, `{"code":"TTS_100001","kind":"verification","content":"x"}`).wantError(t, 409, CodeConflict)
	// A remark is kept and changed without a new review.
	e.do("POST", base, `{"code":"TTS_remark","kind":"notification","content":"hi","status":"approved","remark":"for 李雷"}`).want(t, 201, &tp)
	if tp.Remark != "for 李雷" {
		t.Fatalf("created %+v", tp)
	}
	e.do("PATCH", base+"/TTS_remark", `{"remark":"changed"}`).want(t, 200, &tp)
	if tp.Remark != "changed" || tp.Status != "approved" {
		t.Fatalf("patched %+v", tp)
	}
	e.do("PATCH", base+"/TTS_remark", `{"remark":" padded"}`).wantError(t, 400, CodeInvalidRequest)
	e.do("POST", base, `{"code":"TTS_maxlen","kind":"notification","content":"`+strings.Repeat("语", dialtone.MaxTemplateContent)+`"}`).want(t, 201, nil)

	valid := map[string]string{"kind": `"notification"`, "content": `"Hi ${x}"`}
	body := func(kv ...string) string {
		m := map[string]string{}
		for k, v := range valid {
			m[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == "" {
				delete(m, kv[i])
			} else {
				m[kv[i]] = kv[i+1]
			}
		}
		var parts []string
		for k, v := range m {
			parts = append(parts, `"`+k+`":`+v)
		}
		return "{" + strings.Join(parts, ",") + "}"
	}
	for field, bads := range map[string][]string{
		"code":    {`"TTS_a b"`, `"ABC_123"`, `"TTS_"`, `"tts_123"`, `"TTS_12 3"`},
		"kind":    {`"voice"`, `""`},
		"content": {`""`, `"   "`, `"` + strings.Repeat("a", dialtone.MaxTemplateContent+1) + `"`, `"Hi ${a-b}"`, `"Hi ${x"`, `"Hi ${}"`},
		"voice":   {`"-v"`, `"en us"`, `"en/us"`, `"../x"`},
		"status":  {`"done"`},
	} {
		for _, bad := range bads {
			e.do("POST", base, body(field, bad)).wantField(t, field)
		}
	}
	e.do("POST", base, body("kind", "")).wantField(t, "kind")
	e.do("POST", base, body("content", "")).wantField(t, "content")
	e.do("POST", base, body("colour", `"red"`)).wantField(t, "colour")

	// Generated codes are unique within the account.
	seen := map[string]bool{gen: true}
	for range 20 {
		e.do("POST", base, body()).want(t, 201, &tp)
		if seen[tp.Code] || !generatedCode.MatchString(tp.Code) {
			t.Fatalf("generated code %q repeated or malformed", tp.Code)
		}
		seen[tp.Code] = true
	}

	// Review and edit.
	one := base + "/" + gen
	e.do("POST", one+"/approve", "").want(t, 200, &tp)
	if tp.Status != "approved" {
		t.Fatalf("approved %+v", tp)
	}
	e.do("PATCH", one, `{"voice":""}`).want(t, 200, &tp)
	if tp.Status != "approved" {
		t.Fatalf("a PATCH that changes nothing unapproved the template: %+v", tp)
	}
	e.do("PATCH", one, `{"content":"Bye ${name}.","voice":"en-us"}`).want(t, 200, &tp)
	if tp.Status != "pending" || tp.Content != "Bye ${name}." || tp.Voice != "en-us" || !tp.UpdatedAt.After(tp.CreatedAt) {
		t.Fatalf("edited %+v", tp)
	}
	if st, _ := e.store.GetTemplate(context.Background(), resA, gen); st.Status != dialtone.ReviewPending || st.Content != "Bye ${name}." {
		t.Fatalf("stored %+v", st)
	}
	e.do("PATCH", one, `{}`).wantError(t, 400, CodeInvalidRequest)
	e.do("PATCH", one, `{"status":"approved"}`).wantField(t, "status")
	e.do("PATCH", one, `{"code":"TTS_9"}`).wantField(t, "code")
	e.do("PATCH", one, `{"content":""}`).wantField(t, "content")
	e.do("PATCH", one, `{"kind":"x"}`).wantField(t, "kind")
	e.do("PATCH", one, `{"voice":"-X"}`).wantField(t, "voice")
	e.do("POST", one+"/reject", `{"reason":"`+strings.Repeat("r", 501)+`"}`).wantField(t, "reason")
	e.do("POST", one+"/approve", `{"reason":"fine"}`).wantField(t, "reason")
	e.do("POST", one+"/reject", `{"reason":"mentions a competitor"}`).want(t, 200, &tp)
	if tp.Status != "rejected" {
		t.Fatalf("rejected %+v", tp)
	}
	if !strings.Contains(e.logs.String(), "mentions a competitor") {
		t.Error("the rejection reason was not logged")
	}
	e.do("GET", one, "").want(t, 200, &tp)
	if tp.Status != "rejected" || tp.Code != gen {
		t.Fatalf("get %+v", tp)
	}
	var list struct {
		Templates []dialtone.TTSTemplate `json:"tts_templates"`
	}
	e.do("GET", base, "").want(t, 200, &list)
	if len(list.Templates) != 24 {
		t.Fatalf("%d templates listed", len(list.Templates))
	}

	// Cross-account and unknown account.
	other := "/admin/v1/accounts/" + resB + "/tts-templates/" + gen
	for _, m := range []struct{ method, path, body string }{
		{"GET", other, ""}, {"PATCH", other, `{"content":"x"}`}, {"DELETE", other, ""},
		{"POST", other + "/approve", ""}, {"POST", other + "/reject", ""},
	} {
		e.do(m.method, m.path, m.body).wantError(t, 404, CodeTemplateNotFound)
	}
	none := "/admin/v1/accounts/" + resNone + "/tts-templates"
	e.do("GET", none, "").wantError(t, 404, CodeAccountNotFound)
	e.do("POST", none, body()).wantError(t, 404, CodeAccountNotFound)
	e.do("GET", none+"/"+gen, "").wantError(t, 404, CodeAccountNotFound)
	e.do("POST", none+"/"+gen+"/approve", "").wantError(t, 404, CodeAccountNotFound)
	if st, _ := e.store.GetTemplate(context.Background(), resA, gen); st.Status != dialtone.ReviewRejected {
		t.Fatalf("cross-account requests changed the template: %+v", st)
	}

	if r := e.do("DELETE", one, ""); r.status != 204 {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	e.do("DELETE", one, "").wantError(t, 404, CodeTemplateNotFound)
	e.do("POST", one+"/approve", "").wantError(t, 404, CodeTemplateNotFound)
}

var uuidCode = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\.wav$`)

func TestVoiceFiles(t *testing.T) {
	e := newResEnv(t)
	base := "/admin/v1/accounts/" + resA + "/voice-files"
	wav := testWAV(t, 1500*time.Millisecond, 8000)
	r := e.do("GET", base, "")
	if r.status != 200 || strings.TrimSpace(r.body) != `{"voice_files":[]}` {
		t.Fatalf("empty list: %d %s", r.status, r.body)
	}

	var vf VoiceFileInfo
	e.do("POST", base+"?kind=notification", wav, "Content-Type", "audio/wav").want(t, 201, &vf)
	if !uuidCode.MatchString(vf.Code) || vf.Kind != "notification" || vf.Status != "pending" || vf.Format != "wav" ||
		vf.DurationMS < 1490 || vf.DurationMS > 1510 || vf.CreatedAt.IsZero() {
		t.Fatalf("uploaded %+v", vf)
	}
	gen := vf.Code
	stored, err := e.store.GetVoiceFile(context.Background(), resA, gen)
	if err != nil || stored.StoredPath == "" || strings.HasPrefix(stored.StoredPath, "/") {
		t.Fatalf("stored %+v %v", stored, err)
	}
	e.do("POST", base+"?kind=smartcall&code=menu_1.wav&status=approved", wav).want(t, 201, &vf)
	if vf.Code != "menu_1.wav" || vf.Kind != "smartcall" || vf.Status != "approved" {
		t.Fatalf("uploaded %+v", vf)
	}
	e.do("POST", base+"?kind=notification&code=menu_1.wav", wav).wantError(t, 409, CodeConflict)

	// Bad parameters are refused before the body is looked at.
	e.do("POST", base, wav).wantField(t, "kind")
	e.do("POST", base+"?kind=music", wav).wantField(t, "kind")
	for _, code := range []string{"..", "../x.wav", ".hidden", "a/b", "a%20b", "", strings.Repeat("x", 129)} {
		e.do("POST", base+"?kind=notification&code="+code, wav).wantField(t, "code")
	}
	e.do("POST", base+"?kind=notification&status=ok", wav).wantField(t, "status")

	// Bad audio comes back with the media package's code and message.
	for name, data := range map[string]string{
		"silent": testWAV(t, time.Second, 0),
		"junk":   "this is not audio at all",
		"empty":  "",
		"torn":   wav[:30],
	} {
		er := e.do("POST", base+"?kind=notification&code="+name, data).wantError(t, 400, dialtone.CodeVoiceFileIllegal)
		if !strings.Contains(er.Message, "voice file") {
			t.Errorf("%s: message %q", name, er.Message)
		}
		e.do("GET", base+"/"+name, "").wantError(t, 404, CodeVoiceFileNotFound)
	}
	e.do("POST", base+"?kind=notification", strings.Repeat("x", MaxVoiceUpload+1)).wantError(t, 413, CodeRequestTooLarge)

	var list struct {
		Files []VoiceFileInfo `json:"voice_files"`
	}
	e.do("GET", base, "").want(t, 200, &list)
	if len(list.Files) != 2 {
		t.Fatalf("list %+v", list)
	}
	e.do("GET", base+"/"+gen, "").want(t, 200, &vf)
	if vf.Code != gen || vf.Format != "wav" {
		t.Fatalf("get %+v", vf)
	}

	// The audio plays as an 8 kHz mono WAV, with range requests.
	r = e.do("GET", base+"/"+gen+"/audio", "")
	if r.status != 200 || r.header.Get("Content-Type") != "audio/wav" || !strings.Contains(r.header.Get("Content-Disposition"), gen) {
		t.Fatalf("audio: %d %v", r.status, r.header)
	}
	p, err := media.DecodeWAV(strings.NewReader(r.body))
	if err != nil || p.Rate != media.TelephonyRate || p.Channels != 1 || p.Frames() != 12000 {
		t.Fatalf("audio: %+v %v", p, err)
	}
	r = e.do("GET", base+"/"+gen+"/audio", "", "Range", "bytes=0-43")
	if r.status != 206 || len(r.body) != 44 || !strings.HasPrefix(r.body, "RIFF") {
		t.Fatalf("range: %d %d bytes", r.status, len(r.body))
	}

	// Review.
	e.do("POST", base+"/"+gen+"/approve", "").want(t, 200, &vf)
	if vf.Status != "approved" {
		t.Fatalf("approved %+v", vf)
	}
	e.do("POST", base+"/"+gen+"/reject", `{"reason":"too quiet"}`).want(t, 200, &vf)
	if st, _ := e.store.GetVoiceFile(context.Background(), resA, gen); vf.Status != "rejected" || st.Status != dialtone.ReviewRejected || st.StoredPath != stored.StoredPath {
		t.Fatalf("rejected %+v, stored %+v", vf, st)
	}
	e.do("POST", base+"/"+gen+"/approve", `{"reason":1}`).wantField(t, "reason")

	// Cross-account and unknown account.
	other := "/admin/v1/accounts/" + resB + "/voice-files/" + gen
	for _, m := range []struct{ method, path string }{
		{"GET", other}, {"GET", other + "/audio"}, {"DELETE", other}, {"POST", other + "/approve"}, {"POST", other + "/reject"},
	} {
		e.do(m.method, m.path, "").wantError(t, 404, CodeVoiceFileNotFound)
	}
	none := "/admin/v1/accounts/" + resNone + "/voice-files"
	e.do("GET", none, "").wantError(t, 404, CodeAccountNotFound)
	e.do("POST", none+"?kind=notification", wav).wantError(t, 404, CodeAccountNotFound)
	e.do("GET", none+"/"+gen+"/audio", "").wantError(t, 404, CodeAccountNotFound)
	e.do("DELETE", none+"/"+gen, "").wantError(t, 404, CodeAccountNotFound)

	if r := e.do("DELETE", base+"/"+gen, ""); r.status != 204 {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	e.do("DELETE", base+"/"+gen, "").wantError(t, 404, CodeVoiceFileNotFound)
	e.do("GET", base+"/"+gen+"/audio", "").wantError(t, 404, CodeVoiceFileNotFound)
}

// TestVoiceFilesNotConfigured: without importer and loader the endpoints
// say so instead of failing obscurely.
func TestVoiceFilesNotConfigured(t *testing.T) {
	e := newEnv(t, token)
	if err := e.store.PutAccount(context.Background(), &dialtone.Account{UID: resA, Name: "a", Status: dialtone.AccountActive, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := e.store.PutVoiceFile(context.Background(), &dialtone.VoiceFile{AccountUID: resA, Code: "x.wav", Kind: dialtone.VoiceFileNotification,
		Status: dialtone.ReviewApproved, StoredPath: "voice/x.wav", Format: "wav", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	e.h = New(resource.New(e.store, "", nil), TokenList(token), nil) // a server without a data directory
	base := "/admin/v1/accounts/" + resA + "/voice-files"
	e.do("POST", base+"?kind=notification", testWAV(t, time.Second, 8000)).wantError(t, 501, CodeNotImplemented)
	e.do("GET", base+"/x.wav/audio", "").wantError(t, 501, CodeNotImplemented)
	e.do("GET", base+"/x.wav", "").want(t, 200, nil)
}

func TestSettings(t *testing.T) {
	e := newResEnv(t)
	base := "/admin/v1/accounts/" + resA + "/settings"
	var st SettingsInfo
	r := e.do("GET", base, "")
	r.want(t, 200, &st)
	if st.FlowControl != (FlowControlInfo{1, 5, 20}) || st.SmartCallCallbackURL != "" || st.Blacklist == nil || len(st.Blacklist) != 0 {
		t.Fatalf("defaults %s", r.body)
	}
	e.do("PUT", base, `{"flow_control":{"per_minute":0,"per_day":100},"smartcall_callback_url":"https://cb.example.com/smart","blacklist":["  casino ","赌博","casino"]}`).want(t, 200, &st)
	if st.FlowControl != (FlowControlInfo{0, 5, 100}) || st.SmartCallCallbackURL != "https://cb.example.com/smart" ||
		strings.Join(st.Blacklist, "|") != "casino|赌博" {
		t.Fatalf("after PUT %+v", st)
	}
	got, _ := e.store.GetAccountSettings(context.Background(), resA)
	if got.FlowControl != (dialtone.FlowControl{PerMinute: 0, PerHour: 5, PerDay: 100}) || len(got.Blacklist) != 2 {
		t.Fatalf("stored %+v", got)
	}
	// Fields left out keep their value; "" and [] clear.
	e.do("PUT", base, `{"flow_control":{"per_hour":7}}`).want(t, 200, &st)
	if st.FlowControl != (FlowControlInfo{0, 7, 100}) || st.SmartCallCallbackURL == "" || len(st.Blacklist) != 2 {
		t.Fatalf("partial PUT %+v", st)
	}
	e.do("PUT", base, `{"smartcall_callback_url":"","blacklist":[]}`).want(t, 200, &st)
	if st.SmartCallCallbackURL != "" || st.Blacklist == nil || len(st.Blacklist) != 0 {
		t.Fatalf("clearing PUT %+v", st)
	}
	for field, bad := range map[string]string{
		"flow_control.per_minute": `{"flow_control":{"per_minute":-1}}`,
		"flow_control.per_day":    `{"flow_control":{"per_day":-5}}`,
		"per_week":                `{"flow_control":{"per_week":1}}`,
		"smartcall_callback_url":  `{"smartcall_callback_url":"ftp://x.example.com/"}`,
		"blacklist[1]":            `{"blacklist":["ok","  "]}`,
		"blacklist[0]":            `{"blacklist":["a\u0007b"]}`,
	} {
		e.do("PUT", base, bad).wantField(t, field)
	}
	e.do("PUT", base, `{"smartcall_callback_url":"not a url"}`).wantField(t, "smartcall_callback_url")
	e.do("PUT", base, `{"blacklist":["`+strings.Repeat("x", 101)+`"]}`).wantField(t, "blacklist[0]")
	e.do("PUT", base, ``).wantError(t, 400, CodeInvalidRequest)
	// A refused PUT changes nothing.
	e.do("GET", base, "").want(t, 200, &st)
	if st.FlowControl != (FlowControlInfo{0, 7, 100}) {
		t.Fatalf("after refused PUTs %+v", st)
	}
	// B is untouched; an unknown account is 404 and gets no settings row.
	e.do("GET", "/admin/v1/accounts/"+resB+"/settings", "").want(t, 200, &st)
	if st.FlowControl != (FlowControlInfo{1, 5, 20}) {
		t.Fatalf("B %+v", st)
	}
	e.do("GET", "/admin/v1/accounts/"+resNone+"/settings", "").wantError(t, 404, CodeAccountNotFound)
	e.do("PUT", "/admin/v1/accounts/"+resNone+"/settings", `{"blacklist":["x"]}`).wantError(t, 404, CodeAccountNotFound)
}

func TestGlobalBlacklist(t *testing.T) {
	e := newResEnv(t)
	r := e.do("GET", "/admin/v1/blacklist", "")
	if r.status != 200 || strings.TrimSpace(r.body) != `{"blacklist":[]}` {
		t.Fatalf("empty: %d %s", r.status, r.body)
	}
	var bl struct{ Blacklist []string }
	e.do("PUT", "/admin/v1/blacklist", `{"blacklist":["casino"," lottery "]}`).want(t, 200, &bl)
	if strings.Join(bl.Blacklist, "|") != "casino|lottery" {
		t.Fatalf("PUT %+v", bl)
	}
	e.do("GET", "/admin/v1/blacklist", "").want(t, 200, &bl)
	if len(bl.Blacklist) != 2 {
		t.Fatalf("GET %+v", bl)
	}
	// The global list is not an account's own list.
	var st SettingsInfo
	e.do("GET", "/admin/v1/accounts/"+resA+"/settings", "").want(t, 200, &st)
	if len(st.Blacklist) != 0 {
		t.Fatalf("account shows the global list: %+v", st)
	}
	e.do("PUT", "/admin/v1/blacklist", `{}`).wantField(t, "blacklist")
	e.do("PUT", "/admin/v1/blacklist", `{"blacklist":[""]}`).wantField(t, "blacklist[0]")
	e.do("PUT", "/admin/v1/blacklist", `{"blacklist":"casino"}`).wantField(t, "blacklist")
	e.do("POST", "/admin/v1/blacklist", `{"blacklist":[]}`).wantError(t, 405, CodeMethodNotAllowed)
	e.do("PUT", "/admin/v1/blacklist", `{"blacklist":[]}`).want(t, 200, &bl)
	if bl.Blacklist == nil || len(bl.Blacklist) != 0 {
		t.Fatalf("cleared %+v", bl)
	}
}

// TestResourcesUnauthorized: every resource endpoint checks the token
// before it looks at anything, and answers JSON.
func TestResourcesUnauthorized(t *testing.T) {
	e := newResEnv(t)
	h := &handler{}
	for _, rt := range h.resourceRoutes() {
		method, path, _ := strings.Cut(rt.pattern, " ")
		path = strings.NewReplacer("{uid}", resA, "{number}", "057188880000", "{code}", "TTS_1").Replace(path)
		for _, auth := range []string{"", "Bearer wrong", "Bearer " + token + "x", "Basic " + token} {
			e.do(method, path, "{}", "Authorization", auth).wantError(t, 401, CodeUnauthorized)
		}
	}
	r := e.do("PUT", "/admin/v1/accounts/"+resA+"/numbers", "{}")
	r.wantError(t, 405, CodeMethodNotAllowed)
	if r.header.Get("Allow") != "GET, POST" {
		t.Errorf("Allow = %q", r.header.Get("Allow"))
	}
}

// TestUploadedFileIsUsableByCalls: a voice file uploaded and approved and
// a number added through the admin API are accepted by SingleCallByVoice;
// a template created and approved here by SingleCallByTts, and the global
// blacklist set here refuses a forbidden variable.
func TestUploadedFileIsUsableByCalls(t *testing.T) {
	e := newResEnv(t)
	ctx := context.Background()
	if err := e.store.PutAccessKey(ctx, &dialtone.AccessKey{ID: resKey, AccountUID: resA, Secret: resSec, Enabled: true, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	g := gateway.New(gateway.Config{Store: e.store})
	(&vms.Service{Store: e.store}).Register(g)
	srv := httptest.NewServer(g)
	defer srv.Close()
	signer := &poptest.Signer{Endpoint: srv.URL, AccessKeyID: resKey, Secret: resSec}
	call := func(action string, params map[string]string) map[string]any {
		t.Helper()
		resp, err := http.DefaultClient.Do(signer.V3(action, params))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var body map[string]any
		if err := json.Unmarshal(b, &body); err != nil {
			t.Fatalf("%s: %s", action, b)
		}
		return body
	}

	acct := "/admin/v1/accounts/" + resA
	e.do("POST", acct+"/numbers", `{"number":"057188880000","concurrency":2}`).want(t, 201, nil)
	// No per-callee limit, so that the calls below are not refused by it.
	e.do("PUT", acct+"/settings", `{"flow_control":{"per_minute":0,"per_hour":0,"per_day":0}}`).want(t, 200, nil)
	var vf VoiceFileInfo
	e.do("POST", acct+"/voice-files?kind=notification", testWAV(t, time.Second, 8000)).want(t, 201, &vf)
	params := map[string]string{"CalledNumber": "13800000001", "CalledShowNumber": "057188880000", "VoiceCode": vf.Code}

	if body := call("SingleCallByVoice", params); body["Code"] != dialtone.CodeVoiceFileIllegal {
		t.Fatalf("pending file accepted: %v", body)
	}
	e.do("POST", acct+"/voice-files/"+vf.Code+"/approve", "").want(t, 200, nil)
	body := call("SingleCallByVoice", params)
	if body["Code"] != "OK" || body["CallId"] == "" {
		t.Fatalf("SingleCallByVoice: %v", body)
	}
	c, err := e.store.GetCall(ctx, resA, body["CallId"].(string))
	if err != nil {
		t.Fatal(err)
	}
	plan, err := dialtone.DecodePlan(c)
	if err != nil || len(plan.Prompt) != 1 || plan.Prompt[0].FileCode != vf.Code || plan.Prompt[0].StoredPath == "" {
		t.Fatalf("plan %+v %v", plan, err)
	}

	var tp dialtone.TTSTemplate
	e.do("POST", acct+"/tts-templates", `{"kind":"notification","content":"Your parcel ${item} has shipped."}`).want(t, 201, &tp)
	e.do("POST", acct+"/tts-templates/"+tp.Code+"/approve", "").want(t, 200, nil)
	e.do("PUT", "/admin/v1/blacklist", `{"blacklist":["casino"]}`).want(t, 200, nil)
	tts := map[string]string{"CalledNumber": "13800000002", "CalledShowNumber": "057188880000", "TtsCode": tp.Code, "TtsParam": `{"item":"book"}`}
	if body := call("SingleCallByTts", tts); body["Code"] != "OK" {
		t.Fatalf("SingleCallByTts: %v", body)
	}
	tts["TtsParam"] = `{"item":"Casino chips"}`
	if body := call("SingleCallByTts", tts); body["Code"] != dialtone.CodeBlackKeyControlLimit {
		t.Fatalf("blacklisted variable accepted: %v", body)
	}
	// Account B cannot call with A's file.
	if err := e.store.PutAccessKey(ctx, &dialtone.AccessKey{ID: resKeyB, AccountUID: resB, Secret: resSec, Enabled: true, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	e.do("POST", "/admin/v1/accounts/"+resB+"/numbers", `{"number":"057199990000"}`).want(t, 201, nil)
	signer = &poptest.Signer{Endpoint: srv.URL, AccessKeyID: resKeyB, Secret: resSec}
	params["CalledShowNumber"] = "057199990000"
	if body := call("SingleCallByVoice", params); body["Code"] != dialtone.CodeVoiceFileIllegal {
		t.Fatalf("B used A's file: %v", body)
	}
}
