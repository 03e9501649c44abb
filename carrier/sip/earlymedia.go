package sip

import (
	"context"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/speech"
)

// earlyMediaTimeout bounds recognising the announcement of a failed call:
// the failure waits for it, so it must not wait long.
const earlyMediaTimeout = 10 * time.Second

// minAnnouncement is the least early media worth recognising: shorter is a
// burst of ringback, not words.
const minAnnouncement = sampleRate / 2

// withEarlyMedia adds to the detail of a failed leg what its early media
// said, when the call asked for it (SmartCall EarlyMediaAsr) and a
// recogniser is configured: the recognised text (early_media_text) and the
// reason it states (early_media_reason), which the engine turns into the
// VoiceReport's early_media_code. The announcement is usually the last
// thing heard before the failure, so the last MaxUtterance of the early
// media is what is recognised.
func (l *leg) withEarlyMedia(detail map[string]string) map[string]string {
	if l.req.Listen == nil || !l.req.Listen.EarlyMediaAsr || l.c.cfg.Recognizer == nil || l.st == nil {
		return detail
	}
	pcm := l.st.earlyMedia()
	if len(pcm) < minAnnouncement {
		return detail
	}
	if max := int(speech.MaxUtterance / time.Second * sampleRate); len(pcm) > max {
		pcm = pcm[len(pcm)-max:]
	}
	// The platform hanging up abandons the recognition.
	ctx, cancel := l.untilHangup(context.WithTimeout(context.Background(), earlyMediaTimeout))
	defer cancel()
	if detail == nil {
		detail = map[string]string{}
	}
	res, err := l.c.cfg.Recognizer.Recognize(ctx, &dialtone.Audio{Samples: pcm, Label: "early media"}, speech.AnnouncementHints())
	if err != nil {
		l.log("early media not recognised", "err", err)
		detail["early_media_error"] = err.Error()
		return detail
	}
	detail["early_media_text"] = res.Text
	if reason, ok := speech.ClassifyAnnouncement(res.Text); ok {
		detail["early_media_reason"] = string(reason)
	}
	return detail
}
