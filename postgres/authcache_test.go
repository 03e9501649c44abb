package postgres

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/pgnotify"
	"github.com/dialtone-voice/dialtone/pgtest"
	"github.com/dialtone-voice/dialtone/sqlstore"
)

// A key disabled on one node is refused by another at once: the writing
// store notifies sqlstore.AuthChannel in its transaction, and the other
// node's listener (wired as the cluster bus wires it) drops its cached
// copy, long before the TTL (an hour here) would.
func TestAuthCacheInvalidatedAcrossNodes(t *testing.T) {
	dsn := pgtest.DB(t)
	a, b := node(t, dsn), node(t, dsn)
	b.SetAuthCacheTTL(time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	l := pgnotify.NewListener(dsn, slog.New(slog.DiscardHandler))
	l.Handle(sqlstore.AuthChannel, b.AuthChanged)
	go l.Run(ctx)
	select {
	case <-l.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("listener not ready")
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	must(t, a.PutAccount(ctx, &dialtone.Account{UID: "1", Name: "a", Status: dialtone.AccountActive, VoiceService: true, CreatedAt: now}))
	must(t, a.PutAccessKey(ctx, &dialtone.AccessKey{ID: "K", AccountUID: "1", Secret: "s", Enabled: true, CreatedAt: now}))
	if k, err := b.GetAccessKey(ctx, "K"); err != nil || !k.Enabled {
		t.Fatalf("GetAccessKey = %+v, %v", k, err)
	}
	if acct, err := b.GetAccount(ctx, "1"); err != nil || acct.Status != dialtone.AccountActive {
		t.Fatalf("GetAccount = %+v, %v", acct, err)
	}
	must(t, a.Atomic(ctx, func(ctx context.Context, tx dialtone.Store) error {
		return tx.PutAccessKey(ctx, &dialtone.AccessKey{ID: "K", AccountUID: "1", Secret: "s", Enabled: false, CreatedAt: now})
	}))
	must(t, a.PutAccount(ctx, &dialtone.Account{UID: "1", Name: "a", Status: dialtone.AccountSuspended, VoiceService: true, CreatedAt: now}))
	start := time.Now()
	for {
		k, err := b.GetAccessKey(ctx, "K")
		must(t, err)
		acct, err := b.GetAccount(ctx, "1")
		must(t, err)
		if !k.Enabled && acct.Status == dialtone.AccountSuspended {
			t.Logf("seen by the other node after %v", time.Since(start))
			return
		}
		if time.Since(start) > 5*time.Second {
			t.Fatalf("the other node still has key %+v, account %+v", k, acct)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
