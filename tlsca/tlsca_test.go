package tlsca

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone/hostnames"
)

func newSet(t *testing.T, extra ...string) *hostnames.Set {
	t.Helper()
	s, err := hostnames.New(extra, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestOpenCreatesAndReloads(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tls")
	now := time.Now()
	ca, created, err := Open(dir, newSet(t, "voice.example.com"), now)
	if err != nil || !created {
		t.Fatalf("Open: %v created %v", err, created)
	}
	for name, want := range map[string]os.FileMode{CertFile: 0o644, KeyFile: 0o600} {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil || st.Mode().Perm() != want {
			t.Errorf("%s: %v mode %v, want %v", name, err, st.Mode().Perm(), want)
		}
	}
	c := ca.Certificate()
	if !c.IsCA || !c.MaxPathLenZero || !c.PermittedDNSDomainsCritical || len(c.PermittedIPRanges) == 0 {
		t.Errorf("CA certificate: IsCA %v MaxPathLenZero %v critical %v IP ranges %v", c.IsCA, c.MaxPathLenZero, c.PermittedDNSDomainsCritical, c.PermittedIPRanges)
	}
	pemText, err := ReadCert(dir)
	if err != nil || string(pemText) != string(ca.CertPEM()) {
		t.Fatalf("ReadCert: %v", err)
	}

	// Reopened with the same names: the same CA.
	again, created, err := Open(dir, newSet(t, "voice.example.com"), now)
	if err != nil || created || !again.Certificate().Equal(c) {
		t.Fatalf("reopen: %v created %v", err, created)
	}
	// A name the CA was not made for: refused, with the way out.
	_, _, err = Open(dir, newSet(t, "other.example.com"), now)
	if err == nil || !strings.Contains(err.Error(), "other.example.com") || !strings.Contains(err.Error(), "remove") {
		t.Errorf("reopen with another name: %v", err)
	}
	// A key readable by others is refused.
	os.Chmod(filepath.Join(dir, KeyFile), 0o644)
	if _, _, err := Open(dir, newSet(t), now); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("world-readable key: %v", err)
	}
	os.Chmod(filepath.Join(dir, KeyFile), 0o600)
	// One file missing: an error, never a silent new CA.
	os.Remove(filepath.Join(dir, CertFile))
	if _, _, err := Open(dir, newSet(t), now); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("certificate missing: %v", err)
	}
	if _, err := ReadCert(t.TempDir()); !errors.Is(err, ErrNoCA) {
		t.Errorf("ReadCert of an empty directory: %v", err)
	}
}

type fakeConn struct {
	net.Conn
	local net.Addr
}

func (f fakeConn) LocalAddr() net.Addr { return f.local }

func TestIssuer(t *testing.T) {
	set := newSet(t)
	ca, _, err := Open(t.TempDir(), set, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	is := NewIssuer(ca, set, time.Hour, func() time.Time { return now })
	roots := ca.Pool()
	get := func(name string) (*tls.Certificate, error) {
		return is.GetCertificate(&tls.ClientHelloInfo{ServerName: name,
			Conn: fakeConn{local: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 443}}})
	}
	for _, name := range []string{"dyvmsapi.aliyuncs.com", "dybaseapi.cn-beijing.aliyuncs.com", "77.mns.cn-hangzhou.aliyuncs.com", "localhost"} {
		c, err := get(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := c.Leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: name, CurrentTime: now}); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := get("www.example.com"); !errors.Is(err, ErrNameNotServed) {
		t.Errorf("www.example.com: %v", err)
	}
	// Without SNI: a certificate for the local address.
	c, err := get("")
	if err != nil || len(c.Leaf.IPAddresses) != 1 || !c.Leaf.IPAddresses[0].Equal(net.IPv4(127, 0, 0, 1)) {
		t.Fatalf("no SNI: %v %v", err, c)
	}
	if _, err := c.Leaf.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: now}); err != nil {
		t.Errorf("IP leaf: %v", err)
	}
	// Cached, then renewed once two thirds of its life have passed.
	first, _ := get("dyvmsapi.aliyuncs.com")
	if again, _ := get("dyvmsapi.aliyuncs.com"); again != first {
		t.Error("not cached")
	}
	issued := is.Issued()
	// Valid from now-1h (clock skew) to now+1h: renewed once less than a
	// third (40 min) remains, 20 min from now.
	now = now.Add(10 * time.Minute)
	if again, _ := get("dyvmsapi.aliyuncs.com"); again != first || is.Issued() != issued {
		t.Error("renewed too early")
	}
	now = now.Add(15 * time.Minute)
	renewed, err := get("dyvmsapi.aliyuncs.com")
	if err != nil || renewed == first || is.Issued() != issued+1 || !renewed.Leaf.NotAfter.After(first.Leaf.NotAfter) {
		t.Errorf("not renewed: %v", err)
	}
	// Issue itself refuses names outside the constraints.
	if _, err := ca.Issue("www.example.com", nil, now, time.Hour); err == nil {
		t.Error("Issue outside the constraints")
	}
	if _, err := ca.Issue("", net.IPv4(192, 0, 2, 1), now, time.Hour); err == nil {
		t.Error("Issue for an address outside the constraints")
	}
}
