package provision

import (
	"bytes"
	"errors"
	"io"
	"regexp"
	"strconv"
	"strings"

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
		// The egress allow-list of requests sent for accounts (egress.go).
		"egress_allow": func(v *yaml.Node, path string) { doc.EgressAllow = p.egressAllow(v, path) },
	})
	if doc.Network != nil {
		p.owned(root, doc.Network.Validate())
	}
	if doc.SIP != nil {
		p.owned(root, doc.SIP.Validate())
	}
}

func truncate(s string) string {
	q := quote(s)
	return q[1 : len(q)-1]
}
