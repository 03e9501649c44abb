package provision

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/dialtone-voice/dialtone"
)

// The sip, trunks and routes sections. Their shape follows the SIP
// carrier's configuration (carrier/sip.Config), which the server builds
// from them; this package does not import the carrier so that reading a
// provisioning file does not pull in a SIP stack.

var (
	trunkName   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	digitPrefix = regexp.MustCompile(`^[0-9]{0,20}$`)
	// A rewrite may add a leading + (E.164) and digits.
	rewriteTo = regexp.MustCompile(`^\+?[0-9]{0,20}$`)
	// dnsName is a host name; IP literals are checked by net.ParseIP.
	dnsName = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$`)
	// sipUser is what may stand in the user part of a From URI unescaped.
	sipUser = regexp.MustCompile(`^[A-Za-z0-9+._*-]{1,64}$`)
	// asrPhrase is a word or phrase a recogniser's grammar or keyword list
	// can hold without its syntax changing: letters, ' and -, single
	// spaces.
	asrPhrase = regexp.MustCompile(`^[\p{L}'-]+( [\p{L}'-]+)*$`)
	// asrKeyword is a phrase with an optional PocketSphinx threshold.
	asrKeyword = regexp.MustCompile(`^[\p{L}'-]+( [\p{L}'-]+)*( /[0-9.eE+-]+/)?$`)
)

func (p *parser) asr(n *yaml.Node, path string) *ASR {
	d := p.d
	a := &ASR{Line: n.Line}
	phrases := func(dst *[]string, re *regexp.Regexp) func(*yaml.Node, string) {
		return func(v *yaml.Node, path string) {
			d.list(v, path, func(_ int, item *yaml.Node, path string) {
				w, ok := d.str(item, path)
				if !ok {
					return
				}
				if len(w) > 200 || !re.MatchString(w) {
					d.addf(item, path, "%s is not a plain word or phrase (letters, ' and -, single spaces)", quote(w))
					return
				}
				*dst = append(*dst, w)
			})
		}
	}
	models := map[string]int{}
	set := d.fields(n, path, handlers{
		"engine": func(v *yaml.Node, path string) {
			a.Engine, _ = oneOf(d, v, path, ASRPocketSphinx, ASRHTTP, ASRNone)
		},
		"url": func(v *yaml.Node, path string) {
			s, ok := d.str(v, path)
			if !ok {
				return
			}
			u, err := url.Parse(s)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
				d.addf(v, path, "%s is not an http or https URL without credentials", quote(s))
				return
			}
			a.URL = s
		},
		"timeout": func(v *yaml.Node, path string) {
			if t, ok := d.duration(v, path); ok {
				if t <= 0 || t > time.Minute {
					d.addf(v, path, "must be more than 0s and at most 1m")
					return
				}
				a.Timeout = t
			}
		},
		"models": func(v *yaml.Node, path string) {
			d.list(v, path, func(_ int, item *yaml.Node, path string) {
				m := ASRModel{Line: item.Line}
				mset := d.fields(item, path, handlers{
					"name": func(v *yaml.Node, path string) {
						if s, ok := d.str(v, path); ok {
							if !trunkName.MatchString(s) {
								d.addf(v, path, "%s must be 1 to 64 letters, digits, '.', '_' or '-'", quote(s))
								return
							}
							p.unique(models, s, v, path, "asr model")
							m.Name = s
						}
					},
					"words":    phrases(&m.Words, asrPhrase),
					"keywords": phrases(&m.Keywords, asrKeyword),
				})
				d.require(item, path, mset, "name")
				if mset != nil && mset["words"] == mset["keywords"] {
					d.addf(item, path, "set words or keywords (one of them)")
				}
				a.Models = append(a.Models, m)
			})
		},
		"accounts": func(v *yaml.Node, path string) {
			seen := map[string]int{}
			d.list(v, path, func(_ int, item *yaml.Node, path string) {
				ac := ASRAccount{Line: item.Line}
				aset := d.fields(item, path, handlers{
					"account": func(v *yaml.Node, path string) {
						if s, ok := d.str(v, path); ok {
							if !dialtone.ValidUID(s) {
								d.addf(v, path, "%s is not an account uid (1 to 32 digits)", quote(s))
								return
							}
							p.unique(seen, s, v, path, "asr account")
							ac.Account = s
						}
					},
					"model": func(v *yaml.Node, path string) { ac.Model, _ = d.str(v, path) },
				})
				d.require(item, path, aset, "account", "model")
				a.Accounts = append(a.Accounts, ac)
			})
		},
	})
	if set == nil {
		return a
	}
	if a.Engine == ASRHTTP && a.URL == "" {
		d.addf(n, path, "engine http needs url")
	}
	if a.URL != "" && a.Engine != ASRHTTP {
		d.addf(n, path, "url is for engine http")
	}
	if set["timeout"] && a.Engine != ASRHTTP {
		d.addf(n, path, "timeout is for engine http")
	}
	// Accounts may name models listed after them: checked once all are read.
	for i, ac := range a.Accounts {
		if _, ok := models[ac.Model]; ac.Model != "" && !ok {
			d.addf(&yaml.Node{Line: ac.Line}, index(join(path, "accounts"), i)+".model", "no asr model named %s", quote(ac.Model))
		}
	}
	return a
}

func (p *parser) sip(n *yaml.Node, path string) *SIP {
	d := p.d
	s := &SIP{Line: n.Line}
	port := func(dst *int) func(*yaml.Node, string) {
		return func(v *yaml.Node, path string) {
			if i, ok := d.integer(v, path); ok {
				if i < 1024 || i > 65535 {
					d.addf(v, path, "%d is not a port from 1024 to 65535", i)
					return
				}
				*dst = i
			}
		}
	}
	set := d.fields(n, path, handlers{
		"listen": func(v *yaml.Node, path string) {
			if a, ok := p.hostPort(v, path, true); ok {
				s.Listen = a
			}
		},
		"advertise": func(v *yaml.Node, path string) {
			if h, ok := d.str(v, path); ok {
				if !validHost(h) {
					d.addf(v, path, "%s is not a host name or IP address (no port)", quote(h))
					return
				}
				s.Advertise = h
			}
		},
		"tls_listen": func(v *yaml.Node, path string) {
			if a, ok := p.hostPort(v, path, true); ok {
				s.TLSListen = a
			}
		},
		"tls_cert":     p.checked(&s.TLSCert, filePath, "is not a file path"),
		"tls_key":      p.checked(&s.TLSKey, filePath, "is not a file path"),
		"rtp_port_min": port(&s.RTPPortMin),
		"rtp_port_max": port(&s.RTPPortMax),
		"rtp_timeout": func(v *yaml.Node, path string) {
			if t, ok := d.duration(v, path); ok {
				s.RTPTimeout, s.RTPTimeoutOff = t, t == 0
			}
		},
		"asr": func(v *yaml.Node, path string) { s.ASR = p.asr(v, path) },
	})
	if set == nil {
		return s
	}
	if set["tls_cert"] != set["tls_key"] {
		d.addf(n, path, "set both tls_cert and tls_key, or neither")
	}
	if set["rtp_port_min"] != set["rtp_port_max"] {
		d.addf(n, path, "set both rtp_port_min and rtp_port_max, or neither")
	} else if s.RTPPortMin > 0 && s.RTPPortMax > 0 {
		// RTP takes even ports (RFC 3550 §11): the range needs one.
		if s.RTPPortMin > s.RTPPortMax || (s.RTPPortMin == s.RTPPortMax && s.RTPPortMin%2 == 1) {
			d.addf(n, path, "rtp ports %d-%d hold no even port", s.RTPPortMin, s.RTPPortMax)
		}
	}
	return s
}

// hostPort checks host:port; wildcard allows an empty host or 0 port (a
// listen address).
func (p *parser) hostPort(v *yaml.Node, path string, wildcard bool) (string, bool) {
	s, ok := p.d.str(v, path)
	if !ok {
		return "", false
	}
	host, portS, err := net.SplitHostPort(s)
	port, perr := strconv.Atoi(portS)
	switch {
	case err != nil || perr != nil:
		p.d.addf(v, path, "%s is not host:port", quote(s))
	case port < 0 || port > 65535 || (port == 0 && !wildcard):
		p.d.addf(v, path, "%s: port %d is out of range", quote(s), port)
	case host == "" && !wildcard:
		p.d.addf(v, path, "%s has no host", quote(s))
	case host != "" && !validHost(host):
		p.d.addf(v, path, "%s: %s is not a host name or IP address", quote(s), quote(host))
	default:
		return s, true
	}
	return "", false
}

func (p *parser) trunks(n *yaml.Node, path string) []Trunk {
	out := []Trunk{}
	names := map[string]int{}
	p.d.list(n, path, func(_ int, item *yaml.Node, path string) {
		out = append(out, p.trunk(item, path, names))
	})
	return out
}

func (p *parser) trunk(n *yaml.Node, path string, names map[string]int) Trunk {
	d := p.d
	t := Trunk{Line: n.Line}
	set := d.fields(n, path, handlers{
		"name": func(v *yaml.Node, path string) {
			if s, ok := d.str(v, path); ok {
				if !trunkName.MatchString(s) {
					d.addf(v, path, "%s must be 1 to 64 letters, digits, '.', '_' or '-'", quote(s))
					return
				}
				p.unique(names, s, v, path, "trunk")
				t.Name = s
			}
		},
		"address": func(v *yaml.Node, path string) { t.Address, _ = p.hostPort(v, path, false) },
		"transport": func(v *yaml.Node, path string) {
			tr, _ := oneOf(d, v, path, "udp", "tcp", "tls")
			t.Transport = tr
		},
		"username": func(v *yaml.Node, path string) {
			if s, ok := d.str(v, path); ok {
				if !sipUser.MatchString(s) {
					d.addf(v, path, "%s must be 1 to 64 letters, digits or + . _ * -", quote(s))
					return
				}
				t.Username = s
			}
		},
		"password": func(v *yaml.Node, path string) {
			// Never quote the value: messages reach logs and HTTP responses.
			s, ok := d.str(v, path)
			if !ok {
				return
			}
			if s == "" || len(s) > 256 || strings.IndexFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0 {
				d.addf(v, path, "must be 1 to 256 characters without control characters")
				return
			}
			t.Password = s
		},
		"from_domain": func(v *yaml.Node, path string) {
			if s, ok := d.str(v, path); ok {
				if !validHost(s) {
					d.addf(v, path, "%s is not a host name", quote(s))
					return
				}
				t.FromDomain = s
			}
		},
		"presentation": func(v *yaml.Node, path string) {
			pr, _ := oneOf(d, v, path, "from", "pai", "both")
			t.Presentation = pr
		},
		"rewrite": func(v *yaml.Node, path string) {
			t.Rewrite = []Rewrite{}
			d.list(v, path, func(_ int, item *yaml.Node, path string) {
				t.Rewrite = append(t.Rewrite, p.rewrite(item, path))
			})
		},
		"codecs": func(v *yaml.Node, path string) {
			seen := map[string]bool{}
			ok := d.list(v, path, func(_ int, item *yaml.Node, path string) {
				c, ok := oneOf(d, item, path, "PCMU", "PCMA")
				if !ok {
					return
				}
				if seen[c] {
					d.addf(item, path, "duplicate codec %s", c)
					return
				}
				seen[c] = true
				t.Codecs = append(t.Codecs, c)
			})
			if ok && len(v.Content) == 0 {
				d.addf(v, path, "must list PCMU, PCMA or both (leave it out for both)")
			}
		},
		"tls_ca":          p.checked(&t.TLSCA, filePath, "is not a file path"),
		"tls_server_name": p.checked(&t.TLSServerName, validHost, "is not a host name or IP address"),
		"max_calls": func(v *yaml.Node, path string) {
			if i, ok := d.integer(v, path); ok {
				if i < 1 {
					d.addf(v, path, "must be at least 1 (leave it out for no cap)")
					return
				}
				t.MaxCalls = i
			}
		},
		"max_cps": func(v *yaml.Node, path string) {
			if f, ok := d.number(v, path); ok {
				if f < 1 {
					d.addf(v, path, "must be at least 1 (leave it out for no cap)")
					return
				}
				t.MaxCPS = f
			}
		},
	})
	d.require(n, path, set, "name", "address")
	if set != nil {
		if t.Presentation == "pai" && t.Username == "" {
			d.addf(n, path, "presentation pai puts the username in From: set username")
		}
		if (set["tls_ca"] || set["tls_server_name"]) && t.Transport != "tls" {
			d.addf(n, path, "tls_ca and tls_server_name need transport tls")
		}
		if set["password"] && !set["username"] {
			d.addf(n, path, "password needs username")
		}
	}
	return t
}

func (p *parser) rewrite(n *yaml.Node, path string) Rewrite {
	d := p.d
	r := Rewrite{Line: n.Line}
	set := d.fields(n, path, handlers{
		"prefix":  p.checked(&r.Prefix, digitPrefix.MatchString, "must be up to 20 digits"),
		"replace": p.checked(&r.Replace, rewriteTo.MatchString, "must be up to 20 digits with an optional leading +"),
	})
	// Both keys written, even when empty (""), so a rule is never a typo.
	if set != nil && !set["prefix"] && !set["replace"] {
		d.addf(n, path, "a rewrite rule needs prefix, replace or both")
	}
	return r
}

func (p *parser) routes(n *yaml.Node, path string) []Route {
	d := p.d
	out := []Route{}
	seen := map[string]int{}
	d.list(n, path, func(_ int, item *yaml.Node, path string) {
		r := Route{Line: item.Line}
		set := d.fields(item, path, handlers{
			"account": p.checked(&r.Account, dialtone.ValidUID, "is not an account uid (1 to 32 digits)"),
			"prefix":  p.checked(&r.Prefix, digitPrefix.MatchString, "must be up to 20 digits"),
			"trunk":   func(v *yaml.Node, path string) { r.Trunk, _ = d.str(v, path) },
		})
		d.require(item, path, set, "trunk")
		if set != nil && r.Trunk != "" {
			// The same account and prefix may list several trunks: the
			// later ones are the failover order. The same triple twice is
			// a mistake.
			p.unique(seen, r.Account+"\x00"+r.Prefix+"\x00"+r.Trunk, item, path,
				fmt.Sprintf("route (account %s, prefix %s, trunk %s)", quote(r.Account), quote(r.Prefix), quote(r.Trunk)))
		}
		out = append(out, r)
	})
	return out
}

// checkRoutes runs after the whole document is read: trunks may come after
// the routes naming them.
func (p *parser) checkRoutes(doc *Document) {
	names := map[string]bool{}
	for _, t := range doc.Trunks {
		names[t.Name] = true
	}
	for i, r := range doc.Routes {
		if r.Trunk != "" && !names[r.Trunk] {
			p.d.addf(&yaml.Node{Line: r.Line}, index("routes", i)+".trunk", "no trunk named %s", quote(r.Trunk))
		}
	}
	// A TLS trunk's far end sends its BYE to us over TLS: we need a
	// certificate to receive it.
	for i, t := range doc.Trunks {
		if t.Transport == "tls" && (doc.SIP == nil || doc.SIP.TLSCert == "") {
			p.d.addf(&yaml.Node{Line: t.Line}, index("trunks", i), "transport tls needs sip.tls_cert and sip.tls_key (the trunk sends its BYE to us over TLS)")
		}
	}
}

// filePath accepts a file name fit for a provisioning file.
func filePath(s string) bool {
	return s != "" && len(s) <= 4096 && !strings.ContainsAny(s, "\x00\r\n")
}

// validHost reports whether h is a DNS name or an IP address (IPv6 without
// brackets); it is written into SIP headers, so nothing else may pass.
func validHost(h string) bool {
	return net.ParseIP(h) != nil || dnsName.MatchString(h)
}

// checked returns a handler that stores a string value valid by ok in dst,
// or reports the quoted value followed by msg.
func (p *parser) checked(dst *string, ok func(string) bool, msg string) func(v *yaml.Node, path string) {
	return func(v *yaml.Node, path string) {
		s, isStr := p.d.str(v, path)
		if !isStr {
			return
		}
		if !ok(s) {
			p.d.addf(v, path, "%s "+msg, quote(s))
			return
		}
		*dst = s
	}
}
