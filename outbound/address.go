package outbound

import (
	"fmt"
	"net/netip"
)

// rangeRule is one special-purpose range and the rule it falls under.
type rangeRule struct {
	p      netip.Prefix
	rule   Rule
	detail string
}

func rr(prefix string, rule Rule, detail string) rangeRule {
	return rangeRule{netip.MustParsePrefix(prefix), rule, detail}
}

// The ranges nothing lifts. Cloud metadata services answer on these; a
// request that reaches one from inside a cloud reads the node's
// credentials.
var alwaysRanges = []rangeRule{
	// AWS, Google Cloud, Azure IMDS, Oracle Cloud, DigitalOcean, Hetzner,
	// OpenStack and most others.
	rr("169.254.169.254/32", RuleMetadata, "the cloud metadata service (AWS, Google Cloud, Azure, Oracle Cloud, OpenStack and others)"),
	// Alibaba Cloud ECS's metadata service: inside the shared address
	// space, so it needs its own always-refused entry.
	rr("100.100.100.200/32", RuleMetadata, "Alibaba Cloud's metadata service"),
	// Azure's WireServer: a public-looking address through which the
	// platform serves its agents (health, DNS, extension settings).
	rr("168.63.129.16/32", RuleMetadata, "Azure's platform address (WireServer)"),
	// AWS Nitro instances' metadata service over IPv6: inside the
	// unique-local range, so it needs its own entry too.
	rr("fd00:ec2::254/128", RuleMetadata, "AWS's metadata service over IPv6"),
	rr("169.254.0.0/16", RuleLinkLocal, "a link-local address (169.254.0.0/16, RFC 3927), where cloud platforms serve metadata, DNS and time"),
	rr("fe80::/10", RuleLinkLocal, "a link-local address (fe80::/10)"),
}

// The ranges Untrusted URLs may not reach unless the allow-list names
// them (IANA's IPv4 and IPv6 special-purpose address registries, less the
// few ranges there that are globally reachable).
var v4Ranges = []rangeRule{
	rr("0.0.0.0/8", RuleUnspecified, "an unspecified or \"this network\" address (0.0.0.0/8), which connects to this host"),
	rr("127.0.0.0/8", RuleLoopback, "a loopback address (127.0.0.0/8)"),
	rr("10.0.0.0/8", RulePrivate, "a private address (10.0.0.0/8, RFC 1918)"),
	rr("172.16.0.0/12", RulePrivate, "a private address (172.16.0.0/12, RFC 1918)"),
	rr("192.168.0.0/16", RulePrivate, "a private address (192.168.0.0/16, RFC 1918)"),
	rr("100.64.0.0/10", RuleShared, "a shared address (100.64.0.0/10, RFC 6598: carrier-grade NAT and cloud-internal networks)"),
	rr("192.0.0.0/24", RuleReserved, "an IETF protocol assignment (192.0.0.0/24, RFC 6890)"),
	rr("192.0.2.0/24", RuleReserved, "a documentation address (192.0.2.0/24, RFC 5737)"),
	rr("198.51.100.0/24", RuleReserved, "a documentation address (198.51.100.0/24, RFC 5737)"),
	rr("203.0.113.0/24", RuleReserved, "a documentation address (203.0.113.0/24, RFC 5737)"),
	rr("192.88.99.0/24", RuleReserved, "the former 6to4 relay anycast range (192.88.99.0/24, RFC 7526)"),
	rr("198.18.0.0/15", RuleReserved, "a benchmarking address (198.18.0.0/15, RFC 2544), often used inside data centres"),
	rr("224.0.0.0/4", RuleMulticast, "a multicast address (224.0.0.0/4)"),
	rr("255.255.255.255/32", RuleBroadcast, "the limited broadcast address"),
	rr("240.0.0.0/4", RuleReserved, "a reserved address (240.0.0.0/4)"),
}

var v6Ranges = []rangeRule{
	rr("::/128", RuleUnspecified, "the unspecified address (::), which connects to this host"),
	rr("::1/128", RuleLoopback, "the loopback address (::1)"),
	rr("fc00::/7", RuleUniqueLocal, "a unique local address (fc00::/7, RFC 4193)"),
	rr("ff00::/8", RuleMulticast, "a multicast address (ff00::/8)"),
	rr("2001:db8::/32", RuleReserved, "a documentation address (2001:db8::/32, RFC 3849)"),
	rr("3fff::/20", RuleReserved, "a documentation address (3fff::/20, RFC 9637)"),
	rr("2001::/23", RuleReserved, "an IETF protocol assignment (2001::/23: Teredo, benchmarking, ORCHID)"),
}

var (
	nat64   = netip.MustParsePrefix("64:ff9b::/96") // RFC 6052, well-known prefix
	sixTo4  = netip.MustParsePrefix("2002::/16")    // RFC 3056
	global6 = netip.MustParsePrefix("2000::/3")     // the global unicast space
)

// classify returns the rule an address falls under and what the address
// is, or "" for an address on the public internet. a is unmapped and has
// no zone. IPv6 forms that carry an IPv4 address (NAT64's 64:ff9b::/96,
// 6to4's 2002::/16) are judged by that IPv4 address.
func classify(a netip.Addr) (Rule, string) {
	if !a.IsValid() {
		return RuleReserved, "not an address"
	}
	for _, r := range alwaysRanges {
		if r.p.Contains(a) {
			return r.rule, r.detail
		}
	}
	if a.Is4() {
		for _, r := range v4Ranges {
			if r.p.Contains(a) {
				return r.rule, r.detail
			}
		}
		return "", ""
	}
	for _, r := range v6Ranges {
		if r.p.Contains(a) {
			return r.rule, r.detail
		}
	}
	b := a.As16()
	var embedded netip.Addr
	var via string
	switch {
	case nat64.Contains(a):
		embedded, via = netip.AddrFrom4([4]byte(b[12:16])), "NAT64 (64:ff9b::/96)"
	case sixTo4.Contains(a):
		embedded, via = netip.AddrFrom4([4]byte(b[2:6])), "6to4 (2002::/16)"
	}
	if embedded.IsValid() {
		if rule, detail := classify(embedded); rule != "" {
			return rule, fmt.Sprintf("%s inside a %s address: %s", embedded, via, detail)
		}
		return "", ""
	}
	if !global6.Contains(a) {
		return RuleReserved, "a reserved IPv6 address (outside 2000::/3, the global unicast space)"
	}
	return "", ""
}
