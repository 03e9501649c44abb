package test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone/internal/udpport"
	"github.com/dialtone-voice/dialtone/pgtest"
	"github.com/dialtone-voice/dialtone/poptest"
)

// Limits that hold for the whole cluster (issue 21): three nodes on one
// PostgreSQL database share a display number's concurrency, a trunk's
// max_calls and max_cps, and one simulated network; a node that dies
// gives its slots back.

const (
	limitsUID    = "7000000000000007"
	limitsKeyID  = "LTAIlimits00000000001"
	limitsSecret = "limitsSecret000000000001"
	limitsNumber = "057188880000"
)

// limitsAccount is the account of these tests, its number at concurrency.
func limitsAccount(concurrency int) string {
	return fmt.Sprintf(`accounts:
  - uid: "%s"
    name: limits
    access_keys:
      - id: %s
        secret: %s
    numbers:
      - number: "%s"
        concurrency: %d
    tts_templates:
      - code: TTS_100002
        kind: notification
        content: "Hello."
    flow_control: {per_minute: 0, per_hour: 0, per_day: 0}
`, limitsUID, limitsKeyID, limitsSecret, limitsNumber, concurrency)
}

// startLimitsNodes starts one node per provisioning document (empty: no
// file) on the database dsn, named node<first>, node<first+1>..., with
// extra arguments for all.
func startLimitsNodes(t *testing.T, dsn, key string, first int, docs []string, extra ...string) []*node {
	t.Helper()
	dir := t.TempDir()
	env := []string{"DIALTONE_ADMIN_TOKEN=tok", "DIALTONE_MASTER_KEY=" + key, "DIALTONE_STORE=" + dsn}
	var nodes []*node
	for j, doc := range docs {
		i := first + j
		args := append([]string{"--node", fmt.Sprintf("node%d", i), "--log-level", "info", "--demo=false"}, extra...)
		if doc != "" {
			file := filepath.Join(dir, fmt.Sprintf("p%d.yaml", i))
			if err := os.WriteFile(file, []byte(doc), 0o600); err != nil {
				t.Fatal(err)
			}
			args = append(args, "--provision", file)
		}
		nodes = append(nodes, startNode(t, filepath.Join(dir, fmt.Sprintf("data%d", i)), env, args...))
	}
	return nodes
}

// placeTTS sends one SingleCallByTts of the test account through n and
// returns its CallId.
func placeTTS(t *testing.T, client *http.Client, n *node, callee string) (string, error) {
	s := &poptest.Signer{Endpoint: n.url(), AccessKeyID: limitsKeyID, Secret: limitsSecret}
	resp, err := client.Do(s.V3("SingleCallByTts", map[string]string{"CalledNumber": callee, "CalledShowNumber": limitsNumber, "TtsCode": "TTS_100002"}))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var body map[string]any
	if resp.StatusCode != 200 || json.Unmarshal(b, &body) != nil || body["Code"] != "OK" {
		return "", fmt.Errorf("%d %s", resp.StatusCode, b)
	}
	id, _ := body["CallId"].(string)
	return id, nil
}

// placeMany places calls to distinct callees (prefix + index), rate per
// second, round-robin over nodes; every one must be accepted.
func placeMany(t *testing.T, nodes []*node, total, rate int, prefix string) []string {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second}
	var (
		mu   sync.Mutex
		ids  []string
		errs []error
		wg   sync.WaitGroup
	)
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	for i := range total {
		<-tick.C
		wg.Add(1)
		go func() {
			defer wg.Done()
			id, err := placeTTS(t, client, nodes[i%len(nodes)], fmt.Sprintf("%s%05d", prefix, i))
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			ids = append(ids, id)
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d of %d calls refused, first: %v", len(errs), total, errs[0])
	}
	return ids
}

// limitsView is GET /admin/v1/limits.
type limitsView struct {
	Node  string `json:"node"`
	Mode  string `json:"mode"`
	Slots []struct {
		Key  string `json:"key"`
		Node string `json:"node"`
		Held int    `json:"held"`
	} `json:"slots"`
	Waiting map[string]int `json:"waiting"`
	Shares  int            `json:"nodes_sharing_rates"`
}

func getLimits(n *node) (limitsView, error) {
	var v limitsView
	req, _ := http.NewRequest(http.MethodGet, n.url()+"/admin/v1/limits", nil)
	req.Header.Set("Authorization", "Bearer tok")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return v, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return v, fmt.Errorf("limits: %d %s", resp.StatusCode, b)
	}
	return v, json.Unmarshal(b, &v)
}

// held is what the view says the cluster holds under key, per node.
func (v limitsView) held(key string) (total int, byNode map[string]int) {
	byNode = map[string]int{}
	for _, s := range v.Slots {
		if s.Key == key {
			total += s.Held
			byNode[s.Node] += s.Held
		}
	}
	return total, byNode
}

// sampler asks every node for the limits, all at once, every period,
// until stop; check sees each node's answer.
func sampler(nodes []*node, period time.Duration, check func(i int, v limitsView)) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(period)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			var round sync.WaitGroup
			for i, n := range nodes {
				round.Add(1)
				go func() {
					defer round.Done()
					if v, err := getLimits(n); err == nil {
						check(i, v)
					}
				}()
			}
			round.Wait()
		}
	}()
	return func() { close(done); wg.Wait() }
}

// waitEnded waits (bounded) until the database holds no unfinished call.
func waitEnded(t *testing.T, conn *sql.DB, nodes []*node, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		var open int
		if err := conn.QueryRow(`SELECT COUNT(*) FROM calls WHERE state <> 'ended'`).Scan(&open); err != nil {
			t.Fatal(err)
		}
		if open == 0 {
			return
		}
		if time.Now().After(deadline) {
			var logs strings.Builder
			for i, n := range nodes {
				fmt.Fprintf(&logs, "node%d:\n%s\n", i, tail(n.stderr.String(), 3000))
			}
			t.Fatalf("%d calls unfinished after %v\n%s", open, within, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// transcriptSpan is when a call's simulated leg was up, in wall time.
func transcriptSpan(t *testing.T, n *node, id string) (from, to time.Time) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, n.url()+"/admin/v1/sim/calls/"+id+"/transcript", nil)
	req.Header.Set("Authorization", "Bearer tok")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Transcript []struct {
			Kind string    `json:"kind"`
			Wall time.Time `json:"wall"`
		} `json:"transcript"`
	}
	if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&body) != nil || len(body.Transcript) == 0 {
		t.Fatalf("transcript of %s on %s: %d", id, n.url(), resp.StatusCode)
	}
	from, to = body.Transcript[0].Wall, body.Transcript[0].Wall
	for _, e := range body.Transcript {
		if e.Wall.Before(from) {
			from = e.Wall
		}
		if e.Wall.After(to) {
			to = e.Wall
		}
	}
	return from, to
}

// maxOverlap is the most spans open at once (a span ending when another
// starts does not overlap it).
func maxOverlap(spans [][2]time.Time) int {
	type ev struct {
		at    time.Time
		delta int
	}
	var evs []ev
	for _, s := range spans {
		evs = append(evs, ev{s[0], 1}, ev{s[1], -1})
	}
	sort.Slice(evs, func(i, j int) bool {
		if !evs[i].at.Equal(evs[j].at) {
			return evs[i].at.Before(evs[j].at)
		}
		return evs[i].delta < evs[j].delta
	})
	cur, peak := 0, 0
	for _, e := range evs {
		cur += e.delta
		peak = max(peak, cur)
	}
	return peak
}

// TestClusterNumberConcurrency: 200 calls from one display number with
// concurrency 10, accepted by three nodes: never more than 10 live at
// once, sampled from every node (the store's slots, one snapshot per
// answer) and counted exactly from the simulated network's legs; the
// calls over the cap wait queued and all complete.
func TestClusterNumberConcurrency(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three nodes and a PostgreSQL server")
	}
	const total, cap = 200, 10
	dsn := pgtest.DB(t)
	doc := limitsAccount(cap) + `network:
  time_scale: 0.1
  default:
    answer_after: 5s
`
	nodes := startLimitsNodes(t, dsn, masterKey(t), 0, []string{doc, doc, doc})
	conn, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	key := "number:" + limitsUID + ":" + limitsNumber
	var (
		mu          sync.Mutex
		peak        int
		over        []string
		multiNode   bool
		waitingSeen = map[int]bool{}
	)
	stop := sampler(nodes, 20*time.Millisecond, func(i int, v limitsView) {
		held, byNode := v.held(key)
		mu.Lock()
		defer mu.Unlock()
		if v.Mode != "shared" {
			over = append(over, fmt.Sprintf("node%d counts its limits %s", i, v.Mode))
		}
		peak = max(peak, held)
		if held > cap {
			over = append(over, fmt.Sprintf("node%d saw %d held: %v", i, held, byNode))
		}
		if len(byNode) > 1 {
			multiNode = true
		}
		if v.Waiting[key] > 0 {
			waitingSeen[i] = true
		}
	})
	ids := placeMany(t, nodes, total, 50, "139000")
	waitEnded(t, conn, nodes, 90*time.Second)
	stop()

	facts := dbFacts(t, context.Background(), conn)
	checkFacts(t, facts, ids)
	byNode := map[string]int{}
	var spans [][2]time.Time
	for _, id := range ids {
		f := facts[id]
		if f == nil {
			continue
		}
		if f.status != "200000" {
			t.Errorf("call %s ended with %s (%s), want 200000: a call over the cap waits, it is not refused", id, f.status, f.reason)
			continue
		}
		byNode[f.node]++
		idx := int(f.node[len(f.node)-1] - '0')
		from, to := transcriptSpan(t, nodes[idx], id)
		spans = append(spans, [2]time.Time{from, to})
	}
	mu.Lock()
	defer mu.Unlock()
	for _, o := range over {
		t.Error(o)
	}
	if live := maxOverlap(spans); live > cap {
		t.Errorf("the simulated network had %d calls from %s up at once, over its concurrency %d", live, limitsNumber, cap)
	} else {
		t.Logf("at most %d of the network's legs up at once; at most %d slots held in a sample; dialled per node %v", live, peak, byNode)
	}
	if peak != cap {
		t.Errorf("at most %d slots held in a sample: the load never reached the cap of %d", peak, cap)
	}
	if !multiNode || len(byNode) < 3 {
		t.Errorf("the cap was not shared: several nodes holding at once %v, dialled per node %v", multiNode, byNode)
	}
	if len(waitingSeen) < 2 {
		t.Errorf("calls waited on nodes %v only", waitingSeen)
	}
}

// TestClusterSlotsOfKilledNode: a node SIGKILLed while its calls hold a
// number's every slot gives them back within its lease (plus the
// reaper's period): calls waiting on another node then go.
func TestClusterSlotsOfKilledNode(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three nodes and a PostgreSQL server")
	}
	const cap = 3
	const lease = 2 * time.Second
	dsn := pgtest.DB(t)
	// Calls ring 20 s of wall time: they hold their slots until the kill.
	doc := limitsAccount(cap) + `network:
  time_scale: 0.1
  default:
    answer_after: 200s
`
	nodes := startLimitsNodes(t, dsn, masterKey(t), 0, []string{doc, doc, doc}, "--node-lease", lease.String(), "--ring-timeout", "10m")
	conn, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	key := "number:" + limitsUID + ":" + limitsNumber
	heldBy := func(node string) int {
		var n int
		if err := conn.QueryRow(`SELECT COALESCE(SUM(n), 0) FROM limit_slots WHERE key = $1 AND node = $2`, key, node).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	waitUntil := func(what string, d time.Duration, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(d); !cond(); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within %v\nnode0:\n%s", what, d, tail(nodes[0].stderr.String(), 3000))
			}
		}
	}
	doomed := placeMany(t, nodes[2:], cap, 20, "137100")
	waitUntil("node2 holds every slot", 10*time.Second, func() bool { return heldBy("node2") == cap })
	waiting := placeMany(t, nodes[:1], cap, 20, "137200")
	waitUntil("node0's calls wait", 10*time.Second, func() bool {
		v, err := getLimits(nodes[0])
		return err == nil && v.Waiting[key] == cap
	})
	killed := time.Now()
	if err := nodes[2].cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	// The reaper looks every third of the lease and finds a node dead a
	// lease after its last heartbeat, which was at most a third of the
	// lease before the kill.
	bound := lease + lease/3 + time.Second
	waitUntil("node0's calls take the slots", bound, func() bool { return heldBy("node0") == cap })
	took := time.Since(killed)
	if heldBy("node2") != 0 {
		t.Error("the dead node still holds slots")
	}
	t.Logf("the killed node's %d slots were taken by the waiting calls %v after the kill (lease %v)", cap, took.Round(10*time.Millisecond), lease)
	// The calls that took the slots are dialled (and ring on).
	waitUntil("node0's calls dialled", 10*time.Second, func() bool {
		var dialled int
		if err := conn.QueryRow(`SELECT COUNT(*) FROM calls WHERE node = 'node0' AND state IN ('dialing', 'ringing')`).Scan(&dialled); err != nil {
			t.Fatal(err)
		}
		return dialled == cap
	})
	facts := dbFacts(t, context.Background(), conn)
	for _, id := range doomed {
		f := facts[id]
		if f == nil || f.state != "ended" || f.status != "999999" || !strings.Contains(f.reason, "node2 stopped sending heartbeats") {
			t.Errorf("call %s of the killed node: %+v", id, f)
		}
	}
	for _, id := range waiting {
		if f := facts[id]; f == nil || f.node != "node0" || (f.state != "dialing" && f.state != "ringing") {
			t.Errorf("waiting call %s after the kill: %+v", id, f)
		}
	}
}

// TestClusterOneNetwork: nodes started with different network sections
// (and one with none) run one network, the last applied file's, and a
// change through the admin API of any node reaches all of them.
func TestClusterOneNetwork(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three nodes and a PostgreSQL server")
	}
	dsn := pgtest.DB(t)
	busy := limitsAccount(10) + `network:
  time_scale: 0.5
  subscribers:
    - {number: "13900000001", result: busy}
`
	answers := limitsAccount(10) + `network:
  time_scale: 0.05
  default: {answer_after: 1s}
  subscribers:
    - {number: "13900000001", result: answer, answer_after: 2s}
`
	// One at a time, so that the second file is applied last.
	key := masterKey(t)
	first := startLimitsNodes(t, dsn, key, 0, []string{busy})
	rest := startLimitsNodes(t, dsn, key, 1, []string{answers, ""})
	nodes := append(first, rest...)
	if !strings.Contains(rest[0].stderr.String(), "differs from the simulated network the cluster ran") {
		t.Errorf("node1 did not say that its file changed the cluster's network:\n%s", tail(rest[0].stderr.String(), 2000))
	}
	type netView struct {
		Running   int64   `json:"running_version"`
		TimeScale float64 `json:"time_scale"`
		Stored    struct {
			Version int64  `json:"version"`
			SetBy   string `json:"set_by"`
		} `json:"stored"`
	}
	view := func(n *node) netView {
		code, body := getAuth(t, n.url()+"/admin/v1/sim/network", "tok")
		var v netView
		if code != 200 || json.Unmarshal([]byte(body), &v) != nil {
			t.Fatalf("network view %d %s", code, body)
		}
		return v
	}
	sameEverywhere := func(scale float64) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for i := 0; i < len(nodes); {
			v := view(nodes[i])
			if v.Running == v.Stored.Version && v.TimeScale == scale {
				i++
				continue
			}
			if time.Now().After(deadline) {
				t.Fatalf("node%d runs version %d at scale %v; stored %d (by %s), want scale %v", i, v.Running, v.TimeScale, v.Stored.Version, v.Stored.SetBy, scale)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	sameEverywhere(0.05)
	conn, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := &http.Client{Timeout: 10 * time.Second}
	callAll := func(wantStatus string) {
		t.Helper()
		var ids []string
		for _, n := range nodes {
			id, err := placeTTS(t, client, n, "13900000001")
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
		waitEnded(t, conn, nodes, 30*time.Second)
		facts := dbFacts(t, context.Background(), conn)
		for i, id := range ids {
			if f := facts[id]; f == nil || f.status != wantStatus {
				t.Errorf("call through node%d: %+v, want status %s", i, f, wantStatus)
			}
		}
	}
	callAll("200000")

	// A change through one node's admin API reaches every node.
	change := `network:
  time_scale: 0.2
  subscribers:
    - {number: "13900000001", result: busy}
`
	req, _ := http.NewRequest(http.MethodPost, nodes[2].url()+"/admin/v1/provision?name=net.yaml", strings.NewReader(change))
	req.Header.Set("Authorization", "Bearer tok")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"network":"updated"`) {
		t.Fatalf("provision: %d %s", resp.StatusCode, b)
	}
	sameEverywhere(0.2)
	callAll("200002")
}

// sippUAS is a SIPp answerer with statistics every second and a log of
// every call's start and end.
type sippUAS struct {
	addr           string
	stats, logFile string
	cmd            *exec.Cmd
	done           chan error
}

func startSippUAS(t *testing.T, scenarioFile string) *sippUAS {
	t.Helper()
	bin, err := exec.LookPath("sipp")
	if err != nil {
		t.Fatalf("sipp not found (install the Debian package sip-tester, or run scripts/install-deps.sh): %v", err)
	}
	scenario, err := filepath.Abs(filepath.Join("testdata", scenarioFile))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	port, mport := freeUDP(t), freeUDP(t)&^1
	s := &sippUAS{addr: fmt.Sprintf("127.0.0.1:%d", port), stats: filepath.Join(dir, "stats.csv"), logFile: filepath.Join(dir, "calls.log"), done: make(chan error, 1)}
	s.cmd = exec.Command(bin, "-sf", scenario, "-i", "127.0.0.1", "-p", strconv.Itoa(port), "-mp", strconv.Itoa(mport),
		"-nostdin", "-timeout", "180s", "-trace_stat", "-stf", s.stats, "-fd", "1", "-trace_logs", "-log_file", s.logFile,
		"-trace_err", "-error_file", filepath.Join(dir, "err.log"))
	s.cmd.Dir = dir
	var out syncBuffer
	s.cmd.Stdout, s.cmd.Stderr = &out, &out
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.done <- s.cmd.Wait() }()
	t.Cleanup(func() { s.stop() })
	for range 100 {
		if bound, err := udpport.Bound(port); err != nil {
			t.Fatal(err)
		} else if bound {
			return s
		}
		select {
		case err := <-s.done:
			t.Fatalf("sipp exited: %v\n%s", err, out.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("sipp did not listen on %s", s.addr)
	return nil
}

func (s *sippUAS) stop() {
	select {
	case err := <-s.done: // ended already (its Wait filled done)
		s.done <- err
		return
	default:
	}
	_ = s.cmd.Process.Kill()
	<-s.done
	s.done <- nil
}

func freeUDP(t *testing.T) int {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// periods reads SIPp's statistics: per one-second period, the calls that
// arrived and the calls in progress at its end.
func (s *sippUAS) periods(t *testing.T) (incoming, current []int) {
	t.Helper()
	b, err := os.ReadFile(s.stats)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) < 2 {
		t.Fatalf("sipp statistics: %q", b)
	}
	col := map[string]int{}
	for i, h := range strings.Split(lines[0], ";") {
		col[h] = i
	}
	in, okIn := col["IncomingCall(P)"]
	cur, okCur := col["CurrentCall"]
	if !okIn || !okCur {
		t.Fatalf("sipp statistics without IncomingCall(P) or CurrentCall: %s", lines[0])
	}
	for _, l := range lines[1:] {
		f := strings.Split(l, ";")
		if len(f) <= max(in, cur) {
			continue
		}
		a, _ := strconv.Atoi(f[in])
		c, _ := strconv.Atoi(f[cur])
		incoming, current = append(incoming, a), append(current, c)
	}
	return incoming, current
}

// calls reads SIPp's log of starts and ends: the calls at once at most,
// the most starts within any 1000 ms, and how many started.
func (s *sippUAS) calls(t *testing.T) (concurrent, perSecond, started int) {
	t.Helper()
	b, err := os.ReadFile(s.logFile)
	if err != nil {
		t.Fatal(err)
	}
	var spans [][2]time.Time
	open := map[string]time.Time{}
	var starts []int64
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) != 3 {
			continue
		}
		ms, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			continue
		}
		at := time.UnixMilli(ms)
		switch f[0] {
		case "start":
			open[f[2]] = at
			starts = append(starts, ms)
		case "end":
			if from, ok := open[f[2]]; ok {
				spans = append(spans, [2]time.Time{from, at})
				delete(open, f[2])
			}
		}
	}
	for _, from := range open {
		spans = append(spans, [2]time.Time{from, from.Add(time.Hour)})
	}
	sort.Slice(starts, func(i, j int) bool { return starts[i] < starts[j] })
	for i := range starts {
		j := i
		for j < len(starts) && starts[j] < starts[i]+1000 {
			j++
		}
		perSecond = max(perSecond, j-i)
	}
	return maxOverlap(spans), perSecond, len(starts)
}

// TestClusterTrunkLimits: three nodes place calls on SIP trunks with
// max_calls 5 and max_cps 10, each against a SIPp answerer: SIPp never has
// more than 5 calls at once, nor more than 10 new calls in a second of its
// statistics; the calls over the caps wait and all end. One trunk's
// answerer waits for the caller's BYE (calls of a second or two: max_calls
// binds), the other's hangs up at once (calls of a few milliseconds:
// max_cps binds).
func TestClusterTrunkLimits(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three nodes, SIPp and a PostgreSQL server")
	}
	const total, maxCalls, maxCPS = 40, 5, 10
	long, short := startSippUAS(t, "limits_uas.xml"), startSippUAS(t, "limits_uas_bye.xml")
	dsn := pgtest.DB(t)
	doc := limitsAccount(1000) + fmt.Sprintf(`sip:
  listen: 127.0.0.1:0
trunks:
  - {name: long, address: "%s", max_calls: %d, max_cps: %d}
  - {name: short, address: "%s", max_calls: %d, max_cps: %d}
routes:
  - {prefix: "1391", trunk: long}
  - {prefix: "1392", trunk: short}
`, long.addr, maxCalls, maxCPS, short.addr, maxCalls, maxCPS)
	nodes := startLimitsNodes(t, dsn, masterKey(t), 0, []string{doc, doc, doc})
	conn, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, phase := range []struct {
		name, prefix string
		uas          *sippUAS
		binds        string
		status       string // the callee listens to the end, or hangs up at once
	}{
		{"long calls", "139100", long, "max_calls", "200000"},
		{"short calls", "139200", short, "max_cps", "200001"},
	} {
		// Offered at 40/s, four times the trunks' rate.
		ids := placeMany(t, nodes, total, 40, phase.prefix)
		waitEnded(t, conn, nodes, 90*time.Second)
		facts := dbFacts(t, context.Background(), conn)
		checkFacts(t, facts, ids)
		byNode, statuses := map[string]int{}, map[string]int{}
		for _, id := range ids {
			if f := facts[id]; f != nil {
				byNode[f.node]++
				statuses[f.status]++
				if f.status != phase.status {
					t.Errorf("%s: call %s on %s ended with %s: %s", phase.name, id, f.node, f.status, f.reason)
				}
			}
		}
		if len(byNode) < 3 {
			t.Errorf("%s: calls dialled per node %v: the trunk was not shared", phase.name, byNode)
		}
		if statuses[phase.status] != total {
			t.Errorf("%s: statuses %v, want %d of %s (a call over a cap waits, it is not refused)", phase.name, statuses, total, phase.status)
		}
		// One more period of statistics, then SIPp stops.
		time.Sleep(1500 * time.Millisecond)
		phase.uas.stop()
		incoming, current := phase.uas.periods(t)
		sum, busiest := 0, 0
		for i := range incoming {
			sum += incoming[i]
			busiest = max(busiest, incoming[i])
			if incoming[i] > maxCPS {
				t.Errorf("%s: second %d of SIPp's statistics: %d new calls, over max_cps %d (all: %v)", phase.name, i+1, incoming[i], maxCPS, incoming)
			}
			if current[i] > maxCalls {
				t.Errorf("%s: second %d of SIPp's statistics: %d calls in progress, over max_calls %d (all: %v)", phase.name, i+1, current[i], maxCalls, current)
			}
		}
		concurrent, perSecond, started := phase.uas.calls(t)
		if concurrent > maxCalls {
			t.Errorf("%s: SIPp had %d calls at once, over max_calls %d", phase.name, concurrent, maxCalls)
		}
		if started != total || sum != total {
			t.Errorf("%s: SIPp saw %d calls start (%d in its statistics), want %d", phase.name, started, sum, total)
		}
		// The cap this phase is about was reached: the test shows it holds.
		switch phase.binds {
		case "max_calls":
			if concurrent < maxCalls {
				t.Errorf("%s: SIPp never had %d calls at once (at most %d)", phase.name, maxCalls, concurrent)
			}
		case "max_cps":
			if busiest < maxCPS-2 {
				t.Errorf("%s: at most %d new calls in a second of SIPp's statistics: the load did not reach max_cps", phase.name, busiest)
			}
		}
		t.Logf("%s: SIPp's new calls per second %v, in progress at each second's end %v; at most %d at once, %d starts within any 1000 ms; statuses %v; dialled per node %v",
			phase.name, incoming, current, concurrent, perSecond, statuses, byNode)
	}
}

// TestSingleNodeLimitsInMemory: a single SQLite node counts its limits in
// memory: a number's concurrency holds and calls over it wait, and the
// store holds no slot.
func TestSingleNodeLimitsInMemory(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "p.yaml")
	// Calls ring 20 s of wall time.
	doc := limitsAccount(2) + `network:
  time_scale: 0.1
  default:
    answer_after: 200s
`
	if err := os.WriteFile(file, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	n := startNode(t, data, []string{"DIALTONE_ADMIN_TOKEN=tok"}, "--provision", file, "--node", "solo", "--ring-timeout", "10m")
	placeMany(t, []*node{n}, 3, 20, "139300")
	key := "number:" + limitsUID + ":" + limitsNumber
	var v limitsView
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var err error
		if v, err = getLimits(n); err == nil && v.Waiting[key] == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no call waiting: %+v %v", v, err)
		}
	}
	if held, byNode := v.held(key); v.Mode != "local" || held != 2 || byNode["solo"] != 2 {
		t.Errorf("limits of a single node: %+v", v)
	}
	conn, err := sql.Open("sqlite", filepath.Join(data, "dialtone.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var rows int
	if err := conn.QueryRow(`SELECT COUNT(*) FROM limit_slots`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != 0 {
		t.Errorf("a single node wrote %d slots to its store", rows)
	}
}
