package engine

import (
	"context"
	"time"
)

// Clock is the engine's time source. Every engine timeout, every simulated
// network delay and every playback runs on it, so a scaled clock makes a
// 30 s call take 0.3 s of wall time in tests and load runs.
//
// Timers are plain *time.Timer values armed for the wall-time equivalent of
// the requested clock duration; read the current clock time with Now rather
// than trusting the value a timer delivers.
type Clock interface {
	Now() time.Time
	// NewTimer fires after d of clock time.
	NewTimer(d time.Duration) *time.Timer
	// AfterFunc calls f in its own goroutine after d of clock time.
	AfterFunc(d time.Duration, f func()) *time.Timer
}

// Sleep waits d of clock time or until ctx ends.
func Sleep(ctx context.Context, c Clock, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := c.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// RealClock is the wall clock.
type RealClock struct{}

func (RealClock) Now() time.Time                                  { return time.Now() }
func (RealClock) NewTimer(d time.Duration) *time.Timer            { return time.NewTimer(d) }
func (RealClock) AfterFunc(d time.Duration, f func()) *time.Timer { return time.AfterFunc(d, f) }

// scaledClock runs virtual time 1/scale times faster than wall time,
// starting at the wall time it was made.
type scaledClock struct {
	scale     float64
	realStart time.Time // carries a monotonic reading, so Since is immune to wall-clock steps
}

// ScaledClock returns a clock whose time advances 1/scale times faster than
// wall time (scale 0.01: one virtual second per 10 ms), starting now. A
// scale of 1 or less than or equal to 0 returns RealClock.
func ScaledClock(scale float64) Clock {
	if scale <= 0 || scale == 1 {
		return RealClock{}
	}
	return &scaledClock{scale: scale, realStart: time.Now()}
}

func (c *scaledClock) Now() time.Time {
	elapsed := time.Since(c.realStart)
	// Strip the monotonic reading: virtual instants must not be compared
	// with wall instants through it.
	return c.realStart.Round(0).Add(time.Duration(float64(elapsed) / c.scale))
}

func (c *scaledClock) wall(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	w := time.Duration(float64(d) * c.scale)
	if w <= 0 {
		w = 1
	}
	return w
}

func (c *scaledClock) NewTimer(d time.Duration) *time.Timer { return time.NewTimer(c.wall(d)) }

func (c *scaledClock) AfterFunc(d time.Duration, f func()) *time.Timer {
	return time.AfterFunc(c.wall(d), f)
}

// anchorer is a clock that can start a fresh virtual timeline at the wall
// time of now. Each call runs on its own anchored clock, so a call's times
// stay close to wall time however long the server has been up: with one
// shared scaled clock, virtual time would run days ahead of the real
// creation times of calls (and of QueryDate windows) after an hour's uptime.
type anchorer interface {
	Anchor() Clock
}

// Anchor returns a scaled clock with the same scale starting at wall now.
func (c *scaledClock) Anchor() Clock { return &scaledClock{scale: c.scale, realStart: time.Now()} }

// callClock returns the clock one call runs on.
func callClock(c Clock) Clock {
	if a, ok := c.(anchorer); ok {
		return a.Anchor()
	}
	return c
}
