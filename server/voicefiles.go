package server

import (
	"context"
	"errors"

	"github.com/dialtone-voice/dialtone"
)

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
