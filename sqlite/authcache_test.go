package sqlite

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone"
)

// The authentication cache (sqlstore/authcache.go) never lets this store's
// own changes go unseen, inside or outside a transaction, hands out copies,
// and sees another process's changes within the TTL.
func TestAuthCacheSeesChangesAtOnce(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "dialtone.db")
	st := openAt(t, path, sealer(t, 1))
	defer st.Close()
	st.SetAuthCacheTTL(time.Hour)
	now := time.Now().UTC().Truncate(time.Millisecond)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
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
