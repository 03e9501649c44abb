// Package certs gives the HTTPS listener its certificates and its TLS
// settings. Three sources, chosen by configuration:
//
//   - files: a certificate and key in PEM files, re-read when they change on
//     disk (rotation without restart);
//   - ACME: certificates obtained and renewed by certmagic from an ACME CA
//     (Let's Encrypt by default), kept in a storage directory;
//   - the local CA (package tlsca), the default: leaves issued per SNI name
//     for the names Dialtone serves (package hostnames).
//
// Whatever the source, the TLS settings are the same: TLS 1.2 and 1.3 only,
// ECDHE with AEAD ciphers only, HTTP/2 offered.
package certs

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/hostnames"
	"github.com/dialtone-voice/dialtone/tlsca"
)

// Sources of certificates.
const (
	SourceLocalCA = "local-ca"
	SourceFiles   = "files"
	SourceACME    = "acme"
)

// DefaultACMEDirectory is Let's Encrypt's production directory.
const DefaultACMEDirectory = "https://acme-v02.api.letsencrypt.org/directory"

// Config selects and configures the source.
type Config struct {
	DataDir string
	// CertFile and KeyFile select the files source (both or neither).
	CertFile, KeyFile string
	// ACMEDomains select the ACME source.
	ACMEDomains []string
	ACMEEmail   string
	// ACMEDirectory defaults to DefaultACMEDirectory.
	ACMEDirectory string
	// ACMEStorage is a directory where certificates, keys and the ACME
	// account are kept (certmagic's file storage, which locks through the
	// directory, so the nodes of a cluster must share it). It overrides
	// ACMEStore.
	ACMEStorage string
	// ACMEStore keeps them in the Dialtone store instead (StoreStorage),
	// which every node of a cluster on one PostgreSQL database shares.
	// With neither, they are kept in DATA/acme.
	ACMEStore dialtone.CertStore
	// ACMERenewCheck is how often certificates are checked for renewal;
	// default 10 minutes.
	ACMERenewCheck time.Duration
	// Names are the operator's names (--tls-names): host names,
	// "*.domain" wildcards or IP addresses.
	Names []string
	// HTTPSAddr and HTTPAddr are the listeners' addresses as configured
	// (the local CA vouches for a specific listener IP; ACME answers its
	// challenges on them). HTTPAddr "" means no plain listener.
	HTTPSAddr, HTTPAddr string
	Logger              *slog.Logger
}

// Manager is the chosen source with the TLS settings around it.
type Manager struct {
	source string
	set    *hostnames.Set
	get    func(*tls.ClientHelloInfo) (*tls.Certificate, error)
	ca     *tlsca.CA
	caDir  string
	acme   *acmeSource
	log    *slog.Logger
}

// New validates cfg and prepares the source: files are loaded, the local CA
// is loaded or created. ACME starts obtaining certificates only in Start,
// once the listeners answer its challenges.
func New(cfg Config) (*Manager, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if (cfg.CertFile == "") != (cfg.KeyFile == "") {
		return nil, errors.New("--tls-cert and --tls-key must be given together")
	}
	if cfg.CertFile != "" && len(cfg.ACMEDomains) > 0 {
		return nil, errors.New("--tls-cert/--tls-key and --acme-domains exclude each other: choose one source of certificates")
	}
	if len(cfg.ACMEDomains) == 0 && (cfg.ACMEEmail != "" || cfg.ACMEDirectory != "") {
		return nil, errors.New("--acme-email and --acme-directory need --acme-domains")
	}
	var ips []net.IP
	if ip := listenIP(cfg.HTTPSAddr); ip != nil {
		ips = append(ips, ip)
	}
	names := append([]string(nil), cfg.Names...)
	for _, d := range cfg.ACMEDomains {
		n, _, err := hostnames.CheckName(d)
		if err != nil {
			return nil, fmt.Errorf("--acme-domains: %w", err)
		}
		if strings.HasPrefix(strings.TrimSpace(d), "*.") {
			return nil, fmt.Errorf("--acme-domains %q: wildcards need the DNS challenge, which Dialtone does not run; list the names", d)
		}
		names = append(names, n)
	}
	set, err := hostnames.New(names, ips)
	if err != nil {
		return nil, fmt.Errorf("--tls-names: %w", err)
	}
	m := &Manager{set: set, log: cfg.Logger}
	switch {
	case cfg.CertFile != "":
		fs, err := newFileSource(cfg.CertFile, cfg.KeyFile, cfg.Logger)
		if err != nil {
			return nil, err
		}
		m.source, m.get = SourceFiles, fs.GetCertificate
	case len(cfg.ACMEDomains) > 0:
		a, err := newACME(cfg)
		if err != nil {
			return nil, err
		}
		m.source, m.acme, m.get = SourceACME, a, a.GetCertificate
	default:
		m.caDir = tlsca.Dir(cfg.DataDir)
		ca, created, err := tlsca.Open(m.caDir, set, time.Now())
		if err != nil {
			return nil, err
		}
		if created {
			cfg.Logger.Info("created the local CA", "certificate", filepath.Join(m.caDir, tlsca.CertFile))
		}
		m.ca = ca
		m.source, m.get = SourceLocalCA, tlsca.NewIssuer(ca, set, 0, nil).GetCertificate
	}
	return m, nil
}

// listenIP is the specific IP address of a listen address, or nil for
// none or an unspecified one.
func listenIP(addr string) net.IP {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || ip.IsUnspecified() {
		return nil
	}
	return ip
}

// Source is SourceLocalCA, SourceFiles or SourceACME.
func (m *Manager) Source() string { return m.source }

// Names are the names served: the DNS server answers for them.
func (m *Manager) Names() *hostnames.Set { return m.set }

// CA is the local CA, nil with another source.
func (m *Manager) CA() *tlsca.CA { return m.ca }

// CACertPath is the local CA's certificate file, "" with another source.
func (m *Manager) CACertPath() string {
	if m.ca == nil {
		return ""
	}
	return filepath.Join(m.caDir, tlsca.CertFile)
}

// Start begins ACME management once the listeners are up, given their
// bound addresses (httpAddr "" without a plain listener). Other sources
// have nothing to start.
func (m *Manager) Start(ctx context.Context, httpsAddr, httpAddr string) error {
	if m.acme == nil {
		return nil
	}
	return m.acme.start(ctx, httpsAddr, httpAddr)
}

// Stop ends ACME maintenance.
func (m *Manager) Stop() {
	if m.acme != nil {
		m.acme.stop()
	}
}

// WrapHTTP serves ACME HTTP-01 challenges on the plain listener in front
// of h; with other sources it returns h.
func (m *Manager) WrapHTTP(h http.Handler) http.Handler {
	if m.acme == nil {
		return h
	}
	return m.acme.httpHandler(h)
}

// TLSConfig is the listener's TLS configuration.
func (m *Manager) TLSConfig() *tls.Config {
	c := ServerConfig(m.get)
	if m.acme != nil {
		// TLS-ALPN-01 challenges arrive on the HTTPS listener.
		c.NextProtos = append(c.NextProtos, "acme-tls/1")
	}
	return c
}

// CipherSuites are the TLS 1.2 suites accepted: ECDHE key exchange with an
// AEAD cipher only (TLS 1.3 suites are all of that kind and not
// configurable). No RSA key exchange, CBC, 3DES or RC4.
var CipherSuites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}

// ServerConfig is the hardened server configuration around get: TLS 1.2
// minimum, CipherSuites, HTTP/2 and HTTP/1.1 offered.
func ServerConfig(get func(*tls.ClientHelloInfo) (*tls.Certificate, error)) *tls.Config {
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		CipherSuites:   CipherSuites,
		GetCertificate: get,
		NextProtos:     []string{"h2", "http/1.1"},
	}
}
