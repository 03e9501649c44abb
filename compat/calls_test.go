package compat

// Every call action end to end: the official clients place real calls on a
// `dialtone serve` whose simulated network (testdata/calls.yaml) answers,
// is busy, presses keys and talks to a SmartCall callback server run by the
// test. Each scenario checks the final state through the client's own
// QueryCallDetailByCallId and, where it says more, the admin events and
// transcript endpoints.
//
// Client coverage: ClickToDial exists only in v1.2.1, v2.0.2 and
// alibaba-cloud-sdk-go (dyvmsapi v3+ dropped it); CancelCall in those and
// v6.0.0. Every version has SingleCallByVoice/Tts, IvrCall, SmartCall and
// SmartCallOperate.

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	openapiv1 "github.com/alibabacloud-go/darabonba-openapi/client"
	openapiutil "github.com/alibabacloud-go/darabonba-openapi/v2/utils"
	vms1 "github.com/alibabacloud-go/dyvmsapi-20170525/client"
	vms2 "github.com/alibabacloud-go/dyvmsapi-20170525/v2/client"
	vms3 "github.com/alibabacloud-go/dyvmsapi-20170525/v3/client"
	vms4 "github.com/alibabacloud-go/dyvmsapi-20170525/v4/client"
	vms6 "github.com/alibabacloud-go/dyvmsapi-20170525/v6/client"
	rpc "github.com/alibabacloud-go/tea-rpc/client"
	"github.com/alibabacloud-go/tea/tea"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/dyvmsapi"
)

// From testdata/calls.yaml.
const (
	callsUID    = "1000000000000003"
	callsAK     = "LTAIcompatCalls00000001"
	callsSecret = "compatCallsSecret0000000000000001"
	showNumber  = "057188880000"
	showNumber2 = "057188880001"
	voiceCode   = "compat-notice.wav"

	subListens   = "13900000001"
	subBusy      = "13900000002"
	subNoAnswer  = "13900000003"
	subHangsUp   = "13900000004"
	subPresses2  = "13900000005"
	subNeverKeys = "13900000006"
	subTalks     = "13900000007"
	subSilent    = "13900000008"
	ctdCaller    = "13900000011"
	ctdCallee    = "13900000012" // talks 5 s, then hangs up
	ctdCallerLng = "13900000013" // rings 40 s
	ctdCalleeLng = "13900000014" // rings 40 s
	ctdCalleeOn  = "13900000015" // stays on the line

	tplVerify  = "TTS_900001"
	tplNotify  = "TTS_900002"
	tplIVRMenu = "TTS_900003"
	tplSales   = "TTS_900004"
	tplSupport = "TTS_900005"
	tplBye     = "TTS_900006"
	// The start prompt of the SDK reference's IvrCall samples (§4.2).
	tplSeedIVR = "TTS_713900000"
)

// ProdId per product (reference §3.8).
const (
	prodVoiceNotify  = int64(11000000300006)
	prodVerification = int64(11010000138001)
	prodIVR          = int64(11000000300005)
	prodClickToDial  = int64(11000000300004)
	prodSmartCall    = int64(11030000180001)
)

// callsDeadline bounds every wait for a call to reach a state. At time
// scale 0.02 the longest call here takes well under 2 s of wall time.
const callsDeadline = 30 * time.Second

// ---- the server ----

// startCallsServer starts the callback server, writes the provisioning
// (with the callback's URL and a generated voice file) and starts a server
// of its own with it, stopped (exit code 0 required) when t ends.
func startCallsServer(t *testing.T, cb *smartCallback) *dialtone {
	t.Helper()
	tmpl, err := os.ReadFile(filepath.Join("testdata", "calls.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp(workDir, "calls-")
	if err != nil {
		t.Fatal(err)
	}
	doc := strings.ReplaceAll(string(tmpl), "{{callback_url}}", cb.srv.URL+"/smartcall")
	if err := os.WriteFile(filepath.Join(dir, "calls.yaml"), []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "notice.wav"), toneWAV(1500*time.Millisecond), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := startDialtoneWith(t, 15*time.Minute, filepath.Join(dir, "calls.yaml"))
	if err != nil {
		t.Fatalf("start dialtone with testdata/calls.yaml: %v", err)
	}
	t.Cleanup(func() {
		if err := s.stop(); err != nil {
			t.Errorf("calls server: %v", err)
		}
		if t.Failed() {
			t.Logf("--- calls server output (successful API requests left out) ---\n%s", quietLog(s.output()))
		}
	})
	return s
}

// quietLog drops the server's log lines of successful API requests (the
// tests poll), keeping everything the engine said.
func quietLog(out string) string {
	var b strings.Builder
	for _, line := range strings.SplitAfter(out, "\n") {
		if strings.Contains(line, `msg="pop request"`) && strings.Contains(line, " code=OK ") {
			continue
		}
		b.WriteString(line)
	}
	return b.String()
}

// toneWAV is a 440 Hz tone, 8 kHz 16-bit mono PCM.
func toneWAV(d time.Duration) []byte {
	const rate = 8000
	n := int(d.Seconds() * rate)
	var b bytes.Buffer
	le := func(v any) { binary.Write(&b, binary.LittleEndian, v) }
	b.WriteString("RIFF")
	le(uint32(36 + 2*n))
	b.WriteString("WAVEfmt ")
	le(uint32(16))
	le(uint16(1)) // PCM
	le(uint16(1)) // mono
	le(uint32(rate))
	le(uint32(2 * rate))
	le(uint16(2))
	le(uint16(16))
	b.WriteString("data")
	le(uint32(2 * n))
	for i := 0; i < n; i++ {
		le(int16(8000 * math.Sin(2*math.Pi*440*float64(i)/rate)))
	}
	return b.Bytes()
}

// ---- the SmartCall callback server ----

// cbRequest is one callback as received.
type cbRequest struct {
	Method, ContentTypeHeader string
	CallID, Timestamp, Type   string
	Content                   map[string]string
	Err                       string // what was wrong with the request
}

// smartCallback answers SmartCall callbacks. Calls started with a
// DynamicId beginning "dialog" get: play a $tts$ item on the first words,
// hang up on the second. Calls whose DynamicId is "hold" get continue on
// every silence until released, then hangup.
type smartCallback struct {
	srv *httptest.Server

	mu       sync.Mutex
	reqs     map[string][]cbRequest // by call_id
	released map[string]bool
	first    map[string]chan struct{} // closed on a call's first callback
}

const dialogReply = "好的，正在为您查询"

func newSmartCallback(t *testing.T) *smartCallback {
	cb := &smartCallback{reqs: map[string][]cbRequest{}, released: map[string]bool{}, first: map[string]chan struct{}{}}
	cb.srv = httptest.NewServer(http.HandlerFunc(cb.serve))
	t.Cleanup(cb.srv.Close)
	return cb
}

func (cb *smartCallback) firstSeen(callID string) chan struct{} {
	ch, ok := cb.first[callID]
	if !ok {
		ch = make(chan struct{})
		cb.first[callID] = ch
	}
	return ch
}

// waitFirst waits for the call's first callback.
func (cb *smartCallback) waitFirst(t *testing.T, callID string) {
	t.Helper()
	cb.mu.Lock()
	ch := cb.firstSeen(callID)
	cb.mu.Unlock()
	select {
	case <-ch:
	case <-time.After(callsDeadline):
		t.Fatalf("no callback for %s within %v", callID, callsDeadline)
	}
}

func (cb *smartCallback) release(callID string) {
	cb.mu.Lock()
	cb.released[callID] = true
	cb.mu.Unlock()
}

func (cb *smartCallback) requests(callID string) []cbRequest {
	cb.mu.Lock()
	defer cb.mu.Unlock()
	return slices.Clone(cb.reqs[callID])
}

func (cb *smartCallback) serve(w http.ResponseWriter, r *http.Request) {
	req := cbRequest{Method: r.Method, ContentTypeHeader: r.Header.Get("Content-Type")}
	if err := r.ParseForm(); err != nil {
		req.Err = "form: " + err.Error()
	}
	req.CallID = r.PostForm.Get("call_id")
	req.Timestamp = r.PostForm.Get("timestamp")
	req.Type = r.PostForm.Get("content_type")
	if err := json.Unmarshal([]byte(r.PostForm.Get("content")), &req.Content); err != nil {
		req.Err += " content: " + err.Error()
	}

	cb.mu.Lock()
	prior := cb.reqs[req.CallID]
	cb.reqs[req.CallID] = append(prior, req)
	if len(prior) == 0 {
		close(cb.firstSeen(req.CallID))
	}
	released := cb.released[req.CallID]
	cb.mu.Unlock()

	data := map[string]any{"call_id": req.CallID, "action": "hangup"}
	dyn := req.Content["dynamic_id"]
	switch {
	case req.Err != "":
	case strings.HasPrefix(dyn, "dialog") && req.Type == "normal":
		normal := 0
		for _, p := range prior {
			if p.Type == "normal" {
				normal++
			}
		}
		if normal == 0 {
			data["action"] = "play"
			data["action_code"] = "$tts$"
			data["action_code_param"] = `{"tts":"` + dialogReply + `"}`
			data["dynamic_id"] = "dialog-2"
		} else {
			data["dynamic_id"] = "dialog-3"
		}
	case dyn == "hold" && !released:
		data["action"] = "continue"
		data["dynamic_id"] = "hold"
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	json.NewEncoder(w).Encode(map[string]any{"result": "success", "msg": "成功", "code": 200, "data": data})
}

// ---- polling and checks ----

// detailFunc runs QueryCallDetailByCallId through one client and returns
// its Data (the JSON string) and whether Data was present.
type detailFunc func(t *testing.T, callID string, prodID int64) (string, bool)

// liveStates are the intermediate codes a call in progress shows.
var liveStates = map[string]bool{"200101": true, "200102": true, "200103": true, "200201": true}

// waitDetail polls until cond holds for the call's parsed Data.
func waitDetail(t *testing.T, q detailFunc, callID string, prodID int64, what string, cond func(map[string]any) bool) map[string]any {
	t.Helper()
	deadline := time.Now().Add(callsDeadline)
	var last string
	for time.Now().Before(deadline) {
		data, has := q(t, callID, prodID)
		if has {
			last = data
			var d map[string]any
			if err := json.Unmarshal([]byte(data), &d); err != nil {
				t.Fatalf("Data is not a JSON object string: %q (%v)", data, err)
			}
			if cond(d) {
				return d
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("call %s: not %s within %v; last Data %s", callID, what, callsDeadline, last)
	return nil
}

func isFinal(d map[string]any) bool {
	st, _ := d["state"].(string)
	return st != "" && !liveStates[st]
}

// waitFinal polls until the call has a final state and checks the keys
// every detail carries.
func waitFinal(t *testing.T, q detailFunc, callID string, prodID int64, clickToDial bool) map[string]any {
	t.Helper()
	d := waitDetail(t, q, callID, prodID, "finished", isFinal)
	checkDetailShape(t, d, clickToDial)
	return d
}

var gmtLayout = "2006-01-02 15:04:05"

func checkDetailShape(t *testing.T, d map[string]any, clickToDial bool) {
	t.Helper()
	keys := []string{"caller", "callee", "callerShowNumber", "calleeShowNumber", "startDate", "endDate", "gmtCreate", "state", "stateDesc"}
	if clickToDial {
		keys = append(keys, "aRingTime", "aEndTime", "bRingTime", "bEndTime")
	}
	for _, k := range keys {
		if _, ok := d[k].(string); !ok {
			t.Errorf("Data[%q] = %#v; want a string", k, d[k])
		}
	}
	if _, ok := d["duration"].(float64); !ok {
		t.Errorf("Data[duration] = %#v; want a number", d["duration"])
	}
	if g, _ := d["gmtCreate"].(string); !validTime(g) {
		t.Errorf("gmtCreate = %q; want yyyy-MM-dd HH:mm:ss", g)
	}
	if s, _ := d["stateDesc"].(string); s == "" {
		t.Errorf("stateDesc is empty (state %v)", d["state"])
	}
}

// chinaTime parses a Data time (China time, UTC+8).
func chinaTime(t *testing.T, v any) time.Time {
	t.Helper()
	s, _ := v.(string)
	tm, err := time.ParseInLocation(gmtLayout, s, time.FixedZone("CST", 8*3600))
	if err != nil {
		t.Fatalf("time %q: %v", s, err)
	}
	return tm
}

func validTime(s string) bool {
	_, err := time.Parse(gmtLayout, s)
	return err == nil
}

// wantDetail checks string fields of Data.
func wantDetail(t *testing.T, d map[string]any, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got, _ := d[k].(string); got != v {
			t.Errorf("Data[%q] = %#v; want %q (Data %v)", k, d[k], v, d)
		}
	}
}

// checkAnswered: start and end dates set, a duration of at least a second.
func checkAnswered(t *testing.T, d map[string]any) {
	t.Helper()
	for _, k := range []string{"startDate", "endDate"} {
		if s, _ := d[k].(string); !validTime(s) {
			t.Errorf("%s = %q; want a time (Data %v)", k, s, d)
		}
	}
	if dur, _ := d["duration"].(float64); dur < 1 {
		t.Errorf("duration = %v; want >= 1 (Data %v)", d["duration"], d)
	}
}

// checkUnanswered: no start or end date, duration 0.
func checkUnanswered(t *testing.T, d map[string]any) {
	t.Helper()
	if d["startDate"] != "" || d["endDate"] != "" || d["duration"] != float64(0) {
		t.Errorf("startDate %q, endDate %q, duration %v; want \"\", \"\", 0 for an unanswered call", d["startDate"], d["endDate"], d["duration"])
	}
}

// noDataForOtherProd: the call is not found under another ProdId.
func noDataForOtherProd(t *testing.T, q detailFunc, callID string, other int64) {
	t.Helper()
	if data, has := q(t, callID, other); has {
		t.Errorf("ProdId %d returned Data %s for call %s; want none", other, data, callID)
	}
}

// adminGet reads an admin endpoint of the calls server as JSON.
func adminGet(t *testing.T, s *dialtone, path string, v any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+s.addr+path, nil)
	req.Header.Set("Authorization", "Bearer "+adminTok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("GET %s: %v in %s", path, err, b)
	}
}

type callEvent struct {
	Seq        int
	Type       string
	Leg        string
	StatusCode string
	Detail     map[string]string
}

type callEvents struct {
	State  string      `json:"state"`
	Reason string      `json:"reason"`
	Events []callEvent `json:"events"`
}

func events(t *testing.T, s *dialtone, callID string) callEvents {
	t.Helper()
	var ev callEvents
	adminGet(t, s, "/admin/v1/accounts/"+callsUID+"/calls/"+callID+"/events", &ev)
	return ev
}

func (ev callEvents) String() string {
	var b strings.Builder
	for _, e := range ev.Events {
		fmt.Fprintf(&b, "  %d %s leg=%s status=%s %v\n", e.Seq, e.Type, e.Leg, e.StatusCode, e.Detail)
	}
	return b.String()
}

type transcriptEntry struct {
	Leg, Kind, Text, By string
	Interrupted         bool
}

func transcript(t *testing.T, s *dialtone, callID string) []transcriptEntry {
	t.Helper()
	var tr struct {
		Transcript []transcriptEntry `json:"transcript"`
	}
	adminGet(t, s, "/admin/v1/sim/calls/"+callID+"/transcript", &tr)
	return tr.Transcript
}

// ---- clients ----

// Each constructor returns a client for the calls server's key.

func newV1(t *testing.T, s *dialtone) *vms1.Client {
	c, err := vms1.NewClient(&rpc.Config{AccessKeyId: tea.String(callsAK), AccessKeySecret: tea.String(callsSecret),
		Endpoint: tea.String(s.addr), Protocol: tea.String("http")})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newV2(t *testing.T, s *dialtone) *vms2.Client {
	c, err := vms2.NewClient(&openapiv1.Config{AccessKeyId: tea.String(callsAK), AccessKeySecret: tea.String(callsSecret),
		Endpoint: tea.String(s.addr), Protocol: tea.String("http")})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newV3(t *testing.T, s *dialtone) *vms3.Client {
	c, err := vms3.NewClient(v2Config(s.addr, callsAK, callsSecret, ""))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newV4(t *testing.T, s *dialtone) *vms4.Client {
	c, err := vms4.NewClient(v2Config(s.addr, callsAK, callsSecret, ""))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newV6(t *testing.T, s *dialtone) *vms6.Client {
	c, err := vms6.NewClient(&openapiutil.Config{AccessKeyId: tea.String(callsAK), AccessKeySecret: tea.String(callsSecret),
		Endpoint: tea.String(s.addr), Protocol: tea.String("http")})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newSDKGo(t *testing.T, s *dialtone) *dyvmsapi.Client {
	c, err := dyvmsapi.NewClientWithAccessKey("cn-hangzhou", callsAK, callsSecret)
	if err != nil {
		t.Fatal(err)
	}
	c.Domain = s.addr
	t.Cleanup(c.Shutdown)
	return c
}

func queryDate() *int64 { return tea.Int64(time.Now().Add(-time.Hour).UnixMilli()) }

// mustOK fails unless a call action answered Code OK and a CallId.
func mustOK(t *testing.T, action string, code, callID *string) string {
	t.Helper()
	if tea.StringValue(code) != "OK" || tea.StringValue(callID) == "" {
		t.Fatalf("%s: Code %q CallId %q; want OK and a CallId", action, tea.StringValue(code), tea.StringValue(callID))
	}
	return tea.StringValue(callID)
}

func detailV1(c *vms1.Client) detailFunc {
	return func(t *testing.T, callID string, prodID int64) (string, bool) {
		t.Helper()
		r, err := c.QueryCallDetailByCallId(&vms1.QueryCallDetailByCallIdRequest{CallId: tea.String(callID), ProdId: tea.Int64(prodID), QueryDate: queryDate()})
		if err != nil || tea.StringValue(r.Code) != "OK" {
			t.Fatalf("v1.2.1 QueryCallDetailByCallId: %v %v", err, r)
		}
		return tea.StringValue(r.Data), r.Data != nil
	}
}

func detailV2(c *vms2.Client) detailFunc {
	return func(t *testing.T, callID string, prodID int64) (string, bool) {
		t.Helper()
		r, err := c.QueryCallDetailByCallId(&vms2.QueryCallDetailByCallIdRequest{CallId: tea.String(callID), ProdId: tea.Int64(prodID), QueryDate: queryDate()})
		if err != nil || tea.StringValue(r.Body.Code) != "OK" {
			t.Fatalf("v2.0.2 QueryCallDetailByCallId: %v %v", err, r)
		}
		return tea.StringValue(r.Body.Data), r.Body.Data != nil
	}
}

func detailV3(c *vms3.Client) detailFunc {
	return func(t *testing.T, callID string, prodID int64) (string, bool) {
		t.Helper()
		r, err := c.QueryCallDetailByCallId(&vms3.QueryCallDetailByCallIdRequest{CallId: tea.String(callID), ProdId: tea.Int64(prodID), QueryDate: queryDate()})
		if err != nil || tea.StringValue(r.Body.Code) != "OK" {
			t.Fatalf("v3.0.0 QueryCallDetailByCallId: %v %v", err, r)
		}
		return tea.StringValue(r.Body.Data), r.Body.Data != nil
	}
}

func detailV4(c *vms4.Client) detailFunc {
	return func(t *testing.T, callID string, prodID int64) (string, bool) {
		t.Helper()
		r, err := c.QueryCallDetailByCallId(&vms4.QueryCallDetailByCallIdRequest{CallId: tea.String(callID), ProdId: tea.Int64(prodID), QueryDate: queryDate()})
		if err != nil || tea.StringValue(r.Body.Code) != "OK" {
			t.Fatalf("v4.2.1 QueryCallDetailByCallId: %v %v", err, r)
		}
		return tea.StringValue(r.Body.Data), r.Body.Data != nil
	}
}

func detailV6(c *vms6.Client) detailFunc {
	return func(t *testing.T, callID string, prodID int64) (string, bool) {
		t.Helper()
		r, err := c.QueryCallDetailByCallId(&vms6.QueryCallDetailByCallIdRequest{CallId: tea.String(callID), ProdId: tea.Int64(prodID), QueryDate: queryDate()})
		if err != nil || tea.StringValue(r.GetBody().GetCode()) != "OK" {
			t.Fatalf("v6.0.0 QueryCallDetailByCallId: %v %v", err, r)
		}
		return tea.StringValue(r.GetBody().GetData()), r.GetBody().GetData() != nil
	}
}

func detailSDKGo(c *dyvmsapi.Client) detailFunc {
	return func(t *testing.T, callID string, prodID int64) (string, bool) {
		t.Helper()
		req := dyvmsapi.CreateQueryCallDetailByCallIdRequest()
		req.CallId = callID
		req.ProdId = requests.NewInteger64(prodID)
		req.QueryDate = requests.NewInteger64(*queryDate())
		r, err := c.QueryCallDetailByCallId(req)
		if err != nil || r.Code != "OK" {
			t.Fatalf("alibaba-cloud-sdk-go QueryCallDetailByCallId: %v %v", err, r)
		}
		var m map[string]any
		if err := json.Unmarshal(r.GetHttpContentBytes(), &m); err != nil {
			t.Fatalf("response body: %v", err)
		}
		_, has := m["Data"]
		return r.Data, has
	}
}

// ---- the test ----

// callsEnv is the server and callback server all scenarios share.
type callsEnv struct {
	s  *dialtone
	cb *smartCallback
}

func TestCalls(t *testing.T) {
	cb := newSmartCallback(t)
	e := &callsEnv{s: startCallsServer(t, cb), cb: cb}
	for _, g := range []struct {
		name string
		run  func(*testing.T)
	}{{"single", e.singleCalls}, {"ivr", e.ivrCalls}, {"clickToDial", e.clickToDialCalls}, {"smart", e.smartCalls}} {
		t.Run(g.name, func(t *testing.T) {
			t.Parallel()
			g.run(t)
		})
	}
}

// singleCalls: SingleCallByVoice and SingleCallByTts (§3.1, §3.2).
func (e *callsEnv) singleCalls(t *testing.T) {
	s := e.s
	t.Run("SingleCallByVoice/answered/alibaba-cloud-sdk-go", func(t *testing.T) {
		t.Parallel()
		c := newSDKGo(t, s)
		req := dyvmsapi.CreateSingleCallByVoiceRequest()
		req.CalledNumber, req.CalledShowNumber, req.VoiceCode = subListens, showNumber, voiceCode
		req.PlayTimes = requests.NewInteger(2)
		resp, err := c.SingleCallByVoice(req)
		if err != nil {
			t.Fatal(err)
		}
		id := mustOK(t, "SingleCallByVoice", &resp.Code, &resp.CallId)
		q := detailSDKGo(c)
		d := waitFinal(t, q, id, prodVoiceNotify, false)
		wantDetail(t, d, map[string]string{"state": "200000", "callee": subListens, "caller": showNumber, "calleeShowNumber": showNumber})
		checkAnswered(t, d)
		noDataForOtherProd(t, q, id, prodVerification)
		plays := 0
		for _, e := range transcript(t, s, id) {
			if e.Kind == "play" && strings.Contains(e.Text, "compat-notice") && !e.Interrupted {
				plays++
			}
		}
		if plays != 2 {
			t.Errorf("the subscriber heard the voice file %d times in full; want 2 (PlayTimes)", plays)
		}
	})
	t.Run("SingleCallByTts/answered/v1.2.1", func(t *testing.T) {
		t.Parallel()
		c := newV1(t, s)
		resp, err := c.SingleCallByTts(&vms1.SingleCallByTtsRequest{CalledNumber: tea.String(subListens), CalledShowNumber: tea.String(showNumber),
			TtsCode: tea.String(tplVerify), TtsParam: tea.String(`{"code":"4821"}`)})
		if err != nil {
			t.Fatal(err)
		}
		id := mustOK(t, "SingleCallByTts", resp.Code, resp.CallId)
		q := detailV1(c)
		d := waitFinal(t, q, id, prodVerification, false)
		wantDetail(t, d, map[string]string{"state": "200000", "callee": subListens, "calleeShowNumber": showNumber})
		checkAnswered(t, d)
		noDataForOtherProd(t, q, id, prodVoiceNotify)
		if !transcriptHas(t, s, id, "play", "4821") {
			t.Errorf("the subscriber did not hear the code 4821")
		}
	})
	t.Run("SingleCallByTts/answered/v4.2.1", func(t *testing.T) {
		t.Parallel()
		c := newV4(t, s)
		resp, err := c.SingleCallByTts(&vms4.SingleCallByTtsRequest{CalledNumber: tea.String(subListens), CalledShowNumber: tea.String(showNumber2),
			TtsCode: tea.String(tplNotify), TtsParam: tea.String(`{"name":"Ann","order":"A-17"}`), PlayTimes: tea.Int32(1)})
		if err != nil {
			t.Fatal(err)
		}
		id := mustOK(t, "SingleCallByTts", resp.Body.Code, resp.Body.CallId)
		q := detailV4(c)
		d := waitFinal(t, q, id, prodVoiceNotify, false)
		wantDetail(t, d, map[string]string{"state": "200000", "callee": subListens, "calleeShowNumber": showNumber2})
		checkAnswered(t, d)
		noDataForOtherProd(t, q, id, prodVerification)
		if !transcriptHas(t, s, id, "play", "A-17") {
			t.Errorf("the subscriber did not hear the order number")
		}
	})
	t.Run("SingleCallByTts/busy/v6.0.0", func(t *testing.T) {
		t.Parallel()
		c := newV6(t, s)
		resp, err := c.SingleCallByTts(&vms6.SingleCallByTtsRequest{CalledNumber: tea.String(subBusy), CalledShowNumber: tea.String(showNumber),
			TtsCode: tea.String(tplNotify), TtsParam: tea.String(`{"name":"Bob","order":"B-2"}`)})
		if err != nil {
			t.Fatal(err)
		}
		id := mustOK(t, "SingleCallByTts", resp.GetBody().GetCode(), resp.GetBody().GetCallId())
		d := waitFinal(t, detailV6(c), id, prodVoiceNotify, false)
		wantDetail(t, d, map[string]string{"state": "200002", "callee": subBusy})
		checkUnanswered(t, d)
	})
	t.Run("SingleCallByTts/noAnswer/v3.0.0", func(t *testing.T) {
		t.Parallel()
		c := newV3(t, s)
		resp, err := c.SingleCallByTts(&vms3.SingleCallByTtsRequest{CalledNumber: tea.String(subNoAnswer), CalledShowNumber: tea.String(showNumber),
			TtsCode: tea.String(tplVerify), TtsParam: tea.String(`{"code":"77"}`)})
		if err != nil {
			t.Fatal(err)
		}
		id := mustOK(t, "SingleCallByTts", resp.Body.Code, resp.Body.CallId)
		d := waitFinal(t, detailV3(c), id, prodVerification, false)
		wantDetail(t, d, map[string]string{"state": "200003", "callee": subNoAnswer})
		checkUnanswered(t, d)
	})
	t.Run("SingleCallByTts/hungUpEarly/v2.0.2", func(t *testing.T) {
		t.Parallel()
		c := newV2(t, s)
		resp, err := c.SingleCallByTts(&vms2.SingleCallByTtsRequest{CalledNumber: tea.String(subHangsUp), CalledShowNumber: tea.String(showNumber),
			TtsCode: tea.String(tplNotify), TtsParam: tea.String(`{"name":"Cy","order":"C-3"}`)})
		if err != nil {
			t.Fatal(err)
		}
		id := mustOK(t, "SingleCallByTts", resp.Body.Code, resp.Body.CallId)
		d := waitFinal(t, detailV2(c), id, prodVoiceNotify, false)
		wantDetail(t, d, map[string]string{"state": "200001", "callee": subHangsUp})
		checkAnswered(t, d)
		hungUp := false
		for _, e := range transcript(t, s, id) {
			hungUp = hungUp || (e.Kind == "hangup" && e.By == "subscriber")
		}
		if !hungUp {
			t.Errorf("the transcript has no hang-up by the subscriber")
		}
	})
}

// ivrCalls: IvrCall (§3.3) with MenuKeyMap as each SDK's own request struct.
func (e *callsEnv) ivrCalls(t *testing.T) {
	s := e.s
	ivrMenu := [][2]string{{"1", tplSales}, {"2", tplSupport}}
	// The subscriber presses at once; a long key timeout (1.2 s of wall
	// time) keeps a busy machine from turning that into 200008.
	const keyTimeoutMs = 60000
	checkIVRKey := func(t *testing.T, q detailFunc, id string) {
		t.Helper()
		d := waitFinal(t, q, id, prodIVR, false)
		wantDetail(t, d, map[string]string{"state": "200000", "callee": subPresses2, "calleeShowNumber": showNumber})
		checkAnswered(t, d)
		noDataForOtherProd(t, q, id, prodVoiceNotify)
		ev := events(t, s, id)
		var dtmf, menuPlayed, byePlayed bool
		for _, e := range ev.Events {
			if e.Type == "dtmf" && e.StatusCode == "300000" && e.Detail["digits"] == "2" {
				dtmf = true
			}
			if e.Type == "play" && e.Detail["code"] == tplSupport {
				menuPlayed = dtmf
			}
			if e.Type == "play" && e.Detail["code"] == tplBye {
				byePlayed = menuPlayed
			}
			if e.Type == "play" && e.Detail["code"] == tplSales {
				t.Errorf("the prompt of key 1 played; the subscriber pressed 2")
			}
		}
		if !dtmf || !menuPlayed || !byePlayed {
			t.Errorf("events: dtmf 2 with 300000 %v, then %s played %v, then %s %v; want all\n%s", dtmf, tplSupport, menuPlayed, tplBye, byePlayed, ev)
		}
	}
	checkIVRTimeout := func(t *testing.T, q detailFunc, id string) {
		t.Helper()
		d := waitFinal(t, q, id, prodIVR, false)
		wantDetail(t, d, map[string]string{"state": "200008", "callee": subNeverKeys})
		checkAnswered(t, d)
		for _, e := range events(t, s, id).Events {
			if e.Type == "dtmf" {
				t.Errorf("a dtmf event for a subscriber that never pressed: %v", e)
			}
		}
	}
	t.Run("IvrCall/key/v4.2.1", func(t *testing.T) {
		t.Parallel()
		c := newV4(t, s)
		var menu []*vms4.IvrCallRequestMenuKeyMap
		for _, m := range ivrMenu {
			menu = append(menu, &vms4.IvrCallRequestMenuKeyMap{Key: tea.String(m[0]), Code: tea.String(m[1])})
		}
		resp, err := c.IvrCall(&vms4.IvrCallRequest{CalledNumber: tea.String(subPresses2), CalledShowNumber: tea.String(showNumber),
			StartCode: tea.String(tplIVRMenu), MenuKeyMap: menu, ByeCode: tea.String(tplBye), Timeout: tea.Int32(keyTimeoutMs)})
		if err != nil {
			t.Fatal(err)
		}
		id := mustOK(t, "IvrCall", resp.Body.Code, resp.Body.CallId)
		checkIVRKey(t, detailV4(c), id)
	})
	t.Run("IvrCall/key/v1.2.1", func(t *testing.T) {
		t.Parallel()
		c := newV1(t, s)
		var menu []*vms1.IvrCallRequestMenuKeyMap
		for _, m := range ivrMenu {
			// v1.2.1 declares TtsParams required.
			menu = append(menu, &vms1.IvrCallRequestMenuKeyMap{Key: tea.String(m[0]), Code: tea.String(m[1]), TtsParams: tea.String("{}")})
		}
		resp, err := c.IvrCall(&vms1.IvrCallRequest{CalledNumber: tea.String(subPresses2), CalledShowNumber: tea.String(showNumber),
			StartCode: tea.String(tplIVRMenu), MenuKeyMap: menu, ByeCode: tea.String(tplBye), Timeout: tea.Int(keyTimeoutMs)})
		if err != nil {
			t.Fatal(err)
		}
		id := mustOK(t, "IvrCall", resp.Code, resp.CallId)
		checkIVRKey(t, detailV1(c), id)
	})
	t.Run("IvrCall/dtmfTimeout/v4.2.1", func(t *testing.T) {
		t.Parallel()
		c := newV4(t, s)
		resp, err := c.IvrCall(&vms4.IvrCallRequest{CalledNumber: tea.String(subNeverKeys), CalledShowNumber: tea.String(showNumber),
			StartCode: tea.String(tplIVRMenu), Timeout: tea.Int32(3000),
			MenuKeyMap: []*vms4.IvrCallRequestMenuKeyMap{{Key: tea.String("1"), Code: tea.String(tplSales)}}})
		if err != nil {
			t.Fatal(err)
		}
		id := mustOK(t, "IvrCall", resp.Body.Code, resp.Body.CallId)
		checkIVRTimeout(t, detailV4(c), id)
	})
	t.Run("IvrCall/dtmfTimeout/alibaba-cloud-sdk-go", func(t *testing.T) {
		t.Parallel()
		c := newSDKGo(t, s)
		req := dyvmsapi.CreateIvrCallRequest()
		req.CalledNumber, req.CalledShowNumber, req.StartCode = subNeverKeys, showNumber, tplIVRMenu
		req.Timeout = requests.NewInteger(3000)
		req.MenuKeyMap = &[]dyvmsapi.IvrCallMenuKeyMap{{Key: "1", Code: tplSales}, {Key: "2", Code: tplSupport}}
		resp, err := c.IvrCall(req)
		if err != nil {
			t.Fatal(err)
		}
		id := mustOK(t, "IvrCall", &resp.Code, &resp.CallId)
		checkIVRTimeout(t, detailSDKGo(c), id)
	})
}

// clickToDialCalls: ClickToDial (§3.4) and CancelCall (§3.5) in each phase.
func (e *callsEnv) clickToDialCalls(t *testing.T) {
	s := e.s
	type ctdClient struct {
		name   string
		dial   func(t *testing.T, caller, callee string) string
		cancel func(t *testing.T, callID string) bool
		detail detailFunc
	}
	v1c := func(t *testing.T) ctdClient {
		c := newV1(t, s)
		return ctdClient{"v1.2.1",
			func(t *testing.T, caller, callee string) string {
				r, err := c.ClickToDial(&vms1.ClickToDialRequest{CallerShowNumber: tea.String(showNumber), CallerNumber: tea.String(caller),
					CalledShowNumber: tea.String(showNumber2), CalledNumber: tea.String(callee)})
				if err != nil {
					t.Fatal(err)
				}
				return mustOK(t, "ClickToDial", r.Code, r.CallId)
			},
			func(t *testing.T, id string) bool {
				r, err := c.CancelCall(&vms1.CancelCallRequest{CallId: tea.String(id)})
				if err != nil || tea.StringValue(r.Code) != "OK" || r.Status == nil {
					t.Fatalf("CancelCall: %v %v", err, r)
				}
				return *r.Status
			},
			detailV1(c)}
	}
	sdkc := func(t *testing.T) ctdClient {
		c := newSDKGo(t, s)
		return ctdClient{"alibaba-cloud-sdk-go",
			func(t *testing.T, caller, callee string) string {
				req := dyvmsapi.CreateClickToDialRequest()
				req.CallerShowNumber, req.CallerNumber, req.CalledShowNumber, req.CalledNumber = showNumber, caller, showNumber2, callee
				r, err := c.ClickToDial(req)
				if err != nil {
					t.Fatal(err)
				}
				return mustOK(t, "ClickToDial", &r.Code, &r.CallId)
			},
			func(t *testing.T, id string) bool {
				req := dyvmsapi.CreateCancelCallRequest()
				req.CallId = id
				r, err := c.CancelCall(req)
				if err != nil || r.Code != "OK" || !strings.Contains(r.GetHttpContentString(), `"Status":`) {
					t.Fatalf("CancelCall: %v %v", err, r)
				}
				return r.Status
			},
			detailSDKGo(c)}
	}
	// v2.0.2 has ClickToDial too; v6.0.0 has CancelCall but not ClickToDial.
	v2c := func(t *testing.T) ctdClient {
		c := newV2(t, s)
		c6 := newV6(t, s)
		return ctdClient{"v2.0.2+v6.0.0",
			func(t *testing.T, caller, callee string) string {
				r, err := c.ClickToDial(&vms2.ClickToDialRequest{CallerShowNumber: tea.String(showNumber), CallerNumber: tea.String(caller),
					CalledShowNumber: tea.String(showNumber2), CalledNumber: tea.String(callee)})
				if err != nil {
					t.Fatal(err)
				}
				return mustOK(t, "ClickToDial", r.Body.Code, r.Body.CallId)
			},
			func(t *testing.T, id string) bool {
				r, err := c6.CancelCall(&vms6.CancelCallRequest{CallId: tea.String(id)})
				if err != nil || tea.StringValue(r.GetBody().GetCode()) != "OK" || r.GetBody().GetStatus() == nil {
					t.Fatalf("CancelCall: %v %v", err, r)
				}
				return *r.GetBody().GetStatus()
			},
			detailV2(c)}
	}
	for _, cl := range []struct {
		name string
		mk   func(*testing.T) ctdClient
	}{{"v1.2.1", v1c}, {"alibaba-cloud-sdk-go", sdkc}, {"v2.0.2+v6.0.0", v2c}} {
		name, mk := cl.name, cl.mk
		t.Run("ClickToDial/completed/"+name, func(t *testing.T) {
			t.Parallel()
			c := mk(t)
			id := c.dial(t, ctdCaller, ctdCallee)
			d := waitFinal(t, c.detail, id, prodClickToDial, true)
			wantDetail(t, d, map[string]string{"state": "200000", "caller": ctdCaller, "callee": ctdCallee,
				"callerShowNumber": showNumber, "calleeShowNumber": showNumber2})
			checkAnswered(t, d)
			checkLegTimes(t, d, true)
			// The callee talks 5 s; duration rounds up, and at time scale
			// 0.02 every millisecond of scheduling delay is 50 ms of call.
			if dur := d["duration"].(float64); dur < 5 || dur > 10 {
				t.Errorf("duration = %v; want 5 to 10 (the callee talks 5 s)", dur)
			}
			noDataForOtherProd(t, c.detail, id, prodVoiceNotify)
			if c.cancel(t, id) {
				t.Errorf("CancelCall on a finished call: Status true; want false")
			}
		})
		for _, ph := range []struct {
			phase, caller, callee, state string
			reached                      func(map[string]any) bool
			bridged                      bool
		}{
			{"callerRinging", ctdCallerLng, ctdCalleeOn, "200003", func(d map[string]any) bool {
				return d["state"] == "200201" && d["aRingTime"] != ""
			}, false},
			{"calleeRinging", ctdCaller, ctdCalleeLng, "200113", func(d map[string]any) bool {
				return d["bRingTime"] != "" && d["state"] == "200102"
			}, false},
			{"bridged", ctdCaller, ctdCalleeOn, "200000", func(d map[string]any) bool {
				return d["state"] == "200103"
			}, true},
		} {
			t.Run("CancelCall/"+ph.phase+"/"+name, func(t *testing.T) {
				t.Parallel()
				c := mk(t)
				id := c.dial(t, ph.caller, ph.callee)
				waitDetail(t, c.detail, id, prodClickToDial, ph.phase, func(d map[string]any) bool {
					if isFinal(d) {
						t.Fatalf("call ended before %s: %v", ph.phase, d)
					}
					return ph.reached(d)
				})
				if !c.cancel(t, id) {
					t.Fatalf("CancelCall while %s: Status false; want true", ph.phase)
				}
				d := waitFinal(t, c.detail, id, prodClickToDial, true)
				if c.cancel(t, id) {
					t.Errorf("second CancelCall: Status true; want false")
				}
				wantDetail(t, d, map[string]string{"state": ph.state, "caller": ph.caller, "callee": ph.callee})
				if ph.bridged {
					checkAnswered(t, d)
				} else {
					checkUnanswered(t, d)
				}
				checkLegTimes(t, d, ph.phase != "callerRinging")
				if ev := events(t, s, id); ev.Reason != "cancelled" {
					t.Errorf("events: reason %q; want cancelled\n%s", ev.Reason, ev)
				}
			})
		}
	}
}

// smartCalls: SmartCall with the callback server (§3.6, §5) and
// SmartCallOperate (§3.7).
func (e *callsEnv) smartCalls(t *testing.T) {
	s, cb := e.s, e.cb
	t.Run("SmartCall/dialogue/v4.2.1", func(t *testing.T) {
		t.Parallel()
		c := newV4(t, s)
		resp, err := c.SmartCall(&vms4.SmartCallRequest{CalledNumber: tea.String(subTalks), CalledShowNumber: tea.String(showNumber),
			VoiceCode: tea.String("$greet$"), VoiceCodeParam: tea.String(`{"greet":"您好，这里是客服中心"}`), DynamicId: tea.String("dialog-1"), MuteTime: tea.Int32(20000)})
		if err != nil {
			t.Fatal(err)
		}
		id := mustOK(t, "SmartCall", resp.Body.Code, resp.Body.CallId)
		q := detailV4(c)
		d := waitFinal(t, q, id, prodSmartCall, false)
		wantDetail(t, d, map[string]string{"state": "200000", "callee": subTalks, "calleeShowNumber": showNumber})
		checkAnswered(t, d)
		noDataForOtherProd(t, q, id, prodIVR)

		created, ended := chinaTime(t, d["gmtCreate"]), chinaTime(t, d["endDate"])
		reqs := cb.requests(id)
		var words, dyn []string
		for i, r := range reqs {
			if r.Err != "" || r.Method != http.MethodPost || !strings.HasPrefix(r.ContentTypeHeader, "application/x-www-form-urlencoded") {
				t.Errorf("callback %d: %s %q %s", i, r.Method, r.ContentTypeHeader, r.Err)
			}
			if r.CallID != id {
				t.Errorf("callback %d: call_id %q; want %q", i, r.CallID, id)
			}
			// The platform's clock is the simulated one (it runs 50 times
			// faster): the timestamp lies between gmtCreate and endDate.
			ts, err := strconv.ParseInt(r.Timestamp, 10, 64)
			if err != nil || ts < created.UnixMilli() || ts > ended.Add(time.Second).UnixMilli() {
				t.Errorf("callback %d: timestamp %q; want Unix milliseconds between gmtCreate %s and endDate %s", i, r.Timestamp, d["gmtCreate"], d["endDate"])
			}
			if r.Type == "normal" {
				words = append(words, r.Content["words"])
				dyn = append(dyn, r.Content["dynamic_id"])
			}
		}
		if want := []string{"我想查询订单", "好的谢谢"}; !slices.Equal(words, want) {
			t.Errorf("callback words %q; want %q (all callbacks: %+v)", words, want, reqs)
		}
		if want := []string{"dialog-1", "dialog-2"}; !slices.Equal(dyn, want) {
			t.Errorf("callback dynamic_id %q; want %q (the request's DynamicId, then the one the callback answered)", dyn, want)
		}
		// The subscriber heard the greeting, then the callback's $tts$.
		var heard []string
		for _, e := range transcript(t, s, id) {
			if e.Kind == "play" {
				heard = append(heard, e.Text)
			}
		}
		if len(heard) != 2 || !strings.Contains(heard[0], "客服中心") || !strings.Contains(heard[1], dialogReply) {
			t.Errorf("the subscriber heard %q; want the greeting, then %q", heard, dialogReply)
		}
	})
	t.Run("SmartCallOperate/parallelBridge/v4.2.1", func(t *testing.T) {
		t.Parallel()
		c := newV4(t, s)
		resp, err := c.SmartCall(&vms4.SmartCallRequest{CalledNumber: tea.String(subSilent), CalledShowNumber: tea.String(showNumber),
			VoiceCode: tea.String("$greet$"), VoiceCodeParam: tea.String(`{"greet":"请稍候"}`), DynamicId: tea.String("hold"), MuteTime: tea.Int32(2000)})
		if err != nil {
			t.Fatal(err)
		}
		id := mustOK(t, "SmartCall", resp.Body.Code, resp.Body.CallId)
		cb.waitFirst(t, id) // answered, greeted, silent: live and held by the callback
		operate := func() bool {
			r, err := c.SmartCallOperate(&vms4.SmartCallOperateRequest{CallId: tea.String(id), Command: tea.String("parallelBridge"), Param: tea.String("agent-7")})
			if err != nil || tea.StringValue(r.Body.Code) != "OK" || r.Body.Status == nil {
				t.Fatalf("SmartCallOperate: %v %v", err, r)
			}
			return *r.Body.Status
		}
		ok := operate()
		cb.release(id)
		if !ok {
			t.Errorf("SmartCallOperate parallelBridge on a live call: Status false; want true")
		}
		q := detailV4(c)
		d := waitFinal(t, q, id, prodSmartCall, false)
		wantDetail(t, d, map[string]string{"state": "200000", "callee": subSilent})
		if operate() {
			t.Errorf("SmartCallOperate on a finished call: Status true; want false")
		}
		ev := events(t, s, id)
		found := false
		for _, e := range ev.Events {
			found = found || (e.Type == "operate" && e.Detail["command"] == "parallelBridge" && e.Detail["param"] == "agent-7")
		}
		if !found {
			t.Errorf("no operate event with command parallelBridge and param agent-7:\n%s", ev)
		}
		for i, r := range cb.requests(id) {
			if r.Type != "mute" || r.Content["dynamic_id"] != "hold" {
				t.Errorf("callback %d: content_type %q dynamic_id %q; want mute, hold", i, r.Type, r.Content["dynamic_id"])
			}
		}
	})
	t.Run("SmartCall/dialogue/alibaba-cloud-sdk-go", func(t *testing.T) {
		t.Parallel()
		c := newSDKGo(t, s)
		req := dyvmsapi.CreateSmartCallRequest()
		req.CalledNumber, req.CalledShowNumber = subTalks, showNumber2
		req.VoiceCode, req.VoiceCodeParam, req.DynamicId = "$greet$", `{"greet":"您好"}`, "dialog-1"
		req.MuteTime = requests.NewInteger(20000)
		resp, err := c.SmartCall(req)
		if err != nil {
			t.Fatal(err)
		}
		id := mustOK(t, "SmartCall", &resp.Code, &resp.CallId)
		d := waitFinal(t, detailSDKGo(c), id, prodSmartCall, false)
		wantDetail(t, d, map[string]string{"state": "200000", "callee": subTalks, "calleeShowNumber": showNumber2})
		var words []string
		for _, r := range cb.requests(id) {
			if r.Type == "normal" {
				words = append(words, r.Content["words"])
			}
		}
		if want := []string{"我想查询订单", "好的谢谢"}; !slices.Equal(words, want) {
			t.Errorf("callback words %q; want %q", words, want)
		}
	})
}

// checkLegTimes: A rang and ended; B rang (when it was dialled) and ended.
func checkLegTimes(t *testing.T, d map[string]any, bDialled bool) {
	t.Helper()
	for _, k := range []string{"aRingTime", "aEndTime"} {
		if s, _ := d[k].(string); !validTime(s) {
			t.Errorf("%s = %q; want a time (Data %v)", k, s, d)
		}
	}
	for _, k := range []string{"bRingTime", "bEndTime"} {
		s, _ := d[k].(string)
		if bDialled && !validTime(s) {
			t.Errorf("%s = %q; want a time (Data %v)", k, s, d)
		}
		if !bDialled && s != "" {
			t.Errorf("%s = %q; want \"\": B was never dialled", k, s)
		}
	}
}

func transcriptHas(t *testing.T, s *dialtone, callID, kind, text string) bool {
	t.Helper()
	for _, e := range transcript(t, s, callID) {
		if e.Kind == kind && strings.Contains(e.Text, text) {
			return true
		}
	}
	return false
}
