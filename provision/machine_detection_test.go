package provision

import (
	"context"
	"strings"
	"testing"

	"github.com/dialtone-voice/dialtone"
)

// TestApplyMachineDetection: an account's machine_detection key sets the
// setting; a file that leaves it out keeps what the account has (as the
// console may have changed it); a value that is not a mode is refused at
// its line, naming the key.
func TestApplyMachineDetection(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	doc := "accounts:\n  - uid: \"42\"\n    name: a\n    machine_detection: message\n"
	if _, err := Apply(ctx, svcOf(st), mustParse(t, doc)); err != nil {
		t.Fatal(err)
	}
	set, err := st.GetAccountSettings(ctx, "42")
	if err != nil || set.MachineDetection != dialtone.MachineDetectionMessage {
		t.Fatalf("settings = %+v, %v", set, err)
	}
	res, err := Apply(ctx, svcOf(st), mustParse(t, doc))
	if err != nil || res.Accounts[0].Settings != "unchanged" {
		t.Fatalf("second apply = %+v, %v", res, err)
	}
	if _, err := Apply(ctx, svcOf(st), mustParse(t, "accounts:\n  - uid: \"42\"\n    name: a\n")); err != nil {
		t.Fatal(err)
	}
	if set, _ = st.GetAccountSettings(ctx, "42"); set.MachineDetection != dialtone.MachineDetectionMessage {
		t.Fatalf("a file without the key changed it to %q", set.MachineDetection)
	}
	// off is the word, not YAML 1.1's false.
	if _, err := Apply(ctx, svcOf(st), mustParse(t, "accounts:\n  - uid: \"42\"\n    name: a\n    machine_detection: off\n")); err != nil {
		t.Fatal(err)
	}
	if set, _ = st.GetAccountSettings(ctx, "42"); set.MachineDetection != dialtone.MachineDetectionOff {
		t.Fatalf("machine_detection: off stored %q", set.MachineDetection)
	}
	_, err = Parse([]byte("accounts:\n  - name: a\n    machine_detection: voicemail\n"), "")
	if err == nil || !strings.Contains(err.Error(), `line 3: accounts[0].machine_detection: "voicemail" must be off, detect, hangup or message`) {
		t.Fatalf("bad mode: %v", err)
	}
}
