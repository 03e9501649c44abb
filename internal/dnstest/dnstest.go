// Package dnstest is a tiny DNS server on 127.0.0.1 for tests: it answers
// A and AAAA questions from a table a test may change between requests
// (a rebinding attacker's server), and gives a resolver that asks only it.
package dnstest

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"
)

// Server answers from its table; a name not in it is NXDOMAIN.
type Server struct {
	mu      sync.Mutex
	records map[string][]netip.Addr // fully qualified, lower case
	addr    string
}

// New starts a server on a free loopback port; the test's Cleanup stops it.
func New(t testing.TB) *Server {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d := &Server{records: map[string][]netip.Addr{}, addr: pc.LocalAddr().String()}
	started := make(chan struct{})
	srv := &dns.Server{PacketConn: pc, Handler: d, NotifyStartedFunc: func() { close(started) }}
	go srv.ActivateAndServe()
	<-started
	t.Cleanup(func() { srv.Shutdown() })
	return d
}

// Set makes name resolve to addrs (none: NXDOMAIN).
func (d *Server) Set(name string, addrs ...string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var as []netip.Addr
	for _, a := range addrs {
		as = append(as, netip.MustParseAddr(a))
	}
	d.records[dns.Fqdn(strings.ToLower(name))] = as
}

// ServeDNS answers from the table.
func (d *Server) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(req)
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, q := range req.Question {
		addrs, ok := d.records[strings.ToLower(q.Name)]
		if !ok {
			m.Rcode = dns.RcodeNameError
			continue
		}
		hdr := dns.RR_Header{Name: q.Name, Class: dns.ClassINET}
		for _, a := range addrs {
			switch {
			case q.Qtype == dns.TypeA && a.Is4():
				hdr.Rrtype = dns.TypeA
				m.Answer = append(m.Answer, &dns.A{Hdr: hdr, A: a.AsSlice()})
			case q.Qtype == dns.TypeAAAA && a.Is6():
				hdr.Rrtype = dns.TypeAAAA
				m.Answer = append(m.Answer, &dns.AAAA{Hdr: hdr, AAAA: a.AsSlice()})
			}
		}
	}
	w.WriteMsg(m)
}

// Resolver is a net.Resolver asking only this server.
func (d *Server) Resolver() *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var nd net.Dialer
		return nd.DialContext(ctx, "udp", d.addr)
	}}
}
