package engine

import (
	"testing"
	"time"
)

func TestNetworkClockScaleChange(t *testing.T) {
	c := NewNetworkClock(0.01)
	if _, ok := c.Anchor().(RealClock); ok {
		t.Fatal("a call anchored at scale 0.01 runs on wall time")
	}
	time.Sleep(20 * time.Millisecond)
	before := c.Now()
	c.SetScale(1)
	after := c.Now()
	// About 2 s of clock time passed at 0.01; the change does not jump.
	if d := after.Sub(before); d < 0 || d > 500*time.Millisecond {
		t.Errorf("Now jumped by %v across the change", d)
	}
	if _, ok := c.Anchor().(RealClock); !ok {
		t.Errorf("a call anchored at scale 1 should run on wall time, got %T", c.Anchor())
	}
	start := time.Now()
	tm := c.NewTimer(30 * time.Millisecond)
	<-tm.C
	if d := time.Since(start); d < 25*time.Millisecond {
		t.Errorf("a 30 ms timer at scale 1 fired after %v", d)
	}
	c.SetScale(0.001)
	start = time.Now()
	tm = c.NewTimer(10 * time.Second)
	<-tm.C
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("a 10 s timer at scale 0.001 took %v", d)
	}
	if c.Scale() != 0.001 {
		t.Errorf("scale %v", c.Scale())
	}
}
