package vms

import (
	"context"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/gateway"
)

// notifyCommon validates what SingleCallByVoice and SingleCallByTts share.
func (s *Service) notifyCommon(ctx context.Context, inv *gateway.Invocation, defaultPlayTimes int64) (*dialtone.Call, *dialtone.CallPlan, error) {
	p := inv.Params
	callee, err := p.Required("CalledNumber")
	if err != nil {
		return nil, nil, err
	}
	if err := checkCallee("CalledNumber", callee, false); err != nil {
		return nil, nil, err
	}
	plan := &dialtone.CallPlan{}
	pt, err := intRange(p, "PlayTimes", 1, 3, defaultPlayTimes)
	if err != nil {
		return nil, nil, err
	}
	vol, err := intRange(p, "Volume", 0, 100, 100)
	if err != nil {
		return nil, nil, err
	}
	speed, err := intRange(p, "Speed", -500, 500, 0)
	if err != nil {
		return nil, nil, err
	}
	plan.PlayTimes, plan.Volume, plan.Speed = int(pt), int(vol), int(speed)
	outID, err := checkOutID(p)
	if err != nil {
		return nil, nil, err
	}
	show, err := s.displayNumber(ctx, inv.Account.UID, "CalledShowNumber", p.String("CalledShowNumber"), false)
	if err != nil {
		return nil, nil, err
	}
	c := &dialtone.Call{AccountUID: inv.Account.UID, Caller: show, Callee: callee, CallerShowNumber: show, CalleeShowNumber: show, OutID: outID}
	return c, plan, nil
}

// SingleCallByVoice plays an approved voice-notification file to one callee.
func (s *Service) SingleCallByVoice(ctx context.Context, inv *gateway.Invocation) (map[string]any, error) {
	code, err := inv.Params.Required("VoiceCode")
	if err != nil {
		return nil, err
	}
	c, plan, err := s.notifyCommon(ctx, inv, 1)
	if err != nil {
		return nil, err
	}
	prompt, err := s.filePrompt(ctx, inv.Account.UID, "VoiceCode", code, dialtone.VoiceFileNotification)
	if err != nil {
		return nil, err
	}
	plan.Prompt = []dialtone.Prompt{prompt}
	c.Kind, c.ProdID = dialtone.KindVoice, dialtone.ProdIDFor(dialtone.KindVoice, false)
	return s.place(ctx, c, plan, true)
}

// SingleCallByTts calls one callee with an approved TTS template: a voice
// verification code or a TTS notification.
func (s *Service) SingleCallByTts(ctx context.Context, inv *gateway.Invocation) (map[string]any, error) {
	code, err := inv.Params.Required("TtsCode")
	if err != nil {
		return nil, err
	}
	c, plan, err := s.notifyCommon(ctx, inv, 3)
	if err != nil {
		return nil, err
	}
	prompt, tmpl, err := s.ttsPrompt(ctx, inv.Account.UID, code, "TtsParam", inv.Params.String("TtsParam"))
	if err != nil {
		return nil, err
	}
	plan.Prompt = []dialtone.Prompt{prompt}
	verification := tmpl.Kind == dialtone.TemplateVerification
	c.Kind, c.ProdID = dialtone.KindTTS, dialtone.ProdIDFor(dialtone.KindTTS, verification)
	return s.place(ctx, c, plan, true)
}
