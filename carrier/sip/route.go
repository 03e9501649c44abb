package sip

import "strings"

// pickTrunk returns the trunk name for a call of account to callee: the
// route with the longest matching prefix wins; on equal prefixes a route
// naming the account beats one for every account, and earlier beats later.
// With no matching route it returns def ("" when there is none).
func pickTrunk(routes []Route, def, account, callee string) string {
	best, bestLen, bestOwn := "", -1, false
	for _, r := range routes {
		if r.Account != "" && r.Account != account {
			continue
		}
		if !strings.HasPrefix(callee, r.Prefix) {
			continue
		}
		own := r.Account != ""
		if len(r.Prefix) > bestLen || (len(r.Prefix) == bestLen && own && !bestOwn) {
			best, bestLen, bestOwn = r.Trunk, len(r.Prefix), own
		}
	}
	if best == "" {
		return def
	}
	return best
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
