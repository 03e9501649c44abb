// Package g711 is G.711 µ-law and A-law, the telephone codecs of RTP and
// media streams. It imports nothing of Dialtone's, so the SDK's stream
// handler shares it with the media path.
package g711

import "sync"

// G.711 µ-law and A-law, written here rather than taken from
// github.com/zaf/g711: the algorithm is a few lines of bit arithmetic from
// the ITU recommendation, and owning it lets the encoder be a single lookup
// in a 64 KiB table per law, built once, which is what the SIP carrier's
// per-packet send path wants (see BenchmarkMuLawEncodeFrame).

const (
	muLawBias = 0x84  // 132: offsets the segment boundaries to powers of two
	muLawClip = 32635 // largest magnitude that survives adding the bias
)

// muLawEncodeSample is the reference µ-law compressor (ITU-T G.711).
func muLawEncodeSample(s int16) byte {
	v := int(s)
	var sign byte
	if v < 0 {
		sign = 0x80
		v = -v
	}
	v = min(v, muLawClip) + muLawBias
	// The exponent is the position of the highest set bit above bit 7.
	exp := 7
	for mask := 0x4000; v&mask == 0 && exp > 0; mask >>= 1 {
		exp--
	}
	mant := (v >> (exp + 3)) & 0x0F
	return ^(sign | byte(exp<<4) | byte(mant))
}

func muLawDecodeSample(u byte) int16 {
	u = ^u
	exp := int(u>>4) & 0x07
	v := ((int(u&0x0F) << 3) + muLawBias) << exp
	v -= muLawBias
	if u&0x80 != 0 {
		return int16(-v)
	}
	return int16(v)
}

// aLawEncodeSample is the reference A-law compressor (ITU-T G.711) on the
// top 13 bits of the sample.
func aLawEncodeSample(s int16) byte {
	v := int(s) >> 3
	mask := byte(0xD5) // sign bit set for positive values, even bits toggled
	if v < 0 {
		mask = 0x55
		v = -v - 1
	}
	seg := 0
	for lim := 0x1F; v > lim && seg < 8; lim = lim<<1 | 1 {
		seg++
	}
	if seg >= 8 {
		return 0x7F ^ mask
	}
	a := byte(seg << 4)
	if seg < 2 {
		a |= byte(v>>1) & 0x0F
	} else {
		a |= byte(v>>seg) & 0x0F
	}
	return a ^ mask
}

func aLawDecodeSample(a byte) int16 {
	a ^= 0x55
	t := int(a&0x0F) << 4
	switch seg := int(a&0x70) >> 4; seg {
	case 0:
		t += 8
	case 1:
		t += 0x108
	default:
		t += 0x108
		t <<= seg - 1
	}
	if a&0x80 != 0 {
		return int16(t)
	}
	return int16(-t)
}

type g711Tables struct {
	muEnc, aEnc [65536]byte
	muDec, aDec [256]int16
}

// tables are built on first use: 129 KiB that programs never doing G.711
// need not pay for.
var tables = sync.OnceValue(func() *g711Tables {
	t := new(g711Tables)
	for i := range 65536 {
		s := int16(uint16(i))
		t.muEnc[i] = muLawEncodeSample(s)
		t.aEnc[i] = aLawEncodeSample(s)
	}
	for i := range 256 {
		t.muDec[i] = muLawDecodeSample(byte(i))
		t.aDec[i] = aLawDecodeSample(byte(i))
	}
	return t
})

// EncodeMuLaw compresses samples to G.711 µ-law, one byte per sample.
func EncodeMuLaw(samples []int16) []byte {
	return AppendMuLaw(make([]byte, 0, len(samples)), samples)
}

// AppendMuLaw appends the µ-law encoding of samples to dst, for a send
// loop that reuses its packet buffer.
func AppendMuLaw(dst []byte, samples []int16) []byte {
	enc := &tables().muEnc
	for _, s := range samples {
		dst = append(dst, enc[uint16(s)])
	}
	return dst
}

// DecodeMuLaw expands G.711 µ-law bytes to samples.
func DecodeMuLaw(b []byte) []int16 {
	dec := &tables().muDec
	out := make([]int16, len(b))
	for i, c := range b {
		out[i] = dec[c]
	}
	return out
}

// EncodeALaw compresses samples to G.711 A-law, one byte per sample.
func EncodeALaw(samples []int16) []byte {
	return AppendALaw(make([]byte, 0, len(samples)), samples)
}

// AppendALaw appends the A-law encoding of samples to dst.
func AppendALaw(dst []byte, samples []int16) []byte {
	enc := &tables().aEnc
	for _, s := range samples {
		dst = append(dst, enc[uint16(s)])
	}
	return dst
}

// AppendDecodeMuLaw appends the samples of G.711 µ-law bytes to dst, for
// a caller that reuses its buffer.
func AppendDecodeMuLaw(dst []int16, b []byte) []int16 {
	dec := &tables().muDec
	for _, c := range b {
		dst = append(dst, dec[c])
	}
	return dst
}

// AppendDecodeALaw appends the samples of G.711 A-law bytes to dst.
func AppendDecodeALaw(dst []int16, b []byte) []int16 {
	dec := &tables().aDec
	for _, c := range b {
		dst = append(dst, dec[c])
	}
	return dst
}

// DecodeALaw expands G.711 A-law bytes to samples.
func DecodeALaw(b []byte) []int16 {
	dec := &tables().aDec
	out := make([]int16, len(b))
	for i, c := range b {
		out[i] = dec[c]
	}
	return out
}
