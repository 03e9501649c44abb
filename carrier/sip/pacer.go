package sip

import (
	"runtime"
	"sync"
	"time"
)

// pacer sends a frame on every registered stream every 20 ms from a few
// shard goroutines: a ticker per call would be 50 wake-ups a second per
// call, while one loop over many calls costs one wake-up and a few µs per
// call. One loop alone, though, runs out of its 20 ms at a couple of
// thousand calls; shards spread the work over the CPUs, and their ticks
// are offset by 20 ms / shards so the sends spread over the period rather
// than all queue at its start.
//
// Within a shard streams are served in a stable order (a slice, not a map
// walk, whose order Go randomises): a stream's send time within the tick
// then stays put, so its packets keep their 20 ms spacing even when the
// loop takes several ms; in a random order each packet would land anywhere
// in it.
type pacer struct {
	mu      sync.Mutex
	shards  []*pacerShard
	where   map[*stream]*pacerShard
	next    int // round-robin position for the next stream
	stop    chan struct{}
	running bool
}

// pacerShard is one goroutine's share of the streams.
type pacerShard struct {
	mu    sync.Mutex
	order []*stream       // the send order
	index map[*stream]int // position in order
	list  []*stream       // reused snapshot, touched only by run
}

// maxPacerShards bounds the goroutines: past a few, the sends are limited
// by the socket writes, not by the loop.
const maxPacerShards = 8

func newPacer() *pacer {
	n := min(max(runtime.GOMAXPROCS(0), 1), maxPacerShards)
	p := &pacer{where: make(map[*stream]*pacerShard), stop: make(chan struct{})}
	for range n {
		p.shards = append(p.shards, &pacerShard{index: make(map[*stream]int)})
	}
	return p
}

func (p *pacer) add(s *stream) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.where[s]; ok {
		return
	}
	sh := p.shards[p.next%len(p.shards)]
	p.next++
	p.where[s] = sh
	sh.mu.Lock()
	sh.index[s] = len(sh.order)
	sh.order = append(sh.order, s)
	sh.mu.Unlock()
	if !p.running {
		p.running = true
		for i, sh := range p.shards {
			go sh.run(p.stop, time.Duration(i)*frameTime/time.Duration(len(p.shards)))
		}
	}
}

// remove moves the shard's last stream into the hole: one stream changes
// place, once, instead of every later one moving up.
func (p *pacer) remove(s *stream) {
	p.mu.Lock()
	sh, ok := p.where[s]
	delete(p.where, s)
	p.mu.Unlock()
	if !ok {
		return
	}
	sh.mu.Lock()
	defer sh.mu.Unlock()
	i, ok := sh.index[s]
	if !ok {
		return
	}
	last := len(sh.order) - 1
	sh.order[i] = sh.order[last]
	sh.index[sh.order[i]] = i
	sh.order[last] = nil
	sh.order = sh.order[:last]
	delete(sh.index, s)
}

func (p *pacer) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.stop:
	default:
		close(p.stop)
	}
}

// run ticks the shard's streams every frameTime, starting phase after the
// first shard.
func (sh *pacerShard) run(stop <-chan struct{}, phase time.Duration) {
	if phase > 0 {
		t := time.NewTimer(phase)
		select {
		case <-stop:
			t.Stop()
			return
		case <-t.C:
		}
	}
	t := time.NewTicker(frameTime)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		sh.mu.Lock()
		sh.list = append(sh.list[:0], sh.order...)
		list := sh.list
		sh.mu.Unlock()
		now := time.Now()
		for _, s := range list {
			s.tick()
			s.tickRTCP(now)
		}
	}
}
