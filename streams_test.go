package dialtone_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/dialtone-voice/dialtone"
)

func TestStreamSettingsRules(t *testing.T) {
	ok := dialtone.AccountSettings{SmartCallStreamURL: "wss://agent.example.com/call", ForkStreamURL: "ws://10.0.0.1:81/f",
		ForkStreamKinds: []dialtone.ForkKind{dialtone.ForkIVR}, SmartCallCallbackSecret: dialtone.SigningSecret{Current: "s"}}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid settings refused: %v", err)
	}
	for _, c := range []struct {
		s     dialtone.AccountSettings
		field string
	}{
		{dialtone.AccountSettings{SmartCallStreamURL: "https://agent.example.com/"}, "smartcall_stream_url"},
		{dialtone.AccountSettings{SmartCallStreamURL: "wss://user:pw@agent.example.com/"}, "smartcall_stream_url"},
		{dialtone.AccountSettings{ForkStreamURL: "ws:///nohost"}, "fork_stream_url"},
		{dialtone.AccountSettings{ForkStreamKinds: []dialtone.ForkKind{dialtone.ForkIVR}}, "fork_stream_kinds"},
		{dialtone.AccountSettings{ForkStreamURL: "ws://a.example/", ForkStreamKinds: []dialtone.ForkKind{dialtone.ForkIVR, dialtone.ForkIVR}}, "fork_stream_kinds"},
		{dialtone.AccountSettings{ForkStreamURL: "ws://a.example/", ForkStreamKinds: []dialtone.ForkKind{"smartcall"}}, "fork_stream_kinds"},
		{dialtone.AccountSettings{SmartCallCallbackSecret: dialtone.SigningSecret{Current: "s"}}, "smartcall_callback_secret"},
	} {
		err := c.s.Validate()
		var ie *dialtone.InvalidError
		if !errors.As(err, &ie) || !strings.Contains(err.Error(), c.field) {
			t.Errorf("%+v: %v, want a refusal of %s", c.s, err, c.field)
		}
	}
	s := dialtone.AccountSettings{ForkStreamURL: "ws://a.example/", ForkStreamKinds: []dialtone.ForkKind{dialtone.ForkClickToDial}}
	if !s.Forks(dialtone.KindClickToDial) || s.Forks(dialtone.KindIVR) || s.Forks(dialtone.KindSmartCall) {
		t.Error("Forks does not follow the kinds")
	}
	s.ForkStreamKinds = nil
	if !s.Forks(dialtone.KindTTS) || !s.Forks(dialtone.KindVoice) || !s.Forks(dialtone.KindIVR) || s.Forks(dialtone.KindSmartCall) {
		t.Error("a fork of every kind")
	}
}
