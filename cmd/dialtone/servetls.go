package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/dialtone-voice/dialtone/certs"
	"github.com/dialtone-voice/dialtone/server"
)

// tlsFlags are the HTTPS, certificate and DNS flags of `dialtone serve`.
type tlsFlags struct {
	https, cert, key, names                    *string
	acmeDomains, acmeEmail, acmeDir, acmeStore *string
	acmeRenew                                  *time.Duration
	dns, dnsAnswer, dnsForward                 *string
}

func addTLSFlags(fs *flag.FlagSet) *tlsFlags {
	return &tlsFlags{
		https:       fs.String("https", envOr("DIALTONE_HTTPS", ""), "HTTPS listen address, e.g. :443; serves everything the HTTP listener does (env DIALTONE_HTTPS)"),
		cert:        fs.String("tls-cert", envOr("DIALTONE_TLS_CERT", ""), "certificate chain PEM file for HTTPS, re-read when it changes (env DIALTONE_TLS_CERT)"),
		key:         fs.String("tls-key", envOr("DIALTONE_TLS_KEY", ""), "private key PEM file of --tls-cert (env DIALTONE_TLS_KEY)"),
		names:       fs.String("tls-names", envOr("DIALTONE_TLS_NAMES", ""), "extra names and IP addresses the local CA vouches for and DNS answers, comma-separated; *.domain for one label (env DIALTONE_TLS_NAMES)"),
		acmeDomains: fs.String("acme-domains", envOr("DIALTONE_ACME_DOMAINS", ""), "get certificates for these comma-separated names from an ACME CA (env DIALTONE_ACME_DOMAINS)"),
		acmeEmail:   fs.String("acme-email", envOr("DIALTONE_ACME_EMAIL", ""), "contact address of the ACME account (env DIALTONE_ACME_EMAIL)"),
		acmeDir:     fs.String("acme-directory", envOr("DIALTONE_ACME_DIRECTORY", ""), "ACME directory URL (env DIALTONE_ACME_DIRECTORY; default Let's Encrypt's "+certs.DefaultACMEDirectory+")"),
		acmeStore:   fs.String("acme-storage", envOr("DIALTONE_ACME_STORAGE", ""), "directory of ACME certificates, keys and account, overriding the default: the store itself on PostgreSQL (shared by the nodes of a cluster), DATA/acme on SQLite (env DIALTONE_ACME_STORAGE)"),
		acmeRenew:   fs.Duration("acme-renew-check", envDuration("DIALTONE_ACME_RENEW_CHECK", certs.DefaultACMERenewCheck), "how often ACME certificates are checked for renewal (env DIALTONE_ACME_RENEW_CHECK)"),
		dns:         fs.String("dns", envOr("DIALTONE_DNS", ""), "DNS listen address (udp and tcp), e.g. :53: Alibaba hostnames answered with this node, other names forwarded (env DIALTONE_DNS)"),
		dnsAnswer:   fs.String("dns-answer", envOr("DIALTONE_DNS_ANSWER", ""), "comma-separated IP addresses of the DNS answers (env DIALTONE_DNS_ANSWER; default the HTTPS listener's address)"),
		dnsForward:  fs.String("dns-forward", envOr("DIALTONE_DNS_FORWARD", ""), "comma-separated resolvers (IP or IP:port) for other names (env DIALTONE_DNS_FORWARD; default those of /etc/resolv.conf)"),
	}
}

// list splits a comma-separated flag value.
func list(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// config checks the flags and builds the node's TLS and DNS configuration.
func (f *tlsFlags) config() (certs.Config, server.DNSConfig, error) {
	var tc certs.Config
	var dc server.DNSConfig
	if *f.https != "" {
		if _, _, err := net.SplitHostPort(*f.https); err != nil {
			return tc, dc, fmt.Errorf("--https %q: want host:port such as :443 or 127.0.0.1:8443", *f.https)
		}
	} else if *f.cert != "" || *f.key != "" || *f.acmeDomains != "" {
		return tc, dc, errors.New("--tls-cert, --tls-key and --acme-domains need --https")
	}
	tc = certs.Config{
		CertFile: *f.cert, KeyFile: *f.key, Names: list(*f.names),
		ACMEDomains: list(*f.acmeDomains), ACMEEmail: *f.acmeEmail, ACMEDirectory: *f.acmeDir,
		ACMEStorage: *f.acmeStore, ACMERenewCheck: *f.acmeRenew,
	}
	if *f.acmeRenew <= 0 {
		return tc, dc, fmt.Errorf("--acme-renew-check %v: want a positive duration", *f.acmeRenew)
	}
	if *f.dns == "" {
		if *f.dnsAnswer != "" || *f.dnsForward != "" {
			return tc, dc, errors.New("--dns-answer and --dns-forward need --dns")
		}
		return tc, dc, nil
	}
	if _, _, err := net.SplitHostPort(*f.dns); err != nil {
		return tc, dc, fmt.Errorf("--dns %q: want host:port such as :53 or 127.0.0.1:53", *f.dns)
	}
	dc.Addr = *f.dns
	for _, a := range list(*f.dnsAnswer) {
		ip := net.ParseIP(a)
		if ip == nil || ip.IsUnspecified() {
			return tc, dc, fmt.Errorf("--dns-answer %q: want IP addresses such as 192.0.2.10", a)
		}
		dc.Answers = append(dc.Answers, ip)
	}
	if fw := list(*f.dnsForward); len(fw) > 0 {
		dc.Upstreams = fw
	}
	return tc, dc, nil
}
