package sim

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/internal/fielderr"
	"github.com/dialtone-voice/dialtone/media/detect"
)

// listen answers a call to number and runs the answering-machine detector
// in mode on what the subscriber sends, until its final verdict.
func listen(t *testing.T, n *Network, number string, mode detect.Mode) (detect.Result, dialtone.Leg) {
	t.Helper()
	l, err := n.Originate(context.Background(), dialtone.OriginateRequest{CallID: "amd-" + number, Leg: "A", To: number, From: "9"})
	if err != nil {
		t.Fatal(err)
	}
	for {
		ev := next(t, l)
		if ev.Kind == dialtone.LegAnswered {
			break
		}
		if ev.Kind == dialtone.LegFailed {
			t.Fatalf("failed: %+v", ev)
		}
	}
	amd, err := detect.NewAMD(detect.Config{Mode: mode}, time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	final := make(chan detect.Result, 1)
	var last time.Duration
	stop, err := l.(dialtone.AudioTap).TapAudio(func(pcm []int16, since time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		if since < last {
			t.Errorf("audio at %v after audio at %v", since, last)
		}
		last = since
		for _, r := range amd.Write(pcm, time.Unix(0, 0).Add(since)) {
			if r.Final {
				final <- r
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	select {
	case r := <-final:
		return r, l
	case <-time.After(20 * time.Second):
		t.Fatalf("no final verdict for %s", number)
	}
	return detect.Result{}, nil
}

func needESpeak(t *testing.T) {
	t.Helper()
	if _, err := (&Network{}).speaker().Speak(context.Background(), "hello", DefaultVoice, 0, 0); err != nil {
		t.Fatalf("espeak-ng is needed (Debian package espeak-ng): %v", err)
	}
}

// TestAnswerers: the detector, fed what each subscriber sends, tells a
// voicemail box whose beep ends its greeting, one without a beep, a
// greeting made to last 12 s, a fax machine, a person who says hello and
// one who says nothing; the transcript notes what was sent, when.
func TestAnswerers(t *testing.T) {
	needESpeak(t)
	n := newNet(
		Subscriber{Number: "10001", Behavior: Behavior{AnsweredBy: AnsweredByVoicemail}},
		Subscriber{Number: "10002", Behavior: Behavior{AnsweredBy: AnsweredByVoicemail, NoBeep: true, Greeting: "This is the Acme support line. Our office is closed. Please call again tomorrow."}},
		Subscriber{Number: "10003", Behavior: Behavior{AnsweredBy: AnsweredByVoicemail, Greeting: "Leave a message.", GreetingLength: 12 * time.Second}},
		Subscriber{Number: "10004", Behavior: Behavior{AnsweredBy: AnsweredByFax}},
		Subscriber{Number: "10005", Behavior: Behavior{Hello: "Hello?"}},
		Subscriber{Number: "10006", Behavior: Behavior{}},
	)
	cases := []struct {
		number string
		want   detect.AnsweredBy
		marks  []string
	}{
		{"10001", detect.MachineEndBeep, []string{"greeting", "beep"}},
		{"10002", detect.MachineEndSilence, []string{"greeting"}},
		{"10003", detect.MachineEndBeep, []string{"greeting", "beep"}},
		{"10004", detect.Fax, []string{"fax"}},
		{"10005", detect.Human, []string{"hello"}},
		{"10006", detect.Unknown, nil},
	}
	for _, c := range cases {
		t.Run(c.number, func(t *testing.T) {
			r, l := listen(t, n, c.number, detect.ModeMessage)
			if r.AnsweredBy != c.want {
				t.Errorf("%s: %v, want %s", c.number, r, c.want)
			}
			if c.number == "10003" && r.After < 12*time.Second {
				t.Errorf("a greeting of 12 s ended after %v", r.After)
			}
			_ = l.Hangup(context.Background())
			var kinds []string
			for _, e := range n.Transcript("amd-" + c.number) {
				switch e.Kind {
				case "hello", "greeting", "beep", "fax":
					kinds = append(kinds, e.Kind)
				}
			}
			if strings.Join(kinds, ",") != strings.Join(c.marks, ",") {
				t.Errorf("transcript marks %v, want %v", kinds, c.marks)
			}
		})
	}
}

// TestEarlyMediaTones: a network that plays busy tone while the call
// rings, and never ends it, has it given up as busy a moment after the
// tone is confirmed; congestion and the special information tone are
// unreachable; a ringback changes nothing; busy tone confirmed before a
// 480-like no_answer turns it into busy (not when the 480 comes first),
// and a definite result (rejected) stands.
func TestEarlyMediaTones(t *testing.T) {
	// The tone is found in synthesised audio in real time: at a quarter of
	// real time a loaded machine's delays stay small in simulated time.
	n := newNetScaled(0.25,
		Subscriber{Number: "20001", Behavior: Behavior{Result: ResultNoAnswer, EarlyMedia: EarlyBusy}},
		Subscriber{Number: "20002", Behavior: Behavior{Result: ResultNoAnswer, EarlyMedia: EarlyCongestion, TonePlan: "EU"}},
		Subscriber{Number: "20003", Behavior: Behavior{Result: ResultNoAnswer, EarlyMedia: EarlySIT, TonePlan: "NA"}},
		Subscriber{Number: "20004", Behavior: Behavior{Result: ResultNoAnswer, Ring: 8 * time.Second, EarlyMedia: EarlyRingback}},
		Subscriber{Number: "20005", Behavior: Behavior{Result: ResultNoAnswer, Ring: 2 * time.Second, EarlyMedia: EarlyBusy}},
		Subscriber{Number: "20007", Behavior: Behavior{Result: ResultNoAnswer, Ring: time.Second, EarlyMedia: EarlyBusy}},
		Subscriber{Number: "20006", Behavior: Behavior{Result: ResultRejected, Ring: 3 * time.Second, EarlyMedia: EarlyBusy}},
	)
	cases := []struct {
		number string
		want   dialtone.FailReason
		tone   string
		within time.Duration // of clock time after ringing
	}{
		{"20001", dialtone.FailBusy, "busy", 6 * time.Second},
		{"20002", dialtone.FailUnreachable, "congestion", 6 * time.Second},
		{"20003", dialtone.FailUnreachable, "special_information", 6 * time.Second},
		{"20004", dialtone.FailNoAnswer, "ringback", 9 * time.Second},
		{"20005", dialtone.FailBusy, "busy", 3 * time.Second}, // the 480 at 2 s comes after the tone (1.3 s)
		{"20007", dialtone.FailNoAnswer, "", 2 * time.Second}, // the 480 at 1 s comes before
		{"20006", dialtone.FailRejected, "busy", 4 * time.Second},
	}
	for _, c := range cases {
		t.Run(c.number, func(t *testing.T) {
			l, err := n.Originate(context.Background(), dialtone.OriginateRequest{CallID: "em-" + c.number, Leg: "A", To: c.number, From: "9"})
			if err != nil {
				t.Fatal(err)
			}
			var rang time.Time
			for {
				ev := next(t, l)
				if ev.Kind == dialtone.LegRinging {
					rang = n.clock.Now()
				}
				if ev.Kind != dialtone.LegFailed {
					continue
				}
				if ev.Reason != c.want || ev.Detail["early_media_tone"] != c.tone {
					t.Errorf("failed %s with %v; want %s with tone %q", ev.Reason, ev.Detail, c.want, c.tone)
				}
				if d := n.clock.Now().Sub(rang); d > c.within*2 {
					t.Errorf("failed %v after ringing, want within %v", d, c.within)
				}
				return
			}
		})
	}
}

// TestValidateAnswerer: the keys of who answers and of early media are
// checked by the model's own rules, each problem named by its key, a
// value inherited from the default reported once, on the default.
func TestValidateAnswerer(t *testing.T) {
	good := Config{TimeScale: 1, Default: Behavior{AnsweredBy: AnsweredByVoicemail, Greeting: "Leave a message.", GreetingLength: 20 * time.Second, Voice: "cmn-latn-pinyin"},
		Subscribers: []Subscriber{
			{Number: "13800000001", Behavior: Behavior{AnsweredBy: AnsweredByPerson, Hello: "喂？", Voice: "cmn"}},
			{Number: "13800000002", Behavior: Behavior{Result: ResultNoAnswer, EarlyMedia: EarlySIT, TonePlan: "NA"}},
			{Number: "13800000003", Behavior: Behavior{AnsweredBy: AnsweredByFax}},
		}}
	if err := good.Validate(); err != nil {
		t.Fatalf("good network: %v", err)
	}
	bad := Config{TimeScale: 1, Default: Behavior{AnsweredBy: "robot", Voice: "en us"},
		Subscribers: []Subscriber{
			{Number: "13800000001", Behavior: Behavior{AnsweredBy: "robot", Voice: "en us", Hello: "  ", Greeting: strings.Repeat("a", MaxGreeting+1)}},
			{Number: "13800000002", Behavior: Behavior{Hello: strings.Repeat("h", MaxSayLine+1), GreetingLength: -time.Second, EarlyMedia: "fast_busy", TonePlan: "UK"}},
			{Number: "13800000003", Behavior: Behavior{Greeting: " ", GreetingLength: 3 * time.Minute}},
		}}
	got := map[string]string{}
	for _, e := range fielderr.All(bad.Validate()) {
		got[e.Field] += e.Message + "|"
	}
	for path, want := range map[string]string{
		"network.default.answered_by":            `"robot" is not one of person, voicemail, fax`,
		"network.default.voice":                  `"en us" is not an espeak-ng voice name`,
		"network.subscribers[0].hello":           "must not be blank",
		"network.subscribers[0].greeting":        "more than 1000",
		"network.subscribers[1].hello":           "more than 500",
		"network.subscribers[1].greeting_length": "must not be negative",
		"network.subscribers[1].early_media":     `"fast_busy" is not one of busy, congestion, special_information, ringback`,
		"network.subscribers[1].tone_plan":       `"UK" is not one of CN, EU, NA`,
		"network.subscribers[2].greeting":        "must not be blank",
		"network.subscribers[2].greeting_length": "must be at most 2m",
	} {
		if !strings.Contains(got[path], want) {
			t.Errorf("%s: %q, want %q", path, got[path], want)
		}
	}
	for _, inherited := range []string{"network.subscribers[0].answered_by", "network.subscribers[0].voice"} {
		if got[inherited] != "" {
			t.Errorf("%s reported again: %q", inherited, got[inherited])
		}
	}
}
