package engine

import (
	"sync"
	"time"
)

// NetworkClock is a scaled clock whose scale may change while it runs:
// the simulated network of a cluster is shared, and when its time_scale
// changes every node takes the new scale at once. Each call anchors a
// clock of its own at its start (see callClock), so a call keeps the scale
// it started with; the network's own timers (a subscriber's ringing,
// answering, hanging up) take a new scale from the next timer on. Now
// runs on without a jump across a change.
type NetworkClock struct {
	mu       sync.Mutex
	scale    float64
	realBase time.Time // wall time of the last change, with its monotonic reading
	virtBase time.Time // clock time then, without one
}

var _ Clock = (*NetworkClock)(nil)

// NewNetworkClock returns a clock running at scale (<= 0: 1), starting at
// wall now.
func NewNetworkClock(scale float64) *NetworkClock {
	now := time.Now()
	return &NetworkClock{scale: normScale(scale), realBase: now, virtBase: now.Round(0)}
}

func normScale(s float64) float64 {
	if s <= 0 {
		return 1
	}
	return s
}

// Scale is the current scale.
func (c *NetworkClock) Scale() float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.scale
}

// SetScale changes the scale from now on.
func (c *NetworkClock) SetScale(scale float64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	c.virtBase = c.nowLocked(now)
	c.realBase = now
	c.scale = normScale(scale)
}

func (c *NetworkClock) nowLocked(wall time.Time) time.Time {
	return c.virtBase.Add(time.Duration(float64(wall.Sub(c.realBase)) / c.scale))
}

// Now implements Clock.
func (c *NetworkClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nowLocked(time.Now())
}

func (c *NetworkClock) wall(d time.Duration) time.Duration {
	c.mu.Lock()
	s := c.scale
	c.mu.Unlock()
	if d <= 0 {
		return 0
	}
	return max(time.Duration(float64(d)*s), 1)
}

// NewTimer implements Clock at the current scale.
func (c *NetworkClock) NewTimer(d time.Duration) *time.Timer { return time.NewTimer(c.wall(d)) }

// AfterFunc implements Clock at the current scale.
func (c *NetworkClock) AfterFunc(d time.Duration, f func()) *time.Timer {
	return time.AfterFunc(c.wall(d), f)
}

// Anchor starts a call's own timeline at the current scale (anchorer).
func (c *NetworkClock) Anchor() Clock { return ScaledClock(c.Scale()) }
