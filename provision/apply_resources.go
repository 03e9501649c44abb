package provision

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/media"
)

// ApplyOption configures Apply.
type ApplyOption func(*applyConfig)

type applyConfig struct {
	files   FileSource
	dataDir string
	dryRun  bool
}

// FileSource reads the files a document names (its voice files), by the
// path as the document writes it.
type FileSource interface {
	ReadFile(name string) ([]byte, error)
}

// DirFiles reads a document's files from the directory the document is
// in: relative paths are relative to it, absolute ones are used as they
// are. A server applying its --provision file at start uses it.
type DirFiles string

func (d DirFiles) ReadFile(name string) ([]byte, error) {
	if !filepath.IsAbs(name) {
		name = filepath.Join(string(d), name)
	}
	return os.ReadFile(name)
}

// FSFiles reads a document's files from a file system, such as the demo
// embedded in the binary.
type FSFiles struct{ FS fs.FS }

func (f FSFiles) ReadFile(name string) ([]byte, error) { return fs.ReadFile(f.FS, name) }

// Attachments are the files sent with a document (by `dialtone apply`),
// by the path the document gives; a document applied through the admin
// API can use no other file, so a server never reads its own disk for one.
type Attachments map[string][]byte

func (a Attachments) ReadFile(name string) ([]byte, error) {
	data, ok := a[name]
	if !ok {
		return nil, errNotSent
	}
	return data, nil
}

// errNotSent is a file a document names that did not come with it.
var errNotSent = notSentError{}

type notSentError struct{}

func (notSentError) Error() string {
	return "the file was not sent with the document (dialtone apply -f sends the files a document names)"
}

func (notSentError) Is(target error) bool { return target == fs.ErrNotExist }

// WithFiles tells Apply where to read the files the document names.
func WithFiles(f FileSource) ApplyOption {
	return func(c *applyConfig) { c.files = f }
}

// WithDataDir lets Apply store voice files' audio under the data
// directory dir; without it a document with voice files is refused.
func WithDataDir(dir string) ApplyOption {
	return func(c *applyConfig) { c.dataDir = dir }
}

// WithDryRun makes Apply check the document against the store and count
// what it would change, writing nothing.
func WithDryRun() ApplyOption {
	return func(c *applyConfig) { c.dryRun = true }
}

// ReadFiles reads every file doc names (its voice files) from src, by the
// path the document gives, for sending them with the document. Every file
// that cannot be read is reported at once, as an *Error naming its line
// and key.
func ReadFiles(doc *Document, src FileSource) (Attachments, error) {
	out := Attachments{}
	var problems []Problem
	for _, f := range doc.voiceFiles() {
		if _, done := out[f.Path]; done {
			continue
		}
		data, err := src.ReadFile(f.Path)
		if err != nil {
			problems = append(problems, Problem{Line: f.PathLine, Path: f.PathKey, Message: fmt.Sprintf("%s: %s", quote(f.Path), fileError(err))})
			continue
		}
		out[f.Path] = data
	}
	if len(problems) > 0 {
		return nil, &Error{File: doc.File, Problems: problems}
	}
	return out, nil
}

// voiceFiles lists the voice files of every account, in document order.
func (doc *Document) voiceFiles() []*VoiceFile {
	var out []*VoiceFile
	for i := range doc.Accounts {
		for j := range doc.Accounts[i].VoiceFiles {
			out = append(out, &doc.Accounts[i].VoiceFiles[j])
		}
	}
	return out
}

// loadVoices reads and checks the audio of every voice file of doc,
// reporting every bad one with its line and key.
func loadVoices(doc *Document, cfg *applyConfig) (map[*VoiceFile]*media.VoiceAudio, error) {
	voices := doc.voiceFiles()
	if len(voices) == 0 {
		return nil, nil
	}
	if cfg.dataDir == "" || cfg.files == nil {
		return nil, fmt.Errorf("provision: line %d: voice file %s: this server cannot import voice files here", voices[0].Line, voices[0].Code)
	}
	files, err := ReadFiles(doc, cfg.files)
	if err != nil {
		return nil, err
	}
	out := map[*VoiceFile]*media.VoiceAudio{}
	var problems []Problem
	for _, f := range voices {
		a, err := media.PrepareVoiceFile(files[f.Path])
		var de *dialtone.Error
		switch {
		case errors.As(err, &de):
			problems = append(problems, Problem{Line: f.PathLine, Path: f.PathKey, Message: fmt.Sprintf("%s is not usable audio: %s", quote(f.Path), de.Message)})
		case err != nil:
			return nil, fmt.Errorf("provision: line %d: voice file %s: %w", f.Line, f.Code, err)
		default:
			out[f] = a
		}
	}
	if len(problems) > 0 {
		return nil, &Error{File: doc.File, Problems: problems}
	}
	return out, nil
}

// fileError says why a file could not be read, without the path the
// message already names.
func fileError(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return "cannot be read: " + pe.Err.Error()
	}
	return err.Error()
}

// applyGlobal stores the operator-wide settings of a document.
func applyGlobal(ctx context.Context, store dialtone.Store, doc *Document, res *Result) error {
	if doc.Blacklist == nil {
		return nil
	}
	st, err := store.GetAccountSettings(ctx, "")
	if err != nil {
		return fmt.Errorf("provision: global settings: %w", err)
	}
	if slices.Equal(st.Blacklist, doc.Blacklist) {
		res.Blacklist = ActionUnchanged
		return nil
	}
	st.Blacklist = doc.Blacklist
	if err := store.PutAccountSettings(ctx, "", st); err != nil {
		return fmt.Errorf("provision: global blacklist: %w", err)
	}
	res.Blacklist = ActionUpdated
	return nil
}

// applyResources stores an account's numbers, TTS templates, voice files
// and settings, counting them in out. Objects keep their CreatedAt when
// re-applied.
func applyResources(ctx context.Context, store dialtone.Store, uid string, a *Account, cfg *applyConfig, audio map[*VoiceFile]*media.VoiceAudio, now time.Time, out *AppliedAccount) error {
	for _, n := range a.Numbers {
		want := &dialtone.Number{AccountUID: uid, Number: n.Number, Concurrency: n.Concurrency, CreatedAt: now}
		action := ActionCreated
		if old, err := store.GetNumber(ctx, uid, n.Number); err == nil {
			want.CreatedAt, action = old.CreatedAt, ActionUpdated
			if old.Concurrency == want.Concurrency {
				action = ActionUnchanged
			}
		} else if !errors.Is(err, dialtone.ErrNotFound) {
			return fmt.Errorf("provision: line %d: number %s: %w", n.Line, n.Number, err)
		}
		if action != ActionUnchanged {
			if err := store.PutNumber(ctx, want); err != nil {
				return fmt.Errorf("provision: line %d: number %s: %w", n.Line, n.Number, err)
			}
		}
		out.Numbers.add(action)
	}
	for _, t := range a.TTSTemplates {
		want := &dialtone.TTSTemplate{AccountUID: uid, Code: t.Code, Kind: dialtone.TemplateKind(t.Kind), Content: t.Content,
			Status: dialtone.ReviewStatus(t.Status), Voice: t.Voice, CreatedAt: now, UpdatedAt: now}
		action := ActionCreated
		if old, err := store.GetTemplate(ctx, uid, t.Code); err == nil {
			want.CreatedAt, action = old.CreatedAt, ActionUpdated
			if old.Kind == want.Kind && old.Content == want.Content && old.Status == want.Status && old.Voice == want.Voice {
				action = ActionUnchanged
			}
		} else if !errors.Is(err, dialtone.ErrNotFound) {
			return fmt.Errorf("provision: line %d: template %s: %w", t.Line, t.Code, err)
		}
		if action != ActionUnchanged {
			if err := store.PutTemplate(ctx, want); err != nil {
				return fmt.Errorf("provision: line %d: template %s: %w", t.Line, t.Code, err)
			}
		}
		out.Templates.add(action)
	}
	for i := range a.VoiceFiles {
		f := &a.VoiceFiles[i]
		action, err := applyVoiceFile(ctx, store, uid, f, audio[f], cfg, now)
		if err != nil {
			return err
		}
		out.VoiceFiles.add(action)
	}
	return applySettings(ctx, store, uid, a, out)
}

// applyVoiceFile stores a voice file's audio and row. The audio goes to a
// file named by its digest, written before the row: if the transaction
// fails, the file is an orphan the node's sweep removes, and no row points
// to audio other than its own.
func applyVoiceFile(ctx context.Context, store dialtone.Store, uid string, f *VoiceFile, a *media.VoiceAudio, cfg *applyConfig, now time.Time) (string, error) {
	stored, err := media.VoiceFilePath(uid, f.Code, a)
	if err != nil {
		return "", fmt.Errorf("provision: line %d: voice file %s: %w", f.Line, f.Code, err)
	}
	want := &dialtone.VoiceFile{AccountUID: uid, Code: f.Code, Kind: dialtone.VoiceFileKind(f.Kind), Status: dialtone.ReviewStatus(f.Status),
		StoredPath: stored, Format: a.Format, Duration: a.Duration, CreatedAt: now}
	action := ActionCreated
	if old, err := store.GetVoiceFile(ctx, uid, f.Code); err == nil {
		want.CreatedAt, action = old.CreatedAt, ActionUpdated
		if old.Kind == want.Kind && old.Status == want.Status && old.StoredPath == want.StoredPath && old.Format == want.Format {
			action = ActionUnchanged
		}
	} else if !errors.Is(err, dialtone.ErrNotFound) {
		return "", fmt.Errorf("provision: line %d: voice file %s: %w", f.Line, f.Code, err)
	}
	if action == ActionUnchanged || cfg.dryRun {
		return action, nil
	}
	if _, err := media.StoreVoiceFile(cfg.dataDir, uid, f.Code, a); err != nil {
		return "", fmt.Errorf("provision: line %d: voice file %s: %w", f.Line, f.Code, err)
	}
	if err := store.PutVoiceFile(ctx, want); err != nil {
		return "", fmt.Errorf("provision: line %d: voice file %s: %w", f.Line, f.Code, err)
	}
	return action, nil
}

// applySettings sets the account's flow control, and its blacklist and
// SmartCall callback URL when the document gives them, keeping the rest.
func applySettings(ctx context.Context, store dialtone.Store, uid string, a *Account, out *AppliedAccount) error {
	st, err := store.GetAccountSettings(ctx, uid)
	if err != nil {
		return fmt.Errorf("provision: account %s settings: %w", uid, err)
	}
	want := *st
	want.FlowControl = dialtone.FlowControl{PerMinute: a.FlowControl.PerMinute, PerHour: a.FlowControl.PerHour, PerDay: a.FlowControl.PerDay}
	if a.Blacklist != nil {
		want.Blacklist = a.Blacklist
	}
	if a.SmartCallCallbackURL != "" {
		want.SmartCallCallbackURL = a.SmartCallCallbackURL
	}
	if want.FlowControl == st.FlowControl && slices.Equal(want.Blacklist, st.Blacklist) && want.SmartCallCallbackURL == st.SmartCallCallbackURL {
		out.Settings = ActionUnchanged
		return nil
	}
	if err := store.PutAccountSettings(ctx, uid, &want); err != nil {
		return fmt.Errorf("provision: line %d: settings of %s: %w", a.Line, uid, err)
	}
	out.Settings = ActionUpdated
	return nil
}
