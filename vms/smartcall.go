package vms

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/gateway"
)

// SmartCall ASR base models the reference names.
var asrBases = map[string]bool{"customer_service_8k": true, "dialect_customer_service_8k": true}

// SmartCall starts an intelligent voice interaction call: what the callee
// says goes to the account's callback URL, whose answers drive the call.
func (s *Service) SmartCall(ctx context.Context, inv *gateway.Invocation) (map[string]any, error) {
	p := inv.Params
	acct := inv.Account.UID
	callee, err := p.Required("CalledNumber")
	if err != nil {
		return nil, err
	}
	showParam, err := p.Required("CalledShowNumber")
	if err != nil {
		return nil, err
	}
	voiceCode, err := p.Required("VoiceCode")
	if err != nil {
		return nil, err
	}
	if err := checkCallee("CalledNumber", callee, true); err != nil {
		return nil, err
	}
	show, err := s.displayNumber(ctx, acct, "CalledShowNumber", showParam, true)
	if err != nil {
		return nil, err
	}
	outID, err := checkOutID(p)
	if err != nil {
		return nil, err
	}
	settings, err := s.Store.GetAccountSettings(ctx, acct)
	if err != nil {
		return nil, dialtone.SystemError(err)
	}
	if settings.SmartCallCallbackURL == "" && settings.SmartCallStreamURL == "" {
		return nil, dialtone.Errorf(dialtone.CodeInvalidParameters, "This account has no SmartCall callback URL nor agent stream; set smartcall_callback_url or smartcall_stream_url in provisioning or the console.")
	}
	plan := &dialtone.CallPlan{Smart: &dialtone.SmartPlan{CallbackURL: settings.SmartCallCallbackURL, CallbackTrusted: settings.SmartCallCallbackTrusted}}
	sp := plan.Smart
	vars := map[string]string{}
	if text := p.String("VoiceCodeParam"); text != "" {
		if vars, err = s.templateParams(ctx, acct, "VoiceCodeParam", text, false); err != nil {
			return nil, err
		}
	}
	if plan.Prompt, err = s.smartPrompts(ctx, acct, "VoiceCode", voiceCode, vars); err != nil {
		return nil, err
	}
	vol, err := intRange(p, "Volume", -4, 4, 0)
	if err != nil {
		return nil, err
	}
	plan.Volume = int(vol)
	speed, err := intRange(p, "Speed", -500, 500, 0)
	if err != nil {
		return nil, err
	}
	plan.Speed = int(speed)
	if plan.Record, _, err = p.Bool("RecordFlag"); err != nil {
		return nil, err
	}
	sp.AsrModelID = p.String("AsrModelId")
	sp.AsrBaseID = p.String("AsrBaseId")
	if sp.AsrBaseID != "" && !asrBases[sp.AsrBaseID] {
		return nil, dialtone.Errorf(dialtone.CodeInvalidParameters, "AsrBaseId must be customer_service_8k or dialect_customer_service_8k, got %q.", sp.AsrBaseID)
	}
	if sp.AsrModelID == "" && sp.AsrBaseID == "" {
		sp.AsrBaseID = "customer_service_8k"
	}
	// Out-of-range pause and mute times fall back to the defaults, as the
	// reference says, rather than failing the call.
	pause, _, err := p.Int64("PauseTime")
	if err != nil {
		return nil, err
	}
	if pause < 300 || pause > 1200 {
		pause = 800
	}
	sp.PauseTime = time.Duration(pause) * time.Millisecond
	mute, _, err := p.Int64("MuteTime")
	if err != nil {
		return nil, err
	}
	if mute < 1000 || mute > 20000 {
		mute = 10000
	}
	sp.MuteTime = time.Duration(mute) * time.Millisecond
	sp.ActionCodeBreak = true
	if v, ok, err := p.Bool("ActionCodeBreak"); err != nil {
		return nil, err
	} else if ok {
		sp.ActionCodeBreak = v
	}
	tb, err := intRange(p, "ActionCodeTimeBreak", 0, 600000, 0)
	if err != nil {
		return nil, err
	}
	sp.ActionCodeTimeBreak = time.Duration(tb) * time.Millisecond
	st, err := intRange(p, "SessionTimeout", 1, 3600, 0)
	if err != nil {
		return nil, err
	}
	plan.SessionTimeout = time.Duration(st) * time.Second
	sp.DynamicID = p.String("DynamicId")
	if len(sp.DynamicID) > 256 {
		return nil, dialtone.Errorf(dialtone.CodeParamLengthLimit, "DynamicId may be at most 256 bytes.")
	}
	if sp.EarlyMediaAsr, _, err = p.Bool("EarlyMediaAsr"); err != nil {
		return nil, err
	}
	sp.TTSStyle = p.String("TtsStyle")
	tv, err := intRange(p, "TtsVolume", 0, 100, 0)
	if err != nil {
		return nil, err
	}
	sp.TTSVolume = int(tv)
	ts, err := intRange(p, "TtsSpeed", -200, 200, 0)
	if err != nil {
		return nil, err
	}
	sp.TTSSpeed = int(ts)
	if sp.TTSConf, _, err = p.Bool("TtsConf"); err != nil {
		return nil, err
	}
	sa, err := intRange(p, "StreamAsr", 0, 1, 0)
	if err != nil {
		return nil, err
	}
	sp.StreamAsr = int(sa)
	if code := p.String("BackgroundFileCode"); code != "" {
		bg, err := s.filePrompt(ctx, acct, "BackgroundFileCode", code)
		if err != nil {
			return nil, err
		}
		sp.BackgroundFile = &bg
	}
	for _, name := range []string{"BackgroundVolume", "BackgroundSpeed"} {
		if _, _, err := p.Int64(name); err != nil {
			return nil, err
		}
	}
	if sp.EnableITN, _, err = p.Bool("EnableITN"); err != nil {
		return nil, err
	}
	if sp.NoiseThreshold, _, err = p.Float64("NoiseThreshold"); err != nil {
		return nil, err
	}
	c := &dialtone.Call{AccountUID: acct, Kind: dialtone.KindSmartCall, ProdID: dialtone.ProdSmartCall, Caller: show, Callee: callee,
		CallerShowNumber: show, CalleeShowNumber: show, OutID: outID}
	return s.place(ctx, c, plan, false)
}

// smartPrompts reads SmartCall's VoiceCode: a comma list of smart-call voice
// files and $var$ TTS items whose text comes from vars.
func (s *Service) smartPrompts(ctx context.Context, acct, name, list string, vars map[string]string) ([]dialtone.Prompt, error) {
	var out []dialtone.Prompt
	for i, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			return nil, dialtone.Errorf(dialtone.CodeInvalidParameters, "%s item %d is empty.", name, i+1)
		}
		if len(item) > 2 && strings.HasPrefix(item, "$") && strings.HasSuffix(item, "$") {
			v := item[1 : len(item)-1]
			text, ok := vars[v]
			if !ok || strings.TrimSpace(text) == "" {
				return nil, dialtone.Errorf(dialtone.CodeTemplateMissingParameters, "%s uses %s but VoiceCodeParam has no value for %s.", name, item, v)
			}
			out = append(out, dialtone.Prompt{Text: text, Vars: map[string]string{v: text}, Code: item})
			continue
		}
		pr, err := s.filePrompt(ctx, acct, name, item, dialtone.VoiceFileSmartCall, dialtone.VoiceFileNotification)
		if err != nil {
			return nil, err
		}
		out = append(out, pr)
	}
	return out, nil
}

// SmartCallOperate sends a command to a live smart call; only
// parallelBridge exists.
func (s *Service) SmartCallOperate(ctx context.Context, inv *gateway.Invocation) (map[string]any, error) {
	id, err := inv.Params.Required("CallId")
	if err != nil {
		return nil, err
	}
	cmd, err := inv.Params.Required("Command")
	if err != nil {
		return nil, err
	}
	if cmd != "parallelBridge" {
		return nil, dialtone.Errorf(dialtone.CodeInvalidParameters, "Command must be parallelBridge, got %q.", cmd)
	}
	c, err := s.Store.GetCall(ctx, inv.Account.UID, id)
	if errors.Is(err, dialtone.ErrNotFound) {
		return nil, dialtone.Errorf(dialtone.CodeInvalidParameters, "CallId %s is not a call of this account.", id)
	}
	if err != nil {
		return nil, dialtone.SystemError(err)
	}
	if c.Kind != dialtone.KindSmartCall {
		return nil, dialtone.Errorf(dialtone.CodeInvalidParameters, "CallId %s is not a SmartCall call.", id)
	}
	if c.State == dialtone.CallEnded || s.Dialer == nil {
		return map[string]any{"Status": false}, nil
	}
	ok, err := s.Dialer.Operate(ctx, inv.Account.UID, id, cmd, inv.Params.String("Param"))
	if err != nil && !errors.Is(err, dialtone.ErrNotFound) {
		return nil, dialtone.SystemError(err)
	}
	return map[string]any{"Status": ok}, nil
}

// ResolveSmartPrompt turns a SmartCall callback's action_code into a
// prompt of the account: a $var$ TTS item whose text is in paramJSON (for
// example action_code "$tts$" with action_code_param {"tts":"好的"}), or a
// voice file code. It is the engine's Prompts (engine.Prompts), so callback
// answers are checked like API parameters (no URLs, no blacklisted words).
func (s *Service) ResolveSmartPrompt(ctx context.Context, accountUID, code, paramJSON string) (dialtone.Prompt, error) {
	vars := map[string]string{}
	if strings.TrimSpace(paramJSON) != "" {
		v, err := s.templateParams(ctx, accountUID, "action_code_param", paramJSON, false)
		if err != nil {
			return dialtone.Prompt{}, err
		}
		vars = v
	}
	ps, err := s.smartPrompts(ctx, accountUID, "action_code", code, vars)
	if err != nil {
		return dialtone.Prompt{}, err
	}
	if len(ps) != 1 {
		return dialtone.Prompt{}, dialtone.Errorf(dialtone.CodeInvalidParameters, "action_code must name one media item, got %d.", len(ps))
	}
	return ps[0], nil
}
