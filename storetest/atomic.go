package storetest

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone"
)

// Atomic: what fn writes through the view commits together, or not at all.
// fn may run on another goroutine than the test's (the SQLite store runs
// it on its writer), so it reports with t.Errorf and returned errors, never
// t.Fatal.

func (s *suite) atomic(t *testing.T) {
	t.Run("Commit", s.atomicCommit)
	t.Run("Rollback", s.atomicRollback)
	t.Run("FailedWriteUndoneAlone", s.atomicFailedWrite)
	t.Run("Nested", s.atomicNested)
	t.Run("ConcurrentWriters", s.atomicConcurrent)
}

func (s *suite) atomicCommit(t *testing.T) {
	st := s.store(t)
	err := st.Atomic(ctx(t), func(ctx context.Context, tx dialtone.Store) error {
		if err := tx.PutAccount(ctx, &dialtone.Account{UID: "100", Name: "a", Status: dialtone.AccountActive, CreatedAt: t0, UpdatedAt: t0}); err != nil {
			return err
		}
		// A write that needs the account sees it: reads and checks inside
		// the view see the view's own writes.
		if err := tx.PutNumber(ctx, &dialtone.Number{AccountUID: "100", Number: "1", Concurrency: 2, CreatedAt: t0}); err != nil {
			return err
		}
		if _, err := tx.GetAccount(ctx, "100"); err != nil {
			return err
		}
		n, err := tx.GetNumber(ctx, "100", "1")
		if err != nil {
			return err
		}
		if n.Concurrency != 2 {
			t.Errorf("number read in the view: concurrency %d, want 2", n.Concurrency)
		}
		return tx.PutTemplate(ctx, &dialtone.TTSTemplate{AccountUID: "100", Code: "TTS_1", Kind: dialtone.TemplateNotification,
			Content: "hi", Status: dialtone.ReviewApproved, CreatedAt: t0, UpdatedAt: t0})
	})
	must(t, "Atomic", err)
	_, err = st.GetAccount(ctx(t), "100")
	must(t, "GetAccount after commit", err)
	_, err = st.GetNumber(ctx(t), "100", "1")
	must(t, "GetNumber after commit", err)
	_, err = st.GetTemplate(ctx(t), "100", "TTS_1")
	must(t, "GetTemplate after commit", err)
}

func (s *suite) atomicRollback(t *testing.T) {
	st := s.store(t)
	putAccount(t, st, "100")
	must(t, "PutNumber", st.PutNumber(ctx(t), &dialtone.Number{AccountUID: "100", Number: "1", Concurrency: 1, CreatedAt: t0}))
	boom := errors.New("boom")
	err := st.Atomic(ctx(t), func(ctx context.Context, tx dialtone.Store) error {
		if err := tx.PutAccount(ctx, &dialtone.Account{UID: "200", Name: "b", Status: dialtone.AccountActive, CreatedAt: t0, UpdatedAt: t0}); err != nil {
			return err
		}
		if err := tx.PutNumber(ctx, &dialtone.Number{AccountUID: "100", Number: "1", Concurrency: 9, CreatedAt: t0}); err != nil {
			return err
		}
		if err := tx.DeleteNumber(ctx, "100", "1"); err != nil {
			return err
		}
		if err := tx.PutAccountSettings(ctx, "100", &dialtone.AccountSettings{SmartCallCallbackURL: "http://127.0.0.1:1/x"}); err != nil {
			return err
		}
		// The receipt and console parts of a store take part too.
		if err := tx.PutSubscription(ctx, &dialtone.Subscription{AccountUID: "100", MessageType: "VoiceReport", Queue: true, CreatedAt: t0, UpdatedAt: t0}); err != nil {
			return err
		}
		if err := tx.PutConsoleUser(ctx, &dialtone.ConsoleUser{Username: "ops", PasswordHash: "x", CreatedAt: t0}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Atomic = %v, want fn's error", err)
	}
	_, err = st.GetAccount(ctx(t), "200")
	wantErr(t, "account created in a rolled-back transaction", err, dialtone.ErrNotFound)
	n, err := st.GetNumber(ctx(t), "100", "1")
	must(t, "GetNumber after rollback", err)
	if n.Concurrency != 1 {
		t.Errorf("number after rollback: concurrency %d, want 1", n.Concurrency)
	}
	set, err := st.GetAccountSettings(ctx(t), "100")
	must(t, "GetAccountSettings", err)
	if set.SmartCallCallbackURL != "" {
		t.Errorf("settings after rollback: callback %q, want none", set.SmartCallCallbackURL)
	}
	_, err = st.GetSubscription(ctx(t), "100", "VoiceReport")
	wantErr(t, "subscription after rollback", err, dialtone.ErrNotFound)
	_, err = st.GetConsoleUser(ctx(t), "ops")
	wantErr(t, "console user after rollback", err, dialtone.ErrNotFound)
}

func (s *suite) atomicFailedWrite(t *testing.T) {
	st := s.store(t)
	putAccount(t, st, "100")
	err := st.Atomic(ctx(t), func(ctx context.Context, tx dialtone.Store) error {
		if err := tx.PutNumber(ctx, &dialtone.Number{AccountUID: "100", Number: "1", Concurrency: 1, CreatedAt: t0}); err != nil {
			return err
		}
		// A refused write inside the view fails alone and leaves the
		// transaction usable, as it would outside.
		wantErr(t, "PutNumber for an unknown account", tx.PutNumber(ctx, &dialtone.Number{AccountUID: "999", Number: "2"}), dialtone.ErrNotFound)
		wantErr(t, "PutAccessKey of another account", tx.PutAccessKey(ctx, &dialtone.AccessKey{ID: "K", AccountUID: "999", Secret: "s"}), dialtone.ErrNotFound)
		return tx.PutNumber(ctx, &dialtone.Number{AccountUID: "100", Number: "3", Concurrency: 1, CreatedAt: t0})
	})
	must(t, "Atomic", err)
	list, err := st.ListNumbers(ctx(t), "100")
	must(t, "ListNumbers", err)
	if len(list) != 2 || list[0].Number != "1" || list[1].Number != "3" {
		t.Errorf("numbers after the transaction = %+v, want 1 and 3", list)
	}
}

func (s *suite) atomicNested(t *testing.T) {
	st := s.store(t)
	putAccount(t, st, "100")
	inner := errors.New("inner")
	err := st.Atomic(ctx(t), func(ctx context.Context, tx dialtone.Store) error {
		if err := tx.PutNumber(ctx, &dialtone.Number{AccountUID: "100", Number: "1", Concurrency: 1, CreatedAt: t0}); err != nil {
			return err
		}
		err := tx.Atomic(ctx, func(ctx context.Context, tx2 dialtone.Store) error {
			if err := tx2.PutNumber(ctx, &dialtone.Number{AccountUID: "100", Number: "2", Concurrency: 1, CreatedAt: t0}); err != nil {
				return err
			}
			return inner
		})
		if !errors.Is(err, inner) {
			t.Errorf("nested Atomic = %v, want its fn's error", err)
		}
		if _, err := tx.GetNumber(ctx, "100", "2"); !errors.Is(err, dialtone.ErrNotFound) {
			t.Errorf("number of the failed nested transaction: %v, want ErrNotFound", err)
		}
		return tx.Atomic(ctx, func(ctx context.Context, tx2 dialtone.Store) error {
			return tx2.PutNumber(ctx, &dialtone.Number{AccountUID: "100", Number: "3", Concurrency: 1, CreatedAt: t0})
		})
	})
	must(t, "Atomic", err)
	list, err := st.ListNumbers(ctx(t), "100")
	must(t, "ListNumbers", err)
	if len(list) != 2 || list[0].Number != "1" || list[1].Number != "3" {
		t.Errorf("numbers after nested transactions = %+v, want 1 and 3", list)
	}
}

// atomicConcurrent: transactions and plain writes running at once all
// succeed, and each transaction's pair of writes is seen whole.
func (s *suite) atomicConcurrent(t *testing.T) {
	st := s.store(t)
	putAccount(t, st, "100")
	const n = 8
	errs := make(chan error, 2*n)
	for i := range n {
		go func() {
			errs <- st.Atomic(ctx(t), func(ctx context.Context, tx dialtone.Store) error {
				if err := tx.PutNumber(ctx, &dialtone.Number{AccountUID: "100", Number: "a" + strconv.Itoa(i), Concurrency: 1, CreatedAt: t0}); err != nil {
					return err
				}
				return tx.PutNumber(ctx, &dialtone.Number{AccountUID: "100", Number: "b" + strconv.Itoa(i), Concurrency: 1, CreatedAt: t0})
			})
		}()
		go func() {
			errs <- st.PutNumber(ctx(t), &dialtone.Number{AccountUID: "100", Number: "c" + strconv.Itoa(i), Concurrency: 1, CreatedAt: t0.Add(time.Duration(i))})
		}()
	}
	for range 2 * n {
		must(t, "concurrent write", <-errs)
	}
	list, err := st.ListNumbers(ctx(t), "100")
	must(t, "ListNumbers", err)
	if len(list) != 3*n {
		t.Errorf("%d numbers after concurrent writes, want %d", len(list), 3*n)
	}
}
