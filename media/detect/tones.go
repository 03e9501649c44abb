package detect

import (
	"math"
	"time"
)

// ToneKind is what a call-progress tone means.
type ToneKind string

const (
	ToneDial       ToneKind = "dial"
	ToneRingback   ToneKind = "ringback"
	ToneBusy       ToneKind = "busy"
	ToneCongestion ToneKind = "congestion"
	// ToneSIT is a special information tone: the call cannot be completed
	// for a reason an announcement usually follows with (vacant number,
	// out of service, no circuit).
	ToneSIT ToneKind = "special_information"
	// ToneFaxCNG is the calling fax's tone, ToneFaxCED the answering fax's,
	// ToneFaxV21 the V.21 preamble a fax sends before its first T.30
	// frame; ToneModem is a data modem's answer tone.
	ToneFaxCNG ToneKind = "fax_cng"
	ToneFaxCED ToneKind = "fax_ced"
	ToneFaxV21 ToneKind = "fax_v21"
	ToneModem  ToneKind = "modem"
)

// Fax reports whether the tone comes from a fax machine or a data modem
// rather than from the network.
func (k ToneKind) Fax() bool {
	return k == ToneFaxCNG || k == ToneFaxCED || k == ToneFaxV21 || k == ToneModem
}

// Plans of the table, in Pattern.Plan.
const (
	PlanChina = "CN" // China (ITU-T E.180 Supplement 2, China's entry)
	// PlanEurope is the CEPT harmonised 425 Hz plan most European networks
	// use (ETSI TR 101 041; E.180 Supplement 2 per country).
	PlanEurope = "EU"
	// PlanNorthAmerica is the North American precise audible tone plan
	// (ITU-T E.300-series Supplement 3; ANSI T1.401).
	PlanNorthAmerica = "NA"
	PlanITU          = "ITU" // ITU-T E.180 recommended tones (SIT)
	PlanFax          = "T.30"
	PlanModem        = "modem"
)

// Segment is one step of a tone's cadence: Freqs sounding for Dur (no
// Freqs: silence). Two frequencies sound together, except with FSK.
type Segment struct {
	Freqs []float64
	Dur   time.Duration
	// Reversal is the interval of 180° phase reversals (V.25 ANS: 450 ms).
	Reversal time.Duration
	// FSK: Freqs are the mark and space of 300 bit/s frequency-shift
	// keying carrying HDLC flags (0x7E), as a fax's V.21 preamble.
	FSK bool
}

// Pattern is a tone the ToneDetector knows: its cadence, repeated, or a
// single segment sounding continuously.
type Pattern struct {
	Kind ToneKind
	Plan string
	Name string
	// Cadence repeats; a single segment is a continuous tone, recognised
	// once it has sounded for its Dur.
	Cadence []Segment
	// confirm is how many consecutive segments must be heard, the last
	// one at least for its minimum, starting with a tone.
	confirm int
	// elems are the cadence as classes and duration bounds.
	elems []element
	// continuous: Cadence is one segment, recognised after its Dur.
	continuous bool
}

type element struct {
	class    toneClass
	min, max time.Duration
	nominal  time.Duration
}

func on(d time.Duration, f ...float64) Segment { return Segment{Freqs: f, Dur: d} }
func off(d time.Duration) Segment              { return Segment{Dur: d} }

const ms = time.Millisecond

// patterns is the table of known tones.
//
// China: ITU-T E.180 Supplement 2 ("Various tones used in national
// networks"), entry for China: every tone at 450 Hz; dial tone continuous,
// ringing tone 1.0 s on 4.0 s off, busy tone 0.35 s on 0.35 s off,
// congestion tone 0.7 s on 0.7 s off, special information ("number
// unobtainable") tone 0.1 s on 0.1 s off three times then 0.4 s on 0.4 s
// off.
//
// Europe: the CEPT 425 Hz plan (ETSI TR 101 041-1; Recommendation T/CS
// 20-15), within E.180's recommended limits: dial continuous, ringing 1 s
// on 4 s off, busy 0.5/0.5, congestion 0.25/0.25.
//
// North America: the precise audible tone plan (E.300-series Supplement 3):
// dial 350+440 Hz continuous, audible ringing 440+480 Hz 2 s on 4 s off,
// busy 480+620 Hz 0.5/0.5, reorder (congestion) 480+620 Hz 0.25/0.25.
//
// Special information tone: ITU-T E.180 §7: 950, 1400 and 1800 Hz (±50 Hz)
// in that order, each 330 ms (±70 ms), then 1 s of silence; the North
// American variants (T1.401: 913.8/985.2, 1370.6/1428.5, 1776.7 Hz in
// segments of 274 or 380 ms) fall within the same bounds.
//
// Fax: ITU-T T.30 §5.2: CNG 1100 Hz (±38 Hz) 0.5 s on 3 s off from the
// calling fax; CED 2100 Hz (±15 Hz) for 2.6–4 s from the answering fax,
// then the V.21 channel 2 preamble (HDLC flags at 300 bit/s, mark 1650 Hz,
// space 1850 Hz). Modems: ITU-T V.25's answer tone is the same 2100 Hz with
// its phase reversed every 450 ms (V.8's ANSam too); a Bell 103/212 modem
// answers with 2225 Hz.
var patterns = []Pattern{
	{Kind: ToneDial, Plan: PlanChina, Name: "China dial tone (450 Hz continuous)",
		Cadence: []Segment{on(2000*ms, 450)}},
	{Kind: ToneRingback, Plan: PlanChina, Name: "China ringback tone (450 Hz 1 s on 4 s off)",
		Cadence: []Segment{on(1000*ms, 450), off(4000 * ms)}, confirm: 2},
	{Kind: ToneBusy, Plan: PlanChina, Name: "China busy tone (450 Hz 0.35 s on 0.35 s off)",
		Cadence: []Segment{on(350*ms, 450), off(350 * ms)}, confirm: 4},
	{Kind: ToneCongestion, Plan: PlanChina, Name: "China congestion tone (450 Hz 0.7 s on 0.7 s off)",
		Cadence: []Segment{on(700*ms, 450), off(700 * ms)}, confirm: 4},
	{Kind: ToneSIT, Plan: PlanChina, Name: "China special information tone (450 Hz 0.1/0.1 ×3, 0.4/0.4)",
		Cadence: []Segment{on(100*ms, 450), off(100 * ms), on(100*ms, 450), off(100 * ms),
			on(100*ms, 450), off(100 * ms), on(400*ms, 450), off(400 * ms)}, confirm: 8},

	{Kind: ToneDial, Plan: PlanEurope, Name: "European dial tone (425 Hz continuous)",
		Cadence: []Segment{on(2000*ms, 425)}},
	{Kind: ToneRingback, Plan: PlanEurope, Name: "European ringback tone (425 Hz 1 s on 4 s off)",
		Cadence: []Segment{on(1000*ms, 425), off(4000 * ms)}, confirm: 2},
	{Kind: ToneBusy, Plan: PlanEurope, Name: "European busy tone (425 Hz 0.5 s on 0.5 s off)",
		Cadence: []Segment{on(500*ms, 425), off(500 * ms)}, confirm: 4},
	{Kind: ToneCongestion, Plan: PlanEurope, Name: "European congestion tone (425 Hz 0.25 s on 0.25 s off)",
		Cadence: []Segment{on(250*ms, 425), off(250 * ms)}, confirm: 4},

	{Kind: ToneDial, Plan: PlanNorthAmerica, Name: "North American dial tone (350+440 Hz continuous)",
		Cadence: []Segment{on(1000*ms, 350, 440)}},
	{Kind: ToneRingback, Plan: PlanNorthAmerica, Name: "North American audible ringing (440+480 Hz 2 s on 4 s off)",
		Cadence: []Segment{on(2000*ms, 440, 480), off(4000 * ms)}, confirm: 2},
	{Kind: ToneBusy, Plan: PlanNorthAmerica, Name: "North American busy tone (480+620 Hz 0.5 s on 0.5 s off)",
		Cadence: []Segment{on(500*ms, 480, 620), off(500 * ms)}, confirm: 4},
	{Kind: ToneCongestion, Plan: PlanNorthAmerica, Name: "North American reorder tone (480+620 Hz 0.25 s on 0.25 s off)",
		Cadence: []Segment{on(250*ms, 480, 620), off(250 * ms)}, confirm: 4},

	{Kind: ToneSIT, Plan: PlanITU, Name: "special information tone (950, 1400, 1800 Hz)",
		Cadence: []Segment{on(330*ms, 950), on(330*ms, 1400), on(330*ms, 1800), off(1000 * ms)}, confirm: 3},

	{Kind: ToneFaxCNG, Plan: PlanFax, Name: "fax calling tone CNG (1100 Hz 0.5 s on 3 s off)",
		Cadence: []Segment{on(500*ms, 1100), off(3000 * ms)}, confirm: 3},
	{Kind: ToneFaxCED, Plan: PlanFax, Name: "fax answer tone CED (2100 Hz)",
		Cadence: []Segment{on(700*ms, 2100)}},
	{Kind: ToneFaxV21, Plan: PlanFax, Name: "fax V.21 preamble (HDLC flags, 1650/1850 Hz)",
		Cadence: []Segment{{Freqs: []float64{1650, 1850}, Dur: 500 * ms, FSK: true}}},
	{Kind: ToneModem, Plan: PlanModem, Name: "modem answer tone (V.25 ANS, 2100 Hz with phase reversals)",
		Cadence: []Segment{{Freqs: []float64{2100}, Dur: 700 * ms, Reversal: 450 * ms}}},
	{Kind: ToneModem, Plan: PlanModem, Name: "modem answer tone (Bell 103/212, 2225 Hz)",
		Cadence: []Segment{on(700*ms, 2225)}},
}

// Cadence tolerance: each segment may last its nominal length ±15%, and
// 40 ms more either way for the frame grid (20 ms), the 40 ms analysis
// window and the debouncing of the frame classes. E.180 itself allows far
// more (busy tone 0.1–0.6 s on, for one), but a network's tones keep to
// their nominal cadence closely, and the tighter bounds keep the plans
// apart.
const (
	cadenceTolerance = 0.15
	cadenceSlack     = 40 * ms
)

func init() {
	for i := range patterns {
		p := &patterns[i]
		p.continuous = len(p.Cadence) == 1
		if p.continuous {
			p.confirm = 1
		}
		for _, s := range p.Cadence {
			e := element{class: classOf(s), nominal: s.Dur}
			if p.continuous {
				e.min, e.max = s.Dur, time.Duration(math.MaxInt64)
			} else {
				slack := time.Duration(float64(s.Dur)*cadenceTolerance) + cadenceSlack
				e.min, e.max = s.Dur-slack, s.Dur+slack
			}
			p.elems = append(p.elems, e)
		}
	}
}

// Patterns returns the table of tones the ToneDetector recognises.
func Patterns() []Pattern {
	out := make([]Pattern, len(patterns))
	for i, p := range patterns {
		out[i] = p
		out[i].Cadence = append([]Segment(nil), p.Cadence...)
		out[i].elems = append([]element(nil), p.elems...)
	}
	return out
}

// FindPattern returns the pattern of kind and plan, if the table has one
// (the first, for the plan "modem" that has two).
func FindPattern(kind ToneKind, plan string) (Pattern, bool) {
	for _, p := range Patterns() {
		if p.Kind == kind && p.Plan == plan {
			return p, true
		}
	}
	return Pattern{}, false
}

// Synthesize renders d of the pattern from its start at 8 kHz, each
// frequency at dbfs (the level of one sinusoid: a full-scale sine is
// −3 dBFS). The simulated network and the tests play tones with it.
func (p Pattern) Synthesize(d time.Duration, dbfs float64) []int16 {
	n := int(d * Rate / time.Second)
	if n <= 0 || len(p.Cadence) == 0 {
		return nil
	}
	out := make([]int16, n)
	amp := math.Sqrt(2) * 32768 * math.Pow(10, dbfs/20)
	var cycle time.Duration
	for _, s := range p.Cadence {
		cycle += s.Dur
	}
	var phase [2]float64
	for i := range out {
		t := time.Duration(i) * time.Second / Rate
		s := p.Cadence[0]
		if !p.continuous && cycle > 0 {
			within := t % cycle
			for _, c := range p.Cadence {
				if within < c.Dur {
					s = c
					break
				}
				within -= c.Dur
			}
		}
		var v float64
		switch {
		case s.FSK && len(s.Freqs) == 2:
			// HDLC flags 0x7E (01111110) at 300 bit/s, LSB first: mark
			// (1) on Freqs[0], space (0) on Freqs[1]; the phase runs on
			// across bits (continuous-phase FSK, as a modem's oscillator).
			bit := int(t * 300 / time.Second)
			f := s.Freqs[1]
			if b := bit % 8; b != 0 && b != 7 {
				f = s.Freqs[0]
			}
			phase[0] += 2 * math.Pi * f / Rate
			v = math.Sin(phase[0])
		default:
			for k, f := range s.Freqs {
				if k >= len(phase) {
					break
				}
				phase[k] += 2 * math.Pi * f / Rate
				v += math.Sin(phase[k])
			}
			if s.Reversal > 0 && int(t/s.Reversal)%2 == 1 {
				v = -v
			}
		}
		out[i] = clip(v * amp)
	}
	return out
}

func clip(v float64) int16 {
	return int16(math.Round(min(max(v, -32768), 32767)))
}
