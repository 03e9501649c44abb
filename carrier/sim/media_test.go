package sim

import (
	"bytes"
	"context"
	"errors"
	"math"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/media"
)

// foreignLeg is a leg of another carrier: it hears what the sink gets and,
// once bridged, says a 1 kHz tone in real time for talkFor and presses 9.
type foreignLeg struct {
	dialtone.Leg // unused methods
	talkFor      time.Duration

	mu    sync.Mutex
	heard []int16
	keys  string
	ended bool
	out   dialtone.MediaSink
	stop  chan struct{}
}

func (f *foreignLeg) WriteAudio(pcm []int16) {
	f.mu.Lock()
	f.heard = append(f.heard, pcm...)
	f.mu.Unlock()
}

func (f *foreignLeg) WriteDTMF(keys string) {
	f.mu.Lock()
	f.keys += keys
	f.mu.Unlock()
}

func (f *foreignLeg) MediaIn() (dialtone.MediaSink, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ended {
		return nil, errors.New("foreign leg ended")
	}
	return f, nil
}

func (f *foreignLeg) MediaOut(sink dialtone.MediaSink) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stop != nil {
		close(f.stop)
		f.stop = nil
	}
	f.out = sink
	if sink == nil {
		return nil
	}
	f.stop = make(chan struct{})
	go f.talk(sink, f.stop)
	return nil
}

func (f *foreignLeg) talk(sink dialtone.MediaSink, stop chan struct{}) {
	t := time.NewTicker(frameTime)
	defer t.Stop()
	frame := make([]int16, frameSamples)
	for i := 0; time.Duration(i)*frameTime < f.talkFor; i++ {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		for j := range frame {
			n := i*frameSamples + j
			frame[j] = int16(8000 * math.Sin(2*math.Pi*1000*float64(n)/8000))
		}
		sink.WriteAudio(frame)
		if i == 10 {
			sink.WriteDTMF("9")
		}
	}
}

func answeredLeg(t *testing.T, n *Network, callID, to string) dialtone.Leg {
	t.Helper()
	l, err := n.Originate(context.Background(), dialtone.OriginateRequest{CallID: callID, Leg: "B", To: to})
	if err != nil {
		t.Fatal(err)
	}
	for next(t, l).Kind != dialtone.LegAnswered {
	}
	return l
}

func rms(x []int16) float64 {
	if len(x) == 0 {
		return 0
	}
	return level(x)
}

// TestBridgeForeignLeg: a simulated subscriber bridged to another
// carrier's leg on a scaled clock speaks its Say line in real time, relays
// its keys, and records and notes what the other party said and pressed.
func TestBridgeForeignLeg(t *testing.T) {
	n := newNet(Subscriber{Number: "s", Behavior: Behavior{Result: ResultAnswer,
		AnswerAfter: time.Second, Say: []string{"你好"}, DTMF: []DTMF{{At: 100 * time.Second, Digits: "3"}}}})
	ctx := context.Background()
	l := answeredLeg(t, n, "x", "s")
	if err := l.Record(ctx); err != nil {
		t.Fatal(err)
	}
	f := &foreignLeg{talkFor: time.Second}
	if err := l.Bridge(ctx, f); err != nil {
		t.Fatal(err)
	}
	// Real time, whatever the network's clock: wait for both sides to
	// have talked (bounded).
	deadline := time.Now().Add(10 * time.Second)
	for {
		f.mu.Lock()
		heard, keys := rms(f.heard), f.keys
		f.mu.Unlock()
		kinds := transcriptKinds(n.Transcript("x"))
		if heard > 1000 && keys == "3" && slices.Contains(kinds, "heard") && slices.Contains(kinds, "heard_dtmf") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("foreign leg heard rms %.0f keys %q; transcript %v", heard, keys, kinds)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := l.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	out := f.out
	f.mu.Unlock()
	out.WriteAudio(make([]int16, frameSamples)) // after the end: dropped, no panic

	tr := n.Transcript("x")
	for _, e := range tr {
		switch e.Kind {
		case "voice":
			if e.Text != "你好" {
				t.Errorf("voice %q", e.Text)
			}
		case "heard_dtmf":
			if e.Text != "9" {
				t.Errorf("heard keys %q", e.Text)
			}
		}
	}
	if kinds := transcriptKinds(tr); !slices.Contains(kinds, "voice") || !slices.Contains(kinds, "bridge") {
		t.Errorf("transcript %v", kinds)
	}
	pcm, err := media.DecodeWAV(bytes.NewReader(l.Recording()))
	if err != nil {
		t.Fatal(err)
	}
	var left, right []int16
	for i := 0; i+1 < len(pcm.Samples); i += 2 {
		left, right = append(left, pcm.Samples[i]), append(right, pcm.Samples[i+1])
	}
	// Channel 0: the other party's tone, a second of it laid end to end.
	loud := 0
	for i := 0; i+frameSamples <= len(left); i += frameSamples {
		if rms(left[i:i+frameSamples]) > 3000 {
			loud++
		}
	}
	if loud < 25 {
		t.Errorf("recording channel 0 has %d loud frames of the other party's second of tone", loud)
	}
	if rms(right) == 0 {
		t.Error("recording channel 1 has none of the subscriber's voice")
	}
}

// TestBridgeForeignRefused: no bridge with a leg that cannot carry audio,
// or with legs that ended.
func TestBridgeForeignRefused(t *testing.T) {
	n := newNet()
	ctx := context.Background()
	l := answeredLeg(t, n, "y", "a")
	type plainLeg struct{ dialtone.Leg }
	if err := l.Bridge(ctx, plainLeg{}); !errors.Is(err, dialtone.ErrNoMediaBridge) {
		t.Errorf("bridge with a leg without the media contract: %v", err)
	}
	if err := l.Bridge(ctx, &foreignLeg{ended: true}); err == nil {
		t.Error("bridged with an ended foreign leg")
	}
	_ = l.Hangup(ctx)
	if err := l.Bridge(ctx, &foreignLeg{}); !errors.Is(err, ErrLegEnded) {
		t.Errorf("bridge of an ended leg: %v", err)
	}
	// Ringing, not answered yet.
	n.SetBehavior("slow", Behavior{Result: ResultAnswer, AnswerAfter: time.Hour})
	r, _ := n.Originate(ctx, dialtone.OriginateRequest{CallID: "z", Leg: "A", To: "slow"})
	if err := r.Bridge(ctx, &foreignLeg{}); err == nil {
		t.Error("bridged a leg that has not answered")
	}
	_ = r.Hangup(ctx)
}

func transcriptKinds(tr []TranscriptEntry) []string {
	var out []string
	for _, e := range tr {
		out = append(out, e.Kind)
	}
	return out
}
