package media

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dialtone-voice/dialtone"
)

// MaxNameBytes bounds account UIDs and voice file codes used as path
// elements.
const MaxNameBytes = 128

// voiceDir is the directory of voice files under the data directory.
const voiceDir = "voice"

// VoiceAudio is an uploaded voice file decoded, checked and converted to
// 8 kHz mono 16-bit WAV, not stored yet.
type VoiceAudio struct {
	WAV      []byte
	Format   string // the original format: FormatWAV or FormatMP3
	Duration time.Duration
	// Digest names the converted audio (16 hex digits of its SHA-256): it
	// is part of the stored file's name, so the same audio is stored under
	// the same name and new audio never overwrites a file a voice file row
	// still points to.
	Digest string
}

// PrepareVoiceFile decodes an uploaded voice file (WAV or MP3), checks it
// (at most MaxDuration, not empty, not silent) and converts it to 8 kHz
// mono 16-bit WAV, writing nothing.
//
// Problems with the upload are *dialtone.Error with code
// isv.VOICE_FILE_ILLEGAL, their message safe to show to the caller.
func PrepareVoiceFile(data []byte) (*VoiceAudio, error) {
	if len(data) == 0 {
		return nil, illegalVoiceFile("the file is empty", nil)
	}
	p, format, err := Decode(data)
	if err != nil {
		return nil, illegalVoiceFile(err.Error(), err)
	}
	if p.Frames() == 0 {
		return nil, illegalVoiceFile("the file contains no audio", nil)
	}
	a := ToTelephony(p)
	if silent(a.Samples) {
		return nil, illegalVoiceFile("the file is silent (all samples are zero)", nil)
	}
	var wav bytes.Buffer
	wav.Grow(44 + 2*len(a.Samples))
	if err := EncodeWAV(&wav, a.Samples, TelephonyRate, 1); err != nil {
		return nil, fmt.Errorf("voice file: %w", err)
	}
	sum := sha256.Sum256(wav.Bytes())
	return &VoiceAudio{WAV: wav.Bytes(), Format: format, Duration: a.Duration(), Digest: hex.EncodeToString(sum[:8])}, nil
}

// VoiceFilePath is where StoreVoiceFile puts a's audio for the account's
// voice file code, relative to the data directory and slash-separated (for
// the database): voice/<accountUID>/<code>.<digest>.wav. The suffix is
// always appended, even to a code that ends in ".wav" already, so that
// distinct codes never share a file. A bad account UID or code is
// *dialtone.Error with code isv.INVALID_PARAMETERS.
func VoiceFilePath(accountUID, code string, a *VoiceAudio) (string, error) {
	if err := checkName("account UID", accountUID); err != nil {
		return "", err
	}
	if err := checkName("voice file code", code); err != nil {
		return "", err
	}
	return path.Join(voiceDir, accountUID, code+"."+a.Digest+".wav"), nil
}

// StoreVoiceFile writes a's audio atomically to VoiceFilePath under
// dataDir, mode 0600, and returns that path. Storing the same audio again
// rewrites the same file.
func StoreVoiceFile(dataDir, accountUID, code string, a *VoiceAudio) (string, error) {
	rel, err := VoiceFilePath(accountUID, code, a)
	if err != nil {
		return "", err
	}
	if err := writeFileAtomic(dataDir, rel, a.WAV); err != nil {
		return "", fmt.Errorf("store voice file %s: %w", code, err)
	}
	return rel, nil
}

// ImportVoiceFile is PrepareVoiceFile then StoreVoiceFile: it returns the
// stored path, the original format and the duration.
func ImportVoiceFile(data []byte, dataDir string, accountUID, code string) (storedPath string, format string, duration time.Duration, err error) {
	if _, err := VoiceFilePath(accountUID, code, &VoiceAudio{}); err != nil {
		return "", "", 0, err // names first: a bad code is refused before any decoding
	}
	a, err := PrepareVoiceFile(data)
	if err != nil {
		return "", "", 0, err
	}
	rel, err := StoreVoiceFile(dataDir, accountUID, code, a)
	if err != nil {
		return "", "", 0, err
	}
	return rel, a.Format, a.Duration, nil
}

// LoadVoiceFile reads a stored voice file back as telephone audio. It
// refuses paths that leave dataDir, by their name or through symbolic
// links.
func LoadVoiceFile(dataDir, storedPath string) (*dialtone.Audio, error) {
	rel := filepath.FromSlash(storedPath)
	if storedPath == "" || !filepath.IsLocal(rel) {
		return nil, fmt.Errorf("voice file path %q is not inside the data directory", storedPath)
	}
	root, err := os.OpenRoot(dataDir)
	if err != nil {
		return nil, fmt.Errorf("voice file %s: %w", storedPath, err)
	}
	defer root.Close()
	f, err := root.Open(rel)
	if err != nil {
		return nil, fmt.Errorf("voice file %s: %w", storedPath, err)
	}
	defer f.Close()
	p, err := DecodeWAV(f)
	if err != nil {
		return nil, fmt.Errorf("voice file %s: %w", storedPath, err)
	}
	a := ToTelephony(p)
	a.Label = path.Base(storedPath)
	return a, nil
}

// checkName vets a string used as one path element: it must not be able
// to name another directory or a hidden file, and must be printable UTF-8.
func checkName(what, s string) error {
	var problem string
	switch {
	case s == "":
		problem = "is empty"
	case len(s) > MaxNameBytes:
		problem = fmt.Sprintf("is longer than %d bytes", MaxNameBytes)
	case !utf8.ValidString(s):
		problem = "is not valid UTF-8"
	case strings.ContainsAny(s, "/\\\x00"):
		problem = "contains a path separator or NUL"
	case strings.Contains(s, ".."):
		problem = `contains ".."`
	case s[0] == '.':
		problem = `starts with "."`
	}
	for _, r := range s {
		if problem == "" && (r < 0x20 || r == 0x7f) {
			problem = "contains a control character"
		}
	}
	if problem != "" {
		return dialtone.Errorf(dialtone.CodeInvalidParameters, "%s %q %s", what, s, problem)
	}
	return nil
}

func illegalVoiceFile(msg string, cause error) error {
	return &dialtone.Error{Code: dialtone.CodeVoiceFileIllegal, Message: "voice file rejected: " + msg, Cause: cause}
}

func silent(s []int16) bool {
	for _, v := range s {
		if v != 0 {
			return false
		}
	}
	return true
}

// writeFileAtomic writes data to rel under dir through a temporary file
// and a rename, so a reader (a call playing the file) sees the old file or
// the new one, never a torn one. os.Root keeps every step inside dir even
// if something in it is a symbolic link.
func writeFileAtomic(dir, rel string, data []byte) (err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	rel = filepath.FromSlash(rel)
	parent := filepath.Dir(rel)
	if err := root.MkdirAll(parent, 0o700); err != nil {
		return err
	}
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	tmp := filepath.Join(parent, "."+filepath.Base(rel)+".tmp-"+hex.EncodeToString(rnd[:]))
	f, err := root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = root.Remove(tmp)
		}
	}()
	if _, err = io.Copy(f, bytes.NewReader(data)); err == nil {
		err = f.Sync() // the rename must not land before the data
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err = root.Rename(tmp, rel); err != nil {
		return err
	}
	// Make the rename itself durable; failure here is not worth failing
	// an upload that is already in place.
	if d, derr := root.Open(parent); derr == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}
