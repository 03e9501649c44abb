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
