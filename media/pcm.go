package media

import (
	"errors"
	"time"
)

// Limits against hostile or accidental input. Uploaded voice files are
// short prompts; anything near these limits is a mistake or an attack, and
// the limits bound how much memory a single request can make us allocate.
const (
	// MaxInputBytes bounds the encoded size of a file we decode.
	MaxInputBytes = 50 << 20
	// MaxDuration bounds the length of decoded audio.
	MaxDuration = 10 * time.Minute
	// MinSampleRate and MaxSampleRate bound the header's sample rate; a
	// rate outside them is garbage, not audio.
	MinSampleRate = 4000
	MaxSampleRate = 192000
)

// TelephonyRate is the sample rate of dialtone.Audio.
const TelephonyRate = 8000

// ErrTooLong reports audio longer than MaxDuration or input larger than
// MaxInputBytes.
var ErrTooLong = errors.New("audio too long")

// PCM is decoded audio before conversion: interleaved 16-bit samples at the
// source's rate and channel count.
type PCM struct {
	Rate     int
	Channels int
	// Samples are interleaved (L R L R ... for stereo).
	Samples []int16
}

// Frames is the number of sample frames (samples per channel).
func (p *PCM) Frames() int {
	if p.Channels <= 0 {
		return 0
	}
	return len(p.Samples) / p.Channels
}

// Duration is how long the audio plays.
func (p *PCM) Duration() time.Duration {
	if p.Rate <= 0 {
		return 0
	}
	return time.Duration(p.Frames()) * time.Second / time.Duration(p.Rate)
}

// maxDuration is MaxDuration, lowered by tests that would otherwise have to
// decode ten minutes of audio.
var maxDuration = MaxDuration

// maxFrames is the most sample frames maxDuration allows at rate.
func maxFrames(rate int) int {
	return int(int64(maxDuration) * int64(rate) / int64(time.Second))
}
