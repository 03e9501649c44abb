package outbound

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// ErrBusy is matched (errors.Is) by the error of a request that found its
// account or its destination at its cap and could not wait for a slot.
var ErrBusy = errors.New("outbound: too many requests in flight")

// BusyError says which cap a request found full.
type BusyError struct {
	Cap     string // "account" or "destination"
	Account string
	// Destination is scheme://host:port.
	Destination string
	Limit       int
}

func (e *BusyError) Error() string {
	if e.Cap == "account" {
		return fmt.Sprintf("outbound: account %q has %d requests in flight, its cap", e.Account, e.Limit)
	}
	return fmt.Sprintf("outbound: account %q has %d requests in flight to %s, the cap per destination", e.Account, e.Limit, e.Destination)
}

// Is makes errors.Is(err, ErrBusy) true.
func (e *BusyError) Is(target error) bool { return target == ErrBusy }

// limiter holds one counting semaphore per key, created on first use and
// dropped when its last holder or waiter leaves, so keys never pile up.
type limiter struct {
	size int
	mu   sync.Mutex
	sems map[string]*semaphore
}

type semaphore struct {
	slots chan struct{}
	refs  int // holders and waiters; guarded by limiter.mu
}

func newLimiter(size int) *limiter {
	return &limiter{size: size, sems: map[string]*semaphore{}}
}

func (l *limiter) get(key string) *semaphore {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.sems[key]
	if s == nil {
		s = &semaphore{slots: make(chan struct{}, l.size)}
		l.sems[key] = s
	}
	s.refs++
	return s
}

func (l *limiter) put(key string, s *semaphore) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s.refs--
	if s.refs == 0 {
		delete(l.sems, key)
	}
}

// acquire takes a slot of key. With wait <= 0 it fails at once when every
// slot is taken; otherwise it waits up to wait, and never past ctx. The
// error is errBusy for a full semaphore, or ctx's error.
func (l *limiter) acquire(ctx context.Context, key string, wait time.Duration) (release func(), err error) {
	if l.size <= 0 {
		return func() {}, nil
	}
	s := l.get(key)
	release = func() {
		<-s.slots
		l.put(key, s)
	}
	select {
	case s.slots <- struct{}{}:
		return release, nil
	default:
	}
	if wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case s.slots <- struct{}{}:
			return release, nil
		case <-ctx.Done():
			l.put(key, s)
			return nil, ctx.Err()
		case <-t.C:
		}
	}
	l.put(key, s)
	return nil, errBusy
}

var errBusy = errors.New("busy")

// inFlight reports the slots taken for key (for tests and metrics).
func (l *limiter) inFlight(key string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if s := l.sems[key]; s != nil {
		return len(s.slots)
	}
	return 0
}
