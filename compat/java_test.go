package compat

// TestJavaClients runs the Maven project in ./java (one module per client
// version, see java/pom.xml) against a calls server of its own and the
// shared servers (see clients_test.go). Maven runs offline (-o): the
// dependencies are fetched once by scripts/install-deps.sh, or by this test
// (online) when the local repository lacks them.

import (
	"context"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"
)

func TestJavaClients(t *testing.T) {
	dir, err := filepath.Abs("java")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := exec.LookPath("mvn"); err != nil {
		t.Fatal("mvn not found: the Java suite needs Maven 3 and a JDK 17 (scripts/install-deps.sh)")
	}
	// A build with no test brings what -o needs, if it is not there yet.
	prep, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	offline := exec.CommandContext(prep, "mvn", "-B", "-q", "-o", "-Dtest=ErrorCaseTest", "-Dsurefire.failIfNoSpecifiedTests=false", "test")
	offline.Dir = dir
	if out, err := offline.CombinedOutput(); err != nil {
		t.Logf("offline build failed, resolving online once: %v\n%s", err, lastLines(string(out), 20))
		online := exec.CommandContext(prep, "mvn", "-B", "-q", "-Dtest=ErrorCaseTest", "-Dsurefire.failIfNoSpecifiedTests=false", "test")
		online.Dir = dir
		if out, err := online.CombinedOutput(); err != nil {
			t.Fatalf("mvn (resolving the dependencies): %v\n%s", err, out)
		}
	}

	e := newClientsEnv(t)
	ctx, cancel2 := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel2()
	cmd := exec.CommandContext(ctx, "mvn", "-B", "-o", "--no-transfer-progress", "test")
	cmd.Dir = dir
	cmd.Env = e.environ()
	out, err := cmd.CombinedOutput()
	run, failed := surefireTotals(string(out))
	if err != nil || run == 0 || failed != 0 {
		t.Fatalf("mvn -o test: %v (tests run %d, failed or errors %d)\n%s", err, run, failed, out)
	}
	t.Logf("mvn -o test: %d tests passed\n%s", run, surefireSummary(string(out)))
	e.checkResults(t, "java", 28)
	e.checkTraffic(t, 16, 4, 4)
}

// Surefire's per-module summary: "Tests run: 12, Failures: 0, Errors: 0, Skipped: 0"
// alone on an [INFO]/[ERROR]/[WARNING] line (the per-class lines add "Time elapsed").
var surefireLine = regexp.MustCompile(`(?m)^\[\w+\] Tests run: (\d+), Failures: (\d+), Errors: (\d+), Skipped: (\d+)\s*$`)

func surefireTotals(out string) (run, failed int) {
	for _, m := range surefireLine.FindAllStringSubmatch(out, -1) {
		n, _ := strconv.Atoi(m[1])
		f, _ := strconv.Atoi(m[2])
		e, _ := strconv.Atoi(m[3])
		s, _ := strconv.Atoi(m[4])
		run += n - s
		failed += f + e + s
	}
	return run, failed
}

var surefireClass = regexp.MustCompile(`(?m)^\[\w+\] (Tests run: .* - in .*|Running .*|Reactor Summary.*|.* SUCCESS .*|.* FAILURE .*)$`)

func surefireSummary(out string) string {
	var s string
	for _, l := range surefireClass.FindAllString(out, -1) {
		s += l + "\n"
	}
	return s
}

func lastLines(s string, n int) string {
	lines := regexp.MustCompile("\n").Split(s, -1)
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	out := ""
	for _, l := range lines {
		out += l + "\n"
	}
	return out
}
