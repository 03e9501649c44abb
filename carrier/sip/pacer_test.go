package sip

import (
	"testing"
	"time"
)

// TestPacerShards: streams go round-robin to the shards, keep their order
// within a shard, and removal leaves every other stream where the pacer
// serves it.
func TestPacerShards(t *testing.T) {
	p := newPacer()
	defer p.close()
	n := len(p.shards)
	if n < 1 || n > maxPacerShards {
		t.Fatalf("%d shards", n)
	}
	ss := make([]*stream, 3*n+1)
	for i := range ss {
		ss[i] = &stream{}
		p.add(ss[i])
		p.add(ss[i]) // twice: still once
	}
	for i, s := range ss {
		sh := p.shards[i%n]
		sh.mu.Lock()
		pos, ok := sh.index[s]
		if !ok || sh.order[pos] != s || pos != i/n {
			t.Errorf("stream %d: shard %d position %d, %v", i, i%n, pos, ok)
		}
		sh.mu.Unlock()
	}
	for _, s := range ss {
		p.remove(s)
	}
	p.remove(ss[0]) // again: no effect
	for i, sh := range p.shards {
		if len(sh.order) != 0 || len(sh.index) != 0 {
			t.Errorf("shard %d keeps %d streams", i, len(sh.order))
		}
	}
	// Shards tick idle streams without touching them (not sending).
	time.Sleep(3 * frameTime)
}
