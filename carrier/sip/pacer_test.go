package sip

import (
	"encoding/binary"
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

// TestPacerSkip: a shard that fell behind and skips slots moves the RTP
// clock of each of their streams on by the frames it did not send, and
// marks the next packet; streams of slots not skipped keep their clocks.
func TestPacerSkip(t *testing.T) {
	sh := &pacerShard{index: make(map[*rtpSession]slotPos)}
	ss := make([]*rtpSession, 2*pacerSlots)
	f := &mediaFormat{codec: CodecPCMU, pt: 0}
	ts0 := make([]uint32, len(ss))
	for i := range ss {
		ss[i] = newRTPSession(nil, nil, 0, time.Second, streamHooks{})
		ss[i].sending.Store(true)
		sh.add(ss[i])
		pkt := ss[i].tx.packet(f, make([]int16, frameSamples), ss[i].ssrc)
		ts0[i] = binary.BigEndian.Uint32(pkt[4:8]) + frameSamples // the next packet's
	}
	// Slot number 7 onwards, 23 slots: slots 7, 8, 9 skip three
	// frames, the others two.
	sh.skip(7, 23)
	// A stream that is not sending keeps its clock.
	idle := newRTPSession(nil, nil, 0, time.Second, streamHooks{})
	_, before := idle.tx.position()
	idle.skip(5)
	if _, after := idle.tx.position(); after != before {
		t.Errorf("a stream not sending moved its clock from %d to %d", before, after)
	}
	// A fed source that wants to know is told of the frames skipped;
	// while a Play lasts, it is not.
	src := &skipSource{}
	fed := newRTPSession(nil, nil, 0, time.Second, streamHooks{})
	fed.sending.Store(true)
	fed.play.setSource(src)
	fed.skip(3)
	job, _ := fed.play.start(make([]int16, 4*frameSamples))
	fed.skip(2)
	fed.play.stop(job)
	if src.skipped != 3*frameSamples {
		t.Errorf("source told of %d samples skipped, want %d", src.skipped, 3*frameSamples)
	}
	for i, s := range ss {
		slot := sh.index[s].slot
		want := 2
		if slot >= 7 {
			want = 3
		}
		pkt := s.tx.packet(f, make([]int16, frameSamples), s.ssrc)
		got := binary.BigEndian.Uint32(pkt[4:8]) - ts0[i]
		if got != uint32(want*frameSamples) || pkt[1]&0x80 == 0 {
			t.Errorf("stream %d in slot %d: timestamp moved %d samples, marker %v; want %d and a marker", i, slot, got, pkt[1]&0x80 != 0, want*frameSamples)
		}
	}
}

type skipSource struct{ skipped int }

func (s *skipSource) Read(frame []int16) int { clear(frame); return 0 }
func (s *skipSource) Skip(samples int)       { s.skipped += samples }

// TestPacerIdleShardSleeps: a shard whose streams have all gone stops
// waking (500 times a second, for nothing, before), and serves again as
// soon as a stream is added.
func TestPacerIdleShardSleeps(t *testing.T) {
	p := newPacer()
	defer p.close()
	s := &rtpSession{}
	p.add(s)
	sh := p.where[s]
	waitTurns := func(what string, more int64) {
		t.Helper()
		from := sh.turns.Load()
		deadline := time.Now().Add(2 * time.Second)
		for sh.turns.Load() < from+more {
			if time.Now().After(deadline) {
				t.Fatalf("%s: the shard served %d slots in 2 s, want %d", what, sh.turns.Load()-from, more)
			}
			time.Sleep(slotTime)
		}
	}
	waitTurns("with a stream", 2*pacerSlots)
	p.remove(s)
	time.Sleep(2 * slotTime) // the turn under way ends
	idle := sh.turns.Load()
	time.Sleep(50 * slotTime)
	if n := sh.turns.Load() - idle; n > 1 {
		t.Errorf("a shard without streams served %d slots in %v", n, 50*slotTime)
	}
	p.next = 0
	again := &rtpSession{}
	p.add(again)
	if p.where[again] != sh {
		t.Fatal("the new stream went to another shard")
	}
	waitTurns("after a stream was added again", 2*pacerSlots)
}
