package outbound

import (
	"net/netip"
	"strconv"
	"strings"

	"golang.org/x/net/idna"
)

// host is a URL's host as this package reads it, and dials it: an address
// or a normalised name, never both.
type host struct {
	addr netip.Addr // unmapped, no zone
	name string     // ASCII, lower case, without the trailing dot
}

func (h host) isIP() bool { return h.addr.IsValid() }

// parseHost reads a host (url.URL.Hostname, or the host of the address
// net/http asks the dialler for) and returns it, or why it is refused.
//
// An address is recognised in every spelling a dialler might accept, not
// only Go's: net/netip's forms (IPv4-mapped IPv6 addresses unmapped), and
// the legacy inet_aton forms that getaddrinfo and browsers take — decimal
// "2130706433", octal "0177.0.0.1", hexadecimal "0x7f.1", short "127.1",
// with or without a trailing dot — following the WHATWG URL standard: a
// host whose last label is a number is an IPv4 address or nothing (no
// top-level domain is numeric). The Client dials the address meant, never
// the spelling, so the policy and the connection agree.
//
// Non-ASCII names are mapped as net/http maps them before dialling (IDNA
// UTS #46, the lookup profile), so "１２７.０.０.１" is 127.0.0.1 here as it
// is there. An IPv6 zone ("fe80::1%eth0") is refused: a zone is only
// meaningful on link-local addresses, which are always refused.
func parseHost(s string) (host, string) {
	for range 2 { // the second pass reads an IDNA-mapped name
		if s == "" {
			return host{}, "the URL has no host"
		}
		if strings.Contains(s, "%") {
			if a, err := netip.ParseAddr(s); err == nil && a.Zone() != "" {
				return host{}, "an IPv6 zone (" + a.Zone() + ") is not allowed"
			}
			return host{}, "a host may not contain %"
		}
		if a, err := netip.ParseAddr(s); err == nil {
			return host{addr: a.Unmap()}, ""
		}
		if strings.Contains(s, ":") {
			return host{}, "not a valid IPv6 address"
		}
		if isASCII(s) {
			break
		}
		mapped, err := idna.Lookup.ToASCII(s)
		if err != nil || !isASCII(mapped) {
			return host{}, "not a valid internationalised host name"
		}
		s = mapped
	}
	if !isASCII(s) {
		return host{}, "not a valid internationalised host name"
	}
	name := strings.ToLower(s)
	name = strings.TrimSuffix(name, ".")
	if name == "" || strings.HasSuffix(name, ".") || strings.HasPrefix(name, ".") {
		return host{}, "a host name may not have empty labels"
	}
	if endsInNumber(name) {
		a, ok := parseIPv4Loose(name)
		if !ok {
			return host{}, "the host ends in a number but is not an IPv4 address"
		}
		return host{addr: a}, ""
	}
	if len(name) > 253 {
		return host{}, "a host name may have at most 253 characters"
	}
	for label := range strings.SplitSeq(name, ".") {
		if label == "" || len(label) > 63 {
			return host{}, "a host name's labels have 1 to 63 characters"
		}
		if label[0] == '-' || label[len(label)-1] == '-' {
			return host{}, "a host name's labels may not start or end with -"
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return host{}, "a host name has only letters, digits, - and _ between its dots"
			}
		}
	}
	return host{name: name}, ""
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// endsInNumber is the WHATWG URL standard's test: the last label is all
// digits, or a hexadecimal number "0x…". s is lower case without a
// trailing dot.
func endsInNumber(s string) bool {
	last := s[strings.LastIndexByte(s, '.')+1:]
	if last == "" {
		return false
	}
	if allDigits(last, 10) {
		return true
	}
	return strings.HasPrefix(last, "0x") && allDigits(last[2:], 16)
}

func allDigits(s string, base int) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
		case base == 16 && c >= 'a' && c <= 'f':
		default:
			return false
		}
	}
	return true
}

// parseIPv4Loose is the WHATWG IPv4 parser (which is inet_aton's grammar):
// one to four parts, each decimal, octal with a leading 0 or hexadecimal
// with 0x; the last part fills the remaining bytes. s is lower case
// without a trailing dot.
func parseIPv4Loose(s string) (netip.Addr, bool) {
	parts := strings.Split(s, ".")
	if len(parts) > 4 {
		return netip.Addr{}, false
	}
	nums := make([]uint64, len(parts))
	for i, p := range parts {
		n, ok := parseIPv4Number(p)
		if !ok {
			return netip.Addr{}, false
		}
		nums[i] = n
	}
	last := len(nums) - 1
	for _, n := range nums[:last] {
		if n > 255 {
			return netip.Addr{}, false
		}
	}
	if nums[last] >= 1<<(8*(4-last)) {
		return netip.Addr{}, false
	}
	v := nums[last]
	for i, n := range nums[:last] {
		v |= n << (8 * (3 - i))
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true
}

func parseIPv4Number(p string) (uint64, bool) {
	if p == "" {
		return 0, false
	}
	base := 10
	switch {
	case strings.HasPrefix(p, "0x"):
		p, base = p[2:], 16
		if p == "" {
			return 0, true // WHATWG: "0x" is 0
		}
	case len(p) > 1 && p[0] == '0':
		p, base = p[1:], 8
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		ok := c >= '0' && c <= '9' && (base != 8 || c <= '7') || base == 16 && c >= 'a' && c <= 'f'
		if !ok {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(p, base, 64)
	if err != nil {
		return 0, false // too large for any part
	}
	return n, true
}
