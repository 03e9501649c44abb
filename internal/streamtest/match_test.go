package streamtest

import (
	"math/rand/v2"
	"testing"
)

func noise(r *rand.Rand, n int) []int16 {
	x := make([]int16, n)
	for i := range x {
		x[i] = int16(r.IntN(8000) - 4000)
	}
	return x
}

func TestChunkMatch(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	ref := noise(r, 16000) // 2 s: 20 chunks
	got := append(make([]int16, 3000), ref...)
	got = append(got, make([]int16, 2000)...)
	if m := ChunkMatch(got, ref, 0.98); m != 1 {
		t.Errorf("ref as it is: %v", m)
	}
	if m := BestMatch(got, ref); m < 0.999 {
		t.Errorf("BestMatch of ref as it is: %v", m)
	}
	// 100 ms lost in the middle, the rest 100 ms earlier: BestMatch
	// drops, ChunkMatch loses the chunks the hole touches.
	holed := append(append([]int16{}, got[:3000+8000]...), got[3000+8800:]...)
	if m := ChunkMatch(holed, ref, 0.98); m < 0.85 || m == 1 {
		t.Errorf("a 100 ms hole: %v", m)
	}
	if m := BestMatch(holed, ref); m > 0.8 {
		t.Errorf("BestMatch across a hole: %v", m)
	}
	// Other audio of the same loudness is not ref.
	other := append(make([]int16, 3000), noise(r, 18000)...)
	if m := ChunkMatch(other, ref, 0.98); m != 0 {
		t.Errorf("other audio: %v", m)
	}
	if m := ChunkMatch(make([]int16, 20000), ref, 0.98); m != 0 {
		t.Errorf("silence: %v", m)
	}
	if m := ChunkMatch(ref[:4000], ref, 0.98); m != 0 {
		t.Errorf("less audio than ref: %v", m)
	}
}
