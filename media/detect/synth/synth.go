// Package synth builds the sounds a call's answer is made of, at 8 kHz:
// silence, a machine's beep, line noise, fax tones, speech set to a level
// and trimmed of the silence around it. The corpus of the detector's
// benchmark (package corpus) and the simulated network's voicemail, fax
// and people (package carrier/sim) are made with them; call-progress
// tones come from detect.Pattern.Synthesize.
package synth

import (
	"math"
	"math/rand/v2"
	"time"

	"github.com/dialtone-voice/dialtone/media/detect"
)

// Rate is the sample rate of everything here.
const Rate = detect.Rate

// Dur is how long n samples last.
func Dur(n int) time.Duration { return time.Duration(n) * time.Second / Rate }

// Samples is how many samples d lasts (rounded down).
func Samples(d time.Duration) int { return int(d * Rate / time.Second) }

// Silence is d of silence.
func Silence(d time.Duration) []int16 { return make([]int16, max(Samples(d), 0)) }

// Concat joins parts into a new slice.
func Concat(parts ...[]int16) []int16 {
	var n int
	for _, p := range parts {
		n += len(p)
	}
	out := make([]int16, 0, n)
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// Beep is a machine's beep: a sine of f Hz lasting d at dbfs (the level of
// the sine: a full-scale sine is −3 dBFS), with 5 ms ramps at either end,
// as a machine's oscillator starts and stops.
func Beep(f float64, d time.Duration, dbfs float64) []int16 {
	n := Samples(d)
	out := make([]int16, max(n, 0))
	a := math.Sqrt2 * 32768 * math.Pow(10, dbfs/20)
	ramp := Samples(5 * time.Millisecond)
	for i := range out {
		g := 1.0
		if i < ramp {
			g = float64(i) / float64(ramp)
		} else if n-1-i < ramp {
			g = float64(n-1-i) / float64(ramp)
		}
		out[i] = Clip(a * g * math.Sin(2*math.Pi*f*float64(i)/Rate))
	}
	return out
}

// Noise is d of white Gaussian noise at dbfs RMS.
func Noise(rng *rand.Rand, d time.Duration, dbfs float64) []int16 {
	a := math.Pow(10, dbfs/20) * 32768
	out := make([]int16, max(Samples(d), 0))
	for i := range out {
		out[i] = Clip(rng.NormFloat64() * a)
	}
	return out
}

// Mix adds b to a (as long as a), in a new slice.
func Mix(a, b []int16) []int16 {
	out := append([]int16(nil), a...)
	for i := range min(len(a), len(b)) {
		out[i] = Clip(float64(a[i]) + float64(b[i]))
	}
	return out
}

// Scale sets the RMS of the voiced part of s (samples above 1% of full
// scale) to dbfs, in a new slice; silence stays silence.
func Scale(s []int16, dbfs float64) []int16 {
	var sum float64
	var n int
	for _, v := range s {
		if v > 328 || v < -328 {
			sum += float64(v) * float64(v)
			n++
		}
	}
	out := make([]int16, len(s))
	if n == 0 {
		return out
	}
	gain := math.Pow(10, dbfs/20) * 32768 / math.Sqrt(sum/float64(n))
	for i, v := range s {
		out[i] = Clip(float64(v) * gain)
	}
	return out
}

// Trim cuts the silence around speech (what is quieter than a fortieth of
// its peak), keeping 20 ms either side; nil when it is all silence.
func Trim(s []int16) []int16 {
	var peak int
	for _, v := range s {
		peak = max(peak, abs(int(v)))
	}
	thr := max(peak/40, 1)
	first, last := -1, -1
	for i, v := range s {
		if abs(int(v)) > thr {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	if first < 0 {
		return nil
	}
	m := Samples(20 * time.Millisecond)
	return append([]int16(nil), s[max(first-m, 0):min(last+m+1, len(s))]...)
}

// Fax is an answering fax machine (ITU-T T.30): its CED answer tone for
// ced, 75 ms of silence, then the V.21 preamble (HDLC flags) for v21, at
// dbfs.
func Fax(ced, v21 time.Duration, dbfs float64) []int16 {
	cedP, _ := detect.FindPattern(detect.ToneFaxCED, detect.PlanFax)
	v21P, _ := detect.FindPattern(detect.ToneFaxV21, detect.PlanFax)
	return Concat(cedP.Synthesize(ced, dbfs), Silence(75*time.Millisecond), v21P.Synthesize(v21, dbfs))
}

// Clip rounds v to the nearest sample value, clipped to 16 bits.
func Clip(v float64) int16 { return int16(math.Round(min(max(v, -32768), 32767))) }

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}
