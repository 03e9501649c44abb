package examples_test

// The stream agents (echoagent in Go, tts_agent.py and pipecat_echo.py in
// examples/python), each driven by Dialtone's own side of a stream
// (package stream, dialling through the outbound egress policy) as a fake
// call on loopback: a known tone goes up, and what comes down is checked.
// The end-to-end tests through real calls are the engine's
// (go test -run TestStream ./engine/, the simulated network) and the SIP
// carrier's (go test -run TestE2EStream ./carrier/sip/).

import (
	"context"
	"encoding/json"
	"log/slog"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone/outbound"
	"github.com/dialtone-voice/dialtone/stream"
)

const streamSecret = "stream-secret-0123"

// agent starts a stream application and waits for its "listening" line.
func agent(t *testing.T, dir, name string, args ...string) <-chan string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 1000)
	go func() {
		defer close(lines)
		buf := make([]byte, 0, 4096)
		tmp := make([]byte, 4096)
		for {
			n, err := out.Read(tmp)
			buf = append(buf, tmp[:n]...)
			for {
				i := strings.IndexByte(string(buf), '\n')
				if i < 0 {
					break
				}
				lines <- string(buf[:i])
				buf = buf[i+1:]
			}
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	waitLine(t, lines, "listening")
	return lines
}

// pythonVenvs makes examples/python's virtual environments (once per
// machine: setup.sh rebuilds one only when its lock file is newer).
var pythonVenvs = sync.OnceValues(func() (string, error) {
	dir, err := filepath.Abs("../python")
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "./setup.sh")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", &exec.Error{Name: "setup.sh", Err: errorString(string(out) + err.Error())}
	}
	return dir, nil
})

type errorString string

func (e errorString) Error() string { return string(e) }

func streamClient(t *testing.T) *outbound.Client {
	t.Helper()
	pol, err := outbound.NewPolicy("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	c, err := outbound.New(outbound.Config{Policy: pol})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// dialAgent opens a stream to the agent at addr as Dialtone would for a call.
func dialAgent(t *testing.T, addr string, signer outbound.Signer, p stream.Params) (*stream.Session, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	p.Logger = slog.New(slog.DiscardHandler)
	s, err := stream.Dial(ctx, streamClient(t), outbound.Meta{Account: "1000000000000001"}, "ws://"+addr+"/stream", signer, p)
	if err == nil {
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			s.Close(ctx)
		})
	}
	return s, err
}

// pacer is the call's side: every 20 ms it sends the next frame of the
// call's audio (while send gives one) and plays a frame of the
// application's audio.
type pacer struct {
	mu    sync.Mutex
	heard []int16 // the application's audio, silence left out
	stop  chan struct{}
	done  chan struct{}
}

func pace(s *stream.Session, send func(i int) []int16) *pacer {
	p := &pacer{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		frame := make([]int16, stream.FrameSamples)
		for i := 0; ; i++ {
			select {
			case <-tick.C:
			case <-p.stop:
				return
			case <-s.Done():
				return
			}
			if f := send(i); f != nil {
				s.Send(f, time.Duration(i)*20*time.Millisecond)
			}
			if n := s.Read(frame); n > 0 {
				p.mu.Lock()
				p.heard = append(p.heard, frame[:n]...)
				p.mu.Unlock()
			}
		}
	}()
	return p
}

func (p *pacer) end() []int16 {
	select {
	case <-p.stop:
	default:
		close(p.stop)
	}
	<-p.done
	return p.heard
}

func (p *pacer) heardSamples() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.heard)
}

// tone440 is a 440 Hz sine for the first n frames.
func tone440(n int) func(i int) []int16 {
	return func(i int) []int16 {
		if i >= n {
			return nil
		}
		out := make([]int16, 160)
		for k := range out {
			out[k] = int16(8000 * math.Sin(2*math.Pi*440*float64(i*160+k)/8000))
		}
		return out
	}
}

func goertzel(pcm []int16, f float64) float64 {
	c := 2 * math.Cos(2*math.Pi*f/8000)
	var s1, s2 float64
	for _, x := range pcm {
		s1, s2 = float64(x)+c*s1-s2, s1
	}
	return s1*s1 + s2*s2 - c*s1*s2
}

func rms(pcm []int16) float64 {
	var sum float64
	for _, x := range pcm {
		sum += float64(x) * float64(x)
	}
	return math.Sqrt(sum / float64(max(len(pcm), 1)))
}

func waitDone(t *testing.T, s *stream.Session) stream.Ending {
	t.Helper()
	select {
	case <-s.Done():
		return s.Ending()
	case <-time.After(20 * time.Second):
		t.Fatal("the stream did not end")
		return stream.Ending{}
	}
}

// The Go echo agent (sdk.StreamHandler) plays back what it hears; # hangs
// up; an upgrade with another secret is refused.
func TestEchoAgent(t *testing.T) {
	addr := freeAddr(t)
	lines := agent(t, ".", filepath.Join(bin, "echoagent"), addr, streamSecret)
	if _, err := dialAgent(t, addr, outbound.Signer{Secret: "not-the-secret"}, stream.Params{CallID: "E0"}); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("a wrongly signed upgrade: %v", err)
	}
	call, err := dialAgent(t, addr, outbound.Signer{Secret: streamSecret}, stream.Params{CallID: "116012354148^10281378"})
	if err != nil {
		t.Fatal(err)
	}
	if l := waitLine(t, lines, "start "); l != "start 116012354148^10281378 "+call.StreamSID() {
		t.Fatalf("agent printed %q", l)
	}
	p := pace(call, tone440(50))
	for deadline := time.Now().Add(20 * time.Second); p.heardSamples() < 45*160; {
		if time.Now().After(deadline) {
			t.Fatalf("heard %d samples of the echo", p.heardSamples())
		}
		time.Sleep(20 * time.Millisecond)
	}
	heard := p.end()
	if a, b := goertzel(heard, 440), goertzel(heard, 1000); a < 100*b {
		t.Fatalf("the echo is not the 440 Hz tone (%g vs %g)", a, b)
	}
	call.DTMF("#")
	waitLine(t, lines, "dtmf 116012354148^10281378 #")
	if e := waitDone(t, call); e.Reason != stream.ReasonHangup || e.Detail != "the caller pressed #" {
		t.Fatalf("ending %+v", e)
	}
	sent := call.Stats().FramesSent
	waitLine(t, lines, "stop 116012354148^10281378 echoed "+strconv.FormatInt(sent, 10)+" frames")
}

// The Python agent answers with espeak-ng speech: it receives start and
// the call's media, its greeting is heard (not silence), its marks come
// back once played, a key gets an answer.
func TestPythonTTSAgent(t *testing.T) {
	dir, err := pythonVenvs()
	if err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	lines := agent(t, dir, filepath.Join(dir, ".venv", "bin", "python"), "-u", "tts_agent.py", addr, streamSecret)
	if _, err := dialAgent(t, addr, outbound.Signer{}, stream.Params{CallID: "P0"}); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("an unsigned upgrade: %v", err)
	}
	waitLine(t, lines, "refused an upgrade")
	call, err := dialAgent(t, addr, outbound.Signer{Secret: streamSecret}, stream.Params{CallID: "C-python-1",
		Custom: map[string]string{"greeting": "Your order has shipped.", "order": "A-1001"}})
	if err != nil {
		t.Fatal(err)
	}
	want := `start C-python-1 ` + call.StreamSID() + ` {"greeting": "Your order has shipped.", "order": "A-1001"}`
	if l := waitLine(t, lines, "start "); l != want {
		t.Fatalf("agent printed %q\nwant %q", l, want)
	}
	p := pace(call, tone440(100))
	said := waitLine(t, lines, "said greeting ")
	frames, _ := strconv.Atoi(strings.Fields(said)[2])
	waitLine(t, lines, "mark greeting")
	// The mark came back once the greeting was played: all of it has been.
	if got := p.heardSamples(); frames < 25 || got < frames*160*9/10 {
		t.Fatalf("greeting of %d frames, %d samples heard at its mark", frames, got)
	}
	call.DTMF("5")
	waitLine(t, lines, "dtmf 5")
	waitLine(t, lines, "mark dtmf-5")
	heard := p.end()
	if level := rms(heard); level < 300 {
		t.Fatalf("the agent's speech is silence (RMS %.0f over %d samples)", level, len(heard))
	}
	sent := call.Stats().FramesSent
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := call.Close(ctx); err != nil {
		t.Fatal(err)
	}
	waitLine(t, lines, "stop C-python-1 media "+strconv.FormatInt(sent, 10))
	if st := call.Stats(); st.Invalid != 0 || st.Playout.Dropped != 0 || st.MediaReceived < int64(frames) {
		t.Fatalf("stats %+v", st)
	}
}

// pipecat's Twilio serializer and handshake parser, unchanged, take a
// Dialtone stream for Twilio's: what Dialtone's encoder sends, pipecat
// reads; what pipecat writes, Dialtone's decoder accepts, every message.
func TestPipecatTwilioSerializer(t *testing.T) {
	dir, err := pythonVenvs()
	if err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	lines := agent(t, dir, filepath.Join(dir, ".venv-pipecat", "bin", "python"), "-u", "pipecat_echo.py", addr)
	call, err := dialAgent(t, addr, outbound.Signer{Secret: streamSecret}, stream.Params{CallID: "116012354148^10281379",
		Custom: map[string]string{"from_number": "13800000016", "lang": "zh"}})
	if err != nil {
		t.Fatal(err)
	}
	l := waitLine(t, lines, "transport ")
	f := strings.SplitN(l, " ", 5)
	var body map[string]string
	if len(f) != 5 || f[1] != "twilio" || f[2] != call.StreamSID() || f[3] != "116012354148^10281379" ||
		json.Unmarshal([]byte(f[4]), &body) != nil || body["lang"] != "zh" || body["from_number"] != "13800000016" {
		t.Fatalf("pipecat parsed %q", l)
	}
	p := pace(call, tone440(75))
	waitLine(t, lines, "audio 16000 Hz 1 channel")
	for deadline := time.Now().Add(20 * time.Second); p.heardSamples() < 50*160; {
		if time.Now().After(deadline) {
			t.Fatalf("heard %d samples of the echo", p.heardSamples())
		}
		time.Sleep(20 * time.Millisecond)
	}
	call.DTMF("5")
	waitLine(t, lines, "dtmf 5")
	waitLine(t, lines, "mark after-5")
	heard := p.end()
	if a, b, c := goertzel(heard, 440), goertzel(heard, 1000), goertzel(heard, 300); a < 50*b || a < 50*c {
		t.Fatalf("the echo is not the 440 Hz tone (%g vs %g at 1 kHz, %g at 300 Hz)", a, b, c)
	}
	st := call.Stats()
	if st.Invalid != 0 || st.MediaReceived == 0 || st.Playout.Clears != 1 || st.Playout.Marks != 1 {
		t.Fatalf("stats %+v", st)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := call.Close(ctx); err != nil {
		t.Fatal(err)
	}
	// 1.5 s went up; pipecat's resampler holds back a little of it.
	l = waitLine(t, lines, "stop 116012354148^10281379 samples ")
	if n, _ := strconv.Atoi(strings.Fields(l)[3]); n < 16000 {
		t.Fatalf("pipecat decoded %d samples at 16 kHz of 1.5 s: %q", n, l)
	}
}
