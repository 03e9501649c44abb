package g711

import (
	"math"
	"testing"
)

func TestG711RoundTripError(t *testing.T) {
	// G.711 keeps 4 mantissa bits per segment, so the error is at most
	// half a step, and a step is 1/16 of its segment's lower edge: the
	// error is bounded by about |x|/32, offset at the bottom by µ-law's
	// bias of 132 and A-law's smallest step.
	laws := []struct {
		name  string
		enc   func([]int16) []byte
		dec   func([]byte) []int16
		bound func(x float64) float64
	}{
		{"µ-law", EncodeMuLaw, DecodeMuLaw, func(x float64) float64 {
			// Beyond 32635 µ-law clips (by design of the bias).
			return (x+132)/32 + math.Max(0, x-32635)
		}},
		{"A-law", EncodeALaw, DecodeALaw, func(x float64) float64 { return math.Max(8, x/32+8) }},
	}
	all := make([]int16, 65536)
	for i := range all {
		all[i] = int16(i - 32768)
	}
	for _, law := range laws {
		got := law.dec(law.enc(all))
		worst := 0.0
		for i, x := range all {
			e := math.Abs(float64(got[i]) - float64(x))
			bound := law.bound(math.Abs(float64(x)))
			if e > bound {
				t.Fatalf("%s: %d -> %d, error %v > %v", law.name, x, got[i], e, bound)
			}
			if math.Abs(float64(x)) >= 1024 {
				worst = math.Max(worst, e/math.Abs(float64(x)))
			}
		}
		t.Logf("%s: worst relative error above 1024: %.2f%%", law.name, 100*worst)
		// Every code decodes to a value that encodes back to itself.
		for c := range 256 {
			v := law.dec([]byte{byte(c)})
			back := law.enc(v)[0]
			if law.dec([]byte{back})[0] != v[0] {
				t.Errorf("%s: code %#02x -> %d -> %#02x", law.name, c, v[0], back)
			}
		}
	}
}

func TestG711KnownValues(t *testing.T) {
	// Reference points of G.711: silence and full scale.
	if got := EncodeMuLaw([]int16{0})[0]; got != 0xFF {
		t.Errorf("µ-law(0) = %#x, want 0xff", got)
	}
	if got := EncodeMuLaw([]int16{32767, -32768}); got[0] != 0x80 || got[1] != 0x00 {
		t.Errorf("µ-law full scale = %#x", got)
	}
	if got := EncodeALaw([]int16{0})[0]; got != 0xD5 {
		t.Errorf("A-law(0) = %#x, want 0xd5", got)
	}
	if got := EncodeALaw([]int16{32767, -32768}); got[0] != 0xAA || got[1] != 0x2A {
		t.Errorf("A-law full scale = %#x", got)
	}
	if got := DecodeMuLaw([]byte{0xFF, 0x7F}); got[0] != 0 || got[1] != 0 {
		t.Errorf("µ-law zero codes decode to %v", got)
	}
	if got := DecodeALaw([]byte{0xD5, 0x55}); got[0] != 8 || got[1] != -8 {
		t.Errorf("A-law smallest codes decode to %v", got)
	}
	buf := AppendMuLaw(make([]byte, 0, 4), []int16{0, 0})
	if len(buf) != 2 {
		t.Errorf("AppendMuLaw: %d bytes", len(buf))
	}
}

func BenchmarkMuLawEncodeFrame(b *testing.B) {
	frame := make([]int16, 160) // 20 ms of a 1 kHz tone
	for i := range frame {
		frame[i] = int16(10000 * math.Sin(2*math.Pi*1000*float64(i)/8000))
	}
	dst := make([]byte, 0, len(frame))
	AppendMuLaw(dst, frame)
	b.SetBytes(int64(2 * len(frame)))
	b.ResetTimer()
	for b.Loop() {
		dst = AppendMuLaw(dst[:0], frame)
	}
}
