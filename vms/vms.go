// Package vms implements the Dyvmsapi actions: parameter validation exactly
// as the reference gives it, and what each action asks of the store and the
// call engine.
package vms

import (
	"context"
	"errors"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/gateway"
)

// Dialer runs accepted calls; the call engine implements it.
type Dialer interface {
	// Start begins a call already stored in state queued; it returns at once.
	Start(ctx context.Context, c *dialtone.Call) error
	// Cancel ends a live call of the account; false when it had ended.
	Cancel(ctx context.Context, accountUID, callID string) (bool, error)
	// Operate sends a SmartCallOperate command to a live smart call.
	Operate(ctx context.Context, accountUID, callID, command, param string) (bool, error)
}

// Service holds what the actions need.
type Service struct {
	Store  dialtone.Store
	Clock  dialtone.Clock
	Dialer Dialer
}

func (s *Service) now() time.Time {
	if s.Clock == nil {
		return time.Now()
	}
	return s.Clock.Now()
}

// Register adds every Dyvmsapi action to g.
func (s *Service) Register(g *gateway.Gateway) {
	for _, a := range []gateway.Action{
		{Name: "SingleCallByVoice", Feature: dialtone.FeatureNotify, Handler: s.SingleCallByVoice},
		{Name: "SingleCallByTts", Feature: dialtone.FeatureTTS, Handler: s.SingleCallByTts},
		{Name: "IvrCall", Feature: dialtone.FeatureIVR, Handler: s.IvrCall},
		{Name: "ClickToDial", Feature: dialtone.FeatureClickToDial, Handler: s.ClickToDial},
		{Name: "CancelCall", Feature: dialtone.FeatureClickToDial, Handler: s.CancelCall},
		{Name: "SmartCall", Feature: dialtone.FeatureSmartCall, Handler: s.SmartCall},
		{Name: "SmartCallOperate", Feature: dialtone.FeatureSmartCall, Handler: s.SmartCallOperate},
		{Name: "QueryCallDetailByCallId", Handler: s.QueryCallDetailByCallId},
	} {
		a.Product = gateway.ProductVMS
		g.Register(a)
	}
}

// place stores a new call (with flow control when guarded) and hands it to
// the dialer. A refused call is never stored, so it counts toward nothing.
func (s *Service) place(ctx context.Context, c *dialtone.Call, plan *dialtone.CallPlan, guarded bool) (map[string]any, error) {
	st, err := s.Store.GetAccountSettings(ctx, c.AccountUID)
	if err != nil {
		return nil, dialtone.SystemError(err)
	}
	// The call keeps the account's answering-machine detection as it was
	// when accepted.
	if st.MachineDetection.On() {
		plan.MachineDetection = st.MachineDetection
	}
	// And its media streams: a SmartCall's agent, another kind's fork.
	if c.Kind == dialtone.KindSmartCall && st.SmartCallStreamURL != "" {
		plan.Stream = &dialtone.StreamPlan{URL: st.SmartCallStreamURL, Trusted: st.SmartCallStreamTrusted}
	}
	if st.Forks(c.Kind) {
		plan.Fork = &dialtone.StreamPlan{URL: st.ForkStreamURL, Trusted: st.ForkStreamTrusted}
	}
	params, err := dialtone.EncodePlan(plan)
	if err != nil {
		return nil, dialtone.SystemError(err)
	}
	c.Params = params
	c.State = dialtone.CallQueued
	c.CreatedAt = s.now()
	var guard *dialtone.FlowGuard
	if guarded {
		guard = &dialtone.FlowGuard{Limits: st.FlowControl, Now: c.CreatedAt}
	}
	for attempt := 0; ; attempt++ {
		c.ID = NewCallID(c.CreatedAt)
		err = s.Store.CreateCall(ctx, c, guard)
		if errors.Is(err, dialtone.ErrConflict) && attempt < 3 {
			continue
		}
		break
	}
	var fl *dialtone.FlowLimitError
	if errors.As(err, &fl) {
		return nil, dialtone.Errorf(dialtone.CodeBusinessLimitControl, "触发%s级流控Permits:%d (%s was already called %d time(s) in the last %s).",
			map[string]string{"minute": "分钟", "hour": "小时", "day": "天"}[fl.Window], fl.Limit, c.Callee, fl.Limit, fl.Window)
	}
	if err != nil {
		return nil, dialtone.SystemError(err)
	}
	if s.Dialer != nil {
		if err := s.Dialer.Start(context.WithoutCancel(ctx), c); err != nil {
			return nil, dialtone.SystemError(err)
		}
	}
	return map[string]any{"CallId": c.ID}, nil
}
