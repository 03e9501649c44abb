package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dialtone-voice/dialtone/pgtest"
	"github.com/dialtone-voice/dialtone/sdk"
)

// The scale-out rows (`dialtone bench --only scale`): 1, 2 and 3 nodes,
// each its own `dialtone serve` process on its own loopback address
// (127.0.0.2, .3, .4) with a fixed CPU share, on one PostgreSQL server
// with a fixed share of its own (benchcgroup.go). Adding a node adds its
// share of CPU, as adding a machine would, while the database keeps its
// share: the ratio to 1 node is the scale-out, and the database's CPU and
// statements per call say how far one server carries it.

// scaleNode is one node process.
type scaleNode struct {
	cmd    *exec.Cmd
	addr   string
	share  *share
	client *sdk.Client
	done   chan error
}

// scaleResult is one row's measurement.
type scaleResult struct {
	nodes            int
	rate             float64
	nodeCPU, pgCPU   time.Duration // per call
	statements, trip float64       // per call, from the nodes' /metrics
	nodeBusy, pgBusy float64       // share of the quota used while measured
}

func benchScale(ctx context.Context, dir string, o benchOptions, stderr io.Writer) ([]benchRow, error) {
	sh, err := newShares(fmt.Sprintf("dialtone-bench-%d", os.Getpid()))
	if err != nil {
		return nil, err
	}
	defer func() {
		if err := sh.close(); err != nil {
			fmt.Fprintln(stderr, "bench: removing the CPU groups:", err)
		}
	}()
	srv, stop, err := startPostgres(o.pgURL, stderr)
	if err != nil {
		return nil, err
	}
	defer stop()
	pgShare, err := sh.group("postgres", o.pgCPU)
	if err != nil {
		return nil, err
	}
	if srv.Pid() == 0 {
		return nil, errors.New("the scale-out rows start their own PostgreSQL server (no --postgres): it needs a CPU share of its own")
	}
	if err := pgShare.adopt(srv.Pid()); err != nil {
		return nil, err
	}
	poll, err := pgxpool.New(ctx, srv.AdminDSN())
	if err != nil {
		return nil, err
	}
	defer poll.Close()
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}

	var results []scaleResult
	for k := 1; k <= 3; k++ {
		r, err := scaleRun(ctx, dir, exe, sh, pgShare, srv, k, o, stderr)
		if err != nil {
			return scaleRows(results, sh, o), fmt.Errorf("%d node(s): %w", k, err)
		}
		results = append(results, r)
		fmt.Fprintf(stderr, "bench: scale-out %d node(s): %.0f calls/s\n", k, r.rate)
	}
	return scaleRows(results, sh, o), nil
}

// scaleRun starts k nodes on a fresh database, places o.scaleCalls calls
// spread over them and stops them.
func scaleRun(ctx context.Context, dir, exe string, sh *shares, pgShare *share, srv *pgtest.Server, k int, o benchOptions, stderr io.Writer) (scaleResult, error) {
	res := scaleResult{nodes: k}
	dsn, err := srv.NewDatabase(ctx)
	if err != nil {
		return res, err
	}
	key, err := newMasterKey()
	if err != nil {
		return res, err
	}
	runDir := filepath.Join(dir, fmt.Sprintf("scale%d", k))
	if err := os.MkdirAll(runDir, 0o700); err != nil {
		return res, err
	}
	prov := filepath.Join(runDir, "provision.yaml")
	if err := os.WriteFile(prov, []byte(benchDoc("0.001")), 0o600); err != nil {
		return res, err
	}
	var nodes []*scaleNode
	defer func() {
		for _, n := range nodes {
			n.stop()
		}
	}()
	for i := range k {
		// Started one after the other: the first applies the
		// provisioning file, the others find it applied.
		n, err := startScaleNode(ctx, runDir, exe, sh, dsn, key, prov, k, i, o.nodeCPU)
		if err != nil {
			return res, err
		}
		nodes = append(nodes, n)
	}
	db, err := pgxpool.New(ctx, dsn)
	if err != nil {
		return res, err
	}
	defer db.Close()

	if err := warmPostgres(ctx, dsn, o.scaleCalls, func(n int) error { return scaleCalls(ctx, nodes, db, n) }); err != nil {
		return res, err
	}
	nodeUse0, err := sumUsage(nodes)
	if err != nil {
		return res, err
	}
	pg0, err := pgShare.usage()
	if err != nil {
		return res, err
	}
	st0, rt0 := scaleMetrics(nodes)
	start := time.Now()
	if err := scaleCalls(ctx, nodes, db, o.scaleCalls); err != nil {
		return res, err
	}
	wall := time.Since(start)
	nodeUse1, err := sumUsage(nodes)
	if err != nil {
		return res, err
	}
	pg1, err := pgShare.usage()
	if err != nil {
		return res, err
	}
	st1, rt1 := scaleMetrics(nodes)
	calls := float64(o.scaleCalls)
	res.rate = calls / wall.Seconds()
	res.nodeCPU = time.Duration(float64(nodeUse1-nodeUse0) / calls)
	res.pgCPU = time.Duration(float64(pg1-pg0) / calls)
	res.statements = (st1 - st0) / calls
	res.trip = (rt1 - rt0) / calls
	res.nodeBusy = (nodeUse1 - nodeUse0).Seconds() / (wall.Seconds() * o.nodeCPU * float64(k))
	res.pgBusy = (pg1 - pg0).Seconds() / (wall.Seconds() * o.pgCPU)
	return res, nil
}

func sumUsage(nodes []*scaleNode) (time.Duration, error) {
	var sum time.Duration
	for _, n := range nodes {
		u, err := n.share.usage()
		if err != nil {
			return 0, err
		}
		sum += u
	}
	return sum, nil
}

// startScaleNode runs node i of k in a share of its own on 127.0.0.(2+i).
func startScaleNode(ctx context.Context, dir, exe string, sh *shares, dsn, key, prov string, k, i int, cores float64) (*scaleNode, error) {
	name := fmt.Sprintf("k%d-node%d", k, i+1)
	g, err := sh.group(name, cores)
	if err != nil {
		return nil, err
	}
	addr, err := freeLoopback(fmt.Sprintf("127.0.0.%d", 2+i))
	if err != nil {
		return nil, err
	}
	data := filepath.Join(dir, name)
	if err := os.MkdirAll(data, 0o700); err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(dir, name+".log"))
	if err != nil {
		return nil, err
	}
	defer logf.Close() // the child has its own descriptor
	argv := g.wrap([]string{exe, "serve", "--data", data, "--http", addr, "--store", dsn, "--node", name,
		"--provision", prov, "--log-level", "warn", "--ring-timeout", benchTimeout.String(),
		"--queue-timeout", benchTimeout.String()})
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), "DIALTONE_MASTER_KEY="+key)
	cmd.Stdout, cmd.Stderr = logf, logf
	// A node never outlives the bench.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	n := &scaleNode{cmd: cmd, addr: addr, share: g, done: make(chan error, 1)}
	go func() { n.done <- cmd.Wait() }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		select {
		case err := <-n.done:
			n.done <- err
			b, _ := os.ReadFile(filepath.Join(dir, name+".log"))
			return nil, fmt.Errorf("node %s exited: %v\n%s", name, err, b)
		case <-ctx.Done():
			n.stop()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			n.stop()
			return nil, fmt.Errorf("node %s not ready in 60 s", name)
		}
	}
	n.client, err = sdk.New(sdk.Config{AccessKeyID: benchKeyID, AccessKeySecret: benchSecret, Endpoint: addr, MaxRetries: -1,
		HTTPClient: benchHTTPClient(32)})
	if err != nil {
		n.stop()
		return nil, err
	}
	return n, nil
}

// stop ends the node with SIGTERM, then SIGKILL after 20 s.
func (n *scaleNode) stop() {
	if n.cmd.Process == nil {
		return
	}
	_ = n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-n.done:
		n.done <- err
	case <-time.After(20 * time.Second):
		_ = n.cmd.Process.Kill()
		err := <-n.done
		n.done <- err
	}
}

// freeLoopback picks a free TCP port on ip (any 127.x address is the
// loopback interface on Linux: no set-up needed).
func freeLoopback(ip string) (string, error) {
	l, err := net.Listen("tcp", ip+":0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// scaleMetrics sums the nodes' store counters from /metrics.
func scaleMetrics(nodes []*scaleNode) (statements, roundTrips float64) {
	for _, n := range nodes {
		resp, err := http.Get("http://" + n.addr + "/metrics")
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			name, v, ok := strings.Cut(sc.Text(), " ")
			if !ok {
				continue
			}
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				continue
			}
			switch name {
			case "dialtone_store_statements_total":
				statements += f
			case "dialtone_store_round_trips_total":
				roundTrips += f
			}
		}
		resp.Body.Close()
	}
	return statements, roundTrips
}

// scaleCalls places total calls, 16 senders per node each sending to its
// own node, and waits until the database has none unfinished.
func scaleCalls(ctx context.Context, nodes []*scaleNode, db *pgxpool.Pool, total int) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	// 16 senders per node, each keeping to its node.
	if err := placeCalls(ctx, total, 16*len(nodes), func(w, _ int) *sdk.Client { return nodes[w%len(nodes)].client }); err != nil {
		return err
	}
	for {
		var open int64
		if err := db.QueryRow(ctx, `SELECT COUNT(*) FROM calls WHERE state <> 'ended'`).Scan(&open); err != nil {
			return err
		}
		if open == 0 {
			return scaleCallsEnded(ctx, db)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d calls still unfinished: %w", open, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// scaleCallsEnded checks that every call in the database ended as the
// bench's calls should (callsEndedNormally).
func scaleCallsEnded(ctx context.Context, db *pgxpool.Pool) error {
	rows, err := db.Query(ctx, `SELECT status_code, COUNT(*) FROM calls GROUP BY status_code`)
	if err != nil {
		return fmt.Errorf("calls' statuses: %w", err)
	}
	byStatus := map[string]int{}
	for rows.Next() {
		var status string
		var n int
		if err := rows.Scan(&status, &n); err != nil {
			rows.Close()
			return fmt.Errorf("calls' statuses: %w", err)
		}
		byStatus[status] = n
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("calls' statuses: %w", err)
	}
	return callsEndedNormally(byStatus)
}

// scaleRows turns the runs into rows, with the projection after them.
func scaleRows(results []scaleResult, sh *shares, o benchOptions) []benchRow {
	var rows []benchRow
	var one float64
	for _, r := range results {
		if r.nodes == 1 {
			one = r.rate
		}
		note := fmt.Sprintf("each node its own process on 127.0.0.%d.. with %.2f core, PostgreSQL %.2f core (%s, %v period); ",
			2, o.nodeCPU, o.pgCPU, sh.kind, cpuPeriod)
		if r.nodes > 1 && one > 0 {
			note += fmt.Sprintf("x%.2f of 1 node; ", r.rate/one)
		}
		note += fmt.Sprintf("per call: nodes %d µs CPU, PostgreSQL %d µs CPU, %.1f statements in %.1f round trips; quota used: nodes %.0f%%, PostgreSQL %.0f%%",
			r.nodeCPU.Microseconds(), r.pgCPU.Microseconds(), r.statements, r.trip, 100*r.nodeBusy, 100*r.pgBusy)
		rows = append(rows, benchRow{fmt.Sprintf("scale-out calls/s (PostgreSQL, %d node%s, own processes)", r.nodes, map[bool]string{true: "s"}[r.nodes > 1]),
			fmtRate(r.rate, "calls/s"), note})
	}
	if len(results) == 0 {
		return rows
	}
	// The projection uses the largest run: the database's cost per call
	// is measured under the most concurrency. A node's capacity is its
	// share over its CPU per call (what it places when its share is the
	// limit, not the database).
	last := results[len(results)-1]
	if last.pgCPU <= 0 || last.nodeCPU <= 0 {
		return rows
	}
	cores := float64(runtime.NumCPU())
	pgCap := cores / last.pgCPU.Seconds()
	nodeCap := o.nodeCPU / last.nodeCPU.Seconds()
	coreCap := 1 / last.nodeCPU.Seconds()
	rows = append(rows, benchRow{"projection: nodes one PostgreSQL server of this size carries",
		fmt.Sprintf("%.1f nodes", pgCap/nodeCap),
		fmt.Sprintf("measured at %d nodes: PostgreSQL %d µs CPU per call, a node %d µs; PostgreSQL with all %.0f cores: %.0f / %d µs = %.0f calls/s; a node of %.2f core: %.2f / %d µs = %.0f calls/s; %.0f / %.0f = %.1f nodes of %.2f core, or %.0f / %.0f = %.1f nodes of one core; an upper bound (lock waits, WAL and connections grow with nodes)",
			last.nodes, last.pgCPU.Microseconds(), last.nodeCPU.Microseconds(), cores, cores, last.pgCPU.Microseconds(), pgCap,
			o.nodeCPU, o.nodeCPU, last.nodeCPU.Microseconds(), nodeCap, pgCap, nodeCap, pgCap/nodeCap, o.nodeCPU, pgCap, coreCap, pgCap/coreCap)})
	return rows
}
