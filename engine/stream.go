package engine

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/mediastream"
	"github.com/dialtone-voice/dialtone/outbound"
	"github.com/dialtone-voice/dialtone/stream"
)

// Media streams of a call (package stream): an agent stream, through which
// the business's application speaks for a SmartCall, and a listen-only
// fork of any answered call of the account's chosen kinds.
//
// A stream is one more consumer and producer of a leg's PCM: the callee's
// audio comes through the carrier's audio tap (dialtone.AudioTap, the path
// of machine detection) into the session's send buffer, and the
// application's audio is played by the carrier's media clock straight from
// the session's playout buffer (dialtone.AudioFeed); neither waits on the
// network. Streams run on wall time, as the application does: on a
// simulated network with a scaled clock the callee's audio comes at the
// network's pace.

// Defaults of the streams.
const (
	// DefaultStreamsPerAccount caps an account's concurrent streams on a
	// node (agents and forks together).
	DefaultStreamsPerAccount = 100
	// streamCloseWait bounds Dialtone's stop and close handshake at the
	// end of a call.
	streamCloseWait = time.Second
	// forkDialWait bounds how long the end of a call waits for a fork
	// still dialling.
	forkDialWait = time.Second
)

// Stream roles, as the "stream" event's detail names them.
const (
	roleAgent = "agent"
	roleFork  = "fork"
)

// errStreamBusy refuses a stream over the account's cap.
var errStreamBusy = errors.New("the account's concurrent streams are at their cap")

// takeStream takes one of the account's stream slots.
func (e *Engine) takeStream(account string) (release func(), ok bool) {
	limit := e.cfg.StreamsPerAccount
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.streams[account] >= limit {
		return nil, false
	}
	e.streams[account]++
	var once sync.Once
	return func() {
		once.Do(func() {
			e.mu.Lock()
			if e.streams[account]--; e.streams[account] <= 0 {
				delete(e.streams, account)
			}
			e.mu.Unlock()
		})
	}, true
}

// Streams is the number of open streams of the account on this node.
func (e *Engine) Streams(account string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.streams[account]
}

// callStream is one open stream of a call.
type callStream struct {
	role    string
	leg     string // the leg it belongs to in the timeline
	sess    *stream.Session
	stops   []func()
	release func()
	once    sync.Once
	detail  map[string]string
}

// legTrack is a leg whose party's audio a stream carries on track; base
// is when it answered, on the call's timeline.
type legTrack struct {
	leg   dialtone.Leg
	track mediastream.Track
	base  time.Time
}

// openStream dials a stream and connects it to the legs: their audio goes
// up as its tracks and, for an agent, the application's audio is played to
// the first. It is safe to call from a goroutine other than the call's.
func (r *run) openStream(role string, sp *dialtone.StreamPlan, custom map[string]string, fb stream.Fallback, legs []legTrack) (*callStream, error) {
	release, ok := r.e.takeStream(r.c.AccountUID)
	if !ok {
		return nil, errStreamBusy
	}
	cs := &callStream{role: role, leg: "A", release: release}
	fail := func(err error) (*callStream, error) {
		cs.shut(context.Background())
		return nil, err
	}
	var signer outbound.Signer
	if r.e.cfg.Secrets != nil {
		s, err := r.e.cfg.Secrets.Signer(r.ctx, r.c.AccountUID)
		if err != nil {
			return fail(fmt.Errorf("reading the account's signing secret: %w", err))
		}
		signer = s
	}
	trust := outbound.Untrusted
	if sp.Trusted {
		trust = outbound.Trusted
	}
	tracks := make([]mediastream.Track, len(legs))
	for i, lt := range legs {
		tracks[i] = lt.track
	}
	sess, err := stream.Dial(r.ctx, r.e.cfg.Outbound, outbound.Meta{Account: r.c.AccountUID, Purpose: outbound.PurposeStream, Trust: trust},
		sp.URL, signer, stream.Params{CallID: r.c.ID, Account: r.c.AccountUID, Tracks: tracks, Custom: custom, Fallback: fb,
			ListenOnly: role == roleFork, Logger: r.log})
	if err != nil {
		return fail(err)
	}
	cs.sess = sess
	for _, lt := range legs {
		tap, ok := lt.leg.(dialtone.AudioTap)
		if !ok {
			return fail(fmt.Errorf("the carrier does not let the platform listen to leg %T", lt.leg))
		}
		// A tap may hand over what came since the answer first (the
		// simulated network's): the stream starts now.
		off := max(r.now().Sub(lt.base)-frameTime, 0)
		track := lt.track
		stop, err := tap.TapAudio(func(pcm []int16, since time.Duration) {
			if since < off {
				return
			}
			_ = sess.SendTrack(track, pcm, since-off)
		})
		if err != nil {
			return fail(fmt.Errorf("cannot listen to the leg: %w", err))
		}
		cs.stops = append(cs.stops, stop)
	}
	if role == roleAgent {
		feed, ok := legs[0].leg.(dialtone.AudioFeed)
		if !ok {
			return fail(fmt.Errorf("the carrier cannot play a stream to leg %T", legs[0].leg))
		}
		stop, err := feed.Feed(sess)
		if err != nil {
			return fail(fmt.Errorf("cannot play to the leg: %w", err))
		}
		cs.stops = append(cs.stops, stop)
	}
	return cs, nil
}

// frameTime is one 20 ms frame.
const frameTime = 20 * time.Millisecond

// shut ends the stream from Dialtone's side (stop, then close, within
// ctx), detaches it from the legs and gives its slot back; once.
func (cs *callStream) shut(ctx context.Context) {
	cs.once.Do(func() {
		for _, stop := range cs.stops {
			stop()
		}
		if cs.sess != nil {
			_ = cs.sess.Close(ctx)
		}
		if cs.release != nil {
			cs.release()
		}
	})
}

// dtmf sends keys up the stream (while it is open).
func (cs *callStream) dtmf(digits string) {
	for _, d := range digits {
		_ = cs.sess.DTMF(string(d))
	}
}

// streamDetail is the "stream" event's detail of an ended stream.
func streamDetail(role string, sess *stream.Session) map[string]string {
	e, st := sess.Ending(), sess.Stats()
	drops := st.SendDrops.Frames + (st.Playout.Dropped+stream.FrameSamples-1)/stream.FrameSamples
	d := map[string]string{
		dialtone.DetailStreamRole:       role,
		dialtone.DetailStreamSID:        sess.StreamSID(),
		dialtone.DetailStreamDurationMS: strconv.FormatInt(st.Duration.Milliseconds(), 10),
		dialtone.DetailStreamFramesOut:  strconv.FormatInt(st.FramesSent, 10),
		dialtone.DetailStreamFramesIn:   strconv.FormatInt(st.MediaReceived, 10),
		dialtone.DetailStreamDrops:      strconv.FormatInt(drops, 10),
		dialtone.DetailStreamEnd:        string(e.Reason),
	}
	if e.Detail != "" {
		d[dialtone.DetailStreamEndDetail] = e.Detail
	}
	return d
}

// failedStream is the detail of a stream that never opened.
func failedStream(role string, err error) map[string]string {
	end := "failed"
	if errors.Is(err, errStreamBusy) {
		end = "busy"
	} else if errors.Is(err, outbound.ErrRefused) {
		end = "refused"
	}
	return map[string]string{dialtone.DetailStreamRole: role, dialtone.DetailStreamEnd: end, dialtone.DetailStreamEndDetail: err.Error()}
}

// noteStream records a stream's end in the timeline; the agent's (or,
// without one, the fork's) goes into the call's ended event too.
func (r *run) noteStream(leg string, d map[string]string) {
	r.event("stream", leg, "", d)
	if r.streamEnd == nil || d[dialtone.DetailStreamRole] == roleAgent {
		r.streamEnd = d
	}
}

// streamDTMF sends keys pressed on the call up its streams.
func (r *run) streamDTMF(digits string) {
	if r.agent != nil {
		r.agent.dtmf(digits)
	}
	if f := r.fork; f != nil {
		f.mu.Lock()
		cs := f.cs
		f.mu.Unlock()
		if cs != nil {
			cs.dtmf(digits)
		}
	}
}

// runAgent connects the answered SmartCall to an agent stream and follows
// it until it ends. It reports whether the SmartCall's callback dialogue
// goes on (the stream ended without the application's hangup and its
// fallback is continue); otherwise the call has ended.
func (r *run) runAgent(sp *dialtone.StreamPlan, custom map[string]string, fb stream.Fallback) bool {
	answered := Outcome{dialtone.StatusCompleted, SmartAnswered}
	r.stopPlay()
	cs, err := r.openStream(roleAgent, sp, custom, fb, []legTrack{{r.a, mediastream.TrackInbound, r.c.A.Start}})
	if err != nil {
		r.log.Warn("agent stream not opened", "err", err)
		r.noteStream("A", failedStream(roleAgent, err))
		return r.streamFallback(fb, "stream not opened: "+err.Error())
	}
	r.agent = cs
	r.event("stream_started", "A", "", map[string]string{dialtone.DetailStreamRole: roleAgent, dialtone.DetailStreamSID: cs.sess.StreamSID(),
		"fallback": string(fb)})
	if err := r.commit(); err != nil {
		r.abandon(err)
		return false
	}
	for {
		w := r.wait(time.Time{}, cs.sess.Done())
		switch w.kind {
		case wakeExtra:
			r.endAgent()
			e := cs.sess.Ending()
			switch {
			case e.Reason == stream.ReasonHangup:
				why := "stream hangup"
				if e.Detail != "" {
					why += ": " + e.Detail
				}
				r.finish(answered, HangupMachine, why)
				return false
			case e.FollowsFallback():
				why := "stream " + string(e.Reason)
				if e.Detail != "" {
					why += " (" + e.Detail + ")"
				}
				return r.streamFallback(fb, why)
			default:
				r.finish(answered, HangupMachine, "stream stopped")
				return false
			}
		case wakePlay:
		case wakeEvent:
			if w.leg != "A" {
				continue
			}
			switch w.ev.Kind {
			case dialtone.LegDTMF:
				if w.ev.Digits == "" {
					continue
				}
				cs.dtmf(w.ev.Digits)
				r.c.DTMF += w.ev.Digits
				r.event("dtmf", "A", dialtone.StatusDTMF, map[string]string{"digits": w.ev.Digits})
				if err := r.commit(); err != nil {
					r.abandon(err)
					return false
				}
			case dialtone.LegHangup, dialtone.LegFailed:
				r.c.A.End = w.ev.At
				r.finish(answered, HangupUser, "")
				return false
			}
		default:
			if done, _ := r.talkWake(w, answered); done {
				return false
			}
		}
	}
}

// endAgent closes the agent stream and records its end.
func (r *run) endAgent() {
	cs := r.agent
	if cs == nil {
		return
	}
	r.agent = nil
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.ctx), streamCloseWait)
	cs.shut(ctx)
	cancel()
	r.noteStream(cs.leg, streamDetail(cs.role, cs.sess))
}

// streamFallback follows an agent stream's fallback after it ended without
// the application's hangup (or never opened): continue goes back to the
// SmartCall callback when the call has one; hangup ends the call with why.
func (r *run) streamFallback(fb stream.Fallback, why string) bool {
	if fb == stream.FallbackContinue && r.plan.Smart != nil && r.plan.Smart.CallbackURL != "" {
		r.event("stream_fallback", "A", "", map[string]string{"fallback": string(fb), "reason": why})
		if err := r.commit(); err != nil {
			r.abandon(err)
			return false
		}
		return true
	}
	r.finish(Outcome{dialtone.StatusCompleted, SmartAnswered}, HangupMachine, why+"; fallback hangup")
	return false
}

// fork is a call's listen-only stream, dialled in the background so that
// it never holds the call up.
type fork struct {
	mu     sync.Mutex
	cs     *callStream
	err    error
	closed bool
	done   chan struct{}
}

// startFork begins the account's fork of this call when the call's plan
// has one: the callee's audio as the inbound track, and a click-to-dial's
// caller as the outbound one (what the callee hears).
func (r *run) startFork() {
	if r.plan.Fork == nil || r.fork != nil {
		return
	}
	var legs []legTrack
	if r.c.Kind == dialtone.KindClickToDial {
		legs = []legTrack{{r.b, mediastream.TrackInbound, r.c.B.Start}, {r.a, mediastream.TrackOutbound, r.c.A.Start}}
	} else {
		legs = []legTrack{{r.a, mediastream.TrackInbound, r.c.A.Start}}
	}
	f := &fork{done: make(chan struct{})}
	r.fork = f
	sp := *r.plan.Fork
	go func() {
		defer close(f.done)
		cs, err := r.openStream(roleFork, &sp, nil, stream.FallbackHangup, legs)
		f.mu.Lock()
		closed := f.closed
		f.cs, f.err = cs, err
		f.mu.Unlock()
		if err != nil {
			r.log.Warn("fork not opened", "err", err)
		}
		if closed && cs != nil {
			// The call ended while it dialled.
			ctx, cancel := context.WithTimeout(context.Background(), streamCloseWait)
			cs.shut(ctx)
			cancel()
		}
	}()
}

// closeStreams ends the call's streams (stop, then close) and records how
// each ended; the call's goroutine calls it as the call ends.
func (r *run) closeStreams(record bool) {
	if r.agent != nil {
		if record {
			r.endAgent()
		} else {
			r.agent.shut(context.Background())
			r.agent = nil
		}
	}
	f := r.fork
	if f == nil {
		return
	}
	r.fork = nil
	t := time.NewTimer(forkDialWait)
	select {
	case <-f.done:
	case <-t.C:
	}
	t.Stop()
	f.mu.Lock()
	f.closed = true
	cs, err := f.cs, f.err
	f.mu.Unlock()
	if cs != nil {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.ctx), streamCloseWait)
		cs.shut(ctx)
		cancel()
	}
	if !record {
		return
	}
	leg := "A"
	if r.c.Kind == dialtone.KindClickToDial {
		leg = "B"
	}
	switch {
	case cs != nil:
		r.noteStream(leg, streamDetail(roleFork, cs.sess))
	case err != nil:
		r.noteStream(leg, failedStream(roleFork, err))
	default:
		r.noteStream(leg, map[string]string{dialtone.DetailStreamRole: roleFork, dialtone.DetailStreamEnd: "failed",
			dialtone.DetailStreamEndDetail: "still dialling when the call ended"})
	}
}
