package test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dialtone-voice/dialtone/internal/browsertest"
)

// The first run, as a new user meets it: `dialtone serve` on an empty data
// directory prints what it created and a command that places a call.

// startIn runs `dialtone serve ARGS` with workDir as its working
// directory and no --data (the default ./data), as a person would.
func startIn(t *testing.T, workDir string, env []string, args ...string) *node {
	t.Helper()
	n := &node{t: t, addr: freeAddr(t), data: filepath.Join(workDir, "data"), stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan error, 1)}
	n.cmd = exec.Command(binary, append([]string{"serve", "--http", n.addr}, args...)...)
	n.cmd.Dir = workDir
	n.cmd.Env = append(userEnv(t), env...)
	n.cmd.Stdout, n.cmd.Stderr = n.stdout, n.stderr
	if err := n.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { n.done <- n.cmd.Wait() }()
	if err := n.waitReady(20 * time.Second); err != nil {
		n.kill()
		t.Fatalf("dialtone did not become ready: %v\nstdout:\n%s\nstderr:\n%s", err, n.stdout, n.stderr)
	}
	t.Cleanup(n.kill)
	return n
}

// userEnv is a new user's environment: no Dialtone or Alibaba Cloud
// variables, a home without a CLI profile, and the binary on PATH.
func userEnv(t *testing.T) []string {
	var out []string
	for _, kv := range cleanEnv() {
		if !strings.HasPrefix(kv, "ALIBABA_CLOUD_") && !strings.HasPrefix(kv, "HOME=") && !strings.HasPrefix(kv, "PATH=") {
			out = append(out, kv)
		}
	}
	return append(out, "HOME="+t.TempDir(), "PATH="+filepath.Dir(binary)+string(os.PathListSeparator)+os.Getenv("PATH"))
}

// shellCommand is a command line run by sh, exiting at the first failure.
func shellCommand(line string) *exec.Cmd { return exec.Command("sh", "-e", "-c", line) }

// shell runs a command line as printed, in dir, with env.
func shell(t *testing.T, dir string, env []string, line string) (string, string, int) {
	t.Helper()
	cmd := shellCommand(line)
	cmd.Dir, cmd.Env = dir, env
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s: %v", line, err)
	}
	return out.String(), errOut.String(), code
}

// printed finds the line of the banner after the one starting with
// heading, and the value after prefix on a line.
func printedAfter(t *testing.T, out, heading string) string {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), heading) && sc.Scan() {
			return strings.TrimSpace(sc.Text())
		}
	}
	t.Fatalf("no %q in the banner:\n%s", heading, out)
	return ""
}

var consoleLine = regexp.MustCompile(`(?m)^  Console: +user (\S+), password (\S+)$`)

// TestFirstRunPlacesACall: the printed command, run exactly as printed,
// places a call that ends with 200000; its VoiceReport is read from the
// queue; the console opens with the printed password and lists the call.
func TestFirstRunPlacesACall(t *testing.T) {
	work := t.TempDir()
	n := startIn(t, work, nil)
	out := n.stdout.String()
	cmdLine := printedAfter(t, out, "Place a call and follow it")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if last := lines[len(lines)-1]; last != "Console: http://"+n.addr+"/console/" || lines[len(lines)-2] != "  "+cmdLine {
		t.Fatalf("the banner does not end with the call command and the console's address:\n%s", out)
	}
	if !strings.Contains(cmdLine, " call tts ") || !strings.HasSuffix(cmdLine, " --wait") || strings.Contains(cmdLine, "--access-key") {
		t.Fatalf("printed command %q", cmdLine)
	}
	callOut, callErr, code := shell(t, work, userEnv(t), cmdLine)
	if code != 0 || !strings.Contains(callOut, "call ended: 200000") {
		t.Fatalf("%s: exit %d\n%s\n%s", cmdLine, code, callOut, callErr)
	}
	callID := strings.TrimSpace(strings.SplitN(strings.TrimPrefix(callOut, "call accepted: "), "\n", 2)[0])

	// The VoiceReport, from the demo's queue, with the same credentials.
	recOut, recErr, code := shell(t, work, userEnv(t), fmt.Sprintf("%s receipts watch --type VoiceReport -n 1 --endpoint %s", binary, n.addr))
	if code != 0 || !strings.Contains(recOut, "VoiceReport call "+callID) || !strings.Contains(recOut, "status_code=200000") {
		t.Fatalf("receipts watch: exit %d\n%s\n%s", code, recOut, recErr)
	}

	// The console, with the printed password.
	m := consoleLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no console user and password in the banner:\n%s", out)
	}
	acct := credentialsFromFile(t, filepath.Join(work, "data", "credentials"))["DIALTONE_ACCOUNT"]
	s := browsertest.New(t, "http://"+n.addr, "firstrun")
	s.SignIn(m[1], m[2])
	s.Do("calls page",
		chromedp.Navigate(s.Base+"/console/calls?acct="+url.QueryEscape(acct)),
		chromedp.WaitVisible(fmt.Sprintf(`tr[data-call=%q]`, callID)),
	)
	if state := s.Eval(fmt.Sprintf(`document.querySelector('tr[data-call=%q]').dataset.state`, callID)); state != "ended" {
		t.Errorf("the call's row says %q", state)
	}
	s.Shot("calls")
	// The call's page: its timeline, each step with its time.
	s.Do("call page",
		chromedp.Navigate(s.Base+"/console/calls/"+url.PathEscape(callID)+"?acct="+url.QueryEscape(acct)),
		chromedp.WaitVisible(`#timeline tr[data-event="ended"]`),
	)
	events := s.Eval(`Array.from(document.querySelectorAll("#timeline tr[data-event]")).map(r => r.dataset.event).join(",")`)
	if !regexp.MustCompile(`^originate,ringing,answered,(play,)+hangup,ended$`).MatchString(events) {
		t.Errorf("timeline %s", events)
	}
	s.Shot("call")
}

// TestFirstRunWithoutDemo: --demo=false starts with an empty account, and
// a provisioning file given at the first start replaces the demo.
func TestFirstRunWithoutDemo(t *testing.T) {
	for _, tc := range []struct {
		name string
		args func(dir string) []string
		env  []string
	}{
		{"flag", func(string) []string { return []string{"--demo=false"} }, nil},
		{"environment", func(string) []string { return nil }, []string{"DIALTONE_DEMO=false"}},
		{"provisioning file", func(dir string) []string {
			p := filepath.Join(dir, "p.yaml")
			if err := os.WriteFile(p, []byte("accounts:\n  - {uid: \"42\", name: mine}\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			return []string{"--provision", p}
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			work := t.TempDir()
			n := startIn(t, work, tc.env, tc.args(work)...)
			out := n.stdout.String()
			if strings.Contains(out, "Place a call") || strings.Contains(out, "Demo") || !strings.Contains(out, "Created the default account") {
				t.Fatalf("banner:\n%s", out)
			}
			creds := credentialsFromFile(t, filepath.Join(work, "data", "credentials"))
			code, body := getAuth(t, n.url()+"/admin/v1/accounts/"+creds["DIALTONE_ACCOUNT"]+"/numbers", creds["DIALTONE_ADMIN_TOKEN"])
			var nums struct{ Numbers []json.RawMessage }
			if code != 200 || json.Unmarshal([]byte(body), &nums) != nil || len(nums.Numbers) != 0 {
				t.Fatalf("numbers of the default account: %d %s", code, body)
			}
		})
	}
	// A bad DIALTONE_DEMO stops the start with a message.
	cmd := exec.Command(binary, "serve", "--data", t.TempDir(), "--http", freeAddr(t))
	cmd.Env = append(cleanEnv(), "DIALTONE_DEMO=perhaps")
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), `DIALTONE_DEMO="perhaps" is not true or false`) {
		t.Fatalf("bad DIALTONE_DEMO: %v\n%s", err, out)
	}
}
