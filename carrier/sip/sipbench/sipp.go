package sipbench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dialtone-voice/dialtone/internal/udpport"
)

// ErrNoSipp is returned when the sipp command (Debian sip-tester) is not
// on PATH.
var ErrNoSipp = errors.New("sipp not installed (Debian sip-tester)")

// SippInstalled reports whether the sipp command is on PATH.
func SippInstalled() bool {
	_, err := exec.LookPath("sipp")
	return err == nil
}

// Sipp is a running SIPp process.
type Sipp struct {
	// Addr is where a SIPp answerer listens (host:port); empty for a caller.
	Addr string

	cmd  *exec.Cmd
	out  lockedBuf
	done chan struct{} // closed when the process has exited
	err  error         // of Wait, once done is closed
}

// startSipp starts sipp with args in dir. It is killed when ctx ends.
func startSipp(ctx context.Context, dir string, args ...string) (*Sipp, error) {
	bin, err := exec.LookPath("sipp")
	if err != nil {
		return nil, ErrNoSipp
	}
	s := &Sipp{done: make(chan struct{})}
	s.cmd = exec.CommandContext(ctx, bin, args...)
	s.cmd.Dir = dir
	s.cmd.Stdout, s.cmd.Stderr = &s.out, &s.out
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start sipp: %w", err)
	}
	go func() { s.err = s.cmd.Wait(); close(s.done) }()
	return s, nil
}

// Close kills SIPp if it is still running and waits for it.
func (s *Sipp) Close() error {
	select {
	case <-s.done:
		return nil
	default:
	}
	if err := s.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("kill sipp: %w", err)
	}
	<-s.done
	return nil
}

// output is the start of what SIPp printed, for error messages.
func (s *Sipp) output() string {
	return strings.TrimSpace(s.out.String())
}

// lockedBuf lets SIPp's stdout and stderr share one buffer.
type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *lockedBuf) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.b.Len() > 64<<10 {
		return len(p), nil // SIPp redraws its screen every second: keep the start
	}
	return w.b.Write(p)
}

func (w *lockedBuf) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := w.b.String()
	if len(s) > 2000 {
		s = s[:2000]
	}
	return s
}

// StartSippUAS runs SIPp's built-in answerer on a free loopback port (at
// most two minutes) and returns once it listens. dir is its working
// directory. Close it when done.
func StartSippUAS(ctx context.Context, dir string) (*Sipp, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	mport, err := freePort()
	if err != nil {
		return nil, err
	}
	s, err := startSipp(ctx, dir, "-sn", "uas", "-i", "127.0.0.1", "-p", strconv.Itoa(port),
		"-mp", strconv.Itoa(mport&^1), "-nostdin", "-timeout", "120s")
	if err != nil {
		return nil, err
	}
	s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	// SIPp says nothing when it is ready; its port being taken is the sign.
	for range 100 {
		// Looked up, not bound: binding it to see would race SIPp's bind.
		bound, err := udpport.Bound(port)
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("probe sipp uas: %w", err)
		}
		if bound {
			return s, nil
		}
		select {
		case <-s.done:
			return nil, fmt.Errorf("sipp uas exited: %v: %s", s.err, s.output())
		case <-ctx.Done():
			s.Close()
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	s.Close()
	return nil, fmt.Errorf("sipp uas did not listen on %s within 2 s", s.Addr)
}

// freePort is a UDP port free on 127.0.0.1 a moment ago.
func freePort() (int, error) {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port, nil
}

// CPSResult is one side of the calls-per-second comparison.
type CPSResult struct {
	OK, Failed int
	Elapsed    time.Duration
	// CPU is the caller's own: this process for Dialtone, the SIPp
	// caller's rusage for SIPp.
	CPU time.Duration
}

// CPS is the rate of successful calls.
func (r CPSResult) CPS() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.OK) / r.Elapsed.Seconds()
}

// CPUPerCall is the caller's CPU per successful call.
func (r CPSResult) CPUPerCall() time.Duration {
	return r.CPU / time.Duration(max(r.OK, 1))
}

// SippCalls runs SIPp's built-in caller against the answerer at uas:
// calls calls offered at rate per second, each held 100 ms and ended by
// the caller's BYE. Its files go to a new directory under dir. The calls
// carry no media.
func SippCalls(ctx context.Context, dir, uas string, rate, calls int) (CPSResult, error) {
	return sippCalls(ctx, dir, uas, rate, calls, false)
}

// SippCallsRTP is SippCalls with media, as Dialtone's calls have: a
// scenario of the same messages in which each call sends G.711 µ-law RTP
// (SIPp's rtp_stream, 20 ms packets from a WAV file) from the ACK to the
// BYE, so that the two callers' CPU per call compares the same work.
func SippCallsRTP(ctx context.Context, dir, uas string, rate, calls int) (CPSResult, error) {
	return sippCalls(ctx, dir, uas, rate, calls, true)
}

func sippCalls(ctx context.Context, dir, uas string, rate, calls int, media bool) (CPSResult, error) {
	if rate <= 0 || calls <= 0 {
		return CPSResult{}, fmt.Errorf("sipp calls: rate %d and calls %d must be positive", rate, calls)
	}
	wd, err := os.MkdirTemp(dir, "sipp-uac-")
	if err != nil {
		return CPSResult{}, fmt.Errorf("sipp calls: %w", err)
	}
	scenario := []string{"-sn", "uac"}
	if media {
		if err := writeRTPScenario(wd); err != nil {
			return CPSResult{}, err
		}
		scenario = []string{"-sf", rtpScenarioFile}
	}
	port, err := freePort()
	if err != nil {
		return CPSResult{}, err
	}
	mport, err := freePort()
	if err != nil {
		return CPSResult{}, err
	}
	start := time.Now()
	s, err := startSipp(ctx, wd, append(scenario, uas, "-i", "127.0.0.1", "-p", strconv.Itoa(port),
		"-mp", strconv.Itoa(mport&^1), "-r", strconv.Itoa(rate), "-m", strconv.Itoa(calls), "-d", "100",
		"-nostdin", "-timeout", "30s", "-timeout_error", "-trace_stat", "-stf", "stat.csv", "-fd", "1")...)
	if err != nil {
		return CPSResult{}, err
	}
	defer s.Close()
	select {
	case <-s.done:
	case <-ctx.Done():
		return CPSResult{}, ctx.Err()
	case <-time.After(40 * time.Second): // its own -timeout is 30 s
		return CPSResult{}, errors.New("sipp uac did not finish in 40 s")
	}
	res := CPSResult{Elapsed: time.Since(start)}
	if ps := s.cmd.ProcessState; ps != nil {
		res.CPU = ps.UserTime() + ps.SystemTime()
	}
	b, err := os.ReadFile(filepath.Join(wd, "stat.csv"))
	if err != nil {
		return res, fmt.Errorf("sipp statistics: %w (exit %v: %s)", err, s.err, s.output())
	}
	if res.OK, res.Failed, err = parseSippStat(b); err != nil {
		return res, err
	}
	// SIPp exits non-zero when any call failed; that is a figure, not an
	// error of the run.
	if s.err != nil && res.Failed == 0 {
		return res, fmt.Errorf("sipp uac: %w: %s", s.err, s.output())
	}
	return res, nil
}

// parseSippStat reads the successful and failed call counts from SIPp's
// statistics file (-trace_stat): a header line of ';'-separated column
// names, then one line per period; the last line holds the cumulative
// counters (the "(C)" columns).
func parseSippStat(b []byte) (ok, failed int, err error) {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) < 2 {
		return 0, 0, fmt.Errorf("sipp statistics: %d lines, want a header and a period", len(lines))
	}
	head, last := strings.Split(lines[0], ";"), strings.Split(lines[len(lines)-1], ";")
	found := 0
	for i, h := range head {
		var dst *int
		switch strings.TrimSpace(h) {
		case "SuccessfulCall(C)":
			dst = &ok
		case "FailedCall(C)":
			dst = &failed
		default:
			continue
		}
		if i >= len(last) {
			return 0, 0, fmt.Errorf("sipp statistics: last line has %d columns, %s is column %d", len(last), h, i+1)
		}
		if *dst, err = strconv.Atoi(strings.TrimSpace(last[i])); err != nil {
			return 0, 0, fmt.Errorf("sipp statistics: %s: %w", h, err)
		}
		found++
	}
	if found != 2 {
		return 0, 0, errors.New("sipp statistics: no SuccessfulCall(C) and FailedCall(C) columns")
	}
	return ok, failed, nil
}
