package speech

import (
	"testing"

	"github.com/dialtone-voice/dialtone"
)

func TestClassifyAnnouncement(t *testing.T) {
	for _, tc := range []struct {
		text string
		want dialtone.FailReason
	}{
		{"the number you have dialed is switched off", dialtone.FailPoweredOff},
		{"The subscriber you dialed is  POWERED OFF", dialtone.FailPoweredOff},
		{"the number you have dialed has been suspended", dialtone.FailSuspended},
		{"the number you have dialed is not in service", dialtone.FailInvalid},
		{"please check the number and dial again", dialtone.FailInvalid},
		{"the subscriber you dialed is out of the service area", dialtone.FailOutOfArea},
		{"the number you have dialed cannot be reached", dialtone.FailUnreachable},
		{"the number you have dialed is busy", dialtone.FailBusy},
		{"the subscriber you dialed is not answering", dialtone.FailNoAnswer},
		{"the subscriber you dialed has rejected your call", dialtone.FailRejected},
		{"您拨打的电话已关机", dialtone.FailPoweredOff},
		{"您拨打的号码是空号，请查证后再拨", dialtone.FailInvalid},
		{"您拨打的电话已停机", dialtone.FailSuspended},
		{"您拨打的用户不在服务区", dialtone.FailOutOfArea},
		{"您拨打的电话暂时无法接通", dialtone.FailUnreachable},
		{"您拨打的电话正在通话中", dialtone.FailBusy},
		{"您拨打的电话暂时无人接听", dialtone.FailNoAnswer},
	} {
		got, ok := ClassifyAnnouncement(tc.text)
		if !ok || got != tc.want {
			t.Errorf("ClassifyAnnouncement(%q) = %s, %v; want %s", tc.text, got, ok, tc.want)
		}
	}
	for _, text := range []string{"", "   ", "hello", "please hold the line", "欢迎致电"} {
		if got, ok := ClassifyAnnouncement(text); ok {
			t.Errorf("ClassifyAnnouncement(%q) = %s, want nothing", text, got)
		}
	}
}

// TestAnnouncementPhrasesClassify: every phrase the grammar offers
// classifies, and is a valid grammar phrase, so whatever a grammar
// recogniser picks has a reason.
func TestAnnouncementPhrasesClassify(t *testing.T) {
	h := AnnouncementHints()
	if _, err := WordsGrammar(h.Words); err != nil {
		t.Fatal(err)
	}
	for _, p := range h.Words {
		if _, ok := ClassifyAnnouncement(p); !ok {
			t.Errorf("phrase %q does not classify", p)
		}
	}
	h.Words[0] = "changed"
	if AnnouncementHints().Words[0] == "changed" {
		t.Error("AnnouncementHints shares its phrases with callers")
	}
}

func FuzzClassifyAnnouncement(f *testing.F) {
	f.Add("the number you have dialed is switched off")
	f.Add("您拨打的电话已关机")
	f.Fuzz(func(t *testing.T, text string) {
		reason, ok := ClassifyAnnouncement(text)
		if ok != (reason != "") {
			t.Fatalf("ok %v with reason %q", ok, reason)
		}
		// Spacing around the text does not change what it says.
		if again, _ := ClassifyAnnouncement("  " + text + "\n"); again != reason {
			t.Fatalf("%q: %q, padded: %q", text, reason, again)
		}
	})
}
