package sdk

// G.711 µ-law, the audio of media streams: 8000 Hz, one byte a sample.

const (
	muLawBias = 0x84
	muLawClip = 32635
)

// EncodeMuLaw compresses 16-bit PCM samples to G.711 µ-law.
func EncodeMuLaw(pcm []int16) []byte {
	out := make([]byte, len(pcm))
	for i, s := range pcm {
		out[i] = muLawByte(s)
	}
	return out
}

// DecodeMuLaw expands G.711 µ-law to 16-bit PCM samples.
func DecodeMuLaw(b []byte) []int16 {
	out := make([]int16, len(b))
	for i, u := range b {
		out[i] = muLawSample(u)
	}
	return out
}

func muLawByte(s int16) byte {
	v := int(s)
	var sign byte
	if v < 0 {
		sign = 0x80
		v = -v
	}
	v = min(v, muLawClip) + muLawBias
	exp := 7
	for mask := 0x4000; v&mask == 0 && exp > 0; mask >>= 1 {
		exp--
	}
	return ^(sign | byte(exp<<4) | byte((v>>(exp+3))&0x0F))
}

func muLawSample(u byte) int16 {
	u = ^u
	exp := int(u>>4) & 0x07
	v := ((int(u&0x0F)<<3)+muLawBias)<<exp - muLawBias
	if u&0x80 != 0 {
		return int16(-v)
	}
	return int16(v)
}
