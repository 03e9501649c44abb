package sip

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/internal/streamtest"
	"github.com/dialtone-voice/dialtone/media"
)

// TestE2EStreamOverSIP: a SmartCall through the engine and this carrier
// connected to a media stream application on loopback (the account's
// smartcall_stream_url). The application plays a second of tone: the user
// agent hears it as RTP; 200 ms in, the application sends clear, and the
// tone stops within 40 ms on the media timeline (the RTP timestamps of the
// packets the user agent received after the clear left the application).
// The user agent says an espeak-ng phrase, which the application receives
// sample for sample, and presses a key, which arrives as a dtmf event.
// The application's hangup ends the call with a BYE.
func TestE2EStreamOverSIP(t *testing.T) {
	ctx := context.Background()
	phrase, err := (&media.ESpeak{}).Speak(ctx, "hello from the phone", "en", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	ref := media.DecodeMuLaw(media.EncodeMuLaw(phrase.Samples))
	say := append(make([]int16, 2*sampleRate/10), phrase.Samples...)
	say = append(say, make([]int16, sampleRate/2)...)
	u := startUAS(t, &testUAS{say: say, sayAt: 1500 * time.Millisecond, keys: "5", keysAt: 1200 * time.Millisecond})
	e := newE2E(t, u.addr)
	toneFrames := tone(time.Second, 1000, 8000).Samples
	clearSent := make(chan time.Time, 1)
	app := streamtest.Start(streamtest.Config{Lead: -1, Script: func(ctx context.Context, s *streamtest.Session) {
		if err := s.Stream.WriteAudio(ctx, toneFrames); err != nil {
			return
		}
		// Once the far end has heard 200 ms of it: barge-in.
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
			loud := 0
			for _, p := range u.packets() {
				if p.loud {
					loud++
				}
			}
			if loud >= 10 {
				break
			}
		}
		clearSent <- time.Now()
		if err := s.Stream.Clear(ctx); err != nil {
			return
		}
		// Until the key and as much audio as the far end's phrase needs
		// have come (cheap to check at every message: the match is
		// computed once, after).
		need := int(1500*time.Millisecond/frameTime)*frameSamples + len(say)
		ok := s.Wait(15*time.Second, func(s *streamtest.Session) bool {
			return len(s.DTMF()) > 0 && len(s.PCM("inbound")) >= need
		})
		reason := "done"
		if !ok {
			// Ended all the same, so that the test reports what was heard
			// instead of waiting for a call that nothing ends.
			reason = fmt.Sprintf("not heard in 15 s: keys %q, %d of %d samples", strings.Join(s.DTMF(), ""), len(s.PCM("inbound")), need)
		}
		_ = s.Stream.Hangup(ctx, reason)
	}})
	defer app.Close()
	got := e.run(dialtone.KindSmartCall, &dialtone.CallPlan{
		Prompt: []dialtone.Prompt{{Text: "unused", Voice: "en", Code: "TTS_1"}},
		Smart:  &dialtone.SmartPlan{MuteTime: 10 * time.Second},
		Stream: &dialtone.StreamPlan{URL: app.URL, Trusted: true},
	})
	if got.StatusCode != dialtone.StatusCompleted || got.Reason != "stream hangup: done" {
		t.Fatalf("call ended %s (%s) %q", got.StatusCode, got.StatusMsg, got.Reason)
	}
	select {
	case <-u.bye:
	case <-time.After(5 * time.Second):
		t.Fatal("far end got no BYE")
	}
	s := app.WaitSession(1, time.Second)
	if s == nil {
		t.Fatal("no stream")
	}
	if keys := strings.Join(s.DTMF(), ""); keys != "5" {
		t.Errorf("keys %q", keys)
	}
	// Sample for sample (the phrase went through G.711 once): at least
	// 9 of 10 of its loud 100 ms chunks are found as they are; a loaded
	// machine's late packets may cost one.
	if m := streamtest.ChunkMatch(s.PCM("inbound"), ref, 0.98); m < 0.9 {
		t.Errorf("%.0f%% of the far end's phrase reached the application as it was said", 100*m)
	} else {
		t.Logf("%.0f%% of the far end's phrase reached the application as it was said", 100*m)
	}
	// clear: the tone the far end heard after the clear left the
	// application, on the media timeline.
	var t0 time.Time
	select {
	case t0 = <-clearSent:
	default:
		t.Fatal("no clear sent")
	}
	pkts := u.packets()
	first := -1
	lastLoud := -1
	loudBefore := 0
	for i, p := range pkts {
		if p.at.Before(t0) {
			if p.loud {
				loudBefore++
			}
			continue
		}
		if first < 0 {
			first = i
		}
		if p.loud && i-first < 50 { // the tone, not the far end's own echo later
			lastLoud = i
		}
	}
	if loudBefore < 10 || first < 0 {
		t.Fatalf("%d loud packets before the clear, first after it %d", loudBefore, first)
	}
	played := time.Duration(0)
	if lastLoud >= first {
		played = time.Duration(pkts[lastLoud].ts-pkts[first].ts+frameSamples) * time.Second / sampleRate
	}
	t.Logf("clear: %v of tone played after the clear left the application (media timeline); last tone packet %v after it (wall)",
		played, func() time.Duration {
			if lastLoud < 0 {
				return 0
			}
			return pkts[lastLoud].at.Sub(t0)
		}())
	if played > 40*time.Millisecond {
		t.Errorf("%v of tone after clear, want at most 40 ms", played)
	}
	// And the clear did cut it: of the second of tone queued, the far end
	// heard what played before the clear.
	loud := 0
	for _, p := range pkts[:min(first+50, len(pkts))] {
		if p.loud {
			loud++
		}
	}
	if loud > loudBefore+2 || loud >= 45 {
		t.Errorf("%d tone packets heard, %d of them before the clear: the clear did not cut the second of tone", loud, loudBefore)
	}
	// The stream's figures are with the call.
	var sd map[string]string
	for _, ev := range e.events(got.ID) {
		if ev.Type == "ended" {
			sd = ev.Detail
		}
	}
	if sd[dialtone.DetailStreamEnd] != "hangup" || sd[dialtone.DetailStreamRole] != "agent" || sd[dialtone.DetailStreamFramesIn] != "50" {
		t.Errorf("ended detail %v", sd)
	}
}

// TestE2EStreamKilledOverSIP: an application that dies mid-call ends the
// call by the stream's fallback (hangup by default), the reason recorded,
// and the far end gets its BYE.
func TestE2EStreamKilledOverSIP(t *testing.T) {
	u := startUAS(t, &testUAS{})
	e := newE2E(t, u.addr)
	var app *streamtest.App
	app = streamtest.Start(streamtest.Config{Lead: -1, Script: func(ctx context.Context, s *streamtest.Session) {
		time.Sleep(300 * time.Millisecond)
		app.Kill()
	}})
	defer app.Close()
	got := e.run(dialtone.KindSmartCall, &dialtone.CallPlan{
		Prompt: []dialtone.Prompt{{Text: "unused", Voice: "en", Code: "TTS_1"}},
		Smart:  &dialtone.SmartPlan{MuteTime: 10 * time.Second},
		Stream: &dialtone.StreamPlan{URL: app.URL, Trusted: true},
	})
	if !regexp.MustCompile(`^stream (failed|closed) \(.+\); fallback hangup$`).MatchString(got.Reason) || got.HangupDirection != "机器" {
		t.Errorf("ended %s %q by %s", got.StatusCode, got.Reason, got.HangupDirection)
	}
	select {
	case <-u.bye:
	case <-time.After(5 * time.Second):
		t.Fatal("far end got no BYE")
	}
}
