package sip

import (
	"testing"
	"time"
)

// TestPacerShards: streams go round-robin to the shards and, within a
// shard, to its least-loaded slot, keeping their order within the slot;
// removal leaves every other stream where the pacer serves it.
func TestPacerShards(t *testing.T) {
	p := newPacer()
	defer p.close()
	n := len(p.shards)
	if n < 1 || n > maxPacerShards {
		t.Fatalf("%d shards", n)
	}
	perShard := 3*pacerSlots + 4
	ss := make([]*rtpSession, n*perShard)
	for i := range ss {
		ss[i] = &rtpSession{}
		p.add(ss[i])
		p.add(ss[i]) // twice: still once
	}
	for i, s := range ss {
		sh := p.shards[i%n]
		k := i / n // the k-th stream of its shard
		sh.mu.Lock()
		pos, ok := sh.index[s]
		// Filled slot by slot, round after round.
		if !ok || sh.slots[pos.slot][pos.i] != s || pos.slot != k%pacerSlots || pos.i != k/pacerSlots {
			t.Errorf("stream %d: shard %d at %+v (%v), want slot %d position %d", i, i%n, pos, ok, k%pacerSlots, k/pacerSlots)
		}
		sh.mu.Unlock()
	}
	// Remove one stream: the last of its slot takes its place, nobody
	// else moves.
	victim := ss[0]
	sh := p.shards[0]
	sh.mu.Lock()
	vp := sh.index[victim]
	before := append([]*rtpSession(nil), sh.slots[vp.slot]...)
	sh.mu.Unlock()
	p.remove(victim)
	sh.mu.Lock()
	after := sh.slots[vp.slot]
	if len(after) != len(before)-1 || after[vp.i] != before[len(before)-1] {
		t.Errorf("slot after removal %v, before %v", after, before)
	}
	for i := 1; i < len(after); i++ {
		if i != vp.i && after[i] != before[i] {
			t.Errorf("position %d moved", i)
		}
		if sh.index[after[i]] != (slotPos{vp.slot, i}) {
			t.Errorf("index of position %d is %+v", i, sh.index[after[i]])
		}
	}
	sh.mu.Unlock()
	// A new stream fills the slot that lost one.
	fresh := &rtpSession{}
	p.next = 0 // to shard 0
	p.add(fresh)
	sh.mu.Lock()
	if got := sh.index[fresh]; got.slot != vp.slot {
		t.Errorf("new stream went to slot %d, want the emptier %d", got.slot, vp.slot)
	}
	sh.mu.Unlock()
	p.remove(fresh)

	for _, s := range ss {
		p.remove(s)
	}
	p.remove(ss[0]) // again: no effect
	for i, sh := range p.shards {
		if sh.len() != 0 {
			t.Errorf("shard %d keeps %d streams", i, sh.len())
		}
		for j, sl := range sh.slots {
			if len(sl) != 0 {
				t.Errorf("shard %d slot %d keeps %d streams", i, j, len(sl))
			}
		}
	}
	// Shards tick idle streams without touching them (not sending).
	time.Sleep(3 * frameTime)
}
