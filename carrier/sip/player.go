package sip

import (
	"errors"
	"sync"

	"github.com/dialtone-voice/dialtone"
)

// player is what a session plays of its own (not bridged audio): a Play
// in progress, and a frame source fed frame by frame (a media stream's
// application). A Play takes precedence over the source while it lasts.
type player struct {
	mu  sync.Mutex
	job *playJob
	src dialtone.PCMSource
	// fed counts the source's frames that held audio.
	fed uint64
	// phase follows the source's audio with the send slot, when it says
	// how early it comes (dialtone.PCMPhaser).
	phase feedPhase
}

// playJob is one Play in progress.
type playJob struct {
	samples  []int16
	pos      int
	finished bool // played to the end (under player.mu)
	done     chan struct{}
}

// start replaces what is playing with samples; the returned job's done
// closes when it played out or the session closed.
func (p *player) start(samples []int16) (*playJob, error) {
	j := &playJob{samples: samples, done: make(chan struct{})}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.job != nil {
		close(p.job.done) // superseded: its Play returns as finished early
	}
	p.job = j
	return j, nil
}

// playedOut reports whether j played to its end.
func (p *player) playedOut(j *playJob) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return j.finished
}

// stop removes j if it is still playing.
func (p *player) stop(j *playJob) {
	p.mu.Lock()
	if p.job == j {
		p.job = nil
		close(j.done)
	}
	p.mu.Unlock()
}

// close ends the job in progress and forgets the source.
func (p *player) close() {
	p.mu.Lock()
	if p.job != nil {
		close(p.job.done)
		p.job = nil
	}
	p.src = nil
	p.mu.Unlock()
}

// setSource plays what src gives (nil stops); it reports whether it
// replaced another.
func (p *player) setSource(src dialtone.PCMSource) {
	p.mu.Lock()
	p.src = src
	p.phase = feedPhase{}
	p.mu.Unlock()
}

// clearSource stops src if it is still the source.
func (p *player) clearSource(src dialtone.PCMSource) {
	p.mu.Lock()
	if p.src == src {
		p.src = nil
	}
	p.mu.Unlock()
}

// next returns the next frame to play, or nil when there is nothing: a
// frame of the job, or of the source written into buf (a frame long).
// The source is read under the lock: it never blocks (PCMSource). move
// is how many pacer slots the send slot should move to follow the
// source's audio (feedPhase): negative is earlier.
func (p *player) next(buf []int16) (frame []int16, move int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	j := p.job
	if j == nil {
		if p.src == nil {
			return nil, 0
		}
		n := p.src.Read(buf)
		if ph, ok := p.src.(dialtone.PCMPhaser); ok {
			move = p.phase.observe(ph.Phase())
		}
		if n == 0 {
			return nil, move
		}
		p.fed++
		return buf, move
	}
	n := min(frameSamples, len(j.samples)-j.pos)
	if n == frameSamples {
		frame = j.samples[j.pos : j.pos+n]
	} else {
		// The last, short frame: pad with silence.
		copy(buf, j.samples[j.pos:])
		clear(buf[n:])
		frame = buf
	}
	j.pos += n
	if j.pos >= len(j.samples) {
		j.finished = true
		close(j.done)
		p.job = nil
	}
	return frame, 0
}

// skip tells the source, when it wants to know (dialtone.PCMSkipper), of
// frames the pacer did not send; a Play in progress is not skipped: it
// plays on where it was.
func (p *player) skip(frames int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if sk, ok := p.src.(dialtone.PCMSkipper); ok && p.job == nil {
		sk.Skip(frames * frameSamples)
	}
}

// Feed plays what src gives, a frame each tick of the pacer, until stop
// is called or the leg ends (dialtone.AudioFeed); a Play in progress takes
// precedence while it lasts, and the source's frames take precedence over
// bridged audio. The pacer reads the source's own buffer and never waits
// for it.
func (l *leg) Feed(src dialtone.PCMSource) (func(), error) {
	if src == nil {
		return nil, errors.New("sip: feed: nil source")
	}
	if l.st == nil || l.st.closed.Load() {
		return nil, errLegEnded
	}
	if !l.st.sending.Load() {
		return nil, errors.New("sip: feed: leg not answered")
	}
	l.st.play.setSource(src)
	var once sync.Once
	return func() { once.Do(func() { l.st.play.clearSource(src) }) }, nil
}

var _ dialtone.AudioFeed = (*leg)(nil)
