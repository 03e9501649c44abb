package sip

import (
	"slices"
	"strings"
)

// pickTrunk returns the trunk name for a call of account to callee: the
// first of pickTrunks, or "" when there is none.
func pickTrunk(routes []Route, def, account, callee string) string {
	if names := pickTrunks(routes, def, account, callee); len(names) > 0 {
		return names[0]
	}
	return ""
}

// pickTrunks returns the trunks a call of account to callee may use, in
// the order to try them. The route with the longest matching prefix wins;
// on equal prefixes a route naming the account beats one for every
// account. Every route with the winner's account and prefix is a
// candidate, in the order written (the later ones are the failover order).
// With no matching route it returns def, or nothing when def is "".
func pickTrunks(routes []Route, def, account, callee string) []string {
	best := -1
	for i, r := range routes {
		if r.Account != "" && r.Account != account {
			continue
		}
		if !strings.HasPrefix(callee, r.Prefix) {
			continue
		}
		if best < 0 {
			best = i
			continue
		}
		b := routes[best]
		if len(r.Prefix) > len(b.Prefix) || (len(r.Prefix) == len(b.Prefix) && r.Account != "" && b.Account == "") {
			best = i
		}
	}
	if best < 0 {
		if def == "" {
			return nil
		}
		return []string{def}
	}
	b := routes[best]
	var out []string
	for _, r := range routes {
		if r.Account == b.Account && r.Prefix == b.Prefix && !slices.Contains(out, r.Trunk) {
			out = append(out, r.Trunk)
		}
	}
	return out
}

// rewriteNumber applies the first rule whose prefix matches number.
func rewriteNumber(rules []RewriteRule, number string) string {
	for _, r := range rules {
		if strings.HasPrefix(number, r.Prefix) {
			return r.Replace + number[len(r.Prefix):]
		}
	}
	return number
}

// presentation returns the From user and the P-Asserted-Identity user
// ("" for none) for a display number on a trunk.
func presentation(t *Trunk, display string) (fromUser, paiUser string) {
	switch t.Presentation {
	case PresentPAI:
		return t.Username, display
	case PresentBoth:
		return display, display
	default:
		if display == "" {
			return t.Username, ""
		}
		return display, ""
	}
}

// validUser reports whether s can be the user part of a SIP URI without
// escaping: phone numbers and the usual unreserved characters. Numbers
// come from API input, so anything else is refused rather than escaped
// (this also stops header injection).
func validUser(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		switch {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case strings.ContainsRune("+-_.*", c):
		default:
			return false
		}
	}
	return true
}
