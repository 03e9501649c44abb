package media

import (
	"math"

	"github.com/dialtone-voice/dialtone"
)

// DefaultVolume is Alibaba's default and maximum Volume: audio unchanged.
const DefaultVolume = 100

// ApplyVolume scales a in place by Alibaba's Volume parameter, 0–100 with
// 100 leaving the audio unchanged; the scale is linear in amplitude
// (50 is −6 dB). Values above 100 are treated as 100.
//
// Volume 0 is taken as "not given" and leaves the audio unchanged: the call
// plan stores Volume with omitempty, so 0 is what an absent parameter looks
// like, and a silent call is a much worse outcome of that ambiguity than a
// loud one. A caller that really wants silence can play none.
//
// ApplyVolume changes a.Samples; do not apply it to audio shared with a
// cache (CachedSpeaker hands out copies for this reason).
func ApplyVolume(a *dialtone.Audio, volume int) {
	if a == nil || volume <= 0 || volume >= DefaultVolume {
		return
	}
	applyGain(a.Samples, float64(volume)/DefaultVolume)
}

// SmartVolumeStepDB is the gain of one step of SmartCall's TtsVolume.
const SmartVolumeStepDB = 2.0

// ApplySmartVolume scales a in place by SmartCall's volume level, −4…4 with
// 0 unchanged; each step is SmartVolumeStepDB (so −4 is −8 dB, half the
// amplitude, and +4 is +8 dB). Boosts saturate at full scale rather than
// wrap. Levels outside −4…4 are clamped.
func ApplySmartVolume(a *dialtone.Audio, level int) {
	level = max(-4, min(4, level))
	if a == nil || level == 0 {
		return
	}
	applyGain(a.Samples, math.Pow(10, float64(level)*SmartVolumeStepDB/20))
}

func applyGain(s []int16, gain float64) {
	g := float32(gain)
	for i, v := range s {
		s[i] = clip16(float32(v) * g)
	}
}
