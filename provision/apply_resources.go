package provision

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/media"
)

// ApplyOption configures Apply.
type ApplyOption func(*applyConfig)

type applyConfig struct {
	files  FileSource
	dryRun bool
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
	if cfg.files == nil {
		return nil, fmt.Errorf("provision: line %d: voice file %s: no files were given with the document", voices[0].Line, voices[0].Code)
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
