package compat

// TestPythonClients runs the pytest suite in ./python against a calls
// server of its own and the shared servers (see clients_test.go). The
// suite's two virtual environments are made by python/setup.sh from the
// hashed lock files if they are missing or older than the lock files.

import (
	"context"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"
)

// The pytest files, by the virtual environment they run in.
var pythonRuns = []struct {
	venv  string
	files []string
}{
	{".venv-rpc", []string{"test_tea_rpc.py", "test_classic.py", "test_receipt_sample.py", "test_explorer_snippets.py"}},
	{".venv", []string{"test_newest.py", "test_explorer_snippets.py"}},
}

func TestPythonClients(t *testing.T) {
	dir, err := filepath.Abs("python")
	if err != nil {
		t.Fatal(err)
	}
	setup, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(setup, "./setup.sh")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("python/setup.sh: %v\n%s", err, out)
	}

	e := newClientsEnv(t)
	for _, run := range pythonRuns {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		cmd := exec.CommandContext(ctx, filepath.Join(dir, run.venv, "bin", "python"), append([]string{"-m", "pytest", "-v"}, run.files...)...)
		cmd.Dir = dir
		cmd.Env = e.environ()
		out, err := cmd.CombinedOutput()
		cancel()
		passed := pytestPassed(string(out))
		if err != nil || passed == 0 {
			t.Fatalf("pytest %v in %s: %v\n%s", run.files, run.venv, err, out)
		}
		t.Logf("pytest %v (%s): %d passed\n%s", run.files, run.venv, passed, out)
	}
	e.checkResults(t, "python", 23)
	e.checkTraffic(t, 12, 3, 3)
}

var pytestSummary = regexp.MustCompile(`=+ (\d+) passed`)

// pytestPassed reads the number of passed tests from pytest's last line;
// 0 when any failed or errored.
func pytestPassed(out string) int {
	m := pytestSummary.FindStringSubmatch(out)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}
