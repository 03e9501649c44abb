package sip

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/carrier/progress"
)

// byeTimeout bounds sending BYE (and ACK) at the end of a call.
const byeTimeout = 5 * time.Second

// hangupWait is how long Hangup waits for the leg to wind down before it
// returns and lets the rest (a CANCEL waiting for its 487) finish alone.
const hangupWait = 3 * time.Second

// leg is one outbound SIP call.
type leg struct {
	c         *Carrier
	tr        *trunk
	req       dialtone.OriginateRequest
	sipCallID string
	// candidates are the trunks routed for the call, in failover order.
	candidates []string
	st         *rtpSession
	offer      offer
	release    func()

	events   chan dialtone.LegEvent
	done     chan struct{} // closed when the leg has ended
	hangupRq chan struct{} // closed by Hangup
	farBye   chan struct{} // closed when the far end sent BYE
	rtpDead  chan struct{} // closed on RTP timeout
	dtmfIn   chan string
	speechIn chan dialtone.LegEvent
	lis      *listener // nil unless the call listens (SmartCall)
	// taps are the consumers of the callee's decoded audio after the
	// answer (dialtone.AudioTap: machine detection, media streams).
	taps                       tapSet
	hangOnce, byeOnce, rtpOnce sync.Once

	mu        sync.Mutex
	status    int // last SIP status received
	trying    bool
	ringing   bool
	early     bool
	answered  bool
	endDetail string
	dtmfDrops int
	// The dialog's tags (RFC 3261 §12): ours, from our INVITE's From, and
	// the far end's, from the 2xx's To. A BYE must carry both; the Call-ID
	// alone is no proof, anyone who saw or guessed it could end the call.
	localTag, remoteTag string
	// Early-media tones (amd.go): the reader of the early media's tones, the
	// timer that gives up after a decisive one, and how to stop ringing.
	tones     *progress.Reader
	toneTimer *time.Timer
	ringStop  func(error)
}

func newLeg(c *Carrier, tr *trunk, req dialtone.OriginateRequest) *leg {
	return &leg{
		c:         c,
		tr:        tr,
		req:       req,
		sipCallID: randHex(16),
		events:    make(chan dialtone.LegEvent, 16),
		done:      make(chan struct{}),
		hangupRq:  make(chan struct{}),
		farBye:    make(chan struct{}),
		rtpDead:   make(chan struct{}),
		dtmfIn:    make(chan string, 32),
		speechIn:  make(chan dialtone.LegEvent, 8),
	}
}

func (l *leg) Events() <-chan dialtone.LegEvent { return l.events }

// emit delivers ev unless the platform hung up first; false means stop.
func (l *leg) emit(kind dialtone.LegEventKind, reason dialtone.FailReason, detail map[string]string) bool {
	if kind == dialtone.LegFailed {
		reason, detail = l.settleByTone(reason, detail)
		detail = l.withEarlyMedia(detail)
	}
	ev := dialtone.LegEvent{Kind: kind, At: time.Now(), Reason: reason, Detail: detail}
	if kind == dialtone.LegDTMF {
		ev.Digits, ev.Detail = detail["digits"], nil
	}
	return l.send(ev)
}

// send delivers a ready event unless the platform hung up first.
func (l *leg) send(ev dialtone.LegEvent) bool {
	select {
	case l.events <- ev:
		return true
	case <-l.hangupRq:
		return false
	}
}

// end releases everything; the events channel closes last.
func (l *leg) end() {
	if l.st != nil {
		l.st.close()
	}
	l.c.forget(l)
	if l.release != nil {
		l.release()
	}
	close(l.done)
	close(l.events)
}

// failNow reports a failure without dialling.
func (l *leg) failNow(reason dialtone.FailReason, detail map[string]string) {
	defer l.end()
	l.emit(dialtone.LegFailed, reason, detail)
}

// untilHangup makes ctx end also when the platform hangs the leg up.
func (l *leg) untilHangup(ctx context.Context, cancel context.CancelFunc) (context.Context, context.CancelFunc) {
	go func() {
		select {
		case <-l.hangupRq:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}

func (l *leg) log(msg string, args ...any) {
	l.c.log.Info(msg, append([]any{"call", l.req.CallID, "leg", l.req.Leg, "sip_call_id", l.sipCallID, "trunk", l.trunk().Name}, args...)...)
}

// run places the call and follows it to its end. When a trunk does not
// answer the INVITE at all, the call moves to the next trunk routed for it
// (if one is up and the ring timeout allows) before anything was reported.
func (l *leg) run(inv *sip.Request) {
	defer l.end()
	ring := l.req.RingTimeout
	if ring <= 0 {
		ring = DefaultRingTimeout
	}
	deadline := time.Now().Add(ring)
	tried := make(map[string]bool, len(l.candidates))
	// Bounded: every round marks one more trunk as tried.
	for range len(l.candidates) + 1 {
		tried[l.tr.Name] = true
		detail, failed := l.attempt(inv, deadline)
		if !failed {
			return
		}
		if l.tr.health.noResponse(time.Now(), l.c.cfg.DownAfter, l.c.cfg.CoolOff) {
			l.c.log.Warn("sip trunk not answering; marked down", "trunk", l.tr.Name,
				"after", l.c.cfg.DownAfter, "cool_off", l.c.cfg.CoolOff)
		}
		next, ok := l.failover(tried, deadline)
		if !ok {
			l.emit(dialtone.LegFailed, dialtone.FailUnreachable, detail)
			return
		}
		inv = next
	}
	l.emit(dialtone.LegFailed, dialtone.FailUnreachable, map[string]string{"reason": "no trunk answered"})
}

// attempt sends inv on the leg's trunk and follows the call. failed means
// the trunk gave no response at all (detail says how); every other end has
// been reported already.
func (l *leg) attempt(inv *sip.Request, deadline time.Time) (detail map[string]string, failed bool) {
	ringCtx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	// why records the first reason to stop waiting. Before any response
	// there is nothing to CANCEL (RFC 3261 §9.1) and sipgo would wait for
	// Timer B (32 s); the transaction is abandoned at once instead.
	var why atomic.Value
	stop := func(cause error) {
		why.CompareAndSwap(nil, cause)
		l.mu.Lock()
		status := l.status
		l.mu.Unlock()
		if status == 0 {
			cancel(sipgo.WaitAnswerForceCancelErr)
			return
		}
		cancel(cause)
	}
	l.mu.Lock()
	l.ringStop = stop
	l.mu.Unlock()
	defer func() {
		l.mu.Lock()
		l.ringStop = nil
		l.mu.Unlock()
	}()
	timer := time.AfterFunc(time.Until(deadline), func() { stop(errRingOut) })
	defer timer.Stop()
	// A live trunk answers an INVITE within milliseconds (100 Trying);
	// waiting the whole ring timeout for a dead one would hold every call
	// routed to it.
	noAnswer := time.AfterFunc(min(l.c.cfg.InviteTimeout, time.Until(deadline)), func() {
		l.mu.Lock()
		status := l.status
		l.mu.Unlock()
		if status == 0 {
			stop(errNoAnswer)
		}
	})
	defer noAnswer.Stop()
	go func() {
		select {
		case <-l.hangupRq:
			stop(errHangupReq)
		case <-ringCtx.Done():
		}
	}()

	sess, err := l.tr.dialog.WriteInvite(ringCtx, inv)
	if err != nil {
		if why.Load() == errHangupReq {
			return nil, false
		}
		l.log("invite not sent", "err", err)
		return map[string]string{"error": err.Error()}, true
	}
	err = sess.WaitAnswer(ringCtx, sipgo.AnswerOptions{
		OnResponse: l.onResponse,
		Username:   l.tr.Username,
		Password:   l.tr.Password,
	})
	timer.Stop()
	noAnswer.Stop()
	if err != nil && ringCtx.Err() != nil {
		cause, _ := why.Load().(error)
		if res := sess.InviteResponse; res != nil && res.IsSuccess() {
			// The far end answered while we cancelled: complete the
			// dialog, then end it.
			l.ackAndBye(sess)
		}
		l.mu.Lock()
		status := l.status
		l.mu.Unlock()
		if errors.Is(cause, errEarlyTone) {
			reason, d := l.toneFailure(status)
			l.emit(dialtone.LegFailed, reason, d)
			return nil, false
		}
		if errors.Is(cause, errRingOut) || errors.Is(cause, errNoAnswer) {
			if status == 0 {
				l.log("no response to the invite", "waited", l.c.cfg.InviteTimeout)
				return map[string]string{"reason": "no response"}, true
			}
			l.log("ring timeout; cancelled", "last_status", status)
			l.emit(dialtone.LegFailed, dialtone.FailNoAnswer, map[string]string{"reason": "ring timeout", "sip_status": strconv.Itoa(status)})
		}
		return nil, false // our own Hangup: nothing more to report
	}
	if err != nil {
		var de *sipgo.ErrDialogResponse
		if errors.As(err, &de) && de.Res != nil {
			l.tr.health.responded()
			reasonHdr := ""
			if h := de.Res.GetHeader("Reason"); h != nil {
				reasonHdr = h.Value()
			}
			reason := failReason(de.Res.StatusCode, reasonHdr)
			l.log("call failed", "status", de.Res.StatusCode, "reason", reason)
			d := map[string]string{"sip_status": strconv.Itoa(de.Res.StatusCode), "sip_reason": de.Res.Reason}
			if reasonHdr != "" {
				d["sip_reason_header"] = reasonHdr
			}
			l.emit(dialtone.LegFailed, reason, d)
			return nil, false
		}
		// Timer B, a refused TCP connection, a dead route: the trunk did not
		// take the call.
		l.log("call failed", "err", err)
		l.mu.Lock()
		status := l.status
		l.mu.Unlock()
		if status == 0 {
			return map[string]string{"error": err.Error()}, true
		}
		l.emit(dialtone.LegFailed, dialtone.FailUnreachable, map[string]string{"error": err.Error()})
		return nil, false
	}
	l.tr.health.responded()
	l.talk(sess)
	return nil, false
}

// failover moves the leg to the next trunk routed for it that is up and
// not tried yet, and returns the INVITE for it. It does not when the ring
// timeout has run out, the platform hung up, or the next trunk is reached
// from another local address (the RTP socket is bound to this one).
func (l *leg) failover(tried map[string]bool, deadline time.Time) (*sip.Request, bool) {
	next := l.c.upTrunk(l.candidates, tried)
	if next == nil || next.localIP != l.tr.localIP || time.Until(deadline) <= 0 {
		return nil, false
	}
	select {
	case <-l.hangupRq:
		return nil, false
	default:
	}
	to := rewriteNumber(next.Rewrite, l.req.To)
	fromUser, paiUser := presentation(&next.Trunk, l.req.From)
	if fromUser == "" {
		fromUser = "anonymous"
	}
	if !validUser(to) || !validUser(fromUser) || (paiUser != "" && !validUser(paiUser)) {
		return nil, false
	}
	ctx, cancel := l.untilHangup(context.WithDeadline(context.Background(), deadline))
	defer cancel()
	if l.release != nil {
		l.release()
		l.release = nil
	}
	if err := l.c.acquire(ctx, next, l.sipCallID); err != nil {
		l.log("failover: no room on the next trunk", "trunk", next.Name, "err", err)
		return nil, false
	}
	l.release = func() { l.c.releaseSlot(l.sipCallID) }
	prev := l.tr.Name
	l.mu.Lock()
	l.tr = next
	l.mu.Unlock()
	inv, err := l.c.buildInvite(next, l, to, fromUser, paiUser)
	if err != nil {
		l.log("failover: invite not built", "err", err)
		return nil, false
	}
	l.log("trunk did not answer; trying the next one", "from_trunk", prev)
	return inv, true
}

// trunk is the trunk the leg is on now, for other goroutines (failover
// may change it while the leg rings).
func (l *leg) trunk() *trunk {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.tr
}

// onResponse sees every response to the INVITE while it is pending.
func (l *leg) onResponse(r *sip.Response) error {
	l.mu.Lock()
	first := l.status == 0
	// A late or retransmitted 100 Trying after a 183 does not take the
	// call's progress back: among provisional responses the furthest one
	// stands; a final one always does.
	if r.StatusCode >= 200 || r.StatusCode > l.status {
		l.status = r.StatusCode
	}
	l.mu.Unlock()
	if first {
		l.trunk().health.responded()
	}
	if !r.IsProvisional() {
		return nil
	}
	var sdp bool
	var ans answer
	if len(r.Body()) > 0 && r.StatusCode != 100 {
		a, err := parseAnswer(r.Body(), l.offer.codecs)
		if err == nil {
			sdp, ans = true, a
		}
	}
	l.mu.Lock()
	sendTrying := !l.trying
	l.trying = true
	sendRinging := r.StatusCode > 100 && !l.ringing
	l.ringing = l.ringing || r.StatusCode > 100
	sendEarly := sdp && !l.early
	l.early = l.early || sdp
	l.mu.Unlock()
	if sendTrying && !l.emit(dialtone.LegTrying, "", map[string]string{"sip_status": strconv.Itoa(r.StatusCode)}) {
		return nil
	}
	// A 183 counts as ringing too: many networks send only 183 with their
	// ringback tone as early media.
	if sendRinging && !l.emit(dialtone.LegRinging, "", map[string]string{"sip_status": strconv.Itoa(r.StatusCode)}) {
		return nil
	}
	if sendEarly {
		l.st.setRemote(ans)
		l.emit(dialtone.LegEarlyMedia, "", map[string]string{"sip_status": strconv.Itoa(r.StatusCode), "codec": ans.codec})
	}
	return nil
}

func (l *leg) ackAndBye(sess *sipgo.DialogClientSession) {
	ctx, cancel := context.WithTimeout(context.Background(), byeTimeout)
	defer cancel()
	if err := sess.Ack(ctx); err != nil {
		l.log("ack failed", "err", err)
	}
	if err := sess.Bye(ctx); err != nil {
		l.log("bye failed", "err", err)
	}
}

// talk runs an answered call until either side ends it.
func (l *leg) talk(sess *sipgo.DialogClientSession) {
	ackCtx, cancel := context.WithTimeout(context.Background(), byeTimeout)
	err := sess.Ack(ackCtx)
	cancel()
	if err != nil {
		l.log("ack failed", "err", err)
	}
	l.setRemoteTag(sess.InviteResponse)
	ans, err := parseAnswer(sess.InviteResponse.Body(), l.offer.codecs)
	if err != nil {
		l.log("answer without usable sdp; hanging up", "err", err)
		l.bye(sess)
		// 488 is what the far end should have sent for this.
		l.emit(dialtone.LegFailed, dialtone.FailSystem, map[string]string{"sip_status": "200", "error": err.Error()})
		return
	}
	l.st.setRemote(ans)
	l.st.answer()
	l.mu.Lock()
	l.answered = true
	l.mu.Unlock()
	l.log("answered", "codec", ans.codec)
	if !l.emit(dialtone.LegAnswered, "", map[string]string{"sip_status": "200", "codec": ans.codec}) {
		l.bye(sess)
		return
	}
	if l.lis != nil {
		l.lis.start()
	}
	for {
		select {
		case <-l.hangupRq:
			l.bye(sess)
			return
		case <-l.farBye:
			l.log("far end hung up")
			l.setEnd("far end BYE")
			l.emit(dialtone.LegHangup, "", map[string]string{"by": "callee"})
			return
		case <-l.rtpDead:
			l.log("rtp timeout; hanging up", "timeout", l.c.cfg.RTPTimeout)
			l.setEnd("rtp timeout")
			l.bye(sess)
			l.emit(dialtone.LegHangup, "", map[string]string{"reason": "rtp timeout"})
			return
		case k := <-l.dtmfIn:
			if !l.emit(dialtone.LegDTMF, "", map[string]string{"digits": k}) {
				l.bye(sess)
				return
			}
		case ev := <-l.speechIn:
			if !l.send(ev) {
				l.bye(sess)
				return
			}
		}
	}
}

func (l *leg) setEnd(s string) {
	l.mu.Lock()
	l.endDetail = s
	l.mu.Unlock()
}

func (l *leg) bye(sess *sipgo.DialogClientSession) {
	ctx, cancel := context.WithTimeout(context.Background(), byeTimeout)
	defer cancel()
	if err := sess.Bye(ctx); err != nil {
		l.log("bye failed", "err", err)
	}
}

// setRemoteTag notes the far end's tag of the answered dialog. It is set
// before our ACK: the far end may send BYE only once the ACK reached it
// (RFC 3261 §15), so no genuine BYE is refused for coming too early.
func (l *leg) setRemoteTag(res *sip.Response) {
	tag := ""
	if to := res.To(); to != nil {
		tag, _ = to.Params.Get("tag")
	}
	l.mu.Lock()
	l.remoteTag = tag
	l.mu.Unlock()
}

// inDialog reports whether req's tags are those of the leg's confirmed
// dialog: the far end's in From, ours in To (it is the far end's request).
func (l *leg) inDialog(req *sip.Request) bool {
	from, to := req.From(), req.To()
	if from == nil || to == nil {
		return false
	}
	ft, _ := from.Params.Get("tag")
	tt, _ := to.Params.Get("tag")
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.localTag != "" && l.remoteTag != "" && tt == l.localTag && ft == l.remoteTag
}

func (l *leg) onFarBye() { l.byeOnce.Do(func() { close(l.farBye) }) }

func (l *leg) onRTPTimeout() { l.rtpOnce.Do(func() { close(l.rtpDead) }) }

// onAudio receives the party's decoded audio after answer, on the RTP
// reader's goroutine.
func (l *leg) onAudio(pcm []int16, at time.Time) {
	if l.lis != nil {
		l.lis.push(pcm, at)
	}
	for _, t := range l.taps.list() {
		t.push(pcm, at)
	}
}

// onSpeech hands a speech event to the leg's goroutine, which alone sends
// events; it gives up when the leg ends rather than block the listener.
func (l *leg) onSpeech(ev dialtone.LegEvent) {
	select {
	case l.speechIn <- ev:
	case <-l.done:
	}
}

// onDTMF queues keys for the leg's goroutine, which alone sends events
// (and closes the channel); a flood beyond the buffer is dropped rather
// than stalling the RTP reader.
func (l *leg) onDTMF(keys string) {
	for _, k := range keys {
		select {
		case l.dtmfIn <- string(k):
		default:
			l.mu.Lock()
			l.dtmfDrops++
			l.mu.Unlock()
		}
	}
}

// Play sends a as RTP in 20 ms frames.
func (l *leg) Play(ctx context.Context, a *dialtone.Audio, interrupt <-chan struct{}) (bool, error) {
	if a == nil {
		return false, fmt.Errorf("sip: play on %s: nil audio", l.req.CallID)
	}
	if l.st == nil {
		return false, fmt.Errorf("sip: play on %s: %w", l.req.CallID, errLegEnded)
	}
	if len(a.Samples) == 0 {
		return false, nil
	}
	if l.lis != nil {
		// The segmenter reports barge-in only while something plays.
		l.lis.playing.Add(1)
		defer l.lis.playing.Add(-1)
	}
	j, err := l.st.startPlay(a.Samples)
	if err != nil {
		return false, fmt.Errorf("sip: play on %s: %w", l.req.CallID, err)
	}
	select {
	case <-j.done:
		if l.st.play.playedOut(j) {
			return false, nil
		}
		select {
		case <-l.done:
			return true, fmt.Errorf("sip: play on %s: %w", l.req.CallID, errLegEnded)
		default:
			return true, nil // superseded by another Play
		}
	case <-interrupt:
		l.st.play.stop(j)
		return true, nil
	case <-l.done:
		return true, fmt.Errorf("sip: play on %s: %w", l.req.CallID, errLegEnded)
	case <-ctx.Done():
		l.st.play.stop(j)
		return true, fmt.Errorf("sip: play on %s: %w", l.req.CallID, ctx.Err())
	}
}

// Record starts recording: left channel what we sent to the party (prompts,
// and the other party once bridged), right channel what the party sent us.
func (l *leg) Record(ctx context.Context) error {
	if l.st == nil {
		return fmt.Errorf("sip: record %s: %w", l.req.CallID, errLegEnded)
	}
	l.st.record()
	return nil
}

func (l *leg) Recording() []byte {
	if l.st == nil {
		return nil
	}
	return l.st.recording()
}

// EarlyMedia returns the audio heard before answer (ringback, carrier
// announcements such as "the number you dialled is busy"), at most a
// minute, as 8 kHz PCM.
func (l *leg) EarlyMedia() []int16 {
	if l.st == nil {
		return nil
	}
	return l.st.earlyMedia()
}

// Hangup ends the leg: CANCEL before answer, BYE after. It waits a little
// for that to finish and is idempotent.
func (l *leg) Hangup(ctx context.Context) error {
	l.hangOnce.Do(func() { close(l.hangupRq) })
	t := time.NewTimer(hangupWait)
	defer t.Stop()
	select {
	case <-l.done:
	case <-ctx.Done():
	case <-t.C:
	}
	return nil
}

func (l *leg) Stats() map[string]string {
	m := map[string]string{"carrier": "sip", "trunk": l.trunk().Name, "sip_call_id": l.sipCallID}
	l.mu.Lock()
	if l.status != 0 {
		m["sip_status"] = strconv.Itoa(l.status)
	}
	if l.endDetail != "" {
		m["end"] = l.endDetail
	}
	if l.dtmfDrops > 0 {
		m["dtmf_dropped"] = strconv.Itoa(l.dtmfDrops)
	}
	l.mu.Unlock()
	if l.st != nil {
		l.st.stats(m)
	}
	if l.lis != nil {
		l.lis.stats(m)
	}
	return m
}

var _ dialtone.Leg = (*leg)(nil)

// String is for logs.
func (l *leg) String() string {
	return strings.Join([]string{l.req.CallID, l.req.Leg, l.sipCallID}, "/")
}
