package media

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestSweepVoiceFiles: the audio of a deleted voice file goes once it is
// older than the grace; a voice file that exists, a recent orphan, files
// that are not stored audio (an upload's temporary file, other names) and
// other directories stay. An error from exists stops the sweep.
func TestSweepVoiceFiles(t *testing.T) {
	dir := t.TempDir()
	old := time.Now().Add(-2 * SweepGrace)
	write := func(rel string, mtime time.Time) string {
		t.Helper()
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("RIFF"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
		return p
	}
	deletedOld := write("voice/100/gone.wav", old)
	kept := write("voice/100/kept.wav", old)
	recent := write("voice/200/fresh.wav", time.Now())
	otherAcct := write("voice/200/gone2.wav", old)
	tmp := write("voice/100/.up.wav.tmp-abcd", old)
	other := write("voice/100/notes.txt", old)
	outside := write("recordings/x.wav", old)
	live := map[string]bool{"100/kept.wav": true}
	var asked []string
	exists := func(_ context.Context, uid, code string) (bool, error) {
		asked = append(asked, uid+"/"+code)
		return live[uid+"/"+code+".wav"], nil
	}
	n, err := SweepVoiceFiles(context.Background(), dir, time.Now().Add(-SweepGrace), exists)
	if err != nil || n != 2 {
		t.Fatalf("removed %d, %v; want 2", n, err)
	}
	for _, p := range []string{deletedOld, otherAcct} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s still there (%v)", p, err)
		}
	}
	for _, p := range []string{kept, recent, tmp, other, outside} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s removed: %v", p, err)
		}
	}
	for _, a := range asked {
		if a == "200/fresh" {
			t.Error("a recent file was looked up (it must be kept without asking)")
		}
	}

	// A failing lookup stops the sweep and removes nothing.
	write("voice/300/a.wav", old)
	boom := errors.New("store down")
	n, err = SweepVoiceFiles(context.Background(), dir, time.Now().Add(-SweepGrace),
		func(context.Context, string, string) (bool, error) { return false, boom })
	if !errors.Is(err, boom) || n != 0 {
		t.Errorf("failing lookup: removed %d, %v", n, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "voice/300/a.wav")); err != nil {
		t.Errorf("removed despite the failing lookup: %v", err)
	}
	// No data directory, or no voice directory: nothing to do.
	if n, err := SweepVoiceFiles(context.Background(), filepath.Join(dir, "missing"), time.Now(), exists); n != 0 || err != nil {
		t.Errorf("missing data dir: %d, %v", n, err)
	}
}
