package sip

import (
	"bytes"
	"context"
	"math"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/media"
)

// goertzelRatio is the share of the energy of x at freq: about 1 for a
// pure tone at freq, about 0 when freq is absent. freq should be a
// multiple of sampleRate/len(x) so it falls on a bin.
func goertzelRatio(x []int16, freq float64) float64 {
	if len(x) == 0 {
		return 0
	}
	w := 2 * math.Pi * freq / sampleRate
	coeff := 2 * math.Cos(w)
	var s1, s2, energy float64
	for _, v := range x {
		f := float64(v)
		energy += f * f
		s0 := f + coeff*s1 - s2
		s2, s1 = s1, s0
	}
	if energy == 0 {
		return 0
	}
	power := s1*s1 + s2*s2 - coeff*s1*s2
	return power / (float64(len(x)) * energy / 2)
}

// toneShares reports the largest share of freqA and of freqB over the
// audible 200 ms windows of x, and how many windows were audible.
func toneShares(x []int16, freqA, freqB float64) (a, b float64, audible int) {
	const win = 1600 // 200 ms: 5 Hz bins
	for i := 0; i+win <= len(x); i += win / 2 {
		w := x[i : i+win]
		var sum float64
		for _, v := range w {
			sum += float64(v) * float64(v)
		}
		if math.Sqrt(sum/win) < 500 {
			continue
		}
		audible++
		a = max(a, goertzelRatio(w, freqA))
		b = max(b, goertzelRatio(w, freqB))
	}
	return a, b, audible
}

// TestBridgeTwoUAs: click-to-dial between two sipgo user agents on
// different codecs. Each sends its own tone; each must hear the other's
// and not its own; keys pressed on A reach B as RFC 4733 events; the
// recording of leg A holds both parties, one per channel.
func TestBridgeTwoUAs(t *testing.T) {
	const freqA, freqB = 600, 1000
	ua := startUAS(t, &testUAS{codec: CodecPCMU, toneHz: freqA, toneFor: 2500 * time.Millisecond, keys: "47", keysAt: 1200 * time.Millisecond})
	ub := startUAS(t, &testUAS{codec: CodecPCMA, toneHz: freqB, toneFor: 2500 * time.Millisecond, keysAt: time.Hour})
	c := newTestCarrier(t, ua.addr, func(cfg *Config) {
		cfg.Trunks = []Trunk{{Name: "a", Address: ua.addr, Codecs: []string{CodecPCMU}}, {Name: "b", Address: ub.addr, Codecs: []string{CodecPCMA}}}
		cfg.Routes = []Route{{Prefix: "1", Trunk: "a"}, {Prefix: "2", Trunk: "b"}}
		cfg.DefaultTrunk = ""
	})
	la := originate(t, c, "1000", 10*time.Second)
	waitFor(t, la, dialtone.LegAnswered, 5*time.Second)
	if err := la.Record(context.Background()); err != nil {
		t.Fatal(err)
	}
	lb := originate(t, c, "2000", 10*time.Second)
	waitFor(t, lb, dialtone.LegAnswered, 5*time.Second)
	if err := la.Bridge(context.Background(), lb); err != nil {
		t.Fatal(err)
	}
	// A presses 4 and 7 about a second into the bridge.
	var keys string
	deadline := time.After(5 * time.Second)
	for len(keys) < 2 {
		select {
		case ev := <-la.Events():
			if ev.Kind == dialtone.LegDTMF {
				keys += ev.Digits
			}
		case <-deadline:
			t.Fatalf("keys on leg A so far %q", keys)
		}
	}
	if keys != "47" {
		t.Errorf("leg A reported keys %q, want 47", keys)
	}
	time.Sleep(1200 * time.Millisecond)
	ctx := context.Background()
	_ = la.Hangup(ctx)
	_ = lb.Hangup(ctx)
	waitClosed(t, la, 5*time.Second)
	waitClosed(t, lb, 5*time.Second)

	ub.mu.Lock()
	bKeys := ub.heardKeys
	ub.mu.Unlock()
	if bKeys != "47" {
		t.Errorf("B received RFC 4733 keys %q, want 47", bKeys)
	}
	check := func(name string, u *testUAS, want, own float64) {
		u.mu.Lock()
		heard := append([]int16(nil), u.heard...)
		u.mu.Unlock()
		w, o, n := toneShares(heard, want, own)
		t.Logf("%s heard %v: %.0f Hz share %.2f, own %.0f Hz share %.2f, %d audible windows", name,
			time.Duration(len(heard))*time.Second/sampleRate, want, w, own, o, n)
		if w < 0.5 || o > 0.05 || n < 5 {
			t.Errorf("%s: did not hear the other party's tone alone", name)
		}
	}
	check("A", ua, freqB, freqA)
	check("B", ub, freqA, freqB)

	wav := la.Recording()
	pcm, err := media.DecodeWAV(bytes.NewReader(wav))
	if err != nil {
		t.Fatal(err)
	}
	if pcm.Channels != 2 || pcm.Rate != sampleRate {
		t.Fatalf("recording %d channels at %d Hz", pcm.Channels, pcm.Rate)
	}
	left := make([]int16, pcm.Frames())
	right := make([]int16, pcm.Frames())
	for i := range left {
		left[i], right[i] = pcm.Samples[2*i], pcm.Samples[2*i+1]
	}
	// Left: what A heard, B's voice. Right: what A said.
	if w, o, _ := toneShares(left, freqB, freqA); w < 0.5 || o > 0.05 {
		t.Errorf("recording left channel: B's tone share %.2f, A's %.2f", w, o)
	}
	if w, o, _ := toneShares(right, freqA, freqB); w < 0.5 || o > 0.05 {
		t.Errorf("recording right channel: A's tone share %.2f, B's %.2f", w, o)
	}
	st := la.Stats()
	if st["packets_received"] == "0" || st["dtmf_relayed"] != "" {
		t.Errorf("leg A stats %v", st)
	}
	if st := lb.Stats(); st["dtmf_relayed"] != "2" || st["codec"] != CodecPCMA {
		t.Errorf("leg B stats %v", st)
	}
}

func TestBridgeRefusesForeignLeg(t *testing.T) {
	u := startUAS(t, &testUAS{})
	c := newTestCarrier(t, u.addr, nil)
	l := originate(t, c, "13800000000", 10*time.Second)
	waitFor(t, l, dialtone.LegAnswered, 5*time.Second)
	if err := l.Bridge(context.Background(), l); err == nil {
		t.Error("bridged a leg to itself")
	}
	if err := l.Bridge(context.Background(), foreignLeg{}); err == nil {
		t.Error("bridged to a leg of another carrier")
	}
	// Let the far end see our ACK before the BYE: sipgo handles each UDP
	// message in its own goroutine.
	time.Sleep(200 * time.Millisecond)
	_ = l.Hangup(context.Background())
	waitClosed(t, l, 5*time.Second)
}

type foreignLeg struct{ dialtone.Leg }
