package speech

import (
	"context"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/media"
)

// TestRecognizeDigitsThroughG711 is the oracle as the SIP tests use it: the
// code crosses the line as µ-law or A-law, with silence around it.
func TestRecognizeDigitsThroughG711(t *testing.T) {
	needPocketSphinx(t)
	code := concat(silence(700*time.Millisecond), speak(t, "1, 2, 3, 4"), silence(700*time.Millisecond))
	for name, heard := range map[string][]int16{
		"PCMU": media.DecodeMuLaw(media.EncodeMuLaw(code)),
		"PCMA": media.DecodeALaw(media.EncodeALaw(code)),
	} {
		got, err := RecognizeDigits(context.Background(), &dialtone.Audio{Samples: heard})
		if err != nil || got != "1234" {
			t.Errorf("%s: recognised %q, %v; want 1234", name, got, err)
		}
	}
}
