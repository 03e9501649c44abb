package dialtone

import (
	"net/url"
	"slices"
	"strings"
)

// Media streams: a call's audio, both ways, over a WebSocket to the
// business's application (package stream; Twilio Media Streams' message
// set). An account turns them on with two settings:
//
//   - SmartCallStreamURL connects every answered SmartCall of the account
//     to its agent at once, without a callback round trip (a callback may
//     also answer action "stream" with a URL of its own);
//   - ForkStreamURL streams a listen-only copy of every answered call of
//     the kinds in ForkStreamKinds (transcription, quality monitoring); a
//     fork never changes the call.
//
// Like the other URLs Dialtone reaches on an account's behalf, each is
// stored with who set it (the egress policy's trust), and the upgrades are
// signed with the account's SmartCall callback secret.

// ForkKind is a kind of call a fork streams: notification (SingleCallByTts
// and SingleCallByVoice), ivr (IvrCall) or clicktodial (ClickToDial, both
// parties as two tracks).
type ForkKind string

const (
	ForkNotification ForkKind = "notification"
	ForkIVR          ForkKind = "ivr"
	ForkClickToDial  ForkKind = "clicktodial"
)

// ForkKinds are the kinds a fork may stream, in their documented order.
var ForkKinds = []ForkKind{ForkNotification, ForkIVR, ForkClickToDial}

// ForkKindOf is the fork kind of a call kind; false for SmartCall, whose
// audio goes to its agent stream instead.
func ForkKindOf(k CallKind) (ForkKind, bool) {
	switch k {
	case KindVoice, KindTTS:
		return ForkNotification, true
	case KindIVR:
		return ForkIVR, true
	case KindClickToDial:
		return ForkClickToDial, true
	}
	return "", false
}

// Forks reports whether the settings fork calls of kind k.
func (s *AccountSettings) Forks(k CallKind) bool {
	fk, ok := ForkKindOf(k)
	if !ok || s.ForkStreamURL == "" {
		return false
	}
	return len(s.ForkStreamKinds) == 0 || slices.Contains(s.ForkStreamKinds, fk)
}

// CheckStreamURL checks a media stream's URL given as field: ws:// or
// wss:// with a host and no credentials, at most MaxURL bytes.
func CheckStreamURL(field, s string) error {
	if len(s) > MaxURL {
		return Invalid(field, "is longer than %d bytes", MaxURL)
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" || u.User != nil {
		return Invalid(field, "%s is not a ws:// or wss:// URL without credentials", quote(s))
	}
	return nil
}

// CheckForkKinds checks the kinds a fork streams, given as field: each of
// notification, ivr and clicktodial, at most once.
func CheckForkKinds(field string, kinds []ForkKind) error {
	seen := map[ForkKind]bool{}
	for i, k := range kinds {
		if !slices.Contains(ForkKinds, k) {
			return Invalid(field, "%s (item %d) must be notification, ivr or clicktodial", quote(string(k)), i)
		}
		if seen[k] {
			return Invalid(field, "%s is given twice", quote(string(k)))
		}
		seen[k] = true
	}
	return nil
}

// ParseForkKinds reads a comma-separated list (the store's and the
// console's form); blanks are skipped.
func ParseForkKinds(s string) []ForkKind {
	var out []ForkKind
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, ForkKind(p))
		}
	}
	return out
}

// FormatForkKinds is the comma-separated form of kinds.
func FormatForkKinds(kinds []ForkKind) string {
	parts := make([]string, len(kinds))
	for i, k := range kinds {
		parts[i] = string(k)
	}
	return strings.Join(parts, ",")
}

// StreamPlan is a media stream a call opens, kept in its plan as the
// account's settings said when the call was accepted.
type StreamPlan struct {
	URL     string `json:"url"`
	Trusted bool   `json:"trusted,omitempty"`
}

// Stream details in CallEvent.Detail of the "stream" event (one per stream,
// when it ends) and of the "ended" event (the call's agent stream, or its
// fork when it has no agent stream), which the VoiceReport and the call
// detail report.
const (
	DetailStreamRole       = "stream_role"            // agent or fork
	DetailStreamSID        = "stream_sid"             // MZ…
	DetailStreamDurationMS = "stream_duration_ms"     // from the upgrade to the end
	DetailStreamFramesOut  = "stream_frames_sent"     // media messages sent to the application
	DetailStreamFramesIn   = "stream_frames_received" // media messages from the application
	DetailStreamDrops      = "stream_drops"           // frames dropped either way (buffers full)
	DetailStreamEnd        = "stream_end"             // why it ended: stopped, hangup, closed, failed, refused, busy
	DetailStreamEndDetail  = "stream_end_detail"      // the words of it
)

// StreamDetailKeys are the keys the ended event copies from a stream's.
var StreamDetailKeys = []string{DetailStreamRole, DetailStreamSID, DetailStreamDurationMS, DetailStreamFramesOut,
	DetailStreamFramesIn, DetailStreamDrops, DetailStreamEnd, DetailStreamEndDetail}
