package engine

import (
	"github.com/dialtone-voice/dialtone"
)

// maxIVRRounds bounds how often the start prompt is replayed after keys
// that are not in the menu.
const maxIVRRounds = 3

// ivr runs an IVR call: play the start prompt, collect one key, play that
// key's prompt and the bye prompt, hang up. Without a menu it plays the
// start prompt and the bye prompt.
func (r *run) ivr() {
	start, ok := r.render(r.plan.Prompt)
	if !ok {
		return
	}
	menu := make(map[string][]*dialtone.Audio, len(r.plan.Menu))
	menuPrompts := make(map[string][]dialtone.Prompt, len(r.plan.Menu))
	for _, it := range r.plan.Menu {
		a, ok := r.render(it.Prompt)
		if !ok {
			return
		}
		menu[it.Key], menuPrompts[it.Key] = a, it.Prompt
	}
	bye, ok := r.render(r.plan.Bye)
	if !ok {
		return
	}
	timeout := r.plan.DTMFTimeout
	if timeout <= 0 {
		timeout = DefaultDTMFTimeout
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
	if len(menu) == 0 {
		// No menu to choose from: an announcement (the start prompt, as
		// many times as asked) and the bye prompt.
		for range max(r.plan.PlayTimes, 1) {
			for j, a := range start {
				if r.playAndWait(a, r.plan.Prompt[j], nil) == playEnded {
					return
				}
			}
		}
		for j, a := range bye {
			if r.playAndWait(a, r.plan.Bye[j], nil) == playEnded {
				return
			}
		}
		r.finish(Outcome{dialtone.StatusCompleted, SmartAnswered}, HangupMachine, "")
		return
	}
	// A key in the menu may be pressed while the start prompt plays
	// (barge-in); only the first key of a round counts.
	var key string
	onKey := func(digits string) bool {
		if key == "" {
			key = digits[:1]
		}
		return true
	}
	for round := 0; round < maxIVRRounds; round++ {
		key = ""
		for i := 0; i < max(r.plan.PlayTimes, 1) && key == ""; i++ {
			for j, a := range start {
				res := r.playAndWait(a, r.plan.Prompt[j], onKey)
				if res == playEnded {
					return
				}
				if key != "" {
					break
				}
			}
		}
		if key == "" {
			// The key timeout counts from the end of the prompt.
			deadline := r.now().Add(timeout)
			for key == "" {
				w := r.wait(deadline, nil)
				if w.kind == wakeTimer {
					r.finish(Outcome{dialtone.StatusDTMFTimeout, SmartAnswered}, HangupMachine, "")
					return
				}
				done, digits := r.talkWake(w, Outcome{dialtone.StatusHungUpEarly, SmartAnswered})
				if done {
					return
				}
				if digits != "" {
					key = digits[:1]
				}
			}
		}
		if items, ok := menu[key]; ok {
			for j, a := range items {
				if r.playAndWait(a, menuPrompts[key][j], nil) == playEnded {
					return
				}
			}
			for j, a := range bye {
				if r.playAndWait(a, r.plan.Bye[j], nil) == playEnded {
					return
				}
			}
			r.finish(Outcome{dialtone.StatusCompleted, SmartAnswered}, HangupMachine, "")
			return
		}
		r.log.Debug("key not in the menu; replaying the start prompt", "key", key)
	}
	for j, a := range bye {
		if r.playAndWait(a, r.plan.Bye[j], nil) == playEnded {
			return
		}
	}
	r.finish(Outcome{dialtone.StatusCompleted, SmartAnswered}, HangupMachine, "no key of the menu was pressed")
}
