package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/migrations"
	"github.com/dialtone-voice/dialtone/pgnotify"
	"github.com/dialtone-voice/dialtone/pgtest"
	"github.com/dialtone-voice/dialtone/secret"
	"github.com/dialtone-voice/dialtone/storetest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func sealer(t testing.TB, b byte) dialtone.Sealer {
	t.Helper()
	s, err := secret.NewSealer(bytes.Repeat([]byte{b}, secret.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func openDSN(t testing.TB, dsn string, opts ...Option) *Store {
	t.Helper()
	// The suites open hundreds of stores; their migration logs are noise.
	opts = append([]Option{WithLogger(slog.New(slog.DiscardHandler))}, opts...)
	st, err := Open(context.Background(), dsn, sealer(t, 1), opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return st
}

// node opens a store on dsn that the test closes at its end: one "node" of
// a deployment sharing the database.
func node(t testing.TB, dsn string) *Store {
	t.Helper()
	st := openDSN(t, dsn)
	t.Cleanup(func() { must(t, st.Close()) })
	return st
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) dialtone.Store { return openDSN(t, pgtest.DB(t)) })
}

func TestReceiptConformance(t *testing.T) {
	storetest.RunReceipts(t, func(t *testing.T) storetest.ReceiptStore { return openDSN(t, pgtest.DB(t)) })
}

type migrationRow struct {
	version   int
	name      string
	appliedAt int64
}

func appliedRows(t *testing.T, st *Store) []migrationRow {
	t.Helper()
	rows, err := st.pool.Query(context.Background(), `SELECT version, name, applied_at FROM schema_migrations ORDER BY version`)
	must(t, err)
	defer rows.Close()
	var out []migrationRow
	for rows.Next() {
		var r migrationRow
		must(t, rows.Scan(&r.version, &r.name, &r.appliedAt))
		out = append(out, r)
	}
	must(t, rows.Err())
	return out
}

// Nodes starting together on an empty database: every Open succeeds and
// each migration is applied once (a second run of 0001 would fail on its
// CREATE TABLE, and the log would show it twice).
func TestConcurrentOpenMigratesOnce(t *testing.T) {
	dsn := pgtest.DB(t)
	all, err := migrations.All()
	must(t, err)
	var (
		mu  sync.Mutex
		log bytes.Buffer
		wg  sync.WaitGroup
	)
	logger := slog.New(slog.NewTextHandler(&lockedWriter{mu: &mu, w: &log}, nil))
	const nodes = 8
	stores := make([]*Store, nodes)
	errs := make([]error, nodes)
	for i := range nodes {
		wg.Go(func() { stores[i], errs[i] = Open(context.Background(), dsn, sealer(t, 1), WithLogger(logger)) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("node %d: Open: %v", i, err)
		}
		defer stores[i].Close()
	}
	rows := appliedRows(t, stores[0])
	if len(rows) != len(all) {
		t.Fatalf("schema_migrations has %d rows, want %d", len(rows), len(all))
	}
	for i, m := range all {
		if rows[i].version != m.Version || rows[i].name != m.Name || rows[i].appliedAt <= 0 {
			t.Errorf("schema_migrations row %d = %+v, want %d %s", i, rows[i], m.Version, m.Name)
		}
	}
	if n := strings.Count(log.String(), "applied migration"); n != len(all) {
		t.Errorf("%d migrations logged as applied across %d nodes, want %d:\n%s", n, nodes, len(all), log.String())
	}
	for _, st := range stores {
		must(t, st.Ping(context.Background()))
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestReopen(t *testing.T) {
	dsn := pgtest.DB(t)
	ctx := context.Background()
	st := openDSN(t, dsn)
	first := appliedRows(t, st)
	must(t, st.PutAccount(ctx, &dialtone.Account{UID: "1", Name: "n", Features: []dialtone.Feature{}}))
	must(t, st.PutAccessKey(ctx, &dialtone.AccessKey{ID: "K1", AccountUID: "1", Secret: "s1", Enabled: true}))
	ok, err := st.UseNonce(ctx, "K1", "n1", time.Now(), time.Now().Add(time.Hour))
	if err != nil || !ok {
		t.Fatalf("UseNonce = %v, %v", ok, err)
	}
	must(t, st.Close())

	st = openDSN(t, dsn)
	defer st.Close()
	if again := appliedRows(t, st); fmt.Sprint(again) != fmt.Sprint(first) {
		t.Errorf("schema_migrations = %+v, want unchanged %+v", again, first)
	}
	if a, err := st.GetAccount(ctx, "1"); err != nil || a.Name != "n" || a.Features == nil {
		t.Errorf("account = %+v, %v", a, err)
	}
	if k, err := st.GetAccessKey(ctx, "K1"); err != nil || k.Secret != "s1" || !k.Enabled {
		t.Errorf("key = %+v, %v", k, err)
	}
	if ok, err := st.UseNonce(ctx, "K1", "n1", time.Now(), time.Now().Add(time.Hour)); err != nil || ok {
		t.Errorf("nonce forgotten across reopen: %v, %v", ok, err)
	}
}

// A database migrated by a newer binary (or with renamed migrations) is
// refused instead of being written with a schema this code does not know.
func TestRefusesUnknownMigration(t *testing.T) {
	ctx := context.Background()
	for name, stmt := range map[string]string{
		"newer":   `INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, 'future', 1)`,
		"renamed": `UPDATE schema_migrations SET name = 'other' WHERE version = 1`,
	} {
		dsn := pgtest.DB(t)
		st := openDSN(t, dsn)
		if _, err := st.pool.Exec(ctx, stmt); err != nil {
			t.Fatal(err)
		}
		must(t, st.Close())
		if st, err := Open(ctx, dsn, sealer(t, 1)); err == nil {
			st.Close()
			t.Errorf("%s: Open succeeded", name)
		}
	}
}

func TestOpenRejects(t *testing.T) {
	ctx := context.Background()
	if _, err := Open(ctx, pgtest.DB(t), nil); err == nil {
		t.Error("nil sealer accepted")
	}
	// The parse error must not repeat the password.
	_, err := Open(ctx, "postgres://u:hunter2@127.0.0.1:notaport/db", sealer(t, 1))
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("bad DSN: err = %v", err)
	}
	// Nothing listens on port 1 of loopback: Open fails instead of
	// returning a store that cannot work.
	if st, err := Open(ctx, "postgres://u@127.0.0.1:1/db?connect_timeout=5", sealer(t, 1)); err == nil {
		st.Close()
		t.Error("Open of an unreachable server succeeded")
	}
}

// The secrets must be stored sealed: the plain text appears in no column.
func TestSecretsSealedAtRest(t *testing.T) {
	ctx := context.Background()
	st := node(t, pgtest.DB(t))
	must(t, st.PutAccount(ctx, &dialtone.Account{UID: "1"}))
	must(t, st.PutAccessKey(ctx, &dialtone.AccessKey{ID: "K1", AccountUID: "1", Secret: "plain-key-secret"}))
	must(t, st.PutTempCredential(ctx, &dialtone.TempCredential{AccessKeyID: "STS.1", AccountUID: "1", Secret: "plain-temp-secret", ExpiresAt: time.Now().Add(time.Hour)}))
	must(t, st.PutSubscription(ctx, &dialtone.Subscription{AccountUID: "1", MessageType: dialtone.MsgVoiceReport, PushURL: "http://x",
		PushSecret: "plain-push-secret", PushSecretPrevious: "plain-old-push-secret", PushSecretPreviousUntil: time.Now().Add(time.Hour)}))
	must(t, st.PutAccountSettings(ctx, "1", &dialtone.AccountSettings{SmartCallCallbackURL: "http://x",
		SmartCallCallbackSecret: dialtone.SigningSecret{Current: "plain-callback-secret", Previous: "plain-old-callback-secret", PreviousUntil: time.Now().Add(time.Hour)}}))
	var dump string
	err := st.pool.QueryRow(ctx, `
SELECT (SELECT string_agg(k::text, ',') FROM access_keys k) || (SELECT string_agg(c::text, ',') FROM temp_credentials c) ||
       (SELECT string_agg(s::text, ',') FROM subscriptions s) || (SELECT string_agg(a::text, ',') FROM account_callbacks a)`).Scan(&dump)
	must(t, err)
	for _, secret := range []string{"plain-key-secret", "plain-temp-secret", "plain-push-secret", "plain-old-push-secret",
		"plain-callback-secret", "plain-old-callback-secret"} {
		if strings.Contains(dump, secret) {
			t.Errorf("%q stored in plain text", secret)
		}
	}
	// A store with another master key cannot read them.
	other, err := Open(ctx, st.pool.Config().ConnString(), sealer(t, 2), WithLogger(slog.New(slog.DiscardHandler)))
	must(t, err)
	defer other.Close()
	if _, err := other.GetAccessKey(ctx, "K1"); err == nil {
		t.Error("a wrong master key opened the sealed secret")
	}
}

func TestCloseTwice(t *testing.T) {
	st := openDSN(t, pgtest.DB(t))
	must(t, st.Close())
	must(t, st.Close())
	if err := st.Ping(context.Background()); err == nil {
		t.Error("Ping after Close succeeded")
	}
}

// Two nodes (two stores, two pools) race to use the same nonces: each is
// accepted exactly once.
func TestTwoNodesNonce(t *testing.T) {
	dsn := pgtest.DB(t)
	nodes := []*Store{node(t, dsn), node(t, dsn)}
	ctx := context.Background()
	now := time.Now()
	const nonces, racers = 20, 8
	var wins [nonces]atomic.Int32
	var wg sync.WaitGroup
	for r := range racers {
		st := nodes[r%2]
		wg.Go(func() {
			for n := range nonces {
				ok, err := st.UseNonce(ctx, "K1", fmt.Sprintf("nonce-%d", n), now, now.Add(time.Minute))
				if err != nil {
					t.Errorf("UseNonce: %v", err)
					return
				}
				if ok {
					wins[n].Add(1)
				}
			}
		})
	}
	wg.Wait()
	for n := range nonces {
		if w := wins[n].Load(); w != 1 {
			t.Errorf("nonce-%d accepted %d times across two nodes, want 1", n, w)
		}
	}
	// Once expired, exactly one node gets to reuse it.
	var again atomic.Int32
	for r := range racers {
		st := nodes[r%2]
		wg.Go(func() {
			ok, err := st.UseNonce(ctx, "K1", "nonce-0", now.Add(time.Minute), now.Add(2*time.Minute))
			if err != nil {
				t.Errorf("UseNonce: %v", err)
			}
			if ok {
				again.Add(1)
			}
		})
	}
	wg.Wait()
	if again.Load() != 1 {
		t.Errorf("expired nonce reused %d times, want 1", again.Load())
	}
}

// Two nodes create calls to one callee under a per-minute limit: exactly
// the limit passes, whichever node each request lands on, and another
// callee of the same account is not held back.
func TestTwoNodesFlowGuard(t *testing.T) {
	dsn := pgtest.DB(t)
	nodes := []*Store{node(t, dsn), node(t, dsn)}
	ctx := context.Background()
	must(t, nodes[0].PutAccount(ctx, &dialtone.Account{UID: "1"}))
	now := time.UnixMilli(1_700_000_000_000)
	limits := dialtone.FlowControl{PerMinute: 3, PerHour: 10, PerDay: 20}
	const racers = 16
	for round, callee := range []string{"13800000001", "13800000002"} {
		var ok, refused atomic.Int32
		var wg sync.WaitGroup
		for r := range racers {
			st := nodes[r%2]
			wg.Go(func() {
				c := &dialtone.Call{ID: fmt.Sprintf("c-%d-%d", round, r), AccountUID: "1", Kind: dialtone.KindTTS,
					Callee: callee, State: dialtone.CallQueued, CreatedAt: now}
				err := st.CreateCall(ctx, c, &dialtone.FlowGuard{Limits: limits, Now: now})
				var fl *dialtone.FlowLimitError
				switch {
				case err == nil:
					ok.Add(1)
				case errors.As(err, &fl) && fl.Window == "minute":
					refused.Add(1)
				default:
					t.Errorf("CreateCall: %v", err)
				}
			})
		}
		wg.Wait()
		if ok.Load() != 3 || refused.Load() != racers-3 {
			t.Errorf("callee %s: %d created, %d refused; want 3 and %d", callee, ok.Load(), refused.Load(), racers-3)
		}
		calls, err := nodes[1].ListCalls(ctx, dialtone.CallFilter{AccountUID: "1", Number: callee})
		must(t, err)
		if len(calls) != 3 {
			t.Errorf("callee %s: %d calls stored, want 3", callee, len(calls))
		}
	}
}

// Two nodes apply a change to the same version of a call: exactly one wins,
// the other gets ErrConflict, and only the winner's event is stored.
func TestTwoNodesUpdateCall(t *testing.T) {
	dsn := pgtest.DB(t)
	nodes := []*Store{node(t, dsn), node(t, dsn)}
	ctx := context.Background()
	must(t, nodes[0].PutAccount(ctx, &dialtone.Account{UID: "1"}))
	// Subscribed, so that each winning change's receipt waits in the outbox.
	must(t, nodes[0].PutSubscription(ctx, &dialtone.Subscription{AccountUID: "1", MessageType: dialtone.MsgVoiceReport, Queue: true}))
	for round := range 10 {
		id := fmt.Sprintf("c%d", round)
		must(t, nodes[0].CreateCall(ctx, &dialtone.Call{ID: id, AccountUID: "1", Kind: dialtone.KindTTS, CreatedAt: time.Now()}, nil))
		var wins, conflicts atomic.Int32
		var wg sync.WaitGroup
		for r := range 4 {
			st := nodes[r%2]
			wg.Go(func() {
				c := &dialtone.Call{ID: id, AccountUID: "1", Kind: dialtone.KindTTS, Version: 1, Node: fmt.Sprint(r)}
				err := st.UpdateCall(ctx, &dialtone.CallChange{Call: c,
					Events:   []dialtone.CallEvent{{Seq: 1, Type: "t", Detail: map[string]string{"by": fmt.Sprint(r)}}},
					Receipts: []dialtone.Receipt{{ID: fmt.Sprintf("%s-r%d", id, r), MessageType: dialtone.MsgVoiceReport, Body: []byte(`{}`), CreatedAt: time.Now()}}})
				switch {
				case err == nil:
					wins.Add(1)
				case errors.Is(err, dialtone.ErrConflict):
					conflicts.Add(1)
				default:
					t.Errorf("UpdateCall: %v", err)
				}
			})
		}
		wg.Wait()
		if wins.Load() != 1 || conflicts.Load() != 3 {
			t.Fatalf("round %d: %d wins, %d conflicts; want 1 and 3", round, wins.Load(), conflicts.Load())
		}
		c, err := nodes[1].GetCall(ctx, "1", id)
		must(t, err)
		evs, err := nodes[1].ListCallEvents(ctx, "1", id)
		must(t, err)
		if c.Version != 2 || len(evs) != 1 || evs[0].Detail["by"] != c.Node {
			t.Errorf("round %d: call %+v, events %+v: not the winner's change alone", round, c, evs)
		}
	}
	un, err := nodes[0].ListUnroutedReceipts(ctx, 100)
	must(t, err)
	if len(un) != 10 {
		t.Errorf("%d receipts in the outbox, want 10 (one per winning change)", len(un))
	}
}

// Receivers on two nodes drain one queue: no message is handed out twice.
func TestTwoNodesReceive(t *testing.T) {
	dsn := pgtest.DB(t)
	nodes := []*Store{node(t, dsn), node(t, dsn)}
	ctx := context.Background()
	must(t, nodes[0].PutAccount(ctx, &dialtone.Account{UID: "1"}))
	q := dialtone.QueueName("1", dialtone.MsgVoiceReport)
	now := time.UnixMilli(1_700_000_000_000)
	const total = 60
	for i := range total {
		must(t, nodes[0].EnqueueMessage(ctx, &dialtone.QueueMessage{ID: fmt.Sprintf("M%03d", i), Queue: q, AccountUID: "1",
			Body: "e30=", EnqueuedAt: now, NextVisibleAt: now, ExpiresAt: now.Add(time.Hour)}))
	}
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for r := range 6 {
		st := nodes[r%2]
		wg.Go(func() {
			for range 10 {
				got, err := st.ReceiveMessages(ctx, q, 3, now, time.Minute, []string{"a", "b", "c"})
				if err != nil {
					t.Errorf("ReceiveMessages: %v", err)
					return
				}
				mu.Lock()
				for _, m := range got {
					seen[m.ID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != total {
		t.Errorf("received %d distinct messages, want %d", len(seen), total)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("message %s received %d times", id, n)
		}
	}
}

// benchParallelism is goroutines per GOMAXPROCS in the parallel
// benchmarks, as in the SQLite store's: the engine writes from many
// goroutines at once.
const benchParallelism = 16

func benchStore(b *testing.B) *Store {
	st := openDSN(b, pgtest.DB(b))
	b.Cleanup(func() { st.Close() })
	must(b, st.PutAccount(context.Background(), &dialtone.Account{UID: "1"}))
	return st
}

func BenchmarkUseNonce(b *testing.B) {
	ctx := context.Background()
	now := time.Now()
	var n atomic.Int64
	use := func(b *testing.B, st *Store) {
		ok, err := st.UseNonce(ctx, "K1", fmt.Sprintf("nonce-%d", n.Add(1)), now, now.Add(15*time.Minute))
		if err != nil || !ok {
			b.Errorf("UseNonce = %v, %v", ok, err)
		}
	}
	b.Run("serial", func(b *testing.B) {
		st := benchStore(b)
		for b.Loop() {
			use(b, st)
		}
	})
	b.Run("parallel", func(b *testing.B) {
		st := benchStore(b)
		b.SetParallelism(benchParallelism)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				use(b, st)
			}
		})
	})
}

// BenchmarkCreateCallParallel creates calls under the default flow control,
// each to its own callee, so that none is refused but every create still
// takes the flow lock and counts.
func BenchmarkCreateCallParallel(b *testing.B) {
	ctx := context.Background()
	now := time.Now()
	var n atomic.Int64
	st := benchStore(b)
	b.SetParallelism(benchParallelism)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			c := benchCall(fmt.Sprintf("call-%d", i), fmt.Sprintf("1390000%06d", i%1_000_000), now)
			if err := st.CreateCall(ctx, c, &dialtone.FlowGuard{Limits: dialtone.DefaultFlowControl, Now: now}); err != nil {
				b.Errorf("CreateCall: %v", err)
				return
			}
		}
	})
}

// BenchmarkUpdateCallParallel is the engine's steady state: every goroutine
// drives its own call through changes of one event each, and every third
// change also queues a receipt.
func BenchmarkUpdateCallParallel(b *testing.B) {
	ctx := context.Background()
	now := time.Now()
	var n atomic.Int64
	st := benchStore(b)
	b.SetParallelism(benchParallelism)
	b.RunParallel(func(pb *testing.PB) {
		g := n.Add(1)
		c := benchCall(fmt.Sprintf("call-%d", g), "13900000000", now)
		if err := st.CreateCall(ctx, c, nil); err != nil {
			b.Errorf("CreateCall: %v", err)
			return
		}
		seq := 0
		for pb.Next() {
			seq++
			c.State = dialtone.CallRinging
			c.A.Ring = now.Add(time.Duration(seq) * time.Millisecond)
			ch := &dialtone.CallChange{Call: c, Events: []dialtone.CallEvent{{
				Seq: seq, At: c.A.Ring, Type: "ringing", Leg: "A", StatusCode: dialtone.StatusRinging,
				Detail: map[string]string{"carrier": "sim"},
			}}}
			if seq%3 == 0 {
				ch.Receipts = []dialtone.Receipt{{ID: fmt.Sprintf("r-%d-%d", g, seq), MessageType: dialtone.MsgVoiceReport,
					Body: []byte(`{"call_id":"x","status_code":"200201","status_msg":"ringing"}`), CreatedAt: now}}
			}
			if err := st.UpdateCall(ctx, ch); err != nil {
				b.Errorf("UpdateCall: %v", err)
				return
			}
		}
	})
}

func benchCall(id, callee string, now time.Time) *dialtone.Call {
	return &dialtone.Call{
		ID: id, AccountUID: "1", Kind: dialtone.KindTTS, ProdID: dialtone.ProdVoiceNotify,
		Caller: "057100000000", Callee: callee, CalleeShowNumber: "057100000001", OutID: "bench",
		Params: []byte(`{"prompt":[{"text":"您的验证码是1234","vars":{"code":"1234"}}],"play_times":2}`),
		State:  dialtone.CallQueued, CreatedAt: now,
	}
}

// TestCounts: the store counts what it sends, and tells the limits'
// statements apart (dialtone bench reports them per call).
func TestCounts(t *testing.T) {
	st := openDSN(t, pgtest.DB(t))
	ctx := context.Background()
	before := st.Counts()
	ok, err := st.TakeSlots(ctx, "n1", "call1", []dialtone.SlotWant{{Key: "number:1:0571", N: 1, Max: 10}}, time.Now())
	if err != nil || !ok {
		t.Fatalf("TakeSlots = %v, %v", ok, err)
	}
	got := st.Counts().Sub(before)
	// The key's lock and the insert, in one batch.
	if got != (Counts{Statements: 2, RoundTrips: 1, Limits: 2}) {
		t.Errorf("TakeSlots sent %+v", got)
	}
	before = st.Counts()
	if slotsChannel != pgnotify.ChannelSlots {
		t.Fatalf("the counter tells %q apart, the bus sends %q", slotsChannel, pgnotify.ChannelSlots)
	}
	if err := st.Notify(ctx, pgnotify.ChannelSlots, "n1 number:1:0571"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.GetNetwork(ctx); err == nil {
		t.Fatal("a network in an empty store")
	}
	got = st.Counts().Sub(before)
	if got != (Counts{Statements: 2, RoundTrips: 2, Limits: 1}) {
		t.Errorf("a slots signal and a read sent %+v", got)
	}
	before = st.Counts()
	if err := st.Heartbeat(ctx, "n1", time.Now()); err != nil {
		t.Fatal(err)
	}
	if got := st.Counts().Sub(before); got.Limits != 0 || got.Statements != 1 {
		t.Errorf("a heartbeat sent %+v", got)
	}
}
