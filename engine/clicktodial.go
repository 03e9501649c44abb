package engine

import (
	"context"
	"time"

	"github.com/dialtone-voice/dialtone"
)

// clickToDial runs a two-leg call: dial the caller (A), then the callee
// (B), bridge them, and end both when either hangs up.
func (r *run) clickToDial() {
	if !r.dial("A", r.c.Caller, r.c.CallerShowNumber, RoleCaller) {
		return
	}
	ctx := context.WithoutCancel(r.ctx)
	if r.plan.Record {
		if err := r.a.Record(ctx); err != nil {
			r.log.Warn("cannot record", "err", err)
		}
	}
	// dial("B") stores A's answer together with B's origination.
	if !r.dial("B", r.c.Callee, r.c.CalleeShowNumber, RoleCallee) {
		return
	}
	r.startMachineDetection("B")
	if err := r.a.Bridge(ctx, r.b); err != nil {
		r.log.Warn("bridge failed", "err", err)
		r.finish(Outcome{dialtone.StatusSystemError, SmartOther}, HangupMachine, "bridge failed: "+err.Error())
		return
	}
	r.startFork()
	if err := r.commit(); err != nil {
		r.abandon(err)
		return
	}
	talked := Outcome{dialtone.StatusCompleted, SmartAnswered}
	for {
		w := r.wait(time.Time{}, r.amdKick())
		switch w.kind {
		case wakeExtra:
			if !r.machineInBridge() {
				return
			}
		case wakeStop:
			r.stopped(RoleCallee, true)
			return
		case wakeSession:
			r.finish(talked, HangupMachine, "session timeout")
			return
		case wakeClosed:
			r.finish(talked, HangupUser, "")
			return
		case wakeOp:
			if err := r.commit(); err != nil {
				r.abandon(err)
				return
			}
		case wakeEvent:
			switch w.ev.Kind {
			case dialtone.LegHangup, dialtone.LegFailed:
				if w.leg == "A" {
					r.c.A.End = w.ev.At
				} else {
					r.c.B.End = w.ev.At
				}
				r.event("hangup", w.leg, "", map[string]string{"by": "far end"})
				r.finish(talked, HangupUser, "")
				return
			case dialtone.LegDTMF:
				r.c.DTMF += w.ev.Digits
				r.streamDTMF(w.ev.Digits)
				r.event("dtmf", w.leg, dialtone.StatusDTMF, map[string]string{"digits": w.ev.Digits})
				if err := r.commit(); err != nil {
					r.abandon(err)
					return
				}
			}
		}
	}
}
