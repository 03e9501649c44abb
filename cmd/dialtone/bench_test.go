package main

import (
	"io"
	"strings"
	"testing"
)

func TestParseBenchFlagsSIP(t *testing.T) {
	for _, tc := range []struct {
		args      string
		sippFound bool
		sip       bool
		rate      int
		calls     int
		conc      int
	}{
		// On by default only when SIPp is there to compare against.
		{"", true, true, 500, 2000, 1000},
		{"", false, false, 500, 2000, 1000},
		{"--no-sip", true, false, 500, 2000, 1000},
		{"--sip", false, true, 500, 2000, 1000},
		{"--sip=false", true, false, 500, 2000, 1000},
		{"--sip-rate 1000 --sip-calls 4000 --sip-concurrent 200", true, true, 1000, 4000, 200},
	} {
		o, err := parseBenchFlags(strings.Fields(tc.args), io.Discard, tc.sippFound)
		if err != nil {
			t.Errorf("%q (sipp found %v): %v", tc.args, tc.sippFound, err)
			continue
		}
		if o.sip != tc.sip || o.sipRate != tc.rate || o.sipCalls != tc.calls || o.sipConcurrent != tc.conc {
			t.Errorf("%q (sipp found %v): sip %v rate %d calls %d concurrent %d; want %v %d %d %d", tc.args, tc.sippFound,
				o.sip, o.sipRate, o.sipCalls, o.sipConcurrent, tc.sip, tc.rate, tc.calls, tc.conc)
		}
	}
	for _, args := range []string{
		"--sip --no-sip",
		"--sip-rate 0",
		"--sip-rate 5001",
		"--sip-concurrent 0",
		"--sip-concurrent 5001",
		"--sip-calls 0",
		"--sip-calls 20001",
		"--sip-rate 10 --sip-calls 300", // 30 s of calls: past the callers' time-outs
		"--sip-rate x",
	} {
		if _, err := parseBenchFlags(strings.Fields(args), io.Discard, true); err == nil {
			t.Errorf("%q accepted", args)
		}
	}
}

// The existing flags still parse as before.
func TestParseBenchFlagsDefaults(t *testing.T) {
	o, err := parseBenchFlags([]string{"--calls", "200", "--no-postgres"}, io.Discard, false)
	if err != nil {
		t.Fatal(err)
	}
	if o.calls != 200 || !o.noPG || o.receipts != 3200 || o.dur.String() != "3s" {
		t.Errorf("got %+v", o)
	}
	if _, err := parseBenchFlags([]string{"extra"}, io.Discard, false); err != errUsage {
		t.Errorf("a stray argument: %v, want errUsage", err)
	}
}

// TestCallsEndedNormally: a calls row is refused when more than 1% of its
// calls ended other than answered and played (a prompt that cannot play
// ends a call early and would flatter the rate), and says which statuses.
func TestCallsEndedNormally(t *testing.T) {
	if err := callsEndedNormally(map[string]int{benchCallStatus: 2000}); err != nil {
		t.Errorf("all normal: %v", err)
	}
	if err := callsEndedNormally(map[string]int{benchCallStatus: 1980, "200003": 20}); err != nil {
		t.Errorf("1%% no answer under scaled time: %v", err)
	}
	err := callsEndedNormally(map[string]int{benchCallStatus: 1979, "200003": 1, "200006": 20})
	if err == nil {
		t.Fatal("21 of 2000 calls ended otherwise, accepted")
	}
	for _, want := range []string{"21 of 2000", `1 with status "200003"`, `20 with status "200006"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %s", err, want)
		}
	}
	if err := callsEndedNormally(map[string]int{"200006": 300}); err == nil {
		t.Error("every call failed its prompt, accepted")
	}
}
