package provision

import (
	"path/filepath"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/resource"
)

// The accounts of a document and what they hold. The YAML layer reads the
// structure (keys, lists, types, what is required, what must be unique in
// the document); the rules of the values are the domain's, each
// resource's Validate (or the resource service's checks), reported here
// at the key they concern with its line, as the admin API and the console
// report them at their fields.

// check reports the broken rules err lists (*dialtone.InvalidError, from
// a Validate) at the keys of mapping n they name. A rule about a key the
// document does not write is not reported: a required key is reported
// missing by require, and an optional one has a valid default.
func (p *parser) check(n *yaml.Node, path string, set map[string]bool, err error) {
	if set == nil {
		return // not a mapping: already reported
	}
	for _, ie := range dialtone.InvalidFields(err) {
		if ie.Field == "" {
			p.d.addf(n, path, "%s", ie.Message)
			continue
		}
		top, _, _ := strings.Cut(ie.Field, ".")
		top, _, _ = strings.Cut(top, "[")
		if !set[top] {
			continue
		}
		p.d.addf(find(n, ie.Field, false), join(path, ie.Field), "%s", ie.Message)
	}
}

// flag stores a boolean in dst.
func (p *parser) flag(dst *bool) func(*yaml.Node, string) {
	return func(v *yaml.Node, path string) {
		if b, ok := p.d.boolean(v, path); ok {
			*dst = b
		}
	}
}

// whole stores an integer in dst.
func (p *parser) whole(dst *int) func(*yaml.Node, string) {
	return func(v *yaml.Node, path string) {
		if i, ok := p.d.integer(v, path); ok {
			*dst = i
		}
	}
}

// items decodes each item of a list with one.
func items[T any](p *parser, dst *[]T, one func(n *yaml.Node, path string) T) func(*yaml.Node, string) {
	return func(v *yaml.Node, path string) {
		p.d.list(v, path, func(_ int, item *yaml.Node, path string) {
			*dst = append(*dst, one(item, path))
		})
	}
}

func (p *parser) account(n *yaml.Node, path string) Account {
	d := p.d
	a := Account{Line: n.Line, FlowControl: dialtone.DefaultFlowControl,
		Account: dialtone.Account{Status: dialtone.AccountActive, VoiceService: true}}
	templates, files, subs := map[string]int{}, map[string]int{}, map[string]int{}
	var blacklist []string
	set := d.fields(n, path, handlers{
		"uid": func(v *yaml.Node, path string) {
			if s, ok := d.str(v, path); ok {
				p.unique(p.uids, s, v, path, "account uid")
				a.UID = s
			}
		},
		"name": func(v *yaml.Node, path string) {
			if s, ok := d.str(v, path); ok {
				// Unique because accounts without uid are matched by name.
				p.unique(p.names, s, v, path, "account name")
				a.Name = s
			}
		},
		"status":        func(v *yaml.Node, path string) { a.Status = dialtone.AccountStatus(p.scalar(v, path)) },
		"voice_service": p.flag(&a.VoiceService),
		"products":      func(v *yaml.Node, path string) { a.Features = p.products(v, path) },
		"rate_limits":   func(v *yaml.Node, path string) { a.RateLimits = p.rateLimits(v, path) },
		"access_keys":   items(p, &a.AccessKeys, p.accessKey),
		"numbers":       items(p, &a.Numbers, p.number),
		"tts_templates": items(p, &a.TTSTemplates, func(n *yaml.Node, path string) TTSTemplate { return p.ttsTemplate(n, path, templates) }),
		"voice_files":   items(p, &a.VoiceFiles, func(n *yaml.Node, path string) VoiceFile { return p.voiceFile(n, path, files) }),
		"flow_control": func(v *yaml.Node, path string) {
			d.fields(v, path, handlers{
				"per_minute": p.whole(&a.FlowControl.PerMinute),
				"per_hour":   p.whole(&a.FlowControl.PerHour),
				"per_day":    p.whole(&a.FlowControl.PerDay),
			})
		},
		"subscriptions":                   items(p, &a.Subscriptions, func(n *yaml.Node, path string) Subscription { return p.subscription(n, path, subs) }),
		"smartcall_callback_url":          p.anyText(&a.SmartCallCallbackURL),
		"smartcall_callback_secret":       p.nonEmpty(&a.SmartCallCallbackSecret), // never quoted in messages
		"smartcall_callback_secret_grace": p.secretGrace(&a.SmartCallCallbackSecretGrace),
		"blacklist":                       func(v *yaml.Node, path string) { blacklist = p.blacklist(v, path) },
		"machine_detection": func(v *yaml.Node, path string) {
			a.MachineDetection = dialtone.MachineDetection(p.scalar(v, path))
		},
		"smartcall_stream_url": p.nonEmpty(&a.SmartCallStreamURL),
		"fork_stream_url":      p.nonEmpty(&a.ForkStreamURL),
		"fork_stream_kinds": func(v *yaml.Node, path string) {
			var kinds []string
			p.texts(&kinds)(v, path)
			if kinds != nil {
				a.ForkStreamKinds = make([]dialtone.ForkKind, len(kinds))
				for i, k := range kinds {
					a.ForkStreamKinds[i] = dialtone.ForkKind(k)
				}
			}
		},
	})
	d.require(n, path, set, "name")
	// An account without uid gets one when it is applied: the rest of it
	// is checked with a stand-in.
	acct := a.Account
	if acct.UID == "" {
		acct.UID = "0"
	}
	p.check(n, path, set, acct.Validate())
	a.Blacklist = blacklist
	// The blacklist was checked as it was read.
	settings := dialtone.AccountSettings{FlowControl: a.FlowControl, SmartCallCallbackURL: a.SmartCallCallbackURL,
		SmartCallCallbackSecret: dialtone.SigningSecret{Current: a.SmartCallCallbackSecret}, MachineDetection: a.MachineDetection,
		SmartCallStreamURL: a.SmartCallStreamURL, ForkStreamURL: a.ForkStreamURL, ForkStreamKinds: a.ForkStreamKinds}
	if settings.ForkStreamURL == "" && len(settings.ForkStreamKinds) > 0 {
		// The fork's URL may be stored already: the kinds are checked on
		// their own here, and with the URL when applied.
		settings.ForkStreamURL = "ws://stored.invalid/"
	}

	p.check(n, path, set, settings.Validate())
	return a
}

// blacklist reads a list of keywords, trimmed; the domain's rule is
// checked with the document's indexes, then each word is kept once.
func (p *parser) blacklist(n *yaml.Node, path string) []string {
	words, ok := p.d.stringList(n, path)
	if !ok {
		return nil
	}
	for i := range words {
		words[i] = strings.TrimSpace(words[i])
	}
	for _, ie := range dialtone.InvalidFields(dialtone.CheckBlacklist("", words)) {
		node := n // the list, or the word "[i]" names
		if i, err := strconv.Atoi(strings.Trim(ie.Field, "[]")); err == nil && n.Kind == yaml.SequenceNode && i < len(n.Content) {
			node = n.Content[i]
		}
		p.d.addf(node, path+ie.Field, "%s", ie.Message)
	}
	return dialtone.CleanBlacklist(words)
}

// scalar reads a scalar as written ("" when it is not one: reported).
func (p *parser) scalar(v *yaml.Node, path string) string {
	s, _ := p.d.str(v, path)
	return s
}

// products reads the activated features in dialtone.AllFeatures order, so
// that reordering the list is not a change; non-nil even when empty: an
// empty list means no product, an absent one all.
func (p *parser) products(n *yaml.Node, path string) []dialtone.Feature {
	d := p.d
	got := map[dialtone.Feature]bool{}
	var unknown []dialtone.Feature
	d.list(n, path, func(_ int, item *yaml.Node, path string) {
		f := dialtone.Feature(p.scalar(item, path))
		if got[f] {
			d.addf(item, path, "duplicate product %s", quote(string(f)))
		}
		got[f] = true
		if !f.Valid() {
			unknown = append(unknown, f) // kept, so that Validate reports it
		}
	})
	out := []dialtone.Feature{}
	for _, f := range dialtone.AllFeatures {
		if got[f] {
			out = append(out, f)
		}
	}
	return append(out, unknown...)
}

func (p *parser) rateLimits(n *yaml.Node, path string) map[string]float64 {
	d := p.d
	n = d.visit(n)
	if n == nil {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		d.addf(n, path, "must be a mapping of action to requests per second, not %s", kindName(n))
		return nil
	}
	out := map[string]float64{}
	for _, kv := range d.pairs(n, path, 0) {
		kp := join(path, kv.key.Value)
		if isNull(kv.val) {
			d.addf(kv.key, kp, "missing requests per second")
			continue
		}
		if rps, ok := d.number(kv.val, kp); ok {
			out[kv.key.Value] = rps
		}
	}
	return out
}

func (p *parser) accessKey(n *yaml.Node, path string) AccessKey {
	d := p.d
	k := AccessKey{Line: n.Line, AccessKey: dialtone.AccessKey{Enabled: true}}
	set := d.fields(n, path, handlers{
		"id": func(v *yaml.Node, path string) {
			if s, ok := d.str(v, path); ok {
				p.unique(p.keyIDs, s, v, path, "access key id")
				k.ID = s
			}
		},
		"secret":  p.anyText(&k.Secret), // never quoted in messages
		"enabled": p.flag(&k.Enabled),
		"actions": func(v *yaml.Node, path string) {
			if list, ok := d.stringList(v, path); ok {
				k.Actions = list
			}
		},
	})
	d.require(n, path, set, "id", "secret")
	p.check(n, path, set, k.Validate())
	return k
}

func (p *parser) number(n *yaml.Node, path string) Number {
	d := p.d
	num := Number{Line: n.Line, Number: dialtone.Number{Concurrency: dialtone.DefaultConcurrency}}
	set := d.fields(n, path, handlers{
		"number": func(v *yaml.Node, path string) {
			if s, ok := d.str(v, path); ok {
				p.unique(p.numbers, s, v, path, "number")
				num.Number.Number = s
			}
		},
		"concurrency": p.whole(&num.Concurrency),
	})
	d.require(n, path, set, "number")
	p.check(n, path, set, num.Validate())
	return num
}

func (p *parser) ttsTemplate(n *yaml.Node, path string, codes map[string]int) TTSTemplate {
	d := p.d
	t := TTSTemplate{Line: n.Line, TTSTemplate: dialtone.TTSTemplate{Status: dialtone.ReviewApproved}}
	set := d.fields(n, path, handlers{
		"code": func(v *yaml.Node, path string) {
			if s, ok := d.str(v, path); ok {
				p.unique(codes, s, v, path, "template code")
				t.Code = s
			}
		},
		"kind":    func(v *yaml.Node, path string) { t.Kind = dialtone.TemplateKind(p.scalar(v, path)) },
		"content": p.anyText(&t.Content),
		"remark":  p.anyText(&t.Remark),
		"status":  func(v *yaml.Node, path string) { t.Status = dialtone.ReviewStatus(p.scalar(v, path)) },
		"voice":   p.anyText(&t.Voice),
	})
	d.require(n, path, set, "code", "kind", "content")
	p.check(n, path, set, t.Validate())
	return t
}

func (p *parser) voiceFile(n *yaml.Node, path string, codes map[string]int) VoiceFile {
	d := p.d
	f := VoiceFile{Line: n.Line, VoiceFile: dialtone.VoiceFile{Status: dialtone.ReviewApproved}}
	set := d.fields(n, path, handlers{
		"code": func(v *yaml.Node, path string) {
			if s, ok := d.str(v, path); ok {
				p.unique(codes, s, v, path, "voice file code")
				f.Code = s
			}
		},
		"path": func(v *yaml.Node, path string) {
			s, ok := d.str(v, path)
			if !ok {
				return
			}
			switch strings.ToLower(filepath.Ext(s)) {
			case ".wav", ".mp3":
			default:
				d.addf(v, path, "%s must name a .wav or .mp3 file", quote(s))
				return
			}
			f.Path, f.PathKey, f.PathLine = s, path, v.Line
		},
		"kind":   func(v *yaml.Node, path string) { f.Kind = dialtone.VoiceFileKind(p.scalar(v, path)) },
		"status": func(v *yaml.Node, path string) { f.Status = dialtone.ReviewStatus(p.scalar(v, path)) },
	})
	d.require(n, path, set, "code", "path", "kind")
	p.check(n, path, set, f.Validate())
	return f
}

func (p *parser) subscription(n *yaml.Node, path string, types map[string]int) Subscription {
	d := p.d
	s := Subscription{Line: n.Line}
	set := d.fields(n, path, handlers{
		"message_type": func(v *yaml.Node, path string) {
			if t, ok := d.str(v, path); ok {
				p.unique(types, t, v, path, "subscription for")
				s.MessageType = t
			}
		},
		"queue":             p.flag(&s.Queue),
		"push_url":          p.anyText(&s.PushURL),
		"push_secret":       p.anyText(&s.PushSecret),
		"push_secret_grace": p.secretGrace(&s.PushSecretGrace),
	})
	d.require(n, path, set, "message_type")
	if set != nil && set["push_secret"] && s.PushSecret == "" {
		d.addf(n, join(path, "push_secret"), "must not be empty")
	}
	sub := dialtone.Subscription{MessageType: s.MessageType, Queue: s.Queue, PushURL: s.PushURL, PushSecret: s.PushSecret}
	p.check(n, path, set, sub.Validate())
	return s
}

// consoleUsers parses the console_users section.
//
//	console_users:
//	  - username: ops
//	    password_hash: $argon2id$v=19$m=19456,t=2,p=1$...   # or password:
//	    operator: true
//	  - username: 李雷
//	    password: change-me-please
//	    account: "1001"
//
// A user belongs to exactly one account (by uid: an account of the file or
// of the store) or is an operator. A plain password is hashed with the
// console's argon2id when applied and is never printed; a file kept in
// version control should carry password_hash instead.
func (p *parser) consoleUsers(n *yaml.Node, path string) []ConsoleUser {
	out := []ConsoleUser{}
	names := map[string]int{}
	p.d.list(n, path, func(_ int, item *yaml.Node, path string) {
		out = append(out, p.consoleUser(item, path, names))
	})
	return out
}

func (p *parser) consoleUser(n *yaml.Node, path string, names map[string]int) ConsoleUser {
	d := p.d
	u := ConsoleUser{Line: n.Line}
	set := d.fields(n, path, handlers{
		"username": func(v *yaml.Node, path string) {
			if s, ok := d.str(v, path); ok {
				p.unique(names, s, v, path, "console username")
				u.Username = s
			}
		},
		"password":      p.anyText(&u.Password), // never quoted in messages
		"password_hash": p.anyText(&u.PasswordHash),
		"account":       p.anyText(&u.AccountUID),
		"operator":      p.flag(&u.Operator),
	})
	d.require(n, path, set, "username")
	if set != nil {
		// Whether the account exists is known when the document is applied.
		// Rules about password and account hold whether or not the keys
		// are written ("give exactly one of ...").
		p.check(n, path, map[string]bool{"username": set["username"], "password": true, "password_hash": true,
			"account": true, "operator": true}, resource.CheckConsoleUser(u.ConsoleUserInput))
	}
	return u
}
