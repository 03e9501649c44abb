package outbound

import (
	"bytes"
	"errors"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/idna"
)

// The fuzz targets look for parser differentials: a URL the policy
// accepts whose host some other reader — net/url, net/netip, net.ParseIP,
// net/http's IDNA mapping before it dials, or the C library's inet_aton
// behind getaddrinfo — takes for an address the policy would refuse.

var fuzzSeeds = []string{
	"http://127.0.0.1/", "http://2130706433/", "http://0177.0.0.1/", "http://127.1/", "http://0x7f.1/",
	"http://0X7F.0.0.1./", "http://[::ffff:127.0.0.1]/", "http://[::ffff:7f00:1]:80/", "http://[fe80::1%25eth0]/",
	"http://[64:ff9b::a9fe:a9fe]/", "http://[2002:7f00:1::]/", "http://localhost./", "http://a.localhost/",
	"http://\uff11\uff12\uff17.\uff10.\uff10.\uff11/", "http://127\u30020\u30020\u30021/", "http://169.254.169.254/latest",
	"http://100.100.100.200/", "http://metadata.google.internal/", "https://example.com:8443/push?x=1",
	"http://user:pw@example.com/", "http://example.com@127.0.0.1/", "http://0/", "http://0x/", "http://1.2.3.4.5/",
	"http://8.8.8.8/", "http://0x08.0x08.0x08.0x08/", "http://bücher.example/", "http://xn--bcher-kva.example/",
	"http:example.com", "http://[::]/", "http://017700000001/", "http://4294967295/", "http://09.1/", "http://1e2/",
}

func FuzzCheckURL(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	p, err := NewPolicy()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := p.CheckURL(raw, Untrusted)
		if err != nil {
			var rerr *RefusedError
			if !errors.As(err, &rerr) || rerr.Rule == "" {
				t.Fatalf("%q: an error that is not a refusal: %v", raw, err)
			}
			// (A password that appears elsewhere in the URL too may
			// be shown as that other part.)
			if pw, ok := password(raw); ok && len(pw) >= 4 && strings.Count(raw, pw) == 1 && strings.Contains(err.Error(), pw) {
				t.Fatalf("%q: the refusal repeats the password: %v", raw, err)
			}
			return
		}
		// Accepted: net/url agrees on the form.
		u2, err := url.Parse(raw)
		if err != nil || (u2.Scheme != "http" && u2.Scheme != "https") || u2.User != nil || u2.Hostname() == "" {
			t.Fatalf("%q accepted, but net/url reads %+v (%v)", raw, u2, err)
		}
		if u.Hostname() != u2.Hostname() {
			t.Fatalf("%q: host %q, net/url %q", raw, u.Hostname(), u2.Hostname())
		}
		// The host as net/http dials it.
		dial := u2.Hostname()
		if mapped, err := idna.Lookup.ToASCII(dial); err == nil {
			dial = mapped
		}
		checkPublic(t, raw, dial)
		// The policy reads the dialler's host as it read the URL's.
		h1, e1 := parseHost(u.Hostname())
		h2, e2 := parseHost(dial)
		if e1 != "" || e2 != "" || h1 != h2 {
			t.Fatalf("%q: the URL's host reads %+v %q, the dialled one %+v %q", raw, h1, e1, h2, e2)
		}
		// A re-parse of the accepted URL is accepted the same way.
		u3, err := p.CheckURL(u.String(), Untrusted)
		if err != nil || u3.Hostname() != u.Hostname() {
			t.Fatalf("%q: re-parsing %q: %v", raw, u.String(), err)
		}
	})
}

func FuzzParseHost(f *testing.F) {
	for _, s := range fuzzSeeds {
		if u, err := url.Parse(s); err == nil {
			f.Add(u.Hostname())
		}
	}
	for _, s := range []string{"127.0.0.1 ", "0x7f.0x0.0x0.0x1", "00000000177.1", "0xffffffff", "1.0x", "0.0.0.0.", "1..1", "::1", "fe80::1%eth0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, herr := parseHost(s)
		if herr == "" && h.isIP() == (h.name != "") {
			t.Fatalf("%q: %+v is neither or both an address and a name", s, h)
		}
		if a, err := netip.ParseAddr(s); err == nil {
			if a.Zone() != "" && herr == "" {
				t.Fatalf("%q: a zone accepted", s)
			}
			if a.Zone() == "" && (herr != "" || h.addr != a.Unmap()) {
				t.Fatalf("%q: netip reads %s, the policy %+v %q", s, a, h, herr)
			}
		}
		if ip := net.ParseIP(s); ip != nil {
			a, _ := netip.AddrFromSlice(ip)
			if herr != "" || h.addr != a.Unmap() {
				t.Fatalf("%q: net.ParseIP reads %s, the policy %+v %q", s, ip, h, herr)
			}
		}
		if a, ok := inetAton(s); ok && herr == "" && h.addr != a {
			t.Fatalf("%q: inet_aton reads %s, the policy %+v", s, a, h)
		}
		if herr != "" {
			return
		}
		// What the policy reads it reads again the same way.
		again := h.name
		if h.isIP() {
			again = h.addr.String()
		}
		if h2, e2 := parseHost(again); e2 != "" || h2 != h {
			t.Fatalf("%q: read as %+v, which reads as %+v %q", s, h, h2, e2)
		}
		if !h.isIP() {
			for i := 0; i < len(h.name); i++ {
				c := h.name[i]
				if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
					t.Fatalf("%q: a name with %q", s, c)
				}
			}
			if _, ok := inetAton(h.name); ok {
				t.Fatalf("%q: the name %q is an address to inet_aton", s, h.name)
			}
		}
	})
}

func FuzzVerify(f *testing.F) {
	now := time.Unix(1800000000, 0)
	f.Add("s3cret", Sign("s3cret", now, []byte("[]")), []byte("[]"))
	f.Add("k", "t=1800000000,v1=00,v1=", []byte{})
	f.Add("k", "t=1,t=2,v1=ab", []byte("x"))
	f.Fuzz(func(t *testing.T, secret, header string, body []byte) {
		err := Verify(secret, header, body, now, 0)
		if err == nil {
			ts, sigs, perr := parseSignature(header)
			want := []byte(mac(secret, ts, body))
			found := false
			for _, s := range sigs {
				found = found || bytes.Equal(s, want)
			}
			if perr != nil || !found || secret == "" {
				t.Fatalf("verified without a matching signature: %q %q", secret, header)
			}
		}
		if secret == "" {
			return
		}
		s := Signer{Secret: secret, Previous: header, PreviousUntil: now.Add(time.Second)}
		signed := s.Sign(now, body)
		for _, k := range []string{secret, header} {
			if k == "" {
				continue
			}
			if err := Verify(k, signed, body, now, 0); err != nil {
				t.Fatalf("Sign then Verify with %q: %v", k, err)
			}
		}
	})
}

// checkPublic fails when any reader takes host for a non-public address.
func checkPublic(t *testing.T, raw, host string) {
	t.Helper()
	var readings []netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		if a.Zone() != "" {
			t.Fatalf("%q accepted with a zone", raw)
		}
		readings = append(readings, a)
	}
	if ip := net.ParseIP(host); ip != nil {
		a, _ := netip.AddrFromSlice(ip)
		readings = append(readings, a)
	}
	if a, ok := inetAton(host); ok {
		readings = append(readings, a)
	}
	for _, a := range readings {
		a = a.Unmap()
		if a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
			a.IsUnspecified() || a.IsMulticast() || a.IsInterfaceLocalMulticast() {
			t.Fatalf("%q accepted, but its host %q reads as %s", raw, host, a)
		}
		if rule, _ := classify(a); rule != "" {
			t.Fatalf("%q accepted, but its host %q reads as %s (%s)", raw, host, a, rule)
		}
	}
}

// inetAton is an independent reading of the C library's inet_aton (what
// getaddrinfo falls back to for numeric hosts): parts of digits separated
// by dots, each decimal, octal with a leading 0 or hexadecimal with 0x or
// 0X, the last filling the remaining bytes; white space may follow.
func inetAton(s string) (netip.Addr, bool) {
	var parts []uint64
	i := 0
	for {
		if i >= len(s) || s[i] < '0' || s[i] > '9' {
			return netip.Addr{}, false
		}
		base := uint64(10)
		if s[i] == '0' {
			base, i = 8, i+1
			if i < len(s) && (s[i] == 'x' || s[i] == 'X') {
				base, i = 16, i+1
			}
		}
		var v uint64
		for ; i < len(s); i++ {
			c := s[i]
			var d uint64
			switch {
			case c >= '0' && c <= '9':
				d = uint64(c - '0')
				if base == 8 && d > 7 {
					return netip.Addr{}, false
				}
			case base == 16 && c >= 'a' && c <= 'f':
				d = uint64(c-'a') + 10
			case base == 16 && c >= 'A' && c <= 'F':
				d = uint64(c-'A') + 10
			default:
				goto end
			}
			v = v*base + d
			if v > 0xffffffff {
				return netip.Addr{}, false
			}
		}
	end:
		parts = append(parts, v)
		if i < len(s) && s[i] == '.' {
			if len(parts) == 4 {
				return netip.Addr{}, false
			}
			i++
			continue
		}
		break
	}
	if i < len(s) && s[i] != ' ' && s[i] != '\t' && s[i] != '\n' {
		return netip.Addr{}, false
	}
	last := parts[len(parts)-1]
	limits := []uint64{0xffffffff, 0xffffff, 0xffff, 0xff}
	if last > limits[len(parts)-1] {
		return netip.Addr{}, false
	}
	v := last
	for k, p := range parts[:len(parts)-1] {
		if p > 0xff {
			return netip.Addr{}, false
		}
		v |= p << (24 - 8*k)
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true
}

func TestInetAtonReference(t *testing.T) {
	for s, want := range map[string]string{
		"127.0.0.1": "127.0.0.1", "2130706433": "127.0.0.1", "0177.0.0.1": "127.0.0.1", "127.1": "127.0.0.1",
		"0x7f.1": "127.0.0.1", "0X7F.0.0.1": "127.0.0.1", "127.0.0.1 x": "127.0.0.1", "10.0.65535": "10.0.255.255",
		"127.0.0.1.": "", "08.1": "", "256.1.1.1": "", "1.2.3.4.5": "", "": "", "x": "", "1.2.3.256": "", "0x": "0.0.0.0",
	} {
		a, ok := inetAton(s)
		if got := map[bool]string{true: a.String(), false: ""}[ok]; got != want {
			t.Errorf("inetAton(%q) = %q, want %q", s, got, want)
		}
	}
}

// password is the password of a URL-looking string, if it has one: in
// the authority (up to the first /, ? or #), before its last @, after the
// first :, as net/url reads it.
func password(raw string) (string, bool) {
	// A "://" after a ':', '/', '?' or '#' is in an opaque part, the
	// path, the query or the fragment ("A:://:pw@", "A#://:pw@"), where no
	// URL reader finds a user or password.
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok || strings.ContainsAny(scheme, ":/?#") {
		return "", false
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return "", false
	}
	_, pw, ok := strings.Cut(rest[:at], ":")
	return pw, ok
}
