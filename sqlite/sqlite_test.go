package sqlite

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/migrations"
	"github.com/dialtone-voice/dialtone/secret"
	"github.com/dialtone-voice/dialtone/sqlstore"
	"github.com/dialtone-voice/dialtone/storetest"
)

func sealer(t testing.TB, b byte) dialtone.Sealer {
	t.Helper()
	s, err := secret.NewSealer(bytes.Repeat([]byte{b}, secret.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func openAt(t testing.TB, path string, sl dialtone.Sealer, opts ...Option) *Store {
	t.Helper()
	// The suite opens hundreds of stores; their migration logs are noise.
	opts = append([]Option{WithLogger(slog.New(slog.DiscardHandler))}, opts...)
	st, err := Open(context.Background(), path, sl, opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return st
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) dialtone.Store {
		// The suite closes the store; the temp dir outlives it.
		return openAt(t, filepath.Join(t.TempDir(), "dialtone.db"), sealer(t, 1))
	})
}

// An awkward file name must reach SQLite intact rather than be cut at '?'
// or '#' by the DSN parsing.
func TestOddPath(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a dir?x=1#frag%20")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "my db?.sqlite")
	st := openAt(t, path, sealer(t, 1))
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database not created at the given path: %v", err)
	}
}

func TestOpenRejects(t *testing.T) {
	ctx := context.Background()
	if _, err := Open(ctx, "", sealer(t, 1)); err == nil {
		t.Error("empty path accepted")
	}
	if _, err := Open(ctx, ":memory:", sealer(t, 1)); err == nil {
		t.Error(":memory: accepted")
	}
	if _, err := Open(ctx, filepath.Join(t.TempDir(), "x.db"), nil); err == nil {
		t.Error("nil sealer accepted")
	}
	if _, err := Open(ctx, filepath.Join(t.TempDir(), "missing-dir", "x.db"), sealer(t, 1)); err == nil {
		t.Error("path in a missing directory accepted")
	}
}

func TestPragmas(t *testing.T) {
	st := openAt(t, filepath.Join(t.TempDir(), "p.db"), sealer(t, 1))
	defer st.Close()
	ctx := context.Background()
	check := func(pool, pragma, want string) {
		t.Helper()
		db := st.write
		if pool == "read" {
			db = st.pool.DB
		}
		var got string
		if err := db.QueryRowContext(ctx, "PRAGMA "+pragma).Scan(&got); err != nil {
			t.Fatalf("%s PRAGMA %s: %v", pool, pragma, err)
		}
		if got != want {
			t.Errorf("%s PRAGMA %s = %q, want %q", pool, pragma, got, want)
		}
	}
	for _, pool := range []string{"write", "read"} {
		check(pool, "journal_mode", "wal")
		check(pool, "foreign_keys", "1")
		check(pool, "synchronous", "1") // NORMAL
		check(pool, "busy_timeout", "5000")
	}
	check("write", "query_only", "0")
	check("read", "query_only", "1")
	if _, err := st.pool.ExecContext(ctx, `DELETE FROM accounts`); err == nil {
		t.Error("read pool accepted a write")
	}
}

// TestSecretsSealedAtRest looks for the plain secrets in every file SQLite
// writes, while the store is open (data still in the WAL) and after Close
// (data checkpointed into the main file).
func TestSecretsSealedAtRest(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sealed.db")
	st := openAt(t, path, sealer(t, 1))
	ctx := context.Background()
	const keySecret, tempSecret = "PLAINTEXT-KEY-SECRET-6f1c", "PLAINTEXT-TEMP-SECRET-9a2e"
	must(t, st.PutAccount(ctx, &dialtone.Account{UID: "1", Name: "marker-account-name"}))
	must(t, st.PutAccessKey(ctx, &dialtone.AccessKey{ID: "K1", AccountUID: "1", Secret: keySecret}))
	must(t, st.PutTempCredential(ctx, &dialtone.TempCredential{AccessKeyID: "STS.1", AccountUID: "1", Secret: tempSecret, ExpiresAt: time.Now().Add(time.Hour)}))

	scan := func(when string) {
		t.Helper()
		var all []byte
		for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
			b, err := os.ReadFile(path + suffix)
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range []string{keySecret, tempSecret} {
				if bytes.Contains(b, []byte(s)) {
					t.Errorf("%s: %s%s contains the plain secret %q", when, filepath.Base(path), suffix, s)
				}
			}
			all = append(all, b...)
		}
		// Guard against a vacuous pass: the unsealed data must be visible.
		if !bytes.Contains(all, []byte("marker-account-name")) {
			t.Errorf("%s: the files do not even contain the account name; the scan looked in the wrong place", when)
		}
	}
	scan("open")
	must(t, st.Close())
	scan("closed")
}

func TestWrongMasterKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.db")
	ctx := context.Background()
	st := openAt(t, path, sealer(t, 1))
	must(t, st.PutAccount(ctx, &dialtone.Account{UID: "1"}))
	must(t, st.PutAccessKey(ctx, &dialtone.AccessKey{ID: "K1", AccountUID: "1", Secret: "s1"}))
	must(t, st.PutTempCredential(ctx, &dialtone.TempCredential{AccessKeyID: "STS.1", AccountUID: "1", Secret: "s2"}))
	must(t, st.Close())

	st = openAt(t, path, sealer(t, 2))
	defer st.Close()
	k, err := st.GetAccessKey(ctx, "K1")
	if !errors.Is(err, secret.ErrTampered) {
		t.Errorf("GetAccessKey with wrong key = %+v, %v; want secret.ErrTampered", k, err)
	}
	if errors.Is(err, dialtone.ErrNotFound) {
		t.Errorf("wrong key reported as not found: %v", err)
	}
	if _, err := st.ListAccessKeys(ctx, "1"); !errors.Is(err, secret.ErrTampered) {
		t.Errorf("ListAccessKeys with wrong key: %v; want secret.ErrTampered", err)
	}
	c, err := st.GetTempCredential(ctx, "STS.1")
	if !errors.Is(err, secret.ErrTampered) {
		t.Errorf("GetTempCredential with wrong key = %+v, %v; want secret.ErrTampered", c, err)
	}
	// Data that is not sealed stays readable.
	if _, err := st.GetAccount(ctx, "1"); err != nil {
		t.Errorf("GetAccount with wrong key: %v", err)
	}
}

func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "reopen.db")
	ctx := context.Background()
	sl := sealer(t, 1)
	all, err := migrations.All()
	must(t, err)

	st := openAt(t, path, sl)
	first := appliedRows(t, st)
	if len(first) != len(all) {
		t.Fatalf("fresh database records %d migrations, want %d", len(first), len(all))
	}
	for i, m := range all {
		if first[i].version != m.Version || first[i].name != m.Name || first[i].appliedAt <= 0 {
			t.Errorf("schema_migrations row %d = %+v, want %d %s", i, first[i], m.Version, m.Name)
		}
	}
	want := &dialtone.Call{ID: "c1", AccountUID: "1", Kind: dialtone.KindTTS, Params: []byte(`{}`), CreatedAt: time.UnixMilli(1_700_000_000_001), Version: 3}
	must(t, st.PutAccount(ctx, &dialtone.Account{UID: "1", Name: "n", Features: []dialtone.Feature{}}))
	must(t, st.PutAccessKey(ctx, &dialtone.AccessKey{ID: "K1", AccountUID: "1", Secret: "s1", Enabled: true}))
	must(t, st.CreateCall(ctx, want, nil))
	ok, err := st.UseNonce(ctx, "K1", "n1", time.Now(), time.Now().Add(time.Hour))
	must(t, err)
	if !ok {
		t.Fatal("nonce refused")
	}
	must(t, st.Close())

	for i := range 2 {
		st = openAt(t, path, sl)
		again := appliedRows(t, st)
		if fmt.Sprint(again) != fmt.Sprint(first) {
			t.Errorf("reopen %d: schema_migrations = %+v, want unchanged %+v", i, again, first)
		}
		a, err := st.GetAccount(ctx, "1")
		if err != nil || a.Name != "n" || a.Features == nil {
			t.Errorf("reopen %d: account = %+v, %v", i, a, err)
		}
		k, err := st.GetAccessKey(ctx, "K1")
		if err != nil || k.Secret != "s1" || !k.Enabled {
			t.Errorf("reopen %d: key = %+v, %v", i, k, err)
		}
		c, err := st.GetCall(ctx, "1", "c1")
		if err != nil || !c.CreatedAt.Equal(want.CreatedAt) || c.Version != 1 || string(c.Params) != "{}" {
			t.Errorf("reopen %d: call = %+v, %v", i, c, err)
		}
		ok, err := st.UseNonce(ctx, "K1", "n1", time.Now(), time.Now().Add(time.Hour))
		if err != nil || ok {
			t.Errorf("reopen %d: nonce forgotten across restart: %v, %v", i, ok, err)
		}
		must(t, st.Close())
	}
}

type migrationRow struct {
	version   int
	name      string
	appliedAt int64
}

func appliedRows(t *testing.T, st *Store) []migrationRow {
	t.Helper()
	rows, err := st.pool.QueryContext(context.Background(), `SELECT version, name, applied_at FROM schema_migrations ORDER BY version`)
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

// A database migrated by a newer binary (or with renamed migrations) is
// refused instead of being written with a schema this code does not know.
func TestRefusesUnknownMigration(t *testing.T) {
	ctx := context.Background()
	for name, stmt := range map[string]string{
		"newer":   `INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, 'future', 1)`,
		"renamed": `UPDATE schema_migrations SET name = 'other' WHERE version = 1`,
	} {
		path := filepath.Join(t.TempDir(), name+".db")
		st := openAt(t, path, sealer(t, 1))
		if _, err := st.write.ExecContext(ctx, stmt); err != nil {
			t.Fatal(err)
		}
		must(t, st.Close())
		if st, err := Open(ctx, path, sealer(t, 1)); err == nil {
			st.Close()
			t.Errorf("%s: Open succeeded", name)
		}
	}
}

// Two stores on one file stand for two processes: their writers contend for
// SQLite's lock, and busy_timeout with BEGIN IMMEDIATE must absorb it.
func TestTwoStoresOneFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shared.db")
	ctx := context.Background()
	a := openAt(t, path, sealer(t, 1))
	defer a.Close()
	b := openAt(t, path, sealer(t, 1))
	defer b.Close()
	must(t, a.PutAccount(ctx, &dialtone.Account{UID: "1"}))
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for i := range 20 {
		st := a
		if i%2 == 1 {
			st = b
		}
		wg.Go(func() {
			for j := range 10 {
				if err := st.PutAccessKey(ctx, &dialtone.AccessKey{ID: fmt.Sprintf("K%d-%d", i, j), AccountUID: "1", Secret: "s"}); err != nil {
					t.Errorf("PutAccessKey: %v", err)
					return
				}
			}
			ok, err := st.UseNonce(ctx, "K", "shared", time.Now(), time.Now().Add(time.Hour))
			if err != nil {
				t.Errorf("UseNonce: %v", err)
				return
			}
			if ok {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if wins != 1 {
		t.Errorf("nonce accepted %d times across two stores, want 1", wins)
	}
	keys, err := b.ListAccessKeys(ctx, "1")
	must(t, err)
	if len(keys) != 200 {
		t.Errorf("ListAccessKeys = %d, want 200", len(keys))
	}
}

func TestCloseTwice(t *testing.T) {
	st := openAt(t, filepath.Join(t.TempDir(), "c.db"), sealer(t, 1))
	must(t, st.Close())
	must(t, st.Close())
	if err := st.Ping(context.Background()); err == nil {
		t.Error("Ping after Close succeeded")
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// benchParallelism is the number of goroutines per GOMAXPROCS in the
// parallel write benchmarks: the engine runs many calls at once, each
// writing on its own goroutine, so writers far outnumber cores.
const benchParallelism = 16

// benchBatches runs bench with group commit off (batch=1: one transaction
// per write, as before group commit) and on, in one process, so that the
// two are compared under the same machine load.
func benchBatches(b *testing.B, bench func(b *testing.B, st *Store)) {
	for _, n := range []int{1, defaultMaxBatch} {
		b.Run(fmt.Sprintf("batch=%d", n), func(b *testing.B) {
			st := openAt(b, filepath.Join(b.TempDir(), "bench.db"), sealer(b, 1), withMaxBatch(n))
			defer st.Close()
			must(b, st.PutAccount(context.Background(), &dialtone.Account{UID: "1"}))
			bench(b, st)
		})
	}
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
		st := openAt(b, filepath.Join(b.TempDir(), "bench.db"), sealer(b, 1))
		defer st.Close()
		for b.Loop() {
			use(b, st)
		}
	})
	b.Run("parallel", func(b *testing.B) {
		benchBatches(b, func(b *testing.B, st *Store) {
			b.SetParallelism(benchParallelism)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					use(b, st)
				}
			})
		})
	})
}

// BenchmarkCreateCallParallel creates calls under the default flow control,
// each to its own callee so that none is refused but every create still
// runs the flow-control count.
func BenchmarkCreateCallParallel(b *testing.B) {
	ctx := context.Background()
	now := time.Now()
	var n atomic.Int64
	benchBatches(b, func(b *testing.B, st *Store) {
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
	})
}

// BenchmarkUpdateCallParallel is the engine's steady state: every goroutine
// drives its own call through changes of one event each, and every third
// change also queues a receipt.
func BenchmarkUpdateCallParallel(b *testing.B) {
	ctx := context.Background()
	now := time.Now()
	var n atomic.Int64
	benchBatches(b, func(b *testing.B, st *Store) {
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

// BenchmarkCallReads is what a call reads of its account when it is
// placed: its settings twice and the operator's once, its display number
// twice, its template once. cache=off reads the database each time, as
// before the cache held them (sqlstore/authcache.go).
func BenchmarkCallReads(b *testing.B) {
	st := openAt(b, filepath.Join(b.TempDir(), "bench.db"), sealer(b, 1))
	defer st.Close()
	ctx := context.Background()
	now := time.Now()
	must(b, st.PutAccount(ctx, &dialtone.Account{UID: "1"}))
	must(b, st.PutAccountSettings(ctx, "1", &dialtone.AccountSettings{FlowControl: dialtone.DefaultFlowControl, Blacklist: []string{"x"}}))
	must(b, st.PutAccountSettings(ctx, "", &dialtone.AccountSettings{Blacklist: []string{"y"}}))
	must(b, st.PutNumber(ctx, &dialtone.Number{AccountUID: "1", Number: "057188880000", Concurrency: 10, CreatedAt: now}))
	must(b, st.PutTemplate(ctx, &dialtone.TTSTemplate{AccountUID: "1", Code: "TTS_1", Kind: dialtone.TemplateNotification,
		Content: "code ${code}", Status: dialtone.ReviewApproved, CreatedAt: now, UpdatedAt: now}))
	reads := func() error {
		for _, uid := range []string{"1", "", "1"} {
			if _, err := st.GetAccountSettings(ctx, uid); err != nil {
				return err
			}
		}
		for range 2 {
			if _, err := st.GetNumber(ctx, "1", "057188880000"); err != nil {
				return err
			}
		}
		_, err := st.GetTemplate(ctx, "1", "TTS_1")
		return err
	}
	for _, c := range []struct {
		name string
		ttl  time.Duration
	}{{"cache=off", 0}, {"cache=on", sqlstore.AuthCacheTTL}} {
		b.Run(c.name, func(b *testing.B) {
			st.SetAuthCacheTTL(c.ttl)
			for b.Loop() {
				if err := reads(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkGetAccessKey(b *testing.B) {
	st := openAt(b, filepath.Join(b.TempDir(), "bench.db"), sealer(b, 1))
	defer st.Close()
	ctx := context.Background()
	must(b, st.PutAccount(ctx, &dialtone.Account{UID: "1"}))
	for i := range 100 {
		must(b, st.PutAccessKey(ctx, &dialtone.AccessKey{ID: fmt.Sprintf("K%d", i), AccountUID: "1", Secret: "s", Actions: []string{"*"}}))
	}
	b.Run("serial", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if _, err := st.GetAccessKey(ctx, fmt.Sprintf("K%d", i%100)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				if _, err := st.GetAccessKey(ctx, fmt.Sprintf("K%d", i%100)); err != nil {
					b.Error(err)
					return
				}
				i++
			}
		})
	})
}

// BenchmarkGetCall reads one call by ID, found and not found, with a
// cancellable context as an API request's is (the gateway's action read).
func BenchmarkGetCall(b *testing.B) {
	st := openAt(b, filepath.Join(b.TempDir(), "bench.db"), sealer(b, 1))
	defer st.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	must(b, st.PutAccount(ctx, &dialtone.Account{UID: "1"}))
	must(b, st.CreateCall(ctx, benchCall("call-1", "13900000000", time.Now()), nil))
	b.Run("found", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := st.GetCall(ctx, "1", "call-1"); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("missing", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := st.GetCall(ctx, "1", "call-2"); !errors.Is(err, dialtone.ErrNotFound) {
					b.Error(err)
					return
				}
			}
		})
	})
}
