package engine

import (
	"time"

	"github.com/dialtone-voice/dialtone"
)

// notify runs a voice or TTS notification: dial, play the prompt PlayTimes
// times, hang up.
func (r *run) notify() {
	audios, ok := r.render(r.plan.Prompt)
	if !ok {
		return
	}
	if !r.dial("A", r.c.Callee, r.display(), RoleSingle) {
		return
	}
	r.startMachineDetection("A")
	r.startFork()
	if err := r.commit(); err != nil {
		r.abandon(err)
		return
	}
	if !r.awaitMachine() {
		return
	}
	times := max(r.plan.PlayTimes, 1)
	for i := 0; i < times; i++ {
		for j, a := range audios {
			if res := r.playAndWait(a, r.plan.Prompt[j], nil); res != playFinished {
				return
			}
		}
	}
	r.finish(Outcome{dialtone.StatusCompleted, SmartAnswered}, HangupMachine, "")
}

type playOutcome int

const (
	playFinished playOutcome = iota // the prompt played to its end
	playKey                         // onKey asked to stop at a key
	playEnded                       // the call has ended
)

// playAndWait plays one prompt to leg A, handling what happens meanwhile.
// Keys are recorded; onKey (if set) sees each and may return true to cut
// the prompt short.
func (r *run) playAndWait(a *dialtone.Audio, p dialtone.Prompt, onKey func(digits string) bool) playOutcome {
	r.startPlay("A", a, p)
	keyed := false
	for {
		w := r.wait(time.Time{}, nil)
		switch w.kind {
		case wakePlay:
			if w.play.err != nil {
				// The leg ended under the prompt; its hangup event says who.
				if r.awaitEnd() {
					return playEnded
				}
				r.finish(Outcome{dialtone.StatusHungUpEarly, SmartAnswered}, HangupUser, "")
				return playEnded
			}
			if keyed {
				return playKey
			}
			return playFinished
		default:
			done, digits := r.talkWake(w, Outcome{dialtone.StatusHungUpEarly, SmartAnswered})
			if done {
				return playEnded
			}
			if digits != "" && onKey != nil && onKey(digits) {
				keyed = true
				r.interruptPlay()
			}
		}
	}
}

// awaitEnd waits for the answered leg A to report how it ended, after a
// playback failed because the leg was gone. It returns true when it ended
// the call.
func (r *run) awaitEnd() bool {
	for r.aEv != nil {
		w := r.wait(time.Time{}, nil)
		if done, _ := r.talkWake(w, Outcome{dialtone.StatusHungUpEarly, SmartAnswered}); done {
			return true
		}
	}
	return false
}

// talkWake handles a wake of an answered single-leg call that means the
// same in every phase. early is the outcome when the callee hangs up now.
// It returns done when the call ended, and the digits of a key press (which
// it has recorded).
func (r *run) talkWake(w wake, early Outcome) (done bool, digits string) {
	switch w.kind {
	case wakeStop:
		r.stopped(RoleSingle, true)
		return true, ""
	case wakeSession:
		r.finish(Outcome{dialtone.StatusCompleted, SmartAnswered}, HangupMachine, "session timeout")
		return true, ""
	case wakeClosed:
		if w.leg == "A" {
			r.finish(early, HangupUser, "")
			return true, ""
		}
	case wakeOp:
		if err := r.commit(); err != nil {
			r.abandon(err)
			return true, ""
		}
	case wakeEvent:
		if w.leg != "A" {
			return false, ""
		}
		switch w.ev.Kind {
		case dialtone.LegHangup, dialtone.LegFailed:
			r.c.A.End = w.ev.At
			r.finish(early, HangupUser, "")
			return true, ""
		case dialtone.LegDTMF:
			if w.ev.Digits == "" {
				return false, ""
			}
			r.c.DTMF += w.ev.Digits
			r.streamDTMF(w.ev.Digits)
			r.event("dtmf", "A", dialtone.StatusDTMF, map[string]string{"digits": w.ev.Digits})
			if err := r.commit(); err != nil {
				r.abandon(err)
				return true, ""
			}
			return false, w.ev.Digits
		}
	}
	return false, ""
}
