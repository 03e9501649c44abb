package test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestReadmeFiveMinutes runs the commands of the README's "Five minutes
// with Dialtone" section, as a reader would, against a fresh server: the
// first block starts the server, the others run in order, each block as
// one shell script in the same working directory. The differences from a
// reader's terminal: the working directory is a new one holding the
// repository's examples (so the data directory is new), `go run
// ./cmd/dialtone` is the binary these tests built from the same source,
// and DIALTONE_HTTP / DIALTONE_ENDPOINT move the server off port 8080.
func TestReadmeFiveMinutes(t *testing.T) {
	blocks := readmeBlocks(t, "## Five minutes with Dialtone")
	if len(blocks) != 4 || strings.TrimSpace(blocks[0]) != "go run ./cmd/dialtone serve" {
		t.Fatalf("the section's commands changed; update this test:\n%q", blocks)
	}
	examples, err := filepath.Abs(filepath.Join("..", "examples"))
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	if err := os.Symlink(examples, filepath.Join(work, "examples")); err != nil {
		t.Fatal(err)
	}
	asBuilt := func(block string) string { return strings.ReplaceAll(block, "go run ./cmd/dialtone", binary) }

	n := &node{t: t, addr: freeAddr(t), data: filepath.Join(work, "data"), stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan error, 1)}
	n.cmd = exec.Command(binary, strings.Fields(asBuilt(blocks[0]))[1:]...) // no shell between the test and the server it stops
	n.cmd.Dir = work
	n.cmd.Env = append(userEnv(t), "DIALTONE_HTTP="+n.addr)
	n.cmd.Stdout, n.cmd.Stderr = n.stdout, n.stderr
	if err := n.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { n.done <- n.cmd.Wait() }()
	t.Cleanup(n.kill)
	if err := n.waitReady(30 * time.Second); err != nil {
		t.Fatalf("%s: %v\n%s\n%s", blocks[0], err, n.stdout, n.stderr)
	}

	env := append(userEnv(t), "DIALTONE_ENDPOINT="+n.addr)
	run := func(block string, want ...string) string {
		t.Helper()
		out, errOut, code := shell(t, work, env, asBuilt(block))
		if code != 0 {
			t.Fatalf("%s: exit %d\nstdout:\n%s\nstderr:\n%s", block, code, out, errOut)
		}
		for _, w := range want {
			if !regexp.MustCompile(w).MatchString(out) {
				t.Fatalf("%s: no %q in\n%s\nstderr:\n%s", block, w, out, errOut)
			}
		}
		return out
	}
	out := run(blocks[1], `(?m)^call accepted: `, `(?m) answered `, `(?m)^call ended: 200000 用户听完语音/已接通`)
	callID := strings.TrimSpace(strings.SplitN(strings.TrimPrefix(out, "call accepted: "), "\n", 2)[0])
	run(blocks[2], `(?m)^VoiceReport call `+regexp.QuoteMeta(callID)+` .*status_code=200000`)
	run(blocks[3], `"call_id":"`+regexp.QuoteMeta(callID)+`"`)

	// The console's address as the section gives it (on this server).
	if code, body := get(t, n.url()+"/console/signin"); code != 200 || !strings.Contains(body, "password") {
		t.Fatalf("console sign-in page: %d", code)
	}
}

// readmeBlocks returns the ```sh blocks of a README section.
func readmeBlocks(t *testing.T, heading string) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(data), "\n"+heading+"\n")
	if !ok {
		t.Fatalf("README has no section %q", heading)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	var blocks []string
	for _, m := range regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(section, -1) {
		blocks = append(blocks, m[1])
	}
	return blocks
}
