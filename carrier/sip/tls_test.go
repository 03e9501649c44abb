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
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone"
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

// TestUASOverTLS: a trunk with transport tls and the far end's CA (from a
// tls_ca file, or in memory) reaches it over TLS; it answers, media (plain
// RTP over UDP) flows both ways, and our BYE, over the same TLS
// connection, ends the call. (The far end's own BYE would need a TLS
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
				cfg.Trunks[0].Transport = TransportTLS
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
			st := l.Stats()
			if n, _ := strconv.Atoi(st["packets_received"]); n < 25 {
				t.Errorf("received %d packets in a second of tone", n)
			}
			u.mu.Lock()
			heard := len(u.heard)
			u.mu.Unlock()
			if heard < 25*frameSamples {
				t.Errorf("far end heard %d samples", heard)
			}
			select {
			case <-u.bye:
			case <-time.After(5 * time.Second):
				t.Error("far end got no BYE")
			}
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
				cfg.Trunks[0].Transport = TransportTLS
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

func TestTLSConfigValidate(t *testing.T) {
	cfg := Config{Listen: "127.0.0.1:0", Trunks: []Trunk{{Name: "t", Address: "127.0.0.1:5061", TLSCA: "ca.pem"}}}
	if err := cfg.Validate(); err == nil {
		t.Error("tls_ca on a udp trunk validated")
	}
	cfg.Trunks[0].Transport = TransportTLS
	cfg.Trunks[0].TLSCA = filepath.Join(t.TempDir(), "missing.pem")
	if _, err := New(cfg, nil); err == nil {
		t.Error("missing tls_ca file: no error")
	}
}
