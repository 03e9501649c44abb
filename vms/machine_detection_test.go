package vms_test

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone"
)

// TestMachineDetectionPlanAndDetail: a call keeps its account's
// machine_detection as it was when accepted (another account's calls do
// not listen), and QueryCallDetailByCallId's Data reports answeredBy and
// answeredByMs once the detector has spoken, nothing before.
func TestMachineDetectionPlanAndDetail(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	st, err := f.store.GetAccountSettings(ctx, uidA)
	if err != nil {
		t.Fatal(err)
	}
	st.MachineDetection = dialtone.MachineDetectionMessage
	if err := f.store.PutAccountSettings(ctx, uidA, st); err != nil {
		t.Fatal(err)
	}
	body := f.expect(f.a, "SingleCallByTts", tts, "OK", "")
	id := body["CallId"].(string)
	c, err := f.store.GetCall(ctx, uidA, id)
	if err != nil {
		t.Fatal(err)
	}
	if plan, _ := dialtone.DecodePlan(c); plan.MachineDetection != dialtone.MachineDetectionMessage {
		t.Fatalf("plan machine_detection %q", plan.MachineDetection)
	}
	other := f.expect(f.b, "SingleCallByTts", map[string]string{"CalledNumber": "13800000009", "CalledShowNumber": "057199990000",
		"TtsCode": "TTS_200001", "TtsParam": `{"x":"1"}`}, "OK", "")
	oc, _ := f.store.GetCall(ctx, uidB, other["CallId"].(string))
	if plan, _ := dialtone.DecodePlan(oc); plan.MachineDetection != "" {
		t.Fatalf("account B's call listens: %q", plan.MachineDetection)
	}

	detail := func() map[string]any {
		t.Helper()
		b := f.expect(f.a, "QueryCallDetailByCallId", map[string]string{"CallId": id, "ProdId": strconv.FormatInt(c.ProdID, 10),
			"QueryDate": strconv.FormatInt(time.Now().Add(-time.Hour).UnixMilli(), 10)}, "OK", "")
		var d map[string]any
		if err := json.Unmarshal([]byte(b["Data"].(string)), &d); err != nil {
			t.Fatal(err)
		}
		return d
	}
	if d := detail(); d["answeredBy"] != nil || d["answeredByMs"] != nil {
		t.Fatalf("queued call has answeredBy %v", d["answeredBy"])
	}
	// The engine's work, by hand: answered, a first verdict, the end.
	now := time.Now()
	c.State, c.A = dialtone.CallAnswered, dialtone.LegTimes{Originate: now, Start: now}
	write := func(evs ...dialtone.CallEvent) {
		t.Helper()
		if err := f.store.UpdateCall(ctx, &dialtone.CallChange{Call: c, Events: evs}); err != nil {
			t.Fatal(err)
		}
	}
	write(dialtone.CallEvent{CallID: id, Seq: 1, At: now, Type: "answered", Leg: "A"},
		dialtone.CallEvent{CallID: id, Seq: 2, At: now, Type: dialtone.EventMachineDetection, Leg: "A",
			Detail: map[string]string{"answered_by": "machine_start", "answered_by_ms": "2280", "final": "false"}})
	if d := detail(); d["answeredBy"] != "machine_start" || d["answeredByMs"] != float64(2280) {
		t.Fatalf("live call: answeredBy %v answeredByMs %v", d["answeredBy"], d["answeredByMs"])
	}
	c.State, c.StatusCode, c.A.End = dialtone.CallEnded, dialtone.StatusCompleted, now.Add(20*time.Second)
	write(dialtone.CallEvent{CallID: id, Seq: 3, At: now, Type: dialtone.EventMachineDetection, Leg: "A",
		Detail: map[string]string{"answered_by": "machine_end_beep", "answered_by_ms": "9410", "final": "true"}},
		dialtone.CallEvent{CallID: id, Seq: 4, At: now, Type: "ended", Detail: map[string]string{"answered_by": "machine_end_beep", "answered_by_ms": "9410"}})
	if d := detail(); d["answeredBy"] != "machine_end_beep" || d["answeredByMs"] != float64(9410) || d["state"] != "200000" {
		t.Fatalf("ended call: %v", d)
	}
}
