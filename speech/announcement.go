package speech

import (
	"strings"

	"github.com/dialtone-voice/dialtone"
)

// Carrier announcements. A call that is not answered often fails with a
// generic SIP response (480, 487 after our CANCEL, even 183 then 503)
// while the carrier says the real reason in early media: "the number you
// have dialed is switched off". SmartCall's EarlyMediaAsr asks for that
// reason (early_media_code in the VoiceReport); it is found by recognising
// the announcement and spotting its key words.

// announcementRules map key phrases of announcements to failure reasons.
// They are tried in order, so the more specific phrase goes first ("not
// in service" is an empty number, "out of the service area" is not; "空号"
// before "号码"). English as carriers word it (US spelling, as the
// PocketSphinx dictionary has it) and Mandarin as Chinese carriers do, for
// network recognisers that return Chinese.
var announcementRules = []struct {
	reason  dialtone.FailReason
	phrases []string
}{
	{dialtone.FailPoweredOff, []string{"switched off", "powered off", "turned off", "关机"}},
	{dialtone.FailSuspended, []string{"suspended", "停机", "欠费"}},
	{dialtone.FailInvalid, []string{"does not exist", "not in service", "check the number", "invalid number", "空号", "不存在"}},
	{dialtone.FailOutOfArea, []string{"out of the service area", "out of service area", "out of range", "不在服务区"}},
	{dialtone.FailUnreachable, []string{"cannot be reached", "cannot be connected", "not reachable", "unreachable", "无法接通", "暂时无法"}},
	{dialtone.FailBusy, []string{"busy", "正忙", "通话中"}},
	{dialtone.FailNoAnswer, []string{"not answering", "no answer", "cannot answer", "无人接听"}},
	{dialtone.FailRejected, []string{"rejected", "declined", "拒接", "拒绝"}},
}

// ClassifyAnnouncement returns the failure reason an announcement's text
// states, and false when it states none that is known.
func ClassifyAnnouncement(text string) (dialtone.FailReason, bool) {
	t := strings.ToLower(strings.Join(strings.Fields(text), " "))
	if t == "" {
		return "", false
	}
	for _, r := range announcementRules {
		for _, p := range r.phrases {
			if strings.Contains(t, p) {
				return r.reason, true
			}
		}
	}
	return "", false
}

// announcementPhrases are the English announcements a grammar-based
// recogniser (PocketSphinx) chooses among; each contains a phrase of
// announcementRules, so whichever it picks classifies.
var announcementPhrases = []string{
	"the number you have dialed is busy",
	"the subscriber you dialed is busy",
	"the number you have dialed is switched off",
	"the subscriber you dialed is powered off",
	"the number you have dialed has been suspended",
	"the number you have dialed does not exist",
	"the number you have dialed is not in service",
	"please check the number and dial again",
	"the subscriber you dialed is out of the service area",
	"the number you have dialed cannot be reached",
	"the subscriber you dialed is not answering",
	"the subscriber you dialed has rejected your call",
}

// AnnouncementHints are the recogniser hints for early media: the known
// announcements as a grammar (network engines get them as phrase hints).
func AnnouncementHints() Hints {
	return Hints{Model: "early-media", Words: append([]string(nil), announcementPhrases...), Language: "en-US"}
}
