// Package tlsca is Dialtone's local certificate authority: created once
// under the data directory, with X.509 name constraints so that it can only
// ever vouch for the names Dialtone serves (package hostnames), and an
// Issuer that signs short-lived leaf certificates per SNI name during the
// TLS handshake.
//
// The CA's private key is read and written only here, only in its file
// (mode 0600); it is never logged and never leaves the directory.
package tlsca

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dialtone-voice/dialtone/hostnames"
)

// Files of the CA inside its directory (DATA/tls).
const (
	CertFile = "ca.pem"
	KeyFile  = "ca.key"
)

// Dir is the CA's directory inside a data directory.
func Dir(dataDir string) string { return filepath.Join(dataDir, "tls") }

// Lifetime of the CA certificate.
const caLifetime = 10 * 365 * 24 * time.Hour

// CA is a loaded local CA.
type CA struct {
	cert    *x509.Certificate
	certPEM []byte
	key     crypto.Signer
}

// ErrNoCA is returned by ReadCert when the directory holds no CA yet.
var ErrNoCA = errors.New("no local CA yet")

// ReadCert returns the PEM certificate of the CA in dir.
func ReadCert(dir string) ([]byte, error) {
	b, err := os.ReadFile(filepath.Join(dir, CertFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w in %s: `dialtone serve` creates it on its first start with HTTPS", ErrNoCA, dir)
	}
	if err != nil {
		return nil, fmt.Errorf("local CA: %w", err)
	}
	if _, err := parseCertPEM(b); err != nil {
		return nil, fmt.Errorf("local CA %s: %w", filepath.Join(dir, CertFile), err)
	}
	return b, nil
}

// Open loads the CA in dir, or creates it there when neither file exists,
// permitting exactly set's names (hostnames.Set.Constraints). An existing
// CA must cover every name of set: a CA is never widened, since clients
// already trust it; the error says how to start a new one.
func Open(dir string, set *hostnames.Set, now time.Time) (ca *CA, created bool, err error) {
	certPath, keyPath := filepath.Join(dir, CertFile), filepath.Join(dir, KeyFile)
	_, certErr := os.Stat(certPath)
	_, keyErr := os.Stat(keyPath)
	switch {
	case errors.Is(certErr, fs.ErrNotExist) && errors.Is(keyErr, fs.ErrNotExist):
		ca, err = create(dir, set, now)
		return ca, err == nil, err
	case errors.Is(certErr, fs.ErrNotExist) || errors.Is(keyErr, fs.ErrNotExist):
		return nil, false, fmt.Errorf("local CA in %s: one of %s and %s is missing; restore it, or remove both to create a new CA (clients must then trust the new one)", dir, CertFile, KeyFile)
	}
	ca, err = load(certPath, keyPath)
	if err != nil {
		return nil, false, err
	}
	if missing := ca.uncovered(set); len(missing) > 0 {
		return nil, false, fmt.Errorf("the local CA in %s was created for other names and cannot vouch for %s; remove %s and %s to create a new CA for the current names (clients must then trust the new one)",
			dir, strings.Join(missing, ", "), CertFile, KeyFile)
	}
	return ca, false, nil
}

func create(dir string, set *hostnames.Set, now time.Time) (*CA, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("local CA: %w", err)
	}
	// The directory is readable by all, like the certificate; the key file
	// alone is private.
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, fmt.Errorf("local CA: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("local CA key: %w", err)
	}
	dnsNames, ipNets := set.Constraints()
	host, _ := os.Hostname()
	tmpl := &x509.Certificate{
		SerialNumber: randomSerial(),
		Subject: pkix.Name{
			Organization: []string{"Dialtone"},
			CommonName:   strings.TrimSpace("Dialtone local CA " + host + " " + now.UTC().Format("2006-01-02")),
		},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(caLifetime),
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		// Only server certificates, whatever a leaf claims.
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		// Critical, so that a client that cannot check the constraints
		// refuses the CA instead of trusting it for every name.
		PermittedDNSDomainsCritical: true,
		PermittedDNSDomains:         dnsNames,
		PermittedIPRanges:           ipNets,
		// No mailbox or URI name is ever needed: permit only the reserved
		// .invalid domain, so that no such name can be vouched for.
		PermittedEmailAddresses: []string{"invalid"},
		PermittedURIDomains:     []string{"invalid"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("local CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("local CA certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("local CA key: %w", err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	// The key first: a certificate without its key is never left behind.
	if err := writeFile(filepath.Join(dir, KeyFile), keyPEM, 0o600); err != nil {
		return nil, err
	}
	if err := writeFile(filepath.Join(dir, CertFile), certPEM, 0o644); err != nil {
		os.Remove(filepath.Join(dir, KeyFile))
		return nil, err
	}
	return &CA{cert: cert, certPEM: certPEM, key: key}, nil
}

// writeFile writes data to path through a temporary file renamed into
// place, with mode set explicitly (the process umask may be stricter).
func writeFile(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("local CA: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return fmt.Errorf("local CA: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("local CA: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("local CA: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("local CA: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("local CA: %w", err)
	}
	return nil
}

func load(certPath, keyPath string) (*CA, error) {
	certPEM, err := os.ReadFile(certPath)
	if err != nil {
		return nil, fmt.Errorf("local CA: %w", err)
	}
	cert, err := parseCertPEM(certPEM)
	if err != nil {
		return nil, fmt.Errorf("local CA %s: %w", certPath, err)
	}
	if !cert.IsCA {
		return nil, fmt.Errorf("local CA %s: not a CA certificate", certPath)
	}
	st, err := os.Stat(keyPath)
	if err != nil {
		return nil, fmt.Errorf("local CA: %w", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("local CA key %s: mode %v lets others read it; chmod 600 it", keyPath, st.Mode().Perm())
	}
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, fmt.Errorf("local CA: %w", err)
	}
	block, _ := pem.Decode(keyPEM)
	if block == nil {
		// Never echo the file: it is the key.
		return nil, fmt.Errorf("local CA key %s: no PEM block", keyPath)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("local CA key %s: not a PKCS #8 key", keyPath)
	}
	signer, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("local CA key %s: not a signing key", keyPath)
	}
	if !publicKeysEqual(signer.Public(), cert.PublicKey) {
		return nil, fmt.Errorf("local CA: %s does not belong to %s", keyPath, certPath)
	}
	return &CA{cert: cert, certPEM: certPEM, key: signer}, nil
}

func publicKeysEqual(a, b crypto.PublicKey) bool {
	ea, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && ea.Equal(b)
}

func parseCertPEM(b []byte) (*x509.Certificate, error) {
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("no PEM certificate")
	}
	return x509.ParseCertificate(block.Bytes)
}

func randomSerial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		// crypto/rand does not fail on supported platforms.
		return big.NewInt(time.Now().UnixNano())
	}
	return n.Add(n, big.NewInt(1))
}

// CertPEM is the CA certificate, PEM encoded.
func (ca *CA) CertPEM() []byte { return bytes.Clone(ca.certPEM) }

// Certificate is the parsed CA certificate.
func (ca *CA) Certificate() *x509.Certificate { return ca.cert }

// Pool is a certificate pool holding only the CA.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.cert)
	return p
}

// uncovered lists the names and addresses of set that the CA's constraints
// do not permit.
func (ca *CA) uncovered(set *hostnames.Set) []string {
	var out []string
	dnsNames, ipNets := set.Constraints()
	for _, n := range dnsNames {
		if !ca.permitsDNS(n) {
			out = append(out, n)
		}
	}
	for _, n := range ipNets {
		if !ca.permitsIP(n.IP) {
			out = append(out, n.IP.String())
		}
	}
	return out
}

// permitsDNS applies the CA's DNS constraints as RFC 5280 does: a
// constraint permits the name itself and every name below it.
func (ca *CA) permitsDNS(name string) bool {
	name = strings.ToLower(name)
	for _, c := range ca.cert.PermittedDNSDomains {
		c = strings.ToLower(strings.TrimPrefix(c, "."))
		if name == c || strings.HasSuffix(name, "."+c) {
			return true
		}
	}
	return false
}

func (ca *CA) permitsIP(ip net.IP) bool {
	for _, r := range ca.cert.PermittedIPRanges {
		if r.Contains(ip) {
			return true
		}
	}
	return false
}

// Leaf is an issued certificate with its key.
type Leaf struct {
	DER      []byte
	Key      crypto.Signer
	NotAfter time.Time
}

// Issue signs a server certificate for one DNS name or one IP address,
// valid from now-1h (clock skew) for lifetime. It refuses names outside the
// CA's constraints, as every client would.
func (ca *CA) Issue(name string, ip net.IP, now time.Time, lifetime time.Duration) (*Leaf, error) {
	if (name == "") == (ip == nil) {
		return nil, errors.New("local CA: issue for exactly one name or address")
	}
	if name != "" && !ca.permitsDNS(name) {
		return nil, fmt.Errorf("local CA: %q is outside the CA's name constraints", name)
	}
	if ip != nil && !ca.permitsIP(ip) {
		return nil, fmt.Errorf("local CA: %s is outside the CA's name constraints", ip)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("leaf key: %w", err)
	}
	notAfter := now.Add(lifetime)
	if notAfter.After(ca.cert.NotAfter) {
		notAfter = ca.cert.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber:          randomSerial(),
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	// No subject: the name is in the (then critical) subject alternative
	// name only. OpenSSL checks a subject common name against the DNS
	// constraints, which an IP address in it would fail.
	if name != "" {
		tmpl.DNSNames = []string{name}
	} else {
		tmpl.IPAddresses = []net.IP{ip}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return nil, fmt.Errorf("leaf certificate: %w", err)
	}
	return &Leaf{DER: der, Key: key, NotAfter: notAfter}, nil
}
