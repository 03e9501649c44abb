package media

import (
	"math"
	"sync"

	"github.com/dialtone-voice/dialtone"
)

// Resampling is done by a small windowed-sinc polyphase filter written
// here. The library the ecosystem would reach for, github.com/zaf/resample,
// wraps libsoxr through cgo (and is not even fetchable from the module
// proxy), and this package must build with CGO_ENABLED=0. beep/v2 is pure
// Go, but its resampler interpolates (Lagrange polynomials) without a
// band-limiting filter, so content
// above 4 kHz in a 22 or 44 kHz source would alias into the telephone band;
// the telephone band needs only one good anti-aliasing filter, which is
// easier to own and test than to work around.

const (
	// cutoffRatio places the low-pass cutoff at 45% of the lower rate
	// (3.6 kHz for 8 kHz output): the telephone band is 300–3400 Hz, and
	// the transition band then ends before the output's Nyquist frequency.
	cutoffRatio = 0.45
	// zeroCrossings is how many zero crossings of the sinc the kernel
	// spans on each side; with the Kaiser window below this gives a
	// transition band of about 750 Hz and ~80 dB of stop-band rejection.
	zeroCrossings = 24
	kaiserBeta    = 8.0
	// maxPhases caps the polyphase table. Ratios whose reduced numerator is
	// larger (unusual rates) use the nearest of maxPhases sub-sample
	// positions, a timing error under 1/1000 of an input sample.
	maxPhases = 512
	// maxCachedFilters bounds the filter cache; a hostile upload could
	// otherwise create one filter per distinct sample rate.
	maxCachedFilters = 16
)

// polyphase is a windowed-sinc filter bank for one rate pair. Output sample
// n sits at input time n*down/up; its value is the dot product of the input
// around that time with the bank's row for the fractional part.
type polyphase struct {
	up, down int // the ratio out/in reduced: out/in == up/down
	phases   int
	taps     int // per phase; even
	coef     []float32
}

var filterCache struct {
	sync.Mutex
	m map[[2]int]*polyphase
}

func filterFor(in, out int) *polyphase {
	key := [2]int{in, out}
	filterCache.Lock()
	f := filterCache.m[key]
	filterCache.Unlock()
	if f != nil {
		return f
	}
	f = newPolyphase(in, out)
	filterCache.Lock()
	if filterCache.m == nil || len(filterCache.m) >= maxCachedFilters {
		filterCache.m = make(map[[2]int]*polyphase)
	}
	filterCache.m[key] = f
	filterCache.Unlock()
	return f
}

func newPolyphase(in, out int) *polyphase {
	g := gcd(in, out)
	f := &polyphase{up: out / g, down: in / g}
	f.phases = min(f.up, maxPhases)
	// fc is the cutoff as a fraction of the input Nyquist rate, so the
	// sinc's zero crossings fall every 1/fc input samples.
	fc := 2 * cutoffRatio * float64(min(in, out)) / float64(in)
	half := int(math.Ceil(zeroCrossings / fc))
	f.taps = 2 * half
	f.coef = make([]float32, f.phases*f.taps)
	i0b := besselI0(kaiserBeta)
	row := make([]float64, f.taps)
	for p := range f.phases {
		frac := float64(p) / float64(f.phases)
		sum := 0.0
		for j := range f.taps {
			// Tap j multiplies input sample floor(t)-half+1+j, which lies
			// tau input samples before the output instant t.
			tau := frac - float64(j-half+1)
			x := tau / float64(half)
			h := 0.0
			if x > -1 && x < 1 {
				h = fc * sinc(fc*tau) * besselI0(kaiserBeta*math.Sqrt(1-x*x)) / i0b
			}
			row[j] = h
			sum += h
		}
		// Normalising each row to unit DC gain keeps the phases matched,
		// so a constant input stays constant instead of rippling at the
		// phase rate.
		for j, h := range row {
			f.coef[p*f.taps+j] = float32(h / sum)
		}
	}
	return f
}

// outLen is the output length for n input samples: the duration rounded to
// the nearest output sample.
func (f *polyphase) outLen(n int) int {
	return int((int64(n)*int64(f.up)*2 + int64(f.down)) / (2 * int64(f.down)))
}

// run filters x, which must carry f.taps/2 zeros of padding on each side
// of the real samples (and one more at the end), into out.
func (f *polyphase) run(x []float32, out []int16) {
	up, down := int64(f.up), int64(f.down)
	for i := range out {
		pos := int64(i) * down
		idx := int(pos / up)
		rem := pos % up
		p := int(rem)
		if f.phases != f.up {
			p = int((rem*int64(f.phases) + up/2) / up)
			if p == f.phases {
				p, idx = 0, idx+1
			}
		}
		c := f.coef[p*f.taps : (p+1)*f.taps]
		// x is padded by half, so input sample idx-half+1 is x[idx+1].
		w := x[idx+1 : idx+1+f.taps]
		var s float32
		for j, cj := range c {
			s += cj * w[j]
		}
		out[i] = clip16(s)
	}
}

// Resample converts mono samples from one rate to another with a
// band-limiting filter (cutoff at 45% of the lower rate). The output keeps
// the duration, rounded to the nearest output sample.
func Resample(samples []int16, from, to int) []int16 {
	if from <= 0 || to <= 0 || len(samples) == 0 {
		return nil
	}
	if from == to {
		return append([]int16(nil), samples...)
	}
	f := filterFor(from, to)
	x := make([]float32, len(samples)+f.taps+1)
	for i, s := range samples {
		x[f.taps/2+i] = float32(s)
	}
	out := make([]int16, f.outLen(len(samples)))
	f.run(x, out)
	return out
}

// ToTelephony converts decoded audio to the telephone format: mono (the
// channels averaged), 8 kHz, 16-bit, clipped rather than wrapped where
// filtering overshoots full scale.
func ToTelephony(p *PCM) *dialtone.Audio {
	if p == nil || p.Channels <= 0 || p.Rate <= 0 || len(p.Samples) < p.Channels {
		return &dialtone.Audio{Samples: []int16{}}
	}
	n := p.Frames()
	if p.Channels == 1 && p.Rate == TelephonyRate {
		return &dialtone.Audio{Samples: append([]int16(nil), p.Samples[:n]...)}
	}
	var f *polyphase
	pad := 0
	if p.Rate != TelephonyRate {
		f = filterFor(p.Rate, TelephonyRate)
		pad = f.taps / 2
	}
	// Downmix into the padded filter input in one pass.
	x := make([]float32, n+2*pad+1)
	scale := 1 / float32(p.Channels)
	for i := range n {
		var s float32
		for c := range p.Channels {
			s += float32(p.Samples[i*p.Channels+c])
		}
		x[pad+i] = s * scale
	}
	if f == nil {
		out := make([]int16, n)
		for i := range out {
			out[i] = clip16(x[i])
		}
		return &dialtone.Audio{Samples: out}
	}
	out := make([]int16, f.outLen(n))
	f.run(x, out)
	return &dialtone.Audio{Samples: out}
}

// clip16 rounds to the nearest integer and saturates to int16.
func clip16(v float32) int16 {
	switch {
	case v >= math.MaxInt16:
		return math.MaxInt16
	case v <= math.MinInt16:
		return math.MinInt16
	case v >= 0:
		return int16(v + 0.5)
	default:
		return int16(v - 0.5)
	}
}

func sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	return math.Sin(math.Pi*x) / (math.Pi * x)
}

// besselI0 is the zeroth-order modified Bessel function of the first kind,
// by its power series (converges fast for the arguments a Kaiser window
// uses).
func besselI0(x float64) float64 {
	sum, term := 1.0, 1.0
	q := x * x / 4
	for k := 1; k < 100; k++ {
		term *= q / float64(k*k)
		sum += term
		if term < sum*1e-12 {
			break
		}
	}
	return sum
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
