package tlsca

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/dialtone-voice/dialtone/hostnames"
)

// Defaults of an Issuer.
const (
	// DefaultLeafLifetime is short: a leaf lives a day and is replaced
	// once two thirds of it have passed.
	DefaultLeafLifetime = 24 * time.Hour
	// maxCached bounds the leaves kept in memory (MNS hostnames carry any
	// account id, so the names asked for are not bounded by themselves).
	maxCached = 1024
)

// ErrNameNotServed is the handshake error for an SNI name outside the set.
var ErrNameNotServed = errors.New("no certificate for this name: it is not one Dialtone serves")

// Issuer hands out leaf certificates during TLS handshakes: one per SNI
// name of the set (or, without SNI, per local IP address of the set),
// issued on first use, cached and re-issued once two thirds of its
// lifetime have passed.
type Issuer struct {
	ca       *CA
	set      *hostnames.Set
	lifetime time.Duration
	now      func() time.Time

	mu    sync.Mutex
	cache map[string]*tls.Certificate
	// issued counts leaves signed (for tests and metrics).
	issued int
}

// NewIssuer returns an issuer of leaves for set's names signed by ca.
// lifetime <= 0 means DefaultLeafLifetime; now nil means time.Now.
func NewIssuer(ca *CA, set *hostnames.Set, lifetime time.Duration, now func() time.Time) *Issuer {
	if lifetime <= 0 {
		lifetime = DefaultLeafLifetime
	}
	if now == nil {
		now = time.Now
	}
	return &Issuer{ca: ca, set: set, lifetime: lifetime, now: now, cache: map[string]*tls.Certificate{}}
}

// Issued is how many leaves the issuer has signed.
func (is *Issuer) Issued() int {
	is.mu.Lock()
	defer is.mu.Unlock()
	return is.issued
}

// GetCertificate is a tls.Config.GetCertificate.
func (is *Issuer) GetCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	name := strings.ToLower(strings.TrimSuffix(hello.ServerName, "."))
	var ip net.IP
	if name == "" {
		// No SNI: clients send none when they connect to an address.
		if hello.Conn != nil {
			if a, ok := hello.Conn.LocalAddr().(*net.TCPAddr); ok {
				ip = a.IP
				if v4 := ip.To4(); v4 != nil {
					ip = v4
				}
			}
		}
		if ip == nil || !is.set.MatchIP(ip) {
			return nil, fmt.Errorf("no certificate for a handshake without a server name on %v: %w", ip, ErrNameNotServed)
		}
	} else if !is.set.Match(name) {
		return nil, fmt.Errorf("server name %q: %w", name, ErrNameNotServed)
	}
	key := name
	if key == "" {
		key = ip.String()
	}
	now := is.now()
	is.mu.Lock()
	defer is.mu.Unlock()
	if c := is.cache[key]; c != nil && !needsRenewal(c.Leaf, now) {
		return c, nil
	}
	leaf, err := is.ca.Issue(name, ip, now, is.lifetime)
	if err != nil {
		return nil, err
	}
	parsed, err := x509.ParseCertificate(leaf.DER)
	if err != nil {
		return nil, fmt.Errorf("leaf certificate: %w", err)
	}
	c := &tls.Certificate{Certificate: [][]byte{leaf.DER}, PrivateKey: leaf.Key, Leaf: parsed}
	if len(is.cache) >= maxCached {
		for k := range is.cache { // drop any one; map order is random
			delete(is.cache, k)
			break
		}
	}
	is.cache[key] = c
	is.issued++
	return c, nil
}

// needsRenewal is true once two thirds of the leaf's lifetime have passed.
func needsRenewal(leaf *x509.Certificate, now time.Time) bool {
	life := leaf.NotAfter.Sub(leaf.NotBefore)
	return now.After(leaf.NotAfter.Add(-life / 3))
}
