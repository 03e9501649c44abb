package provision

import (
	"fmt"
	"strings"
)

// Summary tells a person what Apply did (or, for a dry run, would do), one
// line per account of the document, then the console users and the
// operator's blacklist when the document has them:
//
//	account 1234567890123456 (demo) created: 1 access key created, 2 TTS templates created, settings updated
//	account 1001 (shop) unchanged
//	console users: 1 created, 1 unchanged
func (r Result) Summary() string {
	var b strings.Builder
	if r.DryRun {
		b.WriteString("dry run: nothing was changed; applying the document would do this:\n")
	}
	if len(r.Accounts) == 0 && r.Blacklist == "" && r.Network == "" && r.consoleUsers() == (Counts{}) {
		b.WriteString("the document lists nothing to apply\n")
	}
	for _, a := range r.Accounts {
		fmt.Fprintf(&b, "account %s", a.UID)
		if a.Name != "" {
			fmt.Fprintf(&b, " (%s)", a.Name)
		}
		b.WriteString(" " + a.Action)
		var parts []string
		for _, k := range []struct {
			c    Counts
			name string
		}{
			{a.Keys, "access key"}, {a.Numbers, "number"}, {a.Templates, "TTS template"},
			{a.VoiceFiles, "voice file"}, {a.Subscriptions, "subscription"},
		} {
			// Unchanged objects of an unchanged account go without saying.
			parts = append(parts, k.c.phrases(k.name, a.Action != ActionUnchanged || k.c.Created+k.c.Updated > 0)...)
		}
		if a.Settings == ActionUpdated {
			parts = append(parts, "settings updated")
		}
		if len(parts) > 0 {
			b.WriteString(": " + strings.Join(parts, ", "))
		}
		b.WriteByte('\n')
	}
	if cu := r.consoleUsers(); cu != (Counts{}) {
		b.WriteString("console users: " + strings.Join(cu.phrases("", true), ", ") + "\n")
	}
	if r.Network != "" {
		b.WriteString("simulated network " + r.Network + "\n")
	}
	if r.Blacklist != "" {
		b.WriteString("operator blacklist " + r.Blacklist + "\n")
	}
	return b.String()
}

func (r Result) consoleUsers() Counts {
	return Counts{Created: r.ConsoleUsersCreated, Updated: r.ConsoleUsersUpdated, Unchanged: r.ConsoleUsersUnchanged}
}

// phrases words the counts ("2 TTS templates created"); with no name,
// just the number and what happened ("2 created"). Unchanged objects are
// told only when withUnchanged.
func (c Counts) phrases(name string, withUnchanged bool) []string {
	var out []string
	for _, p := range []struct {
		n    int
		verb string
	}{{c.Created, ActionCreated}, {c.Updated, ActionUpdated}, {c.Unchanged, ActionUnchanged}} {
		if p.n == 0 || (p.verb == ActionUnchanged && !withUnchanged) {
			continue
		}
		switch {
		case name == "":
			out = append(out, fmt.Sprintf("%d %s", p.n, p.verb))
		case p.n == 1:
			out = append(out, fmt.Sprintf("1 %s %s", name, p.verb))
		default:
			out = append(out, fmt.Sprintf("%d %ss %s", p.n, name, p.verb))
		}
	}
	return out
}
