package server

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/media"
)

// TestNodeSweepsDeletedVoiceFiles: the node's housekeeping removes the
// audio of a voice file deleted longer ago than the grace, and keeps the
// audio of one that exists, looking them up in its store; audio a voice
// file had before it was given new audio goes too.
func TestNodeSweepsDeletedVoiceFiles(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	ctx := context.Background()
	n, err := Open(ctx, Config{DataDir: dataDir, HTTPAddr: "127.0.0.1:0", SignatureWindow: 15 * time.Minute,
		ShutdownTimeout: 5 * time.Second, Logger: slog.New(slog.DiscardHandler), Stdout: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	defer n.store.Close()
	old := time.Now().Add(-2 * media.SweepGrace)
	write := func(rel string) string {
		p := filepath.Join(dataDir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("RIFF"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
		return p
	}
	kept, gone := write("voice/acct1/hello.wav"), write("voice/acct1/deleted.wav")
	replaced := write("voice/acct1/hello.0123456789abcdef.wav") // audio hello had before
	if err := n.store.PutAccount(ctx, &dialtone.Account{UID: "acct1", Name: "a", Status: dialtone.AccountActive, VoiceService: true}); err != nil {
		t.Fatal(err)
	}
	if err := n.store.PutVoiceFile(ctx, &dialtone.VoiceFile{AccountUID: "acct1", Code: "hello", Kind: dialtone.VoiceFileNotification,
		Status: dialtone.ReviewApproved, StoredPath: "voice/acct1/hello.wav", Format: "wav", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	n.sweepVoiceFiles(ctx, time.Now())
	if _, err := os.Stat(kept); err != nil {
		t.Errorf("the audio of an existing voice file was removed: %v", err)
	}
	if _, err := os.Stat(gone); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the audio of a deleted voice file is still there: %v", err)
	}
	if _, err := os.Stat(replaced); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the replaced audio of a voice file is still there: %v", err)
	}
}
