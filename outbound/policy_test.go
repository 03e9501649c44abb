package outbound

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

// These tests check URLs and addresses without dialling any of them.

func mustPolicy(t *testing.T, allow ...string) *Policy {
	t.Helper()
	p, err := NewPolicy(allow...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// checkRule runs CheckURL and returns the rule broken, "" when accepted.
func checkRule(t *testing.T, p *Policy, raw string, tr Trust) Rule {
	t.Helper()
	_, err := p.CheckURL(raw, tr)
	if err == nil {
		return ""
	}
	var rerr *RefusedError
	if !errors.As(err, &rerr) || !errors.Is(err, ErrRefused) {
		t.Fatalf("%s: error %v is not a *RefusedError", raw, err)
	}
	if !strings.Contains(err.Error(), "(rule "+string(rerr.Rule)+")") {
		t.Errorf("%s: message %q does not name its rule", raw, err)
	}
	return rerr.Rule
}

// Every spelling of a refused address, for an account user's URL with no
// allow-list; the same URLs with an allow-list naming the address; and
// for operator URLs.
func TestPolicyAddressSpellings(t *testing.T) {
	none := mustPolicy(t)
	cases := []struct {
		url   string
		rule  Rule   // for an Untrusted URL with no allow-list
		allow string // an allow-list entry that lets it through ("" none can)
	}{
		// Loopback in every spelling.
		{"http://127.0.0.1:8080/receipts", RuleLoopback, "127.0.0.1"},
		{"http://127.0.0.1./", RuleLoopback, "127.0.0.1"}, // trailing dot
		{"http://2130706433/", RuleLoopback, "127.0.0.1"}, // decimal
		{"http://0177.0.0.1/", RuleLoopback, "127.0.0.1"}, // octal
		{"http://0177.0000.0000.0001/", RuleLoopback, "127.0.0.1"},
		{"http://017700000001/", RuleLoopback, "127.0.0.1"},       // octal, one part
		{"http://127.1/", RuleLoopback, "127.0.0.1"},              // short form
		{"http://127.0.1/", RuleLoopback, "127.0.0.1"},            // short form, three parts
		{"http://0x7f.1/", RuleLoopback, "127.0.0.1"},             // hexadecimal
		{"http://0X7F.0.0.1/", RuleLoopback, "127.0.0.1"},         // upper-case hexadecimal
		{"http://0x7f000001/", RuleLoopback, "127.0.0.1"},         // hexadecimal, one part
		{"http://0x7f.0.0.0x1./", RuleLoopback, "127.0.0.1"},      // mixed, trailing dot
		{"http://127.000.000.001/", RuleLoopback, "127.0.0.1"},    // zero-padded (octal 0, 0, 1)
		{"http://127.9.9.9/", RuleLoopback, "127.0.0.0/8"},        // all of 127/8
		{"http://[::1]/", RuleLoopback, "::1"},                    // IPv6 loopback
		{"http://[0:0:0:0:0:0:0:1]:9/", RuleLoopback, "::1"},      // long form
		{"http://[::ffff:127.0.0.1]/", RuleLoopback, "127.0.0.1"}, // IPv4-mapped IPv6
		{"http://[::ffff:7f00:1]/", RuleLoopback, "127.0.0.1"},    // IPv4-mapped, hex
		{"http://[0:0:0:0:0:ffff:127.0.0.1]/", RuleLoopback, "127.0.0.1"},
		{"http://[64:ff9b::127.0.0.1]/", RuleLoopback, "64:ff9b::/96"}, // NAT64
		{"http://[2002:7f00:1::]/", RuleLoopback, "2002::/16"},         // 6to4
		{"http://localhost:8080/", RuleLoopback, "127.0.0.1"},
		{"http://LocalHost./", RuleLoopback, "::1"},
		{"http://push.localhost/", RuleLoopback, "*.localhost"},
		{"http://\uff11\uff12\uff17.\uff10.\uff10.\uff11/", RuleLoopback, "127.0.0.1"}, // fullwidth digits, mapped by IDNA as net/http does
		{"http://127\u30020\u30020\u30021/", RuleLoopback, "127.0.0.1"},                // ideographic full stops

		// Unspecified: connects to this host.
		{"http://0.0.0.0:8080/", RuleUnspecified, "0.0.0.0"},
		{"http://0/", RuleUnspecified, "0.0.0.0"},
		{"http://0x0/", RuleUnspecified, "0.0.0.0"},
		{"http://0.1.2.3/", RuleUnspecified, "0.0.0.0/8"},
		{"http://[::]/", RuleUnspecified, "::"},
		{"http://[::ffff:0.0.0.0]/", RuleUnspecified, "0.0.0.0"},

		// Private, shared, unique local.
		{"http://10.0.0.1/", RulePrivate, "10.0.0.0/8"},
		{"http://167772161/", RulePrivate, "10.0.0.1"}, // 10.0.0.1 in decimal
		{"http://012.0.0.1/", RulePrivate, "10.0.0.0/8"},
		{"http://172.16.5.4/", RulePrivate, "172.16.0.0/12"},
		{"http://172.31.255.255/", RulePrivate, "172.16.0.0/12"},
		{"http://192.168.1.1/", RulePrivate, "192.168.0.0/16"},
		{"http://0xc0.0xa8.1.1/", RulePrivate, "192.168.1.1"},
		{"http://[::ffff:192.168.1.1]/", RulePrivate, "192.168.0.0/16"},
		{"http://100.64.0.1/", RuleShared, "100.64.0.0/10"},
		{"http://100.127.255.254/", RuleShared, "100.64.0.0/10"},
		{"http://[fd12:3456::1]/", RuleUniqueLocal, "fd12:3456::/32"},
		{"http://[fc00::1]/", RuleUniqueLocal, "fc00::/7"},

		// Multicast, broadcast, reserved.
		{"http://224.0.0.1/", RuleMulticast, "224.0.0.0/4"},
		{"http://[ff02::1]/", RuleMulticast, "ff00::/8"},
		{"http://255.255.255.255/", RuleBroadcast, "255.255.255.255"},
		{"http://4294967295/", RuleBroadcast, "255.255.255.255"},
		{"http://240.0.0.1/", RuleReserved, "240.0.0.0/4"},
		{"http://192.0.2.1/", RuleReserved, "192.0.2.0/24"},
		{"http://198.18.0.1/", RuleReserved, "198.18.0.0/15"},
		{"http://192.0.0.170/", RuleReserved, "192.0.0.0/24"},
		{"http://[2001:db8::1]/", RuleReserved, "2001:db8::/32"},
		{"http://[::127.0.0.1]/", RuleReserved, "::/96"},           // IPv4-compatible (deprecated)
		{"http://[2001::1]/", RuleReserved, "2001::/32"},           // Teredo
		{"http://[fec0::1]/", RuleReserved, "fec0::/10"},           // site-local (deprecated)
		{"http://[64:ff9b:1::1]/", RuleReserved, "64:ff9b:1::/48"}, // local-use NAT64

		// Always refused, whatever the allow-list and whoever set the URL.
		{"http://169.254.169.254/latest/meta-data/", RuleMetadata, ""},
		{"http://2852039166/latest/meta-data/", RuleMetadata, ""}, // 169.254.169.254 in decimal
		{"http://0xa9.0xfe.0xa9.0xfe/", RuleMetadata, ""},
		{"http://0251.0376.0251.0376/", RuleMetadata, ""},
		{"http://169.254.43518/", RuleMetadata, ""},
		{"http://[::ffff:169.254.169.254]/", RuleMetadata, ""},
		{"http://[::ffff:a9fe:a9fe]/", RuleMetadata, ""},
		{"http://[64:ff9b::a9fe:a9fe]/", RuleMetadata, ""},
		{"http://[2002:a9fe:a9fe::1]/", RuleMetadata, ""},
		{"http://[fd00:ec2::254]/latest/meta-data/", RuleMetadata, ""},
		{"http://100.100.100.200/latest/meta-data/", RuleMetadata, ""},
		{"http://1684301000/", RuleMetadata, ""}, // 100.100.100.200 in decimal
		{"http://168.63.129.16/machine/", RuleMetadata, ""},
		{"http://metadata.google.internal/computeMetadata/v1/", RuleMetadata, ""},
		{"http://METADATA.google.internal./", RuleMetadata, ""},
		{"http://169.254.1.1/", RuleLinkLocal, ""},
		{"http://169.254.170.2/v2/credentials", RuleLinkLocal, ""},
		{"http://[fe80::1]/", RuleLinkLocal, ""},
		{"http://[::ffff:169.254.1.1]/", RuleLinkLocal, ""},
		{"http://[fe80::1%25eth0]/", RuleHost, ""}, // a zone: refused as a host
	}
	for _, c := range cases {
		t.Run(c.url, func(t *testing.T) {
			if got := checkRule(t, none, c.url, Untrusted); got != c.rule {
				t.Fatalf("untrusted, no allow-list: rule %q, want %q", got, c.rule)
			}
			if c.allow != "" {
				p := mustPolicy(t, c.allow)
				if got := checkRule(t, p, c.url, Untrusted); got != "" {
					t.Errorf("allow-list %q: refused (%s)", c.allow, got)
				}
				if got := checkRule(t, none, c.url, Trusted); got != "" {
					t.Errorf("trusted: refused (%s)", got)
				}
			} else {
				everything := mustPolicy(t, "0.0.0.0/0", "::/0", "*.internal", "localhost")
				if got := checkRule(t, everything, c.url, Trusted); got != c.rule {
					t.Errorf("trusted, allow everything: rule %q, want %q", got, c.rule)
				}
			}
		})
	}
}

// An allow-list entry lifts exactly what it names.
func TestPolicyAllowListIsExact(t *testing.T) {
	p := mustPolicy(t, "127.0.0.1", "10.1.0.0/16")
	for url, want := range map[string]Rule{
		"http://127.0.0.1/":      "",
		"http://127.1/":          "",
		"http://127.0.0.2/":      RuleLoopback,
		"http://[::1]/":          RuleLoopback,
		"http://10.1.200.3/":     "",
		"http://10.2.0.1/":       RulePrivate,
		"http://192.168.0.1/":    RulePrivate,
		"http://localhost/":      "", // 127.0.0.1 is allowed
		"http://169.254.169.254": RuleMetadata,
	} {
		if got := checkRule(t, p, url, Untrusted); got != want {
			t.Errorf("%s: rule %q, want %q", url, got, want)
		}
	}
}

func TestPolicyPublicAddresses(t *testing.T) {
	p := mustPolicy(t)
	for _, url := range []string{
		"http://8.8.8.8/",
		"https://1.1.1.1:8443/hook?x=1",
		"http://0x08.0x08.0x08.0x08/", // 8.8.8.8: an odd spelling of a public address is still public
		"http://134744072/",           // 8.8.8.8
		"http://[2606:4700:4700::1111]/",
		"http://[64:ff9b::8.8.8.8]/", // NAT64 of a public address
		"http://[::ffff:8.8.8.8]/",
		"https://example.com/push",
		"https://EXAMPLE.com./push",
		"https://hooks.example.com:8443/a/b",
		"http://bücher.example/", // IDNA
		"http://xn--bcher-kva.example/",
		"http://under_score.example/",
		"http://100.63.255.255/",  // just below the shared space
		"http://100.128.0.0/",     // just above it
		"http://172.32.0.1/",      // just above 172.16/12
		"http://169.253.255.255/", // just below link-local
		"http://11.0.0.1/",
		"http://receiver.internal/", // a name: checked again when it resolves
	} {
		if got := checkRule(t, p, url, Untrusted); got != "" {
			t.Errorf("%s: refused (%s)", url, got)
		}
	}
}

func TestPolicyURLForm(t *testing.T) {
	p := mustPolicy(t, "0.0.0.0/0", "::/0")
	long := "http://example.com/" + strings.Repeat("a", maxURL)
	for url, want := range map[string]Rule{
		"ftp://example.com/":                              RuleScheme,
		"ws://example.com/":                               RuleScheme,
		"file:///etc/passwd":                              RuleScheme,
		"gopher://127.0.0.1:6379/_INFO":                   RuleScheme,
		"//example.com/":                                  RuleScheme,
		"example.com":                                     RuleScheme,
		"http:example.com":                                RuleHost,
		"http:///path":                                    RuleHost,
		"http://:8080/":                                   RuleHost,
		"http://user:pass@example.com/":                   RuleCredentials,
		"http://user@example.com/":                        RuleCredentials,
		"http://@example.com/":                            RuleCredentials,
		"http://example.com@127.0.0.1/":                   RuleCredentials,
		"http://example.com:0/":                           RulePort,
		"http://example.com:65536/":                       RulePort,
		"http://example.com:99999999/":                    RulePort,
		"http://1.2.3.4.5/":                               RuleHost,
		"http://256.1.1.1/":                               RuleHost,
		"http://1.2.3.256/":                               RuleHost, // with four parts the last fills one byte
		"http://example.123/":                             RuleHost,
		"http://example.0x1f/":                            RuleHost,
		"http://0x100000000/":                             RuleHost,
		"http://4294967296/":                              RuleHost,
		"http://09.1.1.1/":                                RuleHost, // 9 is not an octal digit
		"http://a..b/":                                    RuleHost,
		"http://.example.com/":                            RuleHost,
		"http://example.com../":                           RuleHost,
		"http://-bad.example/":                            RuleHost,
		"http://bad-.example/":                            RuleHost,
		"http://" + strings.Repeat("a", 64) + ".example/": RuleHost,
		"http://exa mple.com/":                            RuleURL,
		"http://[::1":                                     RuleURL,
		"http://%31%32%37.0.0.1/":                         RuleURL,
		"http://ex%41mple.com/":                           RuleURL,
		"http://[1.2.3.4]/":                               RuleURL,
		"http://[fe80::1%25en0]/":                         RuleHost,
		long:                                              RuleURL,
		"http://example.com:/":                            "",
		"HTTP://EXAMPLE.COM/":                             "",
		"https://example.com:443/":                        "",
	} {
		if got := checkRule(t, p, url, Untrusted); got != want {
			t.Errorf("%q: rule %q, want %q", url, got, want)
		}
	}
	// Streams take ws and wss only.
	for url, want := range map[string]Rule{
		"ws://example.com/stream":  "",
		"wss://example.com/stream": "",
		"http://example.com/":      RuleScheme,
		"wss://127.0.0.1/":         RuleLoopback,
		"ws://user:pw@example.com": RuleCredentials,
	} {
		_, err := mustPolicy(t).CheckStreamURL(url, Untrusted)
		var rerr *RefusedError
		got := Rule("")
		if errors.As(err, &rerr) {
			got = rerr.Rule
		}
		if got != want {
			t.Errorf("stream %q: rule %q (%v), want %q", url, got, err, want)
		}
	}
}

// A refusal's message names the rule and what would lift it, and never
// repeats a password.
func TestRefusedErrorMessages(t *testing.T) {
	p := mustPolicy(t)
	for url, wants := range map[string][]string{
		"http://0177.0.0.1:8080/":   {"0177.0.0.1 (127.0.0.1)", "rule loopback", "--egress-allow"},
		"http://169.254.169.254/":   {"169.254.169.254", "rule metadata", "refused whoever set the URL"},
		"http://10.0.0.1/":          {"rule private", "RFC 1918"},
		"ftp://x/":                  {"rule scheme", "http or https"},
		"http://u:hunter2@x/":       {"rule credentials"},
		"http://u:hunter2@x:bad/":   {"rule url"},
		"http://[64:ff9b::7f00:1]/": {"127.0.0.1 inside a NAT64"},
		"http://localhost/":         {"localhost (127.0.0.1)", "RFC 6761"},
	} {
		_, err := p.CheckURL(url, Untrusted)
		if err == nil {
			t.Fatalf("%s accepted", url)
		}
		for _, w := range wants {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q lacks %q", url, err, w)
			}
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: the message shows the password: %s", url, err)
		}
	}
}

// The checks made at connection time, on resolved addresses.
func TestPolicyCheckAddr(t *testing.T) {
	p := mustPolicy(t, "receiver.internal", "*.corp.example", "10.9.0.0/16")
	priv := netip.MustParseAddr("10.0.0.5")
	for _, c := range []struct {
		addr string
		host string
		tr   Trust
		want Rule
	}{
		{"10.0.0.5", "receiver.internal", Untrusted, ""},
		{"10.0.0.5", "RECEIVER.internal.", Untrusted, ""},
		{"10.0.0.5", "other.internal", Untrusted, RulePrivate},
		{"10.0.0.5", "a.corp.example", Untrusted, ""},
		{"10.0.0.5", "x.y.corp.example", Untrusted, ""},
		{"10.0.0.5", "corp.example", Untrusted, RulePrivate},
		{"10.0.0.5", "evilcorp.example", Untrusted, RulePrivate},
		{"10.9.3.4", "anything.example", Untrusted, ""},
		{"127.0.0.1", "receiver.internal", Untrusted, ""},
		{"169.254.169.254", "receiver.internal", Untrusted, RuleMetadata},
		{"169.254.169.254", "receiver.internal", Trusted, RuleMetadata},
		{"fe80::1%eth0", "receiver.internal", Trusted, RuleLinkLocal},
		{"::ffff:10.0.0.5", "other", Untrusted, RulePrivate},
		{"::ffff:10.0.0.5", "other", Trusted, ""},
		{"8.8.8.8", "", Untrusted, ""},
	} {
		err := p.CheckAddr(netip.MustParseAddr(c.addr), c.host, c.tr)
		var rerr *RefusedError
		got := Rule("")
		if errors.As(err, &rerr) {
			got = rerr.Rule
		}
		if got != c.want {
			t.Errorf("%s for %q (%s): rule %q (%v), want %q", c.addr, c.host, c.tr, got, err, c.want)
		}
	}
	var nilPolicy *Policy
	if err := nilPolicy.CheckAddr(priv, "receiver.internal", Untrusted); err == nil {
		t.Error("a nil policy allowed a private address")
	}
}

func TestNewPolicy(t *testing.T) {
	for _, bad := range []string{
		"169.254.0.0/16", "169.254.169.254", "169.254.169.254/32", "169.254.170.0/24",
		"fe80::/10", "fe80::/64", "100.100.100.200", "fd00:ec2::254", "::ffff:169.254.169.254",
		"metadata.google.internal", "0177.0.0.1", "2130706433", "not a host!", "10.0.0.0/33",
		"fe80::1%eth0", "exa mple.com", "*.", "a..b",
	} {
		if _, err := NewPolicy(bad); err == nil {
			t.Errorf("NewPolicy(%q) accepted", bad)
		}
	}
	p, err := NewPolicy(ParseAllowList(" 127.0.0.1, ::1\t10.0.0.0/8,,*.Corp.Example., receiver.internal ::ffff:172.16.0.0/108 0.0.0.0/0")...)
	if err != nil {
		t.Fatal(err)
	}
	want := "127.0.0.1/32 ::1/128 10.0.0.0/8 *.corp.example receiver.internal 172.16.0.0/12 0.0.0.0/0"
	if got := strings.Join(p.Allowed(), " "); got != want {
		t.Errorf("Allowed() = %q, want %q", got, want)
	}
	// A prefix wider than link-local is accepted, and link-local stays refused.
	if err := p.CheckAddr(netip.MustParseAddr("169.254.169.254"), "", Untrusted); err == nil {
		t.Error("0.0.0.0/0 let the metadata address through")
	}
}

// classify agrees with net/netip's own predicates wherever they have an
// opinion (a second opinion on the range tables).
func TestClassifyAgreesWithNetip(t *testing.T) {
	for _, s := range []string{
		"0.0.0.0", "127.0.0.1", "127.255.255.255", "10.0.0.0", "10.255.255.255", "172.16.0.0", "172.31.255.255",
		"192.168.0.0", "192.168.255.255", "169.254.0.1", "169.254.255.255", "224.0.0.0", "239.255.255.255",
		"::", "::1", "fe80::", "febf:ffff::", "fc00::", "fdff::1", "ff00::", "ff02::1", "8.8.8.8", "2606:4700::1",
	} {
		a := netip.MustParseAddr(s)
		rule, _ := classify(a)
		nonPublic := a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsUnspecified() ||
			a.IsMulticast() || a.IsLinkLocalMulticast() || a.IsInterfaceLocalMulticast()
		if nonPublic != (rule != "") {
			t.Errorf("%s: rule %q but netip says non-public=%v", s, rule, nonPublic)
		}
	}
}
