package provision

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/dialtone-voice/dialtone/internal/fielderr"
)

// Problem is one thing wrong with a document.
type Problem struct {
	Line    int    // 1-based; 0 when unknown
	Path    string // key path such as accounts[0].access_keys[1].id; may be empty
	Message string
}

func (p Problem) String() string {
	var b strings.Builder
	if p.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", p.Line)
	}
	if p.Path != "" {
		b.WriteString(p.Path)
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// Error lists every problem of a rejected document, in line order. Its text
// has one problem per line, each starting with the document's file name
// when it has one, and never contains secrets.
type Error struct {
	File     string // the document's file name; "" when it has none
	Problems []Problem
}

func (e *Error) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
		if e.File != "" {
			lines[i] = e.File + ": " + lines[i]
		}
	}
	return strings.Join(lines, "\n")
}

// maxVisits bounds the work of one Parse. Aliases can make a small file
// expand exponentially ("billion laughs"); the yaml.v3 decoder guards its
// own Decode against that, but the Node tree we walk has no such guard.
const maxVisits = 1_000_000

// maxMergeDepth bounds nested merge keys; an anchor may even contain an
// alias to itself, which the parser accepts and only Decode would reject.
const maxMergeDepth = 16

// maxProblems caps the report: past it, more lines help nobody, and an
// alias-expanded document could otherwise yield a million of them.
const maxProblems = 100

// decoder walks a yaml.Node tree against the schema and collects problems
// instead of stopping at the first.
type decoder struct {
	problems []Problem
	dropped  bool // problems beyond maxProblems were not recorded
	visits   int
	tooBig   bool // stop walking: budget spent or too many problems
	// bad holds the key paths whose value could not be read (wrong kind,
	// syntax, missing): a configuration type's Validate finds them unset,
	// and its word on them (or anything under them) is not reported.
	bad map[string]bool
}

func (d *decoder) addf(n *yaml.Node, path, format string, args ...any) {
	if len(d.problems) >= maxProblems {
		d.dropped, d.tooBig = true, true
		return
	}
	line := 0
	if n != nil {
		line = n.Line
	}
	d.problems = append(d.problems, Problem{Line: line, Path: path, Message: fmt.Sprintf(format, args...)})
}

// fail reports a value that could not be read.
func (d *decoder) fail(n *yaml.Node, path, format string, args ...any) {
	d.markBad(path)
	d.addf(n, path, format, args...)
}

func (d *decoder) markBad(path string) {
	if d.bad == nil {
		d.bad = map[string]bool{}
	}
	d.bad[path] = true
}

func (d *decoder) err() error {
	if len(d.problems) == 0 {
		return nil
	}
	sort.SliceStable(d.problems, func(i, j int) bool { return d.problems[i].Line < d.problems[j].Line })
	if d.dropped {
		d.problems = append(d.problems, Problem{Message: fmt.Sprintf("stopped after %d problems; fix these and try again", maxProblems)})
	}
	return &Error{Problems: d.problems}
}

// visit follows aliases and charges the work budget; it returns nil when the
// budget is spent (reported once).
func (d *decoder) visit(n *yaml.Node) *yaml.Node {
	if d.tooBig {
		return nil
	}
	d.visits++
	if d.visits > maxVisits {
		d.addf(n, "", "document too large (too many nodes or alias expansions)")
		d.tooBig = true
		return nil
	}
	// An anchor cannot name an alias, so one step is enough; the loop only
	// guards against hand-built trees.
	for i := 0; n != nil && n.Kind == yaml.AliasNode; i++ {
		if i > 8 {
			return nil
		}
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n == nil || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return "a scalar"
	}
	return "an unexpected node"
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

// quote shows a user value in a message, shortened so that a huge value
// does not flood the error.
func quote(s string) string { return fielderr.Quote(s) }

type pair struct{ key, val *yaml.Node }

// pairs returns a mapping's key/value pairs, expanding merge keys (<<) the
// way yaml.v3's Decode does, so shared anchors work: explicit keys override
// merged ones. Duplicate explicit keys are reported.
func (d *decoder) pairs(n *yaml.Node, path string, depth int) []pair {
	var merged, own []pair
	first := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Value == "<<" && k.ShortTag() == "!!merge" {
			merged = append(merged, d.mergeSource(v, path, depth)...)
			continue
		}
		if k.Kind != yaml.ScalarNode {
			d.addf(k, path, "keys must be plain strings, not %s", kindName(k))
			continue
		}
		if line, dup := first[k.Value]; dup {
			d.addf(k, path, "duplicate key %s (first at line %d)", quote(k.Value), line)
			continue
		}
		first[k.Value] = k.Line
		own = append(own, pair{k, v})
	}
	out := make([]pair, 0, len(merged)+len(own))
	seen := map[string]bool{}
	for _, p := range own {
		seen[p.key.Value] = true
	}
	// Among merged sources the first one wins, as in the YAML merge spec.
	for _, p := range merged {
		if !seen[p.key.Value] {
			seen[p.key.Value] = true
			out = append(out, p)
		}
	}
	return append(out, own...)
}

func (d *decoder) mergeSource(v *yaml.Node, path string, depth int) []pair {
	if depth >= maxMergeDepth {
		d.addf(v, path, "merge keys (<<) nested too deeply")
		return nil
	}
	v = d.visit(v)
	if v == nil {
		return nil
	}
	switch v.Kind {
	case yaml.MappingNode:
		return d.pairs(v, path, depth+1)
	case yaml.SequenceNode:
		var out []pair
		for _, item := range v.Content {
			item = d.visit(item)
			if item == nil {
				continue
			}
			if item.Kind != yaml.MappingNode {
				d.addf(item, path, "merge key (<<) list items must be mappings")
				continue
			}
			out = append(out, d.pairs(item, path, depth+1)...)
		}
		return out
	}
	d.addf(v, path, "merge key (<<) needs a mapping or a list of mappings")
	return nil
}

// fields walks a mapping whose keys are known: each non-null value goes to
// its handler with its path, unknown keys are reported (with a suggestion
// when one is close). It returns the keys that were present and not null,
// or nil when n is not a mapping.
func (d *decoder) fields(n *yaml.Node, path string, handlers map[string]func(v *yaml.Node, path string)) map[string]bool {
	n = d.visit(n)
	if n == nil {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "must be a mapping, not %s", kindName(n))
		return nil
	}
	set := map[string]bool{}
	for _, p := range d.pairs(n, path, 0) {
		h, ok := handlers[p.key.Value]
		if !ok {
			msg := "unknown key " + quote(p.key.Value)
			if s := suggest(p.key.Value, handlers); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			} else {
				msg += " (examples/provisioning.yaml shows every key)"
			}
			d.addf(p.key, path, "%s", msg)
			continue
		}
		if isNull(p.val) {
			continue // written but empty: same as absent, as yaml.v3 Decode does
		}
		set[p.key.Value] = true
		h(p.val, join(path, p.key.Value))
	}
	return set
}

// require reports each missing key of a mapping that was walked by fields.
func (d *decoder) require(n *yaml.Node, path string, set map[string]bool, keys ...string) {
	if set == nil {
		return // not a mapping: already reported
	}
	for _, k := range keys {
		if !set[k] {
			d.markBad(join(path, k))
			d.addf(n, path, "missing required key %q", k)
		}
	}
}

// list walks a sequence, calling each for every item with its path; it
// reports whether n was a list (and the budget lasted).
func (d *decoder) list(n *yaml.Node, path string, each func(i int, item *yaml.Node, path string)) bool {
	n = d.visit(n)
	if n == nil {
		return false
	}
	if n.Kind != yaml.SequenceNode {
		d.fail(n, path, "must be a list, not %s", kindName(n))
		return false
	}
	for i, item := range n.Content {
		if d.tooBig {
			return false
		}
		each(i, item, index(path, i))
	}
	return true
}

func (d *decoder) scalar(n *yaml.Node, path string) *yaml.Node {
	n = d.visit(n)
	if n == nil {
		return nil
	}
	if n.Kind != yaml.ScalarNode {
		d.fail(n, path, "must be a single value, not %s", kindName(n))
		return nil
	}
	return n
}

// str reads any scalar as the text written, so that unquoted digits such as
// a UID or 057188880000 (which YAML would read as a float) keep every digit.
func (d *decoder) str(n *yaml.Node, path string) (string, bool) {
	n = d.scalar(n, path)
	if n == nil {
		return "", false
	}
	return n.Value, true
}

func (d *decoder) boolean(n *yaml.Node, path string) (bool, bool) {
	n = d.scalar(n, path)
	if n == nil {
		return false, false
	}
	if n.ShortTag() == "!!bool" {
		if b, err := strconv.ParseBool(strings.ToLower(n.Value)); err == nil {
			return b, true
		}
	}
	d.fail(n, path, "%s is not true or false", quote(n.Value))
	return false, false
}

func (d *decoder) integer(n *yaml.Node, path string) (int, bool) {
	n = d.scalar(n, path)
	if n == nil {
		return 0, false
	}
	if n.ShortTag() == "!!int" {
		if v, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 32); err == nil {
			return int(v), true
		}
	}
	d.fail(n, path, "%s is not an integer", quote(n.Value))
	return 0, false
}

func (d *decoder) number(n *yaml.Node, path string) (float64, bool) {
	n = d.scalar(n, path)
	if n == nil {
		return 0, false
	}
	if t := n.ShortTag(); t == "!!int" || t == "!!float" {
		if v, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64); err == nil && !math.IsInf(v, 0) && !math.IsNaN(v) {
			return v, true
		}
	}
	d.fail(n, path, "%s is not a number", quote(n.Value))
	return 0, false
}

// duration reads "2s", "1500ms" and the like; a bare number other than 0
// is rejected because its unit would be a guess.
func (d *decoder) duration(n *yaml.Node, path string) (time.Duration, bool) {
	n = d.scalar(n, path)
	if n == nil {
		return 0, false
	}
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		d.fail(n, path, "%s is not a duration (write e.g. 2s or 1500ms)", quote(n.Value))
		return 0, false
	}
	if v < 0 {
		d.fail(n, path, "%s must not be negative", quote(n.Value))
		return 0, false
	}
	return v, true
}

// stringList reads a list of scalars; an empty list gives a non-nil slice
// so that callers can tell it from an absent key.
func (d *decoder) stringList(n *yaml.Node, path string) ([]string, bool) {
	out := []string{}
	bad := false
	isList := d.list(n, path, func(_ int, item *yaml.Node, p string) {
		s, ok := d.str(item, p)
		bad = bad || !ok
		out = append(out, s)
	})
	if !isList || bad {
		return nil, false
	}
	return out, true
}

// oneOf checks an enumerated value and names the choices when it is wrong.
func oneOf[T ~string](d *decoder, n *yaml.Node, path string, choices ...T) (T, bool) {
	s, ok := d.str(n, path)
	if !ok {
		return "", false
	}
	for _, c := range choices {
		if string(c) == s {
			return c, true
		}
	}
	names := make([]string, len(choices))
	for i, c := range choices {
		names[i] = string(c)
	}
	d.fail(n, path, "%s is not one of %s", quote(s), strings.Join(names, ", "))
	return "", false
}

// suggest returns the known key closest to an unknown one, if it is close
// enough to be a typo.
func suggest(key string, handlers map[string]func(*yaml.Node, string)) string {
	if len(key) > 64 {
		return ""
	}
	best, bestDist := "", 3
	for k := range handlers {
		if dist := editDistance(key, k); dist < bestDist || (dist == bestDist && best != "" && k < best) {
			best, bestDist = k, dist
		}
	}
	if bestDist > 2 {
		return ""
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
