package provision

import (
	"bytes"
	"errors"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
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
		"network": func(v *yaml.Node, path string) { doc.Network = p.network(v, path) },
		// The operator's forbidden keywords for every account's template
		// variables (isv.BLACK_KEY_CONTROL_LIMIT).
		"blacklist": func(v *yaml.Node, path string) { doc.Blacklist = p.blacklist(v, path) },
		// The web console's users (console_users.go).
		"console_users": func(v *yaml.Node, path string) { doc.ConsoleUsers = p.consoleUsers(v, path) },
		// SIP trunks and the routes to them (sip.go).
		"sip":    func(v *yaml.Node, path string) { doc.SIP = p.sip(v, path) },
		"trunks": func(v *yaml.Node, path string) { doc.Trunks = p.trunks(v, path) },
		"routes": func(v *yaml.Node, path string) { doc.Routes = p.routes(v, path) },
	})
	p.checkRoutes(doc)
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

// Keys of a behaviour mapping, so merging knows which ones a node set.
const (
	keyResult      = "result"
	keyAnswerAfter = "answer_after"
	keyRing        = "ring"
	keyHangupAfter = "hangup_after"
	keyDTMF        = "dtmf"
	keySay         = "say"
	keySilence     = "silence"
)

func (p *parser) network(n *yaml.Node, path string) *Network {
	d := p.d
	net := &Network{Line: n.Line, TimeScale: 1, Default: DefaultBehavior}
	type sub struct {
		Subscriber
		set map[string]bool
	}
	var subs []sub
	defSet := map[string]bool{}
	var def Behavior
	d.fields(n, path, handlers{
		"time_scale": func(v *yaml.Node, path string) {
			if f, ok := d.number(v, path); ok {
				if f <= 0 {
					d.addf(v, path, "must be greater than 0")
					return
				}
				net.TimeScale = f
			}
		},
		"default": func(v *yaml.Node, path string) {
			defSet = p.behavior(v, path, &def, nil)
		},
		"subscribers": func(v *yaml.Node, path string) {
			seen := map[string]int{}
			d.list(v, path, func(_ int, item *yaml.Node, path string) {
				s := sub{Subscriber: Subscriber{Line: item.Line}}
				s.set = p.behavior(item, path, &s.Behavior, func(h handlers) {
					h["number"] = func(v *yaml.Node, path string) {
						if num, ok := p.phone(v, path); ok {
							p.unique(seen, num, v, path, "subscriber")
							s.Number = num
						}
					}
				})
				d.require(item, path, s.set, "number")
				subs = append(subs, s)
			})
		},
	})
	// Merge only after the whole mapping is read: "default" may come after
	// "subscribers" in the file.
	net.Default = merge(DefaultBehavior, def, defSet)
	for _, s := range subs {
		s.Behavior = merge(net.Default, s.Behavior, s.set)
		net.Subscribers = append(net.Subscribers, s.Subscriber)
	}
	return net
}

func merge(base, over Behavior, set map[string]bool) Behavior {
	out := base
	if set[keyResult] {
		out.Result = over.Result
	}
	if set[keyAnswerAfter] {
		out.AnswerAfter = over.AnswerAfter
	}
	if set[keyRing] {
		out.Ring = over.Ring
	}
	if set[keyHangupAfter] {
		out.HangupAfter = over.HangupAfter
	}
	if set[keyDTMF] {
		out.DTMF = over.DTMF
	}
	if set[keySay] {
		out.Say = over.Say
	}
	if set[keySilence] {
		out.Silence = over.Silence
	}
	return out
}

// behavior reads a behaviour mapping into b and returns the keys it set;
// extend adds keys (a subscriber's number).
func (p *parser) behavior(n *yaml.Node, path string, b *Behavior, extend func(handlers)) map[string]bool {
	d := p.d
	dur := func(dst *time.Duration) func(*yaml.Node, string) {
		return func(v *yaml.Node, path string) { *dst, _ = d.duration(v, path) }
	}
	h := handlers{
		keyResult: func(v *yaml.Node, path string) {
			b.Result, _ = oneOf(d, v, path, ResultAnswer, ResultBusy, ResultNoAnswer, ResultRejected,
				ResultPoweredOff, ResultSuspended, ResultInvalid, ResultUnreachable)
		},
		keyAnswerAfter: dur(&b.AnswerAfter),
		keyRing:        dur(&b.Ring),
		keyHangupAfter: dur(&b.HangupAfter),
		keySilence:     dur(&b.Silence),
		keyDTMF: func(v *yaml.Node, path string) {
			b.DTMF = []DTMF{}
			d.list(v, path, func(_ int, item *yaml.Node, path string) {
				b.DTMF = append(b.DTMF, p.dtmf(item, path))
			})
		},
		keySay: func(v *yaml.Node, path string) {
			list, ok := d.stringList(v, path)
			if !ok {
				return
			}
			for i, s := range list {
				if strings.TrimSpace(s) == "" {
					d.addf(v, index(path, i), "must not be empty")
				}
			}
			b.Say = list
		},
	}
	if extend != nil {
		extend(h)
	}
	set := d.fields(n, path, h)
	if set == nil {
		return nil // not a mapping: already reported
	}
	// Check combinations only among keys written in the same mapping: a
	// subscriber that is busy may still inherit answer_after from default.
	if set[keyResult] && b.Result != "" {
		answers := b.Result == ResultAnswer
		rings := b.Result == ResultNoAnswer || b.Result == ResultRejected
		for _, k := range []string{keyAnswerAfter, keyHangupAfter, keyDTMF, keySay, keySilence} {
			if set[k] && !answers {
				d.addf(n, path, "%s only applies when result is answer, not %s", k, b.Result)
			}
		}
		if set[keyRing] && !rings {
			d.addf(n, path, "ring only applies when result is no_answer or rejected (answer_after sets the ringing before an answer)")
		}
	}
	return set
}

func (p *parser) dtmf(n *yaml.Node, path string) DTMF {
	d := p.d
	var k DTMF
	set := d.fields(n, path, handlers{
		"after_prompt": func(v *yaml.Node, path string) {
			if i, ok := d.integer(v, path); ok {
				if i < 1 {
					d.addf(v, path, "must be at least 1 (the first prompt)")
					return
				}
				k.AfterPrompt = i
			}
		},
		"at": func(v *yaml.Node, path string) { k.At, _ = d.duration(v, path) },
		"digits": func(v *yaml.Node, path string) {
			if s, ok := d.str(v, path); ok {
				if !dtmfDigits.MatchString(s) {
					d.addf(v, path, "%s must be 1 to 32 of 0-9, *, #, A-D", quote(s))
					return
				}
				k.Digits = s
			}
		},
	})
	d.require(n, path, set, "digits")
	if set != nil && set["after_prompt"] == set["at"] {
		d.addf(n, path, "set exactly one of after_prompt and at")
	}
	return k
}

var (
	phoneNumber = regexp.MustCompile(`^\+?[0-9]{5,20}$`)
	dtmfDigits  = regexp.MustCompile(`^[0-9*#A-D]{1,32}$`)
)

func truncate(s string) string {
	q := quote(s)
	return q[1 : len(q)-1]
}
