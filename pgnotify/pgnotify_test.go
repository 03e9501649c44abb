package pgnotify

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone/pgtest"
	"github.com/dialtone-voice/dialtone/postgres"
	"github.com/dialtone-voice/dialtone/secret"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func openStore(t *testing.T, dsn string) *postgres.Store {
	t.Helper()
	sl, err := secret.NewSealer(bytes.Repeat([]byte{1}, secret.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	st, err := postgres.Open(context.Background(), dsn, sl, postgres.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// A long poll waiting on one node is released by a Wake on another.
func TestWakerAcrossNodes(t *testing.T) {
	dsn := pgtest.DB(t)
	st := openStore(t, dsn)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	quiet := slog.New(slog.DiscardHandler)
	la, lb := NewListener(dsn, quiet), NewListener(dsn, quiet)
	wa, wb := NewWaker(la, st, quiet), NewWaker(lb, st, quiet)
	done := make(chan struct{}, 2)
	for _, l := range []*Listener{la, lb} {
		go func() { l.Run(ctx); done <- struct{}{} }()
	}
	for _, l := range []*Listener{la, lb} {
		select {
		case <-l.Ready():
		case <-time.After(10 * time.Second):
			t.Fatal("listener not ready")
		}
	}
	waitB := wb.Wait("q1")
	other := wb.Wait("q2")
	wa.Wake("q1")
	select {
	case <-waitB:
	case <-time.After(5 * time.Second):
		t.Fatal("the waiter on node b was not woken by node a")
	}
	select {
	case <-other:
		t.Fatal("a wake of q1 released a waiter of q2")
	case <-time.After(100 * time.Millisecond):
	}
	cancel()
	for range 2 {
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("Run did not return after its context ended")
		}
	}
}

// A listener whose connection is killed reconnects, runs its OnConnect
// hooks again and keeps delivering.
func TestListenerReconnects(t *testing.T) {
	dsn := pgtest.DB(t)
	st := openStore(t, dsn)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	l := NewListener(dsn, slog.New(slog.DiscardHandler))
	got := make(chan string, 16)
	connects := make(chan struct{}, 16)
	l.Handle(ChannelCalls, func(p string) { got <- p })
	l.OnConnect(func() { connects <- struct{}{} })
	go l.Run(ctx)
	<-l.Ready()
	<-connects
	// End every other session on the database: the listener's.
	if err := st.Notify(ctx, ChannelCalls, "before"); err != nil {
		t.Fatal(err)
	}
	if p := <-got; p != "before" {
		t.Fatalf("payload %q", p)
	}
	if _, err := execOn(ctx, dsn, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE 'LISTEN%'`); err != nil {
		t.Fatal(err)
	}
	select {
	case <-connects:
	case <-time.After(10 * time.Second):
		t.Fatal("no reconnection")
	}
	if err := st.Notify(ctx, ChannelCalls, "after"); err != nil {
		t.Fatal(err)
	}
	select {
	case p := <-got:
		if p != "after" {
			t.Fatalf("payload %q", p)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no notification after the reconnection")
	}
}
