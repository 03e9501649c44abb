package media

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/dialtone-voice/dialtone"
)

// Voices lists the voices and variants of the installed espeak-ng, asked
// once and then remembered (the installation does not change while the
// server runs).
func (e *ESpeak) Voices(ctx context.Context) (*dialtone.Voices, error) {
	e.voicesMu.Lock()
	defer e.voicesMu.Unlock()
	if e.voices != nil {
		return e.voices, nil
	}
	voices, err := e.list(ctx, "--voices")
	if err != nil {
		return nil, err
	}
	variants, err := e.list(ctx, "--voices=variant")
	if err != nil {
		return nil, err
	}
	v := &dialtone.Voices{Voices: voices}
	for _, x := range variants {
		v.Variants = append(v.Variants, x.Name)
	}
	e.voices = v
	return v, nil
}

// list runs espeak-ng with a --voices option and reads its table.
func (e *ESpeak) list(ctx context.Context, option string) ([]dialtone.Voice, error) {
	bin := e.Path
	if bin == "" {
		bin = "espeak-ng"
	}
	p, err := exec.LookPath(bin)
	if err != nil {
		return nil, fmt.Errorf("%w (%w)", ErrESpeakNotFound, err)
	}
	out, err := exec.CommandContext(ctx, p, option).Output()
	if err != nil {
		return nil, fmt.Errorf("espeak-ng %s: %w", option, err)
	}
	return ParseESpeakVoices(out), nil
}

// otherLanguage is one "(language priority)" of the last column.
var otherLanguage = regexp.MustCompile(`\(([^ ()]+) [0-9]+\)`)

// ParseESpeakVoices reads the table `espeak-ng --voices` prints:
//
//	Pty Language       Age/Gender VoiceName          File                 Other Languages
//	 5  cmn-latn-pinyin --/M      Chinese_(Mandarin,_latin_as_Pinyin) sit/cmn-Latn-pinyin  (zh-cmn 5)(zh 5)
//
// A voice is named by its language; its file's name and its other
// languages choose it too. Variants (`--voices=variant`, language
// "variant", file "!v/f3") are named by their file's name.
func ParseESpeakVoices(table []byte) []dialtone.Voice {
	var out []dialtone.Voice
	sc := bufio.NewScanner(bytes.NewReader(table))
	for first := true; sc.Scan(); first = false {
		f := strings.Fields(sc.Text())
		if first || len(f) < 5 {
			continue
		}
		lang, desc, file := f[1], strings.ReplaceAll(f[3], "_", " "), path.Base(f[4])
		v := dialtone.Voice{Name: lang, Description: desc}
		if lang == "variant" {
			v.Name = file
		} else if !strings.EqualFold(file, lang) {
			v.Aliases = append(v.Aliases, strings.ToLower(file))
		}
		for _, m := range otherLanguage.FindAllStringSubmatch(strings.Join(f[5:], " "), -1) {
			if a := m[1]; a != lang && !slices.Contains(v.Aliases, a) {
				v.Aliases = append(v.Aliases, a)
			}
		}
		out = append(out, v)
	}
	return out
}
