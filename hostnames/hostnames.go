// Package hostnames knows the names under which Dialtone is reached: the
// Alibaba Cloud hostnames of the products it serves (Dyvmsapi, Dybaseapi
// and the MNS receipt queues, central and per region), localhost, the
// listener's IP addresses and the operator's own names. One Set answers the
// three questions asked of those names: may the local CA vouch for this
// name (its X.509 name constraints), may a leaf certificate be issued for
// this SNI name, and does the DNS server answer for this name.
package hostnames

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
)

// Central names of the two POP products.
const (
	Dyvmsapi  = "dyvmsapi.aliyuncs.com"
	Dybaseapi = "dybaseapi.aliyuncs.com"
)

// SampleMNSAccount is the account id in the MNS hostname of Alibaba's Go
// receipt sample (1943695596114318.mns.cn-hangzhou.aliyuncs.com).
const SampleMNSAccount = "1943695596114318"

// Regions are the Alibaba Cloud region ids whose regional hostnames Dialtone
// answers for: dyvmsapi.<region>.aliyuncs.com, dybaseapi.<region>.aliyuncs.com
// and <account>.mns.<region>.aliyuncs.com (also the -internal form of MNS).
var Regions = []string{
	"cn-hangzhou", "cn-shanghai", "cn-qingdao", "cn-beijing", "cn-zhangjiakou",
	"cn-huhehaote", "cn-wulanchabu", "cn-shenzhen", "cn-heyuan", "cn-guangzhou",
	"cn-chengdu", "cn-nanjing", "cn-fuzhou", "cn-wuhan-lr", "cn-hongkong",
	"ap-northeast-1", "ap-northeast-2", "ap-southeast-1", "ap-southeast-2",
	"ap-southeast-3", "ap-southeast-5", "ap-southeast-6", "ap-southeast-7",
	"ap-south-1", "us-east-1", "us-west-1", "eu-west-1", "eu-central-1",
	"me-east-1", "me-central-1",
}

// Set is the names one node serves. The zero value serves nothing; build
// one with New.
type Set struct {
	exact    map[string]bool
	wildcard []string // suffixes ".x.y" after exactly one label
	ips      []net.IP
}

// New returns the set of Alibaba names, localhost (and the loopback
// addresses), the given IP addresses and extra names: exact names,
// "*.example.com" for one label under example.com, or IP addresses. Names
// are checked and lower-cased; a bad one is an error naming it.
func New(extra []string, ips []net.IP) (*Set, error) {
	s := &Set{exact: map[string]bool{"localhost": true}}
	for _, n := range AlibabaExact() {
		s.exact[n] = true
	}
	s.wildcard = append(s.wildcard, AlibabaWildcardSuffixes()...)
	for _, raw := range extra {
		if ip := net.ParseIP(strings.TrimSpace(raw)); ip != nil {
			s.addIP(ip)
			continue
		}
		n, wild, err := CheckName(raw)
		if err != nil {
			return nil, err
		}
		if wild {
			s.wildcard = append(s.wildcard, "."+n)
		} else {
			s.exact[n] = true
		}
	}
	for _, ip := range ips {
		s.addIP(ip)
	}
	// Loopback is always localhost's.
	s.addIP(net.IPv4(127, 0, 0, 1))
	s.addIP(net.IPv6loopback)
	return s, nil
}

func (s *Set) addIP(ip net.IP) {
	if ip == nil || ip.IsUnspecified() {
		return
	}
	if v4 := ip.To4(); v4 != nil {
		ip = v4
	}
	for _, have := range s.ips {
		if have.Equal(ip) {
			return
		}
	}
	s.ips = append(s.ips, ip)
}

// CheckName validates an operator-given host name: letters, digits,
// hyphens and dots, labels of 1–63 characters, optionally starting with
// "*." for one label of wildcard. It returns the name lower-cased without
// the "*." and whether it was a wildcard.
func CheckName(raw string) (name string, wildcard bool, err error) {
	n := strings.ToLower(strings.TrimSuffix(strings.TrimSpace(raw), "."))
	if rest, ok := strings.CutPrefix(n, "*."); ok {
		n, wildcard = rest, true
	}
	if n == "" || len(n) > 253 {
		return "", false, fmt.Errorf("host name %q: want a DNS name such as voice.example.com", raw)
	}
	if net.ParseIP(n) != nil {
		return "", false, fmt.Errorf("host name %q is an IP address: give IP addresses as listener addresses or --dns-answer", raw)
	}
	for _, label := range strings.Split(n, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return "", false, fmt.Errorf("host name %q: bad label %q", raw, label)
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return "", false, fmt.Errorf("host name %q: character %q is not allowed", raw, c)
			}
		}
	}
	if wildcard && !strings.Contains(n, ".") {
		return "", false, fmt.Errorf("host name %q: a wildcard needs a domain of two labels or more", raw)
	}
	return n, wildcard, nil
}

// AlibabaExact are the Alibaba hostnames served as such: the central and
// regional names of Dyvmsapi and Dybaseapi.
func AlibabaExact() []string {
	out := []string{Dyvmsapi, Dybaseapi}
	for _, r := range Regions {
		out = append(out, "dyvmsapi."+r+".aliyuncs.com", "dybaseapi."+r+".aliyuncs.com")
	}
	return out
}

// AlibabaWildcardSuffixes are the suffixes under which any one label is
// served: ".mns.<region>.aliyuncs.com" and ".mns.<region>-internal.aliyuncs.com"
// (the label is the account id of the MNS endpoint).
func AlibabaWildcardSuffixes() []string {
	var out []string
	for _, r := range Regions {
		out = append(out, ".mns."+r+".aliyuncs.com", ".mns."+r+"-internal.aliyuncs.com")
	}
	return out
}

// Match reports whether name (a DNS name, any case, with or without the
// final dot) is served. IP addresses in text match the set's addresses.
func (s *Set) Match(name string) bool {
	if s == nil {
		return false
	}
	n := strings.ToLower(strings.TrimSuffix(name, "."))
	if ip := net.ParseIP(n); ip != nil {
		return s.MatchIP(ip)
	}
	if s.exact[n] {
		return true
	}
	for _, suf := range s.wildcard {
		if label, ok := strings.CutSuffix(n, suf); ok && label != "" && !strings.Contains(label, ".") {
			return true
		}
	}
	return false
}

// MatchIP reports whether ip is one of the set's addresses.
func (s *Set) MatchIP(ip net.IP) bool {
	if s == nil {
		return false
	}
	for _, have := range s.ips {
		if have.Equal(ip) {
			return true
		}
	}
	return false
}

// IPs returns the set's addresses.
func (s *Set) IPs() []net.IP { return slices.Clone(s.ips) }

// Constraints returns the X.509 name constraints that cover the set and
// nothing wider than needed: every exact name, and for every wildcard the
// domain below it (a DNS constraint permits the name and its subdomains),
// each IP address as a single-address range.
func (s *Set) Constraints() (dns []string, ipNets []*net.IPNet) {
	seen := map[string]bool{}
	add := func(n string) {
		if !seen[n] {
			seen[n] = true
			dns = append(dns, n)
		}
	}
	for _, n := range sortedKeys(s.exact) {
		add(n)
	}
	for _, suf := range s.wildcard {
		add(strings.TrimPrefix(suf, "."))
	}
	for _, ip := range s.ips {
		bits := 8 * len(ip)
		ipNets = append(ipNets, &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)})
	}
	return dns, ipNets
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// HostsLines returns hosts-file lines that point every concrete name at
// addr: the central and regional product names and, for every MNS account
// id given, its MNS names in every region. Hosts files know no wildcards,
// hence the account ids.
func HostsLines(addr net.IP, mnsAccounts []string, extra []string) ([]string, error) {
	if addr == nil {
		return nil, errors.New("hosts: no address")
	}
	a := addr.String()
	var out []string
	for _, n := range AlibabaExact() {
		out = append(out, a+"\t"+n)
	}
	for _, id := range mnsAccounts {
		id = strings.TrimSpace(id)
		if id == "" {
			continue
		}
		if _, _, err := CheckName(id); err != nil || strings.Contains(id, ".") {
			return nil, fmt.Errorf("MNS account id %q: want one DNS label such as %s", id, SampleMNSAccount)
		}
		for _, suf := range AlibabaWildcardSuffixes() {
			out = append(out, a+"\t"+strings.ToLower(id)+suf)
		}
	}
	for _, raw := range extra {
		if net.ParseIP(strings.TrimSpace(raw)) != nil {
			continue // an address needs no hosts line
		}
		n, wild, err := CheckName(raw)
		if err != nil {
			return nil, err
		}
		if wild {
			continue // no wildcards in a hosts file
		}
		out = append(out, a+"\t"+n)
	}
	return out, nil
}
