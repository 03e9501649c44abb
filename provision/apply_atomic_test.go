package provision

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dialtone-voice/dialtone"
)

// snapshot is everything a provisioning document can change in a store,
// as text, to compare a store before and after.
func snapshot(t *testing.T, st dialtone.Store) string {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	must := func(v any, err error) any {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	accts, err := st.ListAccounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&b, "accounts %+v\n", accts)
	fmt.Fprintf(&b, "global %+v\n", must(st.GetAccountSettings(ctx, "")))
	for _, a := range accts {
		fmt.Fprintf(&b, "%s keys %+v\n", a.UID, must(st.ListAccessKeys(ctx, a.UID)))
		fmt.Fprintf(&b, "%s numbers %+v\n", a.UID, must(st.ListNumbers(ctx, a.UID)))
		fmt.Fprintf(&b, "%s templates %+v\n", a.UID, must(st.ListTemplates(ctx, a.UID)))
		fmt.Fprintf(&b, "%s voice files %+v\n", a.UID, must(st.ListVoiceFiles(ctx, a.UID)))
		fmt.Fprintf(&b, "%s settings %+v\n", a.UID, must(st.GetAccountSettings(ctx, a.UID)))
		fmt.Fprintf(&b, "%s subscriptions %+v\n", a.UID, must(st.ListSubscriptions(ctx, a.UID)))
	}
	fmt.Fprintf(&b, "console users %+v\n", must(st.ListConsoleUsers(ctx)))
	return b.String()
}

// changedExample is the example with a change to every kind of object, and
// a new account, so that a failed apply has something to leave undone.
const changedExample = `
blacklist: [another]
console_users:
  - {username: newop, password: long-enough-password, operator: true}
%CONSOLE%
accounts:
  - uid: "1234567890123456"
    name: demo renamed
    access_keys:
      - {id: LTAIdemo00000000000001, secret: changedSecret0000000000000000001}
      - {id: LTAInew000000000000001, secret: newSecret00000000000000000000001}
    numbers: [{number: "057188880000", concurrency: 3}, {number: "057188880001"}]
    tts_templates: [{code: TTS_100001, kind: notification, content: "changed ${x}"}]
    voice_files: [{code: e271f3f2-e155-4366-a9f4-0fe55765b3ec.wav, path: prompts/welcome.wav, kind: smartcall}]
    flow_control: {per_minute: 9, per_hour: 9, per_day: 9}
    subscriptions: [{message_type: VoiceRecordReport, queue: true}]
    smartcall_callback_url: http://127.0.0.1:9/changed
  - uid: "77"
    name: newcomer
%ACCOUNT%
`

// TestApplyAllOrNothing: a document with one bad entry, wherever it is
// found (reading its files, checking its audio, or in the store part way
// through), changes nothing, and the error names the file, line and key.
func TestApplyAllOrNothing(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	if _, err := Apply(ctx, svcOf(st), parseExample(t), exampleOptions()...); err != nil {
		t.Fatal(err)
	}
	if _, err := Apply(ctx, svcOf(st), mustParse(t, "accounts:\n  - {uid: \"88\", name: other, access_keys: [{id: LTAIother00000000000001, secret: otherSecret000000000000000000001}]}\n")); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, st)
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "prompts"), 0o700); err != nil {
		t.Fatal(err)
	}
	wav, err := os.ReadFile(filepath.Join(filepath.Dir(examplePath), "prompts", "welcome.wav"))
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, data []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("prompts/welcome.wav", wav)
	write("prompts/notes.wav", []byte("these are not audio samples at all"))

	// The changed document alone applies (so what the bad entries stop is real).
	clean := strings.NewReplacer("%CONSOLE%", "", "%ACCOUNT%", "").Replace(changedExample)
	if _, err := Apply(ctx, svcOf(newStore(t)), mustParse(t, clean), WithFiles(DirFiles(dir))); err != nil {
		t.Fatalf("the changed document without a bad entry: %v", err)
	}
	for _, tc := range []struct {
		name, console, account, want string
		problem                      bool // an *Error (400) rather than a conflict
	}{
		{"missing voice file", "", "    voice_files: [{code: b.wav, path: prompts/missing.wav, kind: notification}]",
			`doc.yaml: line 20: accounts[1].voice_files[0].path: "prompts/missing.wav": cannot be read: no such file or directory`, true},
		{"not audio", "", "    voice_files: [{code: b.wav, path: prompts/notes.wav, kind: notification}]",
			`doc.yaml: line 20: accounts[1].voice_files[0].path: "prompts/notes.wav" is not usable audio`, true},
		{"console user of an unknown account", `  - {username: lost, password: long-enough-password, account: "404"}`, "",
			`doc.yaml: line 5: console_users[1].account: no account "404"`, true},
		{"key of another account", "", "    access_keys: [{id: LTAIother00000000000001, secret: stolenSecret00000000000000000001}]",
			`line 20: access key LTAIother00000000000001 belongs to another account`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text := strings.NewReplacer("%CONSOLE%", tc.console, "%ACCOUNT%", tc.account).Replace(changedExample)
			doc, err := Parse([]byte(text), "doc.yaml")
			if err != nil {
				t.Fatalf("%v\n%s", err, text)
			}
			_, err = Apply(ctx, svcOf(st), doc, WithFiles(DirFiles(dir)))
			var perr *Error
			if err == nil || !strings.Contains(err.Error(), tc.want) || errors.As(err, &perr) != tc.problem {
				t.Fatalf("Apply = %v\nwant an error containing %q (a document problem: %v)", err, tc.want, tc.problem)
			}
			if !tc.problem && !errors.Is(err, dialtone.ErrConflict) {
				t.Errorf("Apply = %v, want a conflict", err)
			}
			if after := snapshot(t, st); after != before {
				t.Errorf("the store changed:\nbefore:\n%s\nafter:\n%s", before, after)
			}
		})
	}
}

// TestApplyDryRun: a dry run counts what applying would do and writes
// nothing, neither rows nor audio.
func TestApplyDryRun(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	dataDir := dataDirOf(st)
	before := snapshot(t, st)
	res, err := Apply(ctx, svcOf(st), parseExample(t), append(exampleOptions(), WithDryRun())...)
	if err != nil {
		t.Fatal(err)
	}
	if !res.DryRun || res.AccountsCreated != 1 || len(res.Accounts) != 1 || res.Accounts[0].VoiceFiles.Created != 1 || res.ConsoleUsersCreated != 2 {
		t.Errorf("dry run = %+v", res)
	}
	if !strings.HasPrefix(res.Summary(), "dry run: nothing was changed") {
		t.Errorf("summary of a dry run:\n%s", res.Summary())
	}
	if after := snapshot(t, st); after != before {
		t.Errorf("a dry run changed the store:\n%s", after)
	}
	if entries, _ := os.ReadDir(dataDir); len(entries) != 0 {
		t.Errorf("a dry run wrote %d entries under the data directory", len(entries))
	}
	// Applying for real does what the dry run said.
	real, err := Apply(ctx, svcOf(st), parseExample(t), exampleOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	real.DryRun = false
	res.DryRun = false
	if real.Summary() != res.Summary() {
		t.Errorf("applied:\n%s\ndry run said:\n%s", real.Summary(), res.Summary())
	}
	// A dry run of the same document now counts everything unchanged.
	again, err := Apply(ctx, svcOf(st), parseExample(t), append(exampleOptions(), WithDryRun())...)
	if err != nil || again.AccountsUnchanged != 1 || again.Accounts[0].VoiceFiles.Unchanged != 1 {
		t.Errorf("dry run after applying = %+v, %v", again, err)
	}
}

// TestApplyAttachments: a document applied with the files sent with it
// reads only those, by the path it gives; one it names but that was not
// sent is a problem naming the line and key.
func TestApplyAttachments(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	wav, err := os.ReadFile(filepath.Join(filepath.Dir(examplePath), "prompts", "welcome.wav"))
	if err != nil {
		t.Fatal(err)
	}
	doc := mustParse(t, "accounts:\n  - uid: \"5\"\n    name: a\n    voice_files:\n      - {code: a.wav, path: prompts/welcome.wav, kind: notification}\n      - {code: b.wav, path: ../../etc/passwd.wav, kind: notification}\n")
	_, err = Apply(ctx, svcOf(st), doc, WithFiles(Attachments{"prompts/welcome.wav": wav}))
	if err == nil || !strings.Contains(err.Error(), `line 6: accounts[0].voice_files[1].path: "../../etc/passwd.wav": the file was not sent with the document`) {
		t.Fatalf("Apply = %v", err)
	}
	doc = mustParse(t, "accounts:\n  - uid: \"5\"\n    name: a\n    voice_files:\n      - {code: a.wav, path: prompts/welcome.wav, kind: notification}\n")
	res, err := Apply(ctx, svcOf(st), doc, WithFiles(Attachments{"prompts/welcome.wav": wav}))
	if err != nil || res.Accounts[0].VoiceFiles.Created != 1 {
		t.Fatalf("Apply = %+v, %v", res, err)
	}
}
