package sim

import (
	"strings"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone/internal/fielderr"
)

func TestConfigDefaults(t *testing.T) {
	var c *Config
	if c.Behavior("1").Result != ResultAnswer || c.Scale() != 1 {
		t.Error("a nil Config does not give the built-in defaults")
	}
	if d := (Config{}).Defaults(); d.TimeScale != 1 || d.Scale() != 1 {
		t.Errorf("Defaults = %+v", d)
	}
	if d := (Config{TimeScale: 0.01}).Defaults(); d.Scale() != 0.01 {
		t.Errorf("Defaults changed the time scale: %+v", d)
	}
	c = &Config{Default: Behavior{Result: ResultBusy}, Subscribers: []Subscriber{{Number: "12345", Behavior: Behavior{Result: ResultNoAnswer}}}}
	if c.Behavior("12345").Result != ResultNoAnswer || c.Behavior("99999").Result != ResultBusy {
		t.Errorf("Behavior picks the wrong one: %+v", c)
	}
}

func TestCallResultApplies(t *testing.T) {
	for _, r := range CallResults {
		if r.Answers() != (r == ResultAnswer) || r.Rings() != (r == ResultNoAnswer || r == ResultRejected) {
			t.Errorf("%s: answers %v, rings %v", r, r.Answers(), r.Rings())
		}
	}
	if !CallResult("").Answers() {
		t.Error(`"" does not answer`)
	}
}

func TestConfigValidate(t *testing.T) {
	good := Config{TimeScale: 0.5, Default: DefaultBehavior, Subscribers: []Subscriber{
		{Number: "+8613800000001", Behavior: Behavior{Result: ResultAnswer, DTMF: []DTMF{{AfterPrompt: 1, Digits: "1#"}, {At: time.Second, Digits: "*"}}, Say: []string{"好的"}}},
		{Number: "13800000002", Behavior: Behavior{Result: ResultRejected, Ring: time.Second}},
	}}
	if err := good.Validate(); err != nil {
		t.Fatalf("good network: %v", err)
	}
	// The default's bad DTMF is inherited by the first subscriber: reported
	// once, on the default.
	badDTMF := []DTMF{{AfterPrompt: -1, At: -time.Second, Digits: "x"}, {AfterPrompt: 1, At: time.Second, Digits: "1"}}
	bad := Config{TimeScale: -1, Default: Behavior{Result: "engaged", Ring: -time.Second, DTMF: badDTMF, Say: []string{" "}},
		Subscribers: []Subscriber{
			{Number: "123", Behavior: Behavior{Result: ResultBusy, Ring: -time.Second, DTMF: badDTMF}},
			{Number: "13800000001", Behavior: Behavior{Say: []string{"ok", ""}, HangupAfter: -1}},
			{Number: "13800000001"},
			{},
		}}
	err := bad.Validate()
	if err == nil {
		t.Fatal("bad network accepted")
	}
	got := map[string]string{}
	for _, e := range fielderr.All(err) {
		got[e.Field] += e.Message + "|"
	}
	for path, want := range map[string]string{
		"network.time_scale":                   "must be greater than 0",
		"network.default.result":               `"engaged" is not one of answer, busy`,
		"network.default.ring":                 "must not be negative",
		"network.default.dtmf[0].after_prompt": "must be at least 1",
		"network.default.dtmf[0].at":           "must not be negative",
		"network.default.dtmf[0].digits":       `"x" must be 1 to 32 of 0-9, *, #, A-D`,
		"network.default.dtmf[1]":              "set exactly one of after_prompt and at",
		"network.default.say[0]":               "must not be empty",
		"network.subscribers[0].number":        `"123" must be 5 to 20 digits`,
		"network.subscribers[1].say[1]":        "must not be empty",
		"network.subscribers[1].hangup_after":  "must not be negative",
		"network.subscribers[2].number":        `duplicate subscriber "13800000001"`,
		"network.subscribers[3].number":        "missing",
	} {
		if !strings.Contains(got[path], want) {
			t.Errorf("%s: %q, want %q", path, got[path], want)
		}
	}
	for _, inherited := range []string{"network.subscribers[0].ring", "network.subscribers[0].dtmf[0].digits", "network.subscribers[2].say[0]"} {
		if got[inherited] != "" {
			t.Errorf("%s reported again: %q", inherited, got[inherited])
		}
	}
	if b := (Behavior{Result: "x"}); b.Validate() == nil || !strings.HasPrefix(b.Validate().Error(), "result: ") {
		t.Errorf("Behavior.Validate = %v", b.Validate())
	}
}
