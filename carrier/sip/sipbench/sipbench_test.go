package sipbench

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestSummarize(t *testing.T) {
	ms := int64(time.Millisecond)
	// Offsets are send time minus media time; only differences within a
	// stream matter, so each stream has its own arbitrary base.
	a := &sinkStream{offs: []int64{1000, 1000, 1000, 1000, 1000 + 6*ms, 1000, 1000, 1000, 1000 + 21*ms, 1000}}
	// The earliest-sent packet sets the phase, not the first one.
	b := &sinkStream{offs: []int64{50*ms + 5*ms + 1, 50 * ms, 50*ms + 3*ms}}
	// One packet at the edge of the window: counted as a stream, not
	// measured.
	c := &sinkStream{offs: []int64{999 * ms}}
	l := summarize([]*sinkStream{a, b, c})
	want := Lateness{Packets: 13, Streams: 3, Late: 3, Late20: 1, P99: 21 * time.Millisecond, Max: 21 * time.Millisecond}
	if l != want {
		t.Errorf("summarize = %+v, want %+v", l, want)
	}
	if got, want := l.LatePct(), 100*3/13.0; math.Abs(got-want) > 1e-9 {
		t.Errorf("LatePct = %v, want %v", got, want)
	}

	// The 99th percentile of 0, 1, …, 199 µs is the 198th value.
	d := &sinkStream{}
	for i := range 200 {
		d.offs = append(d.offs, int64(i)*int64(time.Microsecond))
	}
	l = summarize([]*sinkStream{d})
	if l.P99 != 197*time.Microsecond || l.Max != 199*time.Microsecond || l.Late != 0 || l.Packets != 200 {
		t.Errorf("summarize 0..199 µs = %+v, want p99 197µs, max 199µs, none late, 200 packets", l)
	}

	if l := summarize(nil); l != (Lateness{}) || l.LatePct() != 0 {
		t.Errorf("summarize(nil) = %+v, LatePct %v", l, l.LatePct())
	}
}

func TestLatenessLine(t *testing.T) {
	in := Lateness{Packets: 250000, Streams: 1000, Late: 850, Late20: 3, P99: 4321 * time.Microsecond, Max: 25 * time.Millisecond}
	out, err := parseLateness(in.line())
	if err != nil {
		t.Fatal(err)
	}
	if out != in {
		t.Errorf("round trip: %+v, want %+v", out, in)
	}
	if _, err := parseLateness("FAREND RESULT packets=x"); err == nil {
		t.Error("parsed a broken result line")
	}
}

// statCSV is the shape of SIPp 3.6's -trace_stat file, cut to the columns
// that matter plus neighbours: a header and one line per period, the last
// one cumulative.
const statCSV = `StartTime;LastResetTime;CurrentTime;ElapsedTime(P);TotalCallCreated;CurrentCall;SuccessfulCall(P);SuccessfulCall(C);FailedCall(P);FailedCall(C);FailedMaxUDPRetrans(C);
2026-11-25	03:54:59.739451	1795578899.739451;2026-11-25	03:54:59.739451	1795578899.739451;2026-11-25	03:55:00.740000	1795578900.740000;00:00:01;500;12;488;488;0;0;0;
2026-11-25	03:54:59.739451	1795578899.739451;2026-11-25	03:55:00.740000	1795578900.740000;2026-11-25	03:55:04.051495	1795578904.051495;00:00:03;2000;0;1505;1993;7;7;7;
`

func TestParseSippStat(t *testing.T) {
	ok, failed, err := parseSippStat([]byte(statCSV))
	if err != nil {
		t.Fatal(err)
	}
	if ok != 1993 || failed != 7 {
		t.Errorf("parseSippStat = %d ok, %d failed; want 1993, 7 (the last, cumulative line)", ok, failed)
	}
	for name, in := range map[string]string{
		"empty":          "",
		"header only":    strings.SplitN(statCSV, "\n", 2)[0],
		"no columns":     "A;B;C\n1;2;3\n",
		"short line":     "SuccessfulCall(C);FailedCall(C)\n5\n",
		"not a number":   "SuccessfulCall(C);FailedCall(C)\n5;x\n",
		"one of the two": "SuccessfulCall(C);Other\n5;1\n",
	} {
		if ok, failed, err := parseSippStat([]byte(in)); err == nil {
			t.Errorf("%s: parsed as %d ok, %d failed; want an error", name, ok, failed)
		}
	}
}

func TestTone(t *testing.T) {
	a := Tone(time.Second, 440)
	if len(a.Samples) != sampleRate || a.Duration() != time.Second {
		t.Fatalf("one second of tone has %d samples (%v)", len(a.Samples), a.Duration())
	}
	// 440 Hz: 880 sign changes a second, give or take the edges.
	crossings := 0
	for i := 1; i < len(a.Samples); i++ {
		if (a.Samples[i-1] < 0) != (a.Samples[i] < 0) {
			crossings++
		}
	}
	if crossings < 870 || crossings > 890 {
		t.Errorf("%d sign changes in 1 s, want about 880", crossings)
	}
}
