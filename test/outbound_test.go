package test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone/sdk"
)

// The requests Dialtone sends on an account's behalf, from the outside: a
// node started with --egress-allow 127.0.0.1 pushes receipts and SmartCall
// callbacks to loopback receivers; every request's X-Dialtone-Signature
// verifies with the Go SDK and with the README's Python and Node recipes,
// run by python3 and node; during a rotation (admin API) both secrets
// verify, after its grace only the new one. An account user's console
// session may set a loopback push URL because the operator allowed
// 127.0.0.1, and may not set a private one.

// sigReceiver records each request's signature header and raw body and
// answers with answer.
type sigReceiver struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []signed
}

type signed struct {
	Header string
	Body   []byte
}

func newSigReceiver(t *testing.T, answer string) *sigReceiver {
	r := &sigReceiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.reqs = append(r.reqs, signed{req.Header.Get("X-Dialtone-Signature"), body})
		r.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, answer)
	}))
	t.Cleanup(r.Close)
	return r
}

// wait returns the first request whose body holds s (a call ID).
func (r *sigReceiver) wait(t *testing.T, s, what string) signed {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		r.mu.Lock()
		for _, q := range r.reqs {
			if strings.Contains(string(q.Body), s) || strings.Contains(string(q.Body), url.QueryEscape(s)) {
				r.mu.Unlock()
				return q
			}
		}
		r.mu.Unlock()
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s: no request about %s", what, s)
	return signed{}
}

// any returns the first request.
func (r *sigReceiver) any(t *testing.T, what string) signed { return r.wait(t, "", what) }

const outboundProvision = `
accounts:
  - uid: "1001"
    name: outbound
    access_keys:
      - id: LTAIoutbound0000000001
        secret: outboundSecret000000000000000001
    numbers:
      - {number: "057188880000", concurrency: 20}
    tts_templates:
      - {code: TTS_100001, kind: notification, content: "您好，${name}"}
    flow_control: {per_minute: 0, per_hour: 0, per_day: 0}
    subscriptions:
      - {message_type: VoiceReport, push_url: PUSH_URL, push_secret: push-secret-1}
    smartcall_callback_url: CALLBACK_URL
    smartcall_callback_secret: callback-secret-1
console_users:
  - {username: alice, password: alice-password-1, account: "1001"}
network:
  time_scale: 0.05
  subscribers:
    - {number: "13800000001", answer_after: 1s, hangup_after: 1s}
    - {number: "13800000003", answer_after: 1s, say: ["你好"]}
`

func TestOutboundSignedRequests(t *testing.T) {
	for _, tool := range []string{"python3", "node"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is needed to run the README's recipe: %v", tool, err)
		}
	}
	push := newSigReceiver(t, `{"code":0,"msg":"ok"}`)
	callback := newSigReceiver(t, `{"result":"success","code":200,"msg":"成功","data":{"action":"hangup"}}`)
	dir := t.TempDir()
	prov := filepath.Join(dir, "provision.yaml")
	doc := strings.NewReplacer("PUSH_URL", push.URL+"/receipts", "CALLBACK_URL", callback.URL+"/smartcall").Replace(outboundProvision)
	if err := os.WriteFile(prov, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	const token = "outbound-admin-token"
	n := startNode(t, filepath.Join(dir, "data"), []string{"DIALTONE_ADMIN_TOKEN=" + token}, "--provision", prov, "--egress-allow", "127.0.0.1")
	api, err := sdk.New(sdk.Config{AccessKeyID: "LTAIoutbound0000000001", AccessKeySecret: "outboundSecret000000000000000001", Endpoint: n.url()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	// calls places a TTS call and a SmartCall, and returns the push of the
	// TTS call's VoiceReport and the SmartCall's first callback.
	calls := func(what string) (signed, signed) {
		t.Helper()
		tts, err := api.SingleCallByTts(ctx, sdk.TtsCall{CalledNumber: "13800000001", CalledShowNumber: "057188880000",
			TtsCode: "TTS_100001", TtsParam: map[string]string{"name": "李雷"}})
		if err != nil {
			t.Fatal(err)
		}
		smart, err := api.SmartCall(ctx, sdk.SmartCall{CalledNumber: "13800000003", CalledShowNumber: "057188880000",
			VoiceCode: "$g$", VoiceCodeParam: map[string]string{"g": "您好"}})
		if err != nil {
			t.Fatal(err)
		}
		return push.wait(t, tts.CallID, "push "+what), callback.wait(t, smart.CallID, "callback "+what)
	}
	verifiers := readmeVerifiers(t, dir)

	// The provisioned secrets sign the first push and callback.
	p1, c1 := calls("signed with the provisioned secrets")
	checkSigned(t, verifiers, "push", p1, []string{"push-secret-1"}, []string{"callback-secret-1", "push-secret-2"})
	checkSigned(t, verifiers, "callback", c1, []string{"callback-secret-1"}, []string{"push-secret-1", "callback-secret-2"})
	if strings.Count(p1.Header, "v1=") != 1 || strings.Count(c1.Header, "v1=") != 1 {
		t.Errorf("one secret, one signature: %q, %q", p1.Header, c1.Header)
	}

	// Rotation through the admin API, with a grace: both secrets sign.
	const grace = 6 * time.Second
	rotated := time.Now()
	adminPut(t, n, token, "/admin/v1/accounts/1001/subscriptions/VoiceReport",
		fmt.Sprintf(`{"queue": false, "push_url": %q, "push_secret": "push-secret-2", "push_secret_grace_seconds": %d}`, push.URL+"/receipts", int(grace/time.Second)))
	adminPut(t, n, token, "/admin/v1/accounts/1001/settings",
		fmt.Sprintf(`{"smartcall_callback_secret": "callback-secret-2", "smartcall_callback_secret_grace_seconds": %d}`, int(grace/time.Second)))
	p2, c2 := calls("during the rotation")
	if time.Since(rotated) >= grace {
		t.Fatalf("the calls took longer than the grace (%s): the machine is too slow for this test", grace)
	}
	if strings.Count(p2.Header, "v1=") != 2 || strings.Count(c2.Header, "v1=") != 2 {
		t.Errorf("during the grace, two signatures each: %q, %q", p2.Header, c2.Header)
	}
	checkSigned(t, verifiers, "push during the rotation", p2, []string{"push-secret-2", "push-secret-1"}, []string{"callback-secret-2"})
	checkSigned(t, verifiers, "callback during the rotation", c2, []string{"callback-secret-2", "callback-secret-1"}, []string{"push-secret-2"})

	// After the grace, only the new secrets sign.
	time.Sleep(time.Until(rotated.Add(grace + time.Second)))
	p3, c3 := calls("after the rotation")
	checkSigned(t, verifiers, "push after the rotation", p3, []string{"push-secret-2"}, []string{"push-secret-1"})
	checkSigned(t, verifiers, "callback after the rotation", c3, []string{"callback-secret-2"}, []string{"callback-secret-1"})

	// The audit trail names who rotated, never the secrets.
	code, body := getAuth(t, n.url()+"/admin/v1/audit?account=1001&resource=subscription", token)
	if code != 200 || !strings.Contains(body, `"actor":"admin-api"`) || !strings.Contains(body, `"push_secret":"rotated"`) ||
		!strings.Contains(body, `"actor":"provision:`) || strings.Contains(body, "push-secret-") {
		t.Errorf("audit: %d %s", code, body)
	}

	// An account user may point a push URL at loopback only because the
	// operator allowed 127.0.0.1 (--egress-allow); a private address
	// stays refused.
	mine := newSigReceiver(t, `{"code":0,"msg":"mine"}`)
	alice := consoleSignIn(t, n, "alice", "alice-password-1")
	if msg := alice.post(t, "/console/receipts", url.Values{"type": {"VoiceCallReport"}, "push_url": {mine.URL + "/alice"}}); !strings.Contains(msg, "VoiceCallReport: saved.") {
		t.Errorf("alice's loopback push URL: %q", msg)
	}
	if msg := alice.post(t, "/console/receipts", url.Values{"type": {"VoiceCallReport"}, "push_url": {"http://10.0.0.1/receipts"}}); !strings.Contains(msg, "rule private") {
		t.Errorf("alice's private push URL: %q", msg)
	}
	code, body = getAuth(t, n.url()+"/admin/v1/accounts/1001/subscriptions/VoiceCallReport", token)
	if code != 200 || !strings.Contains(body, `"push_url_trusted":false`) || !strings.Contains(body, mine.URL) {
		t.Errorf("alice's subscription: %d %s", code, body)
	}
	calls("to alice's receiver")
	mine.any(t, "a push to alice's allowed loopback receiver")
}

// checkSigned verifies r with every secret of good (each must verify) and
// bad (none may) in Go, Python and Node, and with a changed body.
func checkSigned(t *testing.T, v *verifiers, what string, r signed, good, bad []string) {
	t.Helper()
	now := time.Now()
	for _, k := range good {
		if err := sdk.VerifySignature(k, r.Header, r.Body, now, 5*time.Minute); err != nil {
			t.Errorf("%s: Go SDK, %s: %v", what, k, err)
		}
	}
	for _, k := range bad {
		if err := sdk.VerifySignature(k, r.Header, r.Body, now, 5*time.Minute); err == nil {
			t.Errorf("%s: Go SDK accepts %s", what, k)
		}
	}
	var cases []verifyCase
	var want []bool
	for _, k := range good {
		cases = append(cases, verifyCase{k, r.Header, base64.StdEncoding.EncodeToString(r.Body)})
		want = append(want, true)
		cases = append(cases, verifyCase{k, r.Header, base64.StdEncoding.EncodeToString(append(bytes.Clone(r.Body), ' '))})
		want = append(want, false)
	}
	for _, k := range bad {
		cases = append(cases, verifyCase{k, r.Header, base64.StdEncoding.EncodeToString(r.Body)})
		want = append(want, false)
	}
	for lang, got := range v.run(t, cases) {
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: the README's %s recipe says %v, want %v (header %q)", what, lang, got, want, r.Header)
		}
	}
}

type verifyCase struct {
	Secret string `json:"secret"`
	Header string `json:"header"`
	Body   string `json:"body"` // base64
}

// verifiers are the README's recipes, each wrapped in a driver that reads
// cases as JSON on stdin and prints the verdicts as a JSON list.
type verifiers struct {
	python, node string
}

func readmeVerifiers(t *testing.T, dir string) *verifiers {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(data), "\n## Requests Dialtone sends (outbound)\n")
	if !ok {
		t.Fatal("README has no section Requests Dialtone sends (outbound)")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	block := func(lang string) string {
		m := regexp.MustCompile("(?s)```" + lang + "\n(.*?)```").FindStringSubmatch(section)
		if m == nil {
			t.Fatalf("the section has no %s block", lang)
		}
		return m[1]
	}
	v := &verifiers{python: filepath.Join(dir, "verify.py"), node: filepath.Join(dir, "verify.js")}
	py := block("python") + `
import base64, json, sys
print(json.dumps([verify(c["secret"].encode(), c["header"], base64.b64decode(c["body"])) for c in json.load(sys.stdin)]))
`
	js := block("js") + `
let input = "";
process.stdin.on("data", (d) => (input += d));
process.stdin.on("end", () => {
  const out = JSON.parse(input).map((c) => verify(c.secret, c.header, Buffer.from(c.body, "base64")));
  console.log(JSON.stringify(out));
});
`
	if err := os.WriteFile(v.python, []byte(py), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(v.node, []byte(js), 0o600); err != nil {
		t.Fatal(err)
	}
	return v
}

func (v *verifiers) run(t *testing.T, cases []verifyCase) map[string][]bool {
	t.Helper()
	in, _ := json.Marshal(cases)
	out := map[string][]bool{}
	for lang, cmd := range map[string][]string{"Python": {"python3", v.python}, "Node": {"node", v.node}} {
		c := exec.Command(cmd[0], cmd[1:]...)
		c.Stdin = bytes.NewReader(in)
		var stdout, stderr bytes.Buffer
		c.Stdout, c.Stderr = &stdout, &stderr
		if err := c.Run(); err != nil {
			t.Fatalf("%s recipe: %v\n%s", lang, err, stderr.String())
		}
		var got []bool
		if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
			t.Fatalf("%s recipe printed %q: %v", lang, stdout.String(), err)
		}
		out[lang] = got
	}
	return out
}

func adminPut(t *testing.T, n *node, token, path, body string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPut, n.url()+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT %s: %d %s", path, resp.StatusCode, b)
	}
}

// consoleUser is a signed-in console session over plain HTTP.
type consoleUser struct {
	n    *node
	c    *http.Client
	csrf string
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func consoleSignIn(t *testing.T, n *node, user, password string) *consoleUser {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	u := &consoleUser{n: n, c: &http.Client{Jar: jar}}
	page := u.get(t, "/console/signin")
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF token on the sign-in page")
	}
	resp, err := u.c.PostForm(n.url()+"/console/signin", url.Values{"csrf": {m[1]}, "username": {user}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	m = csrfField.FindStringSubmatch(u.get(t, "/console/receipts"))
	if m == nil {
		t.Fatalf("%s is not signed in", user)
	}
	u.csrf = m[1]
	return u
}

func (u *consoleUser) get(t *testing.T, path string) string {
	t.Helper()
	resp, err := u.c.Get(u.n.url() + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// post submits a form and returns the message the page it leads to shows
// (the flash or the error).
func (u *consoleUser) post(t *testing.T, path string, form url.Values) string {
	t.Helper()
	form.Set("csrf", u.csrf)
	resp, err := u.c.PostForm(u.n.url()+path, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(`(?s)<p class="(?:flash|error)"[^>]*>(.*?)</p>`).FindStringSubmatch(string(b))
	if m == nil {
		return ""
	}
	return htmlText(m[1])
}

func htmlText(s string) string {
	return strings.NewReplacer("&#34;", `"`, "&quot;", `"`, "&#39;", "'", "&amp;", "&", "&lt;", "<", "&gt;", ">").Replace(s)
}
