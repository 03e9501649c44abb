package provision

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone"
)

// TestApplyMachineDetection: an account's machine_detection key sets the
// setting; a file that leaves it out keeps what the account has (as the
// console may have changed it); a value that is not a mode is refused at
// its line, naming the key.
func TestApplyMachineDetection(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	doc := "accounts:\n  - uid: \"42\"\n    name: a\n    machine_detection: message\n"
	if _, err := Apply(ctx, svcOf(st), mustParse(t, doc)); err != nil {
		t.Fatal(err)
	}
	set, err := st.GetAccountSettings(ctx, "42")
	if err != nil || set.MachineDetection != dialtone.MachineDetectionMessage {
		t.Fatalf("settings = %+v, %v", set, err)
	}
	res, err := Apply(ctx, svcOf(st), mustParse(t, doc))
	if err != nil || res.Accounts[0].Settings != "unchanged" {
		t.Fatalf("second apply = %+v, %v", res, err)
	}
	if _, err := Apply(ctx, svcOf(st), mustParse(t, "accounts:\n  - uid: \"42\"\n    name: a\n")); err != nil {
		t.Fatal(err)
	}
	if set, _ = st.GetAccountSettings(ctx, "42"); set.MachineDetection != dialtone.MachineDetectionMessage {
		t.Fatalf("a file without the key changed it to %q", set.MachineDetection)
	}
	// off is the word, not YAML 1.1's false.
	if _, err := Apply(ctx, svcOf(st), mustParse(t, "accounts:\n  - uid: \"42\"\n    name: a\n    machine_detection: off\n")); err != nil {
		t.Fatal(err)
	}
	if set, _ = st.GetAccountSettings(ctx, "42"); set.MachineDetection != dialtone.MachineDetectionOff {
		t.Fatalf("machine_detection: off stored %q", set.MachineDetection)
	}
	_, err = Parse([]byte("accounts:\n  - name: a\n    machine_detection: voicemail\n"), "")
	if err == nil || !strings.Contains(err.Error(), `line 3: accounts[0].machine_detection: "voicemail" must be off, detect, hangup or message`) {
		t.Fatalf("bad mode: %v", err)
	}
}

// TestParseNetworkAnswerers: the network section's keys of who answers
// and of early media decode into the simulator's model, a subscriber
// inheriting what it does not write from the default; keys written where
// they mean nothing, and values the model refuses, are reported at their
// line.
func TestParseNetworkAnswerers(t *testing.T) {
	doc := mustParse(t, `network:
  default:
    answered_by: voicemail
    greeting: "Leave a message."
    voice: en-gb
  subscribers:
    - number: "13800000001"
      beep: false
      greeting_length: 12s
    - number: "13800000002"
      answered_by: person
      hello: "喂？"
      voice: cmn
    - number: "13800000003"
      result: no_answer
      early_media: special_information
      tone_plan: NA
    - number: "13800000004"
`)
	subs := doc.Network.Subscribers
	if b := subs[0].Behavior; b.AnsweredBy != "voicemail" || b.Greeting != "Leave a message." || !b.NoBeep || b.GreetingLength != 12*time.Second || b.Voice != "en-gb" {
		t.Errorf("voicemail without beep: %+v", b)
	}
	if b := subs[1].Behavior; b.AnsweredBy != "person" || b.Hello != "喂？" || b.Voice != "cmn" {
		t.Errorf("person: %+v", b)
	}
	if b := subs[2].Behavior; b.EarlyMedia != "special_information" || b.TonePlan != "NA" || b.Result != "no_answer" {
		t.Errorf("early media: %+v", b)
	}
	if b := subs[3].Behavior; b.AnsweredBy != "voicemail" || b.NoBeep {
		t.Errorf("inherited: %+v", b)
	}
	for in, want := range map[string]string{
		"network:\n  subscribers:\n    - {number: \"13800000001\", result: busy, hello: hi}\n":           "line 3: network.subscribers[0]: hello only applies when result is answer, not busy",
		"network:\n  subscribers:\n    - {number: \"13800000001\", result: busy, early_media: busy}\n":   "network.subscribers[0]: early_media only applies when result is answer, no_answer or rejected",
		"network:\n  subscribers:\n    - {number: \"13800000001\", answered_by: fax, greeting: hi}\n":    "network.subscribers[0]: greeting only applies when answered_by is voicemail, not fax",
		"network:\n  subscribers:\n    - {number: \"13800000001\", answered_by: voicemail, hello: hi}\n": "network.subscribers[0]: hello only applies when answered_by is person, not voicemail",
		"network:\n  default:\n    answered_by: robot\n":                                                 `line 3: network.default.answered_by: "robot" is not one of person, voicemail, fax`,
		"network:\n  default:\n    early_media: fast_busy\n":                                             `line 3: network.default.early_media: "fast_busy" is not one of busy, congestion, special_information, ringback`,
		"network:\n  default:\n    tone_plan: UK\n":                                                      `line 3: network.default.tone_plan: "UK" is not one of CN, EU, NA`,
		"network:\n  default:\n    greeting_length: 3m\n":                                                "line 3: network.default.greeting_length: must be at most 2m",
		"network:\n  default:\n    beep: loud\n":                                                         `line 3: network.default.beep: "loud" is not true or false`,
		"network:\n  default:\n    hello: \"\"\n":                                                        "line 3: network.default.hello: must not be empty",
		"network:\n  default:\n    voice: \"en us\"\n":                                                   `line 3: network.default.voice: "en us" is not an espeak-ng voice name`,
	} {
		_, err := Parse([]byte(in), "")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want %q", in, err, want)
		}
	}
}
