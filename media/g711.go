package media

import "github.com/dialtone-voice/dialtone/media/g711"

// G.711 µ-law and A-law: the codec is package g711 (shared with the SDK);
// these are its functions where the media path has always called them.

// EncodeMuLaw compresses samples to G.711 µ-law, one byte per sample.
func EncodeMuLaw(samples []int16) []byte { return g711.EncodeMuLaw(samples) }

// AppendMuLaw appends the µ-law encoding of samples to dst.
func AppendMuLaw(dst []byte, samples []int16) []byte { return g711.AppendMuLaw(dst, samples) }

// DecodeMuLaw expands G.711 µ-law bytes to samples.
func DecodeMuLaw(b []byte) []int16 { return g711.DecodeMuLaw(b) }

// AppendDecodeMuLaw appends the samples of G.711 µ-law bytes to dst.
func AppendDecodeMuLaw(dst []int16, b []byte) []int16 { return g711.AppendDecodeMuLaw(dst, b) }

// EncodeALaw compresses samples to G.711 A-law, one byte per sample.
func EncodeALaw(samples []int16) []byte { return g711.EncodeALaw(samples) }

// AppendALaw appends the A-law encoding of samples to dst.
func AppendALaw(dst []byte, samples []int16) []byte { return g711.AppendALaw(dst, samples) }

// DecodeALaw expands G.711 A-law bytes to samples.
func DecodeALaw(b []byte) []int16 { return g711.DecodeALaw(b) }

// AppendDecodeALaw appends the samples of G.711 A-law bytes to dst.
func AppendDecodeALaw(dst []int16, b []byte) []int16 { return g711.AppendDecodeALaw(dst, b) }
