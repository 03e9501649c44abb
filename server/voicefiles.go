package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/media"
)

// loadVoice returns a stored voice file as WAV bytes for the admin API's
// player. It goes through media.LoadVoiceFile, which refuses paths leaving
// the data directory, and re-encodes what it decoded, so the answer is a
// well-formed 8 kHz WAV even if the file on disk was tampered with.
func (n *Node) loadVoice(storedPath string) ([]byte, error) {
	a, err := media.LoadVoiceFile(n.cfg.DataDir, storedPath)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	buf.Grow(44 + 2*len(a.Samples))
	if err := media.EncodeWAV(&buf, a.Samples, media.TelephonyRate, 1); err != nil {
		return nil, fmt.Errorf("voice file %s: %w", storedPath, err)
	}
	return buf.Bytes(), nil
}

// voiceRefs tells the sweep of stored audio which files voice files use.
type voiceRefs struct{ store dialtone.Store }

func (r voiceRefs) VoiceFileUses(ctx context.Context, accountUID, code, storedPath string) (bool, error) {
	vf, err := r.store.GetVoiceFile(ctx, accountUID, code)
	if errors.Is(err, dialtone.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return vf.StoredPath == storedPath, nil
}
