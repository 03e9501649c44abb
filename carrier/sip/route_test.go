package sip

import (
	"strings"
	"testing"

	"github.com/dialtone-voice/dialtone/carrier/sip/sipconf"
)

func TestPickTrunk(t *testing.T) {
	routes := []Route{
		{Prefix: "", Trunk: "any"},
		{Prefix: "86", Trunk: "cn"},
		{Prefix: "86755", Trunk: "shenzhen"},
		{Account: "acme", Prefix: "86", Trunk: "acme-cn"},
		{Account: "acme", Prefix: "1", Trunk: "acme-us"},
		{Prefix: "1", Trunk: "us"},
		{Prefix: "44", Trunk: "uk-1"},
		{Prefix: "44", Trunk: "uk-2"},
	}
	cases := []struct {
		name, account, callee, def, want string
	}{
		{"catch-all route", "x", "33123", "dflt", "any"},
		{"prefix", "x", "8613800000000", "dflt", "cn"},
		{"longest prefix", "x", "8675512345678", "dflt", "shenzhen"},
		{"account beats generic on equal prefix", "acme", "8613800000000", "dflt", "acme-cn"},
		{"longer generic beats shorter account route", "acme", "8675512345678", "dflt", "shenzhen"},
		{"account route order independent", "acme", "15551234567", "dflt", "acme-us"},
		{"other account uses generic", "other", "15551234567", "dflt", "us"},
		{"first of equal routes", "x", "447700900000", "dflt", "uk-1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := pickTrunk(routes, c.def, c.account, c.callee); got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
	// Without a catch-all route the default trunk applies, or nothing.
	if got := pickTrunk(routes[1:], "dflt", "x", "33123"); got != "dflt" {
		t.Errorf("default: got %q", got)
	}
	if got := pickTrunk(routes[1:], "", "x", "33123"); got != "" {
		t.Errorf("no default: got %q", got)
	}
	if got := pickTrunk(nil, "dflt", "x", "1"); got != "dflt" {
		t.Errorf("no routes: got %q", got)
	}
}

func TestRewriteNumber(t *testing.T) {
	rules := []RewriteRule{
		{Prefix: "+", Replace: ""},
		{Prefix: "00", Replace: ""},
		{Prefix: "0", Replace: "86"},
		{Prefix: "1", Replace: "861"}, // mobile numbers without country code
	}
	cases := []struct{ in, want string }{
		{"+8613800000000", "8613800000000"},
		{"008613800000000", "8613800000000"},
		{"075512345678", "8675512345678"},
		{"13800000000", "8613800000000"},
		{"8613800000000", "8613800000000"}, // no rule matches
		{"", ""},
	}
	for _, c := range cases {
		if got := rewriteNumber(rules, c.in); got != c.want {
			t.Errorf("%q: got %q, want %q", c.in, got, c.want)
		}
	}
	// An empty prefix matches everything: add a prefix to all numbers.
	if got := rewriteNumber([]RewriteRule{{Replace: "9"}}, "123"); got != "9123" {
		t.Errorf("add prefix: got %q", got)
	}
	if got := rewriteNumber(nil, "123"); got != "123" {
		t.Errorf("no rules: got %q", got)
	}
}

func TestPresentation(t *testing.T) {
	cases := []struct {
		mode, user, display, wantFrom, wantPAI string
	}{
		{PresentFrom, "trunkuser", "05712345678", "05712345678", ""},
		{PresentFrom, "trunkuser", "", "trunkuser", ""},
		{PresentPAI, "trunkuser", "05712345678", "trunkuser", "05712345678"},
		{PresentBoth, "trunkuser", "05712345678", "05712345678", "05712345678"},
	}
	for _, c := range cases {
		tr := &Trunk{Presentation: c.mode, Username: c.user}
		f, p := presentation(tr, c.display)
		if f != c.wantFrom || p != c.wantPAI {
			t.Errorf("%s: got (%q, %q), want (%q, %q)", c.mode, f, p, c.wantFrom, c.wantPAI)
		}
	}
}

func TestValidUser(t *testing.T) {
	for _, s := range []string{"13800000000", "+8613800000000", "alice", "*86"} {
		if !validUser(s) {
			t.Errorf("%q refused", s)
		}
	}
	for _, s := range []string{"", "1 2", "a@b", "1\r\nX: y", "<x>", "a;b", strings.Repeat("1", 65), "12#"} {
		if validUser(s) {
			t.Errorf("%q accepted", s)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	good := Config{Config: sipconf.Config{
		Listen:       "127.0.0.1:0",
		Trunks:       []Trunk{{Name: "a", Address: "127.0.0.1:5060"}},
		Routes:       []Route{{Prefix: "86", Trunk: "a"}},
		DefaultTrunk: "a",
	}}
	if err := good.Validate(); err != nil {
		t.Fatalf("good config: %v", err)
	}
	bad := Config{Config: sipconf.Config{
		Listen: "nope",
		Trunks: []Trunk{
			{Name: "a", Address: "127.0.0.1", Transport: "sctp", Codecs: []string{"G729"}},
			{Name: "a", Address: "h:1", Presentation: PresentPAI, MaxCalls: -1},
			{Address: "h:1", Presentation: "weird"},
		},
		Routes:       []Route{{Trunk: "zz"}},
		DefaultTrunk: "yy",
		RTPPortMin:   10, RTPPortMax: 5,
	}}
	err := bad.Validate()
	if err == nil {
		t.Fatal("bad config accepted")
	}
	for _, want := range []string{"listen", "not host:port", "sctp", "G729", "duplicate", "needs a username",
		"negative", "no name", "weird", `unknown trunk "zz"`, `default trunk "yy"`, "rtp ports"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
}
