package sip

import (
	"context"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/speech"
)

// Listening to the callee of a SmartCall: the RTP reader hands every
// decoded frame to the leg's listener, whose own goroutine runs the
// voice-activity segmenter; utterances go to the recogniser one at a time,
// and what it heard goes to the leg's goroutine as LegSpeech.

const (
	// listenQueue bounds the frames waiting for the segmenter: 250 are
	// 5 s of audio, far more than it ever lags; beyond that frames are
	// dropped rather than stall the RTP reader (the segmenter takes a gap
	// as silence).
	listenQueue = 250
	// utterQueue bounds the utterances waiting for the recogniser. A
	// caller cannot say more than a few sentences while one is decoded;
	// more means the recogniser is stuck, and waiting longer helps nobody.
	utterQueue = 4
	// gapCheck is how often the segmenter looks for a stalled stream, and
	// gapFill how long RTP must have stopped before the gap counts as
	// silence: far ends with silence suppression send no packets while the
	// caller is quiet, and an utterance would otherwise never end.
	gapCheck = 100 * time.Millisecond
	gapFill  = 200 * time.Millisecond
	// maxGapFrames bounds the silence filled in at once (2 s); a longer gap
	// is skipped, which ends any utterance just the same.
	maxGapFrames = 100
)

type audioFrame struct {
	pcm []int16
	at  time.Time
}

// listener owns one leg's segmenter and recognition.
type listener struct {
	l      *leg
	rec    speech.Recognizer // nil: only barge-in (TimeBreak) is reported
	hints  speech.Hints
	cfg    speech.Config
	frames chan audioFrame
	utter  chan speech.Event

	// playing counts Plays in progress; the segmenter reads it per frame.
	playing atomic.Int32
	dropped atomic.Uint64 // frames dropped because the queue was full
	lost    atomic.Uint64 // utterances dropped because the recogniser lagged
	heard   atomic.Uint64 // utterances recognised with text
	started atomic.Bool
}

// newListener prepares listening for a SmartCall plan; the goroutines
// start when the call is answered.
func newListener(l *leg, plan *dialtone.SmartPlan, rec speech.Recognizer, hints speech.Hints) *listener {
	cfg := speech.ConfigFor(plan)
	// The engine times MuteTime itself (it restarts after each prompt and
	// callback answer); a second timer here would report mute twice.
	cfg.MuteTime = 0
	return &listener{
		l:      l,
		rec:    rec,
		hints:  hints,
		cfg:    cfg,
		frames: make(chan audioFrame, listenQueue),
		utter:  make(chan speech.Event, utterQueue),
	}
}

// push queues a frame; it never blocks (it runs on the RTP reader).
func (li *listener) push(pcm []int16, at time.Time) {
	if !li.started.Load() {
		return
	}
	// The frame waits in the channel: a copy, since pcm is the RTP
	// reader's, reused for its next packet.
	select {
	case li.frames <- audioFrame{slices.Clone(pcm), at}:
	default:
		li.dropped.Add(1)
	}
}

// start runs the segmenter and the recogniser until the leg ends.
func (li *listener) start() {
	if li.started.Swap(true) {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-li.l.done
		cancel() // kills a decoder still working on this call
	}()
	go li.segment()
	go li.recognise(ctx)
}

func (li *listener) segment() {
	seg := speech.NewSegmenter(li.cfg)
	tick := time.NewTicker(gapCheck)
	defer tick.Stop()
	var next time.Time // when the audio fed so far ends
	silence := make([]int16, speech.FrameSamples)
	feed := func(pcm []int16, at time.Time) {
		seg.SetPlaying(li.playing.Load() > 0, at)
		li.handle(seg.Write(pcm, at))
		next = at.Add(time.Duration(len(pcm)) * time.Second / speech.Rate)
	}
	for {
		select {
		case <-li.l.done:
			// The call is over: nobody is left to hear the last words.
			seg.Flush(time.Now())
			return
		case f := <-li.frames:
			feed(f.pcm, f.at)
		case now := <-tick.C:
			if next.IsZero() || len(li.frames) > 0 || now.Sub(next) < gapFill {
				continue
			}
			for i := 0; i < maxGapFrames && now.Sub(next) >= frameTime; i++ {
				feed(silence, next)
			}
			if now.Sub(next) >= frameTime {
				next = now
			}
		}
	}
}

// handle acts on the segmenter's events.
func (li *listener) handle(evs []speech.Event) {
	for _, ev := range evs {
		switch ev.Kind {
		case speech.TimeBreak:
			// Barge-in needs no words: the engine interrupts a breakable
			// prompt when an utterance lasts ActionCodeTimeBreak while it
			// plays, and the words follow when the caller pauses.
			li.l.onSpeech(dialtone.LegEvent{Kind: dialtone.LegSpeech, At: ev.At, SpeechStart: ev.Start, SpeechEnd: ev.At,
				Detail: map[string]string{"barge_in": "time_break"}})
		case speech.SpeechEnd:
			if ev.Noise || li.rec == nil {
				continue
			}
			select {
			case li.utter <- ev:
			default:
				li.lost.Add(1)
				li.l.log("recogniser lagging; utterance dropped")
			}
		}
	}
}

// recognise decodes utterances one at a time, in order.
func (li *listener) recognise(ctx context.Context) {
	for {
		var ev speech.Event
		select {
		case <-ctx.Done():
			return
		case ev = <-li.utter:
		}
		began := time.Now()
		res, err := li.rec.Recognize(ctx, ev.Audio, li.hints)
		if err != nil {
			if ctx.Err() == nil {
				li.l.c.log.Warn("speech not recognised", "call", li.l.req.CallID, "leg", li.l.req.Leg, "err", err)
			}
			continue
		}
		if res.Text == "" {
			continue // noise or words outside the grammar: nothing to tell
		}
		li.heard.Add(1)
		li.l.onSpeech(dialtone.LegEvent{Kind: dialtone.LegSpeech, At: time.Now(), Text: res.Text,
			SpeechStart: ev.Start, SpeechEnd: ev.End,
			Detail: map[string]string{
				"confidence": strconv.FormatFloat(res.Confidence, 'f', 2, 64),
				"asr_ms":     strconv.FormatInt(time.Since(began).Milliseconds(), 10),
			}})
	}
}

// stats adds the listener's counters to a leg's statistics.
func (li *listener) stats(m map[string]string) {
	m["asr_utterances"] = strconv.FormatUint(li.heard.Load(), 10)
	if n := li.dropped.Load(); n > 0 {
		m["asr_frames_dropped"] = strconv.FormatUint(n, 10)
	}
	if n := li.lost.Load(); n > 0 {
		m["asr_utterances_dropped"] = strconv.FormatUint(n, 10)
	}
}
