package provision

import (
	"context"
	"strings"
	"testing"

	"github.com/dialtone-voice/dialtone"
)

// TestApplyStreams: an account's smartcall_stream_url, fork_stream_url and
// fork_stream_kinds keys set the media streams (trusted: the operator's
// file); a file that leaves them out keeps them; an http:// URL or an
// unknown kind is refused at its line, naming the key.
func TestApplyStreams(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	doc := "accounts:\n  - uid: \"42\"\n    name: a\n    smartcall_stream_url: ws://127.0.0.1:8081/agent\n" +
		"    fork_stream_url: wss://monitor.example.com/fork\n    fork_stream_kinds: [notification, clicktodial]\n"
	if _, err := Apply(ctx, svcOf(st), mustParse(t, doc)); err != nil {
		t.Fatal(err)
	}
	set, err := st.GetAccountSettings(ctx, "42")
	if err != nil || set.SmartCallStreamURL != "ws://127.0.0.1:8081/agent" || !set.SmartCallStreamTrusted || !set.ForkStreamTrusted ||
		len(set.ForkStreamKinds) != 2 || set.ForkStreamKinds[1] != dialtone.ForkClickToDial {
		t.Fatalf("settings = %+v, %v", set, err)
	}
	if res, err := Apply(ctx, svcOf(st), mustParse(t, doc)); err != nil || res.Accounts[0].Settings != "unchanged" {
		t.Fatalf("second apply = %+v, %v", res, err)
	}
	if _, err := Apply(ctx, svcOf(st), mustParse(t, "accounts:\n  - uid: \"42\"\n    name: a\n")); err != nil {
		t.Fatal(err)
	}
	if set, _ = st.GetAccountSettings(ctx, "42"); set.ForkStreamURL == "" || len(set.ForkStreamKinds) != 2 {
		t.Fatalf("a file without the keys changed them: %+v", set)
	}
	for _, c := range []struct{ doc, want string }{
		{"accounts:\n  - name: a\n    smartcall_stream_url: https://agent.example.com/\n", `line 3: accounts[0].smartcall_stream_url: "https://agent.example.com/" is not a ws:// or wss:// URL`},
		{"accounts:\n  - name: a\n    fork_stream_url: ws://x.example/\n    fork_stream_kinds: [smartcall]\n", `line 4: accounts[0].fork_stream_kinds: "smartcall" (item 0) must be notification, ivr or clicktodial`},
	} {
		_, err := Parse([]byte(c.doc), "")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.doc, err, c.want)
		}
	}
}
