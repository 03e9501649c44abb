package sipbench

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/netip"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	sipmsg "github.com/emiago/sipgo/sip"
	"golang.org/x/net/ipv4"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/carrier/sip"
	"github.com/dialtone-voice/dialtone/carrier/sip/sipconf"
	"github.com/dialtone-voice/dialtone/mediastream"
	"github.com/dialtone-voice/dialtone/outbound"
	"github.com/dialtone-voice/dialtone/stream"
)

// The media-stream measurement: n answered G.711 calls, each connected to
// an echo application over a WebSocket exactly as the engine connects an
// agent (the leg's audio tap into the session, the session fed to the
// leg's pacer). The far end and the echo application run in the child
// process ([StreamFarEndMain]), so the CPU measured in the parent is the
// carrier's and the streams' alone.
//
// The far end sends each call a 20 ms PCMU packet every 20 ms whose
// payload carries its send time; the application stamps the time each
// media message arrived (RTP in → WebSocket out: the arrival minus the
// send time) and, just before writing it back, the time it writes it; the
// far end receives the echo as RTP with the kernel's send stamp (WebSocket
// in → RTP out: that stamp minus the application's write time, which
// includes the wait for the call's next send slot). Payload bytes
// pass G.711 decoding and encoding unchanged (the marks avoid 0x7f, the
// one µ-law code that does not), so the stamps survive the round trip.
// The far end's sinks measure the lateness of every packet as the
// concurrent-RTP row does.
//
// Protocol on the child's stdin and stdout, as FarEndMain's:
//
//	child:  FAREND ADDR sip=… sinks=… ws=ws://127.0.0.1:P/echo
//	parent: start / stop
//	child:  FAREND STREAMS packets=… streams=… late=… late20=… p99us=… maxus=… up=… up50us=… up99us=… down=… down50us=… down99us=…

const streamsLine = "FAREND STREAMS"

// StreamFarEndProfileEnv names a file the stream far end writes its CPU
// profile to, when set in its environment.
const StreamFarEndProfileEnv = "DIALTONE_SIP_BENCH_STREAM_FAREND_CPUPROFILE"

// StreamLatency is what the stream far end measured over a window.
type StreamLatency struct {
	Lateness
	// Up is RTP in → WebSocket out, Down WebSocket in → RTP out: how
	// many echoed frames were measured, and the 50th and 99th
	// percentiles.
	Up, Down       int
	Up50, Up99     time.Duration
	Down50, Down99 time.Duration
	// FarCPU is the far end's and the application's CPU (the child
	// process) over the window, per second of the window.
	FarCPU time.Duration
}

func (l StreamLatency) line() string {
	return fmt.Sprintf("%s packets=%d streams=%d late=%d late20=%d p99us=%d maxus=%d up=%d up50us=%d up99us=%d down=%d down50us=%d down99us=%d farcpuus=%d",
		streamsLine, l.Packets, l.Streams, l.Late, l.Late20, l.P99.Microseconds(), l.Max.Microseconds(),
		l.Up, l.Up50.Microseconds(), l.Up99.Microseconds(), l.Down, l.Down50.Microseconds(), l.Down99.Microseconds(), l.FarCPU.Microseconds())
}

func parseStreamLatency(line string) (StreamLatency, error) {
	var l StreamLatency
	var p99, mx, u50, u99, d50, d99, far int64
	if _, err := fmt.Sscanf(line, streamsLine+" packets=%d streams=%d late=%d late20=%d p99us=%d maxus=%d up=%d up50us=%d up99us=%d down=%d down50us=%d down99us=%d farcpuus=%d",
		&l.Packets, &l.Streams, &l.Late, &l.Late20, &p99, &mx, &l.Up, &u50, &u99, &l.Down, &d50, &d99, &far); err != nil {
		return StreamLatency{}, fmt.Errorf("far end result %q: %w", line, err)
	}
	us := func(v int64) time.Duration { return time.Duration(v) * time.Microsecond }
	l.P99, l.Max, l.Up50, l.Up99, l.Down50, l.Down99, l.FarCPU = us(p99), us(mx), us(u50), us(u99), us(d50), us(d99), us(far)
	return l, nil
}

// MeasureStreams records a window of d on a stream far end.
func (f *FarEnd) MeasureStreams(ctx context.Context, d time.Duration) (StreamLatency, error) {
	line, err := f.window(ctx, d, streamsLine)
	if err != nil {
		return StreamLatency{}, err
	}
	return parseStreamLatency(line)
}

// Stamps in payloads: 12 bytes of 6 bits each, offset into 0x20–0x5f,
// which G.711 µ-law decodes and encodes back unchanged.
const (
	stampLen  = 12
	stampBase = 0x20
	// Where each stamp sits in a 160-byte payload: the far end's send
	// time, then the application's write time.
	stampSent  = 0
	stampWrote = stampLen
	// stampMagic marks payloads that carry stamps.
	stampMagic = 2 * stampLen
)

var magic = []byte{0x31, 0x32, 0x33, 0x34}

func putStamp(b []byte, ns int64) {
	for i := stampLen - 1; i >= 0; i-- {
		b[i] = byte(stampBase + ns&0x3f)
		ns >>= 6
	}
}

func getStamp(b []byte) (int64, bool) {
	var ns int64
	for i := range stampLen {
		c := b[i]
		if c < stampBase || c >= stampBase+64 {
			return 0, false
		}
		ns = ns<<6 | int64(c-stampBase)
	}
	return ns, true
}

// StreamResult is what RunStreams measured.
type StreamResult struct {
	Latency StreamLatency
	// CPUPerStream is ms of this process's CPU per second of one call
	// with its stream.
	CPUPerStream float64
	// Drops are frames the sessions dropped either way (buffers full).
	Drops int64
	// RxPct is the share of the RTP packets due in the window that the
	// far end received, in percent.
	RxPct float64
}

// RunStreams places n calls through a new SIP carrier to the stream far
// end f, connects each to f's echo application once answered, and when
// all stream measures for window: latency each way, the lateness of the
// RTP sent, this process's CPU per stream. Bounded: two minutes.
func RunStreams(ctx context.Context, f *FarEnd, n int, window time.Duration) (StreamResult, error) {
	var res StreamResult
	if n <= 0 || window <= 0 || f.WS == "" {
		return res, fmt.Errorf("streams: calls %d, window %v and the far end's application %q must be given", n, window, f.WS)
	}
	c, err := sip.New(sip.Config{Config: sipconf.Config{Listen: "127.0.0.1:0", Trunks: []sip.Trunk{{Name: "far", Address: f.SIP}},
		DefaultTrunk: "far", RTPTimeout: sipconf.RTPTimeoutDisabled}}, quietLog())
	if err != nil {
		return res, fmt.Errorf("sip carrier: %w", err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	policy, err := outbound.NewPolicy("127.0.0.1")
	if err != nil {
		return res, err
	}
	client, err := outbound.New(outbound.Config{Policy: policy, PerAccount: 2 * n, PerDestination: 2 * n})
	if err != nil {
		return res, err
	}
	type call struct {
		leg   dialtone.Leg
		sess  *stream.Session
		stops []func()
	}
	var mu sync.Mutex
	var calls []*call
	defer func() {
		hctx, hcancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer hcancel()
		var wg sync.WaitGroup
		mu.Lock()
		all := slices.Clone(calls)
		mu.Unlock()
		for _, cl := range all {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for _, s := range cl.stops {
					s()
				}
				if cl.sess != nil {
					_ = cl.sess.Close(hctx)
				}
				_ = cl.leg.Hangup(hctx)
			}()
		}
		wg.Wait()
	}()
	ready := make(chan error, n)
	start := time.Now()
	for i := 0; i < n; i++ {
		time.Sleep(time.Until(start.Add(time.Duration(i) * time.Second / rampCPS)))
		l, err := c.Originate(ctx, dialtone.OriginateRequest{CallID: "s" + strconv.Itoa(i), Leg: "A", AccountUID: "bench",
			To: "13800000000", From: "05710000000", RingTimeout: 10 * time.Second})
		if err != nil {
			return res, fmt.Errorf("originate %d: %w", i, err)
		}
		cl := &call{leg: l}
		mu.Lock()
		calls = append(calls, cl)
		mu.Unlock()
		go func() {
			once := false
			for ev := range l.Events() {
				if once {
					continue
				}
				switch ev.Kind {
				case dialtone.LegAnswered:
					once = true
					ready <- connectStream(ctx, client, f.WS, l, func(s *stream.Session, stops []func()) {
						mu.Lock()
						cl.sess, cl.stops = s, stops
						mu.Unlock()
					})
				case dialtone.LegFailed:
					once = true
					ready <- fmt.Errorf("call failed: %s %v", ev.Reason, ev.Detail)
				}
			}
		}()
	}
	if err := awaitAll(ctx, ready, n, "streams up"); err != nil {
		return res, err
	}
	runtime.GC()
	cpu0, err := processCPU()
	if err != nil {
		return res, err
	}
	t0 := time.Now()
	lat, err := f.MeasureStreams(ctx, window)
	if err != nil {
		return res, err
	}
	wall := time.Since(t0)
	cpu1, err := processCPU()
	if err != nil {
		return res, err
	}
	res.Latency = lat
	res.CPUPerStream = msPerCallSecond(cpu1-cpu0, wall, n)
	res.RxPct = float64(lat.Packets) / (float64(n) * window.Seconds() * float64(time.Second/frameTime)) * 100
	mu.Lock()
	for _, cl := range calls {
		if cl.sess != nil {
			st := cl.sess.Stats()
			res.Drops += st.SendDrops.Frames + st.Playout.Dropped/stream.FrameSamples
		}
	}
	mu.Unlock()
	return res, nil
}

// connectStream opens a stream for the answered leg l as the engine does
// for an agent: the leg's audio through its tap into the session, the
// session played by the leg's pacer.
func connectStream(ctx context.Context, client *outbound.Client, url string, l dialtone.Leg, keep func(*stream.Session, []func())) error {
	sess, err := stream.Dial(ctx, client, outbound.Meta{Account: "bench", Purpose: outbound.PurposeStream, Trust: outbound.Trusted},
		url, outbound.Signer{}, stream.Params{CallID: "bench", Logger: quietLog()})
	if err != nil {
		return fmt.Errorf("stream: %w", err)
	}
	tap, ok := l.(dialtone.AudioTap)
	feed, ok2 := l.(dialtone.AudioFeed)
	if !ok || !ok2 {
		return errors.New("the SIP leg is not an AudioTap and an AudioFeed")
	}
	stopTap, err := tap.TapAudio(func(pcm []int16, since time.Duration) { _ = sess.Send(pcm, since) })
	if err != nil {
		return err
	}
	stopFeed, err := feed.Feed(sess)
	if err != nil {
		stopTap()
		return err
	}
	keep(sess, []func(){stopTap, stopFeed})
	return nil
}

// StreamFarEndMain is the far end of the stream measurement: it answers
// INVITEs, sends each call stamped PCMU, runs the echo application, and
// measures what comes back, driven by stdin (see the protocol above).
func StreamFarEndMain(ctx context.Context, stdin io.Reader, stdout io.Writer) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if path := os.Getenv(StreamFarEndProfileEnv); path != "" {
		// The far end's own CPU profile, to see whether it or Dialtone
		// limits the measurement.
		pf, err := os.Create(path)
		if err != nil {
			return fmt.Errorf("far end profile: %w", err)
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return fmt.Errorf("far end profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	fe, err := newSIPFarEnd("bench-stream-farend")
	if err != nil {
		return err
	}
	defer fe.close()

	m := &streamMeter{}
	sinks := make([]*streamSink, farEndSinks)
	names := make([]string, farEndSinks)
	for i := range sinks {
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			return fmt.Errorf("far end sink: %w", err)
		}
		defer c.Close()
		_ = c.SetReadBuffer(4 << 20)
		if err := enableStamps(c); err != nil {
			return err
		}
		sinks[i] = &streamSink{sink: sink{conn: c, recs: map[uint32]*sinkStream{}}, m: m, pc: ipv4.NewPacketConn(c),
			phase: time.Duration(i) * frameTime / farSlots / farEndSinks}
		names[i] = c.LocalAddr().String()
		go sinks[i].read()
		go sinks[i].send(ctx)
	}
	// The echo application.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("far end: %w", err)
	}
	defer ln.Close()
	hs := &http.Server{Handler: http.HandlerFunc(m.echo), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	defer hs.Close()

	var next atomic.Uint64
	fe.serve(ctx, func(req *sipmsg.Request) (int, func() func(), bool) {
		peer, ok := offerAddr(req.Body())
		if !ok {
			return 0, nil, false
		}
		sk := sinks[next.Add(1)%farEndSinks]
		return sk.conn.LocalAddr().(*net.UDPAddr).Port, func() func() {
			out := sk.add(peer)
			return func() { sk.remove(out) }
		}, true
	})
	if _, err := fmt.Fprintf(stdout, "%s sip=%s sinks=%s ws=ws://%s/echo\n", addrLine, fe.addr, strings.Join(names, ","), ln.Addr()); err != nil {
		return fmt.Errorf("far end: %w", err)
	}
	cmds := commands(ctx, stdin)
	var cpu0 time.Duration
	var t0 time.Time
	for {
		cmd, ok := nextCommand(ctx, cmds)
		if !ok {
			return nil
		}
		switch cmd {
		case "start":
			for _, s := range sinks {
				s.record()
			}
			m.reset(true)
			cpu0, _ = processCPU()
			t0 = time.Now()
		case "stop":
			var all []*sinkStream
			for _, s := range sinks {
				all = append(all, s.stopRecording()...)
			}
			up, down := m.reset(false)
			cpu1, _ := processCPU()
			l := StreamLatency{Lateness: summarize(all), Up: len(up), Down: len(down)}
			l.FarCPU = time.Duration(float64(cpu1-cpu0) / time.Since(t0).Seconds())
			l.Up50, l.Up99 = pct(up, 0.50), pct(up, 0.99)
			l.Down50, l.Down99 = pct(down, 0.50), pct(down, 0.99)
			if _, err := fmt.Fprintln(stdout, l.line()); err != nil {
				return fmt.Errorf("far end: %w", err)
			}
		}
	}
}

// offerAddr reads the RTP address of an SDP offer (c= and m=audio).
func offerAddr(sdp []byte) (netip.AddrPort, bool) {
	var ip netip.Addr
	port := 0
	for _, line := range strings.Split(string(sdp), "\n") {
		line = strings.TrimSpace(line)
		if rest, ok := strings.CutPrefix(line, "c=IN IP4 "); ok {
			ip, _ = netip.ParseAddr(strings.TrimSpace(rest))
		}
		if rest, ok := strings.CutPrefix(line, "m=audio "); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				port, _ = strconv.Atoi(f[0])
			}
		}
	}
	return netip.AddrPortFrom(ip, uint16(port)), ip.IsValid() && port > 0
}

func pct(v []int64, p float64) time.Duration {
	if len(v) == 0 {
		return 0
	}
	slices.Sort(v)
	return time.Duration(v[min(len(v)-1, max(0, int(math.Ceil(p*float64(len(v))))-1))])
}

// streamMeter collects the latencies while the window is open.
type streamMeter struct {
	mu       sync.Mutex
	on       bool
	up, down []int64
}

func (m *streamMeter) reset(on bool) (up, down []int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	up, down = m.up, m.down
	m.up, m.down, m.on = nil, nil, on
	return up, down
}

func (m *streamMeter) addUp(d int64) {
	m.mu.Lock()
	if m.on {
		m.up = append(m.up, d)
	}
	m.mu.Unlock()
}

func (m *streamMeter) addDown(d int64) {
	m.mu.Lock()
	if m.on {
		m.down = append(m.down, d)
	}
	m.mu.Unlock()
}

// echo is the application: every media message goes back at once, with
// the time it arrived noted and the time it is written stamped in.
func (m *streamMeter) echo(w http.ResponseWriter, r *http.Request) {
	conn, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer conn.CloseNow()
	conn.SetReadLimit(1 << 20)
	ctx := r.Context()
	sid := ""
	var buf []byte
	var in bytes.Buffer
	for {
		_, r, err := conn.Reader(ctx)
		if err != nil {
			return
		}
		in.Reset()
		if _, err := in.ReadFrom(r); err != nil {
			return
		}
		data := in.Bytes()
		at := time.Now().UnixNano()
		msg, err := mediastream.Decode(data, mediastream.FromDialtone)
		if err != nil {
			continue
		}
		switch msg.Event {
		case mediastream.EventStart:
			sid = msg.StreamSID
		case mediastream.EventMedia:
			p := msg.Media.Payload
			if len(p) < stampMagic+len(magic) || string(p[stampMagic:stampMagic+len(magic)]) != string(magic) {
				continue
			}
			if sent, ok := getStamp(p[stampSent:]); ok {
				m.addUp(at - sent)
			}
			out := &mediastream.Message{Event: mediastream.EventMedia, StreamSID: sid, Media: &mediastream.Media{Payload: p}}
			putStamp(p[stampWrote:], time.Now().UnixNano())
			buf, err = mediastream.AppendEncode(buf[:0], out, mediastream.FromApplication)
			if err != nil {
				continue
			}
			if err := conn.Write(ctx, websocket.MessageText, buf); err != nil {
				return
			}
		}
	}
}

// streamSink is a sink that also sends each of its calls stamped audio.
type streamSink struct {
	sink
	m     *streamMeter
	pc    *ipv4.PacketConn // conn, for batches of datagrams each way
	phase time.Duration    // this sink's offset into its slots
	omu   sync.Mutex
	outs  [farSlots][]*streamOut
	nextS uint32
}

// farSlots is how many parts of the 20 ms frame a sink spreads its calls'
// sends over. Telephones and gateways send at phases of their own: a far
// end that sent every call's packet at the same instant would hand
// Dialtone all its work of a frame at once, and every call would wait
// for the whole burst, which no real network does. The calls are spread
// as Dialtone's pacer spreads its own (2 ms slots), each slot's packets
// leaving in one system call (sendmmsg).
const farSlots = 10

type streamOut struct {
	to   *net.UDPAddr
	pkt  []byte
	slot int
}

func (s *streamSink) add(to netip.AddrPort) *streamOut {
	s.omu.Lock()
	defer s.omu.Unlock()
	s.nextS++
	o := &streamOut{to: net.UDPAddrFromAddrPort(to), pkt: make([]byte, 12+frameSamples), slot: int(s.nextS % farSlots)}
	o.pkt[0], o.pkt[1] = 0x80, 0
	binary.BigEndian.PutUint32(o.pkt[8:], 0x5000000+s.nextS)
	for i := 12; i < len(o.pkt); i++ {
		o.pkt[i] = 0xff // µ-law silence
	}
	copy(o.pkt[12+stampMagic:], magic)
	s.outs[o.slot] = append(s.outs[o.slot], o)
	return o
}

func (s *streamSink) remove(o *streamOut) {
	s.omu.Lock()
	defer s.omu.Unlock()
	s.outs[o.slot] = slices.DeleteFunc(s.outs[o.slot], func(x *streamOut) bool { return x == o })
}

// send sends every call of the sink a stamped frame every 20 ms, each
// call in its slot: a slot's packets are stamped with one time and leave
// in one batch. Slots are due on a fixed grid, as the pacer's are.
func (s *streamSink) send(ctx context.Context) {
	slot := frameTime / farSlots
	start := time.Now().Add(s.phase)
	t := time.NewTimer(s.phase)
	defer t.Stop()
	var outs []*streamOut
	var msgs []ipv4.Message
	for n := int64(0); ; n++ {
		due := start.Add(time.Duration(n) * slot)
		if d := time.Until(due); d > 0 {
			t.Reset(d)
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		} else if ctx.Err() != nil {
			return
		}
		s.omu.Lock()
		outs = append(outs[:0], s.outs[n%farSlots]...)
		s.omu.Unlock()
		if len(outs) == 0 {
			continue
		}
		msgs = msgs[:0]
		now := time.Now().UnixNano()
		for _, o := range outs {
			binary.BigEndian.PutUint16(o.pkt[2:], binary.BigEndian.Uint16(o.pkt[2:])+1)
			binary.BigEndian.PutUint32(o.pkt[4:], binary.BigEndian.Uint32(o.pkt[4:])+frameSamples)
			putStamp(o.pkt[12+stampSent:], now)
			msgs = append(msgs, ipv4.Message{Buffers: [][]byte{o.pkt}, Addr: o.to})
		}
		// A datagram that fails (a port that has gone away reports
		// ICMP unreachable on the next send) costs only itself.
		for len(msgs) > 0 {
			k, err := s.pc.WriteBatch(msgs, 0)
			if err != nil || k <= 0 {
				k = max(k, 0) + 1
			}
			msgs = msgs[min(k, len(msgs)):]
		}
	}
}

// read records lateness as a sink does, and the down latency of echoed
// frames (their kernel send stamp minus the application's write time).
func (s *streamSink) read() {
	const batch = 64
	msgs := make([]ipv4.Message, batch)
	for i := range msgs {
		msgs[i].Buffers = [][]byte{make([]byte, 2048)}
		msgs[i].OOB = make([]byte, 128)
	}
	for {
		k, err := s.pc.ReadBatch(msgs, 0)
		if err != nil {
			return
		}
		for i := range msgs[:k] {
			s.take(msgs[i].Buffers[0][:msgs[i].N], msgs[i].OOB[:msgs[i].NN])
		}
	}
}

// take records one datagram received.
func (s *streamSink) take(pkt, oob []byte) {
	at, ok := kernelStamp(oob)
	if !ok || len(pkt) < 12 || pkt[0]>>6 != 2 || pkt[1]&0x7f != 0 {
		return
	}
	p := pkt[12:]
	if len(p) >= stampMagic+len(magic) && string(p[stampMagic:stampMagic+len(magic)]) == string(magic) {
		if wrote, ok := getStamp(p[stampWrote:]); ok {
			s.m.addDown(at - wrote)
		}
	}
	s.note(at, pkt)
}
