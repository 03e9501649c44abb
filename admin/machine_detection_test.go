package admin

import (
	"context"
	"testing"

	"github.com/dialtone-voice/dialtone"
)

// TestSettingsMachineDetection: machine_detection is off until set, takes
// each mode, is kept by a PUT that leaves it out, and a value that is not
// a mode is refused naming the field, changing nothing.
func TestSettingsMachineDetection(t *testing.T) {
	e := newResEnv(t)
	base := "/admin/v1/accounts/" + resA + "/settings"
	var st SettingsInfo
	e.do("GET", base, "").want(t, 200, &st)
	if st.MachineDetection != "off" {
		t.Fatalf("default machine_detection %q, want off", st.MachineDetection)
	}
	for _, m := range []string{"detect", "hangup", "message", "off", "hangup"} {
		e.do("PUT", base, `{"machine_detection":"`+m+`"}`).want(t, 200, &st)
		if st.MachineDetection != m {
			t.Fatalf("after PUT %s: %q", m, st.MachineDetection)
		}
	}
	e.do("PUT", base, `{"flow_control":{"per_hour":9}}`).want(t, 200, &st)
	if st.MachineDetection != "hangup" || st.FlowControl.PerHour != 9 {
		t.Fatalf("a PUT without machine_detection changed it: %+v", st)
	}
	e.do("PUT", base, `{"machine_detection":"voicemail"}`).wantField(t, "machine_detection")
	e.do("PUT", base, `{"machine_detection":7}`).wantError(t, 400, CodeInvalidRequest)
	got, err := e.store.GetAccountSettings(context.Background(), resA)
	if err != nil {
		t.Fatal(err)
	}
	if got.MachineDetection != dialtone.MachineDetectionHangup {
		t.Fatalf("stored %q after refused PUTs", got.MachineDetection)
	}
	e.do("GET", "/admin/v1/accounts/"+resB+"/settings", "").want(t, 200, &st)
	if st.MachineDetection != "off" {
		t.Fatalf("B has machine_detection %q", st.MachineDetection)
	}
}
