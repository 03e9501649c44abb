package storetest

import (
	"testing"

	"github.com/dialtone-voice/dialtone"
)

// settingsMachineDetection: the account's machine_detection setting is
// stored as given with the other settings, per account, and an account
// with no settings reads as off.
func (s *suite) settingsMachineDetection(t *testing.T) {
	st := s.store(t)
	putAccount(t, st, "100")
	putAccount(t, st, "200")
	for _, m := range dialtone.MachineDetections {
		want := &dialtone.AccountSettings{
			FlowControl:          dialtone.FlowControl{PerMinute: 2, PerHour: 9, PerDay: 40},
			SmartCallCallbackURL: "https://example.com/smart",
			MachineDetection:     m,
		}
		must(t, "PutAccountSettings "+string(m), st.PutAccountSettings(ctx(t), "100", want))
		got, err := st.GetAccountSettings(ctx(t), "100")
		must(t, "GetAccountSettings", err)
		equal(t, "settings with machine_detection "+string(m), *got, *want, normSettings)
	}
	other, err := st.GetAccountSettings(ctx(t), "200")
	must(t, "GetAccountSettings 200", err)
	if other.MachineDetection.OrOff() != dialtone.MachineDetectionOff {
		t.Errorf("account 200 without settings has machine_detection %q, want off", other.MachineDetection)
	}
	// A replacement that does not name it stores it as given: off.
	must(t, "PutAccountSettings without it", st.PutAccountSettings(ctx(t), "100", &dialtone.AccountSettings{FlowControl: dialtone.DefaultFlowControl}))
	got, err := st.GetAccountSettings(ctx(t), "100")
	must(t, "GetAccountSettings", err)
	if got.MachineDetection.On() {
		t.Errorf("machine_detection %q after a replacement without it, want off", got.MachineDetection)
	}
}
