package test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The client commands of the dialtone binary against a real node: "dialtone
// call ... --wait" follows a call live and prints its events.
func TestCLICallWait(t *testing.T) {
	n, s := startCallsNode(t)
	creds := []string{"--endpoint", n.addr, "--access-key-id", s.AccessKeyID, "--access-key-secret", s.Secret}

	// With the admin token: the event timeline.
	args := append([]string{"call", "tts", "--to", "13800000001", "--template", "TTS_100001", "--param", "code=1234", "--show", "057188880000", "--wait"}, creds...)
	out, errOut, code := runCLI(t, []string{"DIALTONE_ADMIN_TOKEN=tok"}, args...)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	for _, want := range []string{"call accepted: ", "originate", "ringing", "answered", "status 200102", "ended", "call ended: 200000"} {
		if !strings.Contains(out, want) {
			t.Fatalf("missing %q in:\n%s\nstderr:\n%s", want, out, errOut)
		}
	}
	if strings.Index(out, "ringing") > strings.Index(out, "answered") {
		t.Fatalf("events out of order:\n%s", out)
	}
	callID := strings.TrimSpace(strings.SplitN(strings.TrimPrefix(out, "call accepted: "), "\n", 2)[0])

	// Without it: state changes from QueryCallDetailByCallId, JSON lines.
	args = append([]string{"call", "tts", "--to", "13800000002", "--template", "TTS_100002", "--param", "name=Ann", "--param", "order=A-1",
		"--show", "057188880000", "--wait", "-o", "json", "--signature", "v1"}, creds...)
	out, errOut, code = runCLI(t, nil, args...)
	if code != 0 || !strings.Contains(out, `"CallId"`) || !strings.Contains(out, `"final":true`) || !strings.Contains(out, `"state":"200002"`) {
		t.Fatalf("json wait: exit %d\n%s\n%s", code, out, errOut)
	}

	// get: the detail of the first call, credentials from the environment.
	out, errOut, code = runCLI(t, []string{"ALIBABA_CLOUD_ACCESS_KEY_ID=" + s.AccessKeyID, "ALIBABA_CLOUD_ACCESS_KEY_SECRET=" + s.Secret, "DIALTONE_ENDPOINT=" + n.addr},
		"call", "get", callID, "--prod", "code")
	if code != 0 || !strings.Contains(out, "state:    200000") || !strings.Contains(out, "callee:   13800000001") {
		t.Fatalf("get: exit %d\n%s\n%s", code, out, errOut)
	}

	// A profile file.
	prof := filepath.Join(t.TempDir(), "config.json")
	os.WriteFile(prof, []byte(`{"access_key_id":"`+s.AccessKeyID+`","access_key_secret":"`+s.Secret+`","endpoint":"`+n.addr+`"}`), 0o600)
	out, errOut, code = runCLI(t, []string{"DIALTONE_CONFIG=" + prof}, "call", "cancel", callID)
	if code == 0 || !strings.Contains(errOut, "ClickToDial") {
		t.Fatalf("cancel of a TTS call: exit %d\n%s\n%s", code, out, errOut)
	}

	// Helpful errors.
	_, errOut, code = runCLI(t, []string{"HOME=" + t.TempDir()}, "call", "tts", "--to", "1", "--template", "T")
	if code != 1 || !strings.Contains(errOut, "no credentials: set ALIBABA_CLOUD_ACCESS_KEY_ID") {
		t.Fatalf("no credentials: %d %s", code, errOut)
	}
	_, errOut, code = runCLI(t, nil, append([]string{"call", "tts", "--to", "13800000001", "--template", "TTS_100001", "--access-key-secret", "wrong"}, creds[:4]...)...)
	if code != 1 || !strings.Contains(errOut, "SignatureDoesNotMatch") || !strings.Contains(errOut, "check the AccessKey") {
		t.Fatalf("bad secret: %d %s", code, errOut)
	}
	_, _, code = runCLI(t, nil, "call", "nonsense")
	if code != 2 {
		t.Fatalf("unknown subcommand: exit %d", code)
	}
}
