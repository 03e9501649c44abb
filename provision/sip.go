package provision

import (
	"gopkg.in/yaml.v3"

	"github.com/dialtone-voice/dialtone/carrier/sip/sipconf"
)

// The sip, trunks and routes sections decode into one sipconf.Config (the
// SIP carrier's configuration, which imports no SIP stack); its Validate
// checks the values (owned.go).

// sipConfig returns the document's SIP configuration, created when the
// first of its sections is read.
func sipConfig(doc *Document) *sipconf.Config {
	if doc.SIP == nil {
		doc.SIP = &sipconf.Config{}
	}
	return doc.SIP
}

func (p *parser) sip(n *yaml.Node, path string, c *sipconf.Config) {
	d := p.d
	const notPort = "0 is not a port from 1024 to 65535 (leave both out for any port)"
	d.fields(n, path, handlers{
		"listen":       p.nonEmpty(&c.Listen),
		"advertise":    p.nonEmpty(&c.Advertise),
		"tls_listen":   p.nonEmpty(&c.TLSListen),
		"tls_cert":     p.nonEmpty(&c.TLSCert),
		"tls_key":      p.nonEmpty(&c.TLSKey),
		"rtp_port_min": p.count(&c.RTPPortMin, notPort),
		"rtp_port_max": p.count(&c.RTPPortMax, notPort),
		"rtp_timeout": func(v *yaml.Node, path string) {
			if t, ok := d.duration(v, path); ok {
				if t == 0 {
					t = sipconf.RTPTimeoutDisabled // written 0s: never
				}
				c.RTPTimeout = t
			}
		},
		"asr": func(v *yaml.Node, path string) {
			c.ASR = &sipconf.ASR{}
			p.asr(v, path, c.ASR)
		},
	})
}

func (p *parser) asr(n *yaml.Node, path string, a *sipconf.ASR) {
	d := p.d
	d.fields(n, path, handlers{
		"engine": p.nonEmpty(&a.Engine),
		"url":    p.nonEmpty(&a.URL),
		"timeout": func(v *yaml.Node, path string) {
			if t, ok := d.duration(v, path); ok {
				if t == 0 {
					d.fail(v, path, "must be more than 0s and at most 1m")
					return
				}
				a.Timeout = t
			}
		},
		"models": func(v *yaml.Node, path string) {
			d.list(v, path, func(_ int, item *yaml.Node, path string) {
				var m sipconf.ASRModel
				set := d.fields(item, path, handlers{
					"name":     p.nonEmpty(&m.Name),
					"words":    p.texts(&m.Words),
					"keywords": p.texts(&m.Keywords),
				})
				d.require(item, path, set, "name")
				a.Models = append(a.Models, m)
			})
		},
		"accounts": func(v *yaml.Node, path string) {
			d.list(v, path, func(_ int, item *yaml.Node, path string) {
				var ac sipconf.ASRAccount
				set := d.fields(item, path, handlers{
					"account": p.nonEmpty(&ac.Account),
					"model":   p.nonEmpty(&ac.Model),
				})
				d.require(item, path, set, "account", "model")
				a.Accounts = append(a.Accounts, ac)
			})
		},
	})
}

func (p *parser) trunks(n *yaml.Node, path string, c *sipconf.Config) {
	c.Trunks = []sipconf.Trunk{}
	p.d.list(n, path, func(_ int, item *yaml.Node, path string) {
		c.Trunks = append(c.Trunks, p.trunk(item, path))
	})
}

func (p *parser) trunk(n *yaml.Node, path string) sipconf.Trunk {
	d := p.d
	var t sipconf.Trunk
	const noCap = "must be at least 1 (leave it out for no cap)"
	set := d.fields(n, path, handlers{
		"name":         p.nonEmpty(&t.Name),
		"address":      p.nonEmpty(&t.Address),
		"transport":    p.nonEmpty(&t.Transport),
		"username":     p.nonEmpty(&t.Username),
		"password":     p.nonEmpty(&t.Password), // the message never shows the value
		"from_domain":  p.nonEmpty(&t.FromDomain),
		"presentation": p.nonEmpty(&t.Presentation),
		"rewrite": func(v *yaml.Node, path string) {
			t.Rewrite = []sipconf.RewriteRule{}
			d.list(v, path, func(_ int, item *yaml.Node, path string) {
				var r sipconf.RewriteRule
				rset := d.fields(item, path, handlers{
					"prefix":  p.anyText(&r.Prefix),
					"replace": p.anyText(&r.Replace),
				})
				// Both keys may be written empty (""), but one of them is
				// written, so a rule is never a typo.
				if rset != nil && !rset["prefix"] && !rset["replace"] {
					d.addf(item, path, "a rewrite rule needs prefix, replace or both")
				}
				t.Rewrite = append(t.Rewrite, r)
			})
		},
		"codecs":          p.texts(&t.Codecs),
		"tls_ca":          p.nonEmpty(&t.TLSCA),
		"tls_server_name": p.nonEmpty(&t.TLSServerName),
		"max_calls":       p.count(&t.MaxCalls, noCap),
		"max_cps":         p.amount(&t.MaxCPS, noCap),
	})
	d.require(n, path, set, "name", "address")
	return t
}

func (p *parser) routes(n *yaml.Node, path string, c *sipconf.Config) {
	d := p.d
	c.Routes = []sipconf.Route{}
	d.list(n, path, func(_ int, item *yaml.Node, path string) {
		var r sipconf.Route
		set := d.fields(item, path, handlers{
			"account": p.nonEmpty(&r.Account),
			"prefix":  p.anyText(&r.Prefix),
			"trunk":   p.nonEmpty(&r.Trunk),
		})
		d.require(item, path, set, "trunk")
		c.Routes = append(c.Routes, r)
	})
}
