package sip

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// pacer sends a frame on every registered stream every 20 ms from a few
// shard goroutines: a ticker per call would be 50 wake-ups a second per
// call, while one loop over many calls costs one wake-up and a few µs per
// call. One loop alone, though, runs out of its 20 ms at a couple of
// thousand calls; shards spread the work over the CPUs.
//
// Each shard also spreads its streams over pacerSlots slots of the 20 ms
// frame and wakes once per slot, serving only that slot's streams. Sending
// every stream at the start of the frame would make a burst of several ms
// at a couple of thousand calls: the streams at its end are sent late by
// the length of the burst, and by anything that delays the burst (another
// process taking the CPU, the garbage collector), while a slot's burst is
// a tenth as long, and a delay hits only the streams of the slots it
// overlaps.
//
// Within a slot streams are served in a stable order (a slice, not a map
// walk, whose order Go randomises): a stream's send time within the slot
// then stays put, so its packets keep their 20 ms spacing.
type pacer struct {
	mu      sync.Mutex
	shards  []*pacerShard
	where   map[*rtpSession]*pacerShard
	next    int // round-robin position for the next stream
	stop    chan struct{}
	running bool
}

// pacerSlots is how many parts of the frame a shard's streams are spread
// over: 2 ms slots, so a shard wakes 500 times a second however many calls
// it carries.
const pacerSlots = 10

// slotTime is the length of one slot.
const slotTime = frameTime / pacerSlots

// pacerShard is one goroutine's share of the streams.
type pacerShard struct {
	mu    sync.Mutex
	slots [pacerSlots][]*rtpSession // each slot's streams in send order
	index map[*rtpSession]slotPos   // where each stream is
	list  []*rtpSession             // reused snapshot, touched only by run
	// wake tells a shard sleeping without streams that one was added.
	wake chan struct{}
	// turns counts the slots run served (tests: an idle shard sleeps).
	turns atomic.Int64
}

// slotPos is a stream's place in its shard.
type slotPos struct{ slot, i int }

// maxPacerShards bounds the goroutines: past a few, the sends are limited
// by the socket writes, not by the loop.
const maxPacerShards = 8

func newPacer() *pacer {
	n := min(max(runtime.GOMAXPROCS(0), 1), maxPacerShards)
	p := &pacer{where: make(map[*rtpSession]*pacerShard), stop: make(chan struct{})}
	for range n {
		p.shards = append(p.shards, &pacerShard{index: make(map[*rtpSession]slotPos), wake: make(chan struct{}, 1)})
	}
	return p
}

func (p *pacer) add(s *rtpSession) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.where[s]; ok {
		return
	}
	sh := p.shards[p.next%len(p.shards)]
	p.next++
	p.where[s] = sh
	sh.add(s)
	if !p.running {
		p.running = true
		// Shards are offset by a share of a slot, so their wake-ups do
		// not coincide either.
		for i, sh := range p.shards {
			go sh.run(p.stop, time.Duration(i)*slotTime/time.Duration(len(p.shards)))
		}
	}
}

// add puts s at the end of the shard's least-loaded slot.
func (sh *pacerShard) add(s *rtpSession) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	best := 0
	for i := range sh.slots {
		if len(sh.slots[i]) < len(sh.slots[best]) {
			best = i
		}
	}
	sh.index[s] = slotPos{best, len(sh.slots[best])}
	sh.slots[best] = append(sh.slots[best], s)
	if len(sh.index) == 1 {
		select {
		case sh.wake <- struct{}{}:
		default: // already told
		}
	}
}

// remove takes s off the pacer.
func (p *pacer) remove(s *rtpSession) {
	p.mu.Lock()
	sh, ok := p.where[s]
	delete(p.where, s)
	p.mu.Unlock()
	if !ok {
		return
	}
	sh.mu.Lock()
	defer sh.mu.Unlock()
	sh.takeLocked(s)
}

// takeLocked takes s out of its slot, moving the slot's last stream into
// the hole: one stream changes place, once, instead of every later one
// moving up. It returns where s was.
func (sh *pacerShard) takeLocked(s *rtpSession) (slotPos, bool) {
	pos, ok := sh.index[s]
	if !ok {
		return pos, false
	}
	order := sh.slots[pos.slot]
	last := len(order) - 1
	order[pos.i] = order[last]
	sh.index[order[pos.i]] = pos
	order[last] = nil
	sh.slots[pos.slot] = order[:last]
	delete(sh.index, s)
	return pos, true
}

// move puts s by slots later (earlier when negative) in the frame, at the
// end of that slot: its next packet leaves that much later (or earlier)
// than the 20 ms after its last.
func (sh *pacerShard) move(s *rtpSession, by int) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	pos, ok := sh.takeLocked(s)
	if !ok {
		return // removed meanwhile
	}
	to := ((pos.slot+by)%pacerSlots + pacerSlots) % pacerSlots
	sh.index[s] = slotPos{to, len(sh.slots[to])}
	sh.slots[to] = append(sh.slots[to], s)
}

// len is how many streams the shard serves.
func (sh *pacerShard) len() int {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return len(sh.index)
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

// run serves one slot every slotTime, starting phase after the first
// shard. Slots are due on a fixed grid from the start, not on a ticker:
// a ticker drops the ticks a late loop missed, and a dropped tick is a
// slot whose streams send nothing for a frame. A loop that fell behind
// serves the slots it owes at once; one that fell behind by more than a
// frame (the process was stopped) starts again from now, since frames for
// time gone by are no use to anyone. The streams of the slots it skips
// move their RTP clocks on by the frames not sent (skip), so that what
// they send next is stamped with the time it is sent: the far end sees a
// gap, as after silence suppression, not every later packet a frame or
// more late for the rest of the call.
//
// A shard without streams sleeps until one is added instead of waking
// 500 times a second for nothing (3.5% of a core, measured, for a node
// whose calls had all ended); it then starts a new grid at once.
func (sh *pacerShard) run(stop <-chan struct{}, phase time.Duration) {
	t := time.NewTimer(phase)
	defer t.Stop()
	start := time.Now().Add(phase)
	for n := int64(0); ; n++ {
		if sh.len() == 0 {
			select {
			case <-stop:
				return
			case <-sh.wake:
			}
			start, n = time.Now(), 0
		}
		due := start.Add(time.Duration(n) * slotTime)
		if d := time.Until(due); d > 0 {
			t.Reset(d)
			select {
			case <-stop:
				return
			case <-t.C:
			}
		} else {
			select {
			case <-stop:
				return
			default:
			}
			if -d > frameTime {
				// Realign on the grid, keeping the slot order.
				k := int64(-d / slotTime)
				sh.skip(n, k)
				n += k
			}
		}
		slot := int(n % pacerSlots)
		sh.turns.Add(1)
		sh.mu.Lock()
		sh.list = append(sh.list[:0], sh.slots[slot]...)
		list := sh.list
		sh.mu.Unlock()
		now := time.Now()
		for _, s := range list {
			if move := s.tick(); move != 0 {
				sh.move(s, move)
			}
			s.tickRTCP(now)
		}
	}
}

// skip moves on the RTP clocks of the streams of the k slots from slot
// number n, which the loop will not serve: a slot skipped m times over
// has each of its streams skip m frames.
func (sh *pacerShard) skip(n, k int64) {
	for j := int64(0); j < min(k, pacerSlots); j++ {
		frames := k / pacerSlots
		if j < k%pacerSlots {
			frames++
		}
		sh.mu.Lock()
		sh.list = append(sh.list[:0], sh.slots[(n+j)%pacerSlots]...)
		list := sh.list
		sh.mu.Unlock()
		for _, s := range list {
			s.skip(int(frames))
		}
	}
}
