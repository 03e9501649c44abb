package provision

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone/carrier/sip/sipconf"
)

const sipDoc = `sip:
  listen: 127.0.0.1:5070
  advertise: 127.0.0.1
  rtp_port_min: 20000
  rtp_port_max: 20100
  rtp_timeout: 20s
routes:
  - prefix: "1"
    trunk: pbx
  - account: "1234567890123456"
    prefix: "0"
    trunk: carrier
  - account: "1234567890123456"
    prefix: "0"
    trunk: pbx
trunks:
  - name: carrier
    address: sip.carrier.example:5060
    transport: tcp
    username: acme
    password: "p@ss w0rd"
    from_domain: carrier.example
    presentation: pai
    rewrite: [{prefix: "0", replace: "+86"}, {prefix: "", replace: "86"}]
    codecs: [PCMA, PCMU]
    max_calls: 30
    max_cps: 5
  - name: pbx
    address: 127.0.0.1:5080
`

func TestParseSIP(t *testing.T) {
	doc, err := Parse([]byte(sipDoc), "")
	if err != nil {
		t.Fatalf("rejected:\n%v", err)
	}
	s := doc.SIP
	if s == nil || s.Listen != "127.0.0.1:5070" || s.Advertise != "127.0.0.1" || s.RTPPortMin != 20000 || s.RTPPortMax != 20100 ||
		s.RTPTimeout != 20*time.Second || s.RTPTimeout < 0 || doc.Line("sip") != 2 {
		t.Errorf("sip = %+v", s)
	}
	if len(s.Trunks) != 2 {
		t.Fatalf("trunks = %+v", s.Trunks)
	}
	c := s.Trunks[0]
	if c.Name != "carrier" || c.Transport != "tcp" || c.Password != "p@ss w0rd" || c.Presentation != "pai" || c.MaxCalls != 30 || c.MaxCPS != 5 ||
		len(c.Rewrite) != 2 || c.Rewrite[0].Replace != "+86" || c.Rewrite[1].Prefix != "" || strings.Join(c.Codecs, ",") != "PCMA,PCMU" || doc.Line("trunks[0]") != 17 {
		t.Errorf("carrier = %+v", c)
	}
	if p := s.Trunks[1]; p.Transport != "" || p.Codecs != nil || p.MaxCalls != 0 {
		t.Errorf("pbx = %+v (defaults are the carrier's)", p)
	}
	if len(s.Routes) != 3 || s.Routes[1].Account != "1234567890123456" || s.Routes[2].Trunk != "pbx" || doc.Line("routes[0]") != 8 {
		t.Errorf("routes = %+v", s.Routes)
	}
	// Without the sections nothing changes: the simulated network stays.
	doc, err = Parse([]byte("network:\n  time_scale: 0.5\n"), "")
	if err != nil || doc.SIP != nil {
		t.Errorf("no sip sections: %+v, %v", doc, err)
	}
	doc, err = Parse([]byte("sip:\n  rtp_timeout: 0s\n"), "")
	if err != nil || doc.SIP.RTPTimeout >= 0 {
		t.Errorf("rtp_timeout 0s: %+v, %v", doc.SIP, err)
	}
}

func TestParseSIPErrors(t *testing.T) {
	const secret = "hunter2-very-secret"
	for _, tc := range []struct {
		name, in string
		want     []string
	}{
		{"listen", "sip:\n  listen: localhost\n", []string{`line 2: sip.listen: "localhost" is not host:port`}},
		{"listen port", "sip:\n  listen: 127.0.0.1:70000\n", []string{`line 2: sip.listen: "127.0.0.1:70000": port 70000 is out of range`}},
		{"advertise with port", "sip:\n  advertise: 1.2.3.4:5060\n", []string{`line 2: sip.advertise: "1.2.3.4:5060" is not a host name`}},
		{"port range", "sip:\n  rtp_port_min: 30000\n  rtp_port_max: 20000\n", []string{"line 2: sip: rtp ports 30000-20000 hold no even port"}},
		{"one port bound", "sip:\n  rtp_port_min: 30000\n", []string{"line 2: sip: set both rtp_port_min and rtp_port_max"}},
		{"low port", "sip:\n  rtp_port_min: 80\n  rtp_port_max: 90\n", []string{"line 2: sip.rtp_port_min: 80 is not a port from 1024"}},
		{"timeout", "sip:\n  rtp_timeout: 30\n", []string{`line 2: sip.rtp_timeout: "30" is not a duration`}},
		{"unknown sip key", "sip:\n  lisen: 1.2.3.4:5060\n", []string{`line 2: sip: unknown key "lisen" (did you mean "listen"?)`}},
		{"trunk required", "trunks:\n  - transport: udp\n", []string{`line 2: trunks[0]: missing required key "name"`, `line 2: trunks[0]: missing required key "address"`}},
		{"trunk address", "trunks:\n  - name: t\n    address: carrier.example\n", []string{`line 3: trunks[0].address: "carrier.example" is not host:port`}},
		{"trunk address no host", "trunks:\n  - name: t\n    address: \":5060\"\n", []string{`line 3: trunks[0].address: ":5060" has no host`}},
		{"trunk port 0", "trunks:\n  - name: t\n    address: 1.2.3.4:0\n", []string{`line 3: trunks[0].address: "1.2.3.4:0": port 0 is out of range`}},
		{"transport", "trunks:\n  - name: t\n    address: 1.2.3.4:5060\n    transport: sctp\n", []string{`line 4: trunks[0].transport: "sctp" is not one of udp, tcp, tls`}},
		{"tls without our certificate", "trunks:\n  - name: t\n    address: 1.2.3.4:5061\n    transport: tls\n",
			[]string{"line 2: trunks[0]: transport tls needs sip.tls_cert and sip.tls_key"}},
		{"tls cert without key", "sip:\n  tls_cert: /etc/c.pem\n", []string{"line 2: sip: set both tls_cert and tls_key"}},
		{"tls key path", "sip:\n  tls_cert: /etc/c.pem\n  tls_key: \"a\\nb\"\n", []string{`line 3: sip.tls_key: "a\nb" is not a file path`}},
		{"tls listen", "sip:\n  tls_listen: localhost\n", []string{`line 2: sip.tls_listen: "localhost" is not host:port`}},
		{"tls on udp", "trunks:\n  - name: t\n    address: 1.2.3.4:5060\n    tls_ca: /etc/ca.pem\n", []string{"line 2: trunks[0]: tls_ca and tls_server_name need transport tls"}},
		{"tls server name", "trunks:\n  - name: t\n    address: 1.2.3.4:5061\n    transport: tls\n    tls_server_name: \"a b\"\n", []string{`line 5: trunks[0].tls_server_name: "a b" is not a host name`}},
		{"codec", "trunks:\n  - name: t\n    address: 1.2.3.4:5060\n    codecs: [PCMU, G729]\n", []string{`line 4: trunks[0].codecs[1]: "G729" is not one of PCMU, PCMA`}},
		{"codec dup", "trunks:\n  - name: t\n    address: 1.2.3.4:5060\n    codecs: [PCMU, PCMU]\n", []string{`trunks[0].codecs[1]: duplicate codec PCMU`}},
		{"codecs empty", "trunks:\n  - name: t\n    address: 1.2.3.4:5060\n    codecs: []\n", []string{`trunks[0].codecs: must list PCMU, PCMA or both`}},
		{"caps", "trunks:\n  - name: t\n    address: 1.2.3.4:5060\n    max_calls: 0\n    max_cps: 0.5\n",
			[]string{"line 4: trunks[0].max_calls: must be at least 1", "line 5: trunks[0].max_cps: must be at least 1"}},
		{"presentation", "trunks:\n  - name: t\n    address: 1.2.3.4:5060\n    presentation: pai\n", []string{"line 2: trunks[0]: presentation pai puts the username in From: set username"}},
		{"presentation value", "trunks:\n  - name: t\n    address: 1.2.3.4:5060\n    presentation: rpid\n", []string{`trunks[0].presentation: "rpid" is not one of from, pai, both`}},
		{"rewrite", "trunks:\n  - name: t\n    address: 1.2.3.4:5060\n    rewrite: [{prefix: \"+0\", replace: \"86x\"}, {}]\n",
			[]string{`line 4: trunks[0].rewrite[0].prefix: "+0" must be up to 20 digits`, `line 4: trunks[0].rewrite[0].replace: "86x" must be up to 20 digits with an optional leading +`, "trunks[0].rewrite[1]: a rewrite rule needs prefix, replace or both"}},
		{"duplicate trunk", "trunks:\n  - {name: t, address: \"1.2.3.4:5060\"}\n  - {name: t, address: \"1.2.3.4:5061\"}\n", []string{`line 3: trunks[1].name: duplicate trunk "t" (first at line 2)`}},
		{"route trunk", "routes:\n  - prefix: \"86\"\n    trunk: nope\ntrunks:\n  - {name: t, address: \"1.2.3.4:5060\"}\n", []string{`line 2: routes[0].trunk: no trunk named "nope"`}},
		{"route prefix", "routes:\n  - {prefix: \"+86\", trunk: t}\ntrunks:\n  - {name: t, address: \"1.2.3.4:5060\"}\n", []string{`line 2: routes[0].prefix: "+86" must be up to 20 digits`}},
		{"route account", "routes:\n  - {account: demo, trunk: t}\ntrunks:\n  - {name: t, address: \"1.2.3.4:5060\"}\n", []string{`line 2: routes[0].account: "demo" is not an account uid`}},
		{"route no trunk", "routes:\n  - {prefix: \"1\"}\n", []string{`line 2: routes[0]: missing required key "trunk"`}},
		{"route dup", "routes:\n  - {prefix: \"1\", trunk: t}\n  - {prefix: \"1\", trunk: t}\ntrunks:\n  - {name: t, address: \"1.2.3.4:5060\"}\n", []string{`line 3: routes[1]: duplicate route`}},
		{"password control", "trunks:\n  - name: t\n    address: 1.2.3.4:5060\n    username: u\n    password: \"" + secret + "\\n\"\n", []string{"line 5: trunks[0].password: must be 1 to 256 characters without control characters"}},
		{"password without user", "trunks:\n  - name: t\n    address: 1.2.3.4:5060\n    password: " + secret + "\n", []string{"line 2: trunks[0]: password needs username"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.in), "")
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want *Error", err)
			}
			msg := err.Error()
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("missing %q in:\n%s", w, msg)
				}
			}
			if strings.Contains(msg, "hunter2") {
				t.Errorf("the password leaked into the error:\n%s", msg)
			}
		})
	}
}

func TestParseSIPASR(t *testing.T) {
	doc, err := Parse([]byte(`sip:
  asr:
    engine: http
    url: https://asr.example/recognize
    timeout: 5s
    accounts:
      - {account: "1000001", model: yesno}
    models:
      - name: yesno
        words: ["yes", "no", "speak to an operator"]
      - name: spot
        keywords: ["operator /1e-20/", "agent"]
`), "")
	if err != nil {
		t.Fatalf("rejected:\n%v", err)
	}
	a := doc.SIP.ASR
	if a == nil || a.Engine != sipconf.ASRHTTP || a.URL != "https://asr.example/recognize" || a.Timeout != 5*time.Second || doc.Line("sip.asr") != 3 {
		t.Fatalf("asr = %+v", a)
	}
	if len(a.Models) != 2 || a.Models[0].Name != "yesno" || len(a.Models[0].Words) != 3 || a.Models[1].Keywords[0] != "operator /1e-20/" || doc.Line("sip.asr.models[1]") != 11 {
		t.Errorf("models = %+v", a.Models)
	}
	if len(a.Accounts) != 1 || a.Accounts[0].Account != "1000001" || a.Accounts[0].Model != "yesno" {
		t.Errorf("accounts = %+v", a.Accounts)
	}

	for _, tc := range []struct{ name, in, want string }{
		{"engine", "sip:\n  asr:\n    engine: kaldi\n", `line 3: sip.asr.engine: "kaldi" is not one of pocketsphinx, http, none`},
		{"http without url", "sip:\n  asr:\n    engine: http\n", "line 3: sip.asr: engine http needs url"},
		{"url scheme", "sip:\n  asr:\n    engine: http\n    url: ftp://x/\n", `line 4: sip.asr.url: "ftp://x/" is not an http or https URL`},
		{"url for pocketsphinx", "sip:\n  asr:\n    url: http://x/\n", "line 3: sip.asr: url is for engine http"},
		{"grammar syntax", "sip:\n  asr:\n    models:\n      - {name: m, words: [\"yes | <no>\"]}\n", `line 4: sip.asr.models[0].words[0]: "yes | <no>" is not a plain word or phrase`},
		{"words and keywords", "sip:\n  asr:\n    models:\n      - {name: m, words: [yes], keywords: [no]}\n", "line 4: sip.asr.models[0]: set words or keywords"},
		{"duplicate model", "sip:\n  asr:\n    models:\n      - {name: m, words: [yes]}\n      - {name: m, words: [no]}\n", `line 5: sip.asr.models[1].name: duplicate asr model "m" (first at line 4)`},
		{"unknown model", "sip:\n  asr:\n    accounts:\n      - {account: \"1\", model: nope}\n", `line 4: sip.asr.accounts[0].model: no asr model named "nope"`},
		{"unknown key", "sip:\n  asr:\n    modles: []\n", `line 3: sip.asr: unknown key "modles"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.in), "")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestParseSIPTrunkTLS(t *testing.T) {
	doc, err := Parse([]byte("sip:\n  tls_listen: 0.0.0.0:5061\n  tls_cert: /etc/dialtone/sip.crt\n  tls_key: /etc/dialtone/sip.key\n"+
		"trunks:\n  - name: t\n    address: sip.example:5061\n    transport: tls\n    tls_ca: /etc/dialtone/ca.pem\n    tls_server_name: sbc.example\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	if tr := doc.SIP.Trunks[0]; tr.TLSCA != "/etc/dialtone/ca.pem" || tr.TLSServerName != "sbc.example" || tr.Transport != "tls" {
		t.Errorf("trunk %+v", tr)
	}
	if s := doc.SIP; s.TLSListen != "0.0.0.0:5061" || s.TLSCert != "/etc/dialtone/sip.crt" || s.TLSKey != "/etc/dialtone/sip.key" {
		t.Errorf("sip %+v", s)
	}
}
