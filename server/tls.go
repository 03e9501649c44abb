package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/dialtone-voice/dialtone/certs"
	"github.com/dialtone-voice/dialtone/dnsserver"
	"github.com/dialtone-voice/dialtone/hostnames"
)

// The listeners of a node: the plain HTTP one (as before), the HTTPS one
// and the DNS server, each optional. Kept apart from server.go, which only
// calls the functions below. TLS, certificates and names live in the
// packages certs, tlsca, hostnames and dnsserver.

// DNSConfig configures the node's DNS server (--dns).
type DNSConfig struct {
	// Addr is the UDP and TCP listen address; "" for no DNS server.
	Addr string
	// Answers are the addresses given for Dialtone's names; default the
	// HTTPS listener's address (else the plain one's), or 127.0.0.1 when
	// that listens on every address.
	Answers []net.IP
	// Upstreams receive every other question; nil for /etc/resolv.conf's.
	Upstreams []string
}

// listener is one HTTP listener with its server.
type listener struct {
	ln     net.Listener
	srv    *http.Server
	tls    bool
	scheme string
}

// frontDoors are what openListeners opened.
type frontDoors struct {
	plain, secure *listener
	certs         *certs.Manager
	dns           *dnsserver.Server
}

// all returns the HTTP listeners opened.
func (f *frontDoors) all() []*listener {
	var out []*listener
	for _, l := range []*listener{f.plain, f.secure} {
		if l != nil {
			out = append(out, l)
		}
	}
	return out
}

// primary is the address the node is reached at first: the plain
// listener's, else the HTTPS one's.
func (f *frontDoors) primary() *listener {
	if f.plain != nil {
		return f.plain
	}
	return f.secure
}

// baseURL is the primary listener's URL.
func (f *frontDoors) baseURL() string {
	p := f.primary()
	return p.scheme + "://" + p.ln.Addr().String()
}

func (n *Node) newHTTPServer(h http.Handler, errorLog *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		// Long polls of the receipt queues last up to 30 s.
		WriteTimeout: 60 * time.Second,
		IdleTimeout:  120 * time.Second,
		ErrorLog:     slog.NewLogLogger(errorLog.Handler(), slog.LevelWarn),
	}
}

// openListeners prepares the certificates and binds every configured
// listener; on error nothing stays open.
func (n *Node) openListeners() (_ *frontDoors, err error) {
	cfg := n.cfg
	if cfg.HTTPAddr == "" && cfg.HTTPSAddr == "" {
		return nil, errors.New("--http and --https are both empty: nothing to listen on")
	}
	f := &frontDoors{}
	defer func() {
		if err != nil {
			f.close()
		}
	}()
	names := func() (*hostnames.Set, error) { return hostnames.New(cfg.TLS.Names, nil) }
	if cfg.HTTPSAddr != "" {
		tc := cfg.TLS
		tc.DataDir, tc.HTTPSAddr, tc.HTTPAddr, tc.Logger = cfg.DataDir, cfg.HTTPSAddr, cfg.HTTPAddr, n.log
		// On PostgreSQL the nodes share ACME state through the store;
		// --acme-storage DIR overrides it, and SQLite keeps DATA/acme.
		if IsPostgresURL(cfg.StoreURL) && tc.ACMEStorage == "" {
			tc.ACMEStore = n.store
		}
		if f.certs, err = certs.New(tc); err != nil {
			return nil, err
		}
		names = func() (*hostnames.Set, error) { return f.certs.Names(), nil }
		ln, err := net.Listen("tcp", cfg.HTTPSAddr)
		if err != nil {
			return nil, fmt.Errorf("--https %s: %w", cfg.HTTPSAddr, err)
		}
		srv := n.newHTTPServer(n.handler, n.log)
		srv.TLSConfig = f.certs.TLSConfig()
		srv.ErrorLog = certs.NewHandshakeLog(n.log.With("listener", "https")).Logger()
		f.secure = &listener{ln: ln, srv: srv, tls: true, scheme: "https"}
	}
	if cfg.HTTPAddr != "" {
		ln, err := net.Listen("tcp", cfg.HTTPAddr)
		if err != nil {
			return nil, fmt.Errorf("listen %s: %w", cfg.HTTPAddr, err)
		}
		h := n.handler
		if f.certs != nil {
			h = f.certs.WrapHTTP(h)
		}
		f.plain = &listener{ln: ln, srv: n.newHTTPServer(h, n.log), scheme: "http"}
	}
	if cfg.DNS.Addr != "" {
		set, err := names()
		if err != nil {
			return nil, fmt.Errorf("--tls-names: %w", err)
		}
		answers := cfg.DNS.Answers
		if len(answers) == 0 {
			answers = []net.IP{defaultAnswer(f.primaryTLSFirst().ln.Addr(), cfg.DNS.Addr)}
		}
		f.dns, err = dnsserver.Start(dnsserver.Config{Addr: cfg.DNS.Addr, Names: set, Answers: answers,
			Upstreams: cfg.DNS.Upstreams, Logger: n.log.With("component", "dns")})
		if err != nil {
			return nil, err
		}
		n.log.Info("answering DNS", "addr", f.dns.Addr(), "answer", fmt.Sprint(answers), "upstreams", strings.Join(f.dns.Upstreams(), ","))
	}
	return f, nil
}

// primaryTLSFirst is the HTTPS listener if any, else the plain one.
func (f *frontDoors) primaryTLSFirst() *listener {
	if f.secure != nil {
		return f.secure
	}
	return f.plain
}

// defaultAnswer is the listener's IP address, or the DNS server's own
// when the listener takes every address, or 127.0.0.1.
func defaultAnswer(ln net.Addr, dnsAddr string) net.IP {
	if a, ok := ln.(*net.TCPAddr); ok && !a.IP.IsUnspecified() {
		return a.IP
	}
	if host, _, err := net.SplitHostPort(dnsAddr); err == nil {
		if ip := net.ParseIP(host); ip != nil && !ip.IsUnspecified() {
			return ip
		}
	}
	return net.IPv4(127, 0, 0, 1)
}

// close releases whatever was opened.
func (f *frontDoors) close() {
	for _, l := range f.all() {
		l.ln.Close()
	}
	if f.dns != nil {
		f.dns.Close()
	}
	if f.certs != nil {
		f.certs.Stop()
	}
}

// serve runs every HTTP listener until ctx ends or one fails, then shuts
// them all down (in-flight requests get timeout) and stops DNS and ACME.
func (n *Node) serve(ctx context.Context, f *frontDoors, timeout time.Duration) error {
	if f.certs != nil {
		plainAddr := ""
		if f.plain != nil {
			plainAddr = f.plain.ln.Addr().String()
		}
		if err := f.certs.Start(ctx, f.secure.ln.Addr().String(), plainAddr); err != nil {
			n.log.Error("certificates", "err", err)
		}
	}
	ls := f.all()
	errc := make(chan error, len(ls))
	for _, l := range ls {
		go func() {
			if l.tls {
				errc <- l.srv.ServeTLS(l.ln, "", "")
			} else {
				errc <- l.srv.Serve(l.ln)
			}
		}()
	}
	var err error
	pending := len(ls)
	select {
	case err = <-errc:
		pending--
	case <-ctx.Done():
		n.log.Info("shutting down", "reason", context.Cause(ctx))
	}
	n.ready.Store(false)
	sctx, cancel := context.WithTimeout(context.Background(), timeout)
	for _, l := range ls {
		if serr := l.srv.Shutdown(sctx); serr != nil && err == nil {
			err = serr
		}
	}
	cancel()
	for ; pending > 0; pending-- {
		<-errc
	}
	if f.dns != nil {
		f.dns.Close()
	}
	if f.certs != nil {
		f.certs.Stop()
	}
	return err
}

// printTLSBanner tells where HTTPS and DNS answer and how to trust the
// local CA.
func (n *Node) printTLSBanner(f *frontDoors) {
	w := n.cfg.Stdout
	if f.secure != nil {
		addr := f.secure.ln.Addr().String()
		fmt.Fprintf(w, "HTTPS on https://%s (certificates: %s)\n", addr, f.certs.Source())
		if p := f.certs.CACertPath(); p != "" {
			fmt.Fprintf(w, "  Local CA: %s (print it with: dialtone ca --data %s); trust it, e.g. SSL_CERT_FILE, NODE_EXTRA_CA_CERTS\n", p, n.cfg.DataDir)
		}
		fmt.Fprintf(w, "  Alibaba hostnames served: %s, %s, <id>.mns.<region>.aliyuncs.com (hosts lines: dialtone hosts)\n", hostnames.Dyvmsapi, hostnames.Dybaseapi)
	}
	if f.dns != nil {
		fmt.Fprintf(w, "DNS on %s (udp and tcp): Alibaba hostnames answered with this node, other names forwarded to %s\n",
			f.dns.Addr(), strings.Join(f.dns.Upstreams(), ", "))
	}
}
