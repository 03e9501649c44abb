package sip

import (
	"context"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/media"
	"github.com/dialtone-voice/dialtone/speech"
)

// TestEarlyMediaAnnouncementRecognised: the far end plays "the number you
// have dialed is switched off" in early media and then fails with a
// generic 480. A smart call that asked for EarlyMediaAsr gets the real
// reason beside the SIP one: the announcement is recognised by
// PocketSphinx and classified as powered off. A call that did not ask
// gets the SIP reason alone, and no recognition is run.
func TestEarlyMediaAnnouncementRecognised(t *testing.T) {
	needPocketSphinx(t)
	said, err := (&media.ESpeak{}).Speak(context.Background(), "the number you have dialed is switched off", "en", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, asr := range []bool{true, false} {
		u := startUAS(t, &testUAS{early: true, earlySay: said.Samples, earlyEnd: 480})
		c := newTestCarrier(t, u.addr, func(cfg *Config) { cfg.Recognizer = &speech.PocketSphinx{} })
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		l, err := c.Originate(ctx, dialtone.OriginateRequest{CallID: t.Name(), Leg: "A", AccountUID: "acct", To: "13800000000",
			From: "05710000000", RingTimeout: 20 * time.Second, Listen: &dialtone.SmartPlan{EarlyMediaAsr: asr}})
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		ev, _ := waitFor(t, l, dialtone.LegFailed, 20*time.Second)
		if ev.Reason != dialtone.FailNoAnswer || ev.Detail["sip_status"] != "480" {
			t.Errorf("asr=%v: reason %s detail %v, want no_answer from the 480", asr, ev.Reason, ev.Detail)
		}
		if asr {
			if ev.Detail["early_media_reason"] != string(dialtone.FailPoweredOff) {
				t.Errorf("early media reason %q (text %q, error %q), want powered_off",
					ev.Detail["early_media_reason"], ev.Detail["early_media_text"], ev.Detail["early_media_error"])
			}
		} else if _, ok := ev.Detail["early_media_text"]; ok {
			t.Errorf("recognised without EarlyMediaAsr: %v", ev.Detail)
		}
		waitClosed(t, l, 5*time.Second)
	}
}
