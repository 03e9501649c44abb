package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dialtone-voice/dialtone"
)

type stopKind int

const (
	stopNone stopKind = iota
	stopCancel
	stopShutdown
)

// run is one live call. Only its own goroutine touches c and the leg
// fields; other goroutines talk to it through stop and opKick.
type run struct {
	e    *Engine
	clk  Clock // this call's own timeline (see callClock)
	c    *dialtone.Call
	plan *dialtone.CallPlan
	ctx  context.Context
	log  *slog.Logger

	seq     int
	claimed bool                 // a write of ours landed: the call is ours
	over    atomic.Bool          // the call has ended; Cancel and Operate see it
	pending []dialtone.CallEvent // events not yet written
	numbers []string             // concurrency slots held

	stop     chan struct{}
	stopOnce sync.Once
	stopMu   sync.Mutex
	stopWhy  stopKind
	stopMsg  string

	opMu   sync.Mutex
	ops    []dialtone.CallEvent // SmartCallOperate commands not yet written
	opKick chan struct{}

	a, b       dialtone.Leg
	aEv, bEv   <-chan dialtone.LegEvent
	session    time.Time // session deadline (zero: none)
	playDone   chan playResult
	playing    bool
	interrupt  chan struct{}
	broken     bool // playback was interrupted through interrupt
	playLabel  string
	playLeg    string
	playedTill time.Time // when the last playback ended
	// listen is what leg A is listened for (SmartCall), nil otherwise.
	listen *dialtone.SmartPlan
	// earlyMedia is the early_media_code of a smart call with
	// EarlyMediaAsr whose callee did not answer.
	earlyMedia string
	// amd is the answering-machine detection (amd.go), nil without.
	amd *machine
	// Media streams (stream.go): the SmartCall's agent stream while it
	// runs, the call's fork, and the detail of the stream the ended event
	// reports.
	agent     *callStream
	fork      *fork
	streamEnd map[string]string
}

type playResult struct {
	interrupted bool
	err         error
}

func newRun(e *Engine, c *dialtone.Call, plan *dialtone.CallPlan) *run {
	return &run{
		e:        e,
		clk:      callClock(e.cfg.Clock),
		c:        c,
		plan:     plan,
		ctx:      e.bg,
		log:      e.log.With("call_id", c.ID, "kind", string(c.Kind)),
		stop:     make(chan struct{}),
		opKick:   make(chan struct{}, 1),
		playDone: make(chan playResult, 1),
	}
}

func (r *run) requestStop(kind stopKind, msg string) {
	r.stopOnce.Do(func() {
		r.stopMu.Lock()
		r.stopWhy, r.stopMsg = kind, msg
		r.stopMu.Unlock()
		close(r.stop)
	})
}

func (r *run) stopReason() (stopKind, string) {
	r.stopMu.Lock()
	defer r.stopMu.Unlock()
	return r.stopWhy, r.stopMsg
}

func (r *run) operate(command, param string) bool {
	if r.over.Load() {
		return false
	}
	r.opMu.Lock()
	r.ops = append(r.ops, dialtone.CallEvent{CallID: r.c.ID, At: r.now(), Type: "operate",
		Detail: map[string]string{"command": command, "param": param}})
	r.opMu.Unlock()
	select {
	case r.opKick <- struct{}{}:
	default:
	}
	return true
}

func (r *run) clock() Clock   { return r.clk }
func (r *run) now() time.Time { return r.clk.Now() }

// errGone means the call was ended by someone else (another node's
// CancelCall); the run hangs up and stops without writing.
var errGone = errors.New("call ended elsewhere")

// event queues an event for the next commit.
func (r *run) event(typ, leg, status string, detail map[string]string) {
	r.seq++
	r.pending = append(r.pending, dialtone.CallEvent{CallID: r.c.ID, Seq: r.seq, At: r.now(), Type: typ, Leg: leg, StatusCode: status, Detail: detail})
}

// commit writes the call and the queued events in one transaction.
func (r *run) commit() error {
	r.takeOps()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.ctx), storeTimeout)
	defer cancel()
	for attempt := 0; ; attempt++ {
		ch := &dialtone.CallChange{Call: r.c, Events: r.pending}
		if r.e.cfg.Receipts != nil {
			ch.Receipts = r.e.cfg.Receipts.Build(r.c, r.pending)
		}
		err := r.e.cfg.Store.UpdateCall(ctx, ch)
		if err == nil {
			r.pending = r.pending[:0]
			r.claimed = true
			return nil
		}
		if !errors.Is(err, dialtone.ErrConflict) || attempt >= 2 {
			return fmt.Errorf("update call %s: %w", r.c.ID, err)
		}
		// Someone else wrote the call: adopt their version unless they
		// ended it, and renumber our events after theirs.
		fresh, gerr := r.e.cfg.Store.GetCall(ctx, r.c.AccountUID, r.c.ID)
		if gerr != nil {
			return fmt.Errorf("reload call %s: %w", r.c.ID, gerr)
		}
		if fresh.State == dialtone.CallEnded {
			return errGone
		}
		// Until our first write lands the call is not ours: whoever moved
		// it out of queued dials it, and we must not dial it again.
		if !r.claimed && (fresh.State != dialtone.CallQueued || r.e.claimedElsewhere(fresh)) {
			return errGone
		}
		evs, lerr := r.e.cfg.Store.ListCallEvents(ctx, r.c.AccountUID, r.c.ID)
		if lerr != nil {
			return fmt.Errorf("reload events of %s: %w", r.c.ID, lerr)
		}
		last := 0
		for _, ev := range evs {
			last = max(last, ev.Seq)
		}
		for i := range r.pending {
			r.pending[i].Seq = last + 1 + i
		}
		r.seq = last + len(r.pending)
		r.c.Version = fresh.Version
	}
}

// takeOps queues the events other goroutines left (SmartCallOperate
// commands, verdicts of machine detection) after those already queued.
func (r *run) takeOps() {
	r.opMu.Lock()
	for _, ev := range r.ops {
		r.seq++
		ev.Seq = r.seq
		r.pending = append(r.pending, ev)
	}
	r.ops = nil
	r.opMu.Unlock()
}

// main is the call's goroutine.
func (r *run) main() {
	defer r.e.unregister(r)
	defer r.giveSlots()
	// A call left in a plan-less or unknown state must still end.
	defer func() {
		if p := recover(); p != nil {
			r.log.Error("call goroutine panicked", "panic", p)
			r.hangupAll()
			if r.c.State != dialtone.CallEnded {
				r.finish(Outcome{dialtone.StatusSystemError, SmartOther}, HangupMachine, fmt.Sprintf("internal error: %v", p))
			}
		}
	}()

	if !r.takeSlots() {
		return
	}
	if r.plan.SessionTimeout > 0 {
		r.session = r.now().Add(r.plan.SessionTimeout)
	}
	switch r.c.Kind {
	case dialtone.KindVoice, dialtone.KindTTS:
		r.notify()
	case dialtone.KindIVR:
		r.ivr()
	case dialtone.KindClickToDial:
		r.clickToDial()
	case dialtone.KindSmartCall:
		r.smartCall()
	default:
		r.finish(Outcome{dialtone.StatusSystemError, SmartOther}, HangupMachine, fmt.Sprintf("unknown call kind %q", r.c.Kind))
	}
}

// displayNumbers are the purchased numbers the call is shown from, whose
// concurrency it counts against. A single call shows CallerShowNumber (or
// CalleeShowNumber when the API layer put the display there).
func (r *run) displayNumbers() []string {
	if r.c.Kind == dialtone.KindClickToDial {
		return []string{r.c.CallerShowNumber, r.c.CalleeShowNumber}
	}
	return []string{r.display()}
}

func (r *run) display() string {
	if r.c.CallerShowNumber != "" {
		return r.c.CallerShowNumber
	}
	return r.c.CalleeShowNumber
}

// wakeKind says why wait returned.
type wakeKind int

const (
	wakeEvent   wakeKind = iota // a leg event
	wakeClosed                  // a leg's event channel closed
	wakeTimer                   // the phase deadline passed
	wakeSession                 // the session deadline passed
	wakeStop                    // Cancel or Shutdown
	wakePlay                    // the playback finished (or was cut)
	wakeOp                      // a SmartCallOperate command arrived
	wakeExtra                   // the caller's extra channel fired
)

type wake struct {
	kind wakeKind
	leg  string
	ev   dialtone.LegEvent
	play playResult
}

// wait returns the next thing that happens to the call, or the deadline
// (zero: none) passing. extra, if not nil, is one more channel to watch.
func (r *run) wait(deadline time.Time, extra <-chan struct{}) wake {
	var tc <-chan time.Time
	sessionFirst := false
	if !r.session.IsZero() && (deadline.IsZero() || !r.session.After(deadline)) {
		deadline, sessionFirst = r.session, true
	}
	if !deadline.IsZero() {
		t := r.clock().NewTimer(deadline.Sub(r.now()))
		defer t.Stop()
		tc = t.C
	}
	select {
	case <-r.stop:
		return wake{kind: wakeStop}
	default:
	}
	select {
	case ev, ok := <-r.aEv:
		if !ok {
			r.aEv = nil
			return wake{kind: wakeClosed, leg: "A"}
		}
		// Events are timed on the call's own timeline, whatever clock the
		// carrier used.
		ev.At = r.now()
		return wake{kind: wakeEvent, leg: "A", ev: ev}
	case ev, ok := <-r.bEv:
		if !ok {
			r.bEv = nil
			return wake{kind: wakeClosed, leg: "B"}
		}
		ev.At = r.now()
		return wake{kind: wakeEvent, leg: "B", ev: ev}
	case p := <-r.playDone:
		r.playing = false
		r.playedTill = r.now()
		return wake{kind: wakePlay, play: p}
	case <-r.stop:
		return wake{kind: wakeStop}
	case <-r.opKick:
		return wake{kind: wakeOp}
	case <-extra:
		return wake{kind: wakeExtra}
	case <-tc:
		if sessionFirst {
			return wake{kind: wakeSession}
		}
		return wake{kind: wakeTimer}
	}
}

// startPlay plays a on leg (A or B) in a helper goroutine; its end arrives
// through wait as wakePlay. breakable says whether interruptPlay may cut it.
func (r *run) startPlay(legName string, a *dialtone.Audio, p dialtone.Prompt) {
	l := r.a
	if legName == "B" {
		l = r.b
	}
	r.stopPlay()
	intr := make(chan struct{})
	r.interrupt, r.broken, r.playing = intr, false, true
	r.playLabel, r.playLeg = promptLabel(p, a), legName
	r.event("play", legName, "", map[string]string{"prompt": r.playLabel, "code": promptCode(p)})
	ctx := r.ctx
	go func() {
		interrupted, err := l.Play(ctx, a, intr)
		r.playDone <- playResult{interrupted: interrupted, err: err}
	}()
}

// interruptPlay cuts the current playback (barge-in); its wakePlay still
// arrives.
func (r *run) interruptPlay() {
	if r.playing && !r.broken {
		r.broken = true
		close(r.interrupt)
	}
}

// stopPlay cuts the current playback, if any, and waits for it to end, so
// that a new one can start.
func (r *run) stopPlay() {
	if !r.playing {
		return
	}
	r.interruptPlay()
	<-r.playDone
	r.playing = false
	r.playedTill = r.now()
}

func promptLabel(p dialtone.Prompt, a *dialtone.Audio) string {
	if a != nil && a.Label != "" {
		return a.Label
	}
	if p.Text != "" {
		return p.Text
	}
	return p.FileCode
}

func promptCode(p dialtone.Prompt) string {
	if p.Code != "" {
		return p.Code
	}
	return p.FileCode
}

// render turns prompts into audio; a failure ends the call with 200006.
func (r *run) render(ps []dialtone.Prompt) ([]*dialtone.Audio, bool) {
	out := make([]*dialtone.Audio, 0, len(ps))
	for _, p := range ps {
		a, err := r.e.cfg.Renderer.Render(r.ctx, p, r.plan.Speed, r.plan.Volume)
		if err != nil {
			r.log.Warn("prompt cannot be played", "code", promptCode(p), "err", err)
			r.finish(Outcome{dialtone.StatusPlaybackFailed, SmartAnswered}, HangupMachine, "prompt cannot be played: "+err.Error())
			return nil, false
		}
		out = append(out, a)
	}
	return out, true
}

// dial originates a leg and waits until it answers. It returns false when
// the call has ended (failure, ring timeout, stop); the outcome is then
// written.
func (r *run) dial(legName, to, from string, role LegRole) bool {
	lt := &r.c.A
	if legName == "B" {
		lt = &r.c.B
	}
	lt.Originate = r.now()
	if legName == "A" {
		r.c.State = dialtone.CallDialing
		r.c.Node = r.e.cfg.Node
		r.event("originate", legName, dialtone.StatusConnectingCaller, map[string]string{"to": to, "from": from})
	} else {
		r.event("originate", legName, "", map[string]string{"to": to, "from": from})
	}
	// Durability: the dialing state is stored before the carrier dials.
	if err := r.commit(); err != nil {
		r.abandon(err)
		return false
	}
	req := dialtone.OriginateRequest{
		CallID: r.c.ID, Leg: legName, AccountUID: r.c.AccountUID, To: to, From: from, RingTimeout: r.e.cfg.RingTimeout,
	}
	if legName == "A" {
		// A SmartCall's callee is listened to: the carrier reports speech.
		req.Listen = r.listen
	}
	l, err := r.e.cfg.Carrier.Originate(r.ctx, req)
	if err != nil {
		r.log.Warn("originate failed", "leg", legName, "err", err)
		r.finish(FailOutcome(dialtone.FailSystem, role), HangupMachine, "originate failed: "+err.Error())
		return false
	}
	if legName == "A" {
		r.a, r.aEv = l, l.Events()
	} else {
		r.b, r.bEv = l, l.Events()
	}
	ringEnd := r.now().Add(r.e.cfg.RingTimeout)
	for {
		w := r.wait(ringEnd, nil)
		switch w.kind {
		case wakeStop:
			r.stopped(role, false)
			return false
		case wakeTimer:
			r.finish(FailOutcome(dialtone.FailNoAnswer, role), HangupMachine, "ring timeout")
			return false
		case wakeSession:
			r.finish(FailOutcome(dialtone.FailNoAnswer, role), HangupMachine, "session timeout")
			return false
		case wakeClosed:
			if w.leg == legName {
				r.finish(FailOutcome(dialtone.FailSystem, role), HangupMachine, "leg ended without a result")
				return false
			}
			// The other leg went away while this one rang.
			r.finish(FailOutcome(dialtone.FailCancelled, role), HangupUser, "")
			return false
		case wakeOp:
			if err := r.commit(); err != nil {
				r.abandon(err)
				return false
			}
		case wakeEvent:
			if w.leg != legName {
				if w.ev.Kind == dialtone.LegHangup {
					// A hung up while B rang.
					r.finish(FailOutcome(dialtone.FailCancelled, role), HangupUser, "")
					return false
				}
				continue
			}
			switch w.ev.Kind {
			case dialtone.LegRinging:
				if lt.Ring.IsZero() {
					lt.Ring = w.ev.At
					if legName == "A" {
						r.c.State = dialtone.CallRinging
					}
					r.event("ringing", legName, dialtone.StatusRinging, nil)
					if err := r.commit(); err != nil {
						r.abandon(err)
						return false
					}
				}
			case dialtone.LegAnswered:
				lt.Start = w.ev.At
				status := dialtone.StatusCallerConnected
				if legName == "A" {
					r.c.State = dialtone.CallAnswered
				} else {
					r.c.State = dialtone.CallBridged
					status = dialtone.StatusTalking
				}
				r.event("answered", legName, status, nil)
				return true
			case dialtone.LegFailed:
				lt.End = w.ev.At
				d := map[string]string{"reason": string(w.ev.Reason)}
				for k, v := range w.ev.Detail {
					d[k] = v
				}
				r.event("failed", legName, "", d)
				if legName == "A" && r.listen != nil && r.listen.EarlyMediaAsr {
					r.earlyMedia = EarlyMediaCode(w.ev.Reason, w.ev.Detail)
				}
				r.finish(FailOutcome(w.ev.Reason, role), HangupUser, "")
				return false
			case dialtone.LegHangup:
				lt.End = w.ev.At
				r.finish(FailOutcome(dialtone.FailCancelled, role), HangupUser, "")
				return false
			}
		}
	}
}

// stopped ends the call after Cancel or Shutdown; answered says whether
// anybody talked.
func (r *run) stopped(role LegRole, answered bool) {
	kind, msg := r.stopReason()
	out := FailOutcome(dialtone.FailCancelled, role)
	if answered {
		out.StatusCode = dialtone.StatusCompleted
	}
	if kind == stopShutdown {
		out = Outcome{dialtone.StatusSystemError, SmartOther}
	}
	r.finish(out, HangupMachine, msg)
}

// abandon stops a call whose state cannot be written: the store is failing
// or the call was ended elsewhere. The legs are hung up; the store keeps
// whatever it had, and Recover ends it later if it is left unfinished.
func (r *run) abandon(err error) {
	if errors.Is(err, errGone) {
		r.log.Info("call ended elsewhere; hanging up")
	} else {
		r.log.Error("cannot write call state; abandoning call", "err", err)
	}
	r.closeStreams(false)
	r.hangupAll()
	r.c.State = dialtone.CallEnded
	r.over.Store(true)
}

func (r *run) hangupAll() {
	ctx := context.WithoutCancel(r.ctx)
	for _, l := range []dialtone.Leg{r.a, r.b} {
		if l != nil {
			if err := l.Hangup(ctx); err != nil {
				r.log.Warn("hangup failed", "err", err)
			}
		}
	}
	r.stopPlay()
	if r.amd != nil {
		r.amd.close(r.now())
	}
}

// finish ends the call: hangs up, stamps the end, writes the final state.
// A reason is recorded for ends the far end did not cause, and becomes the
// status message; otherwise the message is the status code's text.
func (r *run) finish(out Outcome, direction, reason string) {
	if r.c.State == dialtone.CallEnded {
		return
	}
	r.over.Store(true)
	// The streams stop first, while the legs are up: the application
	// hears stop before the call is gone.
	r.closeStreams(true)
	r.hangupAll()
	now := r.now()
	endLeg(&r.c.A, now)
	endLeg(&r.c.B, now)
	if r.plan.Record && r.a != nil {
		r.saveRecording()
	}
	r.c.State = dialtone.CallEnded
	r.c.StatusCode, r.c.SmartStatusCode = out.StatusCode, out.SmartStatusCode
	r.c.HangupDirection = direction
	r.c.Reason = reason
	switch {
	case reason != "":
		r.c.StatusMsg = reason
	case out.StatusCode == dialtone.StatusCompleted:
		r.c.StatusMsg = "执行完成"
	default:
		r.c.StatusMsg = dialtone.StatusText(out.StatusCode)
	}
	r.c.Duration = talkSeconds(r.c)
	answeredBy := r.endMachineDetection(now)
	hd := map[string]string{"direction": direction}
	legStats(hd, "A", r.a)
	legStats(hd, "B", r.b)
	r.event("hangup", "", "", hd)
	r.seq++
	ended := endedEvent(r.c, r.seq, now)
	if r.earlyMedia != "" {
		ended.Detail["early_media_code"] = r.earlyMedia
	}
	for k, v := range answeredBy {
		ended.Detail[k] = v
	}
	for k, v := range r.streamEnd {
		ended.Detail[k] = v
	}
	r.pending = append(r.pending, ended)
	if err := r.commit(); err != nil {
		if errors.Is(err, errGone) {
			return
		}
		r.log.Error("cannot write the end of the call", "err", err)
	}
}

// legStats copies a leg's media statistics (carrier, codec, RTP packets,
// loss, jitter) into the hangup event as "A.packets_lost" and so on: the
// call detail then shows how the line was, as RTCP reports would. The legs
// have been hung up, so the figures are final.
func legStats(d map[string]string, name string, l dialtone.Leg) {
	if l == nil {
		return
	}
	for k, v := range l.Stats() {
		d[name+"."+k] = v
	}
}

// saveRecording emits the "recording" event (the receipts work turns it
// into a VoiceRecordReport) and hands the WAV to Recordings.
func (r *run) saveRecording() {
	wav := r.a.Recording()
	if wav == nil {
		return
	}
	d := map[string]string{
		"bytes":      strconv.Itoa(len(wav)),
		"start_time": dialtone.FormatTime(r.c.A.Start),
		"end_time":   dialtone.FormatTime(r.c.A.End),
	}
	if r.e.cfg.Recordings != nil {
		name, err := r.e.cfg.Recordings.SaveRecording(context.WithoutCancel(r.ctx), r.c, wav)
		if err != nil {
			r.log.Error("cannot save recording", "err", err)
		} else if name != "" {
			d["file"] = name
		}
	}
	r.event("recording", "", "", d)
}

// safeName keeps call IDs (which contain '^') usable as file names.
func safeName(id string) string {
	return strings.Map(func(c rune) rune {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_', c == '.':
			return c
		}
		return '_'
	}, id)
}
