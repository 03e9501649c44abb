package progress

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/media"
	"github.com/dialtone-voice/dialtone/media/detect"
)

// feed writes pcm in 20 ms frames that arrive with up to ±jitter of
// arrival jitter, as RTP does, through µ-law.
func feed(r *Reader, pcm []int16, start time.Time, jitter time.Duration, rng *rand.Rand) {
	pcm = media.DecodeMuLaw(media.EncodeMuLaw(pcm))
	for i := 0; i+160 <= len(pcm); i += 160 {
		at := start.Add(time.Duration(i) * time.Second / 8000)
		if jitter > 0 {
			at = at.Add(time.Duration(rng.Int64N(int64(2*jitter))) - jitter)
		}
		r.Write(pcm[i:i+160], at)
	}
}

func pattern(t *testing.T, k detect.ToneKind, plan string) detect.Pattern {
	t.Helper()
	p, ok := detect.FindPattern(k, plan)
	if !ok {
		t.Fatalf("no %s tone in plan %s", k, plan)
	}
	return p
}

// TestSettle: each network tone in early media, arriving with jitter,
// settles an ambiguous failure as the tone means, names itself in the
// detail, and leaves a failure the signalling stated (or gave a cause
// for) alone; ringback settles nothing.
func TestSettle(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	cases := []struct {
		kind detect.ToneKind
		plan string
		want dialtone.FailReason // for an ambiguous no_answer
	}{
		{detect.ToneBusy, detect.PlanChina, dialtone.FailBusy},
		{detect.ToneBusy, detect.PlanEurope, dialtone.FailBusy},
		{detect.ToneBusy, detect.PlanNorthAmerica, dialtone.FailBusy},
		{detect.ToneCongestion, detect.PlanChina, dialtone.FailUnreachable},
		{detect.ToneSIT, detect.PlanITU, dialtone.FailUnreachable},
		{detect.ToneSIT, detect.PlanChina, dialtone.FailUnreachable},
		{detect.ToneRingback, detect.PlanChina, dialtone.FailNoAnswer},
	}
	rng := rand.New(rand.NewPCG(18, 2))
	for _, c := range cases {
		t.Run(string(c.kind)+"/"+c.plan, func(t *testing.T) {
			var heard []detect.Tone
			r := NewReader(func(tn detect.Tone) { heard = append(heard, tn) })
			feed(r, pattern(t, c.kind, c.plan).Synthesize(8*time.Second, -20), t0, 8*time.Millisecond, rng)
			if len(heard) == 0 || heard[0].Kind != c.kind {
				t.Fatalf("heard %v, want %s", heard, c.kind)
			}
			got, d := r.Settle(dialtone.FailNoAnswer, false, nil)
			if got != c.want || d[DetailTone] != string(c.kind) || d[DetailToneName] == "" {
				t.Errorf("no_answer settled as %s, detail %v; want %s", got, d, c.want)
			}
			if got, _ := r.Settle(dialtone.FailNoAnswer, true, nil); got != dialtone.FailNoAnswer {
				t.Errorf("a no_answer with a Q.850 cause became %s", got)
			}
			if got, _ := r.Settle(dialtone.FailInvalid, false, map[string]string{"sip_status": "404"}); got != dialtone.FailInvalid {
				t.Errorf("a 404 became %s", got)
			}
			_, decisive := r.Decisive()
			if _, means := Reason(c.kind); decisive != means {
				t.Errorf("decisive %v for %s", decisive, c.kind)
			}
		})
	}
}

// TestSettleNothingHeard: silence, speech-like noise and no reader at all
// change nothing and add no detail.
func TestSettleNothingHeard(t *testing.T) {
	var nilReader *Reader
	if got, d := nilReader.Settle(dialtone.FailNoAnswer, false, nil); got != dialtone.FailNoAnswer || d != nil {
		t.Errorf("nil reader: %s %v", got, d)
	}
	r := NewReader(nil)
	rng := rand.New(rand.NewPCG(1, 2))
	noise := make([]int16, 5*8000)
	for i := range noise {
		noise[i] = int16(rng.NormFloat64() * 800)
	}
	feed(r, make([]int16, 3*8000), time.Unix(0, 0), 0, rng)
	feed(r, noise, time.Unix(3, 0), 0, rng)
	if got, d := r.Settle(dialtone.FailNoAnswer, false, nil); got != dialtone.FailNoAnswer || len(d) != 0 {
		t.Errorf("silence and noise: %s %v", got, d)
	}
}

// TestGapsKeepCadence: a far end with silence suppression sends nothing
// during the busy tone's pauses; the reader places each burst at its
// arrival, so the cadence still holds.
func TestGapsKeepCadence(t *testing.T) {
	p := pattern(t, detect.ToneBusy, detect.PlanChina)
	tone := p.Synthesize(350*time.Millisecond, -20)
	r := NewReader(nil)
	t0 := time.Unix(100, 0)
	for i := range 6 {
		at := t0.Add(time.Duration(i) * 700 * time.Millisecond)
		for j := 0; j+160 <= len(tone); j += 160 {
			r.Write(tone[j:j+160], at.Add(time.Duration(j)*time.Second/8000))
		}
	}
	if got, _ := r.Settle(dialtone.FailNoAnswer, false, nil); got != dialtone.FailBusy {
		t.Errorf("busy tone with silence suppression settled as %s; tones %v", got, r.Tones())
	}
}
