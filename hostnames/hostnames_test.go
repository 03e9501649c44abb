package hostnames

import (
	"net"
	"slices"
	"strings"
	"testing"
)

func TestMatch(t *testing.T) {
	s, err := New([]string{"voice.example.com", "*.edge.example.com", "192.0.2.10"}, []net.IP{net.ParseIP("198.51.100.1")})
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]bool{
		"dyvmsapi.aliyuncs.com":                                  true,
		"DYVMSAPI.aliyuncs.com.":                                 true,
		"dybaseapi.aliyuncs.com":                                 true,
		"dyvmsapi.cn-hangzhou.aliyuncs.com":                      true,
		"dybaseapi.ap-southeast-1.aliyuncs.com":                  true,
		"1943695596114318.mns.cn-hangzhou.aliyuncs.com":          true,
		"1943695596114318.mns.cn-hangzhou-internal.aliyuncs.com": true,
		"localhost":                          true,
		"voice.example.com":                  true,
		"a.edge.example.com":                 true,
		"192.0.2.10":                         true,
		"198.51.100.1":                       true,
		"127.0.0.1":                          true,
		"::1":                                true,
		"a.b.edge.example.com":               false,
		"edge.example.com":                   false,
		"x.voice.example.com":                false,
		"mns.cn-hangzhou.aliyuncs.com":       false,
		"a.b.mns.cn-hangzhou.aliyuncs.com":   false,
		"ecs.aliyuncs.com":                   false,
		"aliyuncs.com":                       false,
		"dyvmsapi.aliyuncs.com.evil.example": false,
		"dyvmsapi.mars-1.aliyuncs.com":       false,
		"192.0.2.11":                         false,
		"":                                   false,
	} {
		if got := s.Match(name); got != want {
			t.Errorf("Match(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestCheckName(t *testing.T) {
	for _, bad := range []string{"", "bad_name", "-a.example", "a..b", "*.com", "*", strings.Repeat("a", 64) + ".example"} {
		if _, _, err := CheckName(bad); err == nil {
			t.Errorf("CheckName(%q) accepted", bad)
		}
	}
	if n, wild, err := CheckName("*.Edge.Example.com."); err != nil || !wild || n != "edge.example.com" {
		t.Errorf("wildcard: %q %v %v", n, wild, err)
	}
	if _, err := New([]string{"not a name"}, nil); err == nil || !strings.Contains(err.Error(), "not a name") {
		t.Errorf("New with a bad name: %v", err)
	}
}

func TestConstraints(t *testing.T) {
	s, err := New([]string{"*.edge.example.com"}, []net.IP{net.ParseIP("198.51.100.1")})
	if err != nil {
		t.Fatal(err)
	}
	dns, ips := s.Constraints()
	for _, want := range []string{"localhost", "dyvmsapi.aliyuncs.com", "dybaseapi.aliyuncs.com", "dyvmsapi.cn-hangzhou.aliyuncs.com",
		"mns.cn-hangzhou.aliyuncs.com", "edge.example.com"} {
		if !slices.Contains(dns, want) {
			t.Errorf("constraints lack %s", want)
		}
	}
	for _, c := range dns {
		if c == "aliyuncs.com" || !strings.Contains(c, ".") && c != "localhost" {
			t.Errorf("constraint %q is too wide", c)
		}
	}
	var got []string
	for _, n := range ips {
		ones, bits := n.Mask.Size()
		if ones != bits {
			t.Errorf("IP constraint %v is a range, want one address", n)
		}
		got = append(got, n.IP.String())
	}
	slices.Sort(got)
	if !slices.Equal(got, []string{"127.0.0.1", "198.51.100.1", "::1"}) {
		t.Errorf("IP constraints %v", got)
	}
}

func TestHostsLines(t *testing.T) {
	lines, err := HostsLines(net.ParseIP("10.0.0.5"), []string{SampleMNSAccount}, []string{"voice.example.com", "*.x.example.com", "192.0.2.1"})
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Join(lines, "\n") + "\n"
	for _, want := range []string{"10.0.0.5\tdyvmsapi.aliyuncs.com\n", "10.0.0.5\t1943695596114318.mns.cn-hangzhou.aliyuncs.com\n", "10.0.0.5\tvoice.example.com\n"} {
		if !strings.Contains(text, want) {
			t.Errorf("lacks %q", want)
		}
	}
	if strings.Contains(text, "*") || strings.Contains(text, "192.0.2.1") {
		t.Errorf("wildcards and addresses have no hosts line:\n%s", text)
	}
	if _, err := HostsLines(net.ParseIP("10.0.0.5"), []string{"a.b"}, nil); err == nil {
		t.Error("an MNS account id with a dot accepted")
	}
}
