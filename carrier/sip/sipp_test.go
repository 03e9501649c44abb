package sip

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone"
)

func TestSippBusy(t *testing.T) {
	p := startSipp(t, "busy.xml")
	c := newTestCarrier(t, p.addr, nil)
	l := originate(t, c, "13800000000", 10*time.Second)
	ev, seen := waitFor(t, l, dialtone.LegFailed, 10*time.Second)
	if ev.Reason != dialtone.FailBusy || ev.Detail["sip_status"] != "486" {
		t.Errorf("got %s %v", ev.Reason, ev.Detail)
	}
	if len(seen) != 1 || seen[0] != dialtone.LegTrying {
		t.Errorf("before failure: %v", seen)
	}
	waitClosed(t, l, 5*time.Second)
	p.wait(t, 5*time.Second)
}

func TestSippDecline(t *testing.T) {
	p := startSipp(t, "decline.xml")
	c := newTestCarrier(t, p.addr, nil)
	l := originate(t, c, "13800000000", 10*time.Second)
	ev, _ := waitFor(t, l, dialtone.LegFailed, 10*time.Second)
	if ev.Reason != dialtone.FailRejected || ev.Detail["sip_status"] != "603" {
		t.Errorf("got %s %v", ev.Reason, ev.Detail)
	}
	waitClosed(t, l, 5*time.Second)
	p.wait(t, 5*time.Second)
}

func TestSippNoAnswerCancels(t *testing.T) {
	p := startSipp(t, "noanswer.xml")
	c := newTestCarrier(t, p.addr, nil)
	start := time.Now()
	l := originate(t, c, "13800000000", 1500*time.Millisecond)
	waitFor(t, l, dialtone.LegRinging, 5*time.Second)
	ev, _ := waitFor(t, l, dialtone.LegFailed, 10*time.Second)
	if ev.Reason != dialtone.FailNoAnswer || ev.Detail["reason"] != "ring timeout" {
		t.Errorf("got %s %v", ev.Reason, ev.Detail)
	}
	if d := time.Since(start); d < 1400*time.Millisecond || d > 5*time.Second {
		t.Errorf("failed after %v, want about the 1.5 s ring timeout", d)
	}
	waitClosed(t, l, 5*time.Second)
	// SIPp passes only if it got our CANCEL and the ACK of its 487.
	p.wait(t, 5*time.Second)
}

// TestSippHangupWhileRinging: the platform gives up (Hangup) before the
// ring timeout; CANCEL goes out and no failure is reported.
func TestSippHangupWhileRinging(t *testing.T) {
	p := startSipp(t, "noanswer.xml")
	c := newTestCarrier(t, p.addr, nil)
	l := originate(t, c, "13800000000", 10*time.Second)
	waitFor(t, l, dialtone.LegRinging, 5*time.Second)
	if err := l.Hangup(context.Background()); err != nil {
		t.Fatal(err)
	}
	for ev := range l.Events() {
		if ev.Kind == dialtone.LegFailed {
			t.Errorf("failure reported after our own hangup: %+v", ev)
		}
	}
	p.wait(t, 5*time.Second)
}

// TestSippAnswerEcho: SIPp's built-in UAS answers and echoes our RTP; we
// play a tone, receive it back, and hang up with BYE.
func TestSippAnswerEcho(t *testing.T) {
	p := startSipp(t, "uas", "-rtp_echo")
	c := newTestCarrier(t, p.addr, nil)
	l := originate(t, c, "13800000000", 10*time.Second)
	ev, _ := waitFor(t, l, dialtone.LegAnswered, 10*time.Second)
	if ev.Detail["codec"] != CodecPCMU {
		t.Errorf("codec %q", ev.Detail["codec"])
	}
	if err := l.Record(context.Background()); err != nil {
		t.Fatal(err)
	}
	a := tone(time.Second, 440, 8000)
	start := time.Now()
	interrupted, err := l.Play(context.Background(), a, nil)
	if err != nil || interrupted {
		t.Fatalf("play: %v %v", interrupted, err)
	}
	if d := time.Since(start); d < 900*time.Millisecond || d > 1300*time.Millisecond {
		t.Errorf("1 s of audio played in %v", d)
	}
	time.Sleep(200 * time.Millisecond) // let the echo come back
	st := l.Stats()
	sent, _ := strconv.Atoi(st["packets_sent"])
	recv, _ := strconv.Atoi(st["packets_received"])
	if sent < 50 || recv < 40 {
		t.Errorf("stats %v", st)
	}
	if st["packets_lost"] != "0" {
		t.Errorf("loss over loopback: %v", st)
	}
	if err := l.Hangup(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitClosed(t, l, 5*time.Second)
	p.wait(t, 5*time.Second)
	wav := l.Recording()
	if len(wav) < 44+4*8000 {
		t.Errorf("recording of %d bytes", len(wav))
	}
}

// TestSippFarEndBye: the callee answers (PCMA) and hangs up first.
func TestSippFarEndBye(t *testing.T) {
	p := startSipp(t, "answer_bye.xml", "-rtp_echo")
	c := newTestCarrier(t, p.addr, nil)
	l := originate(t, c, "13800000000", 10*time.Second)
	ev, _ := waitFor(t, l, dialtone.LegAnswered, 10*time.Second)
	if ev.Detail["codec"] != CodecPCMA {
		t.Errorf("codec %q", ev.Detail["codec"])
	}
	ev, _ = waitFor(t, l, dialtone.LegHangup, 10*time.Second)
	if ev.Detail["by"] != "callee" {
		t.Errorf("hangup %v", ev.Detail)
	}
	waitClosed(t, l, 5*time.Second)
	p.wait(t, 5*time.Second)
	if st := l.Stats(); st["packets_received"] == "0" {
		t.Errorf("no echoed RTP: %v", st)
	}
}
