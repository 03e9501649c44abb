package sqlite

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone"
)

// cachingStore opens a store on a new file that caches for an hour (its
// path, for a second process) and closes it with the test.
func cachingStore(t *testing.T) (string, *Store) {
	path := filepath.Join(t.TempDir(), "dialtone.db")
	st := openAt(t, path, sealer(t, 1))
	t.Cleanup(func() { st.Close() })
	st.SetAuthCacheTTL(time.Hour)
	return path, st
}

// fatalIf ends the test at an error.
func fatalIf(t *testing.T) func(error) {
	return func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
}

// The authentication cache (sqlstore/authcache.go) never lets this store's
// own changes go unseen, inside or outside a transaction, hands out copies,
// and sees another process's changes within the TTL.
func TestAuthCacheSeesChangesAtOnce(t *testing.T) {
	ctx := context.Background()
	path, st := cachingStore(t)
	now := time.Now().UTC().Truncate(time.Millisecond)
	must := fatalIf(t)
	must(st.PutAccount(ctx, &dialtone.Account{UID: "1", Name: "a", Status: dialtone.AccountActive, VoiceService: true,
		RateLimits: map[string]float64{"X": 1}, CreatedAt: now}))
	must(st.PutAccessKey(ctx, &dialtone.AccessKey{ID: "K", AccountUID: "1", Secret: "s", Enabled: true, Actions: []string{"A"}, CreatedAt: now}))

	k, err := st.GetAccessKey(ctx, "K")
	must(err)
	// A copy: changing it changes nothing cached.
	k.Enabled, k.Actions[0] = false, "B"
	if k, _ := st.GetAccessKey(ctx, "K"); !k.Enabled || k.Actions[0] != "A" {
		t.Fatalf("cached key changed through a returned copy: %+v", k)
	}
	a, err := st.GetAccount(ctx, "1")
	must(err)
	a.RateLimits["X"] = 2
	if a, _ := st.GetAccount(ctx, "1"); a.RateLimits["X"] != 1 {
		t.Fatalf("cached account changed through a returned copy: %+v", a)
	}

	// Outside a transaction.
	must(st.PutAccessKey(ctx, &dialtone.AccessKey{ID: "K", AccountUID: "1", Secret: "s2", Enabled: false, CreatedAt: now}))
	if k, _ := st.GetAccessKey(ctx, "K"); k.Enabled || k.Secret != "s2" {
		t.Fatalf("disabled key still served from the cache: %+v", k)
	}
	must(st.PutAccount(ctx, &dialtone.Account{UID: "1", Name: "a", Status: dialtone.AccountSuspended, VoiceService: true, CreatedAt: now}))
	if a, _ := st.GetAccount(ctx, "1"); a.Status != dialtone.AccountSuspended {
		t.Fatalf("suspension not seen: %+v", a)
	}

	// Inside a transaction: not before the commit, at once after it.
	must(st.Atomic(ctx, func(ctx context.Context, tx dialtone.Store) error {
		if err := tx.PutAccessKey(ctx, &dialtone.AccessKey{ID: "K", AccountUID: "1", Secret: "s3", Enabled: true, CreatedAt: now}); err != nil {
			return err
		}
		if k, _ := st.GetAccessKey(ctx, "K"); k.Enabled {
			t.Error("an uncommitted change is visible outside its transaction")
		}
		return nil
	}))
	if k, _ := st.GetAccessKey(ctx, "K"); !k.Enabled || k.Secret != "s3" {
		t.Fatalf("committed change not seen: %+v", k)
	}
	// A rolled-back change is not seen either.
	_ = st.Atomic(ctx, func(ctx context.Context, tx dialtone.Store) error {
		_ = tx.PutAccessKey(ctx, &dialtone.AccessKey{ID: "K", AccountUID: "1", Secret: "s4", Enabled: false, CreatedAt: now})
		return errors.New("roll back")
	})
	if k, _ := st.GetAccessKey(ctx, "K"); !k.Enabled || k.Secret != "s3" {
		t.Fatalf("rolled-back change seen: %+v", k)
	}

	// Deleted.
	must(st.DeleteAccessKey(ctx, "1", "K"))
	if _, err := st.GetAccessKey(ctx, "K"); !errors.Is(err, dialtone.ErrNotFound) {
		t.Fatalf("deleted key: %v", err)
	}

	// Another process on the same file: seen within the TTL.
	must(st.PutAccessKey(ctx, &dialtone.AccessKey{ID: "K2", AccountUID: "1", Secret: "s", Enabled: true, CreatedAt: now}))
	st.SetAuthCacheTTL(200 * time.Millisecond)
	if _, err := st.GetAccessKey(ctx, "K2"); err != nil {
		t.Fatal(err)
	}
	other := openAt(t, path, sealer(t, 1))
	defer other.Close()
	must(other.PutAccessKey(ctx, &dialtone.AccessKey{ID: "K2", AccountUID: "1", Secret: "s", Enabled: false, CreatedAt: now}))
	deadline := time.Now().Add(5 * time.Second)
	for {
		k, err := st.GetAccessKey(ctx, "K2")
		must(err)
		if !k.Enabled {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a change by another process was not seen after the TTL")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// What every call reads of its account (settings, display numbers,
// templates) is cached like keys: a hit reads nothing, copies are handed
// out, and any write of the account's resources by this store, inside or
// outside a transaction, is seen at once; another process's within the TTL.
func TestAccountReadsCachedAndForgotten(t *testing.T) {
	ctx := context.Background()
	path, st := cachingStore(t)
	now := time.Now().UTC().Truncate(time.Millisecond)
	must := fatalIf(t)
	must(st.PutAccount(ctx, &dialtone.Account{UID: "1", Name: "a", Status: dialtone.AccountActive, VoiceService: true, CreatedAt: now}))
	must(st.PutNumber(ctx, &dialtone.Number{AccountUID: "1", Number: "057188880000", Concurrency: 5, CreatedAt: now}))
	must(st.PutTemplate(ctx, &dialtone.TTSTemplate{AccountUID: "1", Code: "TTS_1", Kind: dialtone.TemplateNotification, Content: "a",
		Status: dialtone.ReviewApproved, CreatedAt: now, UpdatedAt: now}))
	must(st.PutAccountSettings(ctx, "1", &dialtone.AccountSettings{FlowControl: dialtone.DefaultFlowControl, Blacklist: []string{"x"},
		ForkStreamKinds: []dialtone.ForkKind{dialtone.ForkNotification}}))

	read := func() (*dialtone.AccountSettings, *dialtone.Number, *dialtone.TTSTemplate) {
		t.Helper()
		s, err := st.GetAccountSettings(ctx, "1")
		must(err)
		n, err := st.GetNumber(ctx, "1", "057188880000")
		must(err)
		tp, err := st.GetTemplate(ctx, "1", "TTS_1")
		must(err)
		return s, n, tp
	}
	s, n, tp := read()
	// Copies: changing them changes nothing cached.
	s.Blacklist[0], s.ForkStreamKinds[0], n.Concurrency, tp.Content = "y", dialtone.ForkIVR, 9, "z"
	before := st.Counts()
	s, n, tp = read()
	if got := st.Counts().Sub(before).Reads; got != 0 {
		t.Errorf("cached reads ran %d statements", got)
	}
	if s.Blacklist[0] != "x" || s.ForkStreamKinds[0] != dialtone.ForkNotification || n.Concurrency != 5 || tp.Content != "a" {
		t.Fatalf("cache changed through returned copies: %+v %+v %+v", s, n, tp)
	}

	// Outside a transaction, each write seen by the next read.
	must(st.PutNumber(ctx, &dialtone.Number{AccountUID: "1", Number: "057188880000", Concurrency: 7, CreatedAt: now}))
	if _, n, _ := read(); n.Concurrency != 7 {
		t.Fatalf("own number write not seen: %+v", n)
	}
	must(st.PutTemplate(ctx, &dialtone.TTSTemplate{AccountUID: "1", Code: "TTS_1", Kind: dialtone.TemplateNotification, Content: "b",
		Status: dialtone.ReviewApproved, CreatedAt: now, UpdatedAt: now}))
	if _, _, tp := read(); tp.Content != "b" {
		t.Fatalf("own template write not seen: %+v", tp)
	}
	must(st.PutAccountSettings(ctx, "1", &dialtone.AccountSettings{FlowControl: dialtone.DefaultFlowControl, Blacklist: []string{"w"}}))
	if s, _, _ := read(); s.Blacklist[0] != "w" {
		t.Fatalf("own settings write not seen: %+v", s)
	}

	// Inside a transaction: at once after the commit, never a rolled-back one.
	must(st.Atomic(ctx, func(ctx context.Context, tx dialtone.Store) error {
		return tx.PutNumber(ctx, &dialtone.Number{AccountUID: "1", Number: "057188880000", Concurrency: 3, CreatedAt: now})
	}))
	_ = st.Atomic(ctx, func(ctx context.Context, tx dialtone.Store) error {
		_ = tx.PutAccountSettings(ctx, "1", &dialtone.AccountSettings{Blacklist: []string{"rolled back"}})
		return errors.New("roll back")
	})
	if s, n, _ := read(); n.Concurrency != 3 || s.Blacklist[0] != "w" {
		t.Fatalf("after the transactions: %+v %+v", s, n)
	}

	// Deleted, each seen by the next read.
	must(st.DeleteNumber(ctx, "1", "057188880000"))
	if _, err := st.GetNumber(ctx, "1", "057188880000"); !errors.Is(err, dialtone.ErrNotFound) {
		t.Fatalf("deleted number: %v", err)
	}
	must(st.DeleteTemplate(ctx, "1", "TTS_1"))
	if _, err := st.GetTemplate(ctx, "1", "TTS_1"); !errors.Is(err, dialtone.ErrNotFound) {
		t.Fatalf("deleted template: %v", err)
	}

	// The operator's global settings (account "") are cached and forgotten
	// the same way.
	must(st.PutAccountSettings(ctx, "", &dialtone.AccountSettings{Blacklist: []string{"g1"}}))
	if g, err := st.GetAccountSettings(ctx, ""); err != nil || g.Blacklist[0] != "g1" {
		t.Fatalf("global settings = %+v, %v", g, err)
	}
	must(st.PutAccountSettings(ctx, "", &dialtone.AccountSettings{Blacklist: []string{"g2"}}))
	if g, err := st.GetAccountSettings(ctx, ""); err != nil || g.Blacklist[0] != "g2" {
		t.Fatalf("global settings after a change = %+v, %v", g, err)
	}

	// Another process on the same file: seen within the TTL.
	st.SetAuthCacheTTL(200 * time.Millisecond)
	if _, err := st.GetAccountSettings(ctx, "1"); err != nil {
		t.Fatal(err)
	}
	other := openAt(t, path, sealer(t, 1))
	defer other.Close()
	must(other.PutAccountSettings(ctx, "1", &dialtone.AccountSettings{Blacklist: []string{"other"}}))
	deadline := time.Now().Add(5 * time.Second)
	for {
		s, err := st.GetAccountSettings(ctx, "1")
		must(err)
		if len(s.Blacklist) == 1 && s.Blacklist[0] == "other" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a change by another process was not seen after the TTL")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
