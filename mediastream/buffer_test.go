package mediastream

import (
	"bytes"
	"reflect"
	"sync"
	"testing"
	"time"
)

// Past one second of audio the oldest frames go, counted; events are
// never dropped for audio and keep their place in the order.
func TestSendBufferDropsOldestAudio(t *testing.T) {
	b := NewSendBuffer[int](0, 4)
	b.Push(-1, 0) // an event before any audio
	dropped := 0
	for i := range 60 {
		dropped += b.Push(i, FrameDuration)
		if i == 30 {
			b.Push(-2, 0)
		}
	}
	if dropped != 10 {
		t.Fatalf("dropped %d frames, want 10", dropped)
	}
	if d := b.Drops(); d.Frames != 10 || d.Audio != 200*time.Millisecond || d.Events != 0 {
		t.Fatalf("drops %+v", d)
	}
	if b.Queued() != time.Second || b.Len() != 52 {
		t.Fatalf("queued %s in %d items", b.Queued(), b.Len())
	}
	var got []int
	for {
		v, ok := b.Pop()
		if !ok {
			break
		}
		got = append(got, v)
	}
	want := []int{-1}
	for i := 10; i < 60; i++ {
		want = append(want, i)
		if i == 30 {
			want = append(want, -2)
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("popped %v\nwant %v", got, want)
	}
	if b.Queued() != 0 || b.Len() != 0 {
		t.Fatalf("empty buffer: %s %d", b.Queued(), b.Len())
	}
	// Events past their cap drop the oldest event.
	for i := range 6 {
		b.Push(100+i, 0)
	}
	if d := b.Drops(); d.Events != 2 {
		t.Fatalf("event drops %+v", d)
	}
	if v, _ := b.Pop(); v != 102 {
		t.Fatalf("oldest kept event %d, want 102", v)
	}
	// One item longer than the whole buffer cannot be kept.
	if n := b.Push(7, 2*time.Second); n != 1 || b.Queued() != 0 {
		t.Fatalf("an item over the limit: dropped %d, queued %s", n, b.Queued())
	}
}

// Push never waits for the reader, whatever it does; the reader sees every
// item it is given in order.
func TestSendBufferConcurrent(t *testing.T) {
	b := NewSendBuffer[int](time.Second, 0)
	done := make(chan struct{})
	var got []int
	go func() {
		defer close(done)
		last := -1
		for {
			select {
			case <-b.Ready():
			case <-time.After(2 * time.Second):
				t.Error("no Ready signal")
				return
			}
			for {
				v, ok := b.Pop()
				if !ok {
					break
				}
				if v <= last {
					t.Errorf("%d after %d", v, last)
				}
				last = v
				got = append(got, v)
				if v == 9999 {
					return
				}
			}
		}
	}()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range 10000 {
			start := time.Now()
			b.Push(i, FrameDuration)
			if d := time.Since(start); d > 100*time.Millisecond {
				t.Errorf("Push took %s", d)
			}
		}
	}()
	wg.Wait()
	<-done
	d := b.Drops()
	if int64(len(got))+d.Frames != 10000 {
		t.Fatalf("%d received + %d dropped != 10000", len(got), d.Frames)
	}
}

// A mark is due when the audio queued before it has left the buffer.
func TestPlayoutMarks(t *testing.T) {
	p := NewPlayout(0, 0)
	frame := func(v byte) []byte { return bytes.Repeat([]byte{v}, FrameBytes) }
	if due := p.Mark("empty"); !reflect.DeepEqual(due, []string{"empty"}) {
		t.Fatalf("a mark on an empty buffer: due %v", due)
	}
	p.Write(frame(1))
	p.Write(frame(2))
	p.Mark("a")
	p.Write(frame(3))
	p.Mark("b")
	p.Mark("c")
	buf := make([]byte, FrameBytes)
	if n, due := p.Read(buf); n != FrameBytes || due != nil || buf[0] != 1 {
		t.Fatalf("first read: %d %v %d", n, due, buf[0])
	}
	if n, due := p.Read(buf[:100]); n != 100 || due != nil || buf[0] != 2 {
		t.Fatalf("part of a frame: %d %v", n, due)
	}
	if n, due := p.Read(buf[:60]); n != 60 || !reflect.DeepEqual(due, []string{"a"}) {
		t.Fatalf("the rest of frame 2: %d %v", n, due)
	}
	// A read past the end takes what there is; the caller pads.
	if n, due := p.Read(make([]byte, 400)); n != FrameBytes || !reflect.DeepEqual(due, []string{"b", "c"}) {
		t.Fatalf("last read: %d %v", n, due)
	}
	if n, due := p.Read(buf); n != 0 || due != nil {
		t.Fatalf("empty read: %d %v", n, due)
	}
	st := p.Stats()
	if st.Played != 3*FrameBytes || st.Marks != 4 || st.Dropped != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// Clear drops what is queued and every pending mark is due, as Twilio
// echoes the marks of a cleared buffer.
func TestPlayoutClear(t *testing.T) {
	p := NewPlayout(0, 0)
	p.Write(make([]byte, 4000))
	p.Mark("m1")
	p.Write(make([]byte, 800))
	p.Mark("m2")
	if due := p.Clear(); !reflect.DeepEqual(due, []string{"m1", "m2"}) {
		t.Fatalf("clear: due %v", due)
	}
	if p.Buffered() != 0 || p.PendingMarks() != 0 {
		t.Fatalf("after clear: %d bytes, %d marks", p.Buffered(), p.PendingMarks())
	}
	if st := p.Stats(); st.Cleared != 4800 || st.Clears != 1 || st.Marks != 2 {
		t.Fatalf("stats %+v", st)
	}
	// Audio after a clear plays, and its marks wait for it.
	p.Write([]byte{9, 9})
	if due := p.Mark("m3"); due != nil {
		t.Fatalf("m3 due early: %v", due)
	}
	if n, due := p.Read(make([]byte, 10)); n != 2 || !reflect.DeepEqual(due, []string{"m3"}) {
		t.Fatalf("after clear: %d %v", n, due)
	}
}

// Past one second the oldest audio is dropped and counted; marks whose
// audio was dropped are due then, never lost.
func TestPlayoutOverflow(t *testing.T) {
	p := NewPlayout(0, 0)
	seq := func(n, from int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(from + i)
		}
		return b
	}
	p.Write(seq(6000, 0))
	p.Mark("early")
	if dropped, due := p.Write(seq(4000, 6000)); dropped != 2000 || due != nil {
		t.Fatalf("first overflow: dropped %d, due %v", dropped, due)
	}
	if dropped, due := p.Write(seq(4000, 10000)); dropped != 4000 || !reflect.DeepEqual(due, []string{"early"}) {
		t.Fatalf("second overflow: dropped %d, due %v", dropped, due)
	}
	if p.Buffered() != SampleRate {
		t.Fatalf("buffered %d", p.Buffered())
	}
	got := make([]byte, SampleRate)
	if n, _ := p.Read(got); n != SampleRate || !bytes.Equal(got, seq(SampleRate, 6000)) {
		t.Fatalf("kept audio is not the newest second")
	}
	// One write larger than the buffer keeps its newest second.
	dropped, _ := p.Write(seq(9000, 0))
	if dropped != 1000 || p.Buffered() != SampleRate {
		t.Fatalf("a 9000-byte write: dropped %d, buffered %d", dropped, p.Buffered())
	}
	p.Read(got)
	if !bytes.Equal(got, seq(SampleRate, 1000)) {
		t.Fatal("kept audio of a long write is not its newest second")
	}
	if st := p.Stats(); st.Dropped != 7000 || st.Queued != 23000 || st.Played != 16000 {
		t.Fatalf("stats %+v", st)
	}
	// Too many pending marks: the oldest is due at once.
	q := NewPlayout(0, 2)
	q.Write([]byte{1})
	q.Mark("x")
	q.Mark("y")
	if due := q.Mark("z"); !reflect.DeepEqual(due, []string{"x"}) || q.Stats().MarksEarly != 1 {
		t.Fatalf("third mark: %v %+v", due, q.Stats())
	}
}

// A real-time sender whose frame comes after its slot: the slot plays
// silence, and when the late frame comes with the next, the late one is
// dropped (counted) so the stream keeps its latency; audio sent ahead, a
// pause longer than MaxHiccup and a clear drop nothing.
func TestPlayoutLate(t *testing.T) {
	frame := func(v byte) []byte { return bytes.Repeat([]byte{v}, FrameBytes) }
	buf := make([]byte, FrameBytes)
	read := func(p *Playout) (int, byte) {
		n, _ := p.Read(buf)
		return n, buf[0]
	}
	// In time, then frame 2 late: silence in its slot, then 2 and 3
	// together, and 3 plays in its own slot.
	p := NewPlayout(0, 0)
	p.Write(frame(1))
	if n, v := read(p); n != FrameBytes || v != 1 {
		t.Fatalf("frame 1: %d %d", n, v)
	}
	if n, _ := read(p); n != 0 {
		t.Fatalf("slot of the late frame: %d", n)
	}
	p.Write(frame(2))
	p.Mark("after 2")
	p.Write(frame(3))
	if n, due := p.Read(buf); n != FrameBytes || buf[0] != 3 || !reflect.DeepEqual(due, []string{"after 2"}) {
		t.Fatalf("after the hiccup: %d bytes of %d, due %v; want frame 3 and the mark", n, buf[0], due)
	}
	if st := p.Stats(); st.Late != FrameBytes || st.Dropped != FrameBytes || st.Played != 2*FrameBytes {
		t.Fatalf("stats %+v", st)
	}
	// Three slots short (60 ms), then the three late frames and the
	// one due: the one due plays.
	p.Write(frame(4))
	read(p)
	for range 3 {
		read(p)
	}
	for v := byte(5); v <= 8; v++ {
		p.Write(frame(v))
	}
	if n, v := read(p); n != FrameBytes || v != 8 || p.Buffered() != 0 {
		t.Fatalf("after 60 ms: frame %d (%d bytes), %d left", v, n, p.Buffered())
	}
	// A pause longer than MaxHiccup, then a burst: all of it plays.
	for range int(MaxHiccup/(20*time.Millisecond)) + 1 {
		read(p)
	}
	p.Write(frame(9))
	p.Write(frame(10))
	if n, v := read(p); n != FrameBytes || v != 9 {
		t.Fatalf("after a pause: frame %d (%d bytes)", v, n)
	}
	// A hiccup, then audio sent ahead (more than the gap and the frame
	// due): nothing is dropped.
	read(p) // frame 10
	read(p) // short
	for v := byte(11); v <= 14; v++ {
		p.Write(frame(v))
	}
	if n, v := read(p); n != FrameBytes || v != 11 {
		t.Fatalf("audio sent ahead: frame %d (%d bytes)", v, n)
	}
	// A hiccup, then a clear (barge-in) and new audio: it all plays.
	for p.Buffered() > 0 {
		read(p)
	}
	read(p) // short
	p.Clear()
	p.Write(frame(20))
	p.Write(frame(21))
	if n, v := read(p); n != FrameBytes || v != 20 {
		t.Fatalf("after a clear: frame %d (%d bytes)", v, n)
	}
	if st := p.Stats(); st.Late != 4*FrameBytes {
		t.Fatalf("late %d bytes, want the 4 late frames", st.Late)
	}
	// The reader skipped two slots (its sender fell behind) while the
	// frames came in time: the two that queued meanwhile go, the frame
	// due now plays. Skip on a buffer whose audio is not flowing does
	// nothing.
	q := NewPlayout(0, 0)
	q.Skip(2 * FrameBytes)
	q.Write(frame(1))
	if n, v := read(q); n != FrameBytes || v != 1 {
		t.Fatalf("skip before any audio: frame %d (%d bytes)", v, n)
	}
	q.Skip(2 * FrameBytes)
	for v := byte(2); v <= 4; v++ {
		q.Write(frame(v))
	}
	if n, v := read(q); n != FrameBytes || v != 4 || q.Stats().Late != 2*FrameBytes {
		t.Fatalf("after skipped slots: frame %d (%d bytes), %+v", v, n, q.Stats())
	}

	// The reader skipped a slot (the pacer moving its slot earlier) and
	// the frame for it came only after the next Read, with the next
	// frame: it still goes, and the latency is what it was. Before, the
	// full Read forgot the skip, and every later frame waited a frame
	// more.
	r := NewPlayout(0, 0)
	r.Write(frame(1))
	read(r)
	r.Skip(FrameBytes)
	r.Write(frame(2))
	if n, v := read(r); n != FrameBytes || v != 2 {
		t.Fatalf("after the skip: frame %d (%d bytes)", v, n)
	}
	r.Write(frame(3))
	r.Write(frame(4))
	if n, v := read(r); n != FrameBytes || v != 4 || r.Buffered() != 0 || r.Stats().Late != FrameBytes {
		t.Fatalf("the skipped slot's frame, late: read frame %d (%d bytes), %d left, %+v; want frame 4, none left, a frame late",
			v, n, r.Buffered(), r.Stats())
	}
	if r.Phase().Late {
		t.Fatal("audio dropped for a skipped slot reported as late")
	}
	// Two frames late in a row, by different amounts (a stall on the
	// application's side): the first comes after its slot, the second
	// after the next Read, which took the first. The second goes when
	// the frame after it comes, and the latency is what it was.
	r.Write(frame(30))
	read(r)
	if n, _ := read(r); n != 0 {
		t.Fatalf("the slot of the late frame: %d bytes", n)
	}
	r.Write(frame(31))
	if n, v := read(r); n != FrameBytes || v != 31 {
		t.Fatalf("the first late frame: frame %d (%d bytes)", v, n)
	}
	r.Write(frame(32))
	r.Write(frame(33))
	lateBefore := r.Stats().Late
	if n, v := read(r); n != FrameBytes || v != 33 || r.Buffered() != 0 || r.Stats().Late != lateBefore+FrameBytes {
		t.Fatalf("after the stragglers: frame %d (%d bytes), %d left, late %d bytes (was %d); want frame 33, none left, a frame late",
			v, n, r.Buffered(), r.Stats().Late, lateBefore)
	}
	if !r.Phase().Late {
		t.Fatal("a frame dropped for coming late not reported as late")
	}
	// Owed for owedHold Reads only: a frame that comes after them is
	// audio sent ahead, and waits its turn.
	r.Skip(FrameBytes)
	for v := byte(5); v < 5+owedHold; v++ {
		r.Write(frame(v))
		read(r)
	}
	r.Write(frame(20))
	r.Write(frame(21))
	if n, v := read(r); n != FrameBytes || v != 20 || r.Buffered() != FrameBytes {
		t.Fatalf("after the hold: frame %d (%d bytes), %d left", v, n, r.Buffered())
	}
}

// The phase a Read reports: how long the newest audio it took had waited,
// measured only when the Read left less than a frame (audio sent ahead
// waits its turn whatever the reader's phase); late when it dropped audio
// that came after its slot, but not for slots its reader skipped.
func TestPlayoutPhase(t *testing.T) {
	frame := func(v byte) []byte { return bytes.Repeat([]byte{v}, FrameBytes) }
	buf := make([]byte, FrameBytes)
	now := time.Unix(1000, 0)
	p := NewPlayout(0, 0)
	p.now = func() time.Time { return now }
	if p.Read(buf); p.Phase() != (PlayoutPhase{}) {
		t.Fatalf("nothing read: %+v", p.Phase())
	}
	p.Write(frame(1))
	now = now.Add(7 * time.Millisecond)
	if p.Read(buf); p.Phase() != (PlayoutPhase{Lead: 7 * time.Millisecond, Measured: true}) {
		t.Fatalf("a frame 7 ms before its slot: %+v", p.Phase())
	}
	// Two frames queued: the Read leaves one, no measure.
	p.Write(frame(2))
	now = now.Add(5 * time.Millisecond)
	p.Write(frame(3))
	now = now.Add(1 * time.Millisecond)
	if p.Read(buf); p.Phase().Measured {
		t.Fatalf("a Read that left a frame measured: %+v", p.Phase())
	}
	// Then the last: it had waited 1 ms (frame 3 was written 1 ms ago).
	if p.Read(buf); p.Phase() != (PlayoutPhase{Lead: time.Millisecond, Measured: true}) {
		t.Fatalf("the last frame: %+v", p.Phase())
	}
	// Half a frame written in two parts: the newest part's wait counts.
	p.Write(frame(4)[:FrameBytes/2])
	now = now.Add(3 * time.Millisecond)
	p.Write(frame(4)[:FrameBytes/2])
	now = now.Add(2 * time.Millisecond)
	if p.Read(buf); p.Phase() != (PlayoutPhase{Lead: 2 * time.Millisecond, Measured: true}) {
		t.Fatalf("a frame in two writes: %+v", p.Phase())
	}
	// A frame late for its slot: short, then dropped as late.
	p.Read(buf)
	p.Write(frame(5))
	p.Write(frame(6))
	if p.Read(buf); !p.Phase().Late || buf[0] != 6 {
		t.Fatalf("after a late frame: %+v, played %d", p.Phase(), buf[0])
	}
	// Slots the reader skipped: what queued meanwhile is dropped, not
	// late for the reader's phase.
	p.Write(frame(7))
	p.Read(buf)
	p.Skip(FrameBytes)
	p.Write(frame(8))
	p.Write(frame(9))
	if p.Read(buf); p.Phase().Late || buf[0] != 9 {
		t.Fatalf("after a skipped slot: %+v, played %d", p.Phase(), buf[0])
	}
}

// Real-time audio that keeps a frame queued for a second loses that
// frame, counted as late; audio sent ahead (in long messages, or paced
// further ahead), and a queue that runs dry now and then, are left alone.
func TestPlayoutStandingQueue(t *testing.T) {
	frame := func(v byte) []byte { return bytes.Repeat([]byte{v}, FrameBytes) }
	buf := make([]byte, FrameBytes)
	frames := int(StandingWindow / FrameDuration)
	// A frame ahead from the start, then one frame per slot.
	p := NewPlayout(0, 0)
	p.Write(frame(0))
	p.Write(frame(1))
	for i := range frames + 1 {
		p.Read(buf)
		p.Write(frame(byte(i + 2)))
	}
	if st := p.Stats(); st.Late != FrameBytes || p.Buffered() != FrameBytes {
		t.Fatalf("standing queue: %+v, %d queued; want a frame dropped and none ahead", st, p.Buffered())
	}
	// Then it stays on time: nothing more dropped.
	for i := range 3 * frames {
		p.Read(buf)
		p.Write(frame(byte(i)))
	}
	if st := p.Stats(); st.Late != FrameBytes {
		t.Fatalf("on time afterwards: %+v", st)
	}
	// Audio sent ahead in one message of a second: it all plays.
	q := NewPlayout(0, 0)
	q.Write(bytes.Repeat([]byte{1}, 2*SampleRate/5)) // 400 ms
	for i := range 2 * frames {
		q.Read(buf)
		q.Write(frame(byte(i)))
	}
	if st := q.Stats(); st.Late != 0 || st.Dropped != 0 {
		t.Fatalf("audio sent ahead: %+v", st)
	}
	// Paced two frames ahead, a frame at a time: left alone too.
	q = NewPlayout(0, 0)
	q.Write(frame(0))
	q.Write(frame(1))
	q.Write(frame(2))
	for i := range 2 * frames {
		q.Read(buf)
		q.Write(frame(byte(i)))
	}
	if st := q.Stats(); st.Late != 0 || q.Buffered() != 3*FrameBytes {
		t.Fatalf("paced two frames ahead: %+v, %d queued", st, q.Buffered())
	}
	// Paced 400 ms ahead, then the end of the message, and the next
	// message: every frame plays.
	q = NewPlayout(0, 0)
	for i := range 20 {
		q.Write(frame(byte(i)))
	}
	for i := range 30 {
		q.Read(buf)
		q.Write(frame(byte(i)))
	}
	for range 20 {
		q.Read(buf)
	}
	for i := range 20 {
		q.Write(frame(byte(i)))
	}
	for range 20 {
		q.Read(buf)
	}
	if st := q.Stats(); st.Late != 0 || st.Dropped != 0 || q.Buffered() != 0 {
		t.Fatalf("paced ahead, drained, and again: %+v, %d queued", st, q.Buffered())
	}
	// A frame ahead, but one frame in five comes a frame late and the
	// Read before it leaves nothing: jitter the queue is there for, kept.
	r := NewPlayout(0, 0)
	r.Write(frame(0))
	dry := 0
	for i := range 3 * frames {
		if i%5 != 0 {
			r.Write(frame(byte(i)))
		}
		r.Read(buf)
		if r.Buffered() == 0 {
			dry++
		}
		if i%5 == 0 {
			r.Write(frame(byte(i))) // the late one
		}
	}
	if st := r.Stats(); st.Late != 0 || st.Dropped != 0 || dry != 3*frames/5 {
		t.Fatalf("jitter: %+v, %d Reads left nothing", st, dry)
	}
}

func TestCounters(t *testing.T) {
	var c Counters
	if n := c.Next(); n != 1 {
		t.Fatalf("first sequence %d", n)
	}
	seq, chunk, ts := c.NextMedia(TrackInbound, 20*time.Millisecond+700*time.Microsecond)
	if seq != 2 || chunk != 1 || ts != 20*time.Millisecond {
		t.Fatalf("first media %d %d %s", seq, chunk, ts)
	}
	seq, chunk, ts = c.NextMedia(TrackOutbound, 0)
	if seq != 3 || chunk != 1 || ts != 0 {
		t.Fatalf("first outbound media %d %d %s", seq, chunk, ts)
	}
	// A timestamp never goes back on its track.
	if _, chunk, ts = c.NextMedia(TrackInbound, 10*time.Millisecond); chunk != 2 || ts != 20*time.Millisecond {
		t.Fatalf("an earlier frame: %d %s", chunk, ts)
	}
	if m, in, out := c.Sent(); m != 4 || in != 2 || out != 1 {
		t.Fatalf("sent %d %d %d", m, in, out)
	}
}
