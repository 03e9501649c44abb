package compat

// Harness: builds cmd/dialtone from the parent module, runs it on loopback
// ports with testdata/provision.yaml, and provides a recording proxy that can
// replay or delay a request without touching the client.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Keys from testdata/provision.yaml.
const (
	fullAK        = "LTAIcompatFull000000001"
	fullSecret    = "compatFullSecret00000000000000001"
	disabledAK    = "LTAIcompatDisabled00001"
	disabledSec   = "compatDisabledSecret0000000000001"
	mnsOnlyAK     = "LTAIcompatMnsOnly000001"
	mnsOnlySecret = "compatMnsOnlySecret00000000000001"
	unknownAK     = "LTAIcompatUnknown000001"
	unknownSecret = "compatUnknownSecret00000000000001"
	wrongSecret   = "compatWrongSecret000000000000001"

	// Key of the default account created from the environment on first start.
	envAK     = "LTAIcompatEnvDefault001"
	envSecret = "compatEnvDefaultSecret00000000001"
	adminTok  = "compat-admin-token-0000000000000001"

	// A window short enough that the "delay" proxy mode exceeds it.
	shortWindow = 2 * time.Second
	proxyDelay  = 3 * time.Second
)

var (
	workDir string // temporary directory for the binary and data dirs

	buildOnce sync.Once
	binPath   string
	buildErr  error

	serversMu sync.Mutex
	servers   = map[string]*dialtone{} // by window flag; shared across tests
	serverErr = map[string]error{}
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "dialtone-compat-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "compat: temp dir:", err)
		os.Exit(2)
	}
	workDir = dir
	code := m.Run()

	// Stop the shared servers; a non-zero exit or a hang on SIGTERM fails the run.
	serversMu.Lock()
	for window, s := range servers {
		if err := s.stop(); err != nil {
			fmt.Fprintf(os.Stderr, "compat: shared server (window %s): %v\n--- server output ---\n%s\n", window, err, s.output())
			code = 1
		}
	}
	serversMu.Unlock()
	if code == 0 {
		os.RemoveAll(dir)
	} else {
		fmt.Fprintln(os.Stderr, "compat: kept", dir)
	}
	os.Exit(code)
}

// dialtoneBinary builds ../cmd/dialtone once. DIALTONE_COMPAT_BIN, if set,
// names a prebuilt binary to use instead.
func dialtoneBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		if p := os.Getenv("DIALTONE_COMPAT_BIN"); p != "" {
			binPath, buildErr = filepath.Abs(p)
			return
		}
		statServerSources()
		binPath = filepath.Join(workDir, "dialtone")
		ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "go", "build", "-o", binPath, "./cmd/dialtone")
		cmd.Dir = ".."
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build ./cmd/dialtone: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	// Opening the binary makes go test's result cache depend on it: a new
	// build (or a changed DIALTONE_COMPAT_BIN) is never answered from cache.
	if f, err := os.Open(binPath); err == nil {
		f.Close()
	}
	return binPath
}

// statServerSources stats the Go sources of the parent module, so that go
// test's result cache (which records the files a test touches) never answers
// from cache after the server code changed.
func statServerSources() {
	filepath.WalkDir("..", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() {
			switch d.Name() {
			case "compat", ".git", "node_modules", "data", "artifacts":
				if path != ".." {
					return filepath.SkipDir
				}
			}
			return nil
		}
		if n := d.Name(); strings.HasSuffix(n, ".go") || n == "go.mod" || n == "go.sum" || strings.HasSuffix(n, ".sql") {
			os.Stat(path)
		}
		return nil
	})
}

// dialtone is one running server process.
type dialtone struct {
	addr    string // 127.0.0.1:port
	data    string // its data directory (receipts_test.go writes calls there)
	cmd     *exec.Cmd
	out     *lockedBuffer
	done    chan struct{}
	waitErr error
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

func (s *dialtone) output() string { return s.out.String() }

// freePort returns a loopback port that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startDialtone starts a fresh server with its own data directory.
func startDialtone(t testing.TB, window time.Duration) (*dialtone, error) {
	t.Helper()
	return startDialtoneWith(t, window, filepath.Join("testdata", "provision.yaml"))
}

// startDialtoneWith starts a fresh server with its own data directory and
// the given provisioning file.
func startDialtoneWith(t testing.TB, window time.Duration, provision string) (*dialtone, error) {
	t.Helper()
	bin := dialtoneBinary(t)
	prov, err := filepath.Abs(provision)
	if err != nil {
		return nil, err
	}
	data, err := os.MkdirTemp(workDir, "data-")
	if err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	s := &dialtone{addr: addr, data: data, out: &lockedBuffer{}, done: make(chan struct{})}
	s.cmd = exec.Command(bin, "serve",
		"--data", data,
		"--http", addr,
		"--provision", prov,
		"--signature-window", window.String())
	s.cmd.Env = append(os.Environ(),
		"DIALTONE_ACCESS_KEY_ID="+envAK,
		"DIALTONE_ACCESS_KEY_SECRET="+envSecret,
		"DIALTONE_ADMIN_TOKEN="+adminTok)
	s.cmd.Stdout = s.out
	s.cmd.Stderr = s.out
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		s.waitErr = s.cmd.Wait()
		close(s.done)
	}()
	if err := s.waitReady(20 * time.Second); err != nil {
		s.kill()
		return nil, fmt.Errorf("%v\n--- server output ---\n%s", err, s.output())
	}
	return s, nil
}

func (s *dialtone) waitReady(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	client := &http.Client{Timeout: time.Second}
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			return fmt.Errorf("dialtone exited before ready: %v", s.waitErr)
		default:
		}
		resp, err := client.Get("http://" + s.addr + "/readyz")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("GET /readyz on %s not 200 within %v", s.addr, limit)
}

// stop sends SIGTERM and expects exit code 0 within 10 s.
func (s *dialtone) stop() error {
	select {
	case <-s.done:
		return fmt.Errorf("dialtone had already exited: %v", s.waitErr)
	default:
	}
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	select {
	case <-s.done:
		if s.waitErr != nil {
			return fmt.Errorf("exit after SIGTERM: %v (want exit code 0)", s.waitErr)
		}
		return nil
	case <-time.After(10 * time.Second):
		s.kill()
		return errors.New("no exit within 10 s of SIGTERM")
	}
}

func (s *dialtone) kill() {
	s.cmd.Process.Kill()
	<-s.done
}

// sharedDialtone returns the server instance for a signature window, starting
// it on first use. It is stopped in TestMain.
func sharedDialtone(t testing.TB, window time.Duration) *dialtone {
	t.Helper()
	key := window.String()
	serversMu.Lock()
	defer serversMu.Unlock()
	if s, ok := servers[key]; ok {
		return s
	}
	if err, ok := serverErr[key]; ok {
		t.Fatalf("dialtone (window %s) failed to start earlier: %v", key, err)
	}
	s, err := startDialtone(t, window)
	if err != nil {
		serverErr[key] = err
		t.Fatalf("start dialtone (window %s): %v", key, err)
	}
	servers[key] = s
	return s
}

// mainServer is the instance with the default 15-minute window.
func mainServer(t testing.TB) *dialtone { return sharedDialtone(t, 15*time.Minute) }

// shortServer is the instance with a 2-second window, for expired timestamps.
func shortServer(t testing.TB) *dialtone { return sharedDialtone(t, shortWindow) }

// ---- proxy ----

type proxyMode int

const (
	modePass      proxyMode = iota // forward once
	modeDuplicate                  // forward twice, answer with the second response
	modeDelay                      // wait proxyDelay, then forward once
)

// exchange is one request as the client sent it and one answer from Dialtone.
type exchange struct {
	Method     string
	URI        string
	Host       string
	Header     http.Header
	Body       []byte
	Status     int
	RespHeader http.Header
	RespBody   []byte
	Err        error
}

func (e exchange) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "> %s %s\n> Host: %s\n", e.Method, e.URI, e.Host)
	writeHeaders(&b, "> ", e.Header)
	fmt.Fprintf(&b, "> body: %q\n", e.Body)
	if e.Err != nil {
		fmt.Fprintf(&b, "< forward error: %v\n", e.Err)
		return b.String()
	}
	fmt.Fprintf(&b, "< %d\n", e.Status)
	writeHeaders(&b, "< ", e.RespHeader)
	fmt.Fprintf(&b, "< body: %s\n", e.RespBody)
	return b.String()
}

func writeHeaders(b *strings.Builder, prefix string, h http.Header) {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range h[k] {
			fmt.Fprintf(b, "%s%s: %s\n", prefix, k, v)
		}
	}
}

// proxy is a loopback HTTP server that forwards every request to Dialtone
// unchanged (method, request URI, headers including Host, body) and records
// what passed through.
type proxy struct {
	srv    *httptest.Server
	target string
	mode   proxyMode
	client *http.Client

	mu        sync.Mutex
	exchanges []exchange
}

// newProxy starts a proxy for one subtest. On failure it logs the traffic.
func newProxy(t *testing.T, target *dialtone, mode proxyMode) *proxy {
	t.Helper()
	p := &proxy{
		target: target.addr,
		mode:   mode,
		client: &http.Client{
			Transport: &http.Transport{DisableCompression: true, DisableKeepAlives: true},
			Timeout:   20 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		},
	}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(func() {
		p.srv.Close()
		if t.Failed() {
			t.Logf("traffic through the proxy (%s -> %s):\n%s", p.hostPort(), p.target, p.dump())
		}
	})
	return p
}

// hostPort is what the client uses as its endpoint, e.g. 127.0.0.1:40123.
func (p *proxy) hostPort() string { return strings.TrimPrefix(p.srv.URL, "http://") }

func (p *proxy) dump() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var b strings.Builder
	for i, e := range p.exchanges {
		fmt.Fprintf(&b, "--- exchange %d ---\n%s", i+1, e)
	}
	return b.String()
}

func (p *proxy) recorded() []exchange {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]exchange(nil), p.exchanges...)
}

// last returns the final recorded exchange (the one whose answer the client saw).
func (p *proxy) last(t *testing.T) exchange {
	t.Helper()
	ex := p.recorded()
	if len(ex) == 0 {
		t.Fatal("the client sent nothing through the proxy")
	}
	return ex[len(ex)-1]
}

func (p *proxy) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	times := 1
	switch p.mode {
	case modeDuplicate:
		times = 2
	case modeDelay:
		time.Sleep(proxyDelay)
	}
	var ex exchange
	for i := 0; i < times; i++ {
		ex = p.forward(r, body)
		p.mu.Lock()
		p.exchanges = append(p.exchanges, ex)
		p.mu.Unlock()
		if ex.Err != nil {
			http.Error(w, ex.Err.Error(), http.StatusBadGateway)
			return
		}
	}
	for k, vs := range ex.RespHeader {
		w.Header()[k] = vs
	}
	w.WriteHeader(ex.Status)
	w.Write(ex.RespBody)
}

func (p *proxy) forward(r *http.Request, body []byte) exchange {
	ex := exchange{Method: r.Method, URI: r.RequestURI, Host: r.Host, Header: r.Header.Clone(), Body: body}
	out, err := http.NewRequest(r.Method, "http://"+p.target+r.RequestURI, bytes.NewReader(body))
	if err != nil {
		ex.Err = err
		return ex
	}
	out.Header = r.Header.Clone()
	out.Header.Del("Connection")
	if _, ok := out.Header["User-Agent"]; !ok {
		out.Header["User-Agent"] = []string{""} // Go then sends none, like the client
	}
	out.Host = r.Host // the Host the client signed
	resp, err := p.client.Do(out)
	if err != nil {
		ex.Err = err
		return ex
	}
	defer resp.Body.Close()
	ex.Status = resp.StatusCode
	ex.RespHeader = resp.Header.Clone()
	ex.RespBody, ex.Err = io.ReadAll(resp.Body)
	return ex
}
