package sip

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
)

// tlsPeer is what verifies one TLS trunk's certificate.
type tlsPeer struct {
	roots *x509.CertPool // nil: the system roots
	name  string         // the name (or IP) the certificate must carry
}

// trunkRoots is the CA pool a TLS trunk's certificate is checked against:
// TLSRoots, the certificates of the TLSCA file, or nil for the system
// roots.
func trunkRoots(t Trunk) (*x509.CertPool, error) {
	if t.TLSRoots != nil {
		return t.TLSRoots, nil
	}
	if t.TLSCA == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(t.TLSCA)
	if err != nil {
		return nil, fmt.Errorf("tls_ca: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("tls_ca %s: no PEM certificates", t.TLSCA)
	}
	return pool, nil
}

// clientTLSConfig is the TLS configuration of every TLS trunk. sipgo
// takes one configuration for all connections and names the server by
// the host it dials (the host of the trunk's Address), so verification is
// done here, per trunk: the certificate must chain to that trunk's roots
// and carry its name. Go's automatic check is off only because it cannot
// be told which trunk a connection is for; VerifyConnection replaces it
// and rejects every connection it cannot verify.
func clientTLSConfig(peers map[string][]tlsPeer) *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		// Verification is VerifyConnection's, below.
		InsecureSkipVerify: true, //nolint:gosec // verified in VerifyConnection
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("sip tls: server sent no certificate")
			}
			// Go sends no SNI for an IP address and then leaves ServerName
			// empty: such a connection is to one of the trunks addressed
			// by IP (peers[""]), and must verify as one of them.
			candidates := peers[cs.ServerName]
			if len(candidates) == 0 && cs.ServerName != "" {
				// Not a configured trunk host: system roots, dialled name.
				candidates = []tlsPeer{{name: cs.ServerName}}
			}
			inter := x509.NewCertPool()
			for _, c := range cs.PeerCertificates[1:] {
				inter.AddCert(c)
			}
			err := errors.New("sip tls: no trunk to verify the certificate for")
			for _, p := range candidates {
				if p.name == "" {
					err = errors.New("sip tls: no server name to verify")
					continue
				}
				_, err = cs.PeerCertificates[0].Verify(x509.VerifyOptions{
					Roots: p.roots, Intermediates: inter, DNSName: p.name,
					KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
				})
				if err == nil {
					return nil
				}
			}
			return fmt.Errorf("sip tls: %w", err)
		},
	}
}

// tlsPeers indexes the TLS trunks by the host sipgo dials (and so names
// the server by); trunks addressed by IP share the key "". With several
// of those, a certificate that verifies for one of them (its roots and
// its name or IP) is accepted on each.
func tlsPeers(trunks []Trunk) (map[string][]tlsPeer, error) {
	peers := map[string][]tlsPeer{}
	for _, t := range trunks {
		if t.Transport != TransportTLS {
			continue
		}
		roots, err := trunkRoots(t)
		if err != nil {
			return nil, fmt.Errorf("sip: trunk %s: %w", t.Name, err)
		}
		host, _, err := net.SplitHostPort(t.Address)
		if err != nil {
			return nil, fmt.Errorf("sip: trunk %s: %w", t.Name, err)
		}
		name := t.TLSServerName
		if name == "" {
			name = host
		}
		key := host
		if net.ParseIP(host) != nil {
			key = "" // see clientTLSConfig: no SNI, so no host to tell them apart
		}
		peers[key] = append(peers[key], tlsPeer{roots: roots, name: name})
	}
	return peers, nil
}

// listenTLS opens the listener the far ends of TLS trunks send their
// in-dialog requests to (nil when no trunk uses TLS). A TLS far end does
// not send its BYE back over the connection our INVITE opened: it opens
// its own to our Contact, and that needs a listener with a certificate.
func listenTLS(cfg Config, sipAddr *net.UDPAddr) (net.Listener, error) {
	need := false
	for _, t := range cfg.Trunks {
		need = need || t.Transport == TransportTLS
	}
	if !need {
		return nil, nil
	}
	cert := cfg.TLSCertificate
	if cert == nil {
		c, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("sip: tls_cert/tls_key: %w", err)
		}
		cert = &c
	}
	addr := cfg.TLSListen
	if addr == "" {
		// The next port after the configured one (5060 → 5061, the
		// registered SIP-over-TLS port); a free one when SIP's was.
		port := 0
		if _, p, err := net.SplitHostPort(cfg.Listen); err == nil && p != "0" && sipAddr.Port != 0 {
			port = sipAddr.Port + 1
		}
		addr = net.JoinHostPort(sipAddr.IP.String(), strconv.Itoa(port))
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("sip: listen tls %s: %w", addr, err)
	}
	return tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{*cert}, MinVersion: tls.VersionTLS12}), nil
}
