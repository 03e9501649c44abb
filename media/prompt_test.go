package media

import (
	"context"
	"strings"
	"testing"

	"github.com/dialtone-voice/dialtone"
)

func TestSpokenText(t *testing.T) {
	for _, tt := range []struct {
		name string
		p    dialtone.Prompt
		want string
	}{
		{"chinese code", dialtone.Prompt{Text: "您的验证码是1234，请勿泄露。", Verification: true, Vars: map[string]string{"code": "1234"}},
			"您的验证码是1 2 3 4，请勿泄露。"},
		{"english code", dialtone.Prompt{Text: "Your code is 1234.", Verification: true, Vars: map[string]string{"code": "1234"}},
			"Your code is 1, 2, 3, 4."},
		{"alphanumeric, twice", dialtone.Prompt{Text: "Code A7X, again A7X", Verification: true, Vars: map[string]string{"code": "A7X"}},
			"Code A, 7, X, again A, 7, X"},
		{"longest value first", dialtone.Prompt{Text: "码123456", Verification: true, Vars: map[string]string{"a": "12", "b": "123456"}},
			"码1 2 3 4 5 6"},
		{"notification untouched", dialtone.Prompt{Text: "Your order 1234 shipped", Vars: map[string]string{"order": "1234"}},
			"Your order 1234 shipped"},
		{"no vars", dialtone.Prompt{Text: "hello", Verification: true}, "hello"},
	} {
		if got := SpokenText(tt.p); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

// recordingSpeaker remembers what it was asked to say.
type recordingSpeaker struct{ text, voice string }

func (r *recordingSpeaker) Speak(_ context.Context, text, voice string, speed, volume int) (*dialtone.Audio, error) {
	r.text, r.voice = text, voice
	return &dialtone.Audio{Samples: []int16{1, 2}, Label: text}, nil
}

func TestSpeakPrompt(t *testing.T) {
	r := &recordingSpeaker{}
	p := dialtone.Prompt{Text: "您的验证码是5678", Verification: true, Vars: map[string]string{"code": "5678"}, Code: "TTS_100001"}
	a, err := SpeakPrompt(context.Background(), r, p, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if r.text != "您的验证码是5 6 7 8" || r.voice != VoiceMandarin {
		t.Errorf("spoke %q with %q", r.text, r.voice)
	}
	if a.Label != "TTS_100001: 您的验证码是5678" {
		t.Errorf("label %q", a.Label)
	}
	p = dialtone.Prompt{Text: "Hi", Voice: "en-us", Code: "TTS_2"}
	if _, err := SpeakPrompt(context.Background(), r, p, 0, 100); err != nil || r.voice != "en-us" {
		t.Errorf("template voice: %q %v", r.voice, err)
	}
	p = dialtone.Prompt{FileCode: "x.wav", StoredPath: "voice/a/x.wav.wav", Code: "x.wav"}
	if _, err := SpeakPrompt(context.Background(), r, p, 0, 100); err == nil || !strings.Contains(err.Error(), "voice file") {
		t.Errorf("voice-file prompt: %v", err)
	}
}

func TestSpeakPromptESpeak(t *testing.T) {
	e := needESpeak(t)
	p := dialtone.Prompt{Text: "Your verification code is 4096.", Verification: true, Vars: map[string]string{"code": "4096"}, Code: "TTS_1"}
	spelled, err := SpeakPrompt(context.Background(), e, p, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	p.Verification = false
	plain, err := SpeakPrompt(context.Background(), e, p, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	// "four, zero, nine, six" with pauses takes longer than "four
	// thousand and ninety-six".
	if spelled.Duration() <= plain.Duration() {
		t.Errorf("spelled %v, plain %v", spelled.Duration(), plain.Duration())
	}
}
