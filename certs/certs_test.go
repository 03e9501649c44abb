package certs

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestHandshakeLogOncePerSource(t *testing.T) {
	var buf bytes.Buffer
	h := NewHandshakeLog(slog.New(slog.NewTextHandler(&buf, nil)))
	now := time.Now()
	h.now = func() time.Time { return now }
	l := h.Logger()
	for i := range 5 {
		l.Printf("http: TLS handshake error from 192.0.2.1:%d: tls: client offered only unsupported versions: [302 301]", 40000+i)
	}
	l.Printf("http: TLS handshake error from [2001:db8::1]:5000: EOF")
	l.Printf("http: some other server error")
	out := buf.String()
	if n := strings.Count(out, "TLS handshake failed"); n != 2 {
		t.Fatalf("%d handshake lines, want one per source:\n%s", n, out)
	}
	for _, want := range []string{"source=192.0.2.1", "unsupported versions", "source=2001:db8::1", "reason=EOF", "some other server error"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	// After the interval the source is logged again, with the count of
	// failures that were not.
	buf.Reset()
	now = now.Add(HandshakeLogEvery)
	l.Printf("http: TLS handshake error from 192.0.2.1:40010: EOF")
	if out := buf.String(); !strings.Contains(out, "unlogged_before=4") {
		t.Errorf("second line: %s", out)
	}
	// Many sources: memory stays bounded.
	for i := range maxSources + 10 {
		l.Printf("http: TLS handshake error from 10.%d.%d.%d:1: EOF", i>>16&255, i>>8&255, i&255)
	}
	if n := len(h.sources); n > maxSources {
		t.Errorf("%d sources remembered, bound %d", n, maxSources)
	}
}

func TestServerConfigHardened(t *testing.T) {
	c := ServerConfig(nil)
	if c.MinVersion != tls.VersionTLS12 {
		t.Errorf("MinVersion %x", c.MinVersion)
	}
	for _, id := range c.CipherSuites {
		name := tls.CipherSuiteName(id)
		if !strings.HasPrefix(name, "TLS_ECDHE_") || !(strings.Contains(name, "GCM") || strings.Contains(name, "CHACHA20")) {
			t.Errorf("suite %s is not ECDHE with AEAD", name)
		}
		for _, s := range tls.InsecureCipherSuites() {
			if s.ID == id {
				t.Errorf("insecure suite %s", s.Name)
			}
		}
	}
	if fmt.Sprint(c.NextProtos) != "[h2 http/1.1]" {
		t.Errorf("NextProtos %v", c.NextProtos)
	}
}

func TestNewChecksFlags(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{CertFile: "a"}, "--tls-cert and --tls-key"},
		{Config{CertFile: "a", KeyFile: "b", ACMEDomains: []string{"x.example"}}, "exclude each other"},
		{Config{ACMEEmail: "a@b.example"}, "need --acme-domains"},
		{Config{ACMEDomains: []string{"*.x.example"}}, "wildcards"},
		{Config{ACMEDomains: []string{"x.example"}, ACMEDirectory: "http://insecure.example/dir"}, "--acme-directory"},
		{Config{Names: []string{"bad name"}, DataDir: t.TempDir()}, "--tls-names"},
		{Config{CertFile: "/nonexistent/cert.pem", KeyFile: "/nonexistent/key.pem"}, "--tls-cert"},
	} {
		if _, err := New(tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want an error with %q", tc.cfg, err, tc.want)
		}
	}
}
