package sip

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/carrier/route"
	"github.com/dialtone-voice/dialtone/carrier/sim"
	"github.com/dialtone-voice/dialtone/engine"
	"github.com/dialtone-voice/dialtone/media"
)

// Mixed calls: one leg routed to a SIP trunk (a sipgo user agent on
// loopback), the other to the simulated network, as route.Carrier places
// them when trunks are routed for some numbers only.

const (
	crossAccount = "1000001"
	sipNumber    = "8613800000001" // routed to the trunk
	simNumber    = "13900000002"   // not routed: the simulated network
)

// crossCarrier routes sipNumber to u and everything else to a simulated
// network on clock with the subscriber simNumber behaving as sub.
func crossCarrier(t *testing.T, u *testUAS, clock sim.Clock, scale float64, sub sim.Behavior) (*route.Carrier, *sim.Network) {
	t.Helper()
	c := newTestCarrier(t, u.addr, func(cfg *Config) {
		cfg.Routes = []Route{{Prefix: "86", Trunk: "t"}}
		cfg.DefaultTrunk = ""
	})
	net := sim.New(&sim.Config{TimeScale: scale, Default: sim.DefaultBehavior,
		Subscribers: []sim.Subscriber{{Number: simNumber, Behavior: sub}}}, clock)
	return &route.Carrier{Trunks: c, Default: net}, net
}

func crossLeg(t *testing.T, c dialtone.Carrier, name, to string) dialtone.Leg {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	l, err := c.Originate(ctx, dialtone.OriginateRequest{CallID: t.Name(), Leg: name, AccountUID: crossAccount, To: to,
		From: "05710000000", RingTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, l, dialtone.LegAnswered, 5*time.Second)
	return l
}

func kinds(tr []sim.TranscriptEntry) []string {
	var out []string
	for _, e := range tr {
		out = append(out, e.Kind)
	}
	return out
}

func entryText(tr []sim.TranscriptEntry, kind string) string {
	for _, e := range tr {
		if e.Kind == kind {
			return e.Text
		}
	}
	return ""
}

// loudFrames counts the 20 ms frames of x louder than rms 1000.
func loudFrames(x []int16) int {
	n := 0
	for i := 0; i+frameSamples <= len(x); i += frameSamples {
		var sum float64
		for _, v := range x[i : i+frameSamples] {
			sum += float64(v) * float64(v)
		}
		if sum/frameSamples > 1000*1000 {
			n++
		}
	}
	return n
}

// channels splits a stereo WAV.
func channels(t *testing.T, wav []byte) (left, right []int16) {
	t.Helper()
	pcm, err := media.DecodeWAV(bytes.NewReader(wav))
	if errors.Is(err, media.ErrTooLong) {
		// A recording on a scaled clock spans the call's clock time:
		// minutes of it for a few seconds of test. The simulated network
		// writes a plain 44-byte header.
		if len(wav) < 44 || string(wav[36:40]) != "data" {
			t.Fatalf("recording: %v", err)
		}
		for i := 44; i+3 < len(wav); i += 4 {
			left = append(left, int16(binary.LittleEndian.Uint16(wav[i:])))
			right = append(right, int16(binary.LittleEndian.Uint16(wav[i+2:])))
		}
		return left, right
	}
	if err != nil {
		t.Fatal(err)
	}
	if pcm.Channels != 2 || pcm.Rate != sampleRate {
		t.Fatalf("recording %d channels at %d Hz", pcm.Channels, pcm.Rate)
	}
	for i := 0; i+1 < len(pcm.Samples); i += 2 {
		left, right = append(left, pcm.Samples[i]), append(right, pcm.Samples[i+1])
	}
	return left, right
}

// waitExchange waits (bounded) until the SIP phone heard the simulated
// party's voice and its keys, and the simulated party heard the phone's
// speech and keys.
func waitExchange(t *testing.T, u *testUAS, net *sim.Network, wantUAKeys, wantSimKeys string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		u.mu.Lock()
		loud, keys := loudFrames(u.heard), u.heardKeys
		u.mu.Unlock()
		tr := net.Transcript(t.Name())
		ks := kinds(tr)
		if loud >= 25 && keys == wantUAKeys && slices.Contains(ks, "heard") && slices.Contains(ks, "voice") &&
			entryText(tr, "heard_dtmf") == wantSimKeys {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("SIP phone heard %d loud frames and keys %q; sim transcript %v", loud, keys, ks)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestCrossBridgeSIPToSim: the engine's ClickToDial order with the caller
// on a trunk: SIP.Bridge(sim). Each party hears the other, keys cross both
// ways, both recordings hold both parties, and the phone's hang-up ends the
// call cleanly.
func TestCrossBridgeSIPToSim(t *testing.T) {
	const freq = 600
	u := startUAS(t, &testUAS{codec: CodecPCMA, toneHz: freq, toneFor: 4 * time.Second, keys: "5",
		keysAt: 1500 * time.Millisecond, byeAfter: 3 * time.Second})
	// 0.01: the simulated network runs 100 times faster than the RTP.
	rc, net := crossCarrier(t, u, engine.ScaledClock(0.01), 0.01, sim.Behavior{Result: sim.ResultAnswer,
		AnswerAfter: time.Second, Say: []string{"喂，你好"}, DTMF: []sim.DTMF{{At: 200 * time.Second, Digits: "7"}}})
	ctx := context.Background()
	la := crossLeg(t, rc, "A", sipNumber)
	if err := la.Record(ctx); err != nil {
		t.Fatal(err)
	}
	lb := crossLeg(t, rc, "B", simNumber)
	if err := lb.Record(ctx); err != nil {
		t.Fatal(err)
	}
	if err := la.Bridge(ctx, lb); err != nil {
		t.Fatal(err)
	}
	waitExchange(t, u, net, "7", "5")
	// The phone hangs up; the engine then hangs up the other leg.
	ev, _ := waitFor(t, la, dialtone.LegHangup, 10*time.Second)
	if ev.Detail["by"] != "callee" {
		t.Errorf("hangup %v", ev.Detail)
	}
	if err := lb.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	waitClosed(t, la, 5*time.Second)
	waitClosed(t, lb, 5*time.Second)

	// SIP recording: left what the phone heard (the simulated voice),
	// right what it said (its tone).
	left, right := channels(t, la.Recording())
	if n := loudFrames(left); n < 25 {
		t.Errorf("SIP recording left channel: %d loud frames of the simulated voice", n)
	}
	if share, _, _ := toneShares(right, freq, 1000); share < 0.5 {
		t.Errorf("SIP recording right channel: tone share %.2f", share)
	}
	// Sim recording: channel 0 what the subscriber heard (the phone's
	// tone), channel 1 its own voice.
	left, right = channels(t, lb.Recording())
	if share, _, n := toneShares(left, freq, 1000); share < 0.5 || n < 5 {
		t.Errorf("sim recording channel 0: tone share %.2f over %d audible windows", share, n)
	}
	if n := loudFrames(right); n < 25 {
		t.Errorf("sim recording channel 1: %d loud frames of its voice", n)
	}
	tr := net.Transcript(t.Name())
	if got := entryText(tr, "voice"); got != "喂，你好" {
		t.Errorf("sim voice %q; transcript %v", got, kinds(tr))
	}
	if st := la.Stats(); st["dtmf_relayed"] != "1" {
		t.Errorf("SIP leg stats %v", st)
	}
}

// TestCrossBridgeSimToSIP: the other order, sim.Bridge(SIP), as when the
// caller is on the simulated network; here the simulated subscriber hangs
// up (hangup_after, on its own clock) and the phone gets its BYE.
func TestCrossBridgeSimToSIP(t *testing.T) {
	const freq = 1000
	u := startUAS(t, &testUAS{toneHz: freq, toneFor: 4 * time.Second, keys: "2", keysAt: 1500 * time.Millisecond})
	rc, net := crossCarrier(t, u, engine.ScaledClock(0.01), 0.01, sim.Behavior{Result: sim.ResultAnswer,
		AnswerAfter: time.Second, HangupAfter: 450 * time.Second, DTMF: []sim.DTMF{{At: 200 * time.Second, Digits: "9"}}})
	ctx := context.Background()
	la := crossLeg(t, rc, "A", simNumber)
	if err := la.Record(ctx); err != nil {
		t.Fatal(err)
	}
	lb := crossLeg(t, rc, "B", sipNumber)
	if err := la.Bridge(ctx, lb); err != nil {
		t.Fatal(err)
	}
	waitExchange(t, u, net, "9", "2")
	waitFor(t, la, dialtone.LegHangup, 15*time.Second)
	if err := lb.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	waitClosed(t, la, 5*time.Second)
	waitClosed(t, lb, 5*time.Second)
	select {
	case <-u.bye:
	case <-time.After(5 * time.Second):
		t.Error("the phone got no BYE")
	}
	left, _ := channels(t, la.Recording())
	if share, _, n := toneShares(left, freq, 600); share < 0.5 || n < 5 {
		t.Errorf("sim recording channel 0: tone share %.2f over %d audible windows", share, n)
	}
	if got := entryText(net.Transcript(t.Name()), "voice"); got != "(simulated voice)" {
		t.Errorf("sim voice %q", got)
	}
}

type thirdLeg struct{ dialtone.Leg }

// TestCrossBridgeRefused: a leg that ended, or a leg whose carrier has no
// cross-carrier media, is refused with an error, in either order.
func TestCrossBridgeRefused(t *testing.T) {
	u := startUAS(t, &testUAS{})
	rc, _ := crossCarrier(t, u, engine.RealClock{}, 1, sim.Behavior{Result: sim.ResultAnswer, AnswerAfter: 50 * time.Millisecond})
	ctx := context.Background()
	ls := crossLeg(t, rc, "A", sipNumber)
	ended := crossLeg(t, rc, "B", simNumber)
	_ = ended.Hangup(ctx)
	if err := ls.Bridge(ctx, ended); !errors.Is(err, sim.ErrLegEnded) {
		t.Errorf("SIP.Bridge(ended sim leg): %v", err)
	}
	if err := ended.Bridge(ctx, ls); !errors.Is(err, sim.ErrLegEnded) {
		t.Errorf("ended sim.Bridge(SIP): %v", err)
	}
	err := ls.Bridge(ctx, thirdLeg{})
	if !errors.Is(err, dialtone.ErrNoMediaBridge) {
		t.Errorf("SIP.Bridge(third kind of leg): %v", err)
	}
	t.Logf("third kind of leg: %v", err)
	lm := crossLeg(t, rc, "C", simNumber)
	if err := lm.Bridge(ctx, thirdLeg{}); !errors.Is(err, dialtone.ErrNoMediaBridge) {
		t.Errorf("sim.Bridge(third kind of leg): %v", err)
	}
	time.Sleep(200 * time.Millisecond) // let the far end see our ACK before the BYE
	_ = ls.Hangup(ctx)
	waitClosed(t, ls, 5*time.Second)
	if err := lm.Bridge(ctx, ls); !errors.Is(err, errLegEnded) {
		t.Errorf("sim.Bridge(ended SIP leg): %v", err)
	}
	if err := ls.Bridge(ctx, lm); !errors.Is(err, errLegEnded) {
		t.Errorf("ended SIP.Bridge(sim): %v", err)
	}
	_ = lm.Hangup(ctx)
}

// TestCrossBridgeClickToDial: a ClickToDial through the engine whose
// caller is on a trunk and whose callee is on the simulated network
// completes normally, recorded, with both parties heard.
func TestCrossBridgeClickToDial(t *testing.T) {
	u := startUAS(t, &testUAS{toneHz: 600, toneFor: 5 * time.Second})
	// The engine and the network share one clock, as in a server; real
	// time here, so the trunk's ring timeout means what it says.
	rc, net := crossCarrier(t, u, engine.RealClock{}, 1, sim.Behavior{Result: sim.ResultAnswer,
		AnswerAfter: 200 * time.Millisecond, HangupAfter: 3 * time.Second})
	ctx := context.Background()
	st := newAccountStore(t, crossAccount)
	recDir := t.TempDir()
	eng := engine.New(engine.Config{
		Store:   st,
		Carrier: rc,
		Renderer: engine.RendererFunc(func(context.Context, dialtone.Prompt, int, int) (*dialtone.Audio, error) {
			return nil, errors.New("no prompts in a click-to-dial")
		}),
		Clock:       engine.RealClock{},
		Node:        "x",
		Logger:      quietLog,
		RingTimeout: 10 * time.Second,
		Recordings:  engine.RecordDir(recDir),
	})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		eng.Shutdown(ctx)
	})
	params, err := dialtone.EncodePlan(&dialtone.CallPlan{Record: true})
	if err != nil {
		t.Fatal(err)
	}
	c := &dialtone.Call{
		ID: fmt.Sprintf("116000000001^%d", time.Now().UnixNano()%1e9), AccountUID: crossAccount,
		Kind: dialtone.KindClickToDial, ProdID: dialtone.ProdIDFor(dialtone.KindClickToDial, false),
		Caller: sipNumber, Callee: simNumber, CallerShowNumber: "057100000001", CalleeShowNumber: "057100000002",
		Params: params, State: dialtone.CallQueued, CreatedAt: time.Now(), Version: 1,
	}
	if err := st.CreateCall(ctx, c, nil); err != nil {
		t.Fatal(err)
	}
	if err := eng.Start(ctx, c); err != nil {
		t.Fatal(err)
	}
	var got *dialtone.Call
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if got, err = st.GetCall(ctx, crossAccount, c.ID); err != nil {
			t.Fatal(err)
		}
		if got.State == dialtone.CallEnded {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("call still %s", got.State)
		}
	}
	evs, err := st.ListCallEvents(ctx, crossAccount, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	var file string
	for _, ev := range evs {
		types = append(types, ev.Type)
		if ev.Type == "recording" {
			file = ev.Detail["file"]
		}
	}
	if got.StatusCode != dialtone.StatusCompleted || got.SmartStatusCode != engine.SmartAnswered || got.HangupDirection != engine.HangupUser {
		t.Fatalf("call ended %s/%s by %q (%q); events %v", got.StatusCode, got.SmartStatusCode, got.HangupDirection, got.Reason, types)
	}
	select {
	case <-u.bye:
	case <-time.After(5 * time.Second):
		t.Error("the caller's phone got no BYE")
	}
	if n := func() int { u.mu.Lock(); defer u.mu.Unlock(); return loudFrames(u.heard) }(); n < 25 {
		t.Errorf("the caller heard %d loud frames of the callee", n)
	}
	tr := net.Transcript(c.ID)
	if ks := kinds(tr); !slices.Contains(ks, "heard") || !slices.Contains(ks, "voice") || !slices.Contains(ks, "bridge") {
		t.Errorf("callee transcript %v", ks)
	}
	wav, err := os.ReadFile(filepath.Join(recDir, file))
	if err != nil {
		t.Fatalf("recording: %v (events %v)", err, types)
	}
	left, right := channels(t, wav)
	if loudFrames(left) < 25 || loudFrames(right) < 25 {
		t.Errorf("recording: %d loud frames of the callee, %d of the caller", loudFrames(left), loudFrames(right))
	}
}
