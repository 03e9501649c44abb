// Package test holds black-box tests of the dialtone binary: it is built
// once, started as a real process on loopback and driven over HTTP.
package test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone/pgtest"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "dialtone-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "dialtone")
	build := exec.Command("go", "build", "-o", binary, "../cmd/dialtone")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build dialtone: %v\n%s", err, out)
		os.Exit(1)
	}
	// pgtest.Main runs the tests and stops the PostgreSQL server that the
	// tests on a shared database start on first use.
	code := pgtest.Main(m)
	os.RemoveAll(dir)
	os.Exit(code)
}

// syncBuffer is a bytes.Buffer safe for a process writer and a test reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// node is one running dialtone serve process.
type node struct {
	t      *testing.T
	cmd    *exec.Cmd
	addr   string
	data   string
	stdout *syncBuffer
	stderr *syncBuffer
	done   chan error
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startNode runs `dialtone serve` on data with extra args and env, and waits
// until /readyz answers.
func startNode(t *testing.T, data string, env []string, args ...string) *node {
	t.Helper()
	n := tryStart(t, data, env, args...)
	if err := n.waitReady(20 * time.Second); err != nil {
		n.kill()
		t.Fatalf("dialtone did not become ready: %v\nstdout:\n%s\nstderr:\n%s", err, n.stdout, n.stderr)
	}
	t.Cleanup(n.kill)
	return n
}

func tryStart(t *testing.T, data string, env []string, args ...string) *node {
	t.Helper()
	n := &node{t: t, addr: freeAddr(t), data: data, stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan error, 1)}
	all := append([]string{"serve", "--data", data, "--http", n.addr}, args...)
	n.cmd = exec.Command(binary, all...)
	n.cmd.Env = append(cleanEnv(), env...)
	n.cmd.Stdout = n.stdout
	n.cmd.Stderr = n.stderr
	if err := n.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { n.done <- n.cmd.Wait() }()
	return n
}

// cleanEnv drops DIALTONE_* variables of the developer's shell.
func cleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DIALTONE_") {
			out = append(out, kv)
		}
	}
	return out
}

func (n *node) url() string { return "http://" + n.addr }

func (n *node) waitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		select {
		case err := <-n.done:
			n.done <- err
			return fmt.Errorf("exited: %v", err)
		default:
		}
		resp, err := http.Get(n.url() + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("timeout after %v", timeout)
}

// stop sends SIGTERM and returns the exit error (nil for exit 0).
func (n *node) stop(timeout time.Duration) error {
	n.t.Helper()
	_ = n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-n.done:
		n.done <- err
		return err
	case <-time.After(timeout):
		n.kill()
		return fmt.Errorf("no exit within %v", timeout)
	}
}

// kill ends the process unless it has ended. Whether it has is read from
// done, which its Wait fills, not from cmd.ProcessState, which that Wait
// writes concurrently.
func (n *node) kill() {
	select {
	case err := <-n.done:
		n.done <- err
		return
	default:
	}
	_ = n.cmd.Process.Kill()
	select {
	case err := <-n.done:
		n.done <- err
	case <-time.After(5 * time.Second):
	}
}

// runCLI runs the dialtone binary with args and returns stdout, stderr and
// the exit code.
func runCLI(t *testing.T, env []string, args ...string) (string, string, int) {
	t.Helper()
	return runCLIIn(t, "", env, args...)
}

// runCLIIn is runCLI in the working directory dir.
func runCLIIn(t *testing.T, dir string, env []string, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Dir = dir
	cmd.Env = append(cleanEnv(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

// credentialsFromFile reads DATA/credentials.
func credentialsFromFile(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		if k, v, ok := strings.Cut(line, "="); ok {
			out[k] = v
		}
	}
	return out
}

// getAuth is get with a bearer token.
func getAuth(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
