package provision

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/dialtone-voice/dialtone"
)

// Parse reads and validates a provisioning document. name is the
// document's file name, for messages ("" when it has none). An empty
// document is valid. On failure the error is an *Error listing every
// problem with its line and key. The files the document names (voice
// files) are not opened: Apply reads them, from its FileSource.
func Parse(data []byte, name string) (*Document, error) {
	doc, err := parse(data)
	var perr *Error
	if errors.As(err, &perr) {
		perr.File = name
	}
	if doc != nil {
		doc.File = name
	}
	return doc, err
}

func parse(data []byte) (*Document, error) {
	root, err := parseYAML(data)
	if err != nil {
		return nil, err
	}
	doc := &Document{}
	if root == nil || isNull(root) {
		return doc, nil
	}
	p := &parser{
		d:       &decoder{},
		uids:    map[string]int{},
		names:   map[string]int{},
		keyIDs:  map[string]int{},
		numbers: map[string]int{},
	}
	p.document(root, doc)
	if err := p.d.err(); err != nil {
		return nil, err
	}
	doc.root = root
	return doc, nil
}

var syntaxLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parseYAML returns the root node of the only document, or nil when there
// is none.
func parseYAML(data []byte) (root *yaml.Node, err error) {
	// The admin API feeds untrusted bodies to the YAML library; a panic in it
	// must become a rejected document, not a crashed server. Our own walker
	// runs outside this recover so fuzzing still finds its bugs.
	defer func() {
		if r := recover(); r != nil {
			root, err = nil, &Error{Problems: []Problem{{Message: "the YAML parser failed on this document"}}}
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, syntaxError(err)
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case err == nil:
		return nil, &Error{Problems: []Problem{{Line: next.Line, Message: "a second YAML document (---) is not allowed; put everything in one"}}}
	case !errors.Is(err, io.EOF):
		return nil, syntaxError(err)
	}
	if doc.Kind == yaml.DocumentNode {
		if len(doc.Content) == 0 {
			return nil, nil
		}
		return doc.Content[0], nil
	}
	return &doc, nil
}

func syntaxError(err error) error {
	msg := err.Error()
	if m := syntaxLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &Error{Problems: []Problem{{Line: line, Message: "invalid YAML: " + m[2]}}}
	}
	return &Error{Problems: []Problem{{Message: "invalid YAML: " + strings.TrimPrefix(msg, "yaml: ")}}}
}

// parser holds what must be unique across the whole document.
type parser struct {
	d       *decoder
	uids    map[string]int // value -> first line
	names   map[string]int
	keyIDs  map[string]int
	numbers map[string]int
}

type handlers = map[string]func(v *yaml.Node, path string)

// unique reports the second and later uses of value among seen.
func (p *parser) unique(seen map[string]int, value string, n *yaml.Node, path, what string) {
	if first, dup := seen[value]; dup {
		p.d.addf(n, path, "duplicate %s %s (first at line %d)", what, quote(value), first)
		return
	}
	seen[value] = n.Line
}

func (p *parser) document(root *yaml.Node, doc *Document) {
	p.d.fields(root, "", handlers{
		"accounts": func(v *yaml.Node, path string) {
			doc.Accounts = []Account{}
			p.d.list(v, path, func(_ int, item *yaml.Node, path string) {
				doc.Accounts = append(doc.Accounts, p.account(item, path))
			})
		},
		// Node configuration read at start, in its owners' types: the
		// simulated network (network.go) and SIP (sip.go).
		"network": func(v *yaml.Node, path string) { doc.Network = p.network(v, path) },
		// The operator's forbidden keywords for every account's template
		// variables (isv.BLACK_KEY_CONTROL_LIMIT).
		"blacklist": func(v *yaml.Node, path string) { doc.Blacklist = p.blacklist(v, path) },
		// The web console's users (console_users.go).
		"console_users": func(v *yaml.Node, path string) { doc.ConsoleUsers = p.consoleUsers(v, path) },
		// SIP trunks and the routes to them, one sipconf.Config (sip.go).
		"sip":    func(v *yaml.Node, path string) { p.sip(v, path, sipConfig(doc)) },
		"trunks": func(v *yaml.Node, path string) { p.trunks(v, path, sipConfig(doc)) },
		"routes": func(v *yaml.Node, path string) { p.routes(v, path, sipConfig(doc)) },
	})
	if doc.Network != nil {
		p.owned(root, doc.Network.Validate())
	}
	if doc.SIP != nil {
		p.owned(root, doc.SIP.Validate())
	}
}

func (p *parser) blacklist(n *yaml.Node, path string) []string {
	words, ok := p.d.stringList(n, path)
	if !ok {
		return nil
	}
	out := []string{}
	for _, w := range words {
		if w = strings.TrimSpace(w); w != "" {
			out = append(out, w)
		}
	}
	return out
}

func (p *parser) account(n *yaml.Node, path string) Account {
	d := p.d
	a := Account{Line: n.Line, Status: dialtone.AccountActive, VoiceService: true, FlowControl: DefaultFlowControl}
	templates, files, subs := map[string]int{}, map[string]int{}, map[string]int{}
	set := d.fields(n, path, handlers{
		"uid": func(v *yaml.Node, path string) {
			if s, ok := d.str(v, path); ok {
				if !dialtone.ValidUID(s) {
					d.addf(v, path, "%s is not 1 to 32 digits", quote(s))
					return
				}
				p.unique(p.uids, s, v, path, "account uid")
				a.UID = s
			}
		},
		"name": func(v *yaml.Node, path string) {
			if s, ok := d.str(v, path); ok {
				if !validName(s) {
					d.addf(v, path, "%s must be 1 to 128 characters without control characters or surrounding spaces", quote(s))
					return
				}
				// Unique because accounts without uid are matched by name.
				p.unique(p.names, s, v, path, "account name")
				a.Name = s
			}
		},
		"status": func(v *yaml.Node, path string) {
			a.Status, _ = oneOf(d, v, path, dialtone.AccountActive, dialtone.AccountSuspended, dialtone.AccountAbnormal, dialtone.AccountDeleted)
		},
		"voice_service": func(v *yaml.Node, path string) { a.VoiceService, _ = d.boolean(v, path) },
		"products":      func(v *yaml.Node, path string) { a.Products = p.products(v, path) },
		"rate_limits":   func(v *yaml.Node, path string) { a.RateLimits = p.rateLimits(v, path) },
		"access_keys": func(v *yaml.Node, path string) {
			d.list(v, path, func(_ int, item *yaml.Node, path string) {
				a.AccessKeys = append(a.AccessKeys, p.accessKey(item, path))
			})
		},
		"numbers": func(v *yaml.Node, path string) {
			d.list(v, path, func(_ int, item *yaml.Node, path string) {
				a.Numbers = append(a.Numbers, p.number(item, path))
			})
		},
		"tts_templates": func(v *yaml.Node, path string) {
			d.list(v, path, func(_ int, item *yaml.Node, path string) {
				a.TTSTemplates = append(a.TTSTemplates, p.ttsTemplate(item, path, templates))
			})
		},
		"voice_files": func(v *yaml.Node, path string) {
			d.list(v, path, func(_ int, item *yaml.Node, path string) {
				a.VoiceFiles = append(a.VoiceFiles, p.voiceFile(item, path, files))
			})
		},
		"flow_control": func(v *yaml.Node, path string) { a.FlowControl = p.flowControl(v, path) },
		"subscriptions": func(v *yaml.Node, path string) {
			d.list(v, path, func(_ int, item *yaml.Node, path string) {
				a.Subscriptions = append(a.Subscriptions, p.subscription(item, path, subs))
			})
		},
		"smartcall_callback_url": func(v *yaml.Node, path string) { a.SmartCallCallbackURL = p.url(v, path) },
		"blacklist":              func(v *yaml.Node, path string) { a.Blacklist = p.blacklist(v, path) },
	})
	d.require(n, path, set, "name")
	return a
}

func (p *parser) products(n *yaml.Node, path string) []dialtone.Feature {
	d := p.d
	got := map[dialtone.Feature]bool{}
	d.list(n, path, func(_ int, item *yaml.Node, path string) {
		f, ok := oneOf(d, item, path, dialtone.AllFeatures...)
		if !ok {
			return
		}
		if got[f] {
			d.addf(item, path, "duplicate product %s", quote(string(f)))
		}
		got[f] = true
	})
	// Canonical order, so that reordering the list is not a change. Non-nil
	// even when empty: an empty list means "no product", absent means all.
	out := []dialtone.Feature{}
	for _, f := range dialtone.AllFeatures {
		if got[f] {
			out = append(out, f)
		}
	}
	return out
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
		action := kv.key.Value
		kp := join(path, action)
		if !validAction(action) {
			d.addf(kv.key, path, "%s is not an API action name", quote(action))
			continue
		}
		if isNull(kv.val) {
			d.addf(kv.key, kp, "missing requests per second")
			continue
		}
		if rps, ok := d.number(kv.val, kp); ok {
			if rps <= 0 {
				d.addf(kv.val, kp, "requests per second must be greater than 0")
				continue
			}
			out[action] = rps
		}
	}
	return out
}

func (p *parser) accessKey(n *yaml.Node, path string) AccessKey {
	d := p.d
	k := AccessKey{Line: n.Line, Enabled: true}
	set := d.fields(n, path, handlers{
		"id": func(v *yaml.Node, path string) {
			if s, ok := d.str(v, path); ok {
				if !validKeyID(s) {
					d.addf(v, path, "%s must be 1 to 128 letters, digits, '.', '_' or '-'", quote(s))
					return
				}
				p.unique(p.keyIDs, s, v, path, "access key id")
				k.ID = s
			}
		},
		"secret": func(v *yaml.Node, path string) {
			// Never quote the value: messages reach logs and HTTP responses.
			s, ok := d.str(v, path)
			if !ok {
				return
			}
			if c := utf8.RuneCountInString(s); c < 16 || c > 256 || !utf8.ValidString(s) {
				d.addf(v, path, "must be 16 to 256 characters (it has %d)", c)
				return
			}
			if strings.IndexFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
				d.addf(v, path, "must not contain spaces or control characters")
				return
			}
			k.Secret = s
		},
		"enabled": func(v *yaml.Node, path string) { k.Enabled, _ = d.boolean(v, path) },
		"actions": func(v *yaml.Node, path string) {
			list, ok := d.stringList(v, path)
			if !ok {
				return
			}
			if msg := CheckActions(list); msg != "" {
				d.addf(v, path, "%s", msg)
				return
			}
			k.Actions = list
		},
	})
	d.require(n, path, set, "id", "secret")
	return k
}

func (p *parser) number(n *yaml.Node, path string) Number {
	d := p.d
	num := Number{Line: n.Line, Concurrency: DefaultConcurrency}
	set := d.fields(n, path, handlers{
		"number": func(v *yaml.Node, path string) {
			if s, ok := p.phone(v, path); ok {
				p.unique(p.numbers, s, v, path, "number")
				num.Number = s
			}
		},
		"concurrency": func(v *yaml.Node, path string) {
			if c, ok := d.integer(v, path); ok {
				if c < 1 {
					d.addf(v, path, "must be at least 1")
					return
				}
				num.Concurrency = c
			}
		},
	})
	d.require(n, path, set, "number")
	return num
}

func (p *parser) ttsTemplate(n *yaml.Node, path string, codes map[string]int) TTSTemplate {
	d := p.d
	t := TTSTemplate{Line: n.Line, Status: StatusApproved}
	set := d.fields(n, path, handlers{
		"code": func(v *yaml.Node, path string) {
			if s, ok := d.str(v, path); ok {
				if !ttsCode.MatchString(s) {
					d.addf(v, path, "%s must start with TTS_ followed by letters, digits, '_' or '-'", quote(s))
					return
				}
				p.unique(codes, s, v, path, "template code")
				t.Code = s
			}
		},
		"kind": func(v *yaml.Node, path string) {
			t.Kind, _ = oneOf(d, v, path, TemplateVerification, TemplateNotification)
		},
		"content": func(v *yaml.Node, path string) {
			if s, ok := d.str(v, path); ok {
				if strings.TrimSpace(s) == "" {
					d.addf(v, path, "must not be empty")
					return
				}
				if msg := checkPlaceholders(s); msg != "" {
					d.addf(v, path, "%s", msg)
					return
				}
				t.Content = s
			}
		},
		"status": func(v *yaml.Node, path string) {
			t.Status, _ = oneOf(d, v, path, StatusPending, StatusApproved, StatusRejected)
		},
		"voice": func(v *yaml.Node, path string) {
			if s, ok := d.str(v, path); ok {
				if !voiceName.MatchString(s) {
					d.addf(v, path, "%s is not an espeak-ng voice name (e.g. en-us, zh, en+f3)", quote(s))
					return
				}
				t.Voice = s
			}
		},
	})
	d.require(n, path, set, "code", "kind", "content")
	return t
}

func (p *parser) voiceFile(n *yaml.Node, path string, codes map[string]int) VoiceFile {
	d := p.d
	f := VoiceFile{Line: n.Line, Status: StatusApproved}
	set := d.fields(n, path, handlers{
		"code": func(v *yaml.Node, path string) {
			if s, ok := d.str(v, path); ok {
				if !validKeyID(s) {
					d.addf(v, path, "%s must be 1 to 128 letters, digits, '.', '_' or '-'", quote(s))
					return
				}
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
		"kind": func(v *yaml.Node, path string) {
			f.Kind, _ = oneOf(d, v, path, VoiceNotification, VoiceSmartCall)
		},
		"status": func(v *yaml.Node, path string) {
			f.Status, _ = oneOf(d, v, path, StatusPending, StatusApproved, StatusRejected)
		},
	})
	d.require(n, path, set, "code", "path", "kind")
	return f
}

func (p *parser) flowControl(n *yaml.Node, path string) FlowControl {
	d := p.d
	fc := DefaultFlowControl
	limit := func(dst *int) func(*yaml.Node, string) {
		return func(v *yaml.Node, path string) {
			if c, ok := d.integer(v, path); ok {
				if c < 0 {
					d.addf(v, path, "must not be negative (0 means no limit)")
					return
				}
				*dst = c
			}
		}
	}
	d.fields(n, path, handlers{
		"per_minute": limit(&fc.PerMinute),
		"per_hour":   limit(&fc.PerHour),
		"per_day":    limit(&fc.PerDay),
	})
	return fc
}

func (p *parser) subscription(n *yaml.Node, path string, types map[string]int) Subscription {
	d := p.d
	s := Subscription{Line: n.Line}
	set := d.fields(n, path, handlers{
		"message_type": func(v *yaml.Node, path string) {
			if t, ok := oneOf(d, v, path, VoiceReport, VoiceCallReport, VoiceRecordReport); ok {
				p.unique(types, string(t), v, path, "subscription for")
				s.MessageType = t
			}
		},
		"queue":    func(v *yaml.Node, path string) { s.Queue, _ = d.boolean(v, path) },
		"push_url": func(v *yaml.Node, path string) { s.PushURL = p.url(v, path) },
		"push_secret": func(v *yaml.Node, path string) {
			if sec, ok := d.str(v, path); ok {
				if sec == "" {
					d.addf(v, path, "must not be empty")
					return
				}
				s.PushSecret = sec
			}
		},
	})
	d.require(n, path, set, "message_type")
	if set != nil {
		if set["push_secret"] && !set["push_url"] {
			d.addf(n, path, "push_secret needs push_url")
		}
		if !s.Queue && !set["push_url"] {
			d.addf(n, path, "delivers nowhere: set queue: true or push_url")
		}
	}
	return s
}

func (p *parser) url(n *yaml.Node, path string) string {
	s, ok := p.d.str(n, path)
	if !ok {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		p.d.addf(n, path, "%s is not an http:// or https:// URL", quote(s))
		return ""
	}
	return s
}

func (p *parser) phone(n *yaml.Node, path string) (string, bool) {
	s, ok := p.d.str(n, path)
	if !ok {
		return "", false
	}
	if !phoneNumber.MatchString(s) {
		p.d.addf(n, path, "%s must be 5 to 20 digits with an optional leading +", quote(s))
		return "", false
	}
	return s, true
}

var (
	ttsCode     = regexp.MustCompile(`^TTS_[A-Za-z0-9_-]{1,60}$`)
	voiceName   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_+./-]{0,63}$`)
	phoneNumber = regexp.MustCompile(`^\+?[0-9]{5,20}$`)
	keyIDChars  = regexp.MustCompile(`^[A-Za-z0-9._-]{1,128}$`)
	actionChars = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,63}$`)
	placeholder = regexp.MustCompile(`^[A-Za-z0-9_]+$`)
)

func validKeyID(s string) bool  { return keyIDChars.MatchString(s) }
func validAction(s string) bool { return actionChars.MatchString(s) }

// MaxActions bounds the action list of one key; the API has a few dozen.
const MaxActions = 200

// CheckActions validates the action list of an access key and returns a
// message for the first problem, or "". An empty list is rejected although
// the domain reads it as "every action": written explicitly it more likely
// means "none". The admin API uses the same rule.
func CheckActions(actions []string) string {
	if len(actions) == 0 {
		return `must not be empty: write ["*"] to allow every action, or leave it out`
	}
	if len(actions) > MaxActions {
		return fmt.Sprintf("has %d actions, more than the limit of %d", len(actions), MaxActions)
	}
	seen := make(map[string]bool, len(actions))
	for i, a := range actions {
		if a != "*" && !validAction(a) {
			return fmt.Sprintf("item %d: %s is not an API action name (or \"*\")", i, quote(a))
		}
		if seen[a] {
			return fmt.Sprintf("item %d: duplicate action %s", i, quote(a))
		}
		seen[a] = true
	}
	return ""
}

func validName(s string) bool {
	if s == "" || utf8.RuneCountInString(s) > 128 || !utf8.ValidString(s) || strings.TrimSpace(s) != s {
		return false
	}
	return strings.IndexFunc(s, unicode.IsControl) < 0
}

// checkPlaceholders returns a message for the first malformed ${var}.
func checkPlaceholders(s string) string {
	for rest := s; ; {
		i := strings.Index(rest, "${")
		if i < 0 {
			return ""
		}
		rest = rest[i+2:]
		j := strings.IndexByte(rest, '}')
		if j < 0 {
			return "unterminated ${ in content"
		}
		if name := rest[:j]; !placeholder.MatchString(name) {
			return fmt.Sprintf("variable ${%s} must be named with letters, digits or '_'", truncate(name))
		}
		rest = rest[j+1:]
	}
}

func truncate(s string) string {
	q := quote(s)
	return q[1 : len(q)-1]
}
