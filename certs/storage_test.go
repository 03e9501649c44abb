package certs

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/pgtest"
	"github.com/dialtone-voice/dialtone/postgres"
	"github.com/dialtone-voice/dialtone/secret"
	"github.com/dialtone-voice/dialtone/sqlite"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

var quietLog = slog.New(slog.DiscardHandler)

func testSealer(t *testing.T) dialtone.Sealer {
	t.Helper()
	s, err := secret.NewSealer(bytes.Repeat([]byte{3}, secret.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestStoreStorage runs the certmagic.Storage conformance below on both
// stores: "nodes" are StoreStorages over stores opened on one database.
func TestStoreStorage(t *testing.T) {
	t.Run("SQLite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "c.db")
		storageConformance(t, func(t *testing.T) dialtone.CertStore {
			st, err := sqlite.Open(context.Background(), path, testSealer(t), sqlite.WithLogger(quietLog))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return st
		})
	})
	t.Run("PostgreSQL", func(t *testing.T) {
		dsn := pgtest.DB(t)
		storageConformance(t, func(t *testing.T) dialtone.CertStore {
			st, err := postgres.Open(context.Background(), dsn, testSealer(t), postgres.WithLogger(quietLog))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return st
		})
	})
}

// storageConformance checks what certmagic relies on. node opens another
// store on the same database, as another node of a cluster would.
func storageConformance(t *testing.T, node func(t *testing.T) dialtone.CertStore) {
	newStorage := func(t *testing.T) *StoreStorage {
		s := NewStoreStorage(node(t), quietLog)
		s.ttl, s.poll = 300*time.Millisecond, 20*time.Millisecond
		return s
	}
	a := newStorage(t)
	ctx := context.Background()

	t.Run("Files", func(t *testing.T) {
		if _, err := a.Load(ctx, "acme/none"); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Load of a missing key = %v, want fs.ErrNotExist", err)
		}
		if _, err := a.Stat(ctx, "acme/none"); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Stat of a missing key = %v, want fs.ErrNotExist", err)
		}
		if a.Exists(ctx, "acme/none") {
			t.Error("Exists of a missing key")
		}
		files := map[string]string{
			"certificates/ca/a.test/a.test.crt":  "CRT",
			"certificates/ca/a.test/a.test.key":  "KEY",
			"certificates/ca/a.test/a.test.json": "{}",
			"certificates/ca/b.test/b.test.crt":  "CRT2",
			"acme/ca/users/ops/ops.json":         "user",
		}
		for k, v := range files {
			if err := a.Store(ctx, k, []byte(v)); err != nil {
				t.Fatalf("Store %s: %v", k, err)
			}
		}
		// Another node sees them.
		b := newStorage(t)
		got, err := b.Load(ctx, "certificates/ca/a.test/a.test.key")
		if err != nil || string(got) != "KEY" {
			t.Errorf("Load on another node = %q, %v", got, err)
		}
		info, err := b.Stat(ctx, "certificates/ca/a.test/a.test.crt")
		if err != nil || !info.IsTerminal || info.Size != 3 || info.Key != "certificates/ca/a.test/a.test.crt" || info.Modified.IsZero() {
			t.Errorf("Stat of a file = %+v, %v", info, err)
		}
		info, err = b.Stat(ctx, "certificates/ca")
		if err != nil || info.IsTerminal {
			t.Errorf("Stat of a directory = %+v, %v", info, err)
		}
		if !b.Exists(ctx, "certificates/ca/b.test") || !b.Exists(ctx, "acme/ca/users/ops/ops.json") {
			t.Error("Exists of a directory or a file is false")
		}
		list, err := b.List(ctx, "certificates/ca", false)
		if want := []string{"certificates/ca/a.test", "certificates/ca/b.test"}; err != nil || !reflect.DeepEqual(list, want) {
			t.Errorf("List = %v, %v; want %v", list, err, want)
		}
		list, err = b.List(ctx, "certificates", true)
		want := []string{"certificates/ca", "certificates/ca/a.test", "certificates/ca/a.test/a.test.crt", "certificates/ca/a.test/a.test.json",
			"certificates/ca/a.test/a.test.key", "certificates/ca/b.test", "certificates/ca/b.test/b.test.crt"}
		if err != nil || !reflect.DeepEqual(list, want) {
			t.Errorf("List recursive = %v, %v; want %v", list, err, want)
		}
		if _, err := b.List(ctx, "nothing", false); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("List of a missing directory = %v, want fs.ErrNotExist", err)
		}
		// Delete takes a directory's files with it, and a missing key is
		// no error.
		if err := b.Delete(ctx, "certificates/ca/a.test"); err != nil {
			t.Fatal(err)
		}
		if a.Exists(ctx, "certificates/ca/a.test") || a.Exists(ctx, "certificates/ca/a.test/a.test.key") {
			t.Error("a deleted directory still exists")
		}
		if !a.Exists(ctx, "certificates/ca/b.test/b.test.crt") {
			t.Error("Delete removed a neighbour")
		}
		if err := a.Delete(ctx, "certificates/ca/a.test"); err != nil {
			t.Errorf("Delete of a missing key: %v", err)
		}
	})

	t.Run("Lock", func(t *testing.T) {
		b := newStorage(t)
		if err := a.Lock(ctx, "issue_cert_a.test"); err != nil {
			t.Fatal(err)
		}
		// Held past its TTL: the holder extends it, so the other node
		// still waits.
		time.Sleep(3 * a.ttl)
		short, cancel := context.WithTimeout(ctx, 2*a.ttl)
		err := b.Lock(short, "issue_cert_a.test")
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Lock of a held lock = %v, want to wait until the deadline", err)
		}
		got := make(chan error, 1)
		go func() { got <- b.Lock(ctx, "issue_cert_a.test") }()
		select {
		case err := <-got:
			t.Fatalf("Lock returned %v while the lock is held", err)
		case <-time.After(100 * time.Millisecond):
		}
		if err := a.Unlock(ctx, "issue_cert_a.test"); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-got:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Lock did not get the released lock")
		}
		if err := b.Unlock(ctx, "issue_cert_a.test"); err != nil {
			t.Fatal(err)
		}
		if err := b.Unlock(ctx, "issue_cert_a.test"); err == nil {
			t.Error("Unlock of a lock not held here succeeded")
		}
	})

	t.Run("StaleLockTakenOver", func(t *testing.T) {
		// A node that died holding the lock: its row stays, unrefreshed.
		dead := node(t)
		now := time.Now()
		if ok, err := dead.LockCert(ctx, "issue_cert_b.test", "dead-node", now, now.Add(400*time.Millisecond)); err != nil || !ok {
			t.Fatalf("LockCert = %v, %v", ok, err)
		}
		start := time.Now()
		if err := a.Lock(ctx, "issue_cert_b.test"); err != nil {
			t.Fatal(err)
		}
		if waited := time.Since(start); waited < 300*time.Millisecond {
			t.Errorf("took a live lock over after %v", waited)
		}
		if err := a.Unlock(ctx, "issue_cert_b.test"); err != nil {
			t.Fatal(err)
		}
	})
}
