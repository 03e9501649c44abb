package provision

import (
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/dialtone-voice/dialtone/internal/fielderr"
)

// Node configuration (the sip, trunks, routes and network sections) is
// decoded straight into the types of the packages that own it
// (carrier/sip/sipconf, carrier/sim). This layer reads what YAML can tell
// (kinds, numbers, durations, required and unknown keys, a key written
// with an empty or zero value that the owner's type reads as unset); the
// owner's Validate holds the rules on the values and names each problem by
// its key path, which is mapped here to the line it was written on.

// owned reports the field errors of an owner's Validate with their lines.
// Problems under a path whose value could not be read are left out: the
// owner saw it unset, and the reason is already reported.
func (p *parser) owned(root *yaml.Node, err error) {
	d := p.d
	if d.tooBig {
		return
	}
	for _, e := range fielderr.All(err) {
		if d.badUnder(e.Field) {
			continue
		}
		msg := e.Message
		if e.First != "" {
			msg += fmt.Sprintf(" (first at line %d)", nodeLine(find(root, e.First, false)))
		}
		if d.reported(e.Field, msg) {
			continue
		}
		at := e.Field
		if e.At != "" {
			at = e.At
		}
		d.addf(find(root, at, false), e.Field, "%s", msg)
	}
}

// badUnder reports whether path or a path above it could not be read.
func (d *decoder) badUnder(path string) bool {
	for {
		if d.bad[path] {
			return true
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			return d.bad[""]
		}
		path = path[:i]
	}
}

// reported reports whether the same problem is already listed (a rule
// this layer checks on the keys written, which the owner checks on the
// values too).
func (d *decoder) reported(path, msg string) bool {
	for _, pr := range d.problems {
		if pr.Path == path && pr.Message == msg {
			return true
		}
	}
	return false
}

// Line returns the line a key path ("trunks[0]", "sip.asr.models[1].name")
// was written on, or 0 when the document does not write it.
func (doc *Document) Line(path string) int {
	if doc.root == nil {
		return 0
	}
	return nodeLine(find(doc.root, path, true))
}

func nodeLine(n *yaml.Node) int {
	if n == nil {
		return 0
	}
	return n.Line
}

// find returns the node at path: exactly, or (exact false) the nearest
// node above it that the document writes. Aliases and merge keys are
// followed as the decoder follows them.
func find(root *yaml.Node, path string, exact bool) *yaml.Node {
	n := root
	for path != "" {
		var next *yaml.Node
		if strings.HasPrefix(path, "[") {
			end := strings.IndexByte(path, ']')
			if end < 0 {
				break
			}
			i, err := strconv.Atoi(path[1:end])
			path = path[end+1:]
			if seq := unalias(n); err == nil && seq != nil && seq.Kind == yaml.SequenceNode && i >= 0 && i < len(seq.Content) {
				next = seq.Content[i]
			}
		} else {
			path = strings.TrimPrefix(path, ".")
			end := strings.IndexAny(path, ".[")
			if end < 0 {
				end = len(path)
			}
			key := path[:end]
			path = path[end:]
			next = findKey(n, key, 0, map[*yaml.Node]bool{})
		}
		if next == nil {
			if exact {
				return nil
			}
			break
		}
		n = next
	}
	return n
}

// findKey returns the value of key in the mapping n: an explicit key
// first, then the merge sources in order. seen holds the mappings already
// searched: merge sources sharing anchors are searched once, so the work
// stays linear in the document however the merges nest.
func findKey(n *yaml.Node, key string, depth int, seen map[*yaml.Node]bool) *yaml.Node {
	n = unalias(n)
	if n == nil || n.Kind != yaml.MappingNode || depth > maxMergeDepth || seen[n] {
		return nil
	}
	seen[n] = true
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Value == "<<" && k.ShortTag() == "!!merge" {
			merges = append(merges, v)
			continue
		}
		if k.Kind == yaml.ScalarNode && k.Value == key {
			return v
		}
	}
	for _, m := range merges {
		m = unalias(m)
		if m == nil {
			continue
		}
		sources := []*yaml.Node{m}
		if m.Kind == yaml.SequenceNode {
			sources = m.Content
		}
		for _, src := range sources {
			if v := findKey(src, key, depth+1, seen); v != nil {
				return v
			}
		}
	}
	return nil
}

// unalias follows an alias (a few steps at most, as visit does).
func unalias(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode; i++ {
		if i > 8 {
			return nil
		}
		n = n.Alias
	}
	return n
}

// The handlers below read a value into an owner's field.

// nonEmpty reads a string that must not be written empty: the owner reads ""
// as unset.
func (p *parser) nonEmpty(dst *string) func(*yaml.Node, string) {
	return func(v *yaml.Node, path string) {
		if s, ok := p.d.str(v, path); ok {
			if s == "" {
				p.d.fail(v, path, "must not be empty (leave the key out instead)")
				return
			}
			*dst = s
		}
	}
}

// anyText reads a string, empty or not.
func (p *parser) anyText(dst *string) func(*yaml.Node, string) {
	return func(v *yaml.Node, path string) { *dst, _ = p.d.str(v, path) }
}

// texts reads a list of strings; an empty list is kept (non-nil), as the
// owner tells it from an absent one.
func (p *parser) texts(dst *[]string) func(*yaml.Node, string) {
	return func(v *yaml.Node, path string) {
		if list, ok := p.d.stringList(v, path); ok {
			*dst = list
		}
	}
}

// count reads an integer that must not be written 0 (the owner's unset);
// zero says why.
func (p *parser) count(dst *int, zero string) func(*yaml.Node, string) {
	return func(v *yaml.Node, path string) {
		if i, ok := p.d.integer(v, path); ok {
			if i == 0 {
				p.d.fail(v, path, "%s", zero)
				return
			}
			*dst = i
		}
	}
}

// amount reads a number that must not be written 0 (the owner's unset);
// zero says why.
func (p *parser) amount(dst *float64, zero string) func(*yaml.Node, string) {
	return func(v *yaml.Node, path string) {
		if f, ok := p.d.number(v, path); ok {
			if f == 0 {
				p.d.fail(v, path, "%s", zero)
				return
			}
			*dst = f
		}
	}
}
