package receipt

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone"
)

func decode(t *testing.T, r dialtone.Receipt) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestBuildSingleCall(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 1, 0, 0, 0, time.UTC)
	c := &dialtone.Call{ID: "1^2", AccountUID: "1", Kind: dialtone.KindIVR, Caller: "0571", Callee: "138", OutID: "o1",
		State: dialtone.CallEnded, StatusCode: "200000", SmartStatusCode: "ANSWERED", HangupDirection: "机器", DTMF: "1", Duration: 7,
		A: dialtone.LegTimes{Originate: t0, Ring: t0.Add(time.Second), Start: t0.Add(2 * time.Second), End: t0.Add(9 * time.Second)}}
	events := []dialtone.CallEvent{
		{Seq: 1, At: t0, Type: "originate", StatusCode: "200101"},
		{Seq: 2, At: t0.Add(time.Second), Type: "ringing", StatusCode: "200201"},
		{Seq: 3, At: t0.Add(2 * time.Second), Type: "answered", StatusCode: "200102"},
		{Seq: 4, At: t0.Add(3 * time.Second), Type: "play"},
		{Seq: 5, At: t0.Add(5 * time.Second), Type: "dtmf", StatusCode: "300000", Detail: map[string]string{"digits": "1"}},
		{Seq: 6, At: t0.Add(9 * time.Second), Type: "ended", StatusCode: "200100"},
	}
	rs := (&Builder{}).Build(c, events)
	var codes []string
	var report map[string]any
	ids := map[string]bool{}
	for _, r := range rs {
		if ids[r.ID] {
			t.Fatalf("duplicate id %s", r.ID)
		}
		ids[r.ID] = true
		m := decode(t, r)
		if m["receipt_id"] != r.ID || r.AccountUID != "1" || r.CallID != "1^2" {
			t.Fatalf("receipt %+v body %v", r, m)
		}
		switch r.MessageType {
		case dialtone.MsgVoiceCallReport:
			codes = append(codes, m["status_code"].(string))
			if m["status_code"] == "300000" && m["dtmf"] != "1" {
				t.Fatalf("dtmf report %v", m)
			}
			if m["status_time"] == "" || m["out_id"] != "o1" {
				t.Fatalf("call report %v", m)
			}
		case dialtone.MsgVoiceReport:
			report = m
		}
	}
	if want := []string{"200101", "200201", "200102", "300000", "200100"}; len(codes) != len(want) {
		t.Fatalf("codes %v, want %v", codes, want)
	} else {
		for i := range want {
			if codes[i] != want[i] {
				t.Fatalf("codes %v, want %v", codes, want)
			}
		}
	}
	if report == nil || report["duration"] != "7" || report["dtmf"] != "1" || report["start_time"] != "2026-11-25 09:00:02" ||
		report["status_code"] != "200000" || report["hangup_direction"] != "机器" || report["toll_type"] != "UNKNOWN" {
		t.Fatalf("VoiceReport %v", report)
	}
	// Rebuilding the same change yields the same IDs (stable across retries).
	again := (&Builder{}).Build(c, events)
	for i := range rs {
		if again[i].ID != rs[i].ID {
			t.Fatal("unstable receipt IDs")
		}
	}
}

func TestBuildClickToDialAndRecording(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 1, 0, 0, 0, time.UTC)
	c := &dialtone.Call{ID: "9^9", AccountUID: "7", Kind: dialtone.KindClickToDial, Caller: "138", Callee: "139",
		CallerShowNumber: "0571", CalleeShowNumber: "0572", State: dialtone.CallEnded, StatusCode: "200000",
		A: dialtone.LegTimes{Originate: t0, Start: t0.Add(time.Second), End: t0.Add(20 * time.Second)},
		B: dialtone.LegTimes{Originate: t0.Add(time.Second), Ring: t0.Add(2 * time.Second), Start: t0.Add(4 * time.Second), End: t0.Add(20 * time.Second)}}
	b := &Builder{RecordURL: func(acct, id, file string) string { return "http://h/records/" + acct + "/" + file }}
	rs := b.Build(c, []dialtone.CallEvent{
		{Seq: 7, At: t0.Add(2 * time.Second), Type: "ringing", Leg: "B", StatusCode: "200201"},
		{Seq: 8, At: t0.Add(20 * time.Second), Type: "recording", Detail: map[string]string{"file": "9_9.wav"}},
		{Seq: 9, At: t0.Add(20 * time.Second), Type: "ended", StatusCode: "200100"},
	})
	types := map[string]map[string]any{}
	for _, r := range rs {
		types[r.MessageType] = decode(t, r)
	}
	if len(rs) != 3 {
		t.Fatalf("%d receipts: %v", len(rs), types)
	}
	vr := types[dialtone.MsgVoiceReport]
	if vr["b_duration"] != float64(16) || vr["a_duration"] != "19" || vr["caller_show_num"] != "0571" || vr["b_ring_time"] == "" {
		t.Fatalf("two-leg report %v", vr)
	}
	rr := types[dialtone.MsgVoiceRecordReport]
	if rr["record_file"] != "http://h/records/7/9_9.wav" || rr["duration"] != "16" {
		t.Fatalf("record report %v", rr)
	}
}

// TestBuildEarlyMediaCode: the VoiceReport of an unanswered smart call
// that asked for early-media detection carries early_media_code; other
// kinds never do, and a smart call without it has no such field.
func TestBuildEarlyMediaCode(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 1, 0, 0, 0, time.UTC)
	report := func(kind dialtone.CallKind, detail map[string]string) map[string]any {
		c := &dialtone.Call{ID: "9^1", AccountUID: "1", Kind: kind, Callee: "138", State: dialtone.CallEnded,
			StatusCode: "200010", SmartStatusCode: "POWERED_OFF", A: dialtone.LegTimes{Originate: t0, End: t0.Add(time.Second)}}
		for _, r := range (&Builder{}).Build(c, []dialtone.CallEvent{{Seq: 3, At: t0.Add(time.Second), Type: "ended", StatusCode: "200100", Detail: detail}}) {
			if r.MessageType == dialtone.MsgVoiceReport {
				return decode(t, r)
			}
		}
		t.Fatalf("%s: no VoiceReport", kind)
		return nil
	}
	if m := report(dialtone.KindSmartCall, map[string]string{"early_media_code": "200010"}); m["early_media_code"] != "200010" {
		t.Errorf("smart call: early_media_code %v", m["early_media_code"])
	}
	if m := report(dialtone.KindSmartCall, map[string]string{}); m["early_media_code"] != nil {
		t.Errorf("smart call without detection: early_media_code %v", m["early_media_code"])
	}
	if m := report(dialtone.KindTTS, map[string]string{"early_media_code": "200010"}); m["early_media_code"] != nil {
		t.Errorf("tts call: early_media_code %v", m["early_media_code"])
	}
}
