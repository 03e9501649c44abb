package replay

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var t0 = time.UnixMilli(1_800_000_000_000)

func open(t testing.TB, path string) *Journal {
	t.Helper()
	j, err := Open(context.Background(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	return j
}

func use(t testing.TB, j *Journal, scope, nonce string, now, expires time.Time) bool {
	t.Helper()
	fresh, err := j.Use(context.Background(), scope, nonce, now, expires)
	if err != nil {
		t.Fatalf("Use(%s, %s): %v", scope, nonce, err)
	}
	return fresh
}

func TestUse(t *testing.T) {
	j := open(t, filepath.Join(t.TempDir(), "n"))
	exp := t0.Add(30 * time.Minute)
	if !use(t, j, "K1", "a", t0, exp) {
		t.Fatal("a new nonce was refused")
	}
	if use(t, j, "K1", "a", t0.Add(time.Second), exp) {
		t.Error("a used nonce was accepted again")
	}
	// Scopes are apart, and a scope and nonce are not concatenated.
	if !use(t, j, "K2", "a", t0, exp) || !use(t, j, "K", "1a", t0, exp) {
		t.Error("the same nonce under another scope was refused")
	}
	// At its expiry the record no longer counts (expires > now), and the
	// nonce may be used again, until its new expiry.
	if !use(t, j, "K1", "a", exp, exp.Add(time.Minute)) {
		t.Error("a nonce whose record expired was refused")
	}
	if use(t, j, "K1", "a", exp.Add(time.Second), exp.Add(2*time.Minute)) {
		t.Error("a nonce re-used after expiry was accepted a second time")
	}
	if j.set.live != 3 {
		t.Errorf("%d nonces held, want 3", j.set.live)
	}
}

// Accepted means written: a journal opened afterwards (a restart) refuses
// the nonce; expired records are not loaded.
func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "n")
	now := time.Now()
	j := open(t, path)
	use(t, j, "K", "live", now, now.Add(time.Hour))
	use(t, j, "K", "old", now.Add(-time.Hour), now.Add(-time.Minute))
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := j.Use(context.Background(), "K", "x", now, now.Add(time.Hour)); err == nil {
		t.Error("Use after Close succeeded")
	}
	j = open(t, path)
	if use(t, j, "K", "live", now, now.Add(time.Hour)) {
		t.Error("a nonce was forgotten across a reopen")
	}
	if j.set.live != 1 {
		t.Errorf("%d nonces loaded, want 1 (the expired one left out)", j.set.live)
	}
	if !use(t, j, "K", "old", now, now.Add(time.Hour)) {
		t.Error("an expired nonce was refused after a reopen")
	}
}

// Two journals on one file stand for two processes: each nonce is
// accepted exactly once between them.
func TestTwoJournalsOneFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "n")
	js := []*Journal{open(t, path), open(t, path)}
	exp := t0.Add(time.Hour)
	var wins [40]atomic.Int32
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range wins {
				fresh, err := js[g%2].Use(context.Background(), "K", fmt.Sprint(i), t0, exp)
				if err != nil {
					t.Error(err)
					return
				}
				if fresh {
					wins[i].Add(1)
				}
			}
		})
	}
	wg.Wait()
	for i := range wins {
		if n := wins[i].Load(); n != 1 {
			t.Errorf("nonce %d accepted %d times, want once", i, n)
		}
	}
	// Each saw the other's appends.
	for i, j := range js {
		if use(t, j, "K", "0", t0, exp) {
			t.Errorf("journal %d accepted a nonce the other recorded", i)
		}
	}
}

// A record cut short by a crash is dropped at open, and what is appended
// afterwards is read in step.
func TestTornTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "n")
	exp := time.Now().Add(time.Hour)
	j := open(t, path)
	use(t, j, "K", "whole", time.Now(), exp)
	j.Close()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(encode(keyOf("K", "torn"), exp.UnixMilli())[:13])
	f.Close()

	j = open(t, path)
	if fi, _ := os.Stat(path); fi.Size() != headerSize+recordSize {
		t.Errorf("size after open %d, want the torn record cut (%d)", fi.Size(), headerSize+recordSize)
	}
	if use(t, j, "K", "whole", time.Now(), exp) {
		t.Error("the whole record was lost")
	}
	if !use(t, j, "K", "torn", time.Now(), exp) || !use(t, j, "K", "after", time.Now(), exp) {
		t.Error("the torn record (never acknowledged) or a new one was refused")
	}
	j.Close()
	j = open(t, path)
	if j.set.live != 3 {
		t.Errorf("%d nonces after reopening, want 3", j.set.live)
	}
}

// A damaged record (a power loss) is skipped; the others still count.
func TestDamagedRecord(t *testing.T) {
	path := filepath.Join(t.TempDir(), "n")
	exp := time.Now().Add(time.Hour)
	j := open(t, path)
	for _, n := range []string{"a", "b", "c"} {
		use(t, j, "K", n, time.Now(), exp)
	}
	j.Close()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[headerSize+recordSize+3] ^= 0xff // "b"
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	j = open(t, path)
	if use(t, j, "K", "a", time.Now(), exp) || use(t, j, "K", "c", time.Now(), exp) {
		t.Error("an intact record was lost")
	}
	if j.set.live != 2 {
		t.Errorf("%d nonces loaded, want 2", j.set.live)
	}
}

func TestRefusesOtherFiles(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{"empty": "", "other": "SQLite format 3\x00 and more bytes than a header"} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if j, err := Open(context.Background(), path, nil); err == nil {
			j.Close()
			t.Errorf("%s: opened a file that is not a journal", name)
		}
		if b, _ := os.ReadFile(path); string(b) != content {
			t.Errorf("%s: the file was changed", name)
		}
	}
	if _, err := Open(context.Background(), filepath.Join(dir, "missing", "n"), nil); err == nil {
		t.Error("opened a journal in a missing directory")
	}
}

// A new journal starts with the seed's unexpired nonces; an existing one
// is not seeded again.
func TestSeed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "n")
	now := time.Now()
	calls := 0
	seed := func(_ context.Context, add func(scope, nonce string, expires time.Time)) error {
		calls++
		add("K", "seeded", now.Add(time.Hour))
		add("K", "expired", now.Add(-time.Second))
		return nil
	}
	j, err := Open(context.Background(), path, seed)
	if err != nil {
		t.Fatal(err)
	}
	if use(t, j, "K", "seeded", now, now.Add(time.Hour)) {
		t.Error("a seeded nonce was accepted")
	}
	if !use(t, j, "K", "expired", now, now.Add(time.Hour)) {
		t.Error("an expired seeded nonce was refused")
	}
	j.Close()
	if j, err = Open(context.Background(), path, seed); err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if calls != 1 {
		t.Errorf("seed ran %d times, want once (at creation)", calls)
	}
	if _, err := Open(context.Background(), filepath.Join(t.TempDir(), "m"), func(context.Context, func(string, string, time.Time)) error {
		return fmt.Errorf("table unreadable")
	}); err == nil {
		t.Error("a failed seed opened a journal")
	}
}

// Purge forgets whole expired minutes; once the file is mostly dead
// records it is rewritten with the live ones, and another journal on the
// file follows the new file.
func TestPurgeCompacts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "n")
	a, b := open(t, path), open(t, path)
	old := t0.Add(time.Minute)
	n := compactMin/recordSize + 10
	for i := range n {
		use(t, a, "K", fmt.Sprint("old", i), t0, old)
	}
	use(t, a, "K", "live", t0, t0.Add(time.Hour))
	if use(t, b, "K", "old7", t0, old) {
		t.Fatal("b accepted a's nonce")
	}
	got, err := a.Purge(context.Background(), old.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if got != n {
		t.Errorf("purged %d, want %d", got, n)
	}
	if fi, _ := os.Stat(path); fi.Size() != headerSize+recordSize {
		t.Errorf("size after compaction %d, want the header and one record", fi.Size())
	}
	later := old.Add(time.Minute)
	if use(t, b, "K", "live", later, t0.Add(time.Hour)) {
		t.Error("b accepted the live nonce after a's compaction")
	}
	if !use(t, b, "K", "old7", later, later.Add(time.Hour)) {
		t.Error("b refused an expired nonce after a's compaction")
	}
	if use(t, a, "K", "old7", later, later.Add(time.Hour)) {
		t.Error("a accepted the nonce b recorded after the compaction")
	}
	// A small file is left as it is.
	c := open(t, filepath.Join(t.TempDir(), "small"))
	use(t, c, "K", "x", t0, old)
	if _, err := c.Purge(context.Background(), later); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(c.path); fi.Size() != headerSize+recordSize {
		t.Errorf("a small journal was rewritten: size %d", fi.Size())
	}
}

// A cancelled request records nothing.
func TestCancelled(t *testing.T) {
	j := open(t, filepath.Join(t.TempDir(), "n"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := j.Use(ctx, "K", "n", t0, t0.Add(time.Hour)); err == nil {
		t.Error("Use with a cancelled context succeeded")
	}
	if !use(t, j, "K", "n", t0, t0.Add(time.Hour)) {
		t.Error("the cancelled use recorded its nonce")
	}
}

func BenchmarkUse(b *testing.B) {
	j := open(b, filepath.Join(b.TempDir(), "n"))
	now := time.Now()
	var n atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			fresh, err := j.Use(context.Background(), "K1", fmt.Sprint("nonce-", n.Add(1)), now, now.Add(30*time.Minute))
			if err != nil || !fresh {
				b.Errorf("Use = %v, %v", fresh, err)
			}
		}
	})
}

// FuzzOpen: any bytes after the header open without panicking, the file
// is left whole records long, and reopening loads the same nonces.
func FuzzOpen(f *testing.F) {
	f.Add(encode(keyOf("K", "n"), t0.UnixMilli()))
	f.Add(append(encode(keyOf("K", "n"), t0.UnixMilli()), 1, 2, 3))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, body []byte) {
		path := filepath.Join(t.TempDir(), "n")
		if err := os.WriteFile(path, append(append([]byte{}, header...), body...), 0o600); err != nil {
			t.Fatal(err)
		}
		j, err := Open(context.Background(), path, nil)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		live := j.set.live
		j.Close()
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if (fi.Size()-headerSize)%recordSize != 0 {
			t.Errorf("size %d is not whole records", fi.Size())
		}
		j, err = Open(context.Background(), path, nil)
		if err != nil {
			t.Fatalf("reopen: %v", err)
		}
		defer j.Close()
		if j.set.live != live || live > len(body)/recordSize {
			t.Errorf("reopen loaded %d nonces, first open %d, records %d", j.set.live, live, len(body)/recordSize)
		}
	})
}

// A journal file removed while the node runs is written again from the
// set: the nonces it held stay used, here and after a restart.
func TestFileRemoved(t *testing.T) {
	path := filepath.Join(t.TempDir(), "n")
	now := time.Now()
	j := open(t, path)
	use(t, j, "K", "before", now, now.Add(time.Hour))
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if use(t, j, "K", "before", now, now.Add(time.Hour)) {
		t.Error("a nonce was accepted again after its journal was removed")
	}
	if !use(t, j, "K", "after", now, now.Add(time.Hour)) {
		t.Error("a new nonce was refused after the journal was removed")
	}
	j.Close()
	j = open(t, path)
	if use(t, j, "K", "before", now, now.Add(time.Hour)) || use(t, j, "K", "after", now, now.Add(time.Hour)) {
		t.Error("a nonce was forgotten across the rewrite and a reopen")
	}
}
