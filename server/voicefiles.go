package server

import (
	"bytes"
	"fmt"

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
