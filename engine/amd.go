package engine

import (
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/media/detect"
)

// Answering-machine detection (issue 18). A call whose plan asks for it
// (the account's machine_detection when the call was accepted) listens to
// the callee from the answer on: the carrier hands the callee's decoded
// audio over (dialtone.AudioTap), a goroutine of the call feeds it to a
// detect.AMD, and each verdict becomes a machine_detection event. By mode:
//
//   - detect: the prompt plays at once; the verdicts are recorded;
//   - hangup: the prompt waits for the first verdict; a machine or a fax
//     is hung up on (200001, CALL_FORWARDING: an answering assistant took
//     the call), anybody else hears the prompt;
//   - message: the prompt waits for the final verdict: a person's at once,
//     a machine's at the end of its greeting (its beep, or the silence
//     after it), so that the message is recorded whole; a fax is hung up
//     on, as a message to it is never heard.
//
// A ClickToDial listens to its callee (B) once bridged, in every mode
// without holding anything (the caller is already talking); mode hangup
// ends the call on a machine or a fax.
//
// The final verdict and its decision time go into the "ended" event
// (answered_by, answered_by_ms), from which the VoiceReport and the call
// detail read them.

// SmartCallForwarding is the smart status code of a call a machine
// answered and the platform hung up on: Alibaba's code for "forwarding,
// answering assistant".
const SmartCallForwarding = "CALL_FORWARDING"

// holdSlack is how long past the detector's own limits a held prompt
// waits for a verdict that no audio brings (a carrier that stopped
// delivering): then the detector is closed and gives its final one.
const holdSlack = 2 * time.Second

// tapQueue bounds the callee's frames waiting for the detector: 250 are
// 5 s of audio; beyond that frames are dropped rather than stall the
// carrier (the detector takes the gap in time as it comes).
const tapQueue = 250

type tapFrame struct {
	pcm   []int16
	since time.Duration
}

// machine is the answering-machine detection of one call.
type machine struct {
	r    *run
	mode detect.Mode
	leg  string
	base time.Time // the answer, on the call's timeline
	cfg  detect.Config

	frames chan tapFrame
	kick   chan struct{} // a verdict came (coalescing)
	quit   chan struct{} // closed by close: the feeder stops
	fed    chan struct{} // closed when the feeder has stopped
	stop   func()        // stops the carrier's tap

	mu       sync.Mutex
	det      *detect.AMD
	results  []detect.Result
	dropped  int
	closed   bool
	stopOnce sync.Once
}

// startMachineDetection begins listening to leg legName (A or B), which
// has just answered, when the call asks for it; r.amd is nil otherwise.
func (r *run) startMachineDetection(legName string) {
	mode := detect.Mode(r.plan.MachineDetection.OrOff())
	if mode == detect.ModeOff {
		return
	}
	l, base := r.a, r.c.A.Start
	if legName == "B" {
		l, base = r.b, r.c.B.Start
	}
	cfg := r.e.cfg.MachineDetection
	cfg.Mode = mode
	m := &machine{r: r, mode: mode, leg: legName, base: base, cfg: cfg,
		frames: make(chan tapFrame, tapQueue), kick: make(chan struct{}, 1),
		quit: make(chan struct{}), fed: make(chan struct{})}
	r.amd = m
	det, err := detect.NewAMD(cfg, base)
	if err != nil {
		// Thresholds the operator set wrong: the call goes on unheard.
		r.log.Error("machine detection: bad configuration", "err", err)
		m.give(detect.Result{AnsweredBy: detect.Unknown, Final: true, Reason: "machine detection misconfigured: " + err.Error()})
		close(m.fed)
		return
	}
	m.det = det
	tap, ok := l.(dialtone.AudioTap)
	if !ok {
		m.give(detect.Result{AnsweredBy: detect.Unknown, Final: true, Reason: "the carrier does not let the platform listen to this leg"})
		close(m.fed)
		return
	}
	stop, err := tap.TapAudio(func(pcm []int16, since time.Duration) {
		select {
		case m.frames <- tapFrame{append([]int16(nil), pcm...), since}:
		default:
			m.mu.Lock()
			m.dropped++
			m.mu.Unlock()
		}
	})
	if err != nil {
		m.give(detect.Result{AnsweredBy: detect.Unknown, Final: true, Reason: "cannot listen to the leg: " + err.Error()})
		close(m.fed)
		return
	}
	m.stop = stop
	go m.feed()
}

// feed runs the detector over the callee's audio until its final verdict
// or close.
func (m *machine) feed() {
	defer close(m.fed)
	defer m.stopTap()
	for {
		select {
		case <-m.quit:
			return
		case f := <-m.frames:
			m.mu.Lock()
			res := m.det.Write(f.pcm, m.base.Add(f.since))
			done := m.det.Done()
			m.mu.Unlock()
			for _, v := range res {
				m.give(v)
			}
			if done {
				return
			}
		}
	}
}

func (m *machine) stopTap() {
	m.stopOnce.Do(func() {
		if m.stop != nil {
			m.stop()
		}
	})
}

// give records a verdict: kept for the hold and the end of the call, and
// queued as a machine_detection event for the call's next write.
func (m *machine) give(v detect.Result) {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return
	}
	m.results = append(m.results, v)
	m.mu.Unlock()
	at := v.At
	if at.IsZero() {
		at = m.r.now()
	}
	ev := dialtone.CallEvent{CallID: m.r.c.ID, At: at, Type: dialtone.EventMachineDetection, Leg: m.leg,
		Detail: m.detail(v)}
	r := m.r
	r.opMu.Lock()
	r.ops = append(r.ops, ev)
	r.opMu.Unlock()
	for _, ch := range []chan struct{}{r.opKick, m.kick} {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

func (m *machine) detail(v detect.Result) map[string]string {
	d := map[string]string{
		dialtone.DetailAnsweredBy:   string(v.AnsweredBy),
		dialtone.DetailAnsweredByMS: strconv.FormatInt(v.After.Milliseconds(), 10),
		"final":                     strconv.FormatBool(v.Final),
		"mode":                      string(m.mode),
		"reason":                    v.Reason,
	}
	if v.Greeting > 0 {
		d["greeting_ms"] = strconv.FormatInt(v.Greeting.Milliseconds(), 10)
	}
	if v.Beep != nil {
		d["beep_hz"] = strconv.FormatFloat(v.Beep.Freq, 'f', 0, 64)
	}
	if v.Tone != nil {
		d["tone"] = string(v.Tone.Kind)
	}
	return d
}

// verdicts returns the verdicts so far.
func (m *machine) verdicts() []detect.Result {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]detect.Result(nil), m.results...)
}

// decisive is the verdict the mode waits for: the first in mode hangup,
// the final one in mode message.
func (m *machine) decisive() (detect.Result, bool) {
	vs := m.verdicts()
	if len(vs) == 0 {
		return detect.Result{}, false
	}
	if m.mode == detect.ModeMessage {
		last := vs[len(vs)-1]
		return last, last.Final
	}
	return vs[0], true
}

// close ends the detection at the end of the call: the feeder stops, the
// tap with it, and a detector without a final verdict gives one (unknown,
// or machine_start again for a greeting still going on).
func (m *machine) close(at time.Time) {
	select {
	case <-m.quit:
		return
	default:
	}
	close(m.quit)
	<-m.fed
	m.stopTap()
	if m.det == nil {
		return
	}
	m.mu.Lock()
	res := m.det.Close(at)
	m.mu.Unlock()
	for _, v := range res {
		m.give(v)
	}
	m.mu.Lock()
	m.closed = true
	m.mu.Unlock()
}

// limit is how long after the answer the mode's wait may last.
func (m *machine) limit() time.Duration {
	c := m.cfg.WithDefaults()
	if m.mode == detect.ModeMessage {
		return c.MessageTimeout + holdSlack
	}
	return c.TotalAnalysisTime + holdSlack
}

// awaitMachine holds the first prompt of a single-leg call until the
// verdict the mode waits for, and acts on it. It returns false when the
// call has ended (hung up on a machine, or by the callee meanwhile).
func (r *run) awaitMachine() bool {
	m := r.amd
	if m == nil || m.mode == detect.ModeDetect {
		return true
	}
	deadline := m.base.Add(m.limit())
	early := Outcome{dialtone.StatusHungUpEarly, SmartAnswered}
	for {
		if v, ok := m.decisive(); ok {
			return r.actOnVerdict(v, RoleSingle)
		}
		w := r.wait(deadline, m.kick)
		switch w.kind {
		case wakeExtra:
		case wakeTimer:
			// No audio brought a verdict: the detector gives its last.
			m.close(r.now())
			if err := r.commit(); err != nil {
				r.abandon(err)
				return false
			}
		default:
			if done, _ := r.talkWake(w, early); done {
				return false
			}
		}
	}
}

// actOnVerdict hangs up on a machine (mode hangup) or a fax (modes hangup
// and message); it returns false when it ended the call. The verdict's
// event is written first.
func (r *run) actOnVerdict(v detect.Result, role LegRole) bool {
	m := r.amd
	hangup := v.AnsweredBy == detect.Fax && m.mode != detect.ModeDetect ||
		v.AnsweredBy.Machine() && m.mode == detect.ModeHangup
	if !hangup {
		if err := r.commit(); err != nil {
			r.abandon(err)
			return false
		}
		return true
	}
	out := Outcome{dialtone.StatusHungUpEarly, SmartCallForwarding}
	if role != RoleSingle {
		// A two-leg call: the caller was connected; nobody was to hear a
		// message.
		out.StatusCode = dialtone.StatusCompleted
	}
	r.finish(out, HangupMachine, fmt.Sprintf("answered by %s after %.2f s; hung up (machine_detection %s)",
		v.AnsweredBy, v.After.Seconds(), m.mode))
	return false
}

// machineInBridge acts on a verdict about a bridged callee (ClickToDial);
// it returns false when it ended the call.
func (r *run) machineInBridge() bool {
	m := r.amd
	if m == nil {
		return true
	}
	vs := m.verdicts()
	if len(vs) == 0 || m.mode != detect.ModeHangup {
		return true
	}
	return r.actOnVerdict(vs[0], RoleCallee)
}

// amdKick is the channel on which verdicts arrive, nil without detection.
func (r *run) amdKick() <-chan struct{} {
	if r.amd == nil {
		return nil
	}
	return r.amd.kick
}

// endMachineDetection closes the detection as the call ends (hangupAll
// has, usually) and returns the last verdict as the ended event's detail
// keys (nil without detection). The verdicts' events are queued first, so
// that they come before the end.
func (r *run) endMachineDetection(at time.Time) map[string]string {
	m := r.amd
	if m == nil {
		return nil
	}
	m.close(at)
	r.takeOps()
	m.mu.Lock()
	dropped := m.dropped
	m.mu.Unlock()
	if dropped > 0 {
		r.log.Warn("machine detection: frames dropped", "frames", dropped)
	}
	vs := m.verdicts()
	if len(vs) == 0 {
		return nil
	}
	v := vs[len(vs)-1]
	return map[string]string{
		dialtone.DetailAnsweredBy:   string(v.AnsweredBy),
		dialtone.DetailAnsweredByMS: strconv.FormatInt(v.After.Milliseconds(), 10),
	}
}
