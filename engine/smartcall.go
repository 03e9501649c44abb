package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/smartcall"
	"github.com/dialtone-voice/dialtone/stream"
)

// Defaults of SmartCall settings the request may leave out.
const (
	DefaultMuteTime = 10 * time.Second
	maxSmartSession = time.Hour // the API's SessionTimeout maximum
)

// smart is the dialogue state of a SmartCall.
type smart struct {
	dynamicID string
	mute      time.Duration
	// queue holds media to play after the current one.
	queue []queued
	// breakable says whether the media now playing may be interrupted.
	breakable bool
	// hangupAfter ends the call once the queue has played.
	hangupAfter bool
	playBegin   time.Time
	turn        int
}

type queued struct {
	audio     *dialtone.Audio
	prompt    dialtone.Prompt
	breakable bool
}

func (r *run) smartCall() {
	sp := r.plan.Smart
	if sp == nil {
		sp = &dialtone.SmartPlan{}
	}
	st := &smart{dynamicID: sp.DynamicID, mute: sp.MuteTime, breakable: sp.ActionCodeBreak}
	if st.mute <= 0 {
		st.mute = DefaultMuteTime
	}
	if r.session.IsZero() {
		r.session = r.now().Add(maxSmartSession)
	}
	first, ok := r.render(r.plan.Prompt)
	if !ok {
		return
	}
	r.listen = sp
	if !r.dial("A", r.c.Callee, r.display(), RoleSingle) {
		return
	}
	r.startMachineDetection("A")
	if r.plan.Record {
		if err := r.a.Record(context.WithoutCancel(r.ctx)); err != nil {
			r.log.Warn("cannot record", "err", err)
		}
	}
	if err := r.commit(); err != nil {
		r.abandon(err)
		return
	}
	if !r.awaitMachine() {
		return
	}
	if r.plan.Stream != nil {
		// The account's agent answers every SmartCall at once; the first
		// prompt is the agent's to say.
		if !r.runAgent(r.plan.Stream, nil, stream.FallbackHangup) {
			return
		}
		first = nil
	}
	for i, a := range first {
		st.queue = append(st.queue, queued{audio: a, prompt: r.plan.Prompt[i], breakable: sp.ActionCodeBreak})
	}
	answered := Outcome{dialtone.StatusCompleted, SmartAnswered}
	var muteAt time.Time
	for {
		if !r.playing {
			if len(st.queue) > 0 {
				q := st.queue[0]
				st.queue = st.queue[1:]
				st.breakable = q.breakable
				st.playBegin = r.now()
				r.startPlay("A", q.audio, q.prompt)
				muteAt = time.Time{}
			} else if st.hangupAfter {
				r.finish(answered, HangupMachine, "")
				return
			} else if muteAt.IsZero() {
				muteAt = r.now().Add(st.mute)
			}
		}
		w := r.wait(muteAt, nil)
		var contentType string
		var ev dialtone.LegEvent
		switch w.kind {
		case wakePlay:
			if w.play.err != nil {
				if !r.awaitEnd() {
					r.finish(answered, HangupUser, "")
				}
				return
			}
			continue
		case wakeTimer: // silence past MuteTime
			contentType = "mute"
			muteAt = time.Time{}
		case wakeEvent:
			if w.leg != "A" {
				continue // a transferred B leg only matters in the bridge
			}
			ev = w.ev
			switch ev.Kind {
			case dialtone.LegSpeech:
				contentType = "normal"
				if tb := sp.ActionCodeTimeBreak; tb > 0 && r.playing && ev.SpeechEnd.Sub(ev.SpeechStart) >= tb {
					contentType = "timebreak"
					if st.breakable {
						r.interruptPlay()
					}
				} else if ev.Text == "" {
					// A carrier's barge-in report that came after the
					// prompt ended (or a recogniser that heard nothing):
					// there are no words to tell the business.
					continue
				}
				r.event("speech", "A", "", map[string]string{"words": ev.Text})
			case dialtone.LegDTMF:
				if ev.Digits == "" {
					continue
				}
				contentType = "dtmf"
				r.c.DTMF += ev.Digits
				r.event("dtmf", "A", dialtone.StatusDTMF, map[string]string{"digits": ev.Digits})
			case dialtone.LegHangup, dialtone.LegFailed:
				r.c.A.End = ev.At
				r.finish(answered, HangupUser, "")
				return
			default:
				continue
			}
		default:
			if done, _ := r.talkWake(w, answered); done {
				return
			}
			continue
		}
		if !r.exchange(st, contentType, ev) {
			return
		}
		if !r.playing && len(st.queue) == 0 && !st.hangupAfter {
			muteAt = time.Time{} // silence counts again from now
		}
	}
}

// exchange posts one callback and carries out its answer. It returns false
// when the call has ended.
func (r *run) exchange(st *smart, contentType string, ev dialtone.LegEvent) bool {
	answered := Outcome{dialtone.StatusCompleted, SmartAnswered}
	st.turn++
	content := r.callbackContent(st, contentType, ev)
	detail := map[string]string{"content_type": contentType, "dynamic_id": st.dynamicID}
	if ev.Text != "" {
		detail["words"] = ev.Text
	}
	if ev.Digits != "" {
		detail["dtmf_digits"] = ev.Digits
	}
	ans, err := r.postCallback(content)
	if err != nil {
		detail["error"] = err.Error()
		r.event("callback", "", "", detail)
		r.log.Warn("smart call callback failed; ending the call", "err", err)
		r.finish(answered, HangupMachine, "callback failed: "+err.Error())
		return false
	}
	d := ans.Data
	detail["action"] = d.Action
	if d.ActionCode != "" {
		detail["action_code"] = d.ActionCode
	}
	if d.DynamicID != "" {
		detail["answer_dynamic_id"] = d.DynamicID
		st.dynamicID = d.DynamicID
	}
	if d.Number != "" {
		detail["number"] = d.Number
	}
	r.event("callback", "", "", detail)
	if ms, err := d.MuteTime.Int64(); err == nil && ms > 0 {
		st.mute = time.Duration(ms) * time.Millisecond
	}
	fail := func(reason string) bool {
		r.finish(answered, HangupMachine, reason)
		return false
	}
	var media []queued
	if d.ActionCode != "" && d.Action != "transfer" {
		media, err = r.resolveMedia(d.ActionCode, d.ActionCodeParam, d.ActionCodeBreak.Or(true))
		if err != nil {
			return fail("callback answered unplayable media: " + err.Error())
		}
	}
	// Barge-in: the request's ActionCodeBreak false forbids it outright;
	// otherwise the media now playing decides.
	mayBreak := r.plan.Smart != nil && r.plan.Smart.ActionCodeBreak && st.breakable
	switch d.Action {
	case "play":
		if d.ActionBreak.Or(false) && mayBreak {
			r.interruptPlay()
			st.queue = st.queue[:0]
		}
		st.queue = append(st.queue, media...)
	case "break":
		if mayBreak {
			r.interruptPlay()
			st.queue = st.queue[:0]
		}
		st.queue = append(st.queue, media...)
	case "continue", "donothing":
		st.queue = append(st.queue, media...)
	case "hangup":
		st.queue = append(st.queue[:0], media...)
		if len(media) == 0 {
			if err := r.commit(); err != nil {
				r.abandon(err)
				return false
			}
			r.finish(answered, HangupMachine, "")
			return false
		}
		st.hangupAfter = true
	case smartcall.ActionStream:
		if d.StreamURL == "" {
			return fail("callback answered stream without a stream_url")
		}
		custom, fb, err := stream.ParseParams(d.StreamParams)
		if err != nil {
			return fail("callback answered stream with bad " + err.Error())
		}
		if err := r.commit(); err != nil {
			r.abandon(err)
			return false
		}
		// The callback's server chose the URL: it is trusted as the
		// callback's URL is.
		if !r.runAgent(&dialtone.StreamPlan{URL: d.StreamURL, Trusted: r.plan.Smart != nil && r.plan.Smart.CallbackTrusted}, custom, fb) {
			return false
		}
		st.queue = st.queue[:0]
		return true
	case "transfer":
		if d.Number == "" {
			return fail("callback answered transfer without a number")
		}
		if err := r.commit(); err != nil {
			r.abandon(err)
			return false
		}
		r.transfer(d.Number)
		return false
	default:
		return fail(fmt.Sprintf("callback answered unknown action %q", d.Action))
	}
	if err := r.commit(); err != nil {
		r.abandon(err)
		return false
	}
	return true
}

func (r *run) resolveMedia(codes string, rawParam json.RawMessage, breakable bool) ([]queued, error) {
	if r.e.cfg.Prompts == nil {
		return nil, errors.New("no prompt resolver configured")
	}
	param, err := smartcall.ParamText(rawParam)
	if err != nil {
		return nil, fmt.Errorf("action_code_param: %w", err)
	}
	var out []queued
	for _, code := range strings.Split(codes, ",") {
		code = strings.TrimSpace(code)
		if code == "" {
			continue
		}
		p, err := r.e.cfg.Prompts.ResolveSmartPrompt(r.ctx, r.c.AccountUID, code, param)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", code, err)
		}
		a, err := r.e.cfg.Renderer.Render(r.ctx, p, r.plan.Speed, r.plan.Volume)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", code, err)
		}
		out = append(out, queued{audio: a, prompt: p, breakable: breakable})
	}
	return out, nil
}

// callbackContent is what a callback tells (reference §5.1).
func (r *run) callbackContent(st *smart, contentType string, ev dialtone.LegEvent) smartcall.Content {
	c := smartcall.Content{
		Type: contentType, Turn: st.turn, DynamicID: st.dynamicID, Playing: r.playing,
		Answered: r.c.A.Start, PlayBegin: st.playBegin,
	}
	if r.playing {
		c.MediaCode = r.playLabel
	} else {
		c.PlayEnd = r.playedTill
	}
	switch contentType {
	case smartcall.ContentNormal, smartcall.ContentTimeBreak:
		c.Words, c.SpeechStart, c.SpeechEnd = ev.Text, ev.SpeechStart, ev.SpeechEnd
	case smartcall.ContentDTMF:
		c.Digits = ev.Digits
	}
	return c
}

// postCallback sends one callback through the engine's Callback.
func (r *run) postCallback(content smartcall.Content) (*smartcall.Answer, error) {
	sp := r.plan.Smart
	if sp == nil || sp.CallbackURL == "" {
		return nil, errors.New("no callback URL configured")
	}
	return r.e.cfg.Callback.Post(r.ctx, smartcall.Request{
		Account: r.c.AccountUID, CallID: r.c.ID, URL: sp.CallbackURL, Trusted: sp.CallbackTrusted,
		Timestamp: r.now(), Content: content,
	})
}

// transfer dials the transfer target as leg B, bridges it with A, and runs
// the bridge until either side hangs up.
func (r *run) transfer(number string) {
	r.stopPlay()
	answered := Outcome{dialtone.StatusCompleted, SmartAnswered}
	if !r.dialTransfer(number) {
		return
	}
	for {
		w := r.wait(time.Time{}, nil)
		switch w.kind {
		case wakeEvent:
			switch w.ev.Kind {
			case dialtone.LegHangup, dialtone.LegFailed:
				r.event("hangup", w.leg, "", map[string]string{"by": "far end"})
				r.finish(answered, HangupUser, "")
				return
			case dialtone.LegDTMF:
				r.c.DTMF += w.ev.Digits
				r.event("dtmf", w.leg, dialtone.StatusDTMF, map[string]string{"digits": w.ev.Digits})
				if err := r.commit(); err != nil {
					r.abandon(err)
					return
				}
			}
		case wakePlay:
		default:
			if done, _ := r.talkWake(w, answered); done {
				return
			}
		}
	}
}

// dialTransfer originates B while A stays on the line; it returns false
// when the call ended.
func (r *run) dialTransfer(number string) bool {
	answered := Outcome{dialtone.StatusCompleted, SmartAnswered}
	r.c.B.Originate = r.now()
	r.event("originate", "B", "", map[string]string{"to": number, "from": r.display(), "voice_type": "smart_transfer"})
	if err := r.commit(); err != nil {
		r.abandon(err)
		return false
	}
	l, err := r.e.cfg.Carrier.Originate(r.ctx, dialtone.OriginateRequest{
		CallID: r.c.ID, Leg: "B", AccountUID: r.c.AccountUID, To: number, From: r.display(), RingTimeout: r.e.cfg.RingTimeout,
	})
	if err != nil {
		r.finish(answered, HangupMachine, "transfer failed: "+err.Error())
		return false
	}
	r.b, r.bEv = l, l.Events()
	ringEnd := r.now().Add(r.e.cfg.RingTimeout)
	for {
		w := r.wait(ringEnd, nil)
		switch w.kind {
		case wakeTimer:
			r.finish(answered, HangupMachine, "transfer failed: no answer")
			return false
		case wakeClosed:
			if w.leg == "B" {
				r.finish(answered, HangupMachine, "transfer failed: leg ended")
				return false
			}
			r.finish(answered, HangupUser, "")
			return false
		case wakeEvent:
			if w.leg == "A" {
				if done, _ := r.talkWake(w, answered); done {
					return false
				}
				continue
			}
			switch w.ev.Kind {
			case dialtone.LegRinging:
				if r.c.B.Ring.IsZero() {
					r.c.B.Ring = w.ev.At
					r.event("ringing", "B", "", nil)
				}
			case dialtone.LegAnswered:
				r.c.B.Start = w.ev.At
				if err := r.a.Bridge(context.WithoutCancel(r.ctx), r.b); err != nil {
					r.finish(answered, HangupMachine, "transfer failed: bridge: "+err.Error())
					return false
				}
				r.c.State = dialtone.CallBridged
				r.event("answered", "B", dialtone.StatusTalking, nil)
				if err := r.commit(); err != nil {
					r.abandon(err)
					return false
				}
				return true
			case dialtone.LegFailed, dialtone.LegHangup:
				r.c.B.End = w.ev.At
				r.finish(answered, HangupMachine, "transfer failed: "+string(w.ev.Reason))
				return false
			}
		default:
			if done, _ := r.talkWake(w, answered); done {
				return false
			}
		}
	}
}
