package test

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone/poptest"
)

var detail = map[string]string{"CallId": "1^1", "ProdId": "11000000300006", "QueryDate": "1764000000000"}

func call(t *testing.T, r *http.Request) (int, map[string]any) {
	t.Helper()
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var body map[string]any
	if err := json.Unmarshal(b, &body); err != nil {
		t.Fatalf("not JSON (%d): %s", resp.StatusCode, b)
	}
	return resp.StatusCode, body
}

func TestFirstStartGeneratesCredentials(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	n := startNode(t, data, nil)
	creds := credentialsFromFile(t, filepath.Join(data, "credentials"))
	id, secret := creds["ALIBABA_CLOUD_ACCESS_KEY_ID"], creds["ALIBABA_CLOUD_ACCESS_KEY_SECRET"]
	if !strings.HasPrefix(id, "LTAI") || len(secret) < 20 || creds["DIALTONE_ACCOUNT"] == "" ||
		len(creds["DIALTONE_ADMIN_TOKEN"]) < 32 || len(creds["DIALTONE_CONSOLE_PASSWORD"]) < 16 || creds["DIALTONE_CONSOLE_USER"] != "admin" {
		t.Fatalf("credentials file: %v", creds)
	}
	for _, f := range []string{"credentials", "master.key", "dialtone.db"} {
		st, err := os.Stat(filepath.Join(data, f))
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v mode %v", f, err, st.Mode().Perm())
		}
	}
	// The node is up once it answers; what it printed may still be in
	// the pipe to the test's copy of its stdout.
	for _, want := range []string{id, secret, creds["DIALTONE_ADMIN_TOKEN"], creds["DIALTONE_CONSOLE_PASSWORD"], "listening on " + n.url()} {
		deadline := time.Now().Add(5 * time.Second)
		for !strings.Contains(n.stdout.String(), want) && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if out := n.stdout.String(); !strings.Contains(out, want) {
			t.Fatalf("stdout lacks %q:\n%s", want, out)
		}
	}
	for _, s := range []string{secret, creds["DIALTONE_ADMIN_TOKEN"], creds["DIALTONE_CONSOLE_PASSWORD"]} {
		if strings.Contains(n.stderr.String(), s) {
			t.Fatalf("a secret was logged:\n%s", n.stderr)
		}
	}
	// The generated admin token opens the admin API.
	if code, body := getAuth(t, n.url()+"/admin/v1/accounts", creds["DIALTONE_ADMIN_TOKEN"]); code != 200 || !strings.Contains(body, creds["DIALTONE_ACCOUNT"]) {
		t.Fatalf("admin API with the generated token: %d %s", code, body)
	}
	if code, _ := getAuth(t, n.url()+"/admin/v1/accounts", "not-the-token"); code != 401 {
		t.Fatalf("admin API with a wrong token: %d", code)
	}
	s := &poptest.Signer{Endpoint: n.url(), AccessKeyID: id, Secret: secret}
	if status, body := call(t, s.V3("QueryCallDetailByCallId", detail)); status != 200 || body["Code"] != "OK" {
		t.Fatalf("call with generated key: %d %v", status, body)
	}
	if err := n.stop(10 * time.Second); err != nil {
		t.Fatalf("SIGTERM: %v\n%s", err, n.stderr)
	}
	// A second start keeps the account and prints no new secret.
	n2 := startNode(t, data, nil)
	if strings.Contains(n2.stdout.String(), "Created the default account") {
		t.Fatalf("second start created another account:\n%s", n2.stdout)
	}
	s.Endpoint = n2.url()
	if status, body := call(t, s.V1("POST", "QueryCallDetailByCallId", detail, poptest.Split)); status != 200 || body["Code"] != "OK" {
		t.Fatalf("after restart: %d %v", status, body)
	}
	// The token is kept in the store, so it still opens the API.
	if code, _ := getAuth(t, n2.url()+"/admin/v1/accounts", creds["DIALTONE_ADMIN_TOKEN"]); code != 200 {
		t.Fatalf("admin API after a restart: %d", code)
	}
	if again := credentialsFromFile(t, filepath.Join(data, "credentials")); again["DIALTONE_ADMIN_TOKEN"] != creds["DIALTONE_ADMIN_TOKEN"] {
		t.Fatal("a second start rewrote the credentials file")
	}
}

func TestEnvironmentCredentialsAndMasterKey(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	env := []string{"DIALTONE_ACCESS_KEY_ID=LTAIenv000000000000001", "DIALTONE_ACCESS_KEY_SECRET=envSecret000000000000000000001",
		"DIALTONE_MASTER_KEY=" + strings.Repeat("ab", 32)}
	n := startNode(t, data, append(env, "DIALTONE_ADMIN_TOKEN=envAdminToken", "DIALTONE_CONSOLE_ADMIN_PASSWORD=envConsolePassword"))
	// Nothing was generated, so nothing is written down, and secrets from
	// the environment are not printed.
	if _, err := os.Stat(filepath.Join(data, "credentials")); !os.IsNotExist(err) {
		t.Fatalf("credentials file written for environment credentials: %v", err)
	}
	for _, s := range []string{"envSecret000000000000000000001", "envAdminToken", "envConsolePassword"} {
		if strings.Contains(n.stdout.String()+n.stderr.String(), s) {
			t.Fatalf("%s printed:\n%s", s, n.stdout)
		}
	}
	if _, err := os.Stat(filepath.Join(data, "master.key")); !os.IsNotExist(err) {
		t.Fatalf("master.key written although DIALTONE_MASTER_KEY is set: %v", err)
	}
	s := &poptest.Signer{Endpoint: n.url(), AccessKeyID: "LTAIenv000000000000001", Secret: "envSecret000000000000000000001"}
	if status, body := call(t, s.V1("GET", "QueryCallDetailByCallId", detail, poptest.InQuery)); status != 200 || body["Code"] != "OK" {
		t.Fatalf("%d %v", status, body)
	}
	if err := n.stop(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	// The sealed secrets cannot be opened with another master key.
	bad := tryStart(t, data, append(env[:2:2], "DIALTONE_MASTER_KEY="+strings.Repeat("cd", 32)))
	defer bad.kill()
	if err := bad.waitReady(10 * time.Second); err != nil {
		t.Fatalf("start: %v", err)
	}
	s.Endpoint = bad.url()
	if status, body := call(t, s.V1("GET", "QueryCallDetailByCallId", detail, poptest.InQuery)); status != 500 || body["Code"] != "InternalError" {
		t.Fatalf("wrong master key: %d %v", status, body)
	}
}

func TestOperationalEndpoints(t *testing.T) {
	env := []string{"DIALTONE_ACCESS_KEY_ID=LTAIops000000000000001", "DIALTONE_ACCESS_KEY_SECRET=opsSecret000000000000000000001"}
	n := startNode(t, filepath.Join(t.TempDir(), "d"), env)
	if code, body := get(t, n.url()+"/healthz"); code != 200 || !strings.Contains(body, "ok") {
		t.Fatalf("healthz %d %s", code, body)
	}
	if code, _ := get(t, n.url()+"/readyz"); code != 200 {
		t.Fatalf("readyz %d", code)
	}
	s := &poptest.Signer{Endpoint: n.url(), AccessKeyID: "LTAIops000000000000001", Secret: "opsSecret000000000000000000001"}
	call(t, s.V3("QueryCallDetailByCallId", detail))
	call(t, (&poptest.Signer{Endpoint: n.url(), AccessKeyID: "LTAIops000000000000001", Secret: "bad"}).V3("QueryCallDetailByCallId", detail))
	code, metrics := get(t, n.url()+"/metrics")
	if code != 200 {
		t.Fatalf("metrics %d", code)
	}
	for _, want := range []string{
		`dialtone_api_requests_total{action="QueryCallDetailByCallId",code="OK",product="Dyvmsapi"} 1`,
		`dialtone_api_requests_total{action="QueryCallDetailByCallId",code="SignatureDoesNotMatch",product="Dyvmsapi"} 1`,
		`dialtone_api_request_duration_seconds_bucket{action="QueryCallDetailByCallId",product="Dyvmsapi"`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	logs := n.stderr.String()
	if !strings.Contains(logs, "pop request") || strings.Contains(logs, "opsSecret") {
		t.Fatalf("logs:\n%s", logs)
	}
}

const provisionDoc = `accounts:
  - uid: "3000000000000003"
    name: provisioned
    products: [tts, notify]
    access_keys:
      - id: LTAIprov00000000000001
        secret: provSecret00000000000000000001
      - id: LTAIprov00000000000002
        secret: provSecret00000000000000000002
        enabled: false
`

func TestProvisioningAtStartIsIdempotent(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "p.yaml")
	if err := os.WriteFile(file, []byte(provisionDoc), 0o600); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	env := []string{"DIALTONE_ADMIN_TOKEN=admintoken"}
	for round := 0; round < 2; round++ {
		n := startNode(t, data, env, "--provision", file)
		s := &poptest.Signer{Endpoint: n.url(), AccessKeyID: "LTAIprov00000000000001", Secret: "provSecret00000000000000000001"}
		if status, body := call(t, s.V3("QueryCallDetailByCallId", detail)); status != 200 || body["Code"] != "OK" {
			t.Fatalf("round %d: %d %v", round, status, body)
		}
		off := &poptest.Signer{Endpoint: n.url(), AccessKeyID: "LTAIprov00000000000002", Secret: "provSecret00000000000000000002"}
		if status, body := call(t, off.V3("QueryCallDetailByCallId", detail)); status != 400 || body["Code"] != "InvalidAccessKeyId.Inactive" {
			t.Fatalf("round %d disabled: %d %v", round, status, body)
		}
		req, _ := http.NewRequest("GET", n.url()+"/admin/v1/accounts", nil)
		req.Header.Set("Authorization", "Bearer admintoken")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Count(string(b), "3000000000000003") != 1 || strings.Contains(string(b), "provSecret") {
			t.Fatalf("round %d accounts: %s", round, b)
		}
		if err := n.stop(10 * time.Second); err != nil {
			t.Fatal(err)
		}
	}
}

func TestInvalidProvisioningStopsStart(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "bad.yaml")
	os.WriteFile(file, []byte("accounts:\n  - name: x\n    status: actve\n    colour: blue\n"), 0o600)
	n := tryStart(t, filepath.Join(dir, "data"), nil, "--provision", file)
	select {
	case err := <-n.done:
		if err == nil {
			t.Fatal("exit 0 with an invalid provisioning file")
		}
	case <-time.After(20 * time.Second):
		n.kill()
		t.Fatal("still running")
	}
	errText := n.stderr.String()
	for _, want := range []string{"line 3", `"actve"`, "line 4", `"colour"`} {
		if !strings.Contains(errText, want) {
			t.Errorf("stderr lacks %s:\n%s", want, errText)
		}
	}
}

func TestApplyCommand(t *testing.T) {
	dir := t.TempDir()
	n := startNode(t, filepath.Join(dir, "data"), []string{"DIALTONE_ADMIN_TOKEN=tok-apply"})
	file := filepath.Join(dir, "p.yaml")
	os.WriteFile(file, []byte(provisionDoc), 0o600)
	for i := 0; i < 2; i++ {
		out, errOut, code := runCLI(t, []string{"DIALTONE_ADMIN_TOKEN=tok-apply"}, "apply", "-f", file, "--server", n.url())
		if code != 0 || !strings.Contains(out, "applied") {
			t.Fatalf("apply %d: %d %s %s", i, code, out, errOut)
		}
	}
	s := &poptest.Signer{Endpoint: n.url(), AccessKeyID: "LTAIprov00000000000001", Secret: "provSecret00000000000000000001"}
	if status, body := call(t, s.V1("GET", "QueryCallDetailByCallId", detail, poptest.InQuery)); status != 200 || body["Code"] != "OK" {
		t.Fatalf("%d %v", status, body)
	}
	// Wrong token, bad document, missing token: clear errors, exit 1/2.
	if _, errOut, code := runCLI(t, nil, "apply", "-f", file, "--server", n.url(), "--token", "wrong"); code != 1 || !strings.Contains(errOut, "401") {
		t.Fatalf("wrong token: %d %s", code, errOut)
	}
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("accounts:\n  - name: y\n    products: [fax]\n"), 0o600)
	if _, errOut, code := runCLI(t, []string{"DIALTONE_ADMIN_TOKEN=tok-apply"}, "apply", "-f", bad, "--server", n.url()); code != 1 || !strings.Contains(errOut, "line 3") {
		t.Fatalf("bad document: %d %s", code, errOut)
	}
	if _, errOut, code := runCLI(t, nil, "apply", "-f", file, "--server", n.url()); code != 1 || !strings.Contains(errOut, "DIALTONE_ADMIN_TOKEN") {
		t.Fatalf("no token: %d %s", code, errOut)
	}
}
