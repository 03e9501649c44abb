package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/dialtone-voice/dialtone"
)

// TestSettingsMachineDetection: an account's user sees its
// machine_detection setting (off at first) and changes it; a value that
// is not a mode (only a hand-made form can send one) is refused with the
// field named by its label, marked, and nothing stored; another account
// is untouched.
func TestSettingsMachineDetection(t *testing.T) {
	f := newFixture(t)
	b := f.browser(t)
	csrf := b.mustSignIn("alice", "alice-pass")
	st, page, _ := b.do("GET", "/console/settings", nil, nil)
	if st != http.StatusOK || !strings.Contains(page, `<option value="off" selected>`) {
		t.Fatalf("settings page %d:\n%.2000s", st, page)
	}
	st, _, h := b.do("POST", "/console/settings", url.Values{"csrf": {csrf}, "machine_detection": {"message"}}, nil)
	if st != http.StatusSeeOther || h.Get("Location") != "/console/settings" {
		t.Fatalf("POST: %d %s", st, h.Get("Location"))
	}
	_, page, _ = b.do("GET", "/console/settings", nil, nil)
	if !strings.Contains(page, `<option value="message" selected>`) || !strings.Contains(page, "Answering-machine detection: message.") {
		t.Fatalf("after saving message:\n%.3000s", page)
	}
	got, err := f.store.GetAccountSettings(context.Background(), acctA)
	must(t, err)
	if got.MachineDetection != dialtone.MachineDetectionMessage {
		t.Fatalf("stored %q", got.MachineDetection)
	}
	b.do("POST", "/console/settings", url.Values{"csrf": {csrf}, "machine_detection": {"voicemail"}}, nil)
	_, page, _ = b.do("GET", "/console/settings", nil, nil)
	for _, want := range []string{
		`Not saved: Answering-machine detection: &#34;voicemail&#34; must be off, detect, hangup or message.`,
		`id="machine_detection" name="machine_detection" aria-invalid="true"`,
		`<span class="field-error" id="machine_detection-err">`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("refused form lacks %q:\n%.3000s", want, page)
		}
	}
	if got, _ = f.store.GetAccountSettings(context.Background(), acctA); got.MachineDetection != dialtone.MachineDetectionMessage {
		t.Fatalf("a refused form stored %q", got.MachineDetection)
	}
	if other, _ := f.store.GetAccountSettings(context.Background(), acctB); other.MachineDetection.On() {
		t.Fatalf("account %s has %q", acctB, other.MachineDetection)
	}
	// The operator sees the page of the account in view.
	admin := f.browser(t)
	admin.mustSignIn("admin", "operator-pass")
	st, page, _ = admin.do("GET", "/console/settings?acct="+acctA, nil, nil)
	if st != http.StatusOK || !strings.Contains(page, `<option value="message" selected>`) {
		t.Fatalf("operator's settings page %d", st)
	}
}

// TestSettingsStreams: an account's user sets the SmartCall agent stream
// and a fork of IVR calls; a URL on loopback (an account user's is not
// trusted) and an http:// URL are refused naming the field by its label,
// nothing stored; clearing the fork clears its kinds.
func TestSettingsStreams(t *testing.T) {
	f := egressFixture(t)
	b := f.browser(t)
	csrf := b.mustSignIn("alice", "alice-pass")
	form := url.Values{"csrf": {csrf}, "smartcall_stream_url": {"wss://agent.example.com/call"},
		"fork_stream_url": {"wss://monitor.example.com/fork"}, "fork_stream_kinds": {"ivr"}}
	st, _, h := b.do("POST", "/console/settings/streams", form, nil)
	if st != http.StatusSeeOther || h.Get("Location") != "/console/settings" {
		t.Fatalf("POST: %d %s", st, h.Get("Location"))
	}
	got, err := f.store.GetAccountSettings(context.Background(), acctA)
	must(t, err)
	if got.SmartCallStreamURL != "wss://agent.example.com/call" || got.SmartCallStreamTrusted || got.ForkStreamURL != "wss://monitor.example.com/fork" ||
		len(got.ForkStreamKinds) != 1 || got.ForkStreamKinds[0] != dialtone.ForkIVR {
		t.Fatalf("stored %+v", got)
	}
	_, page, _ := b.do("GET", "/console/settings", nil, nil)
	if !strings.Contains(page, `value="wss://agent.example.com/call"`) || !strings.Contains(page, `value="ivr" checked`) ||
		strings.Contains(page, `value="notification" checked`) {
		t.Fatalf("settings page:\n%.4000s", page)
	}
	for _, c := range []struct{ field, value, want string }{
		{"smartcall_stream_url", "ws://127.0.0.1:9/agent", "SmartCall agent stream URL: 127.0.0.1 refused by the egress policy (rule loopback)"},
		{"fork_stream_url", "https://monitor.example.com/fork", "Listen-only fork URL: &#34;https://monitor.example.com/fork&#34; is not a ws:// or wss:// URL"},
	} {
		bad := url.Values{"csrf": {csrf}, "smartcall_stream_url": {"wss://agent.example.com/call"}, "fork_stream_url": {"wss://monitor.example.com/fork"}}
		bad.Set(c.field, c.value)
		b.do("POST", "/console/settings/streams", bad, nil)
		_, page, _ = b.do("GET", "/console/settings", nil, nil)
		if !strings.Contains(page, c.want) || !strings.Contains(page, `id="`+c.field+`" name="`+c.field+`"`) {
			t.Errorf("refused %s lacks %q:\n%.3000s", c.field, c.want, page)
		}
	}
	if again, _ := f.store.GetAccountSettings(context.Background(), acctA); again.ForkStreamURL != got.ForkStreamURL || again.SmartCallStreamURL != got.SmartCallStreamURL {
		t.Fatalf("a refused form stored %+v", again)
	}
	b.do("POST", "/console/settings/streams", url.Values{"csrf": {csrf}, "smartcall_stream_url": {""}, "fork_stream_url": {""}, "fork_stream_kinds": {"ivr"}}, nil)
	if cleared, _ := f.store.GetAccountSettings(context.Background(), acctA); cleared.ForkStreamURL != "" || cleared.SmartCallStreamURL != "" || len(cleared.ForkStreamKinds) != 0 {
		t.Fatalf("cleared %+v", cleared)
	}
	if other, _ := f.store.GetAccountSettings(context.Background(), acctB); other.ForkStreamURL != "" || other.SmartCallStreamURL != "" {
		t.Fatalf("account %s has streams %+v", acctB, other)
	}
}
