package mns

import "sync"

// Waker wakes the long polls of a queue when messages may have arrived. The
// in-process LocalWaker serves a single node; a multi-node store (PostgreSQL
// LISTEN/NOTIFY) implements the same two methods.
type Waker interface {
	// Wait returns a channel that is closed at the next Wake of queue.
	// Callers call Wait before they look at the queue, so that a message
	// arriving between the look and the wait is not missed.
	Wait(queue string) <-chan struct{}
	// Wake releases every current waiter of queue.
	Wake(queue string)
}

// LocalWaker is a Waker for one process. The zero value is ready to use.
type LocalWaker struct {
	mu sync.Mutex
	// One channel per queue with waiters, closed (and forgotten) by Wake:
	// closing is a broadcast that never blocks the waker.
	ch map[string]chan struct{}
}

// Wait implements Waker.
func (l *LocalWaker) Wait(queue string) <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ch == nil {
		l.ch = map[string]chan struct{}{}
	}
	c, ok := l.ch[queue]
	if !ok {
		c = make(chan struct{})
		l.ch[queue] = c
	}
	return c
}

// Wake implements Waker.
func (l *LocalWaker) Wake(queue string) {
	l.mu.Lock()
	c, ok := l.ch[queue]
	if ok {
		delete(l.ch, queue)
	}
	l.mu.Unlock()
	if ok {
		close(c)
	}
}
