package storetest

import (
	"testing"

	"github.com/dialtone-voice/dialtone"
)

// settingsStreams: the account's media-stream settings (the agent's and
// the fork's URL, who set each, the fork's kinds) are stored as given,
// per account, and an account without them has none.
func (s *suite) settingsStreams(t *testing.T) {
	st := s.store(t)
	putAccount(t, st, "100")
	putAccount(t, st, "200")
	want := &dialtone.AccountSettings{
		FlowControl:             dialtone.FlowControl{PerMinute: 2, PerHour: 9, PerDay: 40},
		SmartCallCallbackURL:    "https://example.com/smart",
		SmartCallCallbackSecret: dialtone.SigningSecret{Current: "stream-and-callback-secret"},
		SmartCallStreamURL:      "wss://agent.example.com/call?lang=zh",
		SmartCallStreamTrusted:  true,
		ForkStreamURL:           "ws://10.0.0.9:8081/fork",
		ForkStreamKinds:         []dialtone.ForkKind{dialtone.ForkIVR, dialtone.ForkClickToDial},
	}
	must(t, "PutAccountSettings", st.PutAccountSettings(ctx(t), "100", want))
	got, err := st.GetAccountSettings(ctx(t), "100")
	must(t, "GetAccountSettings", err)
	equal(t, "settings with streams", *got, *want, normSettings)
	other, err := st.GetAccountSettings(ctx(t), "200")
	must(t, "GetAccountSettings 200", err)
	if other.SmartCallStreamURL != "" || other.ForkStreamURL != "" || len(other.ForkStreamKinds) != 0 || other.ForkStreamTrusted {
		t.Errorf("account 200 has streams: %+v", other)
	}
	// Every kind (an empty list) and the trust of the fork.
	want.ForkStreamKinds, want.ForkStreamTrusted, want.SmartCallStreamURL, want.SmartCallStreamTrusted = nil, true, "", false
	must(t, "PutAccountSettings again", st.PutAccountSettings(ctx(t), "100", want))
	got, err = st.GetAccountSettings(ctx(t), "100")
	must(t, "GetAccountSettings", err)
	equal(t, "settings with a fork of every kind", *got, *want, normSettings)
}
