package sip

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/carrier/sip/sipconf"
)

// testPKI is a CA and a server certificate it signed for 127.0.0.1 and
// sip.test.
type testPKI struct {
	caPEM  []byte
	pool   *x509.CertPool
	server tls.Certificate
}

func newTestPKI(t *testing.T) *testPKI {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "dialtone test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "sip.test"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"sip.test"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	p := &testPKI{
		caPEM:  pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		pool:   x509.NewCertPool(),
		server: tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key},
	}
	p.pool.AddCert(ca)
	return p
}

func (p *testPKI) serverConfig() *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{p.server}, MinVersion: tls.VersionTLS12}
}

// clientConfig trusts the PKI's CA (the far end checking our certificate
// when it sends us its BYE).
func (p *testPKI) clientConfig() *tls.Config {
	return &tls.Config{RootCAs: p.pool, MinVersion: tls.VersionTLS12}
}

// useTLS makes the carrier's first trunk a TLS trunk presenting the PKI's
// certificate on its own TLS listener.
func (p *testPKI) useTLS(cfg *Config) {
	cfg.Trunks[0].Transport = TransportTLS
	cfg.TLSCertificate = &p.server
}

// TestUASOverTLS: a trunk with transport tls and the far end's CA (from a
// tls_ca file, or in memory) reaches it over TLS; it answers, media (plain
// RTP over UDP) flows both ways, and our BYE, over the same TLS
// connection, ends the call.
// listener on our side, which the carrier does not have: it holds no
// certificate.)
func TestUASOverTLS(t *testing.T) {
	pki := newTestPKI(t)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pki.caPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		mod  func(*Trunk)
	}{
		{"ca-file", func(tr *Trunk) { tr.TLSCA = caFile }},
		{"ca-pool-server-name", func(tr *Trunk) { tr.TLSRoots, tr.TLSServerName = pki.pool, "sip.test" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := startUAS(t, &testUAS{tls: pki.serverConfig(), toneHz: 300, toneFor: 3 * time.Second})
			c := newTestCarrier(t, u.addr, func(cfg *Config) {
				pki.useTLS(cfg)
				tc.mod(&cfg.Trunks[0])
			})
			l := originate(t, c, "13800000000", 10*time.Second)
			if ev, _ := nextEvent(t, l, 5*time.Second); ev.Kind == dialtone.LegFailed {
				t.Fatalf("failed: %s %v", ev.Reason, ev.Detail)
			}
			waitFor(t, l, dialtone.LegAnswered, 5*time.Second)
			inv := <-u.invites
			if via := inv.Via(); via == nil || via.Transport != "TLS" {
				t.Errorf("invite via %v", via)
			}
			if err := l.Record(context.Background()); err != nil {
				t.Fatal(err)
			}
			if _, err := l.Play(context.Background(), tone(time.Second, 500, 10000), nil); err != nil {
				t.Fatal(err)
			}
			// Our BYE goes over the TLS connection the INVITE opened.
			if err := l.Hangup(context.Background()); err != nil {
				t.Fatal(err)
			}
			waitClosed(t, l, 5*time.Second)
			checkToneBothWays(t, l, u)
		})
	}
}

// TestTLSUntrustedFails: a far end whose certificate does not verify (a
// CA we were not given, the system roots, or the wrong name) gets no
// INVITE; the call fails promptly as unreachable.
func TestTLSUntrustedFails(t *testing.T) {
	pki := newTestPKI(t)
	other := newTestPKI(t)
	for _, tc := range []struct {
		name string
		mod  func(*Trunk)
	}{
		{"system-roots", func(*Trunk) {}},
		{"other-ca", func(tr *Trunk) { tr.TLSRoots = other.pool }},
		{"wrong-name", func(tr *Trunk) { tr.TLSRoots, tr.TLSServerName = pki.pool, "other.test" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := startUAS(t, &testUAS{tls: pki.serverConfig()})
			c := newTestCarrier(t, u.addr, func(cfg *Config) {
				pki.useTLS(cfg)
				tc.mod(&cfg.Trunks[0])
			})
			start := time.Now()
			l := originate(t, c, "13800000000", 10*time.Second)
			ev, _ := waitFor(t, l, dialtone.LegFailed, 5*time.Second)
			if ev.Reason != dialtone.FailUnreachable && ev.Reason != dialtone.FailSystem {
				t.Errorf("reason %s (%v)", ev.Reason, ev.Detail)
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("failed after %v", d)
			}
			waitClosed(t, l, 5*time.Second)
			select {
			case inv := <-u.invites:
				t.Errorf("far end got an invite: %v", inv.StartLine())
			default:
			}
		})
	}
}

// TestUASByeOverTLS: the far end of a TLS trunk hangs up. Its BYE goes
// to our Contact over a TLS connection it opens itself, checking our
// certificate; the leg ends as hung up by the far end, and the BYE reached
// us on the TLS listener, not on UDP or a reused connection.
func TestUASByeOverTLS(t *testing.T) {
	pki := newTestPKI(t)
	u := startUAS(t, &testUAS{tls: pki.serverConfig(), tlsDial: pki.clientConfig(), byeAfter: 300 * time.Millisecond})
	c := newTestCarrier(t, u.addr, func(cfg *Config) {
		pki.useTLS(cfg)
		cfg.Trunks[0].TLSRoots = pki.pool
	})
	if c.tlsLn == nil || c.tlsPort == 0 || c.tlsPort == c.port {
		t.Fatalf("tls listener %v port %d (sip %d)", c.tlsLn, c.tlsPort, c.port)
	}
	l := originate(t, c, "13800000000", 10*time.Second)
	waitFor(t, l, dialtone.LegAnswered, 5*time.Second)
	inv := <-u.invites
	if ct := inv.Contact(); ct == nil || ct.Address.Port != c.tlsPort || ct.Address.UriParams.GetOr("transport", "") != "tls" {
		t.Errorf("contact %v, want port %d transport tls", ct, c.tlsPort)
	}
	ev, _ := waitFor(t, l, dialtone.LegHangup, 5*time.Second)
	if ev.Kind != dialtone.LegHangup {
		t.Fatalf("event %v", ev)
	}
	waitClosed(t, l, 5*time.Second)
	select {
	case <-u.bye:
	case <-time.After(5 * time.Second):
		t.Error("the far end's BYE did not complete")
	}
	// (It completed without error: testUAS fails the test otherwise.)

}

// TestTLSFarEndDistrustsUs: a far end that does not trust our certificate
// cannot deliver its BYE; the call still ends (our side's RTP timeout or
// BYE), and nothing on our side accepted the unverified request.
func TestTLSFarEndDistrustsUs(t *testing.T) {
	pki, other := newTestPKI(t), newTestPKI(t)
	u := startUAS(t, &testUAS{tls: pki.serverConfig(), tlsDial: other.clientConfig()})
	c := newTestCarrier(t, u.addr, func(cfg *Config) {
		pki.useTLS(cfg)
		cfg.Trunks[0].TLSRoots = pki.pool
	})
	l := originate(t, c, "13800000000", 10*time.Second)
	waitFor(t, l, dialtone.LegAnswered, 5*time.Second)
	<-u.invites
	// The far end's BYE fails its handshake with us.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	dlg := u.lastDialog()
	if dlg == nil {
		t.Fatal("far end has no dialog")
	}
	if err := dlg.Bye(ctx); err == nil {
		t.Error("far end's BYE succeeded against a certificate it does not trust")
	}
	select {
	case ev := <-l.Events():
		if ev.Kind == dialtone.LegHangup {
			t.Errorf("leg hung up by an unverified BYE: %v", ev)
		}
	case <-time.After(200 * time.Millisecond):
	}
	if err := l.Hangup(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitClosed(t, l, 5*time.Second)
}

func TestTLSConfigValidate(t *testing.T) {
	cfg := Config{Config: sipconf.Config{Listen: "127.0.0.1:0", Trunks: []Trunk{{Name: "t", Address: "127.0.0.1:5061", TLSCA: "ca.pem"}}}}
	if err := cfg.Validate(); err == nil {
		t.Error("tls_ca on a udp trunk validated")
	}
	cfg.Trunks[0].Transport = TransportTLS
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "tls_cert and tls_key") {
		t.Errorf("tls trunk without our certificate: %v", err)
	}
	cfg.TLSCert = "cert.pem"
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "both or neither") {
		t.Errorf("tls_cert without tls_key: %v", err)
	}
	cfg.TLSKey = "key.pem"
	cfg.TLSListen = "nonsense"
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "tls_listen") {
		t.Errorf("bad tls_listen: %v", err)
	}
	cfg.TLSListen = ""
	cfg.Trunks[0].TLSCA = filepath.Join(t.TempDir(), "missing.pem")
	if _, err := New(cfg, nil); err == nil {
		t.Error("missing tls_ca file: no error")
	}
	cfg.Trunks[0].TLSCA = ""
	if _, err := New(cfg, nil); err == nil || !strings.Contains(err.Error(), "tls_cert") {
		t.Errorf("missing certificate files: %v", err)
	}
}

// TestTLSCertificateFiles: the certificate comes from PEM files, and the
// TLS listener takes the port after a configured SIP port.
func TestTLSCertificateFiles(t *testing.T) {
	pki := newTestPKI(t)
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	keyDER, err := x509.MarshalPKCS8PrivateKey(pki.server.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: pki.server.Certificate[0]}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	port := freeUDPTCPPair(t)
	c, err := New(Config{Config: sipconf.Config{Listen: "127.0.0.1:" + strconv.Itoa(port), TLSCert: certFile, TLSKey: keyFile,
		Trunks: []Trunk{{Name: "t", Address: "127.0.0.1:5061", Transport: TransportTLS, TLSRoots: pki.pool}}, DefaultTrunk: "t"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.tlsPort != port+1 {
		t.Errorf("tls port %d, want %d", c.tlsPort, port+1)
	}
	conn, err := tls.Dial("tcp", c.tlsLn.Addr().String(), pki.clientConfig())
	if err != nil {
		t.Fatalf("handshake with our listener: %v", err)
	}
	conn.Close()
}

// freeUDPTCPPair finds a UDP port whose next TCP port is free too.
func freeUDPTCPPair(t *testing.T) int {
	t.Helper()
	for range 50 {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := pc.LocalAddr().(*net.UDPAddr).Port
		pc.Close()
		if port == 65535 {
			continue
		}
		if ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port+1)); err == nil {
			ln.Close()
			return port
		}
	}
	t.Fatal("no free port pair")
	return 0
}
