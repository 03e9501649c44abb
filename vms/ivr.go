package vms

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/gateway"
)

// MaxMenuItems is IvrCall's MenuKeyMap limit.
const MaxMenuItems = 15

// prompt resolves a code that is either a TTS template (TTS_...) or a voice
// file, with its variables in paramName.
func (s *Service) prompt(ctx context.Context, acct, codeName, code, paramName, params string) (dialtone.Prompt, error) {
	if isTemplateCode(code) {
		p, _, err := s.ttsPrompt(ctx, acct, code, paramName, params)
		return p, err
	}
	return s.filePrompt(ctx, acct, codeName, code)
}

// IvrCall calls one callee, plays a start prompt and follows the DTMF menu.
// Without a MenuKeyMap (as the SDK reference's own IvrCall samples send it)
// the call plays the start prompt and the bye prompt, and ends.
func (s *Service) IvrCall(ctx context.Context, inv *gateway.Invocation) (map[string]any, error) {
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
	startCode, err := p.Required("StartCode")
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
	plan := &dialtone.CallPlan{}
	pt, err := intRange(p, "PlayTimes", 1, 3, 1)
	if err != nil {
		return nil, err
	}
	plan.PlayTimes = int(pt)
	timeout, err := intRange(p, "Timeout", 1, 600000, 5000)
	if err != nil {
		return nil, err
	}
	plan.DTMFTimeout = time.Duration(timeout) * time.Millisecond
	outID, err := checkOutID(p)
	if err != nil {
		return nil, err
	}
	start, err := s.prompt(ctx, acct, "StartCode", startCode, "StartTtsParams", p.String("StartTtsParams"))
	if err != nil {
		return nil, err
	}
	plan.Prompt = []dialtone.Prompt{start}
	menu, err := menuItems(p)
	if err != nil {
		return nil, err
	}
	for _, item := range menu {
		pr, err := s.prompt(ctx, acct, "MenuKeyMap."+item.n+".Code", item.code, "MenuKeyMap."+item.n+".TtsParams", item.params)
		if err != nil {
			return nil, err
		}
		plan.Menu = append(plan.Menu, dialtone.MenuItem{Key: item.key, Prompt: []dialtone.Prompt{pr}})
	}
	if bye := p.String("ByeCode"); bye != "" {
		if isTemplateCode(bye) != isTemplateCode(startCode) {
			return nil, dialtone.Errorf(dialtone.CodeInvalidParameters, "ByeCode must be the same kind as StartCode (both TTS templates or both voice files).")
		}
		pr, err := s.prompt(ctx, acct, "ByeCode", bye, "ByeTtsParams", p.String("ByeTtsParams"))
		if err != nil {
			return nil, err
		}
		plan.Bye = []dialtone.Prompt{pr}
	}
	c := &dialtone.Call{AccountUID: acct, Kind: dialtone.KindIVR, ProdID: dialtone.ProdIVR, Caller: show, Callee: callee,
		CallerShowNumber: show, CalleeShowNumber: show, OutID: outID}
	return s.place(ctx, c, plan, true)
}

type menuParam struct {
	n, key, code, params string
}

// menuItems reads the flattened MenuKeyMap.N.Key/Code/TtsParams list.
func menuItems(p gateway.Params) ([]menuParam, error) {
	byN := map[int]*menuParam{}
	for name, v := range p {
		rest, ok := strings.CutPrefix(name, "MenuKeyMap.")
		if !ok {
			continue
		}
		ns, field, ok := strings.Cut(rest, ".")
		n, err := strconv.Atoi(ns)
		if !ok || err != nil || n < 1 || strconv.Itoa(n) != ns {
			return nil, dialtone.Errorf(dialtone.CodeInvalidParameters, "%s is not a MenuKeyMap.N.Key/Code/TtsParams parameter.", name)
		}
		if n > MaxMenuItems {
			return nil, dialtone.Errorf(dialtone.CodeInvalidParameters, "MenuKeyMap has at most %d items; got item %d.", MaxMenuItems, n)
		}
		item := byN[n]
		if item == nil {
			item = &menuParam{n: ns}
			byN[n] = item
		}
		switch field {
		case "Key":
			item.key = v
		case "Code":
			item.code = v
		case "TtsParams":
			item.params = v
		default:
			return nil, dialtone.Errorf(dialtone.CodeInvalidParameters, "%s: MenuKeyMap items have Key, Code and TtsParams only.", name)
		}
	}
	out := make([]menuParam, 0, len(byN))
	keys := map[string]bool{}
	for n := 1; n <= MaxMenuItems; n++ {
		item, ok := byN[n]
		if !ok {
			if len(out) < len(byN) {
				return nil, dialtone.Errorf(dialtone.CodeInvalidParameters, "MenuKeyMap items must be numbered from 1 without gaps; item %d is missing.", n)
			}
			break
		}
		if !dtmfRe.MatchString(item.key) {
			return nil, dialtone.Errorf(dialtone.CodeInvalidParameters, "MenuKeyMap.%d.Key must be one key of 0-9, * or #, got %q.", n, item.key)
		}
		if keys[item.key] {
			return nil, dialtone.Errorf(dialtone.CodeInvalidParameters, "MenuKeyMap.%d.Key %q is used by another item.", n, item.key)
		}
		keys[item.key] = true
		if item.code == "" {
			return nil, dialtone.Errorf(dialtone.CodeInvalidParameters, "MenuKeyMap.%d.Code is required.", n)
		}
		out = append(out, *item)
	}
	return out, nil
}
