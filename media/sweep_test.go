package media

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// refsFunc adapts a function to VoiceFileRefs.
type refsFunc func(ctx context.Context, uid, code, stored string) (bool, error)

func (f refsFunc) VoiceFileUses(ctx context.Context, uid, code, stored string) (bool, error) {
	return f(ctx, uid, code, stored)
}

// TestSweepVoiceFiles: the audio no voice file uses any more (deleted, or
// replaced by new audio under another digest) goes once it is older than
// the grace; audio in use (digest names and names from before digests), a
// recent orphan, files that are not stored audio (an upload's temporary
// file, other names) and other directories stay. An error from the lookup
// stops the sweep.
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
	keptDigest := write("voice/100/k2.wav.0123456789abcdef.wav", old)
	replaced := write("voice/100/k2.wav.fedcba9876543210.wav", old)
	recent := write("voice/200/fresh.0123456789abcdef.wav", time.Now())
	otherAcct := write("voice/200/gone2.wav", old)
	tmp := write("voice/100/.up.wav.tmp-abcd", old)
	other := write("voice/100/notes.txt", old)
	outside := write("recordings/x.wav", old)
	// Voice file code -> the audio it uses.
	live := map[string]string{"100/kept": "voice/100/kept.wav", "100/k2.wav": "voice/100/k2.wav.0123456789abcdef.wav"}
	var asked []string
	refs := refsFunc(func(_ context.Context, uid, code, stored string) (bool, error) {
		asked = append(asked, uid+"/"+code)
		return live[uid+"/"+code] == stored, nil
	})
	n, err := SweepVoiceFiles(context.Background(), dir, time.Now().Add(-SweepGrace), refs)
	if err != nil || n != 3 {
		t.Fatalf("removed %d, %v; want 3", n, err)
	}
	for _, p := range []string{deletedOld, otherAcct, replaced} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s still there (%v)", p, err)
		}
	}
	for _, p := range []string{kept, keptDigest, recent, tmp, other, outside} {
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
		refsFunc(func(context.Context, string, string, string) (bool, error) { return false, boom }))
	if !errors.Is(err, boom) || n != 0 {
		t.Errorf("failing lookup: removed %d, %v", n, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "voice/300/a.wav")); err != nil {
		t.Errorf("removed despite the failing lookup: %v", err)
	}
	// No data directory, or no voice directory: nothing to do.
	if n, err := SweepVoiceFiles(context.Background(), filepath.Join(dir, "missing"), time.Now(), refs); n != 0 || err != nil {
		t.Errorf("missing data dir: %d, %v", n, err)
	}
}

// TestStoredCodes: the codes a stored file's name can belong to.
func TestStoredCodes(t *testing.T) {
	for name, want := range map[string][]string{
		"a.wav.0123456789abcdef.wav": {"a.wav", "a.wav.0123456789abcdef"},
		"a.wav":                      {"a"},
		"b.0123456789ABCDEF.wav":     {"b.0123456789ABCDEF"},
		".0123456789abcdef.wav":      nil, // neither "" nor a hidden name is a code
		"x.mp3":                      nil,
		".up.wav.tmp-1":              nil,
	} {
		if got := storedCodes(name); !slices.Equal(got, want) {
			t.Errorf("storedCodes(%q) = %q, want %q", name, got, want)
		}
	}
}
