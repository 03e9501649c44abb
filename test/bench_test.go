package test

import (
	"bytes"
	"context"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The README's `dialtone bench` commands, run by the binary with small
// counts: every row of the groups asked for is printed with a measured,
// positive figure, and none failed. (The figures themselves are the
// README's; here it is the command that must work.)

// runBench runs `dialtone bench args...` and returns the table's rows by
// measurement name.
func runBench(t *testing.T, timeout time.Duration, args ...string) map[string]string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, append([]string{"bench"}, args...)...)
	cmd.Env = cleanEnv()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("dialtone bench %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, out.String(), errb.String())
	}
	t.Logf("dialtone bench %s:\n%s", strings.Join(args, " "), out.String())
	lines := strings.Split(out.String(), "\n")
	if len(lines) < 3 || !strings.HasPrefix(lines[0], "Dialtone ") || !strings.HasPrefix(lines[2], "measurement") {
		t.Fatalf("bench printed no table:\n%s", out.String())
	}
	// Columns are aligned by a tabwriter: the result starts where the
	// header's "result" does.
	col := strings.Index(lines[2], "result")
	rows := map[string]string{}
	for _, l := range lines[3:] {
		if len(l) <= col {
			continue
		}
		rows[strings.TrimSpace(l[:col])] = strings.TrimSpace(l[col:])
	}
	return rows
}

var leadingNumber = regexp.MustCompile(`^([0-9]+(?:\.[0-9]+)?)(%)? `)

// checkRow: the row is there and its result is a positive figure.
func checkRow(t *testing.T, rows map[string]string, name string) {
	t.Helper()
	r, ok := rows[name]
	if !ok {
		t.Errorf("no row %q among %d", name, len(rows))
		return
	}
	m := leadingNumber.FindStringSubmatch(r)
	if m == nil {
		t.Errorf("%s: %q", name, r)
		return
	}
	if v, _ := strconv.ParseFloat(m[1], 64); v <= 0 && m[2] == "" {
		t.Errorf("%s: %q", name, r)
	}
}

func TestBenchCommand(t *testing.T) {
	rows := runBench(t, 3*time.Minute, "--no-postgres", "--no-sip", "--only", "gateway,https,calls,receipts,live",
		"--duration", "300ms", "--calls", "40", "--receipts", "64", "--live-calls", "200")
	for _, name := range []string{
		"gateway signed requests/s (V3, SQLite)",
		"gateway signed requests/s (RPC v1, SQLite)",
		"gateway signed requests/s over HTTPS (V3, SQLite)",
		"end-to-end calls/s (SQLite, 1 node)",
		"receipts receive+delete (batches of 16)",
		"live calls held (200 simulated TTS calls)",
	} {
		checkRow(t, rows, name)
	}
	if len(rows) != 6 {
		t.Errorf("%d rows, want 6: %v", len(rows), rows)
	}
	for name, r := range rows {
		if strings.HasPrefix(r, "failed") {
			t.Errorf("%s: %s", name, r)
		}
	}
}

// The PostgreSQL rows (nodes in this process) and the scale-out rows
// (nodes as their own processes on 127.0.0.2-4 with CPU quotas, or CPU
// sets where no quota can be set), each on a throw-away server.
func TestBenchPostgresAndScaleOut(t *testing.T) {
	rows := runBench(t, 6*time.Minute, "--no-sip", "--only", "postgres,scale",
		"--calls", "40", "--scale-calls", "40", "--node-cpu", "0.5", "--pg-cpu", "0.5")
	for _, name := range []string{
		"end-to-end calls/s (PostgreSQL, 1 node)",
		"end-to-end calls/s (PostgreSQL, 2 nodes)",
		"end-to-end calls/s (PostgreSQL, 3 nodes)",
		"scale-out calls/s (PostgreSQL, 1 node, own processes)",
		"scale-out calls/s (PostgreSQL, 2 nodes, own processes)",
		"scale-out calls/s (PostgreSQL, 3 nodes, own processes)",
		"projection: nodes one PostgreSQL server of this size carries",
	} {
		checkRow(t, rows, name)
	}
	for name, r := range rows {
		if strings.HasPrefix(r, "failed") {
			t.Errorf("%s: %s", name, r)
		}
	}
}

// The SIP rows: Dialtone's SIP carrier beside SIPp, concurrent RTP beside
// a bare send loop, and media streams with an echo application, each with
// its far end in a child process of the same binary.
func TestBenchSIP(t *testing.T) {
	if _, err := exec.LookPath("sipp"); err != nil {
		t.Skip("the SIP rows compare against SIPp:", err)
	}
	rows := runBench(t, 3*time.Minute, "--only", "sip",
		"--sip-calls", "50", "--sip-rate", "50", "--sip-concurrent", "20", "--sip-streams", "10")
	for _, name := range []string{
		"SIP calls/s (Dialtone → SIPp answerer)",
		"SIP concurrent RTP (20 G.711 calls)",
		"SIP media streams (10 echo streams)",
	} {
		if r, ok := rows[name]; !ok || strings.HasPrefix(r, "failed") {
			t.Errorf("%s: %q", name, r)
		}
	}
	checkRow(t, rows, "SIP calls/s (Dialtone → SIPp answerer)")
	if r := rows["SIP media streams (10 echo streams)"]; !strings.HasPrefix(r, "p99 ") {
		t.Errorf("media streams row %q", r)
	}
}
