package examples_test

// Every sample of this module run against a freshly started Dialtone on
// its demo (a first start on an empty data directory), as a reader of the
// README would run them: each places its call on the simulated network,
// and the test checks the call's final state and its receipts, not only
// the answer.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var bin string // directory with dialtone and the samples, built once

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "dialtone-examples-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin = dir
	for _, b := range []struct{ dir, pkg string }{{"../..", "./cmd/dialtone"}, {".", "./..."}} {
		cmd := exec.Command("go", "build", "-o", dir+string(os.PathSeparator), b.pkg)
		cmd.Dir = b.dir
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "build %s: %v\n%s", b.pkg, err, out)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// network makes the demo's calls fast: a provisioning file without
// accounts configures the node and keeps the demo.
const network = `
network:
  time_scale: 0.02
  default: {answer_after: 1s}
  subscribers:
    - {number: "13800000014", answer_after: 60s}    # the ClickToDial caller: rings until cancelled
    - {number: "13800000016", answer_after: 1s, say: ["我想查询订单"]}
`

type server struct {
	addr string
	env  []string // the samples' environment: endpoint and credentials
	cred map[string]string
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// start runs `dialtone serve` on an empty data directory until the test ends.
func start(t *testing.T) *server {
	t.Helper()
	work := t.TempDir()
	prov := filepath.Join(work, "network.yaml")
	if err := os.WriteFile(prov, []byte(network), 0o600); err != nil {
		t.Fatal(err)
	}
	s := &server{addr: freeAddr(t)}
	cmd := exec.Command(filepath.Join(bin, "dialtone"), "serve", "--http", s.addr, "--provision", prov)
	cmd.Dir = work
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DIALTONE_") && !strings.HasPrefix(kv, "ALIBABA_CLOUD_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	var logs strings.Builder
	var mu sync.Mutex
	cmd.Stdout, cmd.Stderr = io.Discard, writerFunc(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return logs.Write(p) })
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("dialtone serve: %v", err)
			}
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			t.Error("dialtone serve did not stop on SIGTERM")
		}
		if t.Failed() {
			mu.Lock()
			t.Logf("server log:\n%s", logs.String())
			mu.Unlock()
		}
	})
	for deadline := time.Now().Add(20 * time.Second); ; {
		if resp, err := http.Get("http://" + s.addr + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("dialtone did not become ready")
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.cred = readCredentials(t, filepath.Join(work, "data", "credentials"))
	s.env = append(os.Environ(), "DIALTONE_ENDPOINT="+s.addr)
	for _, k := range []string{"ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "DIALTONE_ACCOUNT"} {
		s.env = append(s.env, k+"="+s.cred[k])
	}
	return s
}

type writerFunc func(p []byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func readCredentials(t *testing.T, path string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(k, "#") {
			out[k] = v
		}
	}
	return out
}

// run runs a sample to its end and returns what it printed.
func (s *server) run(t *testing.T, sample string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(bin, sample), args...)
	cmd.Env = s.env
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %v: %v\nstdout:\n%s\nstderr:\n%s", sample, args, err, out.String(), errOut.String())
	}
	return out.String()
}

// callID reads the CallId of a sample's printed response, which must be OK.
func callID(t *testing.T, sample, out string) string {
	t.Helper()
	var r struct{ Code, Message, CallId string }
	if err := json.Unmarshal([]byte(out), &r); err != nil || r.Code != "OK" || r.CallId == "" {
		t.Fatalf("%s printed %q (%v); want Code OK with a CallId", sample, out, err)
	}
	return r.CallId
}

// detail polls the querycalldetail sample until the call has ended and
// returns its detail.
func (s *server) detail(t *testing.T, id string, prod int64) map[string]any {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		out := s.run(t, "querycalldetail", id, fmt.Sprint(prod))
		var r struct{ Code, Data string }
		if err := json.Unmarshal([]byte(out), &r); err != nil || r.Code != "OK" {
			t.Fatalf("querycalldetail %s: %q", id, out)
		}
		if r.Data != "" {
			var d map[string]any
			if err := json.Unmarshal([]byte(r.Data), &d); err != nil {
				t.Fatalf("Data %q: %v", r.Data, err)
			}
			if st, _ := d["state"].(string); st != "" && st != "200100" && st != "200101" && st != "200102" && st != "200201" {
				return d
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("call %s did not end: %s", id, out)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (s *server) admin(t *testing.T, method, path, body string) {
	t.Helper()
	req, _ := http.NewRequest(method, "http://"+s.addr+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+s.cred["DIALTONE_ADMIN_TOKEN"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
}

// background starts a long-running sample and returns its output lines.
func (s *server) background(t *testing.T, sample string, args ...string) (<-chan string, *exec.Cmd) {
	t.Helper()
	cmd := exec.Command(filepath.Join(bin, sample), args...)
	cmd.Env = s.env
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 100)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return lines, cmd
}

// waitLine waits for a line containing want.
func waitLine(t *testing.T, lines <-chan string, want string) string {
	t.Helper()
	timeout := time.After(60 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("the sample ended before printing %q", want)
			}
			if strings.Contains(l, want) {
				return l
			}
		case <-timeout:
			t.Fatalf("no line with %q", want)
		}
	}
}

func TestSamples(t *testing.T) {
	s := start(t)
	ended := map[string]string{} // call ID -> final state

	t.Run("SingleCallByVoice", func(t *testing.T) {
		id := callID(t, "singlecallbyvoice", s.run(t, "singlecallbyvoice"))
		if d := s.detail(t, id, 11000000300006); d["state"] != "200000" || d["callee"] != "13800000011" {
			t.Errorf("detail %v", d)
		}
		ended[id] = "200000"
	})
	t.Run("SingleCallByTts", func(t *testing.T) {
		id := callID(t, "singlecallbytts", s.run(t, "singlecallbytts", "13800000012", "9876"))
		if d := s.detail(t, id, 11010000138001); d["state"] != "200000" {
			t.Errorf("detail %v", d)
		}
		ended[id] = "200000"
	})
	t.Run("IvrCall", func(t *testing.T) {
		id := callID(t, "ivrcall", s.run(t, "ivrcall"))
		if d := s.detail(t, id, 11000000300005); d["state"] != "200000" {
			t.Errorf("detail %v", d)
		}
		ended[id] = "200000"
	})
	t.Run("ClickToDialThenCancelCall", func(t *testing.T) {
		id := callID(t, "clicktodial", s.run(t, "clicktodial"))
		out := s.run(t, "cancelcall", id)
		var r struct {
			Code   string
			Status bool
		}
		if err := json.Unmarshal([]byte(out), &r); err != nil || r.Code != "OK" || !r.Status {
			t.Fatalf("cancelcall printed %q", out)
		}
		d := s.detail(t, id, 11000000300004)
		if d["state"] == "200000" {
			t.Errorf("a cancelled click-to-dial call: detail %v", d)
		}
		ended[id], _ = d["state"].(string)
	})
	t.Run("SmartCall", func(t *testing.T) {
		addr := freeAddr(t)
		lines, _ := s.background(t, "smartcallback", addr, "callback-secret-0123")
		// A forged callback is refused before the real ones arrive.
		var resp *http.Response
		var err error
		for range 50 {
			req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/", strings.NewReader("call_id=forged&content_type=normal"))
			req.Header.Set("X-Dialtone-Signature", fmt.Sprintf("t=%d,v1=%064x", time.Now().Unix(), 1))
			if resp, err = http.DefaultClient.Do(req); err == nil {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if err != nil || resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("forged callback: %v %v", resp, err)
		}
		resp.Body.Close()
		s.admin(t, http.MethodPut, "/admin/v1/accounts/"+s.cred["DIALTONE_ACCOUNT"]+"/settings",
			`{"smartcall_callback_url": "http://`+addr+`/", "smartcall_callback_secret": "callback-secret-0123"}`)
		id := callID(t, "smartcall", s.run(t, "smartcall"))
		if l := waitLine(t, lines, id+" normal"); !strings.Contains(l, "我想查询订单") {
			t.Errorf("callback line %q", l)
		}
		if d := s.detail(t, id, 11030000180001); d["state"] != "200000" {
			t.Errorf("detail %v", d)
		}
		ended[id] = "200000"
	})
	t.Run("Receipts", func(t *testing.T) {
		want := len(ended)
		out := s.run(t, "receipts", "VoiceReport", fmt.Sprint(want), "60s")
		got := map[string]string{}
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			var r struct{ CallID, StatusCode string }
			var raw map[string]any
			if err := json.Unmarshal([]byte(line), &raw); err != nil {
				t.Fatalf("receipt %q: %v", line, err)
			}
			r.CallID, _ = raw["call_id"].(string)
			r.StatusCode, _ = raw["status_code"].(string)
			got[r.CallID] = r.StatusCode
		}
		for id, st := range ended {
			if got[id] != st {
				t.Errorf("VoiceReport of %s: status %q, want %s (got %v)", id, got[id], st, got)
			}
		}
	})
	t.Run("PushReceiver", func(t *testing.T) {
		addr := freeAddr(t)
		lines, cmd := s.background(t, "pushreceiver", addr, "push-secret-0123", "1")
		// A forged push is refused before the real one arrives.
		var resp *http.Response
		var err error
		for range 50 {
			req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/", strings.NewReader(`[{"call_id":"forged"}]`))
			req.Header.Set("X-Dialtone-Signature", fmt.Sprintf("t=%d,v1=%064x", time.Now().Unix(), 1))
			if resp, err = http.DefaultClient.Do(req); err == nil {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if err != nil || resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("forged push: %v %v", resp, err)
		}
		resp.Body.Close()
		s.admin(t, http.MethodPut, "/admin/v1/accounts/"+s.cred["DIALTONE_ACCOUNT"]+"/subscriptions/VoiceCallReport",
			`{"queue": false, "push_url": "http://`+addr+`/", "push_secret": "push-secret-0123"}`)
		id := callID(t, "singlecallbytts", s.run(t, "singlecallbytts", "13800000017"))
		waitLine(t, lines, `"call_id":"`+id+`"`)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("pushreceiver: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("pushreceiver did not stop after its receipt")
		}
	})
}
