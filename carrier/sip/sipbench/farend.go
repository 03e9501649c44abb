package sipbench

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	sipmsg "github.com/emiago/sipgo/sip"
)

// The far end of the concurrent-RTP measurement runs in a child process
// ([FarEndMain]) so that the CPU and memory measured in the parent are
// the carrier's alone. It answers every INVITE, discards RTP on a few
// sink sockets and notes when each packet was sent: the kernel stamps a
// datagram (SO_TIMESTAMPNS) as it is queued, which on loopback happens
// inside the sender's sendto, so the stamp is the send time whatever the
// far end's own scheduling.
//
// The parent talks to it over the child's stdin and stdout, one line
// each way:
//
//	child:  FAREND ADDR sip=127.0.0.1:P sinks=127.0.0.1:P1,127.0.0.1:P2,…
//	parent: start            (open a measurement window)
//	parent: stop             (close it)
//	child:  FAREND RESULT packets=… streams=… late=… late20=… p99us=… maxus=…
//
// The child exits when its stdin closes, so it never outlives the parent.

const (
	addrLine   = "FAREND ADDR"
	resultLine = "FAREND RESULT"
)

// farEndSinks is how many sockets receive RTP; each has a reader
// goroutine, so one slow read does not drop everyone's packets.
const farEndSinks = 8

// farEndHold bounds how long the far end keeps a call up.
const farEndHold = 3 * time.Minute

// Lateness is what the far end measured over a window.
type Lateness struct {
	// Packets counted, from Streams RTP streams (SSRCs).
	Packets, Streams int
	// Late packets left more than LateLimit after their slot; Late20 more
	// than a whole frame (20 ms).
	Late, Late20 int
	// P99 and Max are the 99th percentile and the largest lateness.
	P99, Max time.Duration
}

// LatePct is the share of packets that were late, in percent.
func (l Lateness) LatePct() float64 { return 100 * float64(l.Late) / float64(max(l.Packets, 1)) }

func (l Lateness) line() string {
	return fmt.Sprintf("%s packets=%d streams=%d late=%d late20=%d p99us=%d maxus=%d",
		resultLine, l.Packets, l.Streams, l.Late, l.Late20, l.P99.Microseconds(), l.Max.Microseconds())
}

func parseLateness(line string) (Lateness, error) {
	var l Lateness
	var p99, mx int64
	if _, err := fmt.Sscanf(line, resultLine+" packets=%d streams=%d late=%d late20=%d p99us=%d maxus=%d",
		&l.Packets, &l.Streams, &l.Late, &l.Late20, &p99, &mx); err != nil {
		return Lateness{}, fmt.Errorf("far end result %q: %w", line, err)
	}
	l.P99, l.Max = time.Duration(p99)*time.Microsecond, time.Duration(mx)*time.Microsecond
	return l, nil
}

// FarEnd is a far-end child process seen from the parent.
type FarEnd struct {
	// SIP is where the far end takes INVITEs; Sinks are its RTP sockets.
	SIP   string
	Sinks []string
	// WS is the stream far end's echo application (StreamFarEndMain).
	WS string

	cmd   *exec.Cmd
	in    io.WriteCloser
	lines chan string // its protocol lines; closed when its stdout ends
}

// StartFarEnd starts cmd, which must run [FarEndMain] on its stdin and
// stdout (the test binary in tests, `dialtone bench-farend` in the CLI),
// and waits until it listens. StartFarEnd sets cmd's Stdin and Stdout;
// set Stderr to see its errors. Close it when done.
func StartFarEnd(ctx context.Context, cmd *exec.Cmd) (*FarEnd, error) {
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("far end: %w", err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("far end: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start far end: %w", err)
	}
	f := &FarEnd{cmd: cmd, in: in, lines: make(chan string, 4)}
	go func() {
		defer close(f.lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			// Other lines are the test framework's.
			if strings.HasPrefix(sc.Text(), "FAREND ") {
				f.lines <- sc.Text()
			}
		}
	}()
	line, err := f.next(ctx, addrLine, 10*time.Second)
	if err != nil {
		f.Close()
		return nil, err
	}
	for _, kv := range strings.Fields(strings.TrimPrefix(line, addrLine)) {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "sip":
			f.SIP = v
		case "sinks":
			f.Sinks = strings.Split(v, ",")
		case "ws":
			f.WS = v
		}
	}
	if f.SIP == "" || len(f.Sinks) == 0 {
		f.Close()
		return nil, fmt.Errorf("far end: bad address line %q", line)
	}
	return f, nil
}

// next returns the next protocol line starting with prefix.
func (f *FarEnd) next(ctx context.Context, prefix string, d time.Duration) (string, error) {
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		select {
		case l, ok := <-f.lines:
			if !ok {
				return "", fmt.Errorf("far end exited before %q", prefix)
			}
			if strings.HasPrefix(l, prefix) {
				return l, nil
			}
		case <-t.C:
			return "", fmt.Errorf("no %q from the far end within %v", prefix, d)
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
}

// Measure records the packets arriving during d and returns their
// lateness.
func (f *FarEnd) Measure(ctx context.Context, d time.Duration) (Lateness, error) {
	line, err := f.window(ctx, d, resultLine)
	if err != nil {
		return Lateness{}, err
	}
	return parseLateness(line)
}

// window has the far end record for d and returns its result line, the
// one that starts with prefix.
func (f *FarEnd) window(ctx context.Context, d time.Duration, prefix string) (string, error) {
	if _, err := io.WriteString(f.in, "start\n"); err != nil {
		return "", fmt.Errorf("far end: %w", err)
	}
	select {
	case <-time.After(d):
	case <-ctx.Done():
		return "", ctx.Err()
	}
	if _, err := io.WriteString(f.in, "stop\n"); err != nil {
		return "", fmt.Errorf("far end: %w", err)
	}
	return f.next(ctx, prefix, 30*time.Second)
}

// Close ends the far end: it exits when its stdin closes; after 5 s it is
// killed.
func (f *FarEnd) Close() error {
	f.in.Close()
	kill := time.NewTimer(5 * time.Second)
	defer kill.Stop()
	killed := false
	// Its stdout must be read to the end before Wait.
	for open := true; open; {
		select {
		case _, open = <-f.lines:
		case <-kill.C:
			killed = true
			if err := f.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
				return fmt.Errorf("kill far end: %w", err)
			}
		}
	}
	err := f.cmd.Wait()
	if killed {
		return errors.New("far end did not exit within 5 s of its stdin closing; killed")
	}
	if err != nil {
		return fmt.Errorf("far end: %w", err)
	}
	return nil
}

// FarEndMain is the far end: it answers INVITEs on a loopback port and
// records RTP on its sinks, driven by the lines of stdin (see the
// protocol above), until stdin closes or ctx ends.
func FarEndMain(ctx context.Context, stdin io.Reader, stdout io.Writer) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	fe, err := newSIPFarEnd("bench-farend")
	if err != nil {
		return err
	}
	defer fe.close()

	sinks := make([]*sink, farEndSinks)
	names := make([]string, farEndSinks)
	for i := range sinks {
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			return fmt.Errorf("far end sink: %w", err)
		}
		defer c.Close()
		// Thousands of streams arrive in bursts every 20 ms.
		_ = c.SetReadBuffer(4 << 20)
		if err := enableStamps(c); err != nil {
			return err
		}
		sinks[i] = &sink{conn: c, recs: map[uint32]*sinkStream{}}
		names[i] = c.LocalAddr().String()
		go sinks[i].read()
	}
	var next atomic.Uint64
	fe.serve(ctx, func(*sipmsg.Request) (int, func() func(), bool) {
		return sinks[next.Add(1)%farEndSinks].conn.LocalAddr().(*net.UDPAddr).Port, nil, true
	})
	if _, err := fmt.Fprintf(stdout, "%s sip=%s sinks=%s\n", addrLine, fe.addr, strings.Join(names, ",")); err != nil {
		return fmt.Errorf("far end: %w", err)
	}

	cmds := commands(ctx, stdin)
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
		case "stop":
			var all []*sinkStream
			for _, s := range sinks {
				all = append(all, s.stopRecording()...)
			}
			if _, err := fmt.Fprintln(stdout, summarize(all).line()); err != nil {
				return fmt.Errorf("far end: %w", err)
			}
		}
	}
}

// sink is one RTP socket of the far end and what it recorded.
type sink struct {
	conn *net.UDPConn
	mu   sync.Mutex
	on   bool
	recs map[uint32]*sinkStream
}

// record starts a recording window: what was recorded before is dropped.
func (s *sink) record() {
	s.mu.Lock()
	s.on, s.recs = true, map[uint32]*sinkStream{}
	s.mu.Unlock()
}

// stopRecording ends the window and returns its streams.
func (s *sink) stopRecording() []*sinkStream {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.on = false
	all := make([]*sinkStream, 0, len(s.recs))
	for _, r := range s.recs {
		all = append(all, r)
	}
	return all
}

// sinkStream holds, per packet of one SSRC, its send time minus its media
// time (RTP timestamp at 8 kHz), in ns.
type sinkStream struct {
	ts0  uint32
	offs []int64
}

// read records the kernel send stamp and RTP timestamp of every packet
// while the window is open.
func (s *sink) read() {
	buf := make([]byte, 2048)
	oob := make([]byte, 128)
	for {
		n, oobn, _, _, err := s.conn.ReadMsgUDP(buf, oob)
		if err != nil {
			return
		}
		at, ok := kernelStamp(oob[:oobn])
		// Only PCMU RTP: RTCP (our reports go to the RTP port + 1, which
		// can be another sink's) carries version 2 as well, and counted
		// as a stream of its own it would be a stream no call sent.
		if !ok || n < 12 || buf[0]>>6 != 2 || buf[1]&0x7f != 0 {
			continue
		}
		s.note(at, buf[:n])
	}
}

// note records, while the window is open, when the RTP packet pkt (its
// header checked) arrived against its media time.
func (s *sink) note(at int64, pkt []byte) {
	ts := binary.BigEndian.Uint32(pkt[4:8])
	ssrc := binary.BigEndian.Uint32(pkt[8:12])
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.on {
		return
	}
	r := s.recs[ssrc]
	if r == nil {
		r = &sinkStream{ts0: ts, offs: make([]int64, 0, 512)}
		s.recs[ssrc] = r
	}
	media := int64(int32(ts-r.ts0)) * int64(time.Second) / sampleRate
	r.offs = append(r.offs, at-media)
}

// summarize measures each packet against its stream's own clock: the
// slot of a packet is where its RTP timestamp puts it, with the phase of
// the stream's earliest-sent packet. A packet sent late stays late; a
// slot the pacer skipped shows up as every later packet being 20 ms late.
func summarize(streams []*sinkStream) Lateness {
	var l Lateness
	var all []int64
	for _, r := range streams {
		if len(r.offs) < 2 {
			continue // a stream that started or ended at the edge
		}
		base := slices.Min(r.offs)
		for _, o := range r.offs {
			d := o - base
			all = append(all, d)
			if d > int64(LateLimit) {
				l.Late++
			}
			if d > int64(frameTime) {
				l.Late20++
			}
		}
		l.Packets += len(r.offs)
	}
	l.Streams = len(streams)
	if len(all) > 0 {
		slices.Sort(all)
		l.P99 = time.Duration(all[min(len(all)-1, int(math.Ceil(0.99*float64(len(all))))-1)])
		l.Max = time.Duration(all[len(all)-1])
	}
	return l
}

// sipFarEnd is the SIP side of a benchmark's far end: a user agent that
// answers INVITEs on a loopback port with an SDP naming one of its RTP
// sinks, and holds each call until it ends.
type sipFarEnd struct {
	ua      *sipgo.UserAgent
	srv     *sipgo.Server
	pc      net.PacketConn
	addr    string
	dialogs *sipgo.DialogServerCache
}

func newSIPFarEnd(agent string) (*sipFarEnd, error) {
	ua, err := sipgo.NewUA(sipgo.WithUserAgent(agent))
	if err != nil {
		return nil, fmt.Errorf("far end: %w", err)
	}
	f := &sipFarEnd{ua: ua}
	if f.srv, err = sipgo.NewServer(ua); err != nil {
		f.close()
		return nil, fmt.Errorf("far end: %w", err)
	}
	if f.pc, err = net.ListenPacket("udp", "127.0.0.1:0"); err != nil {
		f.close()
		return nil, fmt.Errorf("far end: %w", err)
	}
	f.addr = f.pc.LocalAddr().String()
	cli, err := sipgo.NewClient(ua, sipgo.WithClientConnectionAddr(f.addr), sipgo.WithClientHostname("127.0.0.1"))
	if err != nil {
		f.close()
		return nil, fmt.Errorf("far end: %w", err)
	}
	host, portS, _ := net.SplitHostPort(f.addr)
	port, _ := strconv.Atoi(portS)
	f.dialogs = sipgo.NewDialogServerCache(cli, sipmsg.ContactHeader{Address: sipmsg.Uri{Scheme: "sip", User: "farend", Host: host, Port: port}})
	return f, nil
}

func (f *sipFarEnd) close() {
	if f.pc != nil {
		f.pc.Close()
	}
	f.ua.Close()
}

// serve answers INVITEs until ctx ends. accept picks the RTP port of the
// answer (ok false: 488), and start, if set, runs once the answer is sent
// and returns what ends the call's media when the call ends. It returns
// once the SIP socket is registered: ServeUDP does that in a goroutine,
// and INVITEs before it would be answered from another socket.
func (f *sipFarEnd) serve(ctx context.Context, accept func(*sipmsg.Request) (port int, start func() (stop func()), ok bool)) {
	f.srv.OnInvite(func(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
		port, start, ok := accept(req)
		if !ok {
			_ = tx.Respond(sipmsg.NewResponseFromRequest(req, 488, "Not Acceptable Here", nil))
			return
		}
		dlg, err := f.dialogs.ReadInvite(req, tx)
		if err != nil {
			return
		}
		defer dlg.Close()
		sdp := fmt.Sprintf("v=0\r\no=farend 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"+
			"m=audio %d RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n", port)
		if err := dlg.RespondSDP([]byte(sdp)); err != nil {
			return
		}
		if start != nil {
			defer start()()
		}
		// Held until the call ends (sipgo ends the INVITE transaction when
		// the handler returns), bounded.
		select {
		case <-dlg.Context().Done():
		case <-ctx.Done():
		case <-time.After(farEndHold):
		}
	})
	f.srv.OnAck(func(req *sipmsg.Request, tx sipmsg.ServerTransaction) { _ = f.dialogs.ReadAck(req, tx) })
	f.srv.OnBye(func(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
		if err := f.dialogs.ReadBye(req, tx); err != nil {
			_ = tx.Respond(sipmsg.NewResponseFromRequest(req, sipmsg.StatusCallTransactionDoesNotExists, "No dialog", nil))
		}
	})
	go func() { _ = f.srv.ServeUDP(f.pc) }()
	for range 500 {
		if _, err := f.ua.TransportLayer().GetConnection("udp", f.addr); err == nil {
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// commands are the lines of stdin, until it closes or ctx ends.
func commands(ctx context.Context, stdin io.Reader) <-chan string {
	cmds := make(chan string)
	go func() {
		defer close(cmds)
		sc := bufio.NewScanner(stdin)
		for sc.Scan() {
			select {
			case cmds <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
	}()
	return cmds
}

// nextCommand is the next line of cmds; false once stdin closed or ctx
// ended.
func nextCommand(ctx context.Context, cmds <-chan string) (string, bool) {
	select {
	case cmd, ok := <-cmds:
		return cmd, ok
	case <-ctx.Done():
		return "", false
	}
}
