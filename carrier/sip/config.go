package sip

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/dialtone-voice/dialtone/speech"
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
	DefaultRTPTimeout  = 30 * time.Second
	DefaultRingTimeout = 45 * time.Second
	DefaultUserAgent   = "Dialtone"
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

// Config configures the SIP carrier.
type Config struct {
	// Listen is the local SIP address, host:port, for UDP and (when a
	// trunk needs it) TCP; port 0 picks a free one. Default
	// "0.0.0.0:5060".
	Listen string `yaml:"listen"`
	// Advertise is the host written in Via and Contact when Listen is a
	// wildcard; default: the local IP the first trunk is reached from.
	Advertise string `yaml:"advertise"`
	// TLSListen is where the far ends of TLS trunks reach us (the Contact
	// of TLS calls): their BYE and INFO open a TLS connection of their own
	// to it, as RFC 3261 §18 has them do. host:port; default the Listen
	// host with the next port (5060 → 5061; port 0: a free one). Used only
	// when a trunk uses tls.
	TLSListen string `yaml:"tls_listen"`
	// TLSCert and TLSKey are the PEM files of the certificate presented on
	// TLSListen; required when a trunk uses tls.
	TLSCert string `yaml:"tls_cert"`
	TLSKey  string `yaml:"tls_key"`
	// TLSCertificate, when set, is used instead of TLSCert and TLSKey (for
	// embedders and tests that hold the certificate in memory).
	TLSCertificate *tls.Certificate `yaml:"-"`
	Trunks         []Trunk          `yaml:"trunks"`
	// Routes pick a trunk by account and callee prefix; the longest
	// matching prefix wins, and an account's own route beats a route for
	// every account with an equally long prefix.
	Routes []Route `yaml:"routes"`
	// DefaultTrunk is used when no route matches ("" means: fail the call).
	DefaultTrunk string `yaml:"default_trunk"`
	// RTPTimeout ends an answered call when no RTP arrives for this long
	// (default 30 s; negative disables).
	RTPTimeout time.Duration `yaml:"rtp_timeout"`
	// RTPPortMin and RTPPortMax bound local RTP ports (both 0: any free
	// port).
	RTPPortMin int `yaml:"rtp_port_min"`
	RTPPortMax int `yaml:"rtp_port_max"`
	// UserAgent is the User-Agent header and SDP user name.
	UserAgent string `yaml:"user_agent"`
	// MaxRecording bounds a recording (default 2 h), so a hostile RTP
	// timestamp cannot make us allocate without end.
	MaxRecording time.Duration `yaml:"max_recording"`

	// rtcpInterval is the RTCP report interval (default 5 s); unexported
	// so only tests shorten it below RFC 3550's minimum.
	rtcpInterval time.Duration

	// ASR recognises what the callee says on legs that listen (SmartCall);
	// nil: speech is not recognised, though barge-in (TimeBreak) and DTMF
	// still work.
	ASR speech.Recognizer `yaml:"-"`
	// ASRAccountModels names the recogniser model (speech.Hints.Model) of
	// an account's calls whose SmartCall names no AsrModelID.
	ASRAccountModels map[string]string `yaml:"asr_account_models"`

	// DownAfter consecutive INVITEs on a trunk without any response (a
	// transport error or InviteTimeout) mark it down for CoolOff; calls
	// then go to the next trunk routed for the same account and prefix,
	// or fail as unreachable. Defaults DefaultDownAfter and DefaultCoolOff;
	// a negative DownAfter never marks a trunk down.
	DownAfter int           `yaml:"down_after"`
	CoolOff   time.Duration `yaml:"cool_off"`
	// InviteTimeout bounds the wait for the first response to an INVITE
	// (default DefaultInviteTimeout, capped by the call's ring timeout).
	InviteTimeout time.Duration `yaml:"invite_timeout"`
}

// Trunk is one SIP peer (a carrier, a PBX, an SBC).
type Trunk struct {
	Name string `yaml:"name"`
	// Address is host:port of the trunk.
	Address string `yaml:"address"`
	// Transport is udp (default), tcp or tls.
	Transport string `yaml:"transport"`
	// Username and Password answer digest challenges (401/407).
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	// FromDomain is the host of From, To and the Request-URI (default:
	// the host of Address).
	FromDomain string `yaml:"from_domain"`
	// Presentation is from (default), pai or both; see PresentFrom.
	Presentation string `yaml:"presentation"`
	// Rewrite changes the callee number before dialling; the first rule
	// whose prefix matches is applied, the rest are skipped.
	Rewrite []RewriteRule `yaml:"rewrite"`
	// Codecs in order of preference; default PCMU, PCMA.
	Codecs []string `yaml:"codecs"`
	// MaxCalls caps concurrent calls on the trunk (0: no cap). A call
	// over the cap waits for a free slot, bounded by its context.
	MaxCalls int `yaml:"max_calls"`
	// MaxCPS caps new calls per second (0: no cap); calls over it wait.
	MaxCPS float64 `yaml:"max_cps"`
	// TLSCA is a PEM file of the CA certificates that may sign the trunk's
	// certificate (transport tls); default: the system roots. The server
	// certificate is always verified.
	TLSCA string `yaml:"tls_ca"`
	// TLSRoots, when set, is used instead of TLSCA (for embedders and
	// tests that hold the CA in memory).
	TLSRoots *x509.CertPool `yaml:"-"`
	// TLSServerName is the name the trunk's certificate must carry;
	// default: the host of Address (an IP address is checked against the
	// certificate's IP addresses).
	TLSServerName string `yaml:"tls_server_name"`
}

// RewriteRule replaces a leading Prefix of the number with Replace:
// {Prefix: "0", Replace: "86"} strips a trunk prefix and adds a country
// code; {Prefix: "", Replace: "+"} prefixes every number.
type RewriteRule struct {
	Prefix  string `yaml:"prefix"`
	Replace string `yaml:"replace"`
}

// Route sends calls of Account (empty: any account) whose callee starts
// with Prefix (empty: any callee) to Trunk.
type Route struct {
	Account string `yaml:"account"`
	Prefix  string `yaml:"prefix"`
	Trunk   string `yaml:"trunk"`
}

// withDefaults returns a copy of c with defaults filled in.
func (c Config) withDefaults() Config {
	if c.Listen == "" {
		c.Listen = "0.0.0.0:5060"
	}
	if c.RTPTimeout == 0 {
		c.RTPTimeout = DefaultRTPTimeout
	}
	if c.UserAgent == "" {
		c.UserAgent = DefaultUserAgent
	}
	if c.MaxRecording <= 0 {
		c.MaxRecording = 2 * time.Hour
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
		t.Transport = strings.ToLower(t.Transport)
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

// Validate reports every problem of the configuration at once.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		errs = append(errs, fmt.Errorf("listen %q: %w", c.Listen, err))
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		errs = append(errs, errors.New("tls_cert and tls_key: set both or neither"))
	}
	if c.TLSListen != "" {
		if _, _, err := net.SplitHostPort(c.TLSListen); err != nil {
			errs = append(errs, fmt.Errorf("tls_listen %q: %w", c.TLSListen, err))
		}
	}
	if c.RTPPortMin < 0 || c.RTPPortMax > 65535 || c.RTPPortMin > c.RTPPortMax {
		errs = append(errs, fmt.Errorf("rtp ports %d-%d: not a port range", c.RTPPortMin, c.RTPPortMax))
	}
	names := make(map[string]bool, len(c.Trunks))
	for i, t := range c.Trunks {
		where := fmt.Sprintf("trunk %d (%q)", i, t.Name)
		if t.Name == "" {
			errs = append(errs, fmt.Errorf("%s: no name", where))
		} else if names[t.Name] {
			errs = append(errs, fmt.Errorf("%s: duplicate name", where))
		}
		names[t.Name] = true
		if _, port, err := net.SplitHostPort(t.Address); err != nil || port == "" {
			errs = append(errs, fmt.Errorf("%s: address %q is not host:port", where, t.Address))
		}
		if strings.ContainsAny(t.FromDomain, " \t\r\n<>;,\"@") {
			errs = append(errs, fmt.Errorf("%s: from domain %q is not a host name", where, t.FromDomain))
		}
		switch t.Transport {
		case TransportUDP, TransportTCP, TransportTLS:
		default:
			errs = append(errs, fmt.Errorf("%s: transport %q is not udp, tcp or tls", where, t.Transport))
		}
		switch t.Presentation {
		case PresentFrom, PresentPAI, PresentBoth:
		default:
			errs = append(errs, fmt.Errorf("%s: presentation %q is not from, pai or both", where, t.Presentation))
		}
		if t.Presentation == PresentPAI && t.Username == "" {
			errs = append(errs, fmt.Errorf("%s: presentation pai needs a username for From", where))
		}
		for _, co := range t.Codecs {
			if _, ok := staticPT[strings.ToUpper(co)]; !ok {
				errs = append(errs, fmt.Errorf("%s: codec %q is not PCMU or PCMA", where, co))
			}
		}
		if t.Transport != TransportTLS && (t.TLSCA != "" || t.TLSRoots != nil || t.TLSServerName != "") {
			errs = append(errs, fmt.Errorf("%s: tls_ca and tls_server_name need transport tls", where))
		}
		if t.Transport == TransportTLS && c.TLSCertificate == nil && (c.TLSCert == "" || c.TLSKey == "") {
			errs = append(errs, fmt.Errorf("%s: transport tls needs tls_cert and tls_key: the trunk sends its BYE to us over TLS", where))
		}
		if t.MaxCalls < 0 || t.MaxCPS < 0 {
			errs = append(errs, fmt.Errorf("%s: negative call caps", where))
		}
	}
	for i, r := range c.Routes {
		if !names[r.Trunk] {
			errs = append(errs, fmt.Errorf("route %d: unknown trunk %q", i, r.Trunk))
		}
	}
	if c.DefaultTrunk != "" && !names[c.DefaultTrunk] {
		errs = append(errs, fmt.Errorf("default trunk %q is unknown", c.DefaultTrunk))
	}
	if len(c.Trunks) == 0 {
		errs = append(errs, errors.New("no trunks"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sip config: %w", err)
	}
	return nil
}
