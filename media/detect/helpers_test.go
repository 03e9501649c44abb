package detect

import (
	"context"
	"math"
	"math/rand/v2"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone/media"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func samples(d time.Duration) int { return int(d * Rate / time.Second) }

func silence(d time.Duration) []int16 { return make([]int16, samples(d)) }

// sine is a tone of freq Hz at dbfs (a full-scale sine is −3 dBFS).
func sine(freq float64, d time.Duration, dbfs float64) []int16 {
	out := make([]int16, samples(d))
	a := math.Sqrt2 * 32768 * math.Pow(10, dbfs/20)
	for i := range out {
		out[i] = clip(a * math.Sin(2*math.Pi*freq*float64(i)/Rate))
	}
	return out
}

// noise is white noise with an RMS of dbfs (−∞ for none).
func noise(d time.Duration, dbfs float64, seed uint64) []int16 {
	rng := rand.New(rand.NewPCG(seed, 11))
	a := math.Pow(10, dbfs/20) * 32768
	out := make([]int16, samples(d))
	for i := range out {
		out[i] = clip(rng.NormFloat64() * a)
	}
	return out
}

func mix(a, b []int16) []int16 {
	out := append([]int16(nil), a...)
	for i := range min(len(a), len(b)) {
		out[i] = clip(float64(a[i]) + float64(b[i]))
	}
	return out
}

func concat(parts ...[]int16) []int16 {
	var out []int16
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// scaleTo scales speech so that its voiced RMS is dbfs.
func scaleTo(s []int16, dbfs float64) []int16 {
	var sum float64
	var n int
	for _, v := range s {
		if v > 300 || v < -300 {
			sum += float64(v) * float64(v)
			n++
		}
	}
	out := make([]int16, len(s))
	if n == 0 {
		return out
	}
	g := math.Pow(10, dbfs/20) * 32768 / math.Sqrt(sum/float64(n))
	for i, v := range s {
		out[i] = clip(float64(v) * g)
	}
	return out
}

func alaw(s []int16) []int16  { return media.DecodeALaw(media.EncodeALaw(s)) }
func mulaw(s []int16) []int16 { return media.DecodeMuLaw(media.EncodeMuLaw(s)) }

func needESpeak(tb testing.TB) {
	tb.Helper()
	if _, err := exec.LookPath("espeak-ng"); err != nil {
		tb.Skip("espeak-ng not installed (scripts/install-deps.sh installs it): the speech cases need it")
	}
}

var (
	speakMu    sync.Mutex
	speakCache = map[[2]string][]int16{}
)

// speak synthesises text with an espeak-ng voice at 8 kHz, cached for the
// test binary's run.
func speak(tb testing.TB, text, voice string) []int16 {
	tb.Helper()
	needESpeak(tb)
	speakMu.Lock()
	defer speakMu.Unlock()
	key := [2]string{text, voice}
	if s, ok := speakCache[key]; ok {
		return s
	}
	var e media.ESpeak
	a, err := e.Speak(context.Background(), text, voice, 0, 0)
	if err != nil {
		tb.Fatal(err)
	}
	speakCache[key] = a.Samples
	return a.Samples
}

// feedTones runs a ToneDetector over audio in 20 ms frames.
func feedTones(tb testing.TB, cfg ToneConfig, audio []int16) []Tone {
	tb.Helper()
	d, err := NewToneDetector(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	var out []Tone
	for i := 0; i < len(audio); i += FrameSamples {
		f := audio[i:min(i+FrameSamples, len(audio))]
		out = append(out, d.Write(f, t0.Add(sampleDur(i)))...)
	}
	return out
}
