package receipt

import (
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone"
)

// TestVoiceReportAnsweredBy: a call that listened for an answering machine
// reports answered_by and answered_by_ms (strings) in its VoiceReport, in
// every product; a call that did not has neither field, and the machine
// detection's own events cause no receipt.
func TestVoiceReportAnsweredBy(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)
	for _, kind := range []dialtone.CallKind{dialtone.KindTTS, dialtone.KindVoice, dialtone.KindIVR, dialtone.KindSmartCall, dialtone.KindClickToDial} {
		c := &dialtone.Call{ID: "7^8", AccountUID: "1", Kind: kind, Callee: "138", State: dialtone.CallEnded,
			StatusCode: "200001", SmartStatusCode: "CALL_FORWARDING", A: dialtone.LegTimes{Originate: t0, Start: t0.Add(time.Second), End: t0.Add(4 * time.Second)}}
		evs := []dialtone.CallEvent{
			{Seq: 4, At: t0.Add(3 * time.Second), Type: dialtone.EventMachineDetection, Leg: "A",
				Detail: map[string]string{"answered_by": "machine_start", "answered_by_ms": "2360", "final": "true"}},
			{Seq: 5, At: t0.Add(4 * time.Second), Type: "ended", StatusCode: "200100",
				Detail: map[string]string{"answered_by": "machine_start", "answered_by_ms": "2360"}},
		}
		rs := (&Builder{}).Build(c, evs)
		var reports int
		for _, r := range rs {
			if r.MessageType != dialtone.MsgVoiceReport {
				continue
			}
			reports++
			m := decode(t, r)
			if m["answered_by"] != "machine_start" || m["answered_by_ms"] != "2360" {
				t.Errorf("%s: answered_by %v, answered_by_ms %v", kind, m["answered_by"], m["answered_by_ms"])
			}
		}
		if reports != 1 {
			t.Errorf("%s: %d VoiceReports", kind, reports)
		}
		rs = (&Builder{}).Build(c, []dialtone.CallEvent{{Seq: 5, At: t0, Type: "ended", StatusCode: "200100", Detail: map[string]string{}}})
		if m := decode(t, rs[len(rs)-1]); m["answered_by"] != nil || m["answered_by_ms"] != nil {
			t.Errorf("%s without detection: %v %v", kind, m["answered_by"], m["answered_by_ms"])
		}
	}
}
