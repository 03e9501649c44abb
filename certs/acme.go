package certs

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"time"

	"github.com/caddyserver/certmagic"
	"go.uber.org/zap"
)

// DefaultACMERenewCheck is how often managed certificates are checked for
// renewal when Config.ACMERenewCheck is zero.
const DefaultACMERenewCheck = 10 * time.Minute

// ACMEStorageDir is the default storage of the ACME source inside a data
// directory.
func ACMEStorageDir(dataDir string) string { return filepath.Join(dataDir, "acme") }

// acmeSource obtains and renews certificates with certmagic. Its storage
// (a directory, or the Dialtone store: StoreStorage) holds the ACME
// account, the certificates and their keys, the locks that let one node of
// a cluster obtain a certificate while the others wait for it, and the
// challenge tokens, so that any node sharing it can answer the CA's
// validation request.
type acmeSource struct {
	domains []string
	cache   *certmagic.Cache
	magic   *certmagic.Config
	issuer  *certmagic.ACMEIssuer
	cfg     Config
}

func newACME(cfg Config) (*acmeSource, error) {
	dir := cfg.ACMEDirectory
	if dir == "" {
		dir = DefaultACMEDirectory
	}
	if u, err := url.Parse(dir); err != nil || u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("--acme-directory %q: want an https:// URL of an ACME directory", dir)
	}
	var storage certmagic.Storage
	switch {
	case cfg.ACMEStorage != "":
		storage = &certmagic.FileStorage{Path: cfg.ACMEStorage}
	case cfg.ACMEStore != nil:
		storage = NewStoreStorage(cfg.ACMEStore, cfg.Logger.With("component", "acme"))
	default:
		storage = &certmagic.FileStorage{Path: ACMEStorageDir(cfg.DataDir)}
	}
	check := cfg.ACMERenewCheck
	if check <= 0 {
		check = DefaultACMERenewCheck
	}
	zl := zap.New(newSlogCore(cfg.Logger.With("component", "acme").Handler()))
	a := &acmeSource{cfg: cfg}
	for _, d := range cfg.ACMEDomains {
		a.domains = append(a.domains, d)
	}
	a.cache = certmagic.NewCache(certmagic.CacheOptions{
		GetConfigForCert:   func(certmagic.Certificate) (*certmagic.Config, error) { return a.magic, nil },
		RenewCheckInterval: check,
		Logger:             zl,
	})
	a.magic = certmagic.New(a.cache, certmagic.Config{
		Storage: storage,
		Logger:  zl,
	})
	a.issuer = certmagic.NewACMEIssuer(a.magic, certmagic.ACMEIssuer{
		CA:     dir,
		TestCA: dir, // never a CA the operator did not name
		Email:  cfg.ACMEEmail,
		Agreed: true,
		// No plain listener: no HTTP-01.
		DisableHTTPChallenge: cfg.HTTPAddr == "",
		Logger:               zl,
	})
	a.magic.Issuers = []certmagic.Issuer{a.issuer}
	return a, nil
}

// start points the challenge solvers at the bound listeners and begins
// obtaining (in the background) and renewing the certificates. certmagic
// finds the port in use and relies on the listener to answer: TLS-ALPN-01
// through GetCertificate, HTTP-01 through httpHandler.
func (a *acmeSource) start(ctx context.Context, httpsAddr, httpAddr string) error {
	host, port, err := splitPort(httpsAddr)
	if err != nil {
		return fmt.Errorf("acme: HTTPS listener %q: %w", httpsAddr, err)
	}
	a.issuer.ListenHost, a.issuer.AltTLSALPNPort = host, port
	if httpAddr != "" {
		if _, hp, err := splitPort(httpAddr); err == nil {
			a.issuer.AltHTTPPort = hp
		}
	}
	if err := a.magic.ManageAsync(ctx, a.domains); err != nil {
		return fmt.Errorf("acme: manage %v: %w", a.domains, err)
	}
	return nil
}

func splitPort(addr string) (string, int, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		return "", 0, err
	}
	return host, port, nil
}

func (a *acmeSource) stop() { a.cache.Stop() }

// GetCertificate is a tls.Config.GetCertificate.
func (a *acmeSource) GetCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	return a.magic.GetCertificate(hello)
}

func (a *acmeSource) httpHandler(h http.Handler) http.Handler {
	return a.issuer.HTTPChallengeHandler(h)
}
