package media

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"regexp"
	"strings"
	"time"
)

// SweepGrace is how long the audio of a deleted voice file stays on disk.
// A call accepted before the deletion may still play it (prompts are
// loaded when they play, and an IVR replays its menu), and no call lives
// this long.
const SweepGrace = 24 * time.Hour

// VoiceFileRefs tells the sweep which stored audio is still in use.
type VoiceFileRefs interface {
	// VoiceFileUses reports whether the account's voice file code exists
	// and its audio is storedPath (slash-separated, relative to the data
	// directory).
	VoiceFileUses(ctx context.Context, accountUID, code, storedPath string) (bool, error)
}

// SweepVoiceFiles removes stored audio (dataDir/voice/<account>/<code>.<digest>.wav,
// or <code>.wav as stored before digests) that no voice file uses any
// more, deleted or given new audio, once it was last written before
// olderThan. On an error of refs the sweep stops, removing nothing more.
// A file written recently is kept whatever refs says, so an upload whose
// database row is not committed yet is never swept. It returns how many
// files it removed.
func SweepVoiceFiles(ctx context.Context, dataDir string, olderThan time.Time, refs VoiceFileRefs) (int, error) {
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
			codes := storedCodes(f.Name())
			if len(codes) == 0 || !f.Type().IsRegular() {
				continue // not ours (temporary files of an upload in progress among them)
			}
			info, err := f.Info()
			if err != nil || !info.ModTime().Before(olderThan) {
				continue
			}
			rel := path.Join(dir, f.Name())
			used := false
			for _, code := range codes {
				if used, err = refs.VoiceFileUses(ctx, acct.Name(), code, rel); err != nil {
					return removed, fmt.Errorf("sweep voice files: %w", err)
				}
				if used {
					break
				}
			}
			if used {
				continue
			}
			if err := root.Remove(rel); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return removed, fmt.Errorf("sweep voice files: %w", err)
			}
			removed++
		}
	}
	return removed, nil
}

// digestSuffix is the ".<digest>" of a stored file's name.
var digestSuffix = regexp.MustCompile(`\.[0-9a-f]{16}$`)

// storedCodes returns the voice file codes a stored file's name can
// belong to: <code>.<digest>.wav, or <code>.wav as stored before digests
// (a code may itself end in what looks like a digest, so both are
// candidates); none for a name that is not stored audio.
func storedCodes(name string) []string {
	base, ok := strings.CutSuffix(name, ".wav")
	if !ok {
		return nil
	}
	var codes []string
	if loc := digestSuffix.FindStringIndex(base); loc != nil && checkName("voice file code", base[:loc[0]]) == nil {
		codes = append(codes, base[:loc[0]])
	}
	if checkName("voice file code", base) == nil {
		codes = append(codes, base)
	}
	return codes
}
