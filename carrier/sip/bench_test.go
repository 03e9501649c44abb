//go:build linux

package sip

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/dialtone-voice/dialtone"
)

// Benchmarks of the SIP carrier, each beside its physical limit measured
// in the same run on the same machine (issue 6):
//
//   - BenchmarkSIPCallsPerSecond: Dialtone placing short calls against a
//     SIPp answerer, beside SIPp calling SIPp at the same offered rate.
//   - BenchmarkSIPConcurrentRTP: N answered G.711 calls playing audio,
//     beside a bare loop that only writes the same packets; how late the
//     pacer sends, CPU and heap per call.
//
// Run: go test -run '^$' -bench SIP -benchtime 1x ./carrier/sip/
// Everything is on loopback and bounded in calls and time.

// benchLog is what a production carrier logs (Info), thrown away, so the
// cost of building log records is in the figures.
func benchLog() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// cpuTime is the user+system CPU this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// sippRun is a SIPp process started by a benchmark.
type sippRun struct {
	cmd  *exec.Cmd
	out  bytes.Buffer
	done chan error
}

// startSippTB starts sipp with args in dir; Cleanup kills it if it is
// still running.
func startSippTB(tb testing.TB, dir string, args ...string) *sippRun {
	tb.Helper()
	bin, err := exec.LookPath("sipp")
	if err != nil {
		tb.Skip("sipp not installed")
	}
	r := &sippRun{done: make(chan error, 1)}
	r.cmd = exec.Command(bin, args...)
	r.cmd.Dir = dir
	r.cmd.Stdout, r.cmd.Stderr = &lockedBuf{b: &r.out}, &lockedBuf{b: &r.out}
	if err := r.cmd.Start(); err != nil {
		tb.Fatalf("start sipp: %v", err)
	}
	go func() { r.done <- r.cmd.Wait() }()
	tb.Cleanup(func() {
		select {
		case err := <-r.done:
			r.done <- err
		default:
			_ = r.cmd.Process.Kill()
			<-r.done
		}
	})
	return r
}

// lockedBuf lets SIPp's stdout and stderr share one buffer.
type lockedBuf struct {
	mu sync.Mutex
	b  *bytes.Buffer
}

func (w *lockedBuf) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.b.Len() > 1<<20 {
		return len(p), nil // SIPp redraws its screen every second: keep the start
	}
	return w.b.Write(p)
}

// startSippUAS runs SIPp's built-in answerer on a free loopback port and
// waits until it listens.
func startSippUAS(tb testing.TB) string {
	tb.Helper()
	port, mport := freePort(tb), freePort(tb)&^1
	dir := tb.TempDir()
	startSippTB(tb, dir, "-sn", "uas", "-i", "127.0.0.1", "-p", strconv.Itoa(port), "-mp", strconv.Itoa(mport), "-nostdin",
		"-timeout", "120s")
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	for i := 0; i < 100; i++ {
		c, err := net.ListenPacket("udp", addr)
		if err != nil {
			if errors.Is(err, syscall.EADDRINUSE) {
				return addr
			}
			tb.Fatal(err)
		}
		c.Close()
		time.Sleep(20 * time.Millisecond)
	}
	tb.Fatalf("sipp uas did not listen on %s", addr)
	return ""
}

func freePort(tb testing.TB) int {
	tb.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// cpsResult is one side of the calls-per-second comparison.
type cpsResult struct {
	ok, failed int
	elapsed    time.Duration
	cpu        time.Duration // CPU of the caller only
}

func (r cpsResult) cps() float64 { return float64(r.ok) / r.elapsed.Seconds() }

// sippCalls runs SIPp's built-in caller against uas: calls calls at rate
// per second, each held 100 ms and ended by the caller's BYE.
func sippCalls(tb testing.TB, uas string, rate, calls int) (cpsResult, error) {
	dir := tb.TempDir()
	start := time.Now()
	r := startSippTB(tb, dir, "-sn", "uac", uas, "-i", "127.0.0.1", "-p", strconv.Itoa(freePort(tb)),
		"-mp", strconv.Itoa(freePort(tb)&^1), "-r", strconv.Itoa(rate), "-m", strconv.Itoa(calls), "-d", "100",
		"-nostdin", "-timeout", "30s", "-timeout_error", "-trace_stat", "-stf", "stat.csv", "-fd", "1")
	var err error
	select {
	case err = <-r.done:
		r.done <- err
	case <-time.After(40 * time.Second):
		return cpsResult{}, errors.New("sipp uac did not finish in 40 s")
	}
	res := cpsResult{elapsed: time.Since(start)}
	if ps := r.cmd.ProcessState; ps != nil {
		res.cpu = ps.UserTime() + ps.SystemTime()
	}
	// The last line of the statistics file has the cumulative counters.
	b, rerr := os.ReadFile(filepath.Join(dir, "stat.csv"))
	if rerr != nil {
		return res, fmt.Errorf("sipp statistics: %w (exit %v)", rerr, err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	head, last := strings.Split(lines[0], ";"), strings.Split(lines[len(lines)-1], ";")
	for i, h := range head {
		if i >= len(last) {
			break
		}
		switch h {
		case "SuccessfulCall(C)":
			res.ok, _ = strconv.Atoi(last[i])
		case "FailedCall(C)":
			res.failed, _ = strconv.Atoi(last[i])
		}
	}
	if err != nil && res.failed == 0 {
		return res, fmt.Errorf("sipp uac: %w", err)
	}
	return res, nil
}

// dialtoneCalls places calls calls at rate per second through the carrier
// to uas; each is hung up (BYE) 100 ms after the answer.
func dialtoneCalls(tb testing.TB, uas string, rate, calls int) (cpsResult, error) {
	c, err := New(Config{Listen: "127.0.0.1:0", Trunks: []Trunk{{Name: "sipp", Address: uas}}, DefaultTrunk: "sipp",
		RTPTimeout: -1}, benchLog())
	if err != nil {
		return cpsResult{}, err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var ok, failed atomic.Int64
	var wg sync.WaitGroup
	cpu0 := cpuTime()
	start := time.Now()
	for i := 0; i < calls && ctx.Err() == nil; i++ {
		// Paced against the start so the offered rate does not drift.
		time.Sleep(time.Until(start.Add(time.Duration(i) * time.Second / time.Duration(rate))))
		l, err := c.Originate(ctx, dialtone.OriginateRequest{CallID: strconv.Itoa(i), Leg: "A", AccountUID: "bench",
			To: "13800000000", From: "05710000000", RingTimeout: 5 * time.Second})
		if err != nil {
			failed.Add(1)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			answered := false
			for ev := range l.Events() {
				switch ev.Kind {
				case dialtone.LegAnswered:
					answered = true
					time.AfterFunc(100*time.Millisecond, func() { _ = l.Hangup(ctx) })
				case dialtone.LegFailed:
					failed.Add(1)
				}
			}
			if answered {
				ok.Add(1)
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		return cpsResult{}, fmt.Errorf("calls still up after 30 s (%d ended)", ok.Load())
	}
	return cpsResult{ok: int(ok.Load()), failed: int(failed.Load()), elapsed: time.Since(start), cpu: cpuTime() - cpu0}, nil
}

// BenchmarkSIPCallsPerSecond: Dialtone as the caller against a SIPp
// answerer, beside SIPp calling SIPp at the same offered rate in the same
// run. The ratio of the two rates is the figure; CPU per call is the
// caller's own (this process; the SIPp caller's rusage).
func BenchmarkSIPCallsPerSecond(b *testing.B) {
	if _, err := exec.LookPath("sipp"); err != nil {
		b.Skip("sipp not installed")
	}
	for _, rate := range []int{250, 1000, 2000} {
		calls := min(2000, rate*4)
		b.Run(fmt.Sprintf("offered=%dcps", rate), func(b *testing.B) {
			for range b.N {
				sp, err := sippCalls(b, startSippUAS(b), rate, calls)
				if err != nil {
					b.Fatal(err)
				}
				dt, err := dialtoneCalls(b, startSippUAS(b), rate, calls)
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(dt.cps(), "dialtone_cps")
				b.ReportMetric(sp.cps(), "sipp_cps")
				b.ReportMetric(dt.cps()/sp.cps(), "ratio")
				b.ReportMetric(float64(dt.failed), "dialtone_failed")
				b.ReportMetric(float64(sp.failed), "sipp_failed")
				b.ReportMetric(float64(dt.cpu.Microseconds())/float64(max(dt.ok, 1)), "dialtone_cpu_us/call")
				b.ReportMetric(float64(sp.cpu.Microseconds())/float64(max(sp.ok, 1)), "sipp_cpu_us/call")
				b.Logf("%d calls offered at %d/s: dialtone %d ok %d failed in %v (%.0f cps); sipp %d ok %d failed in %v (%.0f cps)",
					calls, rate, dt.ok, dt.failed, dt.elapsed.Round(time.Millisecond), dt.cps(), sp.ok, sp.failed, sp.elapsed.Round(time.Millisecond), sp.cps())
			}
		})
	}
}

// The far end of BenchmarkSIPConcurrentRTP runs in a child process (this
// test binary, TestSIPBenchFarEnd), so the CPU and memory measured in
// this process are the carrier's alone. It answers every INVITE, discards
// RTP on a few sink sockets and notes when each packet was sent: the
// kernel stamps a datagram (SO_TIMESTAMPNS) as it is queued, which on
// loopback happens inside the sender's sendto, so the stamp is the send
// time whatever the far end's own scheduling.

const farEndEnv = "DIALTONE_SIP_BENCH_FAREND"

// farEndSinks is how many sockets receive RTP; each has a reader
// goroutine, so one slow read does not drop everyone's packets.
const farEndSinks = 8

// lateLimit is how late a packet may be sent after its slot.
const lateLimit = 5 * time.Millisecond

type farEndProc struct {
	sip   string
	sinks []string
	in    io.WriteCloser
	out   *bufio.Scanner
}

func startFarEnd(tb testing.TB) *farEndProc {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestSIPBenchFarEnd$", "-test.v=false")
	cmd.Env = append(os.Environ(), farEndEnv+"=1")
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	tb.Cleanup(func() {
		in.Close() // the far end exits when its stdin closes
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	f := &farEndProc{in: in, out: bufio.NewScanner(out)}
	line, err := f.line("FAREND ADDR", 10*time.Second)
	if err != nil {
		tb.Fatal(err)
	}
	for _, kv := range strings.Fields(line)[2:] {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "sip":
			f.sip = v
		case "sinks":
			f.sinks = strings.Split(v, ",")
		}
	}
	return f
}

// line returns the next stdout line starting with prefix (other lines are
// the test framework's).
func (f *farEndProc) line(prefix string, d time.Duration) (string, error) {
	got := make(chan string, 1)
	go func() {
		for f.out.Scan() {
			if strings.HasPrefix(f.out.Text(), prefix) {
				got <- f.out.Text()
				return
			}
		}
		close(got)
	}()
	select {
	case l, ok := <-got:
		if !ok {
			return "", fmt.Errorf("far end exited before %q", prefix)
		}
		return l, nil
	case <-time.After(d):
		return "", fmt.Errorf("no %q from the far end within %v", prefix, d)
	}
}

// lateness is what the far end measured over a window.
type lateness struct {
	packets, streams, late, late20 int
	p99, max                       time.Duration
}

func (l lateness) latePct() float64 { return 100 * float64(l.late) / float64(max(l.packets, 1)) }

// measure records packets for d and returns the lateness figures.
func (f *farEndProc) measure(d time.Duration) (lateness, error) {
	if _, err := io.WriteString(f.in, "start\n"); err != nil {
		return lateness{}, err
	}
	time.Sleep(d)
	if _, err := io.WriteString(f.in, "stop\n"); err != nil {
		return lateness{}, err
	}
	line, err := f.line("FAREND RESULT", 30*time.Second)
	if err != nil {
		return lateness{}, err
	}
	var r lateness
	var p99, mx int64
	_, err = fmt.Sscanf(line, "FAREND RESULT packets=%d streams=%d late=%d late20=%d p99us=%d maxus=%d",
		&r.packets, &r.streams, &r.late, &r.late20, &p99, &mx)
	r.p99, r.max = time.Duration(p99)*time.Microsecond, time.Duration(mx)*time.Microsecond
	return r, err
}

// TestSIPBenchFarEnd is the far end of BenchmarkSIPConcurrentRTP when run
// as its child process; otherwise it does nothing.
func TestSIPBenchFarEnd(t *testing.T) {
	if os.Getenv(farEndEnv) != "1" {
		t.Skip("the far end of BenchmarkSIPConcurrentRTP, run as its child process")
	}
	if err := runFarEnd(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "far end:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// sink is one RTP socket of the far end and what it recorded.
type sink struct {
	conn *net.UDPConn
	mu   sync.Mutex
	on   bool
	recs map[uint32]*sinkStream
}

// sinkStream holds, per packet of one SSRC, its send time minus its media
// time (RTP timestamp at 8 kHz), in ns.
type sinkStream struct {
	ts0  uint32
	offs []int64
}

func runFarEnd(stdin io.Reader, stdout io.Writer) error {
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("bench-farend"))
	if err != nil {
		return err
	}
	defer ua.Close()
	srv, err := sipgo.NewServer(ua)
	if err != nil {
		return err
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	addr := pc.LocalAddr().String()
	cli, err := sipgo.NewClient(ua, sipgo.WithClientConnectionAddr(addr), sipgo.WithClientHostname("127.0.0.1"))
	if err != nil {
		return err
	}
	host, portS, _ := net.SplitHostPort(addr)
	port, _ := strconv.Atoi(portS)
	dialogs := sipgo.NewDialogServerCache(cli, sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "farend", Host: host, Port: port}})

	sinks := make([]*sink, farEndSinks)
	names := make([]string, farEndSinks)
	for i := range sinks {
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			return err
		}
		defer c.Close()
		_ = c.SetReadBuffer(4 << 20)
		raw, err := c.SyscallConn()
		if err != nil {
			return err
		}
		var serr error
		if err := raw.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_TIMESTAMPNS, 1)
		}); err != nil || serr != nil {
			return fmt.Errorf("SO_TIMESTAMPNS: %v %v", err, serr)
		}
		sinks[i] = &sink{conn: c, recs: map[uint32]*sinkStream{}}
		names[i] = c.LocalAddr().String()
		go sinks[i].read()
	}
	var next atomic.Uint64
	srv.OnInvite(func(req *sip.Request, tx sip.ServerTransaction) {
		dlg, err := dialogs.ReadInvite(req, tx)
		if err != nil {
			return
		}
		defer dlg.Close()
		sk := sinks[next.Add(1)%farEndSinks]
		sdp := fmt.Sprintf("v=0\r\no=farend 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"+
			"m=audio %d RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n", sk.conn.LocalAddr().(*net.UDPAddr).Port)
		if err := dlg.RespondSDP([]byte(sdp)); err != nil {
			return
		}
		// Held until the call ends (sipgo ends the INVITE transaction when
		// the handler returns); bounded like every benchmark.
		select {
		case <-dlg.Context().Done():
		case <-time.After(3 * time.Minute):
		}
	})
	srv.OnAck(func(req *sip.Request, tx sip.ServerTransaction) { _ = dialogs.ReadAck(req, tx) })
	srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		if err := dialogs.ReadBye(req, tx); err != nil {
			_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusCallTransactionDoesNotExists, "No dialog", nil))
		}
	})
	go func() { _ = srv.ServeUDP(pc) }()
	for i := 0; i < 500; i++ {
		if _, err := ua.TransportLayer().GetConnection("udp", addr); err == nil {
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	fmt.Fprintf(stdout, "FAREND ADDR sip=%s sinks=%s\n", addr, strings.Join(names, ","))

	sc := bufio.NewScanner(stdin)
	for sc.Scan() {
		switch sc.Text() {
		case "start":
			for _, s := range sinks {
				s.mu.Lock()
				s.on, s.recs = true, map[uint32]*sinkStream{}
				s.mu.Unlock()
			}
		case "stop":
			var all []*sinkStream
			for _, s := range sinks {
				s.mu.Lock()
				s.on = false
				for _, r := range s.recs {
					all = append(all, r)
				}
				s.mu.Unlock()
			}
			fmt.Fprintln(stdout, summarize(all))
		}
	}
	return nil
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
		if !ok || n < 12 || buf[0]>>6 != 2 {
			continue
		}
		ts := binary.BigEndian.Uint32(buf[4:8])
		ssrc := binary.BigEndian.Uint32(buf[8:12])
		s.mu.Lock()
		if s.on {
			r := s.recs[ssrc]
			if r == nil {
				r = &sinkStream{ts0: ts, offs: make([]int64, 0, 512)}
				s.recs[ssrc] = r
			}
			media := int64(int32(ts-r.ts0)) * int64(time.Second) / sampleRate
			r.offs = append(r.offs, at-media)
		}
		s.mu.Unlock()
	}
}

// kernelStamp reads the SCM_TIMESTAMPNS control message (struct cmsghdr
// of 16 bytes on 64-bit Linux, then a struct timespec).
func kernelStamp(oob []byte) (int64, bool) {
	for len(oob) >= 16 {
		l := int(binary.NativeEndian.Uint64(oob[0:8]))
		level := int32(binary.NativeEndian.Uint32(oob[8:12]))
		typ := int32(binary.NativeEndian.Uint32(oob[12:16]))
		if l < 16 || l > len(oob) {
			return 0, false
		}
		if level == syscall.SOL_SOCKET && typ == syscall.SCM_TIMESTAMPNS && l >= 32 {
			sec := int64(binary.NativeEndian.Uint64(oob[16:24]))
			nsec := int64(binary.NativeEndian.Uint64(oob[24:32]))
			return sec*int64(time.Second) + nsec, true
		}
		oob = oob[(l+7)&^7:]
	}
	return 0, false
}

// summarize measures each packet against its stream's own clock: the
// slot of a packet is where its RTP timestamp puts it, with the phase of
// the stream's earliest-sent packet. A packet sent late stays late; a
// slot the pacer skipped shows up as every later packet being 20 ms late.
func summarize(streams []*sinkStream) string {
	var late, late20, packets int
	var all []int64
	for _, r := range streams {
		if len(r.offs) < 2 {
			continue // a stream that started or ended at the edge
		}
		base := slices.Min(r.offs)
		for _, o := range r.offs {
			d := o - base
			all = append(all, d)
			if d > int64(lateLimit) {
				late++
			}
			if d > int64(frameTime) {
				late20++
			}
		}
		packets += len(r.offs)
	}
	var p99, mx int64
	if len(all) > 0 {
		slices.Sort(all)
		p99 = all[min(len(all)-1, int(math.Ceil(0.99*float64(len(all))))-1)]
		mx = all[len(all)-1]
	}
	return fmt.Sprintf("FAREND RESULT packets=%d streams=%d late=%d late20=%d p99us=%d maxus=%d",
		packets, len(streams), late, late20, p99/1000, mx/1000)
}

// BenchmarkSIPConcurrentRTP holds N answered G.711 calls, each playing a
// prompt, and measures over a window: the share of packets sent more than
// 5 ms after their 20 ms slot, CPU per call (ms of CPU per second of
// call) and heap per call. Beside it, in the same run, a bare loop writes
// the same number of 172-byte packets every 20 ms from one goroutine on
// as many sockets: the cost of the system calls alone, the physical
// limit the pacer is measured against.
func BenchmarkSIPConcurrentRTP(b *testing.B) {
	const window = 5 * time.Second
	for _, n := range []int{200, 500, 1000, 2000} {
		b.Run(fmt.Sprintf("calls=%d", n), func(b *testing.B) {
			for range b.N {
				f := startFarEnd(b)
				r, err := runConcurrent(b, f, n, window)
				if err != nil {
					b.Fatal(err)
				}
				bare, bareCPU, err := runBare(f, n, window)
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(r.lat.latePct(), "late_pct")
				b.ReportMetric(float64(r.lat.p99.Microseconds())/1000, "p99_late_ms")
				b.ReportMetric(r.cpuPerCall, "cpu_ms_per_call_s")
				b.ReportMetric(r.kbPerCall, "KB_per_call")
				b.ReportMetric(bare.latePct(), "bare_late_pct")
				b.ReportMetric(bareCPU, "bare_cpu_ms_per_call_s")
				b.ReportMetric(float64(r.lat.packets)/(float64(n)*window.Seconds()*50)*100, "rx_pct")
				b.Logf("%d calls: %d packets from %d streams in %v; late>5ms %.3f%% (>20ms %d), p99 %v, max %v; CPU %.1f%% of a core = %.3f ms/call/s (bare sender %.3f, late %.3f%%); heap %.1f KB/call, %d goroutines",
					n, r.lat.packets, r.lat.streams, window, r.lat.latePct(), r.lat.late20, r.lat.p99, r.lat.max,
					r.cpuPerCall*float64(n)/10, r.cpuPerCall, bareCPU, bare.latePct(), r.kbPerCall, r.goroutines)
			}
		})
	}
}

type concurrentResult struct {
	lat        lateness
	cpuPerCall float64 // ms of CPU per second of one call
	kbPerCall  float64
	goroutines int
}

func runConcurrent(b *testing.B, f *farEndProc, n int, window time.Duration) (concurrentResult, error) {
	var res concurrentResult
	c, err := New(Config{Listen: "127.0.0.1:0", Trunks: []Trunk{{Name: "far", Address: f.sip}}, DefaultTrunk: "far",
		RTPTimeout: -1}, benchLog())
	if err != nil {
		return res, err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// One prompt shared by every call (Play only reads it): a minute of
	// tone, longer than any call here.
	prompt := tone(time.Minute, 440, 8000)

	runtime.GC()
	var m0 runtime.MemStats
	runtime.ReadMemStats(&m0)

	legs := make([]dialtone.Leg, 0, n)
	answered := make(chan error, n)
	start := time.Now()
	const rampCPS = 500
	for i := 0; i < n; i++ {
		time.Sleep(time.Until(start.Add(time.Duration(i) * time.Second / rampCPS)))
		l, err := c.Originate(ctx, dialtone.OriginateRequest{CallID: strconv.Itoa(i), Leg: "A", AccountUID: "bench",
			To: "13800000000", From: "05710000000", RingTimeout: 10 * time.Second})
		if err != nil {
			return res, fmt.Errorf("originate %d: %w", i, err)
		}
		legs = append(legs, l)
		go func() {
			once := false
			for ev := range l.Events() {
				switch ev.Kind {
				case dialtone.LegAnswered:
					once = true
					answered <- nil
					go func() { _, _ = l.Play(ctx, prompt, nil) }()
				case dialtone.LegFailed:
					if !once {
						once = true
						answered <- fmt.Errorf("call failed: %s %v", ev.Reason, ev.Detail)
					}
				}
			}
		}()
	}
	defer func() {
		// Hang up everything, bounded: Hangup waits at most 3 s per leg,
		// and they run side by side.
		var wg sync.WaitGroup
		for _, l := range legs {
			wg.Add(1)
			go func() { defer wg.Done(); _ = l.Hangup(ctx) }()
		}
		wg.Wait()
	}()
	for i := 0; i < n; i++ {
		select {
		case err := <-answered:
			if err != nil {
				return res, err
			}
		case <-ctx.Done():
			return res, fmt.Errorf("%d of %d calls answered: %w", i, n, ctx.Err())
		}
	}
	time.Sleep(time.Second) // every call is playing
	runtime.GC()
	var m1 runtime.MemStats
	runtime.ReadMemStats(&m1)
	res.kbPerCall = (float64(m1.HeapAlloc) - float64(m0.HeapAlloc)) / float64(n) / 1024
	res.goroutines = runtime.NumGoroutine()

	cpu0, t0 := cpuTime(), time.Now()
	lat, err := f.measure(window)
	cpu, wall := cpuTime()-cpu0, time.Since(t0)
	if err != nil {
		return res, err
	}
	res.lat = lat
	res.cpuPerCall = float64(cpu.Microseconds()) / 1000 / wall.Seconds() / float64(n)
	return res, nil
}

// runBare writes n streams of 172-byte RTP packets every 20 ms from one
// goroutine, one socket per stream, to the far end's sinks: no locks, no
// encoding, no SIP. Its CPU per call is the floor of any pacer.
func runBare(f *farEndProc, n int, window time.Duration) (lateness, float64, error) {
	type out struct {
		conn *net.UDPConn
		to   *net.UDPAddr
		pkt  []byte
	}
	outs := make([]out, 0, n)
	defer func() {
		for _, o := range outs {
			o.conn.Close()
		}
	}()
	for i := 0; i < n; i++ {
		conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			return lateness{}, 0, err
		}
		to, err := net.ResolveUDPAddr("udp", f.sinks[i%len(f.sinks)])
		if err != nil {
			conn.Close()
			return lateness{}, 0, err
		}
		pkt := make([]byte, 12+frameSamples)
		pkt[0], pkt[1] = 0x80, 0
		binary.BigEndian.PutUint32(pkt[8:], uint32(0x10000+i))
		outs = append(outs, out{conn, to, pkt})
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(frameTime)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			for i := range outs {
				o := &outs[i]
				binary.BigEndian.PutUint16(o.pkt[2:], binary.BigEndian.Uint16(o.pkt[2:])+1)
				binary.BigEndian.PutUint32(o.pkt[4:], binary.BigEndian.Uint32(o.pkt[4:])+frameSamples)
				_, _ = o.conn.WriteToUDP(o.pkt, o.to)
			}
		}
	}()
	time.Sleep(time.Second)
	cpu0, t0 := cpuTime(), time.Now()
	lat, err := f.measure(window)
	cpu, wall := cpuTime()-cpu0, time.Since(t0)
	close(stop)
	<-done
	return lat, float64(cpu.Microseconds()) / 1000 / wall.Seconds() / float64(n), err
}
