package test

// TestACMEPebble: `dialtone serve --acme-domains` obtains a certificate
// from Pebble (Let's Encrypt's ACME test server, built from the version
// pinned in tools/pebble) and renews it, all on loopback. Pebble resolves
// the name through Dialtone's own DNS server (--dns) and validates the
// challenge (TLS-ALPN-01 on the HTTPS listener or HTTP-01 on the plain
// one, as certmagic chooses) against Dialtone itself. Pebble issues
// certificates valid for 30 s, so that a renewal comes within the test.

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const acmeName = "voice.dialtone.test"

func TestACMEPebble(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs Pebble")
	}
	httpAddr, httpsAddr, dnsAddr := freeAddr(t), freeAddr(t), freeAddr(t)
	p := startPebble(t, httpAddr, httpsAddr, dnsAddr, 30)
	roots, minica, pebbleAddr := p.roots, p.minica, p.addr

	data := t.TempDir()
	// The directory is HTTPS with Pebble's own test CA, trusted the Go way.
	n := startNodeAt(t, data, httpAddr, []string{"SSL_CERT_FILE=" + minica},
		"--https", httpsAddr, "--dns", dnsAddr, "--dns-answer", "127.0.0.1",
		"--acme-domains", acmeName, "--acme-email", "ops@dialtone.test",
		"--acme-directory", "https://"+pebbleAddr+"/dir", "--acme-renew-check", "1s")

	// Obtained: the HTTPS listener serves a certificate for the name that
	// verifies against Pebble's root.
	first := waitServedCert(t, httpsAddr, roots, nil, 60*time.Second, n)
	if !contains(first.DNSNames, acmeName) {
		t.Fatalf("served certificate names %v, want %s", first.DNSNames, acmeName)
	}
	// Renewed: a new certificate (another serial) is served before the
	// first one expires, without a restart.
	second := waitServedCert(t, httpsAddr, roots, first, 60*time.Second, n)
	if !second.NotAfter.After(first.NotAfter) || !contains(second.DNSNames, acmeName) {
		t.Fatalf("renewed certificate %v until %v; first until %v", second.DNSNames, second.NotAfter, first.NotAfter)
	}
	// The certificates are kept under the data directory.
	var stored []string
	filepath.WalkDir(filepath.Join(data, "acme"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, acmeName+".crt") {
			stored = append(stored, p)
		}
		return nil
	})
	if len(stored) == 0 {
		t.Errorf("no %s.crt under %s", acmeName, filepath.Join(data, "acme"))
	}
	// And the API answers over it.
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: acmeName}}}
	resp, err := client.Get("https://" + httpsAddr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "ok\n" {
		t.Errorf("GET /healthz over ACME HTTPS: %d %q", resp.StatusCode, body)
	}
	if err := n.stop(15 * time.Second); err != nil {
		t.Errorf("stop: %v", err)
	}
}

// pebble is a running Pebble.
type pebble struct {
	addr   string         // the ACME server (its directory is https://addr/dir)
	minica string         // the CA file of Pebble's own HTTPS
	roots  *x509.CertPool // Pebble's issuing root
	out    *syncBuffer
}

// startPebble builds and starts the pinned Pebble, validating challenges
// on the ports of httpAddr (HTTP-01) and httpsAddr (TLS-ALPN-01) of the
// address dnsAddr's server answers for the name, and issuing certificates
// valid for validity seconds. It is stopped when the test ends.
func startPebble(t *testing.T, httpAddr, httpsAddr, dnsAddr string, validity int) *pebble {
	t.Helper()
	dir := t.TempDir()
	pebbleBin, pebbleDir := buildPebble(t, dir)
	p := &pebble{addr: freeAddr(t), minica: filepath.Join(pebbleDir, "test", "certs", "pebble.minica.pem"), out: &syncBuffer{}}
	mgmtAddr := freeAddr(t)
	_, httpPort, _ := net.SplitHostPort(httpAddr)
	_, httpsPort, _ := net.SplitHostPort(httpsAddr)
	cfg := map[string]any{"pebble": map[string]any{
		"listenAddress":                  p.addr,
		"managementListenAddress":        mgmtAddr,
		"certificate":                    filepath.Join(pebbleDir, "test", "certs", "localhost", "cert.pem"),
		"privateKey":                     filepath.Join(pebbleDir, "test", "certs", "localhost", "key.pem"),
		"httpPort":                       atoi(t, httpPort),
		"tlsPort":                        atoi(t, httpsPort),
		"ocspResponderURL":               "",
		"externalAccountBindingRequired": false,
		"retryAfter":                     map[string]int{"authz": 1, "order": 1},
		"keyAlgorithm":                   "ecdsa",
		"profiles": map[string]any{
			"default": map[string]any{"description": "short-lived, for the tests", "validityPeriod": validity},
		},
	}}
	cfgPath := filepath.Join(dir, "pebble.json")
	b, _ := json.Marshal(cfg)
	if err := os.WriteFile(cfgPath, b, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(pebbleBin, "-config", cfgPath, "-dnsserver", dnsAddr)
	cmd.Env = append(cleanEnv(), "PEBBLE_VA_NOSLEEP=1", "PEBBLE_WFE_NONCEREJECT=0", "PEBBLE_AUTHZREUSE=0")
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("pebble output:\n%s", p.out)
		}
	})
	mgmt := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: poolFromFile(t, p.minica)}}}
	rootPEM := waitGet(t, mgmt, "https://"+mgmtAddr+"/roots/0", 20*time.Second)
	p.roots = x509.NewCertPool()
	if !p.roots.AppendCertsFromPEM(rootPEM) {
		t.Fatalf("pebble root: %q", rootPEM)
	}
	return p
}

// buildPebble builds the pinned Pebble and returns the binary and the
// module directory (its test certificates).
func buildPebble(t *testing.T, dir string) (bin, modDir string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	bin = filepath.Join(dir, "pebble")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/letsencrypt/pebble/v2/cmd/pebble")
	build.Dir = filepath.Join("tools", "pebble")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build pebble: %v\n%s", err, out)
	}
	list := exec.CommandContext(ctx, "go", "list", "-m", "-f", "{{.Dir}}", "github.com/letsencrypt/pebble/v2")
	list.Dir = build.Dir
	out, err := list.Output()
	if err != nil {
		t.Fatalf("go list pebble: %v", err)
	}
	return bin, strings.TrimSpace(string(out))
}

// startNodeAt is startNode with the plain listener on httpAddr.
func startNodeAt(t *testing.T, data, httpAddr string, env []string, args ...string) *node {
	t.Helper()
	n := &node{t: t, addr: httpAddr, data: data, stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan error, 1)}
	n.cmd = exec.Command(binary, append([]string{"serve", "--data", data, "--http", httpAddr}, args...)...)
	n.cmd.Env = append(cleanEnv(), env...)
	n.cmd.Stdout, n.cmd.Stderr = n.stdout, n.stderr
	if err := n.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { n.done <- n.cmd.Wait() }()
	if err := n.waitReady(20 * time.Second); err != nil {
		n.kill()
		t.Fatalf("dialtone did not become ready: %v\nstdout:\n%s\nstderr:\n%s", err, n.stdout, n.stderr)
	}
	t.Cleanup(func() {
		n.kill()
		if t.Failed() {
			t.Logf("dialtone stderr:\n%s", n.stderr)
		}
	})
	return n
}

// waitServedCert dials the HTTPS listener with SNI acmeName until it
// serves a certificate that verifies against roots and differs from prev.
func waitServedCert(t *testing.T, addr string, roots *x509.CertPool, prev *x509.Certificate, limit time.Duration, n *node) *x509.Certificate {
	t.Helper()
	deadline := time.Now().Add(limit)
	var lastErr error
	for time.Now().Before(deadline) {
		conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 2 * time.Second}, "tcp", addr,
			&tls.Config{RootCAs: roots, ServerName: acmeName})
		if err == nil {
			leaf := conn.ConnectionState().PeerCertificates[0]
			conn.Close()
			if prev == nil || leaf.SerialNumber.Cmp(prev.SerialNumber) != 0 {
				return leaf
			}
		} else {
			lastErr = err
		}
		time.Sleep(250 * time.Millisecond)
	}
	what := "certificate"
	if prev != nil {
		what = "renewed certificate"
	}
	t.Fatalf("no %s for %s within %v (last error: %v)\ndialtone stderr:\n%s", what, acmeName, limit, lastErr, n.stderr)
	return nil
}

func waitGet(t *testing.T, c *http.Client, url string, limit time.Duration) []byte {
	t.Helper()
	deadline := time.Now().Add(limit)
	var lastErr error
	for time.Now().Before(deadline) {
		resp, err := c.Get(url)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return b
			}
			lastErr = fmt.Errorf("HTTP %d", resp.StatusCode)
		} else {
			lastErr = err
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("GET %s: %v", url, lastErr)
	return nil
}

func poolFromFile(t *testing.T, path string) *x509.CertPool {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	p := x509.NewCertPool()
	if !p.AppendCertsFromPEM(b) {
		t.Fatalf("%s: no certificate", path)
	}
	return p
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	var n int
	if _, err := fmt.Sscan(s, &n); err != nil {
		t.Fatal(err)
	}
	return n
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
