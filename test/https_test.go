package test

// The HTTPS listener of `dialtone serve` (local CA, certificate files),
// its DNS server and the drop-in commands, as a client sees them. The
// official clients under Alibaba's hostnames are in compat/dropin_test.go.

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/dialtone-voice/dialtone/poptest"
)

const (
	tlsTestKey    = "LTAItlstest00000000001"
	tlsTestSecret = "tlsTestSecret000000000000000001"
)

// dialTo is an HTTP client that sends every connection to addr whatever
// the URL's host, as a hosts-file entry would; TLS trusts roots only.
func dialTo(addr string, roots *x509.CertPool) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, addr)
		},
		TLSClientConfig:   &tls.Config{RootCAs: roots},
		ForceAttemptHTTP2: true,
	}}
}

func caPool(t *testing.T, data string) (*x509.CertPool, []byte) {
	t.Helper()
	out, errOut, code := runCLI(t, nil, "ca", "--data", data)
	if code != 0 {
		t.Fatalf("dialtone ca: exit %d: %s", code, errOut)
	}
	p := x509.NewCertPool()
	if !p.AppendCertsFromPEM([]byte(out)) {
		t.Fatalf("dialtone ca printed no certificate: %q", out)
	}
	return p, []byte(out)
}

func TestHTTPSLocalCA(t *testing.T) {
	data := t.TempDir()
	httpsAddr := freeAddr(t)
	n := startNode(t, data, []string{"DIALTONE_ACCESS_KEY_ID=" + tlsTestKey, "DIALTONE_ACCESS_KEY_SECRET=" + tlsTestSecret,
		"DIALTONE_CONSOLE_ADMIN_PASSWORD=console-password-1"}, "--https", httpsAddr)
	roots, caPEM := caPool(t, data)

	// Files: the certificate readable by all, the key by the owner only.
	for name, want := range map[string]os.FileMode{"ca.pem": 0o644, "ca.key": 0o600} {
		st, err := os.Stat(filepath.Join(data, "tls", name))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != want {
			t.Errorf("%s mode %v, want %v", name, st.Mode().Perm(), want)
		}
	}
	if !strings.Contains(n.stdout.String(), "HTTPS on https://"+httpsAddr) {
		t.Errorf("banner lacks the HTTPS listener:\n%s", n.stdout)
	}

	c := dialTo(httpsAddr, roots)
	t.Run("names", func(t *testing.T) {
		for _, host := range []string{"dyvmsapi.aliyuncs.com", "dybaseapi.aliyuncs.com", "dyvmsapi.cn-hangzhou.aliyuncs.com",
			"1943695596114318.mns.cn-hangzhou.aliyuncs.com", "localhost"} {
			resp, err := c.Get("https://" + host + "/healthz")
			if err != nil {
				t.Errorf("%s: %v", host, err)
				continue
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || string(body) != "ok\n" || resp.Proto != "HTTP/2.0" {
				t.Errorf("%s: %s %d %q, want HTTP/2.0 200 ok", host, resp.Proto, resp.StatusCode, body)
			}
			leaf := resp.TLS.PeerCertificates[0]
			if time.Until(leaf.NotAfter) > 25*time.Hour {
				t.Errorf("%s: leaf valid until %v: want a short-lived one", host, leaf.NotAfter)
			}
		}
		// The MNS queue API and the metrics answer over HTTPS too.
		resp, err := c.Get("https://1943695596114318.mns.cn-hangzhou.aliyuncs.com/queues/q/messages?numOfMessages=1")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode < 400 || !strings.Contains(string(body), "<HostId>https://1943695596114318.mns.cn-hangzhou.aliyuncs.com</HostId>") {
			t.Errorf("unsigned MNS request over HTTPS: %d %s; want an MNS error naming the HTTPS host", resp.StatusCode, body)
		}
		resp, err = c.Get("https://localhost/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), "go_goroutines") {
			t.Errorf("metrics over HTTPS: %d", resp.StatusCode)
		}
		// No SNI (an IP address in the URL): a certificate for the address.
		resp, err = c.Get("https://" + httpsAddr + "/readyz")
		if err != nil {
			t.Fatalf("by address: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("by address: %d", resp.StatusCode)
		}
	})

	t.Run("refused", func(t *testing.T) {
		dial := func(cfg *tls.Config) error {
			cfg.RootCAs = roots
			conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", httpsAddr, cfg)
			if err == nil {
				conn.Close()
			}
			return err
		}
		if err := dial(&tls.Config{ServerName: "dyvmsapi.aliyuncs.com", MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}); err == nil {
			t.Error("TLS 1.1 accepted")
		}
		if err := dial(&tls.Config{ServerName: "dyvmsapi.aliyuncs.com", MaxVersion: tls.VersionTLS12,
			CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_RSA_WITH_AES_128_GCM_SHA256}}); err == nil {
			t.Error("TLS 1.2 with only CBC and RSA key exchange suites accepted")
		}
		// A name Dialtone does not serve gets no certificate at all, not
		// even one a careless client would take.
		err := dial(&tls.Config{ServerName: "www.example.com", InsecureSkipVerify: true})
		if err == nil || !strings.Contains(err.Error(), "internal error") {
			t.Errorf("SNI www.example.com: %v, want the handshake refused", err)
		}
		if err := dial(&tls.Config{ServerName: "dyvmsapi.aliyuncs.com"}); err != nil {
			t.Errorf("TLS 1.3 with a served name: %v", err)
		}
	})

	t.Run("name constraints", func(t *testing.T) {
		// A certificate for another name signed with the CA's own key (as
		// if the key had leaked) fails verification because of the CA's
		// name constraints.
		other := signWithCA(t, data, "www.example.com")
		_, err := other.Verify(x509.VerifyOptions{Roots: roots, DNSName: "www.example.com"})
		var inv x509.CertificateInvalidError
		if !errors.As(err, &inv) || inv.Reason != x509.CANotAuthorizedForThisName {
			t.Errorf("www.example.com from the local CA: %v, want CANotAuthorizedForThisName", err)
		}
		if openssl, err := exec.LookPath("openssl"); err == nil {
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, "ca.pem"), caPEM, 0o644)
			os.WriteFile(filepath.Join(dir, "leaf.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: other.Raw}), 0o644)
			out, err := exec.Command(openssl, "verify", "-CAfile", filepath.Join(dir, "ca.pem"), filepath.Join(dir, "leaf.pem")).CombinedOutput()
			if err == nil || !strings.Contains(string(out), "permitted subtree violation") {
				t.Errorf("openssl verify: %v %s; want a permitted subtree violation", err, out)
			}
		}
		// The same CA's certificate for a served name verifies.
		served := signWithCA(t, data, "dyvmsapi.aliyuncs.com")
		if _, err := served.Verify(x509.VerifyOptions{Roots: roots, DNSName: "dyvmsapi.aliyuncs.com"}); err != nil {
			t.Errorf("dyvmsapi.aliyuncs.com from the local CA: %v", err)
		}
	})

	t.Run("signatures", func(t *testing.T) {
		// A V3 request signed for the host dyvmsapi.aliyuncs.com, as the
		// darabonba SDKs send it over HTTPS, and the same with a wrong
		// secret over HTTPS and over plain HTTP: the same POP error.
		good := &poptest.Signer{Endpoint: "https://dyvmsapi.aliyuncs.com", AccessKeyID: tlsTestKey, Secret: tlsTestSecret}
		code, status, _ := popCall(t, c, good.V3("QueryCallDetailByCallId", detailParams()))
		if code != "OK" || status != 200 {
			t.Errorf("V3 over HTTPS: %s %d, want OK 200", code, status)
		}
		v1 := good.V1("POST", "QueryCallDetailByCallId", detailParams(), poptest.InQuery)
		if code, status, _ := popCall(t, c, v1); code != "OK" || status != 200 {
			t.Errorf("V1 over HTTPS: %s %d, want OK 200", code, status)
		}
		bad := &poptest.Signer{Endpoint: "https://dyvmsapi.aliyuncs.com", AccessKeyID: tlsTestKey, Secret: "wrong-secret"}
		badPlain := &poptest.Signer{Endpoint: "http://dyvmsapi.aliyuncs.com", AccessKeyID: tlsTestKey, Secret: "wrong-secret"}
		plain := dialTo(n.addr, nil)
		for _, v3 := range []bool{true, false} {
			req, reqPlain := bad.V1("POST", "QueryCallDetailByCallId", detailParams(), poptest.InQuery), badPlain.V1("POST", "QueryCallDetailByCallId", detailParams(), poptest.InQuery)
			if v3 {
				req, reqPlain = bad.V3("QueryCallDetailByCallId", detailParams()), badPlain.V3("QueryCallDetailByCallId", detailParams())
			}
			code1, status1, msg1 := popCall(t, c, req)
			code2, status2, msg2 := popCall(t, plain, reqPlain)
			if code1 != "SignatureDoesNotMatch" || status1 != 400 || code1 != code2 || status1 != status2 ||
				!strings.Contains(msg1, "server string to sign is:") || !strings.Contains(msg2, "server string to sign is:") {
				t.Errorf("wrong secret (v3 %v): HTTPS %s %d %q; HTTP %s %d %q; want the same SignatureDoesNotMatch 400", v3, code1, status1, msg1, code2, status2, msg2)
			}
		}
	})

	t.Run("console cookies", func(t *testing.T) {
		get := func(c *http.Client, url string) []*http.Cookie {
			resp, err := c.Get(url)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 || len(resp.Cookies()) == 0 {
				t.Fatalf("GET %s: %d, cookies %v", url, resp.StatusCode, resp.Cookies())
			}
			return resp.Cookies()
		}
		for _, ck := range get(c, "https://localhost/console/signin") {
			if !ck.Secure {
				t.Errorf("over HTTPS: cookie %s not Secure", ck.Name)
			}
		}
		for _, ck := range get(http.DefaultClient, n.url()+"/console/signin") {
			if ck.Secure {
				t.Errorf("over plain HTTP: cookie %s Secure (the plain listener's behaviour changed)", ck.Name)
			}
		}
	})

	// Every failed handshake above came from 127.0.0.1: one log line, with
	// its reason. The CA key is in no output.
	logs := n.stderr.String()
	if got := strings.Count(logs, `msg="TLS handshake failed"`); got != 1 {
		t.Errorf("%d handshake failure lines, want 1 for the one source:\n%s", got, logs)
	}
	if !strings.Contains(logs, "source=127.0.0.1 reason=") {
		t.Errorf("the handshake failure line lacks its source or reason:\n%s", logs)
	}
	key, err := os.ReadFile(filepath.Join(data, "tls", "ca.key"))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(key)
	keyB64 := strings.Split(string(key), "\n")[1]
	if block == nil || strings.Contains(logs+n.stdout.String(), keyB64) {
		t.Error("the CA key appears in Dialtone's output")
	}
}

// signWithCA signs a certificate for name with the key in DATA/tls.
func signWithCA(t *testing.T, data, name string) *x509.Certificate {
	t.Helper()
	caCertPEM, err := os.ReadFile(filepath.Join(data, "tls", "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err := os.ReadFile(filepath.Join(data, "tls", "ca.key"))
	if err != nil {
		t.Fatal(err)
	}
	cb, _ := pem.Decode(caCertPEM)
	kb, _ := pem.Decode(keyPEM)
	ca, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	caKey, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), NotBefore: time.Now().Add(-time.Minute),
		NotAfter: time.Now().Add(time.Hour), DNSNames: []string{name}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	return leaf
}

func detailParams() map[string]string {
	return map[string]string{"CallId": "116012354148^10281378", "ProdId": "11000000300006",
		"QueryDate": time.Now().Format("20060102")}
}

// popCall sends a signed request and returns Code, HTTP status, Message.
func popCall(t *testing.T, c *http.Client, r *http.Request) (string, int, string) {
	t.Helper()
	resp, err := c.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct{ Code, Message string }
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &body); err != nil {
		t.Fatalf("%s: %q", err, b)
	}
	return body.Code, resp.StatusCode, body.Message
}

func TestHTTPSOnlyAndFlags(t *testing.T) {
	// --http "" turns the plain listener off.
	data := t.TempDir()
	httpsAddr := freeAddr(t)
	n := tryStart(t, data, nil, "--http", "", "--https", httpsAddr)
	defer n.kill()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(n.stdout.String(), "HTTPS on https://") && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	roots, _ := caPool(t, data)
	resp, err := dialTo(httpsAddr, roots).Get("https://localhost/readyz")
	if err != nil {
		t.Fatalf("HTTPS only: %v\n%s", err, n.stderr)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("HTTPS only: readyz %d", resp.StatusCode)
	}
	if strings.Contains(n.stdout.String(), "listening on http://") {
		t.Errorf("a plain listener was announced:\n%s", n.stdout)
	}

	// Bad flags name the flag.
	for _, tc := range []struct{ args, want string }{
		{"--http  --https ", "--http and --https are both empty"},
		{"--https 127.0.0.1:0 --tls-cert a.pem", "--tls-cert and --tls-key must be given together"},
		{"--tls-cert a.pem --tls-key b.pem", "need --https"},
		{"--https 127.0.0.1:0 --tls-cert missing.pem --tls-key missing.key", "--tls-cert"},
		{"--https 127.0.0.1:0 --tls-names bad_name!", "--tls-names"},
		{"--https 127.0.0.1:0 --acme-domains a.example --tls-cert a --tls-key b", "exclude each other"},
		{"--https 127.0.0.1:0 --acme-domains a.example --acme-directory http://x/dir", "--acme-directory"},
		{"--dns 127.0.0.1:0 --dns-answer nope", "--dns-answer"},
		{"--dns-forward 127.0.0.1", "need --dns"},
		{"--https nonsense", "--https"},
	} {
		args := append([]string{"serve", "--data", t.TempDir(), "--http", "127.0.0.1:0"}, splitArgs(tc.args)...)
		_, errOut, code := runCLI(t, nil, args...)
		if code == 0 || !strings.Contains(errOut, tc.want) {
			t.Errorf("serve %s: exit %d, %q; want an error naming %q", tc.args, code, errOut, tc.want)
		}
	}
}

// splitArgs splits on single spaces, keeping empty values ("--http  --https ").
func splitArgs(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, " ")
}

func TestCAAndHostsCommands(t *testing.T) {
	_, errOut, code := runCLI(t, nil, "ca", "--data", t.TempDir())
	if code == 0 || !strings.Contains(errOut, "no local CA yet") {
		t.Errorf("ca on an empty data directory: exit %d %q", code, errOut)
	}
	out, _, code := runCLI(t, nil, "hosts", "--address", "192.0.2.7")
	if code != 0 {
		t.Fatalf("hosts: exit %d", code)
	}
	for _, want := range []string{"192.0.2.7\tdyvmsapi.aliyuncs.com\n", "192.0.2.7\tdybaseapi.aliyuncs.com\n",
		"192.0.2.7\tdyvmsapi.cn-hangzhou.aliyuncs.com\n", "192.0.2.7\t1943695596114318.mns.cn-hangzhou.aliyuncs.com\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("hosts output lacks %q", want)
		}
	}
	out, _, _ = runCLI(t, nil, "hosts", "--mns-accounts", "1234567890123456")
	if !strings.Contains(out, "127.0.0.1\t1234567890123456.mns.cn-shanghai.aliyuncs.com\n") {
		t.Errorf("hosts --mns-accounts: %s", out)
	}
	if _, errOut, code := runCLI(t, nil, "hosts", "--address", "nope"); code == 0 || !strings.Contains(errOut, "--address") {
		t.Errorf("hosts --address nope: exit %d %q", code, errOut)
	}
}

func TestTLSFilesRotation(t *testing.T) {
	dir := t.TempDir()
	certPath, keyPath := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	caCert, caKey := testCA(t)
	roots := x509.NewCertPool()
	roots.AddCert(caCert)
	writePair := func(serial int64) {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), NotBefore: time.Now().Add(-time.Minute),
			NotAfter: time.Now().Add(time.Hour), DNSNames: []string{"voice.example.com"}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		kd, _ := x509.MarshalPKCS8PrivateKey(key)
		// Key first, then the certificate: a rotation as a deploy tool does it.
		os.WriteFile(keyPath+".tmp", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd}), 0o600)
		os.Rename(keyPath+".tmp", keyPath)
		os.WriteFile(certPath+".tmp", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
		os.Rename(certPath+".tmp", certPath)
	}
	writePair(1001)
	httpsAddr := freeAddr(t)
	startNode(t, t.TempDir(), nil, "--https", httpsAddr, "--tls-cert", certPath, "--tls-key", keyPath)
	serial := func() int64 {
		conn, err := tls.Dial("tcp", httpsAddr, &tls.Config{RootCAs: roots, ServerName: "voice.example.com"})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		return conn.ConnectionState().PeerCertificates[0].SerialNumber.Int64()
	}
	if s := serial(); s != 1001 {
		t.Fatalf("serial %d, want 1001", s)
	}
	writePair(1002)
	deadline := time.Now().Add(10 * time.Second)
	for serial() != 1002 {
		if time.Now().After(deadline) {
			t.Fatal("the rotated certificate was not served within 10 s")
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func testCA(t *testing.T) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c, key
}

func TestDNSServer(t *testing.T) {
	// The upstream: a resolver on loopback that knows one other name.
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	upstream := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		if r.Question[0].Name == "example.org." {
			m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: "example.org.", Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 5}, A: net.IPv4(192, 0, 2, 99)})
		} else {
			m.Rcode = dns.RcodeNameError
		}
		w.WriteMsg(m)
	})}
	go upstream.ActivateAndServe()
	defer upstream.Shutdown()

	dnsAddr := freeAddr(t)
	httpsAddr := freeAddr(t)
	n := startNode(t, t.TempDir(), nil, "--https", httpsAddr, "--dns", dnsAddr, "--dns-forward", pc.LocalAddr().String(),
		"--tls-names", "voice.example.com")
	if !strings.Contains(n.stdout.String(), "DNS on "+dnsAddr) {
		t.Errorf("banner lacks DNS:\n%s", n.stdout)
	}
	ask := func(proto, name string, qtype uint16) *dns.Msg {
		t.Helper()
		m := new(dns.Msg)
		m.SetQuestion(dns.Fqdn(name), qtype)
		c := &dns.Client{Net: proto, Timeout: 3 * time.Second}
		r, _, err := c.Exchange(m, dnsAddr)
		if err != nil {
			t.Fatalf("%s %s: %v", proto, name, err)
		}
		return r
	}
	// The default answer is the HTTPS listener's address.
	for _, proto := range []string{"udp", "tcp"} {
		for _, name := range []string{"dyvmsapi.aliyuncs.com", "DybaseAPI.aliyuncs.com", "dyvmsapi.cn-shanghai.aliyuncs.com",
			"1943695596114318.mns.cn-hangzhou.aliyuncs.com", "42.mns.eu-central-1.aliyuncs.com", "voice.example.com"} {
			r := ask(proto, name, dns.TypeA)
			if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != "127.0.0.1" || !r.Authoritative {
				t.Errorf("%s A %s: %v", proto, name, r)
			}
		}
	}
	// No IPv6 address to give: no data, not an error.
	if r := ask("udp", "dyvmsapi.aliyuncs.com", dns.TypeAAAA); r.Rcode != dns.RcodeSuccess || len(r.Answer) != 0 {
		t.Errorf("AAAA: %v", r)
	}
	// Other names go upstream, over UDP as asked.
	if r := ask("udp", "example.org", dns.TypeA); len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != "192.0.2.99" {
		t.Errorf("forwarded example.org: %v", r)
	}
	if r := ask("udp", "a.b.mns.cn-hangzhou.aliyuncs.com", dns.TypeA); r.Rcode != dns.RcodeNameError {
		t.Errorf("two labels under mns (not served, forwarded): %v", r)
	}
	if r := ask("udp", "oss.aliyuncs.com", dns.TypeA); r.Rcode != dns.RcodeNameError {
		t.Errorf("oss.aliyuncs.com (not served, forwarded): %v", r)
	}
}
