package test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
	_ "modernc.org/sqlite"             // the "sqlite" database/sql driver

	"github.com/dialtone-voice/dialtone/pgtest"
	"github.com/dialtone-voice/dialtone/poptest"
)

// Reliability of several nodes on one PostgreSQL database, and of a single
// SQLite node, under SIGKILL: every accepted call ends exactly once with
// one VoiceReport, and no leg is ever originated twice.

const clusterUID = "6000000000000006"

// clusterDoc: calls ring 3 s and hang up 10 s after answering, simulated;
// at time_scale 0.15 that is about 0.5 s and 1.5 s of wall time, so a call
// lives 1-3 s.
const clusterDoc = `accounts:
  - uid: "` + clusterUID + `"
    name: cluster
    access_keys:
      - id: LTAIcluster0000000001
        secret: clusterSecret00000000000001
    numbers:
      - number: "057188880000"
        concurrency: 1000
    tts_templates:
      - code: TTS_100002
        kind: notification
        content: "Hello ${name}, your order ${order} has shipped."
    flow_control: {per_minute: 0, per_hour: 0, per_day: 0}
network:
  time_scale: 0.15
  default:
    answer_after: 3s
    hangup_after: 10s
`

func masterKey(t *testing.T) string {
	t.Helper()
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// placeResult is one SingleCallByTts attempt.
type placeResult struct {
	node   int
	callID string // "" unless 200 OK with a CallId
	err    string
}

// placeCall sends one SingleCallByTts and never fails the test: under a
// SIGKILL, refused connections are expected and simply not "accepted".
func placeCall(client *http.Client, s *poptest.Signer, callee string) (string, string) {
	req := s.V3("SingleCallByTts", map[string]string{"CalledNumber": callee, "CalledShowNumber": "057188880000",
		"TtsCode": "TTS_100002", "TtsParam": `{"name":"Ann","order":"` + callee + `"}`})
	resp, err := client.Do(req)
	if err != nil {
		return "", err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var body map[string]any
	if resp.StatusCode != 200 || json.Unmarshal(b, &body) != nil || body["Code"] != "OK" {
		return "", fmt.Sprintf("%d %s", resp.StatusCode, b)
	}
	id, _ := body["CallId"].(string)
	return id, ""
}

// callFacts is what the store says about one call.
type callFacts struct {
	state, node, status, reason string
	ended, voiceReports         int
	maxOriginatesPerLeg         int
}

// dbFacts reads the facts of every call through database/sql, so that
// the same queries check PostgreSQL and SQLite.
func dbFacts(t *testing.T, ctx context.Context, conn *sql.DB) map[string]*callFacts {
	t.Helper()
	out := map[string]*callFacts{}
	rows, err := conn.QueryContext(ctx, `SELECT id, state, node, status_code, reason FROM calls`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		f := &callFacts{}
		var id string
		if err := rows.Scan(&id, &f.state, &f.node, &f.status, &f.reason); err != nil {
			t.Fatal(err)
		}
		out[id] = f
	}
	if rows.Err() != nil {
		t.Fatal(rows.Err())
	}
	count := func(q string, set func(f *callFacts, n int)) {
		rows, err := conn.QueryContext(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var id string
			var n int
			if err := rows.Scan(&id, &n); err != nil {
				t.Fatal(err)
			}
			if f := out[id]; f != nil {
				set(f, n)
			}
		}
		if rows.Err() != nil {
			t.Fatal(rows.Err())
		}
	}
	count(`SELECT call_id, COUNT(*) FROM call_events WHERE type = 'ended' GROUP BY call_id`, func(f *callFacts, n int) { f.ended = n })
	count(`SELECT call_id, MAX(n) FROM (SELECT call_id, leg, COUNT(*) AS n FROM call_events WHERE type = 'originate' GROUP BY call_id, leg) x GROUP BY call_id`,
		func(f *callFacts, n int) { f.maxOriginatesPerLeg = n })
	count(`SELECT call_id, COUNT(*) FROM receipts WHERE message_type = 'VoiceReport' GROUP BY call_id`, func(f *callFacts, n int) { f.voiceReports = n })
	return out
}

// checkFacts asserts the invariants on every accepted call and on every
// call the store holds (a call whose answer was lost in the kill is stored
// but not "accepted"; it must end cleanly too).
func checkFacts(t *testing.T, facts map[string]*callFacts, accepted []string) {
	t.Helper()
	for _, id := range accepted {
		if facts[id] == nil {
			t.Errorf("accepted call %s is not in the store", id)
		}
	}
	for id, f := range facts {
		if f.state != "ended" || f.ended != 1 || f.voiceReports != 1 || f.maxOriginatesPerLeg > 1 {
			t.Errorf("call %s: state %s, %d ended events, %d VoiceReports, up to %d originates of one leg (node %s, status %s, reason %q)",
				id, f.state, f.ended, f.voiceReports, f.maxOriginatesPerLeg, f.node, f.status, f.reason)
		}
	}
}

// TestClusterSIGKILL: three nodes on one PostgreSQL database share a load
// of calls; one is SIGKILLed mid-load. The others end its live calls
// (status 999999, a reason naming it) with their receipts and run the
// calls it had accepted but not dialled.
func TestClusterSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three nodes and a PostgreSQL server")
	}
	dsn := pgtest.DB(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "p.yaml")
	if err := os.WriteFile(file, []byte(clusterDoc), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"DIALTONE_ADMIN_TOKEN=tok", "DIALTONE_MASTER_KEY=" + masterKey(t), "DIALTONE_STORE=" + dsn}
	// Few live calls per node, so calls queue and get claimed across
	// nodes; a short lease, so the dead node is found in about 2 s.
	var nodes []*node
	for i := range 3 {
		nodes = append(nodes, startNode(t, filepath.Join(dir, fmt.Sprintf("data%d", i)), env,
			"--provision", file, "--node", fmt.Sprintf("node%d", i), "--max-live-calls", "8", "--node-lease", "2s", "--log-level", "warn"))
	}

	// The load: 120 calls, 40 per second round-robin over the nodes that
	// are up; node 2 is killed after a second.
	const total, rate = 120, 40
	client := &http.Client{Timeout: 10 * time.Second}
	var (
		mu      sync.Mutex
		results []placeResult
		wg      sync.WaitGroup
		killed  = make(chan struct{})
	)
	conn, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Node 2 dies a second into the load, once it is running calls of its
	// own (a loaded machine can start it late, and a node killed with
	// nothing live leaves the reapers nothing to show); at the latest
	// after 10 s, and then the checks below say what it had.
	go func() {
		defer close(killed)
		time.Sleep(time.Second)
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			var live int
			err := conn.QueryRow(`SELECT COUNT(*) FROM calls WHERE node = 'node2' AND state NOT IN ('queued', 'ended')`).Scan(&live)
			if err == nil && live > 0 {
				break
			}
		}
		nodes[2].cmd.Process.Kill()
	}()
	tick := time.NewTicker(time.Second / rate)
	for i := range total {
		<-tick.C
		target := i % 3
		select {
		case <-killed:
			target = i % 2
		default:
		}
		n := nodes[target]
		s := &poptest.Signer{Endpoint: n.url(), AccessKeyID: "LTAIcluster0000000001", Secret: "clusterSecret00000000000001"}
		wg.Add(1)
		go func() {
			defer wg.Done()
			id, errText := placeCall(client, s, fmt.Sprintf("139%08d", i))
			mu.Lock()
			results = append(results, placeResult{node: target, callID: id, err: errText})
			mu.Unlock()
		}()
	}
	tick.Stop()
	wg.Wait()
	<-killed
	<-nodes[2].done

	var accepted []string
	perNode := map[int]int{}
	for _, r := range results {
		if r.callID != "" {
			accepted = append(accepted, r.callID)
			perNode[r.node]++
		}
	}
	if len(accepted) < total*3/4 {
		t.Fatalf("only %d of %d calls accepted: %+v", len(accepted), total, results)
	}
	if perNode[2] == 0 {
		t.Fatalf("the killed node accepted no calls before its death: %v", perNode)
	}

	ctx := context.Background()
	// Wait (bounded) until nothing is unfinished.
	deadline := time.Now().Add(30 * time.Second)
	for {
		var open int
		if err := conn.QueryRowContext(ctx, `SELECT COUNT(*) FROM calls WHERE state <> 'ended'`).Scan(&open); err != nil {
			t.Fatal(err)
		}
		if open == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d calls still unfinished 30 s after the load\nnode0:\n%s\nnode1:\n%s", open, nodes[0].stderr, nodes[1].stderr)
		}
		time.Sleep(200 * time.Millisecond)
	}
	facts := dbFacts(t, ctx, conn)
	checkFacts(t, facts, accepted)

	// The work was spread, and the dead node's live calls were reaped.
	dialledBy := map[string]int{}
	reaped := 0
	for _, f := range facts {
		dialledBy[f.node]++
		if strings.Contains(f.reason, "node2 stopped sending heartbeats") {
			reaped++
			if f.status != "999999" {
				t.Errorf("reaped call has status %s, want 999999", f.status)
			}
		}
	}
	if dialledBy["node0"] == 0 || dialledBy["node1"] == 0 || dialledBy["node2"] == 0 {
		t.Errorf("calls per dialling node: %v", dialledBy)
	}
	if reaped == 0 {
		t.Errorf("no call was ended by a reaper; per node %v", dialledBy)
	}
	t.Logf("accepted %d of %d (by node %v); dialled by %v; %d reaped", len(accepted), total, perNode, dialledBy, reaped)
}

// TestSQLiteSIGKILLUnderLoad: the same invariants for one SQLite node that
// is SIGKILLed under load and restarted: what it left live is ended once
// with its receipt, what it had accepted but not dialled is dialled after
// the restart, and nothing is dialled twice.
func TestSQLiteSIGKILLUnderLoad(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "p.yaml")
	if err := os.WriteFile(file, []byte(clusterDoc), 0o600); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	env := []string{"DIALTONE_ADMIN_TOKEN=tok"}
	// A small capacity leaves some accepted calls queued at the kill.
	args := []string{"--provision", file, "--node", "solo", "--max-live-calls", "10", "--log-level", "warn"}
	n := startNode(t, data, env, args...)
	s := &poptest.Signer{Endpoint: n.url(), AccessKeyID: "LTAIcluster0000000001", Secret: "clusterSecret00000000000001"}
	client := &http.Client{Timeout: 10 * time.Second}
	const total, rate = 40, 40
	var (
		mu       sync.Mutex
		accepted []string
		wg       sync.WaitGroup
	)
	tick := time.NewTicker(time.Second / rate)
	for i := range total {
		<-tick.C
		wg.Add(1)
		go func() {
			defer wg.Done()
			if id, _ := placeCall(client, s, fmt.Sprintf("137%08d", i)); id != "" {
				mu.Lock()
				accepted = append(accepted, id)
				mu.Unlock()
			}
		}()
	}
	tick.Stop()
	wg.Wait()
	n.cmd.Process.Kill()
	<-n.done
	if len(accepted) != total {
		t.Fatalf("%d of %d calls accepted before the kill", len(accepted), total)
	}

	n2 := startNode(t, data, env, args...)
	deadline := time.Now().Add(30 * time.Second)
	for _, id := range accepted {
		for {
			ev := callEvents(t, n2, clusterUID, id)
			if ev.State == "ended" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("call %s still %s after the restart\n%s", id, ev.State, n2.stderr)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	if err := n2.stop(15 * time.Second); err != nil {
		t.Fatal(err)
	}
	conn, err := sql.Open("sqlite", filepath.Join(data, "dialtone.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	facts := dbFacts(t, context.Background(), conn)
	checkFacts(t, facts, accepted)
	restarted := 0
	for _, f := range facts {
		if f.status == "999999" {
			restarted++
		}
	}
	if restarted == 0 || restarted == len(facts) {
		t.Errorf("%d of %d calls ended by the restart; want some, not all", restarted, len(facts))
	}
}
