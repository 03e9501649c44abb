package sipbench

import (
	"context"
	"testing"
	"time"
)

// TestConcurrentFewCalls runs the concurrent-RTP measurement end to end
// at a size that takes a few seconds: five calls to the far-end child,
// one second measured.
func TestConcurrentFewCalls(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process and holds calls for seconds")
	}
	f := startFarEnd(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := RunConcurrent(ctx, f, 5, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	l := r.Lateness
	t.Logf("%+v, %.3f ms CPU per call-second, %.1f KB per call", l, r.CPUPerCall, r.KBPerCall)
	if l.Streams != 5 {
		t.Errorf("packets from %d streams, want 5", l.Streams)
	}
	// 50 packets a second each; allow for the edges of the window.
	if l.Packets < 5*40 || l.Packets > 5*60 {
		t.Errorf("%d packets in 1 s from 5 calls, want about 250", l.Packets)
	}
	if l.Max > time.Second {
		t.Errorf("a packet %v late: the stamps or the RTP timestamps are wrong", l.Max)
	}
	if r.CPUPerCall <= 0 {
		t.Errorf("CPU per call %v, want > 0", r.CPUPerCall)
	}
}
