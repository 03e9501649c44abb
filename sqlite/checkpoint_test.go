package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone"
)

// Checkpoints run on the checkpointer's own connection, not inside the
// writer's COMMIT: the write connection checkpoints only past
// walFallbackPages, and after a burst of writes the checkpointer has
// copied the whole log back into the file.
func TestCheckpointsOffTheWriter(t *testing.T) {
	ctx := context.Background()
	st := openAt(t, filepath.Join(t.TempDir(), "dialtone.db"), sealer(t, 1))
	var pages int
	if err := st.write.QueryRowContext(ctx, `PRAGMA wal_autocheckpoint`).Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if pages != walFallbackPages {
		t.Fatalf("write connection's wal_autocheckpoint = %d, want the fallback %d", pages, walFallbackPages)
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	for i := range 50 {
		if err := st.PutAccount(ctx, &dialtone.Account{UID: fmt.Sprint(i + 1), Name: "a", Status: dialtone.AccountActive, CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		log, copied := st.ckpt.lastLog.Load(), st.ckpt.lastCopied.Load()
		if st.ckpt.runs.Load() > 0 && log > 0 && copied == log {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("checkpointer: %d runs, last copied %d of %d frames", st.ckpt.runs.Load(), copied, log)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// What was written is all there, and Close stops the checkpointer.
	accts, err := st.ListAccounts(ctx)
	if err != nil || len(accts) != 50 {
		t.Fatalf("ListAccounts = %d accounts, %v", len(accts), err)
	}
	if err := st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case <-st.ckpt.done:
	default:
		t.Fatal("checkpointer still running after Close")
	}
}
