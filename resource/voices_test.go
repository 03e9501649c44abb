package resource

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/media"
)

// TestTemplateVoicesInstalled: with the node's synthesiser as catalog, a
// template names only an installed voice (a variant too), whichever way it
// is written; without a catalog only the voice's shape is checked.
func TestTemplateVoicesInstalled(t *testing.T) {
	e := newEnv(t)
	svc := New(e.store, e.data, slog.New(slog.DiscardHandler), WithVoices(&media.ESpeak{}))
	tpl := func(voice string) dialtone.TTSTemplate {
		return dialtone.TTSTemplate{AccountUID: "100", Kind: dialtone.TemplateNotification, Content: "Hello ${name}", Voice: voice}
	}
	for _, v := range []string{"", "en-us", "EN-US", "en", "zh", "cmn-latn-pinyin", "en+f3"} {
		if _, err := svc.CreateTemplate(ctx(), tpl(v)); err != nil {
			t.Errorf("voice %q: %v", v, err)
		}
	}
	for _, v := range []string{"klingon", "en+nosuchvariant", "variant"} {
		_, err := svc.CreateTemplate(ctx(), tpl(v))
		wantInvalid(t, err, "voice")
		if !strings.Contains(err.Error(), "not an installed voice") {
			t.Errorf("voice %q: %v", v, err)
		}
	}
	created, err := svc.CreateTemplate(ctx(), tpl("en-us"))
	if err != nil {
		t.Fatal(err)
	}
	bad := "klingon"
	_, err = svc.UpdateTemplate(ctx(), "100", created.Code, dialtone.TemplateUpdate{Voice: &bad})
	wantInvalid(t, err, "voice")
	_, _, err = svc.PutTemplate(ctx(), dialtone.TTSTemplate{AccountUID: "100", Code: "TTS_9", Kind: dialtone.TemplateNotification, Content: "x", Voice: bad, Status: dialtone.ReviewApproved})
	wantInvalid(t, err, "voice")
	// No catalog: the shape only.
	if _, err := e.svc.CreateTemplate(ctx(), tpl("klingon")); err != nil {
		t.Errorf("without a catalog: %v", err)
	}
}
