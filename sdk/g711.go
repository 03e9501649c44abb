package sdk

import "github.com/dialtone-voice/dialtone/media/g711"

// G.711 µ-law, the audio of media streams: 8000 Hz, one byte a sample
// (package g711, the codec of Dialtone's own media path).

// EncodeMuLaw compresses 16-bit PCM samples to G.711 µ-law.
func EncodeMuLaw(pcm []int16) []byte { return g711.EncodeMuLaw(pcm) }

// DecodeMuLaw expands G.711 µ-law to 16-bit PCM samples.
func DecodeMuLaw(b []byte) []int16 { return g711.DecodeMuLaw(b) }
