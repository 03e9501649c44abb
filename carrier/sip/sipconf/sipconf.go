// Package sipconf is the SIP carrier's configuration: where it listens,
// the trunks, the routes to them and speech recognition on SIP legs. It is
// the one declaration of these settings: the provisioning file (sections
// sip, trunks and routes) decodes into Config, and the carrier
// (carrier/sip) runs from it. It imports no SIP stack, so reading a
// provisioning file does not pull one in.
//
// Validate reports every problem at once, each a field error named by the
// field's key in a provisioning file: the listener's under sip
// (sip.listen, sip.asr.models[0].name), trunks[i] and routes[i] at the top
// level, and the settings a file cannot set by their Go-style key
// (default_trunk). A zero value means "not set" and takes the default that
// Defaults fills in.
package sipconf

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/internal/fielderr"
)

// Transports a trunk may use.
const (
	TransportUDP = "udp"
	TransportTCP = "tcp"
	TransportTLS = "tls"
)

// Codec names as SDP spells them.
const (
	CodecPCMU = "PCMU"
	CodecPCMA = "PCMA"
)

// Presentation says how the display number reaches the callee.
const (
	// PresentFrom puts the display number in the From user part.
	PresentFrom = "from"
	// PresentPAI keeps the trunk username in From (what many carriers
	// authenticate on) and asserts the display number in
	// P-Asserted-Identity.
	PresentPAI = "pai"
	// PresentBoth puts the display number in From and in
	// P-Asserted-Identity.
	PresentBoth = "both"
)

// Defaults of Config.
const (
	DefaultListen       = "0.0.0.0:5060"
	DefaultRTPTimeout   = 30 * time.Second
	DefaultUserAgent    = "Dialtone"
	DefaultMaxRecording = 2 * time.Hour
	// DefaultDownAfter consecutive INVITEs without any response mark a
	// trunk down: one lost INVITE is bad luck, three in a row is a trunk
	// that is not there.
	DefaultDownAfter = 3
	// DefaultCoolOff is how long a down trunk gets no calls before it is
	// tried again.
	DefaultCoolOff = 30 * time.Second
	// DefaultInviteTimeout is how long an INVITE may go without any
	// response (not even 100 Trying, which a live trunk sends within
	// milliseconds) before the trunk counts as not answering.
	DefaultInviteTimeout = 8 * time.Second
)

// RTPTimeoutDisabled, as Config.RTPTimeout, never ends a call for want of
// RTP (a provisioning file writes rtp_timeout: 0s). Any negative value
// does the same.
const RTPTimeoutDisabled time.Duration = -1

// Config configures the SIP carrier.
type Config struct {
	// Listen (sip.listen) is the local SIP address, host:port, for UDP and
	// (when a trunk needs it) TCP; port 0 picks a free one. Default
	// DefaultListen.
	Listen string
	// Advertise (sip.advertise) is the host (name or IP) written in Via,
	// Contact and SDP when Listen is a wildcard; default: the local IP the
	// first trunk is reached from.
	Advertise string
	// TLSListen (sip.tls_listen) is where the far ends of TLS trunks reach
	// us (the Contact of TLS calls): their BYE and INFO open a TLS
	// connection of their own to it, as RFC 3261 §18 has them do.
	// host:port; default the Listen host with the next port (5060 → 5061;
	// port 0: a free one). Used only when a trunk uses tls.
	TLSListen string
	// TLSCert and TLSKey (sip.tls_cert, sip.tls_key) are the PEM files of
	// the certificate presented on TLSListen; required when a trunk uses
	// tls.
	TLSCert string
	TLSKey  string
	// TLSCertificate, when set, is used instead of TLSCert and TLSKey (for
	// embedders and tests that hold the certificate in memory).
	TLSCertificate *tls.Certificate
	// RTPPortMin and RTPPortMax (sip.rtp_port_min, sip.rtp_port_max) bound
	// the local RTP ports, both from 1024 to 65535; both 0: any free port.
	RTPPortMin int
	RTPPortMax int
	// RTPTimeout (sip.rtp_timeout) ends an answered call when no RTP
	// arrives for this long; 0: DefaultRTPTimeout; negative
	// (RTPTimeoutDisabled): never.
	RTPTimeout time.Duration
	// ASR (sip.asr) is speech recognition on SmartCall legs; nil: the
	// defaults of ASR.
	ASR *ASR

	// Trunks (trunks) are the SIP peers calls can go to.
	Trunks []Trunk
	// Routes (routes) pick a trunk by account and callee prefix; the
	// longest matching prefix wins, and an account's own route beats a
	// route for every account with an equally long prefix. Several routes
	// with the same account and prefix are the failover order.
	Routes []Route
	// DefaultTrunk is used when no route matches ("": the call is not the
	// carrier's).
	DefaultTrunk string

	// UserAgent is the User-Agent header and SDP user name; default
	// DefaultUserAgent.
	UserAgent string
	// MaxRecording bounds a recording (default DefaultMaxRecording), so a
	// hostile RTP timestamp cannot make us allocate without end.
	MaxRecording time.Duration
	// DownAfter consecutive INVITEs on a trunk without any response (a
	// transport error or InviteTimeout) mark it down for CoolOff; calls
	// then go to the next trunk routed for the same account and prefix,
	// or fail as unreachable. Defaults DefaultDownAfter and DefaultCoolOff;
	// a negative DownAfter never marks a trunk down.
	DownAfter int
	CoolOff   time.Duration
	// InviteTimeout bounds the wait for the first response to an INVITE
	// (default DefaultInviteTimeout, capped by the call's ring timeout).
	InviteTimeout time.Duration
}

// Trunk is one SIP peer (a carrier, a PBX, an SBC). Password is never
// shown in errors or logs.
type Trunk struct {
	// Name identifies the trunk in routes and logs: 1 to 64 letters,
	// digits, '.', '_' or '-'.
	Name string
	// Address is host:port of the trunk.
	Address string
	// Transport is udp (default), tcp or tls.
	Transport string
	// Username and Password answer digest challenges (401/407).
	Username string
	Password string
	// FromDomain is the host of From, To and the Request-URI (default:
	// the host of Address).
	FromDomain string
	// Presentation is from (default), pai or both; see PresentFrom.
	Presentation string
	// Rewrite changes the callee number before dialling; the first rule
	// whose prefix matches is applied, the rest are skipped.
	Rewrite []RewriteRule
	// Codecs in order of preference; nil: PCMU, PCMA. An empty, non-nil
	// list is refused.
	Codecs []string
	// MaxCalls caps concurrent calls on the trunk (0: no cap). A call
	// over the cap waits for a free slot, bounded by its context.
	MaxCalls int
	// MaxCPS caps new calls per second, at least 1 (0: no cap); calls over
	// it wait.
	MaxCPS float64
	// TLSCA is a PEM file of the CA certificates that may sign the trunk's
	// certificate (transport tls); default: the system roots. The server
	// certificate is always verified.
	TLSCA string
	// TLSRoots, when set, is used instead of TLSCA (for embedders and
	// tests that hold the CA in memory).
	TLSRoots *x509.CertPool
	// TLSServerName is the name the trunk's certificate must carry;
	// default: the host of Address (an IP address is checked against the
	// certificate's IP addresses).
	TLSServerName string
}

// RewriteRule replaces a leading Prefix of the number with Replace:
// {Prefix: "0", Replace: "86"} strips a trunk prefix and adds a country
// code; {Prefix: "", Replace: "+"} prefixes every number.
type RewriteRule struct {
	Prefix  string
	Replace string
}

// Route sends calls of Account (empty: any account) whose callee starts
// with Prefix (empty: any callee) to Trunk.
type Route struct {
	Account string
	Prefix  string
	Trunk   string
}

// Defaults returns c with every unset field at its default. c is not
// changed (its trunks are copied).
func (c Config) Defaults() Config {
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.RTPTimeout == 0 {
		c.RTPTimeout = DefaultRTPTimeout
	}
	if c.UserAgent == "" {
		c.UserAgent = DefaultUserAgent
	}
	if c.MaxRecording <= 0 {
		c.MaxRecording = DefaultMaxRecording
	}
	if c.DownAfter == 0 {
		c.DownAfter = DefaultDownAfter
	}
	if c.CoolOff <= 0 {
		c.CoolOff = DefaultCoolOff
	}
	if c.InviteTimeout <= 0 {
		c.InviteTimeout = DefaultInviteTimeout
	}
	c.Trunks = append([]Trunk(nil), c.Trunks...)
	for i := range c.Trunks {
		t := &c.Trunks[i]
		if t.Transport == "" {
			t.Transport = TransportUDP
		}
		if t.Presentation == "" {
			t.Presentation = PresentFrom
		}
		if len(t.Codecs) == 0 {
			t.Codecs = []string{CodecPCMU, CodecPCMA}
		}
		if t.FromDomain == "" {
			if h, _, err := net.SplitHostPort(t.Address); err == nil {
				t.FromDomain = h
			}
		}
	}
	return c
}

var (
	// name is a trunk's or an ASR model's name.
	name        = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	digitPrefix = regexp.MustCompile(`^[0-9]{0,20}$`)
	// A rewrite may add a leading + (E.164) and digits.
	rewriteTo = regexp.MustCompile(`^\+?[0-9]{0,20}$`)
	// dnsName is a host name; IP literals are checked by net.ParseIP.
	dnsName = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$`)
	// sipUser is what may stand in the user part of a From URI unescaped.
	sipUser = regexp.MustCompile(`^[A-Za-z0-9+._*-]{1,64}$`)
)

// Validate reports every problem of the configuration at once, as field
// errors (package internal/fielderr). A configuration without trunks is
// valid: it runs no carrier.
func (c Config) Validate() error {
	var l fielderr.List
	c.validateListener(&l)
	l.Add("sip.asr", c.ASR.Validate())
	trunks := make(map[string]int, len(c.Trunks))
	for i := range c.Trunks {
		c.validateTrunk(&l, i, trunks)
	}
	routes := make(map[Route]int, len(c.Routes))
	for i, r := range c.Routes {
		path := fielderr.Index("routes", i)
		if r.Account != "" && !dialtone.ValidUID(r.Account) {
			l.Addf(path+".account", "%s is not an account uid (1 to 32 digits)", fielderr.Quote(r.Account))
		}
		if !digitPrefix.MatchString(r.Prefix) {
			l.Addf(path+".prefix", "%s must be up to 20 digits", fielderr.Quote(r.Prefix))
		}
		if _, ok := trunks[r.Trunk]; r.Trunk == "" {
			l.Addf(path+".trunk", "missing: a route names its trunk")
		} else if !ok {
			l.Reference(path+".trunk", path, "no trunk named %[1]s (unknown trunk %[1]s)", fielderr.Quote(r.Trunk))
		}
		// The same account and prefix may list several trunks (the
		// failover order); the same triple twice is a mistake.
		if first, dup := routes[r]; dup && r.Trunk != "" {
			l.Duplicate(path, fielderr.Index("routes", first), "duplicate route (account %s, prefix %s, trunk %s)",
				fielderr.Quote(r.Account), fielderr.Quote(r.Prefix), fielderr.Quote(r.Trunk))
		} else if !dup {
			routes[r] = i
		}
	}
	if _, ok := trunks[c.DefaultTrunk]; c.DefaultTrunk != "" && !ok {
		l.Addf("default_trunk", "default trunk %s is unknown", fielderr.Quote(c.DefaultTrunk))
	}
	return l.Err()
}

func (c Config) validateListener(l *fielderr.List) {
	if c.Listen != "" {
		checkHostPort(l, "sip.listen", c.Listen, true)
	}
	if c.Advertise != "" && !validHost(c.Advertise) {
		l.Addf("sip.advertise", "%s is not a host name or IP address (no port)", fielderr.Quote(c.Advertise))
	}
	if c.TLSListen != "" {
		checkHostPort(l, "sip.tls_listen", c.TLSListen, true)
	}
	for _, f := range []struct{ key, value string }{{"tls_cert", c.TLSCert}, {"tls_key", c.TLSKey}} {
		if f.value != "" && !filePath(f.value) {
			l.Addf("sip."+f.key, "%s is not a file path", fielderr.Quote(f.value))
		}
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		l.Addf("sip", "set both tls_cert and tls_key: a certificate and its key come both or neither")
	}
	for _, p := range []struct {
		key  string
		port int
	}{{"rtp_port_min", c.RTPPortMin}, {"rtp_port_max", c.RTPPortMax}} {
		if p.port != 0 && (p.port < 1024 || p.port > 65535) {
			l.Addf("sip."+p.key, "%d is not a port from 1024 to 65535", p.port)
		}
	}
	switch {
	case (c.RTPPortMin == 0) != (c.RTPPortMax == 0):
		l.Addf("sip", "set both rtp_port_min and rtp_port_max, or neither")
	case c.RTPPortMin != 0 && (c.RTPPortMin > c.RTPPortMax || (c.RTPPortMin == c.RTPPortMax && c.RTPPortMin%2 == 1)):
		// RTP takes even ports (RFC 3550 §11): the range needs one.
		l.Addf("sip", "rtp ports %d-%d hold no even port", c.RTPPortMin, c.RTPPortMax)
	}
}

func (c Config) validateTrunk(l *fielderr.List, i int, names map[string]int) {
	t := c.Trunks[i]
	path := fielderr.Index("trunks", i)
	switch first, dup := names[t.Name]; {
	case t.Name == "":
		l.Addf(path+".name", "missing: the trunk has no name")
	case !name.MatchString(t.Name):
		l.Addf(path+".name", "%s must be 1 to 64 letters, digits, '.', '_' or '-'", fielderr.Quote(t.Name))
	case dup:
		l.Duplicate(path+".name", fielderr.Index("trunks", first)+".name", "duplicate trunk %s", fielderr.Quote(t.Name))
	default:
		names[t.Name] = i
	}
	if t.Address == "" {
		l.Addf(path+".address", "missing: the trunk has no address (host:port)")
	} else {
		checkHostPort(l, path+".address", t.Address, false)
	}
	switch t.Transport {
	case "", TransportUDP, TransportTCP, TransportTLS:
	default:
		l.Addf(path+".transport", "%s is not one of udp, tcp, tls", fielderr.Quote(t.Transport))
	}
	if t.Username != "" && !sipUser.MatchString(t.Username) {
		l.Addf(path+".username", "%s must be 1 to 64 letters, digits or + . _ * -", fielderr.Quote(t.Username))
	}
	// Never quote the password: messages reach logs and HTTP responses.
	if t.Password != "" && (len(t.Password) > 256 || strings.IndexFunc(t.Password, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0) {
		l.Addf(path+".password", "must be 1 to 256 characters without control characters")
	}
	if t.Password != "" && t.Username == "" {
		l.Addf(path, "password needs username")
	}
	if t.FromDomain != "" && !validHost(t.FromDomain) {
		l.Addf(path+".from_domain", "%s is not a host name", fielderr.Quote(t.FromDomain))
	}
	switch t.Presentation {
	case "", PresentFrom, PresentBoth:
	case PresentPAI:
		if t.Username == "" {
			l.Addf(path, "presentation pai puts the username in From: set username (a pai trunk needs a username)")
		}
	default:
		l.Addf(path+".presentation", "%s is not one of from, pai, both", fielderr.Quote(t.Presentation))
	}
	for j, r := range t.Rewrite {
		rp := fielderr.Index(path+".rewrite", j)
		if !digitPrefix.MatchString(r.Prefix) {
			l.Addf(rp+".prefix", "%s must be up to 20 digits", fielderr.Quote(r.Prefix))
		}
		if !rewriteTo.MatchString(r.Replace) {
			l.Addf(rp+".replace", "%s must be up to 20 digits with an optional leading +", fielderr.Quote(r.Replace))
		}
	}
	if t.Codecs != nil && len(t.Codecs) == 0 {
		l.Addf(path+".codecs", "must list PCMU, PCMA or both (leave it out for both)")
	}
	seen := map[string]bool{}
	for j, co := range t.Codecs {
		cp := fielderr.Index(path+".codecs", j)
		switch {
		case co != CodecPCMU && co != CodecPCMA:
			l.Addf(cp, "%s is not one of PCMU, PCMA", fielderr.Quote(co))
		case seen[co]:
			l.Addf(cp, "duplicate codec %s", co)
		}
		seen[co] = true
	}
	if t.MaxCalls < 0 {
		l.Addf(path+".max_calls", "%d is negative: must be at least 1 (leave it out for no cap)", t.MaxCalls)
	}
	if t.MaxCPS != 0 && !(t.MaxCPS >= 1) {
		msg := "must be at least 1 (leave it out for no cap)"
		if t.MaxCPS < 0 {
			msg = fmt.Sprintf("%g is negative: %s", t.MaxCPS, msg)
		}
		l.Addf(path+".max_cps", "%s", msg)
	}
	if t.TLSCA != "" && !filePath(t.TLSCA) {
		l.Addf(path+".tls_ca", "%s is not a file path", fielderr.Quote(t.TLSCA))
	}
	if t.TLSServerName != "" && !validHost(t.TLSServerName) {
		l.Addf(path+".tls_server_name", "%s is not a host name or IP address", fielderr.Quote(t.TLSServerName))
	}
	if t.Transport != TransportTLS && (t.TLSCA != "" || t.TLSRoots != nil || t.TLSServerName != "") {
		l.Addf(path, "tls_ca and tls_server_name need transport tls")
	}
	// A TLS trunk's far end sends its BYE to us over TLS: we need a
	// certificate to receive it.
	if t.Transport == TransportTLS && c.TLSCertificate == nil && (c.TLSCert == "" || c.TLSKey == "") {
		l.Addf(path, "transport tls needs sip.tls_cert and sip.tls_key (the trunk sends its BYE to us over TLS: without tls_cert and tls_key we cannot take it)")
	}
}

// checkHostPort checks host:port; wildcard allows an empty host or port 0
// (a listen address).
func checkHostPort(l *fielderr.List, path, s string, wildcard bool) {
	host, portS, err := net.SplitHostPort(s)
	port, perr := strconv.Atoi(portS)
	switch {
	case err != nil || perr != nil:
		l.Addf(path, "%s is not host:port", fielderr.Quote(s))
	case port < 0 || port > 65535 || (port == 0 && !wildcard):
		l.Addf(path, "%s: port %d is out of range", fielderr.Quote(s), port)
	case host == "" && !wildcard:
		l.Addf(path, "%s has no host", fielderr.Quote(s))
	case host != "" && !validHost(host):
		l.Addf(path, "%s: %s is not a host name or IP address", fielderr.Quote(s), fielderr.Quote(host))
	}
}

// filePath accepts a file name fit for a configuration file.
func filePath(s string) bool {
	return s != "" && len(s) <= 4096 && !strings.ContainsAny(s, "\x00\r\n")
}

// validHost reports whether h is a DNS name or an IP address (IPv6 without
// brackets); it is written into SIP headers, so nothing else may pass.
func validHost(h string) bool {
	return net.ParseIP(h) != nil || dnsName.MatchString(h)
}
