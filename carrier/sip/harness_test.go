package sip

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/carrier/sip/sipconf"
	"github.com/dialtone-voice/dialtone/internal/udpport"
	"github.com/emiago/sipgo"
)

// freeUDPPort returns a loopback UDP port that was free a moment ago.
func freeUDPPort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// sippProc is a running SIPp far end.
type sippProc struct {
	addr string
	cmd  *exec.Cmd
	out  *bytes.Buffer
	done chan error
}

// startSipp runs SIPp as a UAS on loopback for one call. scenario is a
// file under testdata or "uas" for the built-in one.
func startSipp(t *testing.T, scenario string, extra ...string) *sippProc {
	t.Helper()
	bin, err := exec.LookPath("sipp")
	if err != nil {
		t.Fatalf("sipp not found (install the Debian package sip-tester, or run scripts/install-deps.sh): %v", err)
	}
	port := freeUDPPort(t)
	mport := freeMediaPorts(t)
	dir := t.TempDir()
	args := []string{"-i", "127.0.0.1", "-p", strconv.Itoa(port), "-mp", strconv.Itoa(mport),
		"-m", "1", "-timeout", "30s", "-timeout_error", "-nostdin", "-trace_err", "-error_file", filepath.Join(dir, "err.log"),
		"-max_recv_loops", "1000"}
	switch {
	case scenario == "uas":
		args = append(args, "-sn", "uas")
	case filepath.IsAbs(scenario):
		args = append(args, "-sf", scenario) // written by the test
	default:
		args = append(args, "-sf", filepath.Join("testdata", scenario))
	}
	args = append(args, extra...)
	var out bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Dir, _ = os.Getwd()
	if err := cmd.Start(); err != nil {
		t.Fatalf("start sipp: %v", err)
	}
	p := &sippProc{addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), cmd: cmd, out: &out, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			errLog, _ := os.ReadFile(filepath.Join(dir, "err.log"))
			t.Logf("sipp %s errors:\n%s", scenario, errLog)
		}
	})
	// Ready when its port is taken (bounded wait).
	for i := 0; i < 100; i++ {
		select {
		case err := <-p.done:
			// Exited: its output is complete and safe to read.
			p.done <- err
			t.Fatalf("sipp exited before listening on %s: %v\n%s", p.addr, err, out.String())
		default:
		}
		// Looked up, not bound: binding it to see would race SIPp's bind.
		bound, err := udpport.Bound(port)
		if err != nil {
			t.Fatal(err)
		}
		if bound {
			return p
		}
		time.Sleep(20 * time.Millisecond)
	}
	_ = cmd.Process.Kill()
	err = <-p.done
	p.done <- err // for Cleanup
	t.Fatalf("sipp did not start listening on %s:\n%s", p.addr, out.String())
	return nil
}

// freeMediaPorts returns an even loopback port from which SIPp's four
// media ports (audio RTP and RTCP, video RTP and RTCP) were all free a
// moment ago; one free port alone often has a busy neighbour.
func freeMediaPorts(t *testing.T) int {
	t.Helper()
	for range 50 {
		base := freeUDPPort(t) &^ 1
		ok := true
		var held []net.PacketConn
		for p := base; p < base+4 && ok; p++ {
			c, err := net.ListenPacket("udp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
			if err != nil {
				ok = false
				break
			}
			held = append(held, c)
		}
		for _, c := range held {
			c.Close()
		}
		if ok {
			return base
		}
	}
	t.Fatal("no four free consecutive UDP ports on loopback")
	return 0
}

// wait waits for SIPp to finish its one call and reports whether it
// considered the call successful (exit status 0).
func (p *sippProc) wait(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case err := <-p.done:
		p.done <- err // for Cleanup
		if err != nil {
			t.Errorf("sipp failed: %v", err)
		}
	case <-time.After(d):
		t.Errorf("sipp still running after %v", d)
	}
}

// newTestCarrier runs a carrier on loopback with one trunk to addr.
func newTestCarrier(t *testing.T, addr string, mod func(*Config)) *Carrier {
	t.Helper()
	cfg := Config{Config: sipconf.Config{
		Listen:       "127.0.0.1:0",
		Trunks:       []Trunk{{Name: "t", Address: addr}},
		DefaultTrunk: "t",
	}}
	if mod != nil {
		mod(&cfg)
	}
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	c, err := New(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// testWriter sends logs to t.Log while the test runs.
type testWriter struct{ t *testing.T }

var logMu sync.Mutex

func (w testWriter) Write(p []byte) (int, error) {
	logMu.Lock()
	defer logMu.Unlock()
	w.t.Log(string(bytes.TrimRight(p, "\n")))
	return len(p), nil
}

var _ io.Writer = testWriter{}

// nextEvent waits for the leg's next event.
func nextEvent(t *testing.T, l dialtone.Leg, d time.Duration) (dialtone.LegEvent, bool) {
	t.Helper()
	select {
	case ev, ok := <-l.Events():
		return ev, ok
	case <-time.After(d):
		t.Fatalf("no event within %v", d)
		return dialtone.LegEvent{}, false
	}
}

// waitFor reads events until one of kind arrives (failing on the channel
// closing first); it returns the kinds seen before.
func waitFor(t *testing.T, l dialtone.Leg, kind dialtone.LegEventKind, d time.Duration) (dialtone.LegEvent, []dialtone.LegEventKind) {
	t.Helper()
	deadline := time.Now().Add(d)
	var seen []dialtone.LegEventKind
	for {
		ev, ok := nextEvent(t, l, time.Until(deadline))
		if !ok {
			t.Fatalf("events closed before %s; saw %v", kind, seen)
		}
		if ev.Kind == kind {
			return ev, seen
		}
		seen = append(seen, ev.Kind)
	}
}

// waitClosed waits for the events channel to close.
func waitClosed(t *testing.T, l dialtone.Leg, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		select {
		case _, ok := <-l.Events():
			if !ok {
				return
			}
		case <-time.After(time.Until(deadline)):
			t.Fatalf("events not closed within %v", d)
		}
	}
}

func originate(t *testing.T, c *Carrier, to string, ring time.Duration) dialtone.Leg {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	l, err := c.Originate(ctx, dialtone.OriginateRequest{CallID: t.Name(), Leg: "A", AccountUID: "acct", To: to, From: "05710000000", RingTimeout: ring})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func tone(d time.Duration, freq float64, amp int16) *dialtone.Audio {
	n := int(d * sampleRate / time.Second)
	a := &dialtone.Audio{Samples: make([]int16, n), Label: fmt.Sprintf("tone %v Hz", freq)}
	for i := range a.Samples {
		// A triangle-ish wave is enough: we test presence and length.
		ph := float64(i) * freq / sampleRate
		ph -= float64(int(ph))
		v := 4*ph - 1
		if ph > 0.5 {
			v = 3 - 4*ph
		}
		a.Samples[i] = int16(v * float64(amp))
	}
	return a
}

// checkToneBothWays checks an ended call that carried a second or more of
// tone each way: we received at least 25 packets, the far end heard at
// least 25 frames, and the far end's BYE exchange completed.
func checkToneBothWays(t *testing.T, l dialtone.Leg, u *testUAS) {
	t.Helper()
	if n, _ := strconv.Atoi(l.Stats()["packets_received"]); n < 25 {
		t.Errorf("received %d packets in a second of tone", n)
	}
	u.mu.Lock()
	heard := len(u.heard)
	u.mu.Unlock()
	if heard < 25*frameSamples {
		t.Errorf("far end heard %d samples", heard)
	}
	select {
	case <-u.bye:
	case <-time.After(5 * time.Second):
		t.Error("far end's BYE did not complete")
	}
}

// forgerClient is a SIP client of a third party that knows our address
// (host and port of c), for sending forged in-dialog requests.
func forgerClient(t *testing.T, c *Carrier) (cli *sipgo.Client, host string, port int) {
	t.Helper()
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("forger"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ua.Close() })
	cli, err = sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	host, portS, _ := net.SplitHostPort(c.Addr())
	port, _ = strconv.Atoi(portS)
	return cli, host, port
}
