package sim

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/carrier/progress"
)

// speechPerRune is how long the simulated subscriber takes per character it
// says (Chinese is spoken at about four characters a second).
const speechPerRune = 250 * time.Millisecond

// leg is one simulated party. Its subscriber runs in run; the platform
// side calls Play, Bridge, Record and Hangup.
type leg struct {
	net    *Network
	callID string
	name   string
	beh    Behavior

	events   chan dialtone.LegEvent
	done     chan struct{} // closed when the leg ends, whoever ended it
	hangupRq chan struct{} // closed by Hangup
	hangOnce sync.Once
	doneOnce sync.Once
	kick     chan struct{} // a prompt ended (coalescing)

	mu           sync.Mutex
	answered     bool
	promptsEnded int
	peer         *leg
	rec          *recording
	// Bridged to another carrier's leg (media.go): out hears the party's
	// voice and keys, voiceStop stops the goroutine speaking into it, and
	// heard follows what the other party says.
	out       dialtone.MediaSink
	voiceStop chan struct{}
	heard     heardRun

	// Answering-machine detection (answerer.go): when it answered (clock
	// time), what it sends from then on and what that holds; trackReady
	// closes once the track is made (nil: no track). early reads the tone
	// the network played while it rang.
	answeredAt time.Time
	track      []int16
	marks      []mark
	trackReady chan struct{}
	early      *progress.Reader

	// Media streams (feed.go): the feed in progress, the say lines'
	// speech (made once the leg is fed), the lines said so far placed in
	// the subscriber's audio, and how far the platform has heard it.
	feedStop chan struct{}
	sayAudio [][]int16
	spoken   []spokenLine
	tapHigh  int
}

func (l *leg) Events() <-chan dialtone.LegEvent { return l.events }

func (l *leg) now() time.Time { return l.net.clock.Now() }

func (l *leg) note(kind, text string) {
	l.net.note(l.callID, TranscriptEntry{At: l.now(), Leg: l.name, Kind: kind, Text: text})
}

func (l *leg) finish() {
	l.doneOnce.Do(func() {
		close(l.done)
		l.mu.Lock()
		if l.rec != nil {
			l.rec.end = l.now()
		}
		l.mu.Unlock()
	})
}

// send delivers ev unless the platform hung up first; false means stop.
func (l *leg) send(ev dialtone.LegEvent) bool {
	select {
	case l.events <- ev:
		return true
	case <-l.hangupRq:
		return false
	}
}

// wait sleeps d of clock time; false means the platform hung up meanwhile.
func (l *leg) wait(d time.Duration) bool {
	if d <= 0 {
		select {
		case <-l.hangupRq:
			return false
		default:
			return true
		}
	}
	t := l.net.clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-l.hangupRq:
		return false
	}
}

// run is the subscriber.
func (l *leg) run() {
	defer close(l.events)
	defer l.finish()
	if !l.send(dialtone.LegEvent{Kind: dialtone.LegTrying, At: l.now()}) {
		return
	}
	res := l.beh.Result
	if res == "" {
		res = ResultAnswer
	}
	l.prepareAnswer()
	switch res {
	case ResultAnswer:
		if !l.ring(l.beh.AnswerAfter) {
			return
		}
	case ResultNoAnswer, ResultRejected:
		l.note("ringing", "") // before it is reported, as in ring
		if !l.send(dialtone.LegEvent{Kind: dialtone.LegRinging, At: l.now()}) {
			return
		}
		rang := l.now()
		if after, tone, cut := l.earlyTone(l.beh.Ring, l.beh.Ring <= 0); cut {
			if l.wait(after - l.now().Sub(rang)) {
				l.failTone(tone)
			}
			return
		}
		if l.beh.Ring <= 0 {
			// Rings until the platform gives up.
			<-l.hangupRq
			return
		}
		if !l.wait(l.beh.Ring - l.now().Sub(rang)) {
			return
		}
		l.fail(res)
		return
	default:
		if !l.wait(FailDelay) {
			return
		}
		l.fail(res)
		return
	}
	l.talk()
}

func (l *leg) ring(d time.Duration) bool {
	// Noted before it is reported: once the engine has the event it may
	// time the ring out and hang up, and the transcript must not then
	// show the ringing after the hang-up.
	l.note("ringing", "")
	if !l.send(dialtone.LegEvent{Kind: dialtone.LegRinging, At: l.now()}) {
		return false
	}
	// Reading the early media takes time of its own (much of the clock's,
	// when it is scaled): the waits count from the ringing.
	rang := l.now()
	if after, tone, cut := l.earlyTone(d, false); cut {
		if l.wait(after - l.now().Sub(rang)) {
			l.failTone(tone)
		}
		return false
	}
	if !l.wait(d-l.now().Sub(rang)) || !l.awaitTrack() {
		return false
	}
	l.mu.Lock()
	l.answered = true
	l.answeredAt = l.now()
	l.mu.Unlock()
	l.note("answered", "")
	return l.send(dialtone.LegEvent{Kind: dialtone.LegAnswered, At: l.now()})
}

func (l *leg) fail(res CallResult) {
	reason, ok := failReason[res]
	if !ok {
		reason = dialtone.FailSystem
	}
	// A tone the network played while it rang settles what the status
	// leaves open, as on a SIP trunk.
	reason, detail := l.early.Settle(reason, false, map[string]string{"sip_status": sipStatus[res]})
	l.note("failed", string(reason))
	l.finish()
	l.send(dialtone.LegEvent{Kind: dialtone.LegFailed, At: l.now(), Reason: reason, Detail: detail})
}

// utterance is a Say line waiting to be spoken.
type utterance struct {
	text  string
	start time.Time
}

// talk is the answered subscriber: it hangs up, presses keys and speaks as
// its behaviour says until the call ends.
func (l *leg) talk() {
	answeredAt := l.now()
	var hangup <-chan time.Time
	if l.beh.HangupAfter > 0 {
		t := l.net.clock.NewTimer(l.beh.HangupAfter)
		defer t.Stop()
		hangup = t.C
	}
	// Keys pressed at a time after answering, in time order.
	var timed []DTMF
	for _, d := range l.beh.DTMF {
		if d.AfterPrompt <= 0 {
			timed = append(timed, d)
		}
	}
	sort.SliceStable(timed, func(i, j int) bool { return timed[i].At < timed[j].At })
	var dtmfTimer *time.Timer
	var dtmfC <-chan time.Time
	armDTMF := func() {
		if len(timed) == 0 {
			dtmfC = nil
			return
		}
		d := timed[0].At - l.now().Sub(answeredAt)
		dtmfTimer = l.net.clock.NewTimer(d)
		dtmfC = dtmfTimer.C
	}
	armDTMF()
	defer func() {
		if dtmfTimer != nil {
			dtmfTimer.Stop()
		}
	}()

	// What the answer track holds, noted when it is heard.
	l.mu.Lock()
	marks := l.marks
	l.mu.Unlock()
	var markTimer *time.Timer
	var markC <-chan time.Time
	armMark := func() {
		markC = nil
		if len(marks) > 0 {
			markTimer = l.net.clock.NewTimer(marks[0].at - l.now().Sub(answeredAt))
			markC = markTimer.C
		}
	}
	armMark()
	defer func() {
		if markTimer != nil {
			markTimer.Stop()
		}
	}()

	seenPrompts, said := 0, 0
	var queue []utterance // lines due after prompts ended, oldest first
	var sayTimer *time.Timer
	var sayC <-chan time.Time
	defer func() {
		if sayTimer != nil {
			sayTimer.Stop()
		}
	}()
	// armSay schedules the end of the first queued utterance.
	armSay := func() {
		if sayC != nil || len(queue) == 0 {
			return
		}
		u := queue[0]
		end := u.start.Add(speechDuration(u.text))
		sayTimer = l.net.clock.NewTimer(end.Sub(l.now()))
		sayC = sayTimer.C
	}

	for {
		select {
		case <-l.hangupRq:
			return
		case <-hangup:
			l.net.note(l.callID, TranscriptEntry{At: l.now(), Leg: l.name, Kind: "hangup", By: "subscriber"})
			l.finish()
			l.send(dialtone.LegEvent{Kind: dialtone.LegHangup, At: l.now()})
			return
		case <-markC:
			// Noted at the instant the track holds it, however late the
			// timer fired.
			l.net.note(l.callID, TranscriptEntry{At: answeredAt.Add(marks[0].at), Leg: l.name, Kind: marks[0].kind, Text: marks[0].text})
			marks = marks[1:]
			armMark()
		case <-dtmfC:
			d := timed[0]
			timed = timed[1:]
			if !l.press(d.Digits) {
				return
			}
			armDTMF()
		case <-l.kick:
			l.mu.Lock()
			ended := l.promptsEnded
			l.mu.Unlock()
			for seenPrompts < ended {
				seenPrompts++
				for _, d := range l.beh.DTMF {
					if d.AfterPrompt == seenPrompts && !l.press(d.Digits) {
						return
					}
				}
				if said < len(l.beh.Say) {
					start := l.now().Add(l.beh.Silence)
					queue = append(queue, utterance{text: l.beh.Say[said], start: start})
					l.sayAt(said, start)
					said++
				}
			}
			armSay()
		case <-sayC:
			u := queue[0]
			queue = queue[1:]
			sayC = nil
			l.note("speech", u.text)
			if !l.send(dialtone.LegEvent{Kind: dialtone.LegSpeech, At: l.now(), Text: u.text,
				SpeechStart: u.start, SpeechEnd: l.now()}) {
				return
			}
			armSay()
		}
	}
}

func (l *leg) press(digits string) bool {
	l.note("dtmf", digits)
	l.mu.Lock()
	out := l.out
	l.mu.Unlock()
	if out != nil {
		// Bridged to another carrier's leg: its party hears the keys, as
		// two SIP parties would.
		out.WriteDTMF(digits)
	}
	return l.send(dialtone.LegEvent{Kind: dialtone.LegDTMF, At: l.now(), Digits: digits})
}

func speechDuration(text string) time.Duration {
	d := time.Duration(utf8.RuneCountInString(text)) * speechPerRune
	if d < 500*time.Millisecond {
		d = 500 * time.Millisecond
	}
	return d
}

// Play plays a to the subscriber for exactly a.Duration() of clock time.
func (l *leg) Play(ctx context.Context, a *dialtone.Audio, interrupt <-chan struct{}) (bool, error) {
	if a == nil {
		return false, fmt.Errorf("sim: play on leg %s of %s: nil audio", l.name, l.callID)
	}
	select {
	case <-l.done:
		return false, ErrLegEnded
	default:
	}
	start := l.now()
	l.mu.Lock()
	if l.rec != nil {
		l.rec.add(0, start, a)
	}
	p := l.peer
	l.mu.Unlock()
	// Locked one at a time: the peer may be playing to us concurrently.
	if p != nil {
		p.mu.Lock()
		if p.rec != nil {
			p.rec.add(1, start, a)
		}
		p.mu.Unlock()
	}

	t := l.net.clock.NewTimer(a.Duration())
	defer t.Stop()
	interrupted := false
	var err error
	select {
	case <-t.C:
	case <-interrupt:
		interrupted = true
	case <-l.done:
		interrupted, err = true, ErrLegEnded
	case <-ctx.Done():
		interrupted, err = true, ctx.Err()
	}
	l.net.note(l.callID, TranscriptEntry{At: start, Leg: l.name, Kind: "play", Text: a.Label, Interrupted: interrupted})
	if err != nil {
		return interrupted, fmt.Errorf("sim: play on leg %s of %s: %w", l.name, l.callID, err)
	}
	l.mu.Lock()
	l.promptsEnded++
	l.mu.Unlock()
	select {
	case l.kick <- struct{}{}:
	default: // a kick is pending already; the subscriber reads the count
	}
	return interrupted, nil
}

// Bridge connects l and other. Two sim legs share their bookkeeping (each
// recording hears the prompts of both). A leg of another carrier (a SIP
// trunk, when trunks are routed for some numbers only) is joined through
// dialtone.MediaLeg: the simulated party then speaks in real time (see
// MediaOut) and what the other party says is recorded and noted.
func (l *leg) Bridge(ctx context.Context, other dialtone.Leg) error {
	o, ok := other.(*leg)
	if !ok {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("sim: bridge %s: %w", l.callID, err)
		}
		if err := dialtone.BridgeMedia(l, other); err != nil {
			return fmt.Errorf("sim: bridge %s leg %s: %w", l.callID, l.name, err)
		}
		return nil
	}
	select {
	case <-l.done:
		return fmt.Errorf("sim: bridge %s: %w", l.callID, ErrLegEnded)
	case <-o.done:
		return fmt.Errorf("sim: bridge %s: %w", l.callID, ErrLegEnded)
	default:
	}
	l.mu.Lock()
	l.peer = o
	l.mu.Unlock()
	o.mu.Lock()
	o.peer = l
	o.mu.Unlock()
	l.note("bridge", o.name)
	return nil
}

// Record starts recording: channel 0 is what this party heard from the
// platform (and, bridged to another carrier's leg, what that party said),
// channel 1 what its bridged peer heard (the party's own voice, when the
// peer is another carrier's leg).
func (l *leg) Record(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.rec == nil {
		l.rec = &recording{start: l.now()}
	}
	return nil
}

func (l *leg) Recording() []byte {
	l.mu.Lock()
	r := l.rec
	var end time.Time
	if r != nil {
		end = r.end
		r = r.snapshot()
	}
	l.mu.Unlock()
	if r == nil {
		return nil
	}
	if end.IsZero() {
		end = l.now()
	}
	return r.wav(end)
}

// Hangup ends the leg from the platform side; it is idempotent.
func (l *leg) Hangup(ctx context.Context) error {
	l.hangOnce.Do(func() {
		// Noted before hangupRq closes: the subscriber's goroutine ends
		// the leg as soon as it sees hangupRq, and a check after that
		// would find the leg ended and leave the hang-up out.
		select {
		case <-l.done:
		default:
			l.net.note(l.callID, TranscriptEntry{At: l.now(), Leg: l.name, Kind: "hangup", By: "platform"})
		}
		close(l.hangupRq)
		l.finish()
	})
	return nil
}

func (l *leg) Stats() map[string]string {
	return map[string]string{"carrier": "sim"}
}
