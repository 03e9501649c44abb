package dialtone

import (
	"context"
	"slices"
	"strings"
)

// Voice is a text-to-speech voice a TTS template may name.
type Voice struct {
	// Name is what a template names ("en-us", "cmn-latn-pinyin").
	Name        string `json:"name"`
	Description string `json:"description"`
	// Aliases are other names that choose it ("en", "zh").
	Aliases []string `json:"aliases,omitempty"`
}

// Voices are the voices installed for text to speech and the variants a
// voice may take after a '+' ("en+f3": English with the female3 variant).
type Voices struct {
	Voices   []Voice  `json:"voices"`
	Variants []string `json:"variants"`
}

// Has reports whether name (a voice, optionally "+variant") is installed.
// Names compare without regard to case, as the synthesiser reads them.
func (v *Voices) Has(name string) bool {
	base, variant, withVariant := strings.Cut(strings.ToLower(name), "+")
	if withVariant && !slices.ContainsFunc(v.Variants, func(s string) bool { return strings.EqualFold(s, variant) }) {
		return false
	}
	for _, x := range v.Voices {
		if strings.EqualFold(x.Name, base) || slices.ContainsFunc(x.Aliases, func(s string) bool { return strings.EqualFold(s, base) }) {
			return true
		}
	}
	return false
}

// VoiceCatalog tells which voices this node can speak with.
type VoiceCatalog interface {
	Voices(ctx context.Context) (*Voices, error)
}
