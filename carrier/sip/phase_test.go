package sip

import (
	"encoding/binary"
	"net"
	"net/netip"
	"testing"
	"time"
)

// The slot follows the source: over a window of measured reads the least
// lead less the margin is taken off in whole slots; late audio moves it a
// slot later and widens the margin, which narrows after calm windows;
// reads that are no measure (audio sent ahead) count for nothing.
func TestFeedPhaseObserve(t *testing.T) {
	var f feedPhase
	ms := time.Millisecond
	window := func(leads ...time.Duration) int {
		t.Helper()
		for i := range phaseWindow - 1 {
			if move := f.observe(leads[i%len(leads)], true, false); move != 0 {
				t.Fatalf("moved %d before the window was full", move)
			}
		}
		return f.observe(leads[(phaseWindow-1)%len(leads)], true, false)
	}
	// Leads of 15–17 ms: the least, 15, less the 2 ms margin leaves 13
	// ms, six slots.
	if move := window(17*ms, 15*ms, 16*ms); move != -6 {
		t.Fatalf("leads from 15 ms: moved %d, want -6", move)
	}
	// Reads that are no measure are not counted.
	for range 3 * phaseWindow {
		if move := f.observe(19*ms, false, false); move != 0 {
			t.Fatalf("an unmeasured read moved the slot %d", move)
		}
	}
	// On time: leads under the margin and the least move stay put.
	if move := window(5*ms, 7*ms); move != 0 {
		t.Fatalf("leads from 5 ms: moved %d", move)
	}
	// Late audio: a slot later at once, and a margin a slot wider.
	if move := f.observe(0, false, true); move != 1 {
		t.Fatalf("late audio moved %d, want 1", move)
	}
	if move := window(7 * ms); move != 0 {
		t.Fatalf("leads of 7 ms after late audio: moved %d, want 0 (7 less 2 and the slot learned leaves less than the least move)", move)
	}
	if move := window(9 * ms); move != -2 {
		t.Fatalf("leads of 9 ms after late audio: moved %d, want -2 (9 less 2 and the slot learned)", move)
	}
	// Calm windows narrow the margin again.
	for range phaseCalm {
		window(5 * ms)
	}
	if f.margin != 0 {
		t.Fatalf("margin %v after %d calm windows", f.margin, phaseCalm)
	}
	// Never more than a frame less a slot, however early the audio.
	if move := window(300 * ms); move != -(pacerSlots - 1) {
		t.Fatalf("leads of 300 ms: moved %d", move)
	}
	// The learned margin is bounded.
	for range 20 {
		f.observe(0, false, true)
	}
	if f.margin != maxPhaseMargin {
		t.Fatalf("margin %v after much late audio, want %v", f.margin, maxPhaseMargin)
	}
}

// A session fed by a source that says where its audio falls moves its
// slot only later, keeping its RTP clock to its send times: a move later
// holds the next tick (the pacer reaches the new slot within the frame)
// and stamps the next packet that much later; a move earlier is one later
// by the rest of the frame, with the frame due in the skipped slot
// dropped by the source.
func TestFedSessionMovesLater(t *testing.T) {
	far := loopbackUDP(t, net.IPv4(127, 0, 0, 1))
	s := loopbackStream(t, streamHooks{})
	s.setRemote(answer{addr: netip.MustParseAddr("127.0.0.1"), port: far.LocalAddr().(*net.UDPAddr).Port, codec: CodecPCMU, dtmfPT: -1})
	s.answer()
	src := &phaseSource{}
	s.play.setSource(src)
	pkt := make([]byte, 1500)
	recv := func() uint32 {
		t.Helper()
		_ = far.SetReadDeadline(time.Now().Add(2 * time.Second))
		n, _, err := far.ReadFromUDP(pkt)
		if err != nil || n < 12 {
			t.Fatalf("no packet: %v", err)
		}
		return binary.BigEndian.Uint32(pkt[4:8])
	}
	tick := func(want int) {
		t.Helper()
		if got := s.tick(); got != want {
			t.Fatalf("tick moved the slot %d, want %d", got, want)
		}
	}
	tick(0)
	ts := recv()
	// Late audio: a slot later.
	src.late = true
	tick(1)
	src.late = false
	if got := recv(); got != ts+frameSamples {
		t.Fatalf("the packet of the tick that moved: timestamp +%d", got-ts)
	}
	ts += frameSamples
	tick(0) // held: 2 ms after the last packet
	tick(0)
	if got := recv(); got != ts+frameSamples+frameSamples/pacerSlots {
		t.Fatalf("after a move a slot later: timestamp +%d, want +%d", got-ts, frameSamples+frameSamples/pacerSlots)
	}
	ts += frameSamples + frameSamples/pacerSlots
	// Audio 15 ms ahead of its slot: less the margin and the slot the
	// late audio added, five slots earlier, sent as five later with a
	// frame skipped.
	src.lead = 15 * time.Millisecond
	for range phaseWindow - 1 {
		tick(0)
		ts += frameSamples
		if got := recv(); got != ts {
			t.Fatalf("timestamp %d, want %d", got, ts)
		}
	}
	tick(pacerSlots - 5)
	if got := recv(); got != ts+frameSamples {
		t.Fatalf("the packet of the tick that moved: timestamp +%d", got-ts)
	}
	ts += frameSamples
	if src.skipped != frameSamples {
		t.Fatalf("source told of %d samples skipped, want a frame", src.skipped)
	}
	src.lead = 0
	tick(0) // held
	tick(0)
	if got := recv(); got != ts+frameSamples+5*frameSamples/pacerSlots {
		t.Fatalf("after the move: timestamp +%d, want +%d", got-ts, frameSamples+5*frameSamples/pacerSlots)
	}
	// Nothing else was sent: the held ticks sent nothing.
	_ = far.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if _, _, err := far.ReadFromUDP(pkt); err == nil {
		t.Fatal("a held tick sent a packet")
	}
}

// phaseSource is a fed source that says what it is told to of its phase.
type phaseSource struct {
	lead    time.Duration
	late    bool
	skipped int
}

func (p *phaseSource) Read(frame []int16) int {
	for i := range frame {
		frame[i] = 1000
	}
	return len(frame)
}

func (p *phaseSource) Phase() (time.Duration, bool, bool) {
	return p.lead, p.lead > 0, p.late
}

func (p *phaseSource) Skip(samples int) { p.skipped += samples }

// A move takes a stream to another slot of its shard, at its end, and
// leaves the shard's index right for the stream moved into its place and
// for a later removal.
func TestPacerShardMove(t *testing.T) {
	sh := &pacerShard{index: make(map[*rtpSession]slotPos)}
	ss := make([]*rtpSession, 3*pacerSlots)
	for i := range ss {
		ss[i] = newRTPSession(nil, nil, 0, time.Second, streamHooks{})
		sh.add(ss[i])
	}
	a := sh.slots[2][0]
	sh.move(a, -4) // slot 2 → 8
	sh.move(a, 3)  // slot 8 → 1, past the frame's end
	check := func() {
		t.Helper()
		n := 0
		for slot, order := range sh.slots {
			for i, s := range order {
				if sh.index[s] != (slotPos{slot, i}) {
					t.Fatalf("index of the stream at slot %d #%d says %+v", slot, i, sh.index[s])
				}
				n++
			}
		}
		if n != len(ss) || len(sh.index) != n {
			t.Fatalf("%d streams in slots, %d indexed, want %d", n, len(sh.index), len(ss))
		}
	}
	check()
	if pos := sh.index[a]; pos.slot != 1 || pos.i != len(sh.slots[1])-1 {
		t.Fatalf("moved stream at %+v, want the end of slot 1", pos)
	}
	if len(sh.slots[2]) != 2 || len(sh.slots[1]) != 4 {
		t.Fatalf("slot sizes %d and %d", len(sh.slots[2]), len(sh.slots[1]))
	}
	p := &pacer{where: map[*rtpSession]*pacerShard{}, shards: []*pacerShard{sh}}
	for _, s := range ss {
		p.where[s] = sh
	}
	p.remove(a)
	sh.move(a, 1) // removed meanwhile: nothing
	if _, ok := sh.index[a]; ok || len(sh.slots[1]) != 3 {
		t.Fatalf("after removal: indexed %v, slot 1 holds %d", ok, len(sh.slots[1]))
	}
	ss = ss[:0]
	for s := range sh.index {
		ss = append(ss, s)
	}
	check()
}
