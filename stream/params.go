package stream

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/dialtone-voice/dialtone/mediastream"
)

// Fallback is what a call does when its agent stream ends without the
// application's hangup (the socket closed, failed or could not be
// opened): Dialtone's extension, set by "fallback" in stream_params.
type Fallback string

const (
	// FallbackHangup ends the call (the default).
	FallbackHangup Fallback = "hangup"
	// FallbackContinue goes back to the SmartCall callback.
	FallbackContinue Fallback = "continue"
)

// FallbackKey is the stream_params key of the fallback; it is taken out
// of the parameters the application receives.
const FallbackKey = "fallback"

// ParseParams reads a callback's stream_params, a JSON object: "fallback"
// ("continue" or "hangup"; hangup when absent) and the rest, which become
// start.customParameters. Values are strings; a number or a boolean is
// taken as its JSON text, as callback servers in loosely typed languages
// send them; objects and arrays are refused. null or an absent value is
// no parameters.
func ParseParams(raw json.RawMessage) (custom map[string]string, fb Fallback, err error) {
	fb = FallbackHangup
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, fb, nil
	}
	var all map[string]json.RawMessage
	if raw[0] != '{' || json.Unmarshal(raw, &all) != nil {
		return nil, "", fmt.Errorf("stream_params: not a JSON object")
	}
	for k, v := range all {
		v = bytes.TrimSpace(v)
		var s string
		switch {
		case len(v) > 0 && v[0] == '"':
			if err := json.Unmarshal(v, &s); err != nil {
				return nil, "", fmt.Errorf("stream_params.%s: %w", k, err)
			}
		case string(v) == "null":
			continue
		case len(v) > 0 && (v[0] == '{' || v[0] == '['):
			return nil, "", fmt.Errorf("stream_params.%.40s: an object or array; values are strings", k)
		default:
			s = string(v) // a number or a boolean, as written
		}
		if k == FallbackKey {
			switch Fallback(strings.ToLower(s)) {
			case FallbackHangup, FallbackContinue:
				fb = Fallback(strings.ToLower(s))
			default:
				return nil, "", fmt.Errorf("stream_params.fallback: %.40q, want continue or hangup", s)
			}
			continue
		}
		if custom == nil {
			custom = map[string]string{}
		}
		custom[k] = s
	}
	if err := mediastream.CheckParameters(custom); err != nil {
		return nil, "", fmt.Errorf("stream_params: %w", err)
	}
	return custom, fb, nil
}
