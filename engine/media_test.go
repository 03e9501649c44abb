package engine

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/carrier/sim"
	"github.com/dialtone-voice/dialtone/media"
)

// mediaRenderer is how the server wires the engine: cached espeak-ng TTS
// and voice files loaded from the data directory.
type mediaRenderer struct {
	speaker dialtone.Speaker
	dataDir string
}

func (m mediaRenderer) Render(ctx context.Context, p dialtone.Prompt, speed, volume int) (*dialtone.Audio, error) {
	if p.IsTTS() {
		return media.SpeakPrompt(ctx, m.speaker, p, speed, volume)
	}
	return media.LoadVoiceFile(m.dataDir, p.StoredPath)
}

func TestNotifyWithRealTTS(t *testing.T) {
	if _, err := exec.LookPath("espeak-ng"); err != nil {
		t.Skip("espeak-ng not installed")
	}
	r := mediaRenderer{speaker: media.NewCachedSpeaker(&media.ESpeak{}, 16<<20), dataDir: t.TempDir()}
	h := newHarness(t, map[string]sim.Behavior{"13800000001": {Result: sim.ResultAnswer, AnswerAfter: time.Second}},
		func(c *Config) { c.Renderer = r })
	c := h.start(dialtone.KindTTS, "13800000001", &dialtone.CallPlan{
		Prompt: []dialtone.Prompt{{Text: "您的验证码是1234", Code: "TTS_100001", Verification: true, Vars: map[string]string{"code": "1234"}}}, PlayTimes: 2})
	got := h.ended(c.ID)
	h.check(got, want{dialtone.StatusCompleted, SmartAnswered, HangupMachine, ""})
	plays := transcriptKinds(h.net.Transcript(c.ID), "play")
	if len(plays) != 2 || !strings.Contains(plays[0], "TTS_100001") {
		t.Errorf("plays %v", plays)
	}
	if got.Duration < 2 {
		t.Errorf("duration %d for two readings of a verification code", got.Duration)
	}
}
