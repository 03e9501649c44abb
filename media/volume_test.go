package media

import (
	"math"
	"testing"

	"github.com/dialtone-voice/dialtone"
)

func TestApplyVolume(t *testing.T) {
	mk := func() *dialtone.Audio { return &dialtone.Audio{Samples: []int16{1000, -1000, 32767, -32768}} }
	for _, tt := range []struct {
		volume int
		want   []int16
	}{
		{100, []int16{1000, -1000, 32767, -32768}},
		{0, []int16{1000, -1000, 32767, -32768}}, // not given
		{150, []int16{1000, -1000, 32767, -32768}},
		{50, []int16{500, -500, 16384, -16384}},
		{1, []int16{10, -10, 328, -328}},
	} {
		a := mk()
		ApplyVolume(a, tt.volume)
		if !equal16(a.Samples, tt.want) {
			t.Errorf("volume %d: %v, want %v", tt.volume, a.Samples, tt.want)
		}
	}
	ApplyVolume(nil, 50) // no panic
}

func TestApplySmartVolume(t *testing.T) {
	a := &dialtone.Audio{Samples: []int16{10000, -10000, 30000}}
	ApplySmartVolume(a, 0)
	if a.Samples[0] != 10000 {
		t.Errorf("level 0 changed audio: %v", a.Samples)
	}
	ApplySmartVolume(a, -4)
	if want := 10000 * math.Pow(10, -8.0/20); math.Abs(float64(a.Samples[0])-want) > 1 {
		t.Errorf("level -4: %d, want %.0f", a.Samples[0], want)
	}
	a = &dialtone.Audio{Samples: []int16{10000, -10000, 30000, -30000}}
	ApplySmartVolume(a, 9) // clamped to 4, saturates
	if a.Samples[2] != math.MaxInt16 || a.Samples[3] != math.MinInt16 || a.Samples[0] <= 10000 {
		t.Errorf("level 4: %v", a.Samples)
	}
}

func TestESpeakMappings(t *testing.T) {
	for _, tt := range []struct{ speed, wpm int }{
		{0, 175}, {-500, 88}, {500, 350}, {-125, 140}, {166, 210}, {-9999, 88}, {9999, 350},
	} {
		if got := ESpeakRate(tt.speed); got != tt.wpm {
			t.Errorf("ESpeakRate(%d) = %d, want %d", tt.speed, got, tt.wpm)
		}
	}
	for _, tt := range []struct{ vol, amp int }{{0, 100}, {100, 100}, {50, 50}, {101, 100}, {-3, 100}} {
		if got := ESpeakAmplitude(tt.vol); got != tt.amp {
			t.Errorf("ESpeakAmplitude(%d) = %d, want %d", tt.vol, got, tt.amp)
		}
	}
}
