package mediastream

import (
	"sync"
	"time"
)

// BufferLimit is how much audio each way a stream holds: one second. The
// oldest audio is dropped, and counted, past it.
const BufferLimit = time.Second

// SendBuffer is the bounded queue between a call's media path and the
// socket's writer. Push never blocks, so the call's pacer never waits on
// the network: past Limit of queued audio the oldest audio item is dropped
// and counted. Events (DTMF, mark echoes, stop) are never dropped for
// audio; past MaxEvents queued events the oldest event is dropped and
// counted, which only a stalled socket reaches. Items leave in the order
// they came. It is safe for concurrent use.
type SendBuffer[T any] struct {
	mu        sync.Mutex
	items     []sendItem[T]
	head      int
	audio     time.Duration
	events    int
	limit     time.Duration
	maxEvents int
	drops     SendDrops
	ready     chan struct{}
}

type sendItem[T any] struct {
	v     T
	audio time.Duration // > 0: an audio item
}

// SendDrops counts what a SendBuffer dropped.
type SendDrops struct {
	Frames int64         // audio items
	Audio  time.Duration // their duration
	Events int64
}

// NewSendBuffer returns a buffer holding at most limit of audio
// (BufferLimit when 0 or less) and maxEvents events (256 when 0 or less).
func NewSendBuffer[T any](limit time.Duration, maxEvents int) *SendBuffer[T] {
	if limit <= 0 {
		limit = BufferLimit
	}
	if maxEvents <= 0 {
		maxEvents = 256
	}
	return &SendBuffer[T]{limit: limit, maxEvents: maxEvents, ready: make(chan struct{}, 1)}
}

// Push queues v: audio of that duration when audio > 0, an event
// otherwise. It returns how many items it dropped to make room.
func (b *SendBuffer[T]) Push(v T, audio time.Duration) (dropped int) {
	b.mu.Lock()
	if audio > 0 {
		for b.audio+audio > b.limit && b.audio > 0 {
			b.dropFirst(true)
			dropped++
		}
		if audio > b.limit {
			// A single item larger than the whole buffer: it is
			// the oldest audio at once.
			b.drops.Frames++
			b.drops.Audio += audio
			b.mu.Unlock()
			return dropped + 1
		}
		b.audio += audio
	} else {
		for b.events >= b.maxEvents {
			b.dropFirst(false)
			dropped++
		}
		b.events++
	}
	b.items = append(b.items, sendItem[T]{v: v, audio: audio})
	b.mu.Unlock()
	select {
	case b.ready <- struct{}{}:
	default:
	}
	return dropped
}

// dropFirst removes the oldest audio item (audio) or event; b.mu is held
// and one exists.
func (b *SendBuffer[T]) dropFirst(audio bool) {
	for i := b.head; i < len(b.items); i++ {
		it := b.items[i]
		if (it.audio > 0) != audio {
			continue
		}
		if audio {
			b.audio -= it.audio
			b.drops.Frames++
			b.drops.Audio += it.audio
		} else {
			b.events--
			b.drops.Events++
		}
		copy(b.items[i:], b.items[i+1:])
		var zero sendItem[T]
		b.items[len(b.items)-1] = zero
		b.items = b.items[:len(b.items)-1]
		return
	}
}

// Pop takes the oldest item; ok is false when the buffer is empty.
func (b *SendBuffer[T]) Pop() (v T, ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.head == len(b.items) {
		return v, false
	}
	it := b.items[b.head]
	b.items[b.head] = sendItem[T]{}
	b.head++
	if it.audio > 0 {
		b.audio -= it.audio
	} else {
		b.events--
	}
	switch {
	case b.head == len(b.items):
		b.items, b.head = b.items[:0], 0
	case b.head >= 64 && 2*b.head >= len(b.items):
		n := copy(b.items, b.items[b.head:])
		clear(b.items[n:])
		b.items, b.head = b.items[:n], 0
	}
	return it.v, true
}

// Ready receives a value after a Push; a reader drains with Pop until it
// reports empty, then waits on Ready again.
func (b *SendBuffer[T]) Ready() <-chan struct{} { return b.ready }

// Len is the number of queued items.
func (b *SendBuffer[T]) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.items) - b.head
}

// Queued is the duration of the queued audio.
func (b *SendBuffer[T]) Queued() time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.audio
}

// Drops returns what was dropped so far.
func (b *SendBuffer[T]) Drops() SendDrops {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.drops
}

// Playout is the bounded queue of the application's audio (µ-law bytes)
// waiting to be played to the call, with the application's marks in it.
// The call's pacer takes audio with Read at its own pace; a mark is due
// (to be echoed) once the audio queued before it has left the queue:
// played, dropped as the oldest past the limit, or cleared. Clear drops
// the queued audio and makes every pending mark due, as Twilio echoes the
// marks of a cleared buffer. Every method returns the names of the marks
// it made due, in order, for the caller to echo. It is safe for
// concurrent use.
//
// Audio that comes too late for its slot is dropped, as a jitter buffer
// drops a late packet: when the application's audio stops short for at
// most MaxHiccup (the pacer read, found less than a frame and played
// silence, or its slots went by unread: Skip) and then comes back with no
// more than it owes plus what is due now, what it owes for the gap is
// dropped, oldest first, and counted (Dropped, Late), also when it comes
// within owedHold Reads after the gap (the late frames straggle in, one
// after a Read that took the one before). Otherwise a real-time sender
// that is once a frame late would hold that frame in the queue for the
// rest of the call, 20 ms more latency for every frame, and every hiccup
// would add to it up to the second the buffer holds. Audio sent ahead (more than the gap and the
// frame due) is never dropped for this, nor after a pause longer than
// MaxHiccup, nor after Clear.
//
// Nor does real-time audio keep a standing frame: when over
// StandingWindow every Write was a frame or two (an application sending as
// it goes, not a message of audio sent ahead) and nearly every Read (all
// but one in ten: jitter) left exactly one frame queued (a frame, less
// than two), that frame is latency nobody sends on purpose (frames that
// bunched on their way, a reader that started late): the oldest frame is
// dropped and counted as late, as an adaptive jitter buffer shrinks when
// its delay is more than the jitter needs. An application pacing itself
// further ahead (the SDK's writers keep 400 ms) leaves more, and a queue
// draining at the end of a message leaves one frame only once: both are
// left alone.
type Playout struct {
	mu       sync.Mutex
	buf      []byte // ring
	r, n     int
	in, out  uint64 // bytes queued and bytes gone, since the start
	marks    []pendingMark
	maxMarks int
	stats    PlayoutStats
	// flowing: the last Read was served in full. owed: the silence
	// Read played since, while at most MaxHiccup.
	flowing bool
	owed    int
	// skipped is the part of owed that Skip added: audio dropped for it
	// is the reader's doing, not late (PlayoutPhase.Late).
	skipped int
	// held counts the full Reads since the gap (owedHold).
	held int
	// writes are when the last few Writes came (a ring, w the next);
	// phase is what the last Read says of the reader's phase.
	writes [8]playoutWrite
	w      int
	phase  PlayoutPhase
	now    func() time.Time
	// stand watches for a standing queue of real-time audio.
	stand standing
}

// standing is a window of Reads: how many, how many left one frame
// queued (a frame or more, less than two), and whether a Write longer
// than two frames came.
type standing struct {
	reads, oneLeft int
	bigWrite       bool
}

// StandingWindow is how long real-time audio must have kept a standing
// queue before a frame of it is dropped: 50 frames.
const StandingWindow = time.Second

// playoutWrite is one Write: when it came, and where its audio ends.
type playoutWrite struct {
	end uint64 // in after it
	at  time.Time
}

// PlayoutPhase is what a Read says of its reader's phase against the
// application's audio, for a reader on a clock of its own (the call's
// pacer) that can move its slot to follow the audio.
type PlayoutPhase struct {
	// Lead is how long before the Read the newest audio it returned had
	// come; Measured says whether that is a measure of the reader's
	// phase: the Read was served in full and left less than a frame
	// queued. A Read that leaves more is taking audio sent ahead, which
	// waits its turn whatever the phase.
	Lead     time.Duration
	Measured bool
	// Late: the Read dropped audio that came too late for its slot (the
	// reader's slot is too early for the application's audio).
	Late bool
}

// owedHold is how many Reads after a gap (a short Read or a Skip) may
// drop what it owes: 60 ms of frames.
const owedHold = 3

// MaxHiccup is the longest stop in an application's audio after which
// what comes late for the gap is dropped; a longer one is a pause.
const MaxHiccup = 100 * time.Millisecond

// maxOwed is MaxHiccup in bytes.
const maxOwed = int(MaxHiccup * SampleRate / time.Second)

type pendingMark struct {
	name string
	at   uint64 // due when out reaches it
}

// PlayoutStats counts a Playout's audio, in bytes (8000 a second), and
// its marks. Dropped is the audio dropped past the capacity and the audio
// that came late for its slot, Late the second alone.
type PlayoutStats struct {
	Queued, Played, Dropped, Cleared int64
	Late                             int64
	Clears                           int64
	Marks                            int64 // echoed
	MarksEarly                       int64 // echoed before their audio played: more than MaxMarks were pending
}

// NewPlayout returns a playout buffer of capacity bytes (one second,
// 8000, when 0 or less) holding at most maxMarks pending marks (1024
// when 0 or less; past it the oldest is due at once).
func NewPlayout(capacity, maxMarks int) *Playout {
	if capacity <= 0 {
		capacity = SampleRate
	}
	if maxMarks <= 0 {
		maxMarks = 1024
	}
	return &Playout{buf: make([]byte, capacity), maxMarks: maxMarks, now: time.Now}
}

// Write queues audio. Past the capacity the oldest audio is dropped; it
// returns how many bytes were, and the marks that became due.
func (p *Playout) Write(audio []byte) (dropped int, due []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := len(p.buf)
	if over := len(audio) - c; over > 0 {
		// Only the newest capacity bytes can be kept: the rest is
		// dropped as if queued and dropped at once.
		audio = audio[over:]
		dropped += over
		p.in += uint64(over)
		p.stats.Queued += int64(over)
	}
	if over := p.n + len(audio) - c; over > 0 {
		p.r = (p.r + over) % c
		p.n -= over
		dropped += over
	}
	p.stats.Dropped += int64(dropped)
	p.out += uint64(dropped)
	w := (p.r + p.n) % c
	k := copy(p.buf[w:], audio)
	copy(p.buf, audio[k:])
	p.n += len(audio)
	p.in += uint64(len(audio))
	p.stats.Queued += int64(len(audio))
	if len(audio) > 2*FrameBytes {
		p.stand.bigWrite = true
	}
	p.writes[p.w] = playoutWrite{end: p.in, at: p.now()}
	p.w = (p.w + 1) % len(p.writes)
	return dropped, p.dueLocked()
}

// Mark queues a mark after the audio queued so far; it is due at once
// when nothing is queued.
func (p *Playout) Mark(name string) (due []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.marks = append(p.marks, pendingMark{name: name, at: p.in})
	if len(p.marks) > p.maxMarks {
		p.stats.MarksEarly++
		p.stats.Marks++
		due = append(due, p.marks[0].name)
		p.marks = p.marks[1:]
	}
	return append(due, p.dueLocked()...)
}

// Clear drops the queued audio; every pending mark is due.
func (p *Playout) Clear() (due []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stats.Clears++
	p.stats.Cleared += int64(p.n)
	p.r, p.n = 0, 0
	p.out = p.in
	p.flowing = false
	p.forgetGap()
	p.stand = standing{}
	return p.dueLocked()
}

// Read takes up to len(dst) bytes of audio into dst, oldest first, and
// returns how many; the caller plays silence for the rest.
func (p *Playout) Read(dst []byte) (n int, due []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := len(p.buf)
	p.phase = PlayoutPhase{}
	p.shrinkLocked(len(dst))
	if p.owed > 0 && p.n > len(dst) {
		// Back after a hiccup: what came late for the gap goes,
		// unless the application sent ahead.
		if p.n <= p.owed+len(dst) {
			late := min(p.owed, p.n-len(dst))
			p.r = (p.r + late) % c
			p.n -= late
			p.out += uint64(late)
			p.stats.Dropped += int64(late)
			p.stats.Late += int64(late)
			p.phase.Late = late > p.skipped
		}
		p.forgetGap()
	}
	n = min(len(dst), p.n)
	switch {
	case n == len(dst):
		// What is owed stays owed for the next owedHold Reads: the late
		// audio for the gap can come after a Read that found a frame
		// (the first late frame, or the one of a slot the pacer skipped
		// to move earlier), the audio after it late too; a Read that
		// forgot the gap would leave the rest queued, a frame more of
		// latency for the rest of the call.
		p.flowing = true
		if p.held++; p.owed == 0 || p.held >= owedHold {
			p.forgetGap()
		}
	case p.flowing || p.owed > 0:
		p.flowing, p.held = false, 0
		if p.owed += len(dst) - n; p.owed > maxOwed {
			p.forgetGap() // a pause, not a hiccup
		}
	}
	k := copy(dst[:n], p.buf[p.r:min(c, p.r+n)])
	copy(dst[k:n], p.buf)
	p.r = (p.r + n) % c
	p.n -= n
	p.out += uint64(n)
	p.stats.Played += int64(n)
	if n > 0 && n == len(dst) && p.n < len(dst) {
		p.measureLocked()
	}
	p.stand.reads++
	if n == len(dst) && p.n >= len(dst) && p.n < 2*len(dst) {
		p.stand.oneLeft++
	}
	return n, p.dueLocked()
}

// shrinkLocked drops a frame of a standing queue of real-time audio (see
// Playout) once a window of Reads of frame bytes each has shown one.
func (p *Playout) shrinkLocked(frame int) {
	if frame <= 0 || time.Duration(p.stand.reads*frame)*time.Second/SampleRate < StandingWindow {
		return
	}
	st := p.stand
	p.stand = standing{}
	if st.bigWrite || st.oneLeft*10 < st.reads*9 || p.n < frame {
		return
	}
	p.r = (p.r + frame) % len(p.buf)
	p.n -= frame
	p.out += uint64(frame)
	p.stats.Dropped += int64(frame)
	p.stats.Late += int64(frame)
}

// measureLocked sets the phase's lead from the Write that brought the
// newest byte just read, if the ring still holds it.
func (p *Playout) measureLocked() {
	last := p.out - 1
	ring := len(p.writes)
	// Newest first: the Write holding last is the oldest one that ends
	// after it. The oldest in the ring cannot be told apart from those
	// before it, gone.
	for i := 1; i < ring; i++ {
		wr := p.writes[(p.w-i+ring)%ring]
		if wr.at.IsZero() || wr.end <= last {
			return
		}
		if prev := p.writes[(p.w-i-1+ring)%ring]; prev.at.IsZero() || prev.end <= last {
			p.phase.Lead = p.now().Sub(wr.at)
			p.phase.Measured = true
			return
		}
	}
}

// forgetGap drops what a gap owed: the audio for it came, or will not.
func (p *Playout) forgetGap() { p.owed, p.skipped, p.held = 0, 0, 0 }

// Phase reports on the last Read (PlayoutPhase).
func (p *Playout) Phase() PlayoutPhase {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.phase
}

// Skip tells the buffer that its reader's slots for n bytes went by
// without a Read (the sender fell behind): for audio in flow they count as
// slots that went short, so that what queued up meanwhile is dropped as
// late if it is no more than the skipped slots and the next one owe.
func (p *Playout) Skip(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n <= 0 || !p.flowing && p.owed == 0 {
		return
	}
	p.flowing = false
	p.skipped += n
	p.held = 0
	if p.owed += n; p.owed > maxOwed {
		p.forgetGap()
	}
}

// dueLocked takes the marks whose audio has gone.
func (p *Playout) dueLocked() []string {
	var due []string
	i := 0
	for ; i < len(p.marks) && p.marks[i].at <= p.out; i++ {
		due = append(due, p.marks[i].name)
	}
	if i > 0 {
		p.stats.Marks += int64(i)
		p.marks = append(p.marks[:0], p.marks[i:]...)
	}
	return due
}

// Buffered is the audio queued, in bytes.
func (p *Playout) Buffered() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.n
}

// PendingMarks is the number of marks not yet due.
func (p *Playout) PendingMarks() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.marks)
}

// Stats returns the counts so far.
func (p *Playout) Stats() PlayoutStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats
}

// Counters numbers Dialtone's messages: sequenceNumber over every message
// after connected, from 1; chunk per track, from 1; and timestamp, the
// milliseconds from the stream's start, never decreasing on a track. It
// is safe for concurrent use.
type Counters struct {
	mu    sync.Mutex
	seq   uint64
	chunk [2]uint64
	last  [2]time.Duration
}

// Next returns the next sequence number.
func (c *Counters) Next() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	return c.seq
}

// NextMedia numbers a media message of track t whose audio starts at at
// (from the stream's start): its sequence number, chunk and timestamp,
// which is at, or the track's previous timestamp if at is earlier, at
// millisecond resolution.
func (c *Counters) NextMedia(t Track, at time.Duration) (seq, chunk uint64, ts time.Duration) {
	i := 0
	if t == TrackOutbound {
		i = 1
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	c.chunk[i]++
	at = at.Truncate(time.Millisecond)
	if at < c.last[i] {
		at = c.last[i]
	}
	c.last[i] = at
	return c.seq, c.chunk[i], at
}

// Sent returns the messages numbered so far and the chunks of each track.
func (c *Counters) Sent() (messages, inbound, outbound uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.seq, c.chunk[0], c.chunk[1]
}
