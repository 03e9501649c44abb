package outbound

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Trust says who set a URL, which decides how far it may reach.
type Trust uint8

const (
	// Untrusted URLs were entered by an account user (the console's
	// account pages, anything an account's own credentials can change).
	// It is the zero value, so a request that says nothing is held to the
	// strict rules.
	Untrusted Trust = iota
	// Trusted URLs were set by the operator: the admin API, the
	// provisioning file, operator console users, the node configuration.
	// They may reach loopback and private networks; link-local and cloud
	// metadata addresses stay refused.
	Trusted
)

func (t Trust) String() string {
	if t == Trusted {
		return "trusted"
	}
	return "untrusted"
}

// Rule names the rule of the egress policy that refused a URL or an
// address. The values are short and stable: they label metrics and are
// stored with a failed delivery.
type Rule string

// The rules about a URL's form. They hold whoever set the URL.
const (
	RuleURL         Rule = "url"         // not a URL at all
	RuleScheme      Rule = "scheme"      // not http/https (ws/wss for streams)
	RuleHost        Rule = "host"        // no host, or one no dialler should guess at
	RuleCredentials Rule = "credentials" // user:password@ in the URL
	RulePort        Rule = "port"        // a port outside 1-65535
)

// The rules about the address connected to.
const (
	// RuleMetadata and RuleLinkLocal hold whoever set the URL: nothing
	// lifts them.
	RuleMetadata  Rule = "metadata"
	RuleLinkLocal Rule = "link-local"

	// The others hold for Untrusted URLs unless the operator's allow-list
	// names the address or the host.
	RuleLoopback    Rule = "loopback"
	RulePrivate     Rule = "private"
	RuleShared      Rule = "shared-address-space"
	RuleUniqueLocal Rule = "unique-local"
	RuleUnspecified Rule = "unspecified"
	RuleMulticast   Rule = "multicast"
	RuleBroadcast   Rule = "broadcast"
	RuleReserved    Rule = "reserved"
)

// Always reports whether nothing lifts the rule: neither a Trusted URL
// nor the allow-list. Only the address rules other than metadata and
// link-local can be lifted.
func (r Rule) Always() bool {
	switch r {
	case RuleLoopback, RulePrivate, RuleShared, RuleUniqueLocal, RuleUnspecified,
		RuleMulticast, RuleBroadcast, RuleReserved:
		return false
	}
	return true
}

// ErrRefused is matched (errors.Is) by every *RefusedError.
var ErrRefused = errors.New("outbound: refused by the egress policy")

// RefusedError is a URL or an address the egress policy refuses. Its
// message names the rule and says what would lift it, so a front door can
// show it as it is.
type RefusedError struct {
	// URL is the URL without its password, "" when only an address was
	// checked or the URL could not be parsed.
	URL string
	// Host is the URL's host as written ("0177.0.0.1", "evil.example").
	Host string
	// Addr is the address refused; the zero Addr for the URL rules.
	Addr  netip.Addr
	Rule  Rule
	Trust Trust
	// Detail says what the URL or the address is, for people.
	Detail string
}

func (e *RefusedError) Error() string {
	var b strings.Builder
	b.WriteString("outbound: ")
	switch {
	case e.Addr.IsValid() && e.Host != "" && e.Host != e.Addr.String():
		fmt.Fprintf(&b, "%s (%s)", e.Host, e.Addr)
	case e.Addr.IsValid():
		b.WriteString(e.Addr.String())
	case e.URL != "":
		b.WriteString(strconv.Quote(e.URL))
	case e.Host != "":
		b.WriteString(strconv.Quote(e.Host))
	default:
		b.WriteString("the URL")
	}
	fmt.Fprintf(&b, " refused by the egress policy (rule %s): %s", e.Rule, e.Detail)
	switch {
	case !e.Addr.IsValid():
	case e.Rule.Always():
		b.WriteString("; refused whoever set the URL")
	default:
		b.WriteString("; only URLs set by the operator, or addresses and hosts on the operator's egress allow-list (--egress-allow), may reach it")
	}
	return b.String()
}

// Is makes errors.Is(err, ErrRefused) true.
func (e *RefusedError) Is(target error) bool { return target == ErrRefused }

// Policy is the egress policy: the fixed rules and the operator's
// allow-list. The zero Policy, and a nil *Policy, allow nothing beyond the
// fixed rules. A Policy is immutable and safe for concurrent use.
type Policy struct {
	nets     []netip.Prefix
	hosts    []string // exact names: lower case, ASCII, no trailing dot
	suffixes []string // from "*.example.com": ".example.com"
	entries  []string // as given, normalised
}

// ParseAllowList splits the value of --egress-allow or
// DIALTONE_EGRESS_ALLOW (entries separated by commas or white space) into
// entries for NewPolicy.
func ParseAllowList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool {
		return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r'
	})
}

// NewPolicy returns a policy whose allow-list holds the entries: CIDR
// prefixes ("10.1.0.0/16", "fd12::/48"), addresses ("127.0.0.1", "::1")
// and host names ("receiver.internal", or "*.corp.example" for every name
// under corp.example). An allowed address or host may be reached by
// Untrusted URLs although it is loopback, private, shared, unique-local,
// unspecified, multicast, broadcast or reserved; link-local and cloud
// metadata addresses stay refused, and an entry that lies entirely inside
// them is an error.
func NewPolicy(allow ...string) (*Policy, error) {
	p := &Policy{}
	var errs []error
	for _, raw := range allow {
		e := strings.TrimSpace(raw)
		if e == "" {
			continue
		}
		if err := p.add(e); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *Policy) add(e string) error {
	var pfx netip.Prefix
	if strings.Contains(e, "/") {
		x, err := netip.ParsePrefix(e)
		if err != nil {
			return fmt.Errorf("outbound: egress allow entry %q is not a CIDR prefix: %w", e, err)
		}
		pfx = x
	} else if a, err := netip.ParseAddr(e); err == nil {
		if a.Zone() != "" {
			return fmt.Errorf("outbound: egress allow entry %q: an address with a zone cannot be allowed", e)
		}
		pfx = netip.PrefixFrom(a, a.BitLen())
	}
	if pfx.IsValid() {
		pfx = unmapPrefix(pfx).Masked()
		for _, r := range alwaysRanges {
			if r.p.Bits() <= pfx.Bits() && r.p.Contains(pfx.Addr()) {
				return fmt.Errorf("outbound: egress allow entry %q lies inside %s (%s), which is always refused", e, r.p, r.rule)
			}
		}
		p.nets = append(p.nets, pfx)
		p.entries = append(p.entries, pfx.String())
		return nil
	}
	name, wildcard := e, false
	if rest, ok := strings.CutPrefix(e, "*."); ok {
		name, wildcard = rest, true
	}
	t, herr := parseHost(name)
	switch {
	case herr != "":
		return fmt.Errorf("outbound: egress allow entry %q is neither a CIDR prefix, an address nor a host name: %s", e, herr)
	case t.isIP():
		return fmt.Errorf("outbound: egress allow entry %q is an address in an unusual spelling: write it as %s", e, t.addr)
	case metadataNames[t.name]:
		return fmt.Errorf("outbound: egress allow entry %q names a cloud metadata service, which is always refused", e)
	}
	if wildcard {
		p.suffixes = append(p.suffixes, "."+t.name)
		p.entries = append(p.entries, "*."+t.name)
	} else {
		p.hosts = append(p.hosts, t.name)
		p.entries = append(p.entries, t.name)
	}
	return nil
}

// unmapPrefix turns an IPv4-mapped IPv6 prefix (::ffff:10.0.0.0/104) into
// its IPv4 form, as addresses are unmapped before they are checked.
func unmapPrefix(p netip.Prefix) netip.Prefix {
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		return netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p
}

// Allowed returns the allow-list's entries in a normalised form, for logs
// and the operator's pages.
func (p *Policy) Allowed() []string {
	if p == nil {
		return nil
	}
	return slices.Clone(p.entries)
}

func (p *Policy) allowsAddr(a netip.Addr) bool {
	if p == nil {
		return false
	}
	for _, n := range p.nets {
		if n.Contains(a) {
			return true
		}
	}
	return false
}

// allowsHost matches a normalised host name (see parseHost).
func (p *Policy) allowsHost(name string) bool {
	if p == nil || name == "" {
		return false
	}
	if slices.Contains(p.hosts, name) {
		return true
	}
	for _, s := range p.suffixes {
		if strings.HasSuffix(name, s) {
			return true
		}
	}
	return false
}

var (
	httpSchemes   = []string{"http", "https"}
	streamSchemes = []string{"ws", "wss"}
)

// maxURL bounds the URLs the policy reads (the domain's own limit is
// lower; this only keeps the parser's work bounded).
const maxURL = 8 << 10

// CheckURL checks an http or https URL when it is entered, without any
// network access: its form (a host, no credentials, a valid port) and, when
// its host is an address in any spelling a dialler might accept
// ("2130706433", "0177.0.0.1", "127.1", "0x7f.1", "[::ffff:127.0.0.1]",
// "127.0.0.1."), that address. A host name is checked again, with the
// addresses it resolves to, when a request connects (and by
// Client.Check). The error is a *RefusedError naming the rule.
func (p *Policy) CheckURL(raw string, t Trust) (*url.URL, error) {
	return p.checkRaw(raw, t, httpSchemes)
}

// CheckStreamURL is CheckURL for the ws and wss URLs of media streams.
func (p *Policy) CheckStreamURL(raw string, t Trust) (*url.URL, error) {
	return p.checkRaw(raw, t, streamSchemes)
}

func (p *Policy) checkRaw(raw string, t Trust, schemes []string) (*url.URL, error) {
	if len(raw) > maxURL {
		return nil, &RefusedError{Rule: RuleURL, Trust: t, Detail: fmt.Sprintf("longer than %d bytes", maxURL)}
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url.Error repeats the raw URL, password included: keep only
		// the reason.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, &RefusedError{Rule: RuleURL, Trust: t, Detail: "not a URL: " + err.Error()}
	}
	if err := p.checkParsed(u, t, schemes); err != nil {
		return nil, err
	}
	// The URL as it is kept and sent again (bytes net/url escapes take
	// three each) within the bound too, so that what was accepted once is
	// accepted when checked again.
	if len(u.String()) > maxURL {
		return nil, &RefusedError{URL: u.Redacted(), Host: u.Hostname(), Rule: RuleURL, Trust: t, Detail: fmt.Sprintf("longer than %d bytes once escaped", maxURL)}
	}
	return u, nil
}

// checkParsed is CheckURL on a parsed URL (a request's, a redirect's).
func (p *Policy) checkParsed(u *url.URL, t Trust, schemes []string) *RefusedError {
	refuse := func(r Rule, detail string) *RefusedError {
		return &RefusedError{URL: u.Redacted(), Host: u.Hostname(), Rule: r, Trust: t, Detail: detail}
	}
	if !slices.Contains(schemes, u.Scheme) {
		return refuse(RuleScheme, "the scheme must be "+strings.Join(schemes, " or "))
	}
	if u.Opaque != "" {
		return refuse(RuleHost, "no host: write "+u.Scheme+"://host/…")
	}
	if u.User != nil {
		return refuse(RuleCredentials, "credentials in the URL are not allowed (use a signature secret)")
	}
	host := u.Hostname()
	if host == "" {
		return refuse(RuleHost, "the URL has no host")
	}
	if port := u.Port(); port != "" {
		if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
			return refuse(RulePort, "the port must be a number from 1 to 65535")
		}
	}
	h, herr := parseHost(host)
	if herr != "" {
		return refuse(RuleHost, herr)
	}
	var rerr *RefusedError
	switch {
	case h.isIP():
		rerr = p.checkAddr(h.addr, "", t)
	case metadataNames[h.name]:
		rerr = &RefusedError{Rule: RuleMetadata, Trust: t, Detail: "the name of a cloud metadata service"}
	case h.name == "localhost" || strings.HasSuffix(h.name, ".localhost"):
		// RFC 6761: localhost names are loopback whatever DNS says.
		rerr = p.checkAddr(netip.IPv6Loopback(), h.name, t)
		if rerr != nil {
			rerr = p.checkAddr(netip.AddrFrom4([4]byte{127, 0, 0, 1}), h.name, t)
		}
		if rerr != nil {
			rerr.Detail = "a localhost name, which is loopback (RFC 6761)"
		}
	}
	if rerr != nil {
		rerr.URL, rerr.Host = u.Redacted(), host
	}
	return rerr
}

// CheckAddr checks an address that a request would connect to. host is
// the name that resolved to it ("" for an address written in the URL);
// an allow-list entry for that name lets it reach a non-public address.
func (p *Policy) CheckAddr(a netip.Addr, host string, t Trust) error {
	name := ""
	if host != "" {
		h, herr := parseHost(host)
		if herr == "" && !h.isIP() {
			name = h.name
		}
	}
	if err := p.checkAddr(a, name, t); err != nil {
		err.Host = host
		return err
	}
	return nil
}

// checkAddr is CheckAddr with name already normalised.
func (p *Policy) checkAddr(a netip.Addr, name string, t Trust) *RefusedError {
	a = a.WithZone("").Unmap()
	rule, detail := classify(a)
	if rule == "" {
		return nil
	}
	if !rule.Always() && (t == Trusted || p.allowsAddr(a) || p.allowsHost(name)) {
		return nil
	}
	if !a.IsValid() {
		detail = "not an address"
	}
	return &RefusedError{Addr: a, Rule: rule, Trust: t, Detail: detail}
}

// metadataNames are names of cloud metadata services (each resolves to a
// metadata address, refused at connection time anyway): refusing them by
// name gives the clear message when the URL is entered.
var metadataNames = map[string]bool{
	"metadata.google.internal": true,
	"metadata.goog":            true,
}
