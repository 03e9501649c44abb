package sip

import (
	"strconv"
	"strings"

	"github.com/dialtone-voice/dialtone"
)

// statusReasons maps every SIP final response we know to a carrier-neutral
// reason. It is the one place the mapping lives; status_test.go has a case
// for each row and fails when a row has none. Codes not listed fall back
// to their class (classReason).
var statusReasons = map[int]dialtone.FailReason{
	// 3xx: we do not follow redirects, so the callee is not reachable
	// through this trunk.
	300: dialtone.FailUnreachable,
	301: dialtone.FailUnreachable,
	302: dialtone.FailUnreachable,
	305: dialtone.FailUnreachable,
	380: dialtone.FailUnreachable,

	400: dialtone.FailSystem,     // our request was malformed
	401: dialtone.FailSystem,     // credentials wrong or missing: operator's config
	402: dialtone.FailRestricted, // carrier account out of credit
	403: dialtone.FailRestricted, // barred
	404: dialtone.FailInvalid,
	405: dialtone.FailSystem,
	406: dialtone.FailSystem,
	407: dialtone.FailSystem, // as 401
	408: dialtone.FailNoAnswer,
	410: dialtone.FailInvalid, // number no longer in service
	413: dialtone.FailSystem,
	414: dialtone.FailInvalid, // Request-URI (the number) too long
	415: dialtone.FailSystem,
	416: dialtone.FailInvalid,
	420: dialtone.FailSystem,
	421: dialtone.FailSystem,
	423: dialtone.FailSystem,
	433: dialtone.FailRestricted, // anonymity disallowed
	480: dialtone.FailNoAnswer,   // temporarily unavailable
	481: dialtone.FailSystem,
	482: dialtone.FailUnreachable, // loop
	483: dialtone.FailUnreachable, // too many hops
	484: dialtone.FailInvalid,     // address incomplete
	485: dialtone.FailInvalid,     // ambiguous
	486: dialtone.FailBusy,
	487: dialtone.FailNoAnswer, // terminated: after our ring timeout (our own Hangup is FailCancelled, decided by the leg)
	488: dialtone.FailSystem,   // no common codec: operator's config
	491: dialtone.FailSystem,
	493: dialtone.FailSystem,

	500: dialtone.FailUnreachable,
	501: dialtone.FailSystem,
	502: dialtone.FailUnreachable,
	503: dialtone.FailUnreachable,
	504: dialtone.FailUnreachable,
	505: dialtone.FailSystem,
	513: dialtone.FailSystem,
	580: dialtone.FailSystem,

	600: dialtone.FailBusy,
	603: dialtone.FailRejected,
	604: dialtone.FailInvalid,
	606: dialtone.FailSystem, // not acceptable (media)
	607: dialtone.FailRejected,
	608: dialtone.FailRejected,
}

// classReason is the fallback for codes not in statusReasons.
func classReason(code int) dialtone.FailReason {
	switch {
	case code >= 300 && code < 400:
		return dialtone.FailUnreachable
	case code >= 500 && code < 600:
		return dialtone.FailUnreachable
	case code >= 600 && code < 700:
		return dialtone.FailRejected
	default:
		return dialtone.FailSystem
	}
}

// q850Reasons refines a response by its Reason: Q.850;cause=N header
// (RFC 3326), which carriers bridging to the phone network copy from ISUP.
// It tells apart what a SIP code lumps together, e.g. a phone switched
// off (cause 20) from one ringing out (cause 19), both often sent as 480.
var q850Reasons = map[int]dialtone.FailReason{
	1:  dialtone.FailInvalid,     // unallocated number
	3:  dialtone.FailOutOfArea,   // no route to destination
	17: dialtone.FailBusy,        // user busy
	18: dialtone.FailNoAnswer,    // no user responding
	19: dialtone.FailNoAnswer,    // no answer from user
	20: dialtone.FailPoweredOff,  // subscriber absent
	21: dialtone.FailRejected,    // call rejected
	22: dialtone.FailInvalid,     // number changed
	27: dialtone.FailUnreachable, // destination out of order
	28: dialtone.FailInvalid,     // invalid number format
	34: dialtone.FailUnreachable, // no circuit available
	38: dialtone.FailUnreachable, // network out of order
	41: dialtone.FailUnreachable, // temporary failure
	42: dialtone.FailUnreachable, // switching equipment congestion
	55: dialtone.FailRestricted,  // incoming calls barred
	57: dialtone.FailRestricted,  // bearer capability not authorised
}

// failReason maps a final response (and its Reason header value, "" if
// none) to a reason.
func failReason(code int, reasonHeader string) dialtone.FailReason {
	if c, ok := q850Cause(reasonHeader); ok {
		if r, ok := q850Reasons[c]; ok {
			return r
		}
	}
	if r, ok := statusReasons[code]; ok {
		return r
	}
	return classReason(code)
}

// q850Cause extracts N from `Q.850;cause=N;text="..."`.
func q850Cause(h string) (int, bool) {
	for _, part := range strings.Split(h, ",") {
		params := strings.Split(part, ";")
		if !strings.EqualFold(strings.TrimSpace(params[0]), "Q.850") {
			continue
		}
		for _, p := range params[1:] {
			k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
			if ok && strings.EqualFold(k, "cause") {
				n, err := strconv.Atoi(strings.TrimSpace(v))
				if err == nil && n > 0 && n < 128 {
					return n, true
				}
			}
		}
	}
	return 0, false
}
