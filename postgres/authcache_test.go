package postgres

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/pgnotify"
	"github.com/dialtone-voice/dialtone/pgtest"
	"github.com/dialtone-voice/dialtone/sqlstore"
)

// twoCachingNodes returns two nodes of one database: b caches for an hour
// and forgets on AuthChannel's notifications, as the cluster bus wires it.
// ctx ends with the test.
func twoCachingNodes(t *testing.T) (a, b *Store, ctx context.Context) {
	dsn := pgtest.DB(t)
	a, b = node(t, dsn), node(t, dsn)
	b.SetAuthCacheTTL(time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	l := pgnotify.NewListener(dsn, slog.New(slog.DiscardHandler))
	l.Handle(sqlstore.AuthChannel, b.AuthChanged)
	go l.Run(ctx)
	select {
	case <-l.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("listener not ready")
	}
	return a, b, ctx
}

// A key disabled on one node is refused by another at once: the writing
// store notifies sqlstore.AuthChannel in its transaction, and the other
// node's listener (wired as the cluster bus wires it) drops its cached
// copy, long before the TTL (an hour here) would.
func TestAuthCacheInvalidatedAcrossNodes(t *testing.T) {
	a, b, ctx := twoCachingNodes(t)
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

// What calls read of an account (settings, numbers, templates) is cached
// on each node and forgotten on the others when one node changes it: the
// write notifies AuthChannel with the account, in its transaction.
func TestAccountReadsInvalidatedAcrossNodes(t *testing.T) {
	a, b, ctx := twoCachingNodes(t)
	now := time.Now().UTC().Truncate(time.Millisecond)
	must(t, a.PutAccount(ctx, &dialtone.Account{UID: "1", Name: "a", Status: dialtone.AccountActive, VoiceService: true, CreatedAt: now}))
	must(t, a.PutNumber(ctx, &dialtone.Number{AccountUID: "1", Number: "057188880000", Concurrency: 5, CreatedAt: now}))
	must(t, a.PutTemplate(ctx, &dialtone.TTSTemplate{AccountUID: "1", Code: "TTS_1", Kind: dialtone.TemplateNotification, Content: "a",
		Status: dialtone.ReviewApproved, CreatedAt: now, UpdatedAt: now}))
	must(t, a.PutAccountSettings(ctx, "1", &dialtone.AccountSettings{Blacklist: []string{"x"}}))
	// b caches all three.
	eventually := func(what string, seen func() bool) {
		t.Helper()
		start := time.Now()
		for !seen() {
			if time.Since(start) > 5*time.Second {
				t.Fatalf("the other node does not see the %s change", what)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	number := func() int {
		n, err := b.GetNumber(ctx, "1", "057188880000")
		if err != nil {
			return -1
		}
		return n.Concurrency
	}
	template := func() string {
		tp, err := b.GetTemplate(ctx, "1", "TTS_1")
		if err != nil {
			return ""
		}
		return tp.Content
	}
	blacklist := func() string {
		s, err := b.GetAccountSettings(ctx, "1")
		must(t, err)
		return strings.Join(s.Blacklist, ",")
	}
	if number() != 5 || template() != "a" || blacklist() != "x" {
		t.Fatal("the other node does not read the first values")
	}
	// The notifications of the writes above may still be on their way;
	// once they have landed, read again so that b holds all three.
	time.Sleep(200 * time.Millisecond)
	if number() != 5 || template() != "a" || blacklist() != "x" {
		t.Fatal("the other node does not read the first values")
	}
	must(t, a.PutNumber(ctx, &dialtone.Number{AccountUID: "1", Number: "057188880000", Concurrency: 7, CreatedAt: now}))
	eventually("number", func() bool { return number() == 7 })
	must(t, a.PutTemplate(ctx, &dialtone.TTSTemplate{AccountUID: "1", Code: "TTS_1", Kind: dialtone.TemplateNotification, Content: "b",
		Status: dialtone.ReviewApproved, CreatedAt: now, UpdatedAt: now}))
	eventually("template", func() bool { return template() == "b" })
	must(t, a.Atomic(ctx, func(ctx context.Context, tx dialtone.Store) error {
		return tx.PutAccountSettings(ctx, "1", &dialtone.AccountSettings{Blacklist: []string{"y"}})
	}))
	eventually("settings", func() bool { return blacklist() == "y" })
	must(t, a.DeleteNumber(ctx, "1", "057188880000"))
	eventually("number deletion", func() bool { return number() == -1 })
}
