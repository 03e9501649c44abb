package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/carrier/sip/sipbench"
	"github.com/dialtone-voice/dialtone/mns"
	"github.com/dialtone-voice/dialtone/pgtest"
	"github.com/dialtone-voice/dialtone/postgres"
	"github.com/dialtone-voice/dialtone/sdk"
	"github.com/dialtone-voice/dialtone/sqlite"
	"github.com/jackc/pgx/v5"
)

// benchRow is one line of the table.
type benchRow struct {
	name, value, note string
}

// benchOptions are the flags of `dialtone bench`.
type benchOptions struct {
	dur             time.Duration
	calls, receipts int
	pgURL           string
	noPG            bool
	// sip adds the SIP carrier rows; sipRate and sipCalls are the offered
	// rate and the calls of each side of the calls/s row, sipConcurrent
	// the calls held in the concurrent-RTP row.
	sip                              bool
	sipRate, sipCalls, sipConcurrent int
	// sipStreams is how many echo streams the media-streams row holds.
	sipStreams int
	// liveCalls is how many calls the live-calls row holds.
	liveCalls int
	// cpuProfile, when set, is where the CPU profile of the whole run is
	// written (go tool pprof reads it).
	cpuProfile string
	// memProfile, when set, is where the heap profile of the live-calls
	// row is written.
	memProfile string
	// only, when not empty, names the groups of rows to run (benchGroups).
	only map[string]bool
	// nodeCPU and pgCPU are the scale-out rows' CPU shares (cores) of
	// each node and of PostgreSQL; scaleCalls the calls of each row.
	nodeCPU, pgCPU float64
	scaleCalls     int
	// statements prints, after the table, the statements of a call by
	// text (the breakdown of the per-call counts).
	statements bool
}

// benchGroups are the groups of rows --only chooses from.
var benchGroups = []string{"gateway", "https", "calls", "receipts", "sip", "live", "postgres", "scale"}

// want reports whether the rows of group run. The scale-out rows run only
// when named: they need root (CPU groups) and take a minute.
func (o benchOptions) want(group string) bool {
	if group == "scale" {
		return o.only[group]
	}
	return len(o.only) == 0 || o.only[group]
}

// parseBenchFlags reads the flags of `dialtone bench`. sippFound is
// whether the sipp command is on PATH: the SIP rows are on by default
// only then, since the calls/s row compares against SIPp.
func parseBenchFlags(args []string, stderr io.Writer, sippFound bool) (benchOptions, error) {
	var o benchOptions
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.DurationVar(&o.dur, "duration", 3*time.Second, "how long each request-rate measurement runs")
	fs.IntVar(&o.calls, "calls", 300, "calls per end-to-end measurement")
	fs.IntVar(&o.receipts, "receipts", 3200, "receipts enqueued for the receive+delete measurement")
	fs.StringVar(&o.pgURL, "postgres", envOr("DIALTONE_BENCH_POSTGRES", ""), "PostgreSQL server for the cluster rows, as a URL of a role with CREATEDB (env DIALTONE_BENCH_POSTGRES); default: start a throw-away server with the Debian postgresql binaries")
	fs.BoolVar(&o.noPG, "no-postgres", false, "skip the PostgreSQL rows")
	fs.BoolVar(&o.sip, "sip", sippFound, "add the SIP carrier rows (calls/s against SIPp, concurrent RTP); default on when the sipp command is found")
	noSIP := fs.Bool("no-sip", false, "skip the SIP rows")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the run to this file (for go tool pprof)")
	fs.StringVar(&o.memProfile, "memprofile", "", "write a heap profile taken while the live-calls row holds its calls to this file")
	// The scale-out rows' defaults: PostgreSQL spends about 1.3 to 2 times a
	// node's CPU per call, so its share must exceed 3 nodes' together by
	// that much for the nodes, not the database, to be the limit (with
	// 0.4 per node and 0.6 for PostgreSQL the database's quota was full at
	// 1 node and adding nodes showed nothing). 3 x 0.2 + 1.2 = 1.8 cores
	// leave a little of a 2-core machine to the bench's client.
	// A node's share is small beside the database's: PostgreSQL spends
	// about twice a node's CPU per call, so at 0.2 core three nodes filled
	// its 1.2 cores and the rows measured the database, not the nodes.
	fs.Float64Var(&o.nodeCPU, "node-cpu", 0.1, "CPU share (cores) of each node process in the scale-out rows (--only scale)")
	fs.Float64Var(&o.pgCPU, "pg-cpu", 1.2, "CPU share (cores) of PostgreSQL in the scale-out rows")
	fs.IntVar(&o.scaleCalls, "scale-calls", 1500, "calls of each scale-out row")
	fs.BoolVar(&o.statements, "statements", false, "print on stderr how many times per call each statement ran in the end-to-end rows")
	only := fs.String("only", "", "run only these groups of rows, comma-separated: "+strings.Join(benchGroups, ", "))
	fs.IntVar(&o.sipRate, "sip-rate", 500, "calls/s offered in the SIP calls/s row, to Dialtone and to SIPp alike")
	fs.IntVar(&o.sipCalls, "sip-calls", 2000, "calls each caller places in the SIP calls/s row")
	fs.IntVar(&o.sipConcurrent, "sip-concurrent", 1000, "answered G.711 calls held in the SIP concurrent-RTP row")
	fs.IntVar(&o.sipStreams, "sip-streams", 100, "answered G.711 calls, each with an echo media stream, in the SIP media-streams row")
	fs.IntVar(&o.liveCalls, "live-calls", 50000, "simulated calls held at once in the live-calls row")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return o, errUsage
	}
	if o.dur <= 0 || o.dur > time.Minute || o.calls <= 0 || o.calls > 100000 || o.receipts <= 0 || o.receipts > 1000000 {
		return o, errors.New("bench: --duration must be in (0, 1m], --calls in [1, 100000], --receipts in [1, 1000000]")
	}
	if o.nodeCPU < 0.05 || o.nodeCPU > 64 || o.pgCPU < 0.05 || o.pgCPU > 64 || o.scaleCalls < 1 || o.scaleCalls > 100000 {
		return o, errors.New("bench: --node-cpu and --pg-cpu must be in [0.05, 64], --scale-calls in [1, 100000]")
	}
	if *only != "" {
		o.only = map[string]bool{}
		for _, g := range strings.Split(*only, ",") {
			if g = strings.TrimSpace(g); !slices.Contains(benchGroups, g) {
				return o, fmt.Errorf("bench: --only: unknown group %q (groups: %s)", g, strings.Join(benchGroups, ", "))
			}
			o.only[g] = true
		}
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if set["sip"] && o.sip && *noSIP {
		return o, errors.New("bench: --sip and --no-sip together")
	}
	o.sip = o.sip && !*noSIP
	// SIPp's caller gives up after 30 s, and so does Dialtone's: the
	// offered calls must fit well inside that.
	if o.sipRate <= 0 || o.sipRate > 5000 || o.sipCalls <= 0 || o.sipCalls > 20000 ||
		time.Duration(o.sipCalls)*time.Second/time.Duration(o.sipRate) > 20*time.Second ||
		o.sipConcurrent <= 0 || o.sipConcurrent > 5000 || o.liveCalls <= 0 || o.liveCalls > 200000 || o.sipStreams <= 0 || o.sipStreams > 2000 {
		return o, errors.New("bench: --sip-rate must be in [1, 5000], --sip-calls in [1, 20000] and at most 20 s of --sip-rate, --sip-concurrent in [1, 5000], --sip-streams in [1, 2000], --live-calls in [1, 200000]")
	}
	return o, nil
}

// cmdBench measures a node in-process on loopback and prints one table.
// Every measurement is bounded in count and in time.
func cmdBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseBenchFlags(args, stderr, sipbench.SippInstalled())
	if err != nil {
		return err
	}
	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return fmt.Errorf("bench: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("bench: cpu profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	dir, err := os.MkdirTemp("", "dialtone-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	machine := machineInfo()
	var rows []benchRow
	add := func(r benchRow, err error) {
		if err != nil {
			r.value, r.note = "failed", err.Error()
		}
		rows = append(rows, r)
		fmt.Fprintf(stderr, "bench: %s: %s %s\n", r.name, r.value, r.note)
	}

	key, err := newMasterKey()
	if err != nil {
		return err
	}
	if o.want("gateway") || o.want("https") || o.want("calls") || o.want("receipts") {
		sqliteNode, err := startBenchNode(ctx, dir, "sqlite", "", key, "0.001", 0)
		if err != nil {
			return err
		}
		if o.want("gateway") {
			gw, err := benchGateway(ctx, sqliteNode, o.dur)
			add(gw.rowV3(), err)
			add(gw.rowV1(), err)
		}
		if o.want("https") {
			https, plain, full, resumed, err := benchHTTPS(ctx, sqliteNode, o.dur)
			add(benchRow{"gateway signed requests/s over HTTPS (V3, SQLite)", fmtRate(https, "req/s"),
				fmt.Sprintf("plain HTTP %s in the same run; ratio %.2f; TLS 1.3, local-CA certificate for dyvmsapi.aliyuncs.com, HTTP/1.1 keep-alive, %d full and %d resumed handshakes",
					fmtRate(plain, "req/s"), https/max(plain, 1), full, resumed)}, err)
		}
		if o.want("calls") {
			lite := sqliteNode.node.Store().(*sqlite.Store)
			before, beforeText := lite.Counts(), lite.StatementCounts()
			cpu0 := processCPU()
			rate, polls, err := benchCallsPolled(ctx, []*benchNode{sqliteNode}, o.calls)
			cpu := processCPU() - cpu0
			sent := lite.Counts().Sub(before)
			// The bench's own polls are not the calls' cost.
			sent.Statements -= polls
			sent.Reads -= polls
			add(benchRow{"end-to-end calls/s (SQLite, 1 node)", fmtRate(rate, "calls/s"),
				fmt.Sprintf("%d SingleCallByTts, simulated network at 1/1000 time; CPU/call %d µs (client included); %s",
					o.calls, cpu.Microseconds()/int64(o.calls), sqlitePerCall(sent, o.calls))}, err)
			if o.statements {
				printStatements(stderr, "SQLite", subTexts(lite.StatementCounts(), beforeText), o.calls)
			}
		}
		if o.want("receipts") {
			rate, err := benchReceipts(ctx, sqliteNode, o.receipts)
			add(benchRow{"receipts receive+delete (batches of 16)", fmtRate(rate, "msg/s"), fmt.Sprintf("%d messages, 4 consumers over MNS HTTP", o.receipts)}, err)
		}
		if err := sqliteNode.stop(); err != nil {
			fmt.Fprintln(stderr, "bench: stopping the SQLite node:", err)
		}
	}

	// The SIP and live-call rows measure this process's CPU and heap: they
	// run while no other node is up in it.
	if o.sip && o.want("sip") {
		add(benchSIPCalls(ctx, dir, o.sipRate, o.sipCalls))
		add(benchSIPConcurrent(ctx, o.sipConcurrent, stderr))
		add(benchSIPStreams(ctx, o.sipStreams, stderr))
	}

	if o.want("live") {
		r, err := benchLive(ctx, dir, key, o.liveCalls, o.memProfile)
		add(r.row(), err)
	}

	if !o.noPG && o.want("postgres") {
		pgRows, err := benchPostgres(ctx, dir, o.pgURL, o.calls, o.statements, stderr)
		if err != nil {
			add(benchRow{name: "PostgreSQL cluster"}, err)
		}
		for _, r := range pgRows {
			add(r, nil)
		}
	}

	if !o.noPG && o.want("scale") {
		scaleRows, err := benchScale(ctx, dir, o, stderr)
		if err != nil {
			add(benchRow{name: "scale-out (PostgreSQL, nodes in their own processes)"}, err)
		}
		for _, r := range scaleRows {
			add(r, nil)
		}
	}

	fmt.Fprintf(stdout, "Dialtone %s bench on %s\n\n", version, machine)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "measurement\tresult\tdetail\tmachine")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.name, r.value, r.note, machine)
	}
	return tw.Flush()
}

// benchSIPCalls is the SIP calls/s row: Dialtone's SIP carrier placing
// short calls against a SIPp answerer, beside SIPp's caller against
// another answerer at the same offered rate, without media (its built-in
// scenario) and with the RTP Dialtone's calls carry.
func benchSIPCalls(ctx context.Context, dir string, rate, calls int) (benchRow, error) {
	row := benchRow{name: "SIP calls/s (Dialtone → SIPp answerer)"}
	if !sipbench.SippInstalled() {
		return row, sipbench.ErrNoSipp
	}
	run := func(caller func(uas string) (sipbench.CPSResult, error)) (sipbench.CPSResult, error) {
		uas, err := sipbench.StartSippUAS(ctx, dir)
		if err != nil {
			return sipbench.CPSResult{}, err
		}
		defer uas.Close()
		return caller(uas.Addr)
	}
	sp, err := run(func(uas string) (sipbench.CPSResult, error) { return sipbench.SippCalls(ctx, dir, uas, rate, calls) })
	if err != nil {
		return row, fmt.Errorf("SIPp caller: %w", err)
	}
	spm, err := run(func(uas string) (sipbench.CPSResult, error) { return sipbench.SippCallsRTP(ctx, dir, uas, rate, calls) })
	if err != nil {
		return row, fmt.Errorf("SIPp caller with RTP: %w", err)
	}
	dt, err := run(func(uas string) (sipbench.CPSResult, error) { return sipbench.DialtoneCalls(ctx, uas, rate, calls) })
	if err != nil {
		return row, fmt.Errorf("Dialtone caller: %w", err)
	}
	row.value = fmtRate(dt.CPS(), "calls/s")
	row.note = fmt.Sprintf("SIPp → SIPp %s; ratio %.2f; %d calls offered at %d/s, held 100 ms; CPU/call %d µs vs SIPp %d µs (%.1fx), SIPp with RTP as Dialtone's calls %d µs (%.1fx); failed %d vs %d, %d with RTP",
		fmtRate(sp.CPS(), "calls/s"), dt.CPS()/max(sp.CPS(), 1e-9), calls, rate,
		dt.CPUPerCall().Microseconds(), sp.CPUPerCall().Microseconds(), ratioOf(dt.CPUPerCall(), sp.CPUPerCall()),
		spm.CPUPerCall().Microseconds(), ratioOf(dt.CPUPerCall(), spm.CPUPerCall()), dt.Failed, sp.Failed, spm.Failed)
	return row, nil
}

// ratioOf is a / b, 0 when b is.
func ratioOf(a, b time.Duration) float64 {
	if b <= 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// sipRTPWindow is how long the concurrent-RTP row measures, as the Go
// benchmark does, so that the figures compare.
const sipRTPWindow = 5 * time.Second

// benchSIPConcurrent is the SIP concurrent-RTP row: n answered G.711
// calls playing a tone, measured by a far end in a child process (this
// binary, `dialtone bench-farend`), beside a bare send loop.
func benchSIPConcurrent(ctx context.Context, n int, stderr io.Writer) (benchRow, error) {
	row := benchRow{name: fmt.Sprintf("SIP concurrent RTP (%d G.711 calls)", n)}
	f, stop, err := startBenchFarEnd(ctx, benchFarEndCommand, stderr)
	if err != nil {
		return row, err
	}
	defer stop()
	r, err := sipbench.RunConcurrent(ctx, f, n, sipRTPWindow)
	if err != nil {
		return row, err
	}
	bare, err := sipbench.RunBare(ctx, f, n, sipRTPWindow)
	if err != nil {
		return row, fmt.Errorf("bare loop: %w", err)
	}
	l := r.Lateness
	row.value = fmt.Sprintf("%.3f%% >5ms late", l.LatePct())
	row.note = fmt.Sprintf("p99 %.1f ms; bare loop %.3f%% late; CPU %.2f ms per call-second (bare %.2f); heap %.0f KB per call; %v window, %d packets from %d streams",
		float64(l.P99.Microseconds())/1000, bare.Lateness.LatePct(), r.CPUPerCall, bare.CPUPerCall, r.KBPerCall,
		sipRTPWindow, l.Packets, l.Streams)
	return row, nil
}

// startBenchFarEnd starts this binary as a benchmark's far end (its
// hidden command); stop ends it.
func startBenchFarEnd(ctx context.Context, command string, stderr io.Writer) (f *sipbench.FarEnd, stop func(), err error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, nil, fmt.Errorf("far end: %w", err)
	}
	cmd := exec.CommandContext(ctx, exe, command)
	cmd.Stderr = stderr
	if f, err = sipbench.StartFarEnd(ctx, cmd); err != nil {
		return nil, nil, err
	}
	return f, func() {
		if err := f.Close(); err != nil {
			fmt.Fprintln(stderr, "bench:", err)
		}
	}, nil
}

// benchSIPStreams is the SIP media-streams row: n answered G.711 calls
// each connected to an echo application over a media stream, the far end
// and the application in a child process (`dialtone bench-stream-farend`).
func benchSIPStreams(ctx context.Context, n int, stderr io.Writer) (benchRow, error) {
	row := benchRow{name: fmt.Sprintf("SIP media streams (%d echo streams)", n)}
	f, stop, err := startBenchFarEnd(ctx, benchStreamFarEndCommand, stderr)
	if err != nil {
		return row, err
	}
	defer stop()
	r, err := sipbench.RunStreams(ctx, f, n, sipRTPWindow)
	if err != nil {
		return row, err
	}
	l := r.Latency
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	row.value = fmt.Sprintf("p99 %.1f / %.1f ms", ms(l.Up99), ms(l.Down99))
	row.note = fmt.Sprintf("added latency RTP→WebSocket p50 %.1f p99 %.1f ms, WebSocket→RTP p50 %.1f p99 %.1f ms (with the wait for the call's send slot); RTP %.3f%% >5ms late, %.1f%% received; CPU %.2f ms per stream-second, far end and echo application %.0f%% of a core; %d frames dropped; %v window",
		ms(l.Up50), ms(l.Up99), ms(l.Down50), ms(l.Down99), l.LatePct(), r.RxPct, r.CPUPerStream, float64(l.FarCPU)/float64(time.Second)*100, r.Drops, sipRTPWindow)
	return row, nil
}

func fmtRate(v float64, unit string) string {
	return strconv.FormatFloat(v, 'f', 0, 64) + " " + unit
}

// machineInfo names the CPU model, cores and Go version.
func machineInfo() string {
	model := "unknown CPU"
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.Join(strings.Fields(v), " ")
				break
			}
		}
		f.Close()
	}
	return fmt.Sprintf("%s, %d cores, %s", model, runtime.NumCPU(), runtime.Version())
}

// benchParams are the parameters of the signed requests measured.
func benchParams() map[string]string {
	return map[string]string{"CallId": "116012354148^10281378", "ProdId": "11000000300006", "QueryDate": strconv.FormatInt(time.Now().UnixMilli(), 10)}
}

// measureSigned sends signed QueryCallDetailByCallId requests with c from
// 4 goroutines per CPU for d and returns the requests per second.
func measureSigned(ctx context.Context, c *sdk.Client, d time.Duration) (float64, error) {
	start := time.Now()
	n, err := sendSigned(ctx, c, d)
	if err != nil {
		return 0, err
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

// benchCalls places total TTS calls round-robin over nodes (16 at a time)
// and measures from the first request until every call has ended.
func benchCalls(ctx context.Context, nodes []*benchNode, total int) (float64, error) {
	rate, _, err := benchCallsPolled(ctx, nodes, total)
	return rate, err
}

// benchCallsPolled is benchCalls that also says how many times it asked
// the first node's store whether calls were left (one statement each).
func benchCallsPolled(ctx context.Context, nodes []*benchNode, total int) (float64, int64, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	start := time.Now()
	err := placeCalls(ctx, total, 16, func(w, i int) *sdk.Client { return nodes[(i+w)%len(nodes)].client })
	if err != nil {
		return 0, 0, err
	}
	var polls int64
	for {
		open, err := nodes[0].unfinished(ctx)
		polls++
		if err != nil {
			return 0, polls, err
		}
		if open == 0 {
			break
		}
		select {
		case <-ctx.Done():
			return 0, polls, fmt.Errorf("%d calls still unfinished: %w", open, ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
	rate := float64(total) / time.Since(start).Seconds()
	stats, err := nodes[0].node.Store().CallStats(ctx, benchUID, time.Unix(0, 0), time.Now().Add(time.Hour), 24*time.Hour*365*100)
	if err != nil {
		return 0, polls, fmt.Errorf("calls' statuses: %w", err)
	}
	return rate, polls, callsEndedNormally(stats.ByStatus)
}

// benchCallStatus is how every call the bench places ends when all went
// well: answered, the prompt played, hung up (Alibaba's 200000).
const benchCallStatus = "200000"

// callsEndedNormally refuses a measurement in which more than 1% of the
// calls did not end with benchCallStatus: a call that fails early
// (espeak-ng missing, a refused prompt) skips most of the path and would
// make the rate look better than the platform is. A few may end
// otherwise: at 1/1000 time a ring timeout is tens of milliseconds, which
// a loaded machine can overrun.
func callsEndedNormally(byStatus map[string]int) error {
	var other []string
	n, total := 0, 0
	for status, k := range byStatus {
		total += k
		if status != benchCallStatus {
			other = append(other, fmt.Sprintf("%d with status %q", k, status))
			n += k
		}
	}
	if n*100 <= total {
		return nil
	}
	slices.Sort(other)
	return fmt.Errorf("%d of %d calls did not end with %s (%s): the measurement would not be of the whole call path; `dialtone call get` on one of them says why (espeak-ng installed?)",
		n, total, benchCallStatus, strings.Join(other, ", "))
}

// benchReceipts enqueues total receipts in the account's VoiceRecordReport
// queue, which no call of the bench fills (the calls rows' VoiceReports
// keep arriving in theirs after the calls end), and measures 4 consumers
// receiving 16 at a time and deleting them.
func benchReceipts(ctx context.Context, n *benchNode, total int) (float64, error) {
	rs := n.node.Store()
	queue := dialtone.QueueName(benchUID, dialtone.MsgVoiceRecordReport)
	now := time.Now()
	for i := range total {
		m := mns.NewReceiptMessage(&dialtone.Receipt{ID: fmt.Sprint("bench-", i), AccountUID: benchUID,
			Body: []byte(`{"call_id":"x","status_code":"200000"}`)}, queue, now, time.Hour)
		if err := rs.EnqueueMessage(ctx, m); err != nil {
			return 0, err
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	var got atomic.Int64
	var runErr atomic.Value
	var wg sync.WaitGroup
	start := time.Now()
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &sdk.Consumer{Client: n.client, MessageType: dialtone.MsgVoiceRecordReport, AccountUID: benchUID, Batch: 16,
				Wait: time.Second, Concurrency: 16,
				Handler: func(context.Context, sdk.Receipt) error {
					if got.Add(1) >= int64(total) {
						cancel()
					}
					return nil
				}}
			if err := c.Run(ctx); err != nil {
				runErr.CompareAndSwap(nil, err)
				cancel()
			}
		}()
	}
	wg.Wait()
	if err, _ := runErr.Load().(error); err != nil {
		return 0, err
	}
	if g := got.Load(); g < int64(total) {
		return 0, fmt.Errorf("%d of %d receipts consumed in time", g, total)
	}
	// Deletes of the last batch finished when Run returned.
	left, err := rs.QueueStats(context.Background(), queue, time.Now().Add(time.Hour))
	if err == nil && left.Active+left.Inactive > 0 {
		return 0, fmt.Errorf("%d messages left in the queue", left.Active+left.Inactive)
	}
	return float64(total) / time.Since(start).Seconds(), nil
}

// sqlitePerCall says what a SQLite node ran per call.
func sqlitePerCall(c sqlite.Counts, calls int) string {
	per := func(v int64) float64 { return float64(v) / float64(calls) }
	return fmt.Sprintf("%.1f statements per call (%.1f reads; writes in %.1f writer ops, %.2f commits)",
		per(c.Statements), per(c.Reads), per(c.Ops), per(c.Commits))
}

// subTexts is the per-statement counts now minus before.
func subTexts(now, before map[string]int64) map[string]int64 {
	out := map[string]int64{}
	for k, v := range now {
		if d := v - before[k]; d > 0 {
			out[k] = d
		}
	}
	return out
}

// printStatements writes the statements of the calls, most frequent first.
func printStatements(w io.Writer, what string, counts map[string]int64, calls int) {
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int { return int(counts[b] - counts[a]) })
	fmt.Fprintf(w, "bench: statements per call, %s:\n", what)
	for _, k := range keys {
		if len(k) > 110 {
			k2 := k[:110] + "…"
			fmt.Fprintf(w, "  %6.2f  %s\n", float64(counts[k])/float64(calls), k2)
			continue
		}
		fmt.Fprintf(w, "  %6.2f  %s\n", float64(counts[k])/float64(calls), k)
	}
}

// pgCounts adds up what the nodes' PostgreSQL stores have sent.
func pgCounts(nodes []*benchNode) postgres.Counts {
	var sum postgres.Counts
	for _, n := range nodes {
		if pg, ok := n.node.Store().(*postgres.Store); ok {
			c := pg.Counts()
			sum.Statements += c.Statements
			sum.RoundTrips += c.RoundTrips
			sum.Limits += c.Limits
		}
	}
	return sum
}

// pgTexts adds up the nodes' statements by text.
func pgTexts(nodes []*benchNode) map[string]int64 {
	out := map[string]int64{}
	for _, n := range nodes {
		if pg, ok := n.node.Store().(*postgres.Store); ok {
			for k, v := range pg.StatementCounts() {
				out[k] += v
			}
		}
	}
	return out
}

// perCall says what the nodes sent PostgreSQL per call: every statement
// while the calls ran (their receipts, the cluster's loops), then those of
// the cluster's limits (a display number's slot: its lock and insert in
// one batch, its release, the NOTIFY to the waiting nodes), which the
// nodes did not send before the limits were shared.
func perCall(sent postgres.Counts, calls int) string {
	per := func(v int64) float64 { return float64(v) / float64(calls) }
	return fmt.Sprintf("%.1f statements per call in %.1f round trips: %.1f without the cluster's limits, %.1f with them (+%.1f)",
		per(sent.Statements), per(sent.RoundTrips), per(sent.Statements-sent.Limits), per(sent.Statements), per(sent.Limits))
}

// startPostgres starts the bench's throw-away PostgreSQL server, or
// takes the server at url (a role with CREATEDB) when one is given; stop
// stops what was started.
func startPostgres(url string, stderr io.Writer) (srv *pgtest.Server, stop func(), err error) {
	if url != "" {
		os.Setenv(pgtest.EnvDSN, url)
	}
	if srv, err = pgtest.Start(); err != nil {
		return nil, nil, err
	}
	return srv, func() {
		if err := srv.Stop(); err != nil {
			fmt.Fprintln(stderr, "bench: stopping PostgreSQL:", err)
		}
	}, nil
}

// benchPostgres runs the end-to-end call measurement on 1, 2 and 3 nodes
// sharing one PostgreSQL database (a fresh one each time).
func benchPostgres(ctx context.Context, dir, url string, calls int, statements bool, stderr io.Writer) ([]benchRow, error) {
	var newDB func() (string, error)
	srv, stop, err := startPostgres(url, stderr)
	if err != nil {
		return nil, err
	}
	defer stop()
	newDB = func() (string, error) { return srv.NewDatabase(ctx) }
	var rows []benchRow
	rates := map[int]float64{}
	for k := 1; k <= 3; k++ {
		dsn, err := newDB()
		if err != nil {
			return rows, err
		}
		key, err := newMasterKey()
		if err != nil {
			return rows, err
		}
		var nodes []*benchNode
		for i := range k {
			n, err := startBenchNode(ctx, dir, fmt.Sprintf("pg%d-%d", k, i), dsn, key, "0.001", 0)
			if err != nil {
				for _, n := range nodes {
					n.stop()
				}
				return rows, err
			}
			nodes = append(nodes, n)
		}
		if err := warmPostgres(ctx, dsn, calls, func(n int) error {
			_, err := benchCalls(ctx, nodes, n)
			return err
		}); err != nil {
			for _, n := range nodes {
				n.stop()
			}
			return rows, err
		}
		before := pgCounts(nodes)
		beforeText := pgTexts(nodes)
		cpu0 := processCPU()
		rate, polls, err := benchCallsPolled(ctx, nodes, calls)
		cpu := processCPU() - cpu0
		sent := pgCounts(nodes).Sub(before)
		// The bench's own polls of the first node are not the calls' cost.
		sent.Statements -= polls
		sent.RoundTrips -= polls
		for _, n := range nodes {
			if serr := n.stop(); serr != nil {
				fmt.Fprintln(stderr, "bench: stopping a node:", serr)
			}
		}
		if statements {
			printStatements(stderr, fmt.Sprintf("PostgreSQL, %d node(s)", k), subTexts(pgTexts(nodes), beforeText), calls)
		}
		r := benchRow{name: fmt.Sprintf("end-to-end calls/s (PostgreSQL, %d node%s)", k, map[bool]string{true: "s"}[k > 1]),
			value: fmtRate(rate, "calls/s"), note: fmt.Sprintf("%d calls spread over the nodes, all in one process", calls)}
		if err != nil {
			r.value, r.note = "failed", err.Error()
		} else {
			rates[k] = rate
			if k > 1 && rates[1] > 0 {
				r.note += fmt.Sprintf("; x%.2f of 1 node", rate/rates[1])
			}
			r.note += fmt.Sprintf("; CPU/call %d µs (nodes and client, not PostgreSQL); ", cpu.Microseconds()/int64(calls)) + perCall(sent, calls)
		}
		rows = append(rows, r)
	}
	return rows, nil
}

// warmPostgres brings a fresh database to the state of one that has run
// for a minute before the PostgreSQL rows measure it: place (a tenth of
// the measured calls, 100 at least) and then ANALYZE, which autovacuum does
// on its own within its first minute (autovacuum_naptime). Without it the
// rows measured a transient instead of the node: on a table without
// statistics the planner finds the primary key and the indexes that start
// with account_uid equally cheap for a lookup by call ID and account, and
// the generic plan it caches while the table is near empty (an account
// index, reading every call of the account per lookup) is kept until the
// table is analyzed. In a 10 s row that never happens, so each call change
// cost more than the one before it (measured: 2.3 ms of PostgreSQL time
// per change at 3 nodes and 4,000 calls, 0.2 ms with statistics).
func warmPostgres(ctx context.Context, dsn string, calls int, place func(n int) error) error {
	if err := place(max(100, calls/10)); err != nil {
		return fmt.Errorf("warm-up calls: %w", err)
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return fmt.Errorf("warm-up: %w", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "ANALYZE"); err != nil {
		return fmt.Errorf("warm-up: analyze: %w", err)
	}
	return nil
}

// placeCalls places total SingleCallByTts calls (to 139 numbers from 0)
// from workers goroutines, each call through client(worker, call); any
// refusal fails the measurement.
func placeCalls(ctx context.Context, total, workers int, client func(worker, call int) *sdk.Client) error {
	var next, failed atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= total || ctx.Err() != nil {
					return
				}
				_, err := client(w, i).SingleCallByTts(ctx, sdk.TtsCall{CalledNumber: fmt.Sprintf("139%08d", i), CalledShowNumber: "057188880000",
					TtsCode: "TTS_100002", PlayTimes: 1})
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err)
				}
			}
		})
	}
	wg.Wait()
	if f := failed.Load(); f > 0 {
		return fmt.Errorf("%d of %d calls refused: %v", f, total, firstErr.Load())
	}
	return nil
}
