package sipconf

import (
	"strings"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone/internal/fielderr"
)

func TestDefaults(t *testing.T) {
	c := Config{Trunks: []Trunk{{Name: "t", Address: "sbc.example:5080"}, {Name: "u", Address: "10.0.0.1:5060", Transport: TransportTCP, FromDomain: "x.example"}}}
	d := c.Defaults()
	if d.Listen != DefaultListen || d.RTPTimeout != DefaultRTPTimeout || d.UserAgent != DefaultUserAgent || d.MaxRecording != DefaultMaxRecording ||
		d.DownAfter != DefaultDownAfter || d.CoolOff != DefaultCoolOff || d.InviteTimeout != DefaultInviteTimeout {
		t.Errorf("defaults = %+v", d)
	}
	if tr := d.Trunks[0]; tr.Transport != TransportUDP || tr.Presentation != PresentFrom || strings.Join(tr.Codecs, ",") != "PCMU,PCMA" || tr.FromDomain != "sbc.example" {
		t.Errorf("trunk defaults = %+v", tr)
	}
	if tr := d.Trunks[1]; tr.Transport != TransportTCP || tr.FromDomain != "x.example" {
		t.Errorf("set values changed: %+v", tr)
	}
	if c.Trunks[0].Transport != "" || c.Listen != "" {
		t.Error("Defaults changed its receiver's trunks")
	}
	if d := (Config{RTPTimeout: RTPTimeoutDisabled}).Defaults(); d.RTPTimeout >= 0 {
		t.Errorf("a disabled RTP timeout became %v", d.RTPTimeout)
	}
}

// TestValidate: every problem at once, each named by its provisioning
// key; the password never shown.
func TestValidate(t *testing.T) {
	if err := (Config{}).Validate(); err != nil {
		t.Errorf("the empty configuration: %v", err)
	}
	good := Config{Listen: "0.0.0.0:0", TLSCert: "c.pem", TLSKey: "k.pem", RTPPortMin: 20000, RTPPortMax: 20001, RTPTimeout: RTPTimeoutDisabled,
		ASR: &ASR{Engine: ASRHTTP, URL: "https://asr.example/", Timeout: time.Second,
			Models: []ASRModel{{Name: "yn", Words: []string{"yes", "no"}}}, Accounts: []ASRAccount{{Account: "1", Model: "yn"}}},
		Trunks: []Trunk{{Name: "t", Address: "sbc.example:5061", Transport: TransportTLS, Username: "u", Password: "p w", Presentation: PresentPAI,
			Rewrite: []RewriteRule{{Prefix: "0", Replace: "+86"}}, Codecs: []string{CodecPCMA}, MaxCalls: 1, MaxCPS: 1, TLSServerName: "sbc.example"}},
		Routes: []Route{{Account: "1", Prefix: "86", Trunk: "t"}, {Trunk: "t"}}, DefaultTrunk: "t"}
	if err := good.Validate(); err != nil {
		t.Fatalf("good configuration: %v", err)
	}

	const secret = "hunter2\x01"
	bad := Config{Listen: "nope", Advertise: "a:1", RTPPortMin: 80, RTPPortMax: 90, TLSCert: "c.pem",
		ASR: &ASR{Engine: "kaldi", URL: "ftp://x/", Timeout: 2 * time.Minute,
			Models:   []ASRModel{{Name: "m", Words: []string{"a | b"}}, {Name: "m"}},
			Accounts: []ASRAccount{{Account: "x", Model: "nope"}}},
		Trunks: []Trunk{
			{Name: "t", Address: "h", Transport: "TCP", Password: secret, Codecs: []string{}, MaxCalls: -1, MaxCPS: 0.5},
			{Name: "t", Address: "h:0", Transport: TransportTLS, Codecs: []string{"pcmu", CodecPCMU, CodecPCMU}, Rewrite: []RewriteRule{{Prefix: "+", Replace: "x"}}},
		},
		Routes:       []Route{{Account: "a", Prefix: "x", Trunk: "zz"}, {Trunk: "t"}, {Trunk: "t"}},
		DefaultTrunk: "yy"}
	err := bad.Validate()
	if err == nil {
		t.Fatal("bad configuration accepted")
	}
	got := map[string]string{}
	for _, e := range fielderr.All(err) {
		got[e.Field] += e.Message + "|"
	}
	for path, want := range map[string]string{
		"sip.listen":                  `"nope" is not host:port`,
		"sip.advertise":               "not a host name or IP address",
		"sip.rtp_port_min":            "80 is not a port from 1024 to 65535",
		"sip":                         "set both tls_cert and tls_key",
		"sip.asr.engine":              `"kaldi" is not one of`,
		"sip.asr.url":                 "not an http or https URL",
		"sip.asr.timeout":             "at most 1m",
		"sip.asr":                     "url is for engine http",
		"sip.asr.models[0].words[0]":  "not a plain word",
		"sip.asr.models[1].name":      `duplicate asr model "m"`,
		"sip.asr.models[1]":           "set words or keywords",
		"sip.asr.accounts[0].account": "not an account uid",
		"sip.asr.accounts[0].model":   `no asr model named "nope"`,
		"trunks[0].address":           `"h" is not host:port`,
		"trunks[0].transport":         `"TCP" is not one of udp, tcp, tls`,
		"trunks[0].password":          "without control characters",
		"trunks[0]":                   "password needs username",
		"trunks[0].codecs":            "must list PCMU, PCMA or both",
		"trunks[0].max_calls":         "negative",
		"trunks[0].max_cps":           "must be at least 1",
		"trunks[1].name":              `duplicate trunk "t"`,
		"trunks[1].address":           "port 0 is out of range",
		"trunks[1].codecs[0]":         `"pcmu" is not one of PCMU, PCMA`,
		"trunks[1].codecs[2]":         "duplicate codec PCMU",
		"trunks[1].rewrite[0].prefix": "up to 20 digits",
		"trunks[1]":                   "transport tls needs sip.tls_cert and sip.tls_key",
		"routes[0].account":           "not an account uid",
		"routes[0].prefix":            "up to 20 digits",
		"routes[0].trunk":             `no trunk named "zz"`,
		"routes[2]":                   "duplicate route",
		"default_trunk":               `default trunk "yy" is unknown`,
	} {
		if !strings.Contains(got[path], want) {
			t.Errorf("%s: %q, want %q", path, got[path], want)
		}
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("the password leaked:\n%v", err)
	}
	for _, e := range fielderr.All(err) {
		if e.Field == "trunks[1].name" && e.First != "trunks[0].name" {
			t.Errorf("duplicate trunk: first at %q", e.First)
		}
		if e.Field == "routes[0].trunk" && e.At != "routes[0]" {
			t.Errorf("unknown trunk shown at %q", e.At)
		}
	}
}

func TestAccountModels(t *testing.T) {
	var a *ASR
	if a.AccountModels() != nil || a.Validate() != nil {
		t.Error("a nil ASR has account models or problems")
	}
	a = &ASR{Accounts: []ASRAccount{{Account: "1", Model: "m"}, {Account: "2", Model: "n"}}}
	if m := a.AccountModels(); len(m) != 2 || m["1"] != "m" || m["2"] != "n" {
		t.Errorf("AccountModels = %v", m)
	}
}
