package dnsserver

import (
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/dialtone-voice/dialtone/hostnames"
)

func TestReadResolvConf(t *testing.T) {
	p := filepath.Join(t.TempDir(), "resolv.conf")
	os.WriteFile(p, []byte("# comment\nsearch example\nnameserver 192.0.2.53\nnameserver fe80::1%eth0\nnameserver bogus\noptions ndots:2\n"), 0o644)
	got, err := ReadResolvConf(p)
	if err != nil || !slices.Equal(got, []string{"192.0.2.53:53", "[fe80::1]:53"}) {
		t.Errorf("ReadResolvConf: %v %v", got, err)
	}
	os.WriteFile(p, []byte("search example\n"), 0o644)
	if _, err := ReadResolvConf(p); err == nil {
		t.Error("a file without nameserver accepted")
	}
}

// A resolver that names only this server forwards nowhere: its own names
// are answered, every other one is refused, and nothing loops.
func TestSelfUpstreamSkipped(t *testing.T) {
	set, _ := hostnames.New(nil, nil)
	// Bind first to learn a free port, then name it in resolv.conf.
	probe, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := probe.LocalAddr().String()
	probe.Close()
	p := filepath.Join(t.TempDir(), "resolv.conf")
	host, _, _ := net.SplitHostPort(addr)
	os.WriteFile(p, []byte("nameserver "+host+"\n"), 0o644)
	s, err := Start(Config{Addr: addr, Names: set, Answers: []net.IP{net.IPv4(127, 0, 0, 1)}, ResolvConf: p,
		Upstreams: []string{addr}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if len(s.Upstreams()) != 0 {
		t.Fatalf("upstreams %v: itself not skipped", s.Upstreams())
	}
	c := &dns.Client{Timeout: 2 * time.Second}
	m := new(dns.Msg)
	m.SetQuestion("example.org.", dns.TypeA)
	r, _, err := c.Exchange(m, s.Addr())
	if err != nil || r.Rcode != dns.RcodeRefused {
		t.Errorf("other name without upstream: %v %v", r, err)
	}
	m.SetQuestion("dyvmsapi.aliyuncs.com.", dns.TypeANY)
	r, _, err = c.Exchange(m, s.Addr())
	if err != nil || len(r.Answer) != 1 {
		t.Errorf("ANY for a served name: %v %v", r, err)
	}
}

func TestStartErrors(t *testing.T) {
	set, _ := hostnames.New(nil, nil)
	if _, err := Start(Config{Addr: "127.0.0.1:0", Names: set}); err == nil {
		t.Error("no answers accepted")
	}
	if _, err := Start(Config{Addr: "127.0.0.1:0", Names: set, Answers: []net.IP{net.IPv4(127, 0, 0, 1)}, Upstreams: []string{"not-an-ip:53"}}); err == nil {
		t.Error("a host name as upstream accepted")
	}
}
