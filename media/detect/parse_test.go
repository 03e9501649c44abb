package detect

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseConfig(t *testing.T) {
	c, err := ParseConfig("")
	if err != nil || !reflect.DeepEqual(c.WithDefaults(), Defaults()) {
		t.Fatalf("empty: %+v, %v", c, err)
	}
	c, err = ParseConfig(" greeting=2s, after_greeting_silence=800ms,max_segments=7,min_voice_level=-55,initial_silence=3s ")
	if err != nil {
		t.Fatal(err)
	}
	if c.Greeting != 2*time.Second || c.AfterGreetingSilence != 800*time.Millisecond || c.MaxSegments != 7 || c.MinVoiceLevel != -55 ||
		c.InitialSilence != 3*time.Second || c.EndSilence != 0 {
		t.Errorf("parsed %+v", c)
	}
	for in, want := range map[string]string{
		"greeting":                   `"greeting": write key=value`,
		"greeting=fast":              `greeting "fast": want a positive duration`,
		"beep=1s":                    `unknown threshold "beep"`,
		"max_segments=0":             `max_segments "0": want a whole number above 0`,
		"greeting=20s":               "Greeting 20s outside",
		"initial_silence=9s":         "TotalAnalysisTime 5s shorter than InitialSilence 9s",
		"voice_threshold=x,greeting": `voice_threshold "x"`,
	} {
		if _, err := ParseConfig(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", in, err, want)
		}
	}
}
