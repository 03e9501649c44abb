package outbound

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// Tests talk to loopback only. Every test client dials through
// loopbackOnly, which fails the test, without dialling, for any other
// address: the policy's refusals happen before it, so it never sees one.
func loopbackOnly(t *testing.T) func(ctx context.Context, nd *net.Dialer, network, address string) (net.Conn, error) {
	return func(ctx context.Context, nd *net.Dialer, network, address string) (net.Conn, error) {
		ap, err := netip.ParseAddrPort(address)
		if err != nil || !ap.Addr().Unmap().IsLoopback() {
			t.Errorf("asked to dial %s: tests dial loopback only", address)
			return nil, errors.New("test: not a loopback address")
		}
		return nd.DialContext(ctx, network, address)
	}
}

// newClient returns a client whose allow-list holds allow and whose
// resolver is r (nil: the system's, for literal addresses only).
func newClient(t *testing.T, cfg Config, allow ...string) *Client {
	t.Helper()
	if cfg.Policy == nil {
		cfg.Policy = mustPolicy(t, allow...)
	}
	cfg.dial = loopbackOnly(t)
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

// receiver is an httptest server on 127.0.0.1 counting its requests.
type receiver struct {
	*httptest.Server
	hits atomic.Int64
}

func newReceiver(t *testing.T, h http.HandlerFunc) *receiver {
	t.Helper()
	r := &receiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.hits.Add(1)
		h(w, req)
	}))
	t.Cleanup(r.Close)
	return r
}

func okHandler(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte(`{"code":0,"msg":"ok"}`))
}

// port is the receiver's port.
func (r *receiver) port() string {
	_, p, _ := net.SplitHostPort(r.Listener.Addr().String())
	return p
}

// testDNS is a tiny DNS server on 127.0.0.1 answering A and AAAA
// questions from a table a test may change between requests (a rebinding
// attacker's server).
type testDNS struct {
	mu      sync.Mutex
	records map[string][]netip.Addr // fully qualified, lower case
	addr    string
}

func newTestDNS(t *testing.T) *testDNS {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d := &testDNS{records: map[string][]netip.Addr{}, addr: pc.LocalAddr().String()}
	started := make(chan struct{})
	srv := &dns.Server{PacketConn: pc, Handler: d, NotifyStartedFunc: func() { close(started) }}
	go srv.ActivateAndServe()
	<-started
	t.Cleanup(func() { srv.Shutdown() })
	return d
}

// set makes name resolve to addrs (none: NXDOMAIN).
func (d *testDNS) set(name string, addrs ...string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var as []netip.Addr
	for _, a := range addrs {
		as = append(as, netip.MustParseAddr(a))
	}
	d.records[dns.Fqdn(strings.ToLower(name))] = as
}

func (d *testDNS) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
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
		hdr := dns.RR_Header{Name: q.Name, Class: dns.ClassINET, Ttl: 0}
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

// resolver is a net.Resolver asking only this server.
func (d *testDNS) resolver() *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var nd net.Dialer
		return nd.DialContext(ctx, "udp", d.addr)
	}}
}

// refusedRule is the rule of err's *RefusedError, "" when there is none.
func refusedRule(err error) Rule {
	var rerr *RefusedError
	if errors.As(err, &rerr) {
		return rerr.Rule
	}
	return ""
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}
