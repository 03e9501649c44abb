package media

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"
	"time"
)

// SweepGrace is how long the audio of a deleted voice file stays on disk.
// A call accepted before the deletion may still play it (prompts are
// loaded when they play, and an IVR replays its menu), and no call lives
// this long.
const SweepGrace = 24 * time.Hour

// SweepVoiceFiles removes the stored audio (dataDir/voice/<account>/<code>.wav)
// of voice files that no longer exist, once it was last written before
// olderThan. exists reports whether the account still has the voice file
// with that code; on its error the sweep stops, removing nothing more. A
// file written recently is kept whatever exists says, so an upload whose
// database row is not committed yet is never swept. It returns how many
// files it removed.
func SweepVoiceFiles(ctx context.Context, dataDir string, olderThan time.Time, exists func(ctx context.Context, accountUID, code string) (bool, error)) (int, error) {
	root, err := os.OpenRoot(dataDir)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("sweep voice files: %w", err)
	}
	defer root.Close()
	accounts, err := fs.ReadDir(root.FS(), voiceDir)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("sweep voice files: %w", err)
	}
	removed := 0
	for _, acct := range accounts {
		if !acct.IsDir() || checkName("account UID", acct.Name()) != nil {
			continue
		}
		dir := path.Join(voiceDir, acct.Name())
		files, err := fs.ReadDir(root.FS(), dir)
		if err != nil {
			return removed, fmt.Errorf("sweep voice files: %w", err)
		}
		for _, f := range files {
			if err := ctx.Err(); err != nil {
				return removed, err
			}
			code, ok := strings.CutSuffix(f.Name(), ".wav")
			if !ok || !f.Type().IsRegular() || checkName("voice file code", code) != nil {
				continue // not ours (temporary files of an upload in progress among them)
			}
			info, err := f.Info()
			if err != nil || !info.ModTime().Before(olderThan) {
				continue
			}
			still, err := exists(ctx, acct.Name(), code)
			if err != nil {
				return removed, fmt.Errorf("sweep voice files: %w", err)
			}
			if still {
				continue
			}
			if err := root.Remove(path.Join(dir, f.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return removed, fmt.Errorf("sweep voice files: %w", err)
			}
			removed++
		}
	}
	return removed, nil
}
