package sip

import "time"

// feedPhase moves a fed session's send slot to follow its source's audio
// (dialtone.PCMPhaser). An application that sends audio in real time (an
// echo, a relay, an agent streaming its speech as it makes it) delivers
// each frame at a phase of the 20 ms frame set by its own clock, unrelated
// to the session's slot in the pacer: left there, every frame waits 0–20
// ms for the slot.
//
// Over a window of frames, the least lead (how long the newest audio read
// had waited) less a margin is time the slot can move earlier by; audio
// that came after its slot (dropped as late by the source) moves it a
// slot later at once and widens the margin, which narrows again after a
// while without late audio. Audio sent ahead of time (the source held
// more than a frame) is no measure of the phase and is left alone. The
// moves are whole pacer slots (2 ms), and the RTP clock is left as it is:
// a packet leaves a little early or late for its timestamp, which a
// receiver's jitter buffer takes as jitter, and as the moves follow the
// source's phase, which the source's clock sets, they do not add up.
type feedPhase struct {
	least  time.Duration // the least lead of the window so far
	n      int           // measured reads in the window
	margin time.Duration // learned from late audio, on top of phaseMargin
	calm   int           // windows since the last late audio
}

const (
	// phaseWindow is how many measured reads are taken before a move
	// earlier: 160 ms of audio.
	phaseWindow = 8
	// phaseMargin is the least lead kept: the pacer's own lateness in
	// serving a slot, and the application's jitter, are within it.
	phaseMargin = 2 * time.Millisecond
	// maxPhaseMargin bounds what late audio adds to it.
	maxPhaseMargin = 8 * time.Millisecond
	// phaseCalm is how many windows without late audio take a slot off
	// the learned margin: about 8 s.
	phaseCalm = 50
	// phaseMinMove is the least move earlier worth its cost (a frame of
	// the source's audio, skipped): 4 ms.
	phaseMinMove = 2
)

// observe takes what the source said of its last Read and returns how
// many slots the send slot should move: negative is earlier.
func (f *feedPhase) observe(lead time.Duration, measured, late bool) int {
	if late {
		f.margin = min(f.margin+slotTime, maxPhaseMargin)
		f.n, f.calm = 0, 0
		return 1
	}
	if !measured {
		return 0
	}
	if f.n == 0 || lead < f.least {
		f.least = lead
	}
	if f.n++; f.n < phaseWindow {
		return 0
	}
	f.n = 0
	if f.calm++; f.calm >= phaseCalm && f.margin > 0 {
		f.margin -= slotTime
		f.calm = 0
	}
	spare := f.least - phaseMargin - f.margin
	if spare < phaseMinMove*slotTime {
		return 0
	}
	return -min(int(spare/slotTime), pacerSlots-1)
}
