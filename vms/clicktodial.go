package vms

import (
	"context"
	"errors"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/gateway"
)

// MaxSessionTimeout bounds ClickToDial's SessionTimeout (seconds).
const MaxSessionTimeout = 24 * 3600

// ClickToDial calls the caller, then the callee, then bridges them; both
// parties see platform numbers.
func (s *Service) ClickToDial(ctx context.Context, inv *gateway.Invocation) (map[string]any, error) {
	p := inv.Params
	acct := inv.Account.UID
	var v [4]string
	for i, name := range []string{"CallerShowNumber", "CallerNumber", "CalledShowNumber", "CalledNumber"} {
		s, err := p.Required(name)
		if err != nil {
			return nil, err
		}
		v[i] = s
	}
	callerShowParam, caller, calledShowParam, callee := v[0], v[1], v[2], v[3]
	if err := checkCallee("CallerNumber", caller, true); err != nil {
		return nil, err
	}
	if err := checkCallee("CalledNumber", callee, true); err != nil {
		return nil, err
	}
	if caller == callee {
		return nil, dialtone.Errorf(dialtone.CodeInvalidParameters, "CallerNumber and CalledNumber are the same number.")
	}
	callerShow, err := s.displayNumber(ctx, acct, "CallerShowNumber", callerShowParam, true)
	if err != nil {
		return nil, err
	}
	calledShow, err := s.displayNumber(ctx, acct, "CalledShowNumber", calledShowParam, true)
	if err != nil {
		return nil, err
	}
	plan := &dialtone.CallPlan{}
	if plan.Record, _, err = p.Bool("RecordFlag"); err != nil {
		return nil, err
	}
	if plan.AsrFlag, _, err = p.Bool("AsrFlag"); err != nil {
		return nil, err
	}
	plan.AsrModelID = p.String("AsrModelId")
	st, err := intRange(p, "SessionTimeout", 1, MaxSessionTimeout, 0)
	if err != nil {
		return nil, err
	}
	plan.SessionTimeout = time.Duration(st) * time.Second
	outID, err := checkOutID(p)
	if err != nil {
		return nil, err
	}
	c := &dialtone.Call{AccountUID: acct, Kind: dialtone.KindClickToDial, ProdID: dialtone.ProdClickToDial,
		Caller: caller, Callee: callee, CallerShowNumber: callerShow, CalleeShowNumber: calledShow, OutID: outID}
	return s.place(ctx, c, plan, false)
}

// CancelCall ends a ClickToDial call in any phase. Status is true when it
// cancelled the call, false when the call had already ended.
func (s *Service) CancelCall(ctx context.Context, inv *gateway.Invocation) (map[string]any, error) {
	id, err := inv.Params.Required("CallId")
	if err != nil {
		return nil, err
	}
	c, err := s.Store.GetCall(ctx, inv.Account.UID, id)
	if errors.Is(err, dialtone.ErrNotFound) {
		return nil, dialtone.Errorf(dialtone.CodeInvalidParameters, "CallId %s is not a call of this account.", id)
	}
	if err != nil {
		return nil, dialtone.SystemError(err)
	}
	if c.Kind != dialtone.KindClickToDial {
		return nil, dialtone.Errorf(dialtone.CodeInvalidParameters, "CallId %s is a %s call; CancelCall cancels ClickToDial calls.", id, c.Kind)
	}
	if c.State == dialtone.CallEnded || s.Dialer == nil {
		return map[string]any{"Status": false}, nil
	}
	ok, err := s.Dialer.Cancel(ctx, inv.Account.UID, id)
	if err != nil && !errors.Is(err, dialtone.ErrNotFound) {
		return nil, dialtone.SystemError(err)
	}
	return map[string]any{"Status": ok}, nil
}
