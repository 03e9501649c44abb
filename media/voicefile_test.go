package media

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone"
)

func wavOf(p *PCM) []byte {
	var b bytes.Buffer
	if err := EncodeWAV(&b, p.Samples, p.Rate, p.Channels); err != nil {
		panic(err)
	}
	return b.Bytes()
}

func TestImportVoiceFile(t *testing.T) {
	dir := t.TempDir()
	src := sine(44100, 2, 440, 8000, 2500*time.Millisecond)
	stored, format, d, err := ImportVoiceFile(wavOf(src), dir, "1234567890", "abc-123.wav")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^voice/1234567890/abc-123\.wav\.[0-9a-f]{16}\.wav$`).MatchString(stored) || format != FormatWAV || absDur(d-2500*time.Millisecond) > time.Millisecond {
		t.Errorf("stored %q format %q duration %v", stored, format, d)
	}
	fi, err := os.Stat(filepath.Join(dir, filepath.FromSlash(stored)))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", fi.Mode())
	}
	// Stored as 8 kHz mono 16-bit WAV.
	raw, _ := os.ReadFile(filepath.Join(dir, filepath.FromSlash(stored)))
	p, err := DecodeWAV(bytes.NewReader(raw))
	if err != nil || p.Rate != 8000 || p.Channels != 1 || len(p.Samples) != 20000 {
		t.Fatalf("stored file: %+v %v", p, err)
	}
	a, err := LoadVoiceFile(dir, stored)
	if err != nil {
		t.Fatal(err)
	}
	if !equal16(a.Samples, p.Samples) {
		t.Error("LoadVoiceFile differs from the stored file")
	}
	if g := goertzel(a.Samples[1000:19000], 8000, 440); absF(db(g/8000)) > 0.2 {
		t.Errorf("440 Hz tone at %.2f dB", db(g/8000))
	}
	// No temporary files are left behind.
	entries, _ := os.ReadDir(filepath.Join(dir, "voice", "1234567890"))
	if len(entries) != 1 {
		t.Errorf("%d files in the account's directory", len(entries))
	}
	// The same audio again is the same file; new audio is another file,
	// and the old one stays for whoever still points to it.
	again, _, _, err := ImportVoiceFile(wavOf(src), dir, "1234567890", "abc-123.wav")
	if err != nil || again != stored {
		t.Errorf("same audio again: stored %q, %v; want %q", again, err, stored)
	}
	stored2, _, _, err := ImportVoiceFile(wavOf(sine(8000, 1, 300, 5000, time.Second)), dir, "1234567890", "abc-123.wav")
	if err != nil {
		t.Fatal(err)
	}
	if a, _ := LoadVoiceFile(dir, stored2); stored2 == stored || a.Duration() != time.Second {
		t.Errorf("re-import with new audio: stored %q (first %q), %v", stored2, stored, a.Duration())
	}
	if a, err := LoadVoiceFile(dir, stored); err != nil || a.Duration() != 2500*time.Millisecond {
		t.Errorf("the first audio after a re-import: %v", err)
	}
}

func TestImportVoiceFileMP3(t *testing.T) {
	// A silent MP3 is decoded, then rejected as silent.
	_, format, _, err := ImportVoiceFile(silentMP3(20, true), t.TempDir(), "u1", "m.mp3")
	var be *dialtone.Error
	if !errors.As(err, &be) || be.Code != dialtone.CodeVoiceFileIllegal || !strings.Contains(be.Message, "silent") {
		t.Errorf("silent mp3: %v (format %q)", err, format)
	}
}

func TestImportVoiceFileRejects(t *testing.T) {
	dir := t.TempDir()
	good := wavOf(sine(8000, 1, 440, 5000, 100*time.Millisecond))
	zero := wavOf(&PCM{Rate: 8000, Channels: 1, Samples: make([]int16, 800)})
	empty := wavOf(&PCM{Rate: 8000, Channels: 1})
	float := wavFile{tag: 3, channels: 1, rate: 8000, bits: 32, data: make([]byte, 8), dataSize: -1}.bytes()
	long := wavFile{tag: 1, channels: 1, rate: 4000, bits: 8, data: bytes.Repeat([]byte{100}, 601*4000), dataSize: -1}.bytes()
	for _, tt := range []struct {
		name      string
		data      []byte
		uid, code string
		errCode   string
		msg       string
	}{
		{"silent", zero, "u", "c", dialtone.CodeVoiceFileIllegal, "silent"},
		{"no samples", empty, "u", "c", dialtone.CodeVoiceFileIllegal, "no audio"},
		{"empty file", nil, "u", "c", dialtone.CodeVoiceFileIllegal, "empty"},
		{"float", float, "u", "c", dialtone.CodeVoiceFileIllegal, "IEEE float"},
		{"junk", []byte("hello world"), "u", "c", dialtone.CodeVoiceFileIllegal, "not a WAV or MP3 file"},
		{"too long", long, "u", "c", dialtone.CodeVoiceFileIllegal, "too long"},
		{"slash in code", good, "u", "a/b", dialtone.CodeInvalidParameters, "separator"},
		{"dotdot code", good, "u", "..", dialtone.CodeInvalidParameters, ".."},
		{"dotdot inside", good, "u", "a..b", dialtone.CodeInvalidParameters, ".."},
		{"NUL", good, "u", "a\x00b", dialtone.CodeInvalidParameters, "NUL"},
		{"backslash", good, "u", `a\b`, dialtone.CodeInvalidParameters, "separator"},
		{"too long code", good, "u", strings.Repeat("x", 129), dialtone.CodeInvalidParameters, "128 bytes"},
		{"hidden", good, "u", ".x", dialtone.CodeInvalidParameters, "starts with"},
		{"empty code", good, "u", "", dialtone.CodeInvalidParameters, "empty"},
		{"bad uid", good, "../etc", "c", dialtone.CodeInvalidParameters, "account UID"},
	} {
		_, _, _, err := ImportVoiceFile(tt.data, dir, tt.uid, tt.code)
		var be *dialtone.Error
		if !errors.As(err, &be) || be.Code != tt.errCode || !strings.Contains(be.Message, tt.msg) {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
	if _, _, _, err := ImportVoiceFile(long, dir, "u", "c"); !errors.Is(err, ErrTooLong) {
		t.Errorf("too long does not wrap ErrTooLong: %v", err)
	}
	// Nothing was written for any of them.
	if _, err := os.Stat(filepath.Join(dir, "voice")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("rejected uploads left %v", err)
	}
	// A 128-byte code is fine.
	if _, _, _, err := ImportVoiceFile(good, dir, "u", strings.Repeat("x", 128)); err != nil {
		t.Error(err)
	}
}

func TestLoadVoiceFileRefusesEscapes(t *testing.T) {
	dir := t.TempDir()
	outside := t.TempDir()
	os.WriteFile(filepath.Join(outside, "secret.wav"), wavOf(sine(8000, 1, 440, 5000, time.Second)), 0o600)
	os.MkdirAll(filepath.Join(dir, "voice"), 0o700)
	if err := os.Symlink(outside, filepath.Join(dir, "voice", "link")); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"", "../secret.wav", "/voice/u/c.wav", filepath.Join(outside, "secret.wav"), "voice/../../secret.wav", "voice/link/secret.wav"} {
		if _, err := LoadVoiceFile(dir, p); err == nil {
			t.Errorf("%q loaded", p)
		}
	}
	if _, err := LoadVoiceFile(dir, "voice/missing.wav"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing: %v", err)
	}
}

func absF(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}

// TestImportRealMP3 imports the speech sample that ships with go-mp3 (an
// MPEG-2 file of public-domain text) when the module cache has it; no MP3
// encoder is available to generate one.
func TestImportRealMP3(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/hajimehoshi/go-mp3").Output()
	if err != nil {
		t.Skipf("go-mp3 module directory: %v", err)
	}
	data, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), "example", "mpeg2.mp3"))
	if err != nil {
		t.Skip(err)
	}
	p, format, err := Decode(data)
	if err != nil || format != FormatMP3 {
		t.Fatalf("%q %v", format, err)
	}
	t.Logf("mpeg2.mp3: %d Hz x%d, %v", p.Rate, p.Channels, p.Duration())
	dir := t.TempDir()
	stored, format, d, err := ImportVoiceFile(data, dir, "u", "alice.mp3")
	if err != nil || format != FormatMP3 || absDur(d-p.Duration()) > time.Millisecond {
		t.Fatalf("import: %q %v %v", format, d, err)
	}
	a, err := LoadVoiceFile(dir, stored)
	if err != nil {
		t.Fatal(err)
	}
	if r := rms(a.Samples); r < 300 {
		t.Errorf("RMS %.0f: nearly silent", r)
	}
}
