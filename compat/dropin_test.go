package compat

// TestDropIn: the official clients reach Dialtone under Alibaba's own
// hostnames, over HTTPS, with nothing in them changed. Each subtest makes
// a network namespace of its own (ip netns add), in which Dialtone listens
// on ports 80 and 443 and the Alibaba hostnames resolve to it, through
// the namespace's hosts file (/etc/netns/NAME/hosts, from `dialtone
// hosts`) or through Dialtone's DNS server (--dns, with
// /etc/netns/NAME/resolv.conf naming it). Dialtone's CA is trusted only
// through an environment variable (SSL_CERT_FILE for Go,
// NODE_EXTRA_CA_CERTS for Node). The clients are the programs in dropin/
// and node/dropin-client.js. All traffic stays inside the namespace.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// notificationProdID is the ProdId of a notification TTS call.
const notificationProdID = "11000000300006"

func TestDropIn(t *testing.T) {
	requireNetns(t)
	bin := dialtoneBinary(t)
	progs := buildDropinPrograms(t)
	nodeDir := nodeModules(t)
	for _, mode := range []string{"hosts", "dns"} {
		t.Run(mode, func(t *testing.T) { runDropIn(t, bin, progs, nodeDir, mode) })
	}
}

// requireNetns skips unless this process may create network namespaces.
// CI runs as root, where the test runs.
func requireNetns(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipped: creating a network namespace (ip netns add) needs root; CI runs this test as root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("skipped: the ip command (Debian package iproute2; scripts/install-deps.sh installs it) is missing")
	}
	name := fmt.Sprintf("dtprobe%d", os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Skipf("skipped: ip netns add is not permitted here: %v: %s", err, out)
	}
	exec.Command("ip", "netns", "del", name).Run()
}

// netns is a network namespace made for one test, with its own /etc files.
type netns struct {
	name string
}

// newNetns creates the namespace, brings its loopback up and writes files
// (base name -> content) to /etc/netns/NAME, which `ip netns exec`
// mounts over /etc. Everything is removed at the end of the test.
func newNetns(t *testing.T, tag string, files map[string]string) *netns {
	t.Helper()
	n := &netns{name: fmt.Sprintf("dtdropin%d%s", os.Getpid(), tag)}
	if out, err := exec.Command("ip", "netns", "add", n.name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add %s: %v: %s", n.name, err, out)
	}
	etc := filepath.Join("/etc/netns", n.name)
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", n.name).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v: %s", n.name, err, out)
		}
		os.RemoveAll(etc)
		os.Remove("/etc/netns") // only when empty
	})
	if out, err := n.command(context.Background(), nil, "ip", "link", "set", "lo", "up").CombinedOutput(); err != nil {
		t.Fatalf("lo up in %s: %v: %s", n.name, err, out)
	}
	if err := os.MkdirAll(etc, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(etc, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return n
}

// command runs a program inside the namespace with env (nil: the test's).
func (n *netns) command(ctx context.Context, env []string, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", n.name, name}, args...)...)
	cmd.Env = env
	return cmd
}

// clientEnv is the environment of a client: the test's, without proxies,
// Dialtone's variables or any CA setting, plus extra.
func clientEnv(extra ...string) []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasSuffix(strings.ToUpper(k), "_PROXY"), strings.HasPrefix(k, "DIALTONE_"),
			strings.HasPrefix(k, "ALIBABA_CLOUD_"), k == "SSL_CERT_FILE", k == "SSL_CERT_DIR", k == "NODE_EXTRA_CA_CERTS":
			continue
		}
		out = append(out, kv)
	}
	return append(out, extra...)
}

// buildDropinPrograms builds dropin/* into a directory of their own.
func buildDropinPrograms(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(workDir, "dropin-bin")
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", dir+string(os.PathSeparator), "./dropin/...")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./dropin/...: %v\n%s", err, out)
	}
	return dir
}

// nodeModules makes sure node/node_modules exists and returns node/.
func nodeModules(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("node")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules")); err != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm ci in node/: %v\n%s", err, out)
		}
	}
	return dir
}

const localhostLines = "127.0.0.1\tlocalhost\n::1\tlocalhost\n"

func runDropIn(t *testing.T, bin, progs, nodeDir, mode string) {
	files := map[string]string{"hosts": localhostLines}
	args := []string{"serve", "--http", ":80", "--https", ":443"}
	switch mode {
	case "hosts":
		out, err := exec.Command(bin, "hosts", "--address", "127.0.0.1").Output()
		if err != nil {
			t.Fatalf("dialtone hosts: %v", err)
		}
		for _, want := range []string{"127.0.0.1\tdyvmsapi.aliyuncs.com\n", "127.0.0.1\tdybaseapi.aliyuncs.com\n", "127.0.0.1\t1943695596114318.mns.cn-hangzhou.aliyuncs.com\n"} {
			if !strings.Contains(string(out), want) {
				t.Fatalf("dialtone hosts lacks %q:\n%s", want, out)
			}
		}
		files["hosts"] += string(out)
	case "dns":
		// The namespace's resolver is Dialtone itself; it finds itself in
		// resolv.conf and forwards nowhere (there is no other network).
		files["resolv.conf"] = "nameserver 127.0.0.1\n"
		args = append(args, "--dns", "127.0.0.1:53")
	}
	ns := newNetns(t, mode, files)

	data, err := os.MkdirTemp(workDir, "dropin-data-")
	if err != nil {
		t.Fatal(err)
	}
	prov, err := filepath.Abs(filepath.Join("testdata", "provision.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	args = append(args, "--data", data, "--provision", prov)
	srvOut := &lockedBuffer{}
	srv := ns.command(context.Background(), append(clientEnv(),
		"DIALTONE_ACCESS_KEY_ID="+envAK, "DIALTONE_ACCESS_KEY_SECRET="+envSecret, "DIALTONE_ADMIN_TOKEN="+adminTok), bin, args...)
	srv.Stdout, srv.Stderr = srvOut, srvOut
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Wait() }()
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			srv.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("dialtone output:\n%s", srvOut)
		}
	})
	waitFor(t, done, srvOut, "HTTPS on https://", 20*time.Second)
	if mode == "dns" {
		waitFor(t, done, srvOut, "DNS on 127.0.0.1:53", time.Second)
	}

	caOut, err := exec.Command(bin, "ca", "--data", data).Output()
	if err != nil || !bytes.HasPrefix(caOut, []byte("-----BEGIN CERTIFICATE-----")) {
		t.Fatalf("dialtone ca: %v\n%s", err, caOut)
	}
	caFile := filepath.Join(data, "..", filepath.Base(data)+"-ca.pem")
	if err := os.WriteFile(caFile, caOut, 0o644); err != nil {
		t.Fatal(err)
	}
	goEnv := clientEnv("SSL_CERT_FILE=" + caFile)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	// Without the variable the machine's trust store does not know the CA:
	// trust comes from the variable alone.
	if out, err := ns.command(ctx, clientEnv(), filepath.Join(progs, "alerting")).CombinedOutput(); err == nil ||
		!strings.Contains(string(out), "certificate signed by unknown authority") {
		t.Fatalf("alerting without SSL_CERT_FILE: %v, %s; want a certificate signed by unknown authority", err, out)
	}

	// alibaba-cloud-sdk-go dyvmsapi, region cn-hangzhou, Scheme https.
	out, err := ns.command(ctx, goEnv, filepath.Join(progs, "alerting")).Output()
	if err != nil {
		t.Fatalf("alerting: %v\n%s", err, stderrOf(err))
	}
	callID := strings.TrimSpace(string(out))
	if callID == "" {
		t.Fatal("alerting printed no CallId")
	}

	// dyvmsapi-20170525 v6.0.0, Endpoint dyvmsapi.aliyuncs.com, default protocol.
	out, err = ns.command(ctx, goEnv, filepath.Join(progs, "v6detail"), callID, notificationProdID).Output()
	if err != nil {
		t.Fatalf("v6detail: %v\n%s", err, stderrOf(err))
	}
	var detail map[string]any
	if err := json.Unmarshal(bytes.TrimSpace(out), &detail); err != nil || detail["state"] != "200000" {
		t.Fatalf("v6 QueryCallDetailByCallId Data %s (%v): want state 200000", out, err)
	}

	// The seed's Go receipt sample reads the call's VoiceReport through
	// dybaseapi.aliyuncs.com and 1943695596114318.mns.cn-hangzhou.aliyuncs.com.
	report := runReceiptSample(t, ctx, ns, goEnv, filepath.Join(progs, "receiptsample"), callID)
	if report["status_code"] != "200000" {
		t.Errorf("VoiceReport %v: want status_code 200000", report)
	}

	// Node: @alicloud/openapi-client and @alicloud/pop-core.
	node := ns.command(ctx, clientEnv("NODE_EXTRA_CA_CERTS="+caFile), "node", "dropin-client.js", callID, notificationProdID)
	node.Dir = nodeDir
	out, err = node.Output()
	if err != nil {
		t.Fatalf("node dropin-client.js: %v\n%s", err, stderrOf(err))
	}
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		var r struct{ Client, Code, State string }
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("node output %q: %v", line, err)
		}
		if r.Code != "OK" || r.State != "200000" {
			t.Errorf("%s: Code %q state %q; want OK, 200000", r.Client, r.Code, r.State)
		}
		seen[r.Client] = true
	}
	if !seen["openapi-client"] || !seen["pop-core"] {
		t.Errorf("node clients answered: %v; want openapi-client and pop-core", seen)
	}

	// The requests came over HTTPS under the Alibaba hostnames: nothing in
	// Dialtone's log says otherwise, and it stops cleanly.
	srv.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-done:
		stopped = true
		if err != nil {
			t.Errorf("dialtone exit after SIGTERM: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Error("dialtone did not stop within 15 s of SIGTERM")
	}
}

// runReceiptSample runs the sample until it prints the VoiceReport of
// callID (it never ends by itself), and returns that report.
func runReceiptSample(t *testing.T, ctx context.Context, ns *netns, env []string, prog, callID string) map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 40*time.Second)
	defer cancel()
	cmd := ns.command(ctx, env, prog)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	sc := bufio.NewScanner(stdout)
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
		var r map[string]any
		if json.Unmarshal(sc.Bytes(), &r) == nil && r["call_id"] == callID {
			return r
		}
	}
	cmd.Process.Kill()
	cmd.Wait()
	t.Fatalf("the receipt sample printed no VoiceReport of %s; stdout:\n%s\nstderr:\n%s", callID, strings.Join(lines, "\n"), stderr.String())
	return nil
}

// waitFor waits until out contains want, the process ends or limit passes.
func waitFor(t *testing.T, done chan error, out *lockedBuffer, want string, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if strings.Contains(out.String(), want) {
			return
		}
		select {
		case err := <-done:
			done <- err
			t.Fatalf("dialtone exited (%v) before printing %q", err, want)
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("dialtone did not print %q within %v", want, limit)
}

func stderrOf(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return string(ee.Stderr)
	}
	return ""
}
