package vms

import (
	"fmt"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone"
)

func TestCallDetailDates(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	f := dialtone.FormatTime
	for _, tc := range []struct {
		name       string
		c          dialtone.Call
		start, end string
	}{
		{"answered", dialtone.Call{Kind: dialtone.KindTTS, A: dialtone.LegTimes{Ring: at(1), Start: at(2), End: at(9)}}, f(at(2)), f(at(9))},
		{"busy", dialtone.Call{Kind: dialtone.KindTTS, A: dialtone.LegTimes{End: at(1)}}, "", ""},
		{"no answer", dialtone.Call{Kind: dialtone.KindIVR, A: dialtone.LegTimes{Ring: at(1), End: at(30)}}, "", ""},
		{"two legs, talked", dialtone.Call{Kind: dialtone.KindClickToDial, A: dialtone.LegTimes{Ring: at(1), Start: at(2), End: at(20)},
			B: dialtone.LegTimes{Ring: at(3), Start: at(5), End: at(20)}}, f(at(5)), f(at(20))},
		{"two legs, callee never answered", dialtone.Call{Kind: dialtone.KindClickToDial, A: dialtone.LegTimes{Ring: at(1), Start: at(2), End: at(9)},
			B: dialtone.LegTimes{Ring: at(3), End: at(9)}}, "", ""},
	} {
		d := CallDetail(&tc.c)
		if d["startDate"] != tc.start || d["endDate"] != tc.end {
			t.Errorf("%s: startDate %q endDate %q; want %q %q", tc.name, d["startDate"], d["endDate"], tc.start, tc.end)
		}
		if tc.c.Kind == dialtone.KindClickToDial && (d["aEndTime"] != f(tc.c.A.End) || d["bEndTime"] != f(tc.c.B.End)) {
			t.Errorf("%s: aEndTime %q bEndTime %q; want the legs' ends", tc.name, d["aEndTime"], d["bEndTime"])
		}
	}
}

// AddStream reports the agent stream of the ended event (or the last
// stream event while the call is live) in camelCase, numbers as numbers.
func TestAddStream(t *testing.T) {
	d := map[string]any{}
	AddStream(d, []dialtone.CallEvent{{Type: "answered"}})
	if len(d) != 0 {
		t.Fatalf("a call without streams: %v", d)
	}
	fork := map[string]string{dialtone.DetailStreamRole: "fork", dialtone.DetailStreamEnd: "stopped", dialtone.DetailStreamFramesOut: "9"}
	agent := map[string]string{dialtone.DetailStreamRole: "agent", dialtone.DetailStreamSID: "MZ1", dialtone.DetailStreamDurationMS: "4702",
		dialtone.DetailStreamFramesOut: "231", dialtone.DetailStreamFramesIn: "50", dialtone.DetailStreamDrops: "0",
		dialtone.DetailStreamEnd: "hangup", dialtone.DetailStreamEndDetail: "order confirmed"}
	AddStream(d, []dialtone.CallEvent{{Type: "stream", Detail: fork}})
	if d["streamRole"] != "fork" || d["streamFramesSent"] != int64(9) {
		t.Fatalf("live call: %v", d)
	}
	d = map[string]any{}
	AddStream(d, []dialtone.CallEvent{{Type: "stream", Detail: fork}, {Type: "stream", Detail: agent}, {Type: "ended", Detail: agent}})
	want := map[string]any{"streamRole": "agent", "streamSid": "MZ1", "streamDurationMs": int64(4702), "streamFramesSent": int64(231),
		"streamFramesReceived": int64(50), "streamDrops": int64(0), "streamEnd": "hangup", "streamEndDetail": "order confirmed"}
	if fmt.Sprint(d) != fmt.Sprint(want) {
		t.Fatalf("detail %v, want %v", d, want)
	}
}
