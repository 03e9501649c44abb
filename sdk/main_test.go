package sdk_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone/sdk"
)

// A real Dialtone runs on loopback for the examples and tests: TestMain
// builds ../cmd/dialtone, provisions two accounts (one for the examples,
// one for the consumer tests so that their queues stay apart) and a
// simulated network at time_scale 0.02.

// Set by TestMain; the examples read them.
var (
	endpoint        string // host:port of the node
	accessKeyID     = "LTAIsdkexample00000001"
	accessKeySecret = "sdkExampleSecret00000000000001"
	adminToken      = "sdk-admin-token"
	dialtoneBin     string // the built dialtone command
)

// The consumer tests' account.
const (
	consumerUID    = "4000000000000088"
	consumerKeyID  = "LTAIsdkconsumer0000001"
	consumerSecret = "sdkConsumerSecret0000000000001"
	exampleUID     = "4000000000000077"
)

// callbacks routes the SmartCall callback URL to the handler a test or
// example installs.
var callbacks = &switchHandler{}

type switchHandler struct{ h atomic.Value }

func (s *switchHandler) Set(h http.Handler) { s.h.Store(&h) }

func (s *switchHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h, ok := s.h.Load().(*http.Handler); ok && *h != nil {
		(*h).ServeHTTP(w, r)
		return
	}
	http.Error(w, "no callback handler installed", http.StatusServiceUnavailable)
}

// pushes receives the HTTP batch pushes of the example account's
// VoiceCallReport subscription (signed with pushSecret).
var pushes = &switchHandler{}

const pushSecret = "sdk-push-secret"

// serveCallback installs h as the SmartCall callback server of the
// provisioned smartcall_callback_url.
func serveCallback(h http.Handler) { callbacks.Set(h) }

const provisioning = `accounts:
  - uid: "` + exampleUID + `"
    name: sdk-examples
    access_keys:
      - id: LTAIsdkexample00000001
        secret: sdkExampleSecret00000000000001
    numbers:
      - {number: "057188880000", concurrency: 50}
      - {number: "057188880001", concurrency: 50}
    tts_templates:
      - {code: TTS_100001, kind: verification, content: "您的验证码是${code}，5分钟内有效。"}
      - {code: TTS_100002, kind: notification, content: "Hello ${name}, your order ${order} has shipped."}
      - {code: TTS_100003, kind: notification, content: "Press 1 to confirm your order ${order}, 2 to cancel."}
      - {code: TTS_100004, kind: notification, content: "Your order is confirmed."}
    voice_files:
      - {code: e271f3f2-e155-4366-a9f4-0fe55765b3ec.wav, path: welcome.wav, kind: notification}
    flow_control: {per_minute: 0, per_hour: 0, per_day: 0}
    subscriptions:
      - {message_type: VoiceReport, queue: true}
      - {message_type: VoiceCallReport, push_url: PUSH_URL, push_secret: sdk-push-secret}
    smartcall_callback_url: CALLBACK_URL
  - uid: "` + consumerUID + `"
    name: sdk-consumer
    access_keys:
      - id: ` + consumerKeyID + `
        secret: ` + consumerSecret + `
    numbers:
      - {number: "057188889999", concurrency: 50}
    tts_templates:
      - {code: TTS_200001, kind: notification, content: "Hello ${name}."}
    flow_control: {per_minute: 0, per_hour: 0, per_day: 0}
    subscriptions:
      - {message_type: VoiceReport, queue: true}
      - {message_type: VoiceCallReport, queue: true}
network:
  time_scale: 0.02
  default:
    answer_after: 2s
  subscribers:
    - number: "13800000001"
      answer_after: 3s
      dtmf: [{ after_prompt: 1, digits: "1" }]
    - number: "13800000002"
      result: busy
    - number: "13800000003"
      answer_after: 1s
      say: ["我想查询订单", "好的，谢谢"]
    - number: "13800000004"
      answer_after: 1s
      hangup_after: 1s
`

func TestMain(m *testing.M) { os.Exit(runMain(m)) }

func runMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "dialtone-sdk-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	dialtoneBin = filepath.Join(dir, "dialtone")
	build := exec.Command("go", "build", "-o", dialtoneBin, "../cmd/dialtone")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build dialtone: %v\n%s", err, out)
		return 1
	}
	cbl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	cbs := &http.Server{Handler: callbacks}
	go cbs.Serve(cbl)
	defer cbs.Close()
	pl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ps := &http.Server{Handler: pushes}
	go ps.Serve(pl)
	defer ps.Close()
	prov := strings.Replace(provisioning, "CALLBACK_URL", "http://"+cbl.Addr().String()+"/smartcall", 1)
	prov = strings.Replace(prov, "PUSH_URL", "http://"+pl.Addr().String()+"/receipts", 1)
	if err := os.WriteFile(filepath.Join(dir, "p.yaml"), []byte(prov), 0o600); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := os.WriteFile(filepath.Join(dir, "welcome.wav"), toneWAV(), 0o600); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	node, err := startNode(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer node.stop()
	return m.Run()
}

type runningNode struct {
	cmd    *exec.Cmd
	done   chan struct{}
	stderr *lockedBuffer
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func startNode(dir string) (*runningNode, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	endpoint = l.Addr().String()
	l.Close()
	n := &runningNode{done: make(chan struct{}), stderr: &lockedBuffer{}}
	n.cmd = exec.Command(dialtoneBin, "serve", "--data", filepath.Join(dir, "data"), "--http", endpoint,
		"--provision", filepath.Join(dir, "p.yaml"), "--log-level", "warn")
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DIALTONE_") && !strings.HasPrefix(kv, "ALIBABA_CLOUD_") {
			env = append(env, kv)
		}
	}
	n.cmd.Env = append(env, "DIALTONE_ADMIN_TOKEN="+adminToken)
	n.cmd.Stdout = n.stderr
	n.cmd.Stderr = n.stderr
	if err := n.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { n.cmd.Wait(); close(n.done) }()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-n.done:
			return nil, fmt.Errorf("dialtone exited:\n%s", n.stderr)
		default:
		}
		resp, err := http.Get("http://" + endpoint + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return n, nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	n.stop()
	return nil, fmt.Errorf("dialtone not ready after 30s:\n%s", n.stderr)
}

func (n *runningNode) stop() {
	_ = n.cmd.Process.Signal(os.Interrupt)
	select {
	case <-n.done:
	case <-time.After(10 * time.Second):
		_ = n.cmd.Process.Kill()
		<-n.done
	}
}

// toneWAV is one second of a 440 Hz tone, 8 kHz mono PCM16.
func toneWAV() []byte {
	const rate, n = 8000, 8000
	var b bytes.Buffer
	w := func(v any) { binary.Write(&b, binary.LittleEndian, v) }
	b.WriteString("RIFF")
	w(uint32(36 + 2*n))
	b.WriteString("WAVEfmt ")
	w(uint32(16))
	w(uint16(1))
	w(uint16(1))
	w(uint32(rate))
	w(uint32(2 * rate))
	w(uint16(2))
	w(uint16(16))
	b.WriteString("data")
	w(uint32(2 * n))
	for i := 0; i < n; i++ {
		w(int16(8000 * math.Sin(2*math.Pi*440*float64(i)/rate)))
	}
	return b.Bytes()
}

// newClient returns a client of the example account.
func newClient(t testing.TB, mod ...func(*sdk.Config)) *sdk.Client {
	t.Helper()
	cfg := sdk.Config{AccessKeyID: accessKeyID, AccessKeySecret: accessKeySecret, Endpoint: endpoint}
	for _, f := range mod {
		f(&cfg)
	}
	c, err := sdk.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
