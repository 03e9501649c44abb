// Package dnsserver answers DNS for the names Dialtone serves (package
// hostnames: the Alibaba product and MNS hostnames, wildcards included, and
// the operator's names) with Dialtone's own address, and forwards every
// other question to upstream resolvers, by default those of
// /etc/resolv.conf. An application container then needs only Dialtone as
// its DNS server (and the CA in its trust store) to reach Dialtone under
// Alibaba's names.
package dnsserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/dialtone-voice/dialtone/hostnames"
)

// DefaultResolvConf is where the upstream resolvers are read from.
const DefaultResolvConf = "/etc/resolv.conf"

// TTL of the answers for Dialtone's names, in seconds.
const TTL = 60

// forwardTimeout bounds one exchange with one upstream.
const forwardTimeout = 2 * time.Second

// Config configures a Server.
type Config struct {
	// Addr is the UDP and TCP listen address, e.g. 127.0.0.1:53.
	Addr string
	// Names are answered with Answers.
	Names *hostnames.Set
	// Answers are the addresses of A (IPv4) and AAAA (IPv6) answers.
	Answers []net.IP
	// Upstreams ("host:port" or "host") receive every other question. Nil
	// means the nameservers of ResolvConf.
	Upstreams []string
	// ResolvConf defaults to DefaultResolvConf.
	ResolvConf string
	Logger     *slog.Logger
}

// Server is a running DNS server.
type Server struct {
	cfg       Config
	log       *slog.Logger
	upstreams []string
	udp, tcp  *dns.Server
	addr      string
	wg        sync.WaitGroup
}

// Start binds cfg.Addr over UDP and TCP and serves until Close.
func Start(cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Names == nil {
		return nil, errors.New("dns: no names to answer for")
	}
	if len(cfg.Answers) == 0 {
		return nil, errors.New("--dns-answer: no address to answer with")
	}
	if cfg.ResolvConf == "" {
		cfg.ResolvConf = DefaultResolvConf
	}
	pc, err := net.ListenPacket("udp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("--dns %s: %w", cfg.Addr, err)
	}
	// TCP on the port UDP got (an address with port 0 gets one port for both).
	tcpAddr := pc.LocalAddr().String()
	ln, err := net.Listen("tcp", tcpAddr)
	if err != nil {
		pc.Close()
		return nil, fmt.Errorf("--dns %s (tcp): %w", cfg.Addr, err)
	}
	s := &Server{cfg: cfg, log: cfg.Logger, addr: pc.LocalAddr().String()}
	ups := cfg.Upstreams
	if ups == nil {
		if ups, err = ReadResolvConf(cfg.ResolvConf); err != nil {
			s.log.Warn("no upstream resolvers: only Dialtone's names are answered", "resolv_conf", cfg.ResolvConf, "err", err)
		}
	}
	for _, u := range ups {
		hp, err := normalize(u)
		if err != nil {
			pc.Close()
			ln.Close()
			return nil, fmt.Errorf("--dns-forward %q: %w", u, err)
		}
		if s.isSelf(hp) {
			s.log.Info("DNS upstream skipped: it is this server", "upstream", hp)
			continue
		}
		s.upstreams = append(s.upstreams, hp)
	}
	h := dns.HandlerFunc(s.serveDNS)
	s.udp = &dns.Server{PacketConn: pc, Handler: h}
	s.tcp = &dns.Server{Listener: ln, Handler: h, ReadTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second}
	for _, srv := range []*dns.Server{s.udp, s.tcp} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			if err := srv.ActivateAndServe(); err != nil {
				s.log.Error("dns server stopped", "err", err)
			}
		}()
		<-started
	}
	return s, nil
}

// Addr is the bound address (UDP and TCP).
func (s *Server) Addr() string { return s.addr }

// Upstreams are the resolvers other names are forwarded to.
func (s *Server) Upstreams() []string { return append([]string(nil), s.upstreams...) }

// Close stops both listeners and waits for them.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := errors.Join(s.udp.ShutdownContext(ctx), s.tcp.ShutdownContext(ctx))
	s.wg.Wait()
	return err
}

// ReadResolvConf returns the nameservers of a resolv.conf file as
// host:port.
func ReadResolvConf(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "nameserver" {
			ip := f[1]
			if i := strings.IndexByte(ip, '%'); i >= 0 {
				ip = ip[:i] // zone of a link-local address
			}
			if net.ParseIP(ip) != nil {
				out = append(out, net.JoinHostPort(ip, "53"))
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s names no nameserver", path)
	}
	return out, nil
}

func normalize(u string) (string, error) {
	u = strings.TrimSpace(u)
	if ip := net.ParseIP(strings.Trim(u, "[]")); ip != nil {
		return net.JoinHostPort(ip.String(), "53"), nil
	}
	host, port, err := net.SplitHostPort(u)
	if err != nil {
		return "", err
	}
	if net.ParseIP(host) == nil {
		return "", errors.New("want an IP address, optionally with :port")
	}
	if p, err := strconv.Atoi(port); err != nil || p <= 0 || p > 65535 {
		return "", errors.New("bad port")
	}
	return net.JoinHostPort(host, port), nil
}

// isSelf reports whether upstream is this server: same port and the same
// address, or a local address when this server listens on all of them.
// Forwarding to itself would loop.
func (s *Server) isSelf(upstream string) bool {
	uh, up, _ := net.SplitHostPort(upstream)
	sh, sp, _ := net.SplitHostPort(s.addr)
	if up != sp {
		return false
	}
	uip, sip := net.ParseIP(uh), net.ParseIP(sh)
	if uip == nil || sip == nil {
		return false
	}
	if uip.Equal(sip) {
		return true
	}
	if !sip.IsUnspecified() {
		return false
	}
	if uip.IsLoopback() {
		return true
	}
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.Equal(uip) {
			return true
		}
	}
	return false
}

func (s *Server) serveDNS(w dns.ResponseWriter, req *dns.Msg) {
	if len(req.Question) != 1 || req.Opcode != dns.OpcodeQuery {
		m := new(dns.Msg)
		m.SetRcode(req, dns.RcodeNotImplemented)
		w.WriteMsg(m)
		return
	}
	q := req.Question[0]
	if q.Qclass == dns.ClassINET && s.cfg.Names.Match(q.Name) {
		w.WriteMsg(s.answer(req, q))
		return
	}
	w.WriteMsg(s.forward(req, w.RemoteAddr().Network()))
}

// answer is the authoritative answer for one of Dialtone's names: its
// addresses of the asked family, or no data for other types.
func (s *Server) answer(req *dns.Msg, q dns.Question) *dns.Msg {
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	hdr := func(t uint16) dns.RR_Header {
		return dns.RR_Header{Name: q.Name, Rrtype: t, Class: dns.ClassINET, Ttl: TTL}
	}
	for _, ip := range s.cfg.Answers {
		v4 := ip.To4()
		switch {
		case v4 != nil && (q.Qtype == dns.TypeA || q.Qtype == dns.TypeANY):
			m.Answer = append(m.Answer, &dns.A{Hdr: hdr(dns.TypeA), A: v4})
		case v4 == nil && (q.Qtype == dns.TypeAAAA || q.Qtype == dns.TypeANY):
			m.Answer = append(m.Answer, &dns.AAAA{Hdr: hdr(dns.TypeAAAA), AAAA: ip})
		}
	}
	return m
}

// forward asks the upstreams in order, over the transport the question
// came on, and relays the first answer; SERVFAIL when none answers,
// REFUSED when there is no upstream.
func (s *Server) forward(req *dns.Msg, network string) *dns.Msg {
	if len(s.upstreams) == 0 {
		m := new(dns.Msg)
		m.SetRcode(req, dns.RcodeRefused)
		return m
	}
	proto := "udp"
	if strings.HasPrefix(network, "tcp") {
		proto = "tcp"
	}
	c := &dns.Client{Net: proto, Timeout: forwardTimeout}
	for _, up := range s.upstreams {
		resp, _, err := c.Exchange(req, up)
		if err != nil {
			s.log.Debug("dns forward failed", "upstream", up, "name", req.Question[0].Name, "err", err)
			continue
		}
		resp.Id = req.Id
		return resp
	}
	m := new(dns.Msg)
	m.SetRcode(req, dns.RcodeServerFailure)
	return m
}
