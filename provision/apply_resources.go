package provision

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/dialtone-voice/dialtone"
)

// VoiceImporter decodes, checks and stores a voice file for an account,
// returning where it stored the 8 kHz audio (relative to the data
// directory), the source format and the duration. The server passes the
// media package's importer; provision itself knows no audio.
type VoiceImporter func(data []byte, accountUID, code string) (storedPath, format string, duration time.Duration, err error)

// ApplyOption configures Apply.
type ApplyOption func(*applyConfig)

type applyConfig struct {
	importVoice VoiceImporter
}

// WithVoiceImporter lets Apply import the voice files a document lists.
func WithVoiceImporter(f VoiceImporter) ApplyOption {
	return func(c *applyConfig) { c.importVoice = f }
}

// applyGlobal stores the operator-wide settings of a document.
func applyGlobal(ctx context.Context, store dialtone.Store, doc *Document) error {
	if doc.Blacklist == nil {
		return nil
	}
	st, err := store.GetAccountSettings(ctx, "")
	if err != nil {
		return fmt.Errorf("provision: global settings: %w", err)
	}
	st.Blacklist = doc.Blacklist
	if err := store.PutAccountSettings(ctx, "", st); err != nil {
		return fmt.Errorf("provision: global blacklist: %w", err)
	}
	return nil
}

// applyResources stores an account's numbers, TTS templates, voice files,
// flow control and blacklist. Objects keep their CreatedAt when re-applied.
func applyResources(ctx context.Context, store dialtone.Store, uid string, a *Account, cfg *applyConfig, now time.Time) error {
	for _, n := range a.Numbers {
		want := &dialtone.Number{AccountUID: uid, Number: n.Number, Concurrency: n.Concurrency, CreatedAt: now}
		if old, err := store.GetNumber(ctx, uid, n.Number); err == nil {
			want.CreatedAt = old.CreatedAt
			if old.Concurrency == want.Concurrency {
				continue
			}
		} else if !errors.Is(err, dialtone.ErrNotFound) {
			return fmt.Errorf("provision: line %d: number %s: %w", n.Line, n.Number, err)
		}
		if err := store.PutNumber(ctx, want); err != nil {
			return fmt.Errorf("provision: line %d: number %s: %w", n.Line, n.Number, err)
		}
	}
	for _, t := range a.TTSTemplates {
		want := &dialtone.TTSTemplate{AccountUID: uid, Code: t.Code, Kind: dialtone.TemplateKind(t.Kind), Content: t.Content,
			Status: dialtone.ReviewStatus(t.Status), Voice: t.Voice, CreatedAt: now, UpdatedAt: now}
		if old, err := store.GetTemplate(ctx, uid, t.Code); err == nil {
			if old.Kind == want.Kind && old.Content == want.Content && old.Status == want.Status && old.Voice == want.Voice {
				continue
			}
			want.CreatedAt = old.CreatedAt
		} else if !errors.Is(err, dialtone.ErrNotFound) {
			return fmt.Errorf("provision: line %d: template %s: %w", t.Line, t.Code, err)
		}
		if err := store.PutTemplate(ctx, want); err != nil {
			return fmt.Errorf("provision: line %d: template %s: %w", t.Line, t.Code, err)
		}
	}
	for _, f := range a.VoiceFiles {
		if cfg.importVoice == nil {
			return fmt.Errorf("provision: line %d: voice file %s: this server cannot import voice files here", f.Line, f.Code)
		}
		data, err := os.ReadFile(f.FullPath)
		if err != nil {
			return fmt.Errorf("provision: line %d: voice file %s: %w", f.Line, f.Code, err)
		}
		stored, format, dur, err := cfg.importVoice(data, uid, f.Code)
		if err != nil {
			return fmt.Errorf("provision: line %d: voice file %s (%s): %w", f.Line, f.Code, f.Path, err)
		}
		want := &dialtone.VoiceFile{AccountUID: uid, Code: f.Code, Kind: dialtone.VoiceFileKind(f.Kind), Status: dialtone.ReviewStatus(f.Status),
			StoredPath: stored, Format: format, Duration: dur, CreatedAt: now}
		if old, err := store.GetVoiceFile(ctx, uid, f.Code); err == nil {
			want.CreatedAt = old.CreatedAt
		} else if !errors.Is(err, dialtone.ErrNotFound) {
			return fmt.Errorf("provision: line %d: voice file %s: %w", f.Line, f.Code, err)
		}
		if err := store.PutVoiceFile(ctx, want); err != nil {
			return fmt.Errorf("provision: line %d: voice file %s: %w", f.Line, f.Code, err)
		}
	}
	st, err := store.GetAccountSettings(ctx, uid)
	if err != nil {
		return fmt.Errorf("provision: account %s settings: %w", uid, err)
	}
	fc := dialtone.FlowControl{PerMinute: a.FlowControl.PerMinute, PerHour: a.FlowControl.PerHour, PerDay: a.FlowControl.PerDay}
	changed := st.FlowControl != fc
	st.FlowControl = fc
	if a.Blacklist != nil {
		changed = changed || fmt.Sprint(st.Blacklist) != fmt.Sprint(a.Blacklist)
		st.Blacklist = a.Blacklist
	}
	if changed {
		if err := store.PutAccountSettings(ctx, uid, st); err != nil {
			return fmt.Errorf("provision: account %s settings: %w", uid, err)
		}
	}
	return nil
}
