package storetest_test

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/secret"
	"github.com/dialtone-voice/dialtone/sqlite"
	"github.com/dialtone-voice/dialtone/storetest"
)

// The suites run here against the embedded store, which needs no server,
// so that a change to the suite is checked where it is made. Each store
// package runs them too (the PostgreSQL store against a real server, see
// package pgtest). dialtone.Store is the whole contract, so a store (or a
// test double) implements every part of it; the suites assert each part's
// documented behaviour.
func open(t *testing.T) *sqlite.Store {
	t.Helper()
	sl, err := secret.NewSealer(bytes.Repeat([]byte{1}, secret.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "dialtone.db"), sl,
		sqlite.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestSuiteOnSQLite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) dialtone.Store { return open(t) })
	storetest.RunReceipts(t, func(t *testing.T) storetest.ReceiptStore { return open(t) })
	storetest.RunCluster(t, func(t *testing.T) storetest.ClusterStore { return open(t) })
}
