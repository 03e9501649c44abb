package compat

// The environment the Java (java/) and Python (python/) suites run in:
// a calls server of their own (testdata/calls.yaml, with the SmartCall
// callback server of calls_test.go), the shared main and short-window
// servers for the key error cases, and one recording proxy per mode in
// front of them. The suites get the addresses and keys from environment
// variables, place real calls through the official clients, and append
// one JSON line per call to a results file, which the Go side checks
// against the server's own record of the call. The Go side also fetches
// the console's API Explorer snippets (Java and Python) for the suites to
// run as copied.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// The console user of testdata/calls.yaml (a test-only value).
const (
	consoleUser = "compat"
	consolePass = "compat-console-password-1"
)

type clientsEnv struct {
	calls, main, short *dialtone
	cb                 *smartCallback
	pass, dup, delay   *proxy
	dir                string // snippets and results
	results            string
}

func newClientsEnv(t *testing.T) *clientsEnv {
	t.Helper()
	e := &clientsEnv{cb: newSmartCallback(t)}
	e.calls = startCallsServer(t, e.cb)
	e.main, e.short = mainServer(t), shortServer(t)
	e.pass = newProxy(t, e.main, modePass)
	e.dup = newProxy(t, e.main, modeDuplicate)
	e.delay = newProxy(t, e.short, modeDelay)
	dir, err := os.MkdirTemp(workDir, "clients-")
	if err != nil {
		t.Fatal(err)
	}
	e.dir = dir
	e.results = filepath.Join(dir, "results.jsonl")
	// A short visibility timeout, so that a deleted receipt not coming
	// back is seen quickly (java ReceiptsTest).
	adminPut(t, e.calls, "/admin/v1/accounts/"+callsUID+"/subscriptions/VoiceReport", `{"queue": true, "visibility_timeout_seconds": 2}`)
	e.writeSnippets(t)
	return e
}

func (e *clientsEnv) environ() []string {
	return append(os.Environ(),
		"DIALTONE_CALLS_ENDPOINT="+e.calls.addr,
		"DIALTONE_CALLS_UID="+callsUID,
		"DIALTONE_CALLS_AK="+callsAK,
		"DIALTONE_CALLS_SECRET="+callsSecret,
		"DIALTONE_PASS_PROXY="+e.pass.hostPort(),
		"DIALTONE_DUP_PROXY="+e.dup.hostPort(),
		"DIALTONE_DELAY_PROXY="+e.delay.hostPort(),
		"DIALTONE_FULL_AK="+fullAK,
		"DIALTONE_FULL_SECRET="+fullSecret,
		"DIALTONE_DISABLED_AK="+disabledAK,
		"DIALTONE_DISABLED_SECRET="+disabledSec,
		"DIALTONE_MNSONLY_AK="+mnsOnlyAK,
		"DIALTONE_MNSONLY_SECRET="+mnsOnlySecret,
		"DIALTONE_UNKNOWN_AK="+unknownAK,
		"DIALTONE_WRONG_SECRET="+wrongSecret,
		"DIALTONE_SNIPPETS="+filepath.Join(e.dir, "snippets"),
		"DIALTONE_RESULTS="+e.results,
	)
}

// explorerCalls are the Explorer requests whose snippets the suites run.
// Each sets an OutId, by which the suite finds the call's receipt.
var explorerCalls = []struct {
	name, action string
	params       map[string]string
}{
	{"tts", "SingleCallByTts", map[string]string{"CalledNumber": subListens, "CalledShowNumber": showNumber,
		"TtsCode": tplNotify, "TtsParam": `{"name":"Explorer","order":"E-1"}`, "PlayTimes": "1", "OutId": "explorer-tts"}},
	{"ivr", "IvrCall", map[string]string{"CalledNumber": subPresses2, "CalledShowNumber": showNumber, "StartCode": tplIVRMenu,
		"MenuKeyMap": `[{"Key":"1","Code":"` + tplSales + `"},{"Key":"2","Code":"` + tplSupport + `"}]`, "ByeCode": tplBye,
		"PlayTimes": "1", "Timeout": "3000", "OutId": "explorer-ivr"}},
	{"clicktodial", "ClickToDial", map[string]string{"CallerNumber": ctdCaller, "CallerShowNumber": showNumber,
		"CalledNumber": ctdCallee, "CalledShowNumber": showNumber2, "OutId": "explorer-ctd"}},
}

// writeSnippets signs in to the calls server's console as a user of the
// account, asks the Explorer for the code of each call in explorerCalls
// with the account's key, and writes the Java and Python snippets of both
// generations the page shows: snippets/java/<generation>/<name>/Example.java
// and snippets/python/<generation>/<name>.py, generation "seed" (tea-rpc)
// or "newest".
func (e *clientsEnv) writeSnippets(t *testing.T) {
	t.Helper()
	ec := newExplorerConsole(t, e.calls)
	for _, c := range explorerCalls {
		snips := ec.code(t, c.action, c.params)
		for _, gen := range []string{"seed", "newest"} {
			java, py := snips["java-"+gen].Code, snips["python-"+gen].Code
			if !strings.Contains(java, "class Example") || !strings.Contains(py, "import") {
				t.Fatalf("Explorer snippets for %s lack Java or Python (%s):\n%s\n%s", c.action, gen, java, py)
			}
			write(t, filepath.Join(e.dir, "snippets", "java", gen, c.name, "Example.java"), java)
			write(t, filepath.Join(e.dir, "snippets", "python", gen, c.name+".py"), py)
		}
	}
}

func write(t *testing.T, path, s string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// clientResult is one line of the results file: a call a suite placed and
// what the client and the receipt said of its end.
type clientResult struct {
	Suite   string `json:"suite"`
	Client  string `json:"client"`
	Action  string `json:"action"`
	CallID  string `json:"call_id"`
	State   string `json:"state"`   // final state by QueryCallDetailByCallId
	Receipt string `json:"receipt"` // status_code of the VoiceReport
}

// checkResults reads the calls the suite reported and checks each against
// the server's record; it returns them for the summary.
func (e *clientsEnv) checkResults(t *testing.T, suite string, wantMin int) []clientResult {
	t.Helper()
	f, err := os.Open(e.results)
	if err != nil {
		t.Fatalf("%s suite wrote no results: %v", suite, err)
	}
	defer f.Close()
	var out []clientResult
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r clientResult
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("results line %q: %v", sc.Text(), err)
		}
		if r.Suite != suite {
			continue
		}
		out = append(out, r)
		var ev struct {
			Call   map[string]any `json:"call"`
			Events []callEvent    `json:"events"`
		}
		adminGet(t, e.calls, "/admin/v1/accounts/"+callsUID+"/calls/"+url.PathEscape(r.CallID)+"/events", &ev)
		if st, _ := ev.Call["state"].(string); st != r.State || r.State != r.Receipt || liveStates[st] || st == "" {
			t.Errorf("%s %s %s: the client saw state %q and receipt %q; the server has %q", r.Client, r.Action, r.CallID, r.State, r.Receipt, st)
		}
		if r.Action == "IvrCall" || r.Action == "ivr" {
			// The subscriber pressed 2; key 2's prompt followed.
			var pressed, played bool
			for _, x := range ev.Events {
				pressed = pressed || x.Type == "dtmf" && x.StatusCode == "300000" && x.Detail["digits"] == "2"
				played = played || pressed && x.Type == "play" && x.Detail["code"] == tplSupport
			}
			if !pressed || !played {
				t.Errorf("%s IvrCall %s: key 2 pressed %v, its prompt played %v", r.Client, r.CallID, pressed, played)
			}
		}
		if r.Action == ivrSeedAction {
			e.checkSeedIVR(t, r, ev.Events)
		}
		if r.Action == "SmartCall" && len(e.cb.requests(r.CallID)) == 0 {
			t.Errorf("%s SmartCall %s: the callback server got no request for the call", r.Client, r.CallID)
		}
	}
	if len(out) < wantMin {
		t.Errorf("%s suite reported %d calls; want at least %d", suite, len(out), wantMin)
	}
	// Every client that placed an IvrCall with a menu also placed the
	// seed's, without one.
	withMenu, seed := map[string]bool{}, map[string]bool{}
	for _, r := range out {
		withMenu[r.Client] = withMenu[r.Client] || r.Action == "IvrCall"
		seed[r.Client] = seed[r.Client] || r.Action == ivrSeedAction
	}
	for c := range withMenu {
		if withMenu[c] && !seed[c] {
			t.Errorf("%s placed an IvrCall with a menu but not the seed's IvrCall (%s)", c, ivrSeedAction)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Client != out[j].Client {
			return out[i].Client < out[j].Client
		}
		return out[i].Action < out[j].Action
	})
	var b strings.Builder
	for _, r := range out {
		fmt.Fprintf(&b, "  %-34s %-24s %s state %s receipt %s\n", r.Client, r.Action, r.CallID, r.State, r.Receipt)
	}
	t.Logf("%s calls:\n%s", suite, b.String())
	return out
}

// ivrSeedAction names, in the results file, the IvrCall each client places
// as the seed's sample (§4.2) writes it: no MenuKeyMap, StartCode
// TTS_713900000, StartTtsParams {product:'aliyun',code:'123'}, to a
// subscriber who never presses a key.
const ivrSeedAction = "IvrCallSeed"

// checkSeedIVR checks the server's record of a seed-shaped IvrCall: to the
// subscriber who never presses, the start prompt played once (PlayTimes
// defaults to 1) with the sample's variables filled in, nothing else
// played, no key pressed.
func (e *clientsEnv) checkSeedIVR(t *testing.T, r clientResult, events []callEvent) {
	t.Helper()
	var starts int
	for _, x := range events {
		switch {
		case x.Type == "dtmf":
			t.Errorf("%s %s %s: a dtmf event %v; the subscriber never presses", r.Client, r.Action, r.CallID, x)
		case x.Type == "play" && x.Detail["code"] == tplSeedIVR:
			starts++
		case x.Type == "play":
			t.Errorf("%s %s %s: %s played; only the start prompt %s should", r.Client, r.Action, r.CallID, x.Detail["code"], tplSeedIVR)
		}
	}
	if starts != 1 {
		t.Errorf("%s %s %s: the start prompt %s played %d times; want 1\n%s", r.Client, r.Action, r.CallID, tplSeedIVR, starts, callEvents{Events: events})
	}
	var heard []string
	for _, x := range transcript(t, e.calls, r.CallID) {
		if x.Kind == "play" {
			heard = append(heard, x.Text)
		}
	}
	// testdata/calls.yaml: 欢迎使用${product}，您的验证码是${code}。
	const want = "欢迎使用aliyun，您的验证码是123。"
	if len(heard) != 1 || !strings.Contains(heard[0], want) {
		t.Errorf("%s %s %s: the subscriber heard %q; want the start prompt once, %q", r.Client, r.Action, r.CallID, heard, want)
	}
}

// checkTraffic checks what passed through the error-case proxies: every
// answer JSON; every replayed request first accepted, then refused; every
// delayed one expired.
func (e *clientsEnv) checkTraffic(t *testing.T, wantPass, wantDup, wantDelay int) {
	t.Helper()
	count := func(p *proxy, what string, want int) []exchange {
		ex := p.recorded()
		if len(ex) < want {
			t.Errorf("%s proxy forwarded %d requests; want at least %d", what, len(ex), want)
		}
		for i, x := range ex {
			if x.Err != nil {
				t.Errorf("%s proxy, exchange %d: %v", what, i+1, x.Err)
				continue
			}
			checkJSONContentType(t, x)
			if bodyRequestID(x.RespBody) == "" {
				t.Errorf("%s proxy, exchange %d: no RequestId in %s", what, i+1, x.RespBody)
			}
		}
		return ex
	}
	count(e.pass, "pass", wantPass)
	dup := count(e.dup, "duplicate", 2*wantDup)
	if len(dup)%2 != 0 {
		t.Errorf("duplicate proxy forwarded %d requests; want pairs", len(dup))
	}
	for i := 0; i+1 < len(dup); i += 2 {
		if dup[i].Status != 200 || bodyCode(dup[i].RespBody) != "OK" || dup[i+1].Status != 400 || bodyCode(dup[i+1].RespBody) != "SignatureNonceUsed" {
			t.Errorf("replay %d: first copy %d %s, second %d %s; want 200 OK, then 400 SignatureNonceUsed",
				i/2+1, dup[i].Status, bodyCode(dup[i].RespBody), dup[i+1].Status, bodyCode(dup[i+1].RespBody))
		}
	}
	for i, x := range count(e.delay, "delay", wantDelay) {
		if x.Status != 400 || bodyCode(x.RespBody) != "InvalidTimeStamp.Expired" {
			t.Errorf("delayed request %d: %d %s; want 400 InvalidTimeStamp.Expired", i+1, x.Status, bodyCode(x.RespBody))
		}
	}
}

func bodyRequestID(b []byte) string {
	var m map[string]any
	if json.Unmarshal(b, &m) != nil {
		return ""
	}
	s, _ := m["RequestId"].(string)
	return s
}
