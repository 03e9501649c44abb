package dialtone

import (
	"errors"
	"testing"
	"time"
)

func TestMachineDetectionSetting(t *testing.T) {
	for _, m := range []MachineDetection{"", "off", "detect", "hangup", "message"} {
		if !m.Valid() || CheckMachineDetection("machine_detection", m) != nil {
			t.Errorf("%q refused", m)
		}
	}
	if MachineDetection("").OrOff() != MachineDetectionOff || MachineDetection("").On() || !MachineDetectionHangup.On() {
		t.Error(`"" is not off`)
	}
	err := (&AccountSettings{MachineDetection: "Hangup"}).Validate()
	var ie *InvalidError
	if !errors.As(err, &ie) || ie.Field != "machine_detection" || ie.Message != `"Hangup" must be off, detect, hangup or message` {
		t.Errorf("Validate = %v", err)
	}
	var s AccountSettings
	m := MachineDetection("")
	SettingsUpdate{MachineDetection: &m}.Apply(&s)
	if s.MachineDetection != MachineDetectionOff {
		t.Errorf(`an update to "" stored %q, want off`, s.MachineDetection)
	}
}

func TestMachineVerdict(t *testing.T) {
	if _, _, ok := MachineVerdict([]CallEvent{{Type: "answered"}, {Type: "ended", Detail: map[string]string{}}}); ok {
		t.Error("a call that did not listen has a verdict")
	}
	evs := []CallEvent{
		{Type: EventMachineDetection, Detail: map[string]string{"answered_by": "machine_start", "answered_by_ms": "2300"}},
		{Type: "play"},
		{Type: EventMachineDetection, Detail: map[string]string{"answered_by": "machine_end_beep", "answered_by_ms": "9410"}},
		{Type: "hangup", Detail: map[string]string{"direction": "机器"}},
	}
	if a, after, ok := MachineVerdict(evs); !ok || a != "machine_end_beep" || after != 9410*time.Millisecond {
		t.Errorf("MachineVerdict = %s %v %v", a, after, ok)
	}
}
