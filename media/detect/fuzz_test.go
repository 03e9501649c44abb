package detect

import (
	"encoding/binary"
	"math"
	"slices"
	"testing"
	"time"
)

// encodeFuzz turns audio into a fuzz input of contiguous 20 ms frames.
func encodeFuzz(mode byte, audio []int16) []byte {
	out := []byte{mode}
	for i := 0; i < len(audio); i += FrameSamples {
		f := audio[i:min(i+FrameSamples, len(audio))]
		out = append(out, byte(len(f)/4))
		for _, v := range f[:len(f)/4*4] {
			out = binary.LittleEndian.AppendUint16(out, uint16(v))
		}
	}
	return out
}

// FuzzDetectors feeds the AMD, a ToneDetector and a BeepDetector the same
// arbitrary audio: pieces of any size (odd ones, empty ones), samples of
// any value, timestamps that run on, jump ahead, repeat or go back. None
// may panic, and what they report must make sense: verdicts in order, at
// most a MachineStart before the final one, nothing after it; tones and
// beeps with sane times, lengths and frequencies.
//
// The input's first byte picks the mode; then each piece is a header byte
// (its low 6 bits × 4 the number of samples, its top 2 bits what its
// timestamp does) and the samples, little-endian.
func FuzzDetectors(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{2, 40, 0xff, 0x7f, 0x00, 0x80})
	f.Add([]byte{1, 0x3f, 0, 0, 0, 0, 0x7f, 0xc0, 0x01})
	busy, _ := FindPattern(ToneBusy, PlanChina)
	f.Add(encodeFuzz(2, concat(busy.Synthesize(1500*ms, -10), sine(1000, 300*ms, -6), silence(200*ms))))
	square := make([]int16, 2*FrameSamples)
	for i := range square {
		square[i] = math.MinInt16
		if i%2 == 0 {
			square[i] = math.MaxInt16
		}
	}
	f.Add(encodeFuzz(0, square))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		modes := []Mode{ModeDetect, ModeHangup, ModeMessage}
		mode := modes[int(data[0])%len(modes)]
		data = data[1:]
		amd, err := NewAMD(Config{Mode: mode, InitialSilence: 700 * ms, TotalAnalysisTime: 2 * time.Second, MessageTimeout: 3 * time.Second}, t0)
		if err != nil {
			t.Fatal(err)
		}
		tones, _ := NewToneDetector(ToneConfig{})
		beeps, _ := NewBeepDetector(BeepConfig{})
		var results []Result
		var allTones []Tone
		var allBeeps []Beep
		at := t0
		for len(data) > 0 {
			h := data[0]
			data = data[1:]
			n := int(h&0x3f) * 4
			piece := make([]int16, 0, n)
			for len(piece) < n && len(data) >= 2 {
				piece = append(piece, int16(binary.LittleEndian.Uint16(data)))
				data = data[2:]
			}
			switch h >> 6 {
			case 1: // a jump ahead
				at = at.Add(time.Duration(n+1) * 7 * time.Millisecond)
			case 2: // back in time
				at = at.Add(-time.Duration(n+1) * 13 * time.Millisecond)
			case 3: // the same timestamp again
			}
			results = append(results, amd.Write(piece, at)...)
			allTones = append(allTones, tones.Write(piece, at)...)
			allBeeps = append(allBeeps, beeps.Write(piece, at)...)
			if h>>6 != 3 {
				at = at.Add(sampleDur(len(piece)))
			}
		}
		results = append(results, amd.Close(at)...)

		if !amd.Done() || len(results) == 0 || len(results) > 2 {
			t.Fatalf("done %v, results %v", amd.Done(), results)
		}
		valid := []AnsweredBy{Human, MachineStart, MachineEndBeep, MachineEndSilence, Fax, Unknown}
		for i, r := range results {
			if !slices.Contains(valid, r.AnsweredBy) || r.Final != (i == len(results)-1) || r.After < 0 || !r.At.Equal(t0.Add(r.After)) {
				t.Fatalf("result %d: %+v", i, r)
			}
			if i == 0 && len(results) == 2 && (r.AnsweredBy != MachineStart || mode != ModeMessage) {
				t.Fatalf("a non-final %s in mode %s", r.AnsweredBy, mode)
			}
			if i > 0 && r.At.Before(results[i-1].At) {
				t.Fatalf("results out of order: %v", results)
			}
			if r.Greeting < 0 || r.Segments < 0 {
				t.Fatalf("greeting %v, %d segments", r.Greeting, r.Segments)
			}
		}
		if got := amd.Results(); len(got) != len(results) {
			t.Fatalf("Results() %d, returned %d", len(got), len(results))
		}
		for i, tn := range allTones {
			if tn.Took() < 0 || tn.Kind == "" || tn.Name == "" || (i > 0 && tn.At.Before(allTones[i-1].At)) {
				t.Fatalf("tone %+v", tn)
			}
		}
		cfg := BeepConfig{}.withDefaults()
		for _, b := range allBeeps {
			if b.Duration() < cfg.MinDur || b.Duration() > cfg.MaxDur || b.At.Before(b.End) ||
				b.Freq < cfg.MinFreq-beepEdge || b.Freq > cfg.MaxFreq+beepEdge || math.IsNaN(b.Freq) {
				t.Fatalf("beep %+v", b)
			}
		}
	})
}

// The framer keeps time running forward whatever the timestamps do.
func TestFramerTimes(t *testing.T) {
	var fr framer
	var times []time.Time
	rec := func(f []int16, at time.Time) {
		if len(f) != FrameSamples {
			t.Fatalf("frame of %d", len(f))
		}
		times = append(times, at)
	}
	fr.write(make([]int16, 100), t0, rec)
	fr.write(make([]int16, 100), t0.Add(sampleDur(100)), rec) // completes frame 1 at t0
	fr.write(make([]int16, 120), t0.Add(-time.Hour), rec)     // back in time: continues
	fr.write(make([]int16, 50), t0.Add(time.Second), rec)     // a gap: drops the 40 waiting
	fr.write(make([]int16, 110), t0.Add(time.Second+sampleDur(50)), rec)
	fr.write(nil, t0.Add(5*time.Second), rec)
	want := []time.Time{t0, t0.Add(FrameDuration), t0.Add(time.Second)}
	if !slices.EqualFunc(times, want, time.Time.Equal) {
		t.Errorf("frame times %v, want %v", times, want)
	}
}
