package resource

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/media"
)

// ErrNoDataDir refuses voice files on a service without a data directory.
var ErrNoDataDir = errors.New("this server keeps no voice files (no data directory)")

// CreateVoiceFile adds a voice file with its audio (WAV or MP3), which the
// account does not have yet (ErrConflict otherwise). An empty code gets a
// new one, <uuid>.<wav|mp3> as Alibaba's console names uploads; an empty
// status is pending. Audio that is not usable is a *dialtone.Error with
// code isv.VOICE_FILE_ILLEGAL.
func (s *Service) CreateVoiceFile(ctx context.Context, f dialtone.VoiceFile, data []byte) (*dialtone.VoiceFile, error) {
	if s.dataDir == "" {
		return nil, ErrNoDataDir
	}
	f.CreatedAt = s.now()
	if f.Status == "" {
		f.Status = dialtone.ReviewPending
	}
	if f.Code == "" {
		f.Code = newUUID() + "." + sniffAudio(data)
	}
	if err := f.Validate(); err != nil {
		return nil, err
	}
	// Decoded before the transaction: it takes time, and bad audio fails
	// without touching the store.
	a, err := media.PrepareVoiceFile(data)
	if err != nil {
		return nil, err
	}
	err = s.change(ctx, func(tx *Service) error {
		if ok, err := found(tx.store.GetVoiceFile(ctx, f.AccountUID, f.Code)); err != nil {
			return err
		} else if ok {
			return conflict("account %s already has voice file %s; delete it first or choose another code", f.AccountUID, f.Code)
		}
		return tx.writeVoiceFile(ctx, &f, a, Created)
	})
	if err != nil {
		return nil, err
	}
	return &f, nil
}

// PutVoiceFile creates the voice file or replaces its audio, kind and
// status, keeping when it was created. The audio comes checked by
// media.PrepareVoiceFile (a provisioning document checks all of its files
// before its transaction).
func (s *Service) PutVoiceFile(ctx context.Context, f dialtone.VoiceFile, a *media.VoiceAudio) (Action, error) {
	if s.dataDir == "" {
		return "", ErrNoDataDir
	}
	f.CreatedAt = s.now()
	if err := f.Validate(); err != nil {
		return "", err
	}
	var action Action
	err := s.change(ctx, func(tx *Service) error {
		stored, err := media.VoiceFilePath(f.AccountUID, f.Code, a)
		if err != nil {
			return err
		}
		action = Created
		old, err := tx.store.GetVoiceFile(ctx, f.AccountUID, f.Code)
		if ok, err := found(old, err); err != nil {
			return err
		} else if ok {
			f.CreatedAt, action = old.CreatedAt, Updated
			if old.Kind == f.Kind && old.Status == f.Status && old.StoredPath == stored && old.Format == a.Format {
				action = Unchanged
				return nil
			}
		}
		return tx.writeVoiceFile(ctx, &f, a, action)
	})
	return action, err
}

// writeVoiceFile stores the audio, then the row. The audio's file is named
// by its digest: if the transaction fails, it is an orphan the node's
// sweep removes, and no row ever points to audio other than its own.
func (s *Service) writeVoiceFile(ctx context.Context, f *dialtone.VoiceFile, a *media.VoiceAudio, action Action) error {
	var err error
	if s.tx != nil && s.tx.preview {
		f.StoredPath, err = media.VoiceFilePath(f.AccountUID, f.Code, a)
	} else {
		f.StoredPath, err = media.StoreVoiceFile(s.dataDir, f.AccountUID, f.Code, a)
	}
	if err != nil {
		return err
	}
	f.Format, f.Duration = a.Format, a.Duration
	if err := s.store.PutVoiceFile(ctx, f); err != nil {
		return err
	}
	s.record(ctx, f.AccountUID, "voice_file", f.Code, action, "kind", string(f.Kind), "status", string(f.Status),
		"format", f.Format, "duration", f.Duration)
	return nil
}

// ReviewVoiceFile sets a voice file's review status; the reason of a
// rejection goes to the audit.
func (s *Service) ReviewVoiceFile(ctx context.Context, accountUID, code string, to dialtone.ReviewStatus, reason string) (*dialtone.VoiceFile, error) {
	if err := checkReview(to, reason); err != nil {
		return nil, err
	}
	var f *dialtone.VoiceFile
	err := s.change(ctx, func(tx *Service) error {
		var err error
		if f, err = tx.store.GetVoiceFile(ctx, accountUID, code); err != nil {
			return err
		}
		if f.Status != to {
			f.Status = to
			if err := tx.store.PutVoiceFile(ctx, f); err != nil {
				return err
			}
		}
		tx.record(ctx, accountUID, "voice_file", code, Action(to), "reason", reason)
		return nil
	})
	return f, err
}

// DeleteVoiceFile removes a voice file of the account. Its audio stays on
// disk until the node's sweep: calls accepted before may still play it.
func (s *Service) DeleteVoiceFile(ctx context.Context, accountUID, code string) error {
	return s.change(ctx, func(tx *Service) error {
		if err := tx.store.DeleteVoiceFile(ctx, accountUID, code); err != nil {
			return err
		}
		tx.record(ctx, accountUID, "voice_file", code, Deleted)
		return nil
	})
}

// sniffAudio names an upload's extension by its first bytes, as the media
// decoder reads them; anything else is left to the decoder to refuse.
func sniffAudio(data []byte) string {
	if len(data) >= 2 && (bytes.HasPrefix(data, []byte("ID3")) || data[0] == 0xFF && data[1]&0xE0 == 0xE0) {
		return "mp3"
	}
	return "wav"
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails since Go 1.24
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	x := hex.EncodeToString(b[:])
	return x[0:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:32]
}

// Audio returns a voice file of the account with its stored audio (8 kHz
// mono), whatever its review status, for a reviewer to listen to.
func (s *Service) Audio(ctx context.Context, accountUID, code string) (*dialtone.VoiceFile, *dialtone.Audio, error) {
	if s.dataDir == "" {
		return nil, nil, ErrNoDataDir
	}
	f, err := s.store.GetVoiceFile(ctx, accountUID, code)
	if err != nil {
		return nil, nil, err
	}
	a, err := media.LoadVoiceFile(s.dataDir, f.StoredPath)
	if err != nil {
		return nil, nil, err
	}
	return f, a, nil
}
