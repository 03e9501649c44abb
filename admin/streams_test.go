package admin

import (
	"context"
	"testing"
)

// TestSettingsStreams: the media-stream settings through the admin API:
// the agent's and the fork's URLs are trusted (the operator set them) and
// may be on loopback, the fork's kinds are kept as given, a PUT that
// leaves them out keeps them, an http:// URL or an unknown kind is refused
// naming the field, changing nothing, and the other account is untouched.
func TestSettingsStreams(t *testing.T) {
	e := newResEnv(t)
	base := "/admin/v1/accounts/" + resA + "/settings"
	var st SettingsInfo
	e.do("GET", base, "").want(t, 200, &st)
	if st.SmartCallStreamURL != "" || st.ForkStreamURL != "" || len(st.ForkStreamKinds) != 0 {
		t.Fatalf("defaults %+v", st)
	}
	e.do("PUT", base, `{"smartcall_stream_url":"ws://127.0.0.1:8081/agent","fork_stream_url":"wss://monitor.example.com/fork","fork_stream_kinds":["clicktodial","ivr"]}`).want(t, 200, &st)
	if st.SmartCallStreamURL != "ws://127.0.0.1:8081/agent" || !st.SmartCallStreamTrusted || !st.ForkStreamTrusted ||
		len(st.ForkStreamKinds) != 2 || st.ForkStreamKinds[0] != "clicktodial" {
		t.Fatalf("after PUT: %+v", st)
	}
	e.do("PUT", base, `{"flow_control":{"per_hour":9}}`).want(t, 200, &st)
	if st.SmartCallStreamURL == "" || len(st.ForkStreamKinds) != 2 {
		t.Fatalf("a PUT without the streams changed them: %+v", st)
	}
	e.do("PUT", base, `{"smartcall_stream_url":"http://agent.example.com/"}`).wantField(t, "smartcall_stream_url")
	e.do("PUT", base, `{"fork_stream_kinds":["smartcall"]}`).wantField(t, "fork_stream_kinds")
	e.do("PUT", base, `{"fork_stream_url":"","fork_stream_kinds":["ivr"]}`).wantField(t, "fork_stream_kinds")
	got, err := e.store.GetAccountSettings(context.Background(), resA)
	if err != nil {
		t.Fatal(err)
	}
	if got.SmartCallStreamURL != "ws://127.0.0.1:8081/agent" || got.ForkStreamURL != "wss://monitor.example.com/fork" || len(got.ForkStreamKinds) != 2 {
		t.Fatalf("stored %+v after refused PUTs", got)
	}
	// The secret signs the streams: it may be set with a stream alone.
	e.do("PUT", base, `{"smartcall_callback_secret":"stream-secret"}`).want(t, 200, &st)
	if !st.SmartCallCallbackSecret {
		t.Fatalf("secret not set beside the streams: %+v", st)
	}
	e.do("GET", "/admin/v1/accounts/"+resB+"/settings", "").want(t, 200, &st)
	if st.SmartCallStreamURL != "" || st.ForkStreamURL != "" {
		t.Fatalf("B has streams %+v", st)
	}
}
