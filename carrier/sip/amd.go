package sip

import (
	"errors"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/carrier/progress"
	"github.com/dialtone-voice/dialtone/media/detect"
)

// Answering-machine detection and call-progress tones on a SIP leg.
//
// After the answer, the engine listens to the callee through TapAudio
// (dialtone.AudioTap): the RTP reader hands each decoded packet over with
// its time since the answer, and the gaps a far end leaves (silence
// suppression, a stalled stream) are filled with silence, so that the
// detector's clock runs as the call's does.
//
// Before the answer, a progress.Reader reads the early media beside the
// announcement recogniser (earlymedia.go): a busy, congestion or special
// information tone settles a failure the SIP response leaves open (a 480,
// a ring timeout), and a leg that hears one is given up (CANCEL) Grace
// after the tone, as the network will connect nobody.

// errEarlyTone stops a ringing leg whose early media played a decisive
// tone.
var errEarlyTone = errors.New("decisive tone in early media")

// Gap filling of the tap: a stretch without audio longer than tapGapFill
// is silence; the ticker looks every tapTick; at most tapMaxFill is filled
// at once (a longer silence is skipped: the detector's time jumps).
const (
	tapGapFill = 60 * time.Millisecond
	tapTick    = 100 * time.Millisecond
	tapLag     = 200 * time.Millisecond
	tapMaxFill = 30 * time.Second
)

// audioTap hands a leg's audio after the answer to one listener.
type audioTap struct {
	answered time.Time // wall time of the answer
	mu       sync.Mutex
	f        func(pcm []int16, since time.Duration)
	next     time.Duration // where the audio handed over so far ends
	stopped  bool
	quit     chan struct{}
	done     chan struct{}
	silence  [frameSamples]int16
}

// tapSet is a leg's taps: copied on change, so that the RTP reader walks
// the current list without a lock.
type tapSet struct {
	mu  sync.Mutex
	cur atomic.Pointer[[]*audioTap]
}

func (s *tapSet) list() []*audioTap {
	if p := s.cur.Load(); p != nil {
		return *p
	}
	return nil
}

func (s *tapSet) add(t *audioTap) {
	s.mu.Lock()
	defer s.mu.Unlock()
	next := append(slices.Clone(s.list()), t)
	s.cur.Store(&next)
}

func (s *tapSet) remove(t *audioTap) {
	s.mu.Lock()
	defer s.mu.Unlock()
	next := slices.DeleteFunc(slices.Clone(s.list()), func(x *audioTap) bool { return x == t })
	s.cur.Store(&next)
}

// TapAudio starts handing f the callee's audio (dialtone.AudioTap). A leg
// has as many taps as it is given (the detector, a media stream, a fork),
// each fed from the RTP reader in turn.
func (l *leg) TapAudio(f func(pcm []int16, sinceAnswer time.Duration)) (func(), error) {
	if l.st == nil || l.st.closed.Load() {
		return nil, errLegEnded
	}
	answered := l.st.answeredAt()
	if answered.IsZero() {
		return nil, errors.New("sip: tap: leg not answered")
	}
	t := &audioTap{answered: answered, f: f, quit: make(chan struct{}), done: make(chan struct{})}
	l.taps.add(t)
	go t.tick(l.done)
	var once sync.Once
	return func() {
		once.Do(func() {
			t.mu.Lock()
			t.stopped = true
			t.mu.Unlock()
			close(t.quit)
			<-t.done
			l.taps.remove(t)
		})
	}, nil
}

var _ dialtone.AudioTap = (*leg)(nil)

// push hands over audio that arrived at at (the RTP reader's goroutine).
func (t *audioTap) push(pcm []int16, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		return
	}
	since := at.Sub(t.answered)
	if since-t.next > tapGapFill {
		t.fill(since)
	}
	t.f(pcm, t.next)
	t.next += time.Duration(len(pcm)) * time.Second / sampleRate
}

// fill hands over silence from t.next up to until; t.mu is held.
func (t *audioTap) fill(until time.Duration) {
	if until-t.next > tapMaxFill {
		t.next = until - tapMaxFill
	}
	// Whole frames only: less than a frame left is filled next time, or
	// the audio that comes follows on from here.
	for until-t.next >= frameTime && !t.stopped {
		t.f(t.silence[:], t.next)
		t.next += frameTime
	}
}

// tick fills the time of a stream that stopped altogether.
func (t *audioTap) tick(legDone <-chan struct{}) {
	defer close(t.done)
	tk := time.NewTicker(tapTick)
	defer tk.Stop()
	for {
		select {
		case <-t.quit:
			return
		case <-legDone:
			return
		case now := <-tk.C:
			t.mu.Lock()
			if lag := now.Sub(t.answered) - t.next; !t.stopped && lag > tapLag {
				t.fill(now.Sub(t.answered) - tapTick)
			}
			t.mu.Unlock()
		}
	}
}

// onEarly reads early media (the RTP reader's goroutine).
func (l *leg) onEarly(pcm []int16, at time.Time) {
	l.mu.Lock()
	if l.tones == nil {
		l.tones = progress.NewReader(l.onTone)
	}
	r := l.tones
	l.mu.Unlock()
	r.Write(pcm, at)
}

// onTone follows the tones confirmed in early media: a decisive one gives
// the network Grace to end the call, then ends it.
func (l *leg) onTone(t detect.Tone) {
	l.log("tone in early media", "tone", t.Kind, "name", t.Name)
	if _, decisive := progress.Reason(t.Kind); !decisive {
		return
	}
	l.mu.Lock()
	armed := l.toneTimer != nil
	if !armed {
		l.toneTimer = time.AfterFunc(progress.Grace, func() {
			l.mu.Lock()
			stop, answered := l.ringStop, l.answered
			l.mu.Unlock()
			if stop != nil && !answered {
				stop(errEarlyTone)
			}
		})
	}
	l.mu.Unlock()
}

// settleByTone is the reason of a failed leg once its early media's tones
// are heard (progress.Reader.Settle): a Q.850 cause in the response's
// Reason header stands.
func (l *leg) settleByTone(reason dialtone.FailReason, detail map[string]string) (dialtone.FailReason, map[string]string) {
	l.mu.Lock()
	r := l.tones
	if l.toneTimer != nil {
		l.toneTimer.Stop()
	}
	l.mu.Unlock()
	_, cause := q850Cause(detail["sip_reason_header"])
	return r.Settle(reason, cause, detail)
}

// toneFailure is the failure of a leg given up on a decisive tone.
func (l *leg) toneFailure(status int) (dialtone.FailReason, map[string]string) {
	l.mu.Lock()
	r := l.tones
	l.mu.Unlock()
	t, ok := r.Decisive()
	reason, _ := progress.Reason(t.Kind)
	if !ok {
		reason = dialtone.FailNoAnswer
	}
	l.log("decisive tone in early media; cancelled", "tone", t.Kind, "last_status", status)
	return reason, map[string]string{"reason": string(t.Kind) + " tone in early media", "sip_status": strconv.Itoa(status)}
}
