package test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// `dialtone apply` as a person uses it: from another directory than the
// server's, against a server whose working directory is elsewhere again,
// with the files the document names sent along.

// adminSnapshot is everything provisioning can change, read through the
// admin API, to compare a server before and after.
func adminSnapshot(t *testing.T, n *node, token string) string {
	t.Helper()
	var b strings.Builder
	code, body := getAuth(t, n.url()+"/admin/v1/accounts", token)
	if code != 200 {
		t.Fatalf("accounts: %d %s", code, body)
	}
	b.WriteString(body)
	var accts struct{ Accounts []struct{ UID string } }
	if err := json.Unmarshal([]byte(body), &accts); err != nil {
		t.Fatal(err)
	}
	for _, a := range accts.Accounts {
		for _, part := range []string{"keys", "numbers", "tts-templates", "voice-files", "settings", "subscriptions"} {
			code, body := getAuth(t, n.url()+"/admin/v1/accounts/"+a.UID+"/"+part, token)
			if code != 200 {
				t.Fatalf("%s of %s: %d %s", part, a.UID, code, body)
			}
			b.WriteString("\n" + a.UID + " " + part + ": " + body)
		}
	}
	code, body = getAuth(t, n.url()+"/admin/v1/console-users", token)
	if code != 200 {
		t.Fatalf("console users: %d %s", code, body)
	}
	return b.String() + "\n" + body
}

func TestApplyFromAnotherDirectory(t *testing.T) {
	n := startIn(t, t.TempDir(), nil, "--demo=false")
	token := credentialsFromFile(t, filepath.Join(n.data, "credentials"))["DIALTONE_ADMIN_TOKEN"]
	env := []string{"DIALTONE_ADMIN_TOKEN=" + token}
	example, err := filepath.Abs(filepath.Join("..", "examples", "provisioning.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	elsewhere := t.TempDir() // neither the server's directory nor the document's

	// A dry run first: it says what would happen and changes nothing.
	before := adminSnapshot(t, n, token)
	out, errOut, code := runCLIIn(t, elsewhere, env, "apply", "-f", example, "--server", n.url(), "--dry-run")
	if code != 0 || !strings.HasPrefix(out, "dry run: nothing was changed") ||
		!strings.Contains(out, "account 1234567890123456 (demo) created: 1 access key created, 1 number created, 2 TTS templates created, 1 voice file created") {
		t.Fatalf("dry run: exit %d\n%s\n%s", code, out, errOut)
	}
	if after := adminSnapshot(t, n, token); after != before {
		t.Fatalf("a dry run changed the server:\n%s", after)
	}

	out, errOut, code = runCLIIn(t, elsewhere, env, "apply", "-f", example, "--server", n.url())
	if code != 0 || !strings.Contains(out, "applied "+example+" to "+n.url()) ||
		!strings.Contains(out, "account 1234567890123456 (demo) created: 1 access key created, 1 number created, 2 TTS templates created, 1 voice file created, 2 subscriptions created, settings updated") ||
		!strings.Contains(out, "console users: 2 created") || strings.Contains(out, "{") {
		t.Fatalf("apply: exit %d\n%s\n%s", code, out, errOut)
	}
	// The voice file arrived and plays.
	req, _ := http.NewRequest(http.MethodGet, n.url()+"/admin/v1/accounts/1234567890123456/voice-files/e271f3f2-e155-4366-a9f4-0fe55765b3ec.wav/audio", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "audio/wav" {
		t.Fatalf("voice file audio: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}

	// Again: unchanged, and as JSON for scripts.
	out, errOut, code = runCLIIn(t, elsewhere, env, "apply", "-f", example, "--server", n.url(), "--output", "json")
	var res struct {
		AccountsUnchanged int `json:"accounts_unchanged"`
		Accounts          []struct {
			UID        string
			VoiceFiles struct{ Unchanged int } `json:"voice_files"`
		}
	}
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil || res.AccountsUnchanged != 1 || res.Accounts[0].VoiceFiles.Unchanged != 1 {
		t.Fatalf("json: exit %d\n%s\n%s", code, out, errOut)
	}

	// A relative path, from the document's own directory.
	out, errOut, code = runCLIIn(t, filepath.Dir(example), env, "apply", "-f", "provisioning.yaml", "--server", n.url())
	if code != 0 || !strings.Contains(out, "account 1234567890123456 (demo) unchanged") {
		t.Fatalf("relative path: exit %d\n%s\n%s", code, out, errOut)
	}
}

// TestApplyRefusesBadDocuments: a document with one bad entry changes
// nothing, and says which file, line and key.
func TestApplyRefusesBadDocuments(t *testing.T) {
	n := startIn(t, t.TempDir(), nil, "--demo=false")
	token := credentialsFromFile(t, filepath.Join(n.data, "credentials"))["DIALTONE_ADMIN_TOKEN"]
	env := []string{"DIALTONE_ADMIN_TOKEN=" + token}
	dir := t.TempDir()
	wav, err := os.ReadFile(filepath.Join("..", "examples", "prompts", "welcome.wav"))
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, content string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("prompts/ok.wav", string(wav))
	write("prompts/noise.wav", "this is text, not audio")
	good := "accounts:\n  - uid: \"5\"\n    name: shop\n    numbers: [{number: \"057100000005\"}]\n    voice_files:\n      - {code: ok.wav, path: prompts/ok.wav, kind: notification}\n"
	before := adminSnapshot(t, n, token)
	for _, tc := range []struct{ name, doc, want string }{
		{"missing file", good + "      - {code: gone.wav, path: prompts/gone.wav, kind: notification}\n",
			`bad.yaml: line 7: accounts[0].voice_files[1].path: "prompts/gone.wav": cannot be read: no such file or directory`},
		{"not audio", good + "      - {code: noise.wav, path: prompts/noise.wav, kind: notification}\n",
			`bad.yaml: line 7: accounts[0].voice_files[1].path: "prompts/noise.wav" is not usable audio`},
		{"unknown key", good + "    colour: blue\n", `bad.yaml: line 7: accounts[0]: unknown key "colour"`},
		{"console user of no account", good + "console_users:\n  - {username: x, password: long-enough-password, account: \"404\"}\n",
			`bad.yaml: line 8: console_users[0].account: no account "404"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			write("bad.yaml", tc.doc)
			out, errOut, code := runCLIIn(t, dir, env, "apply", "-f", "bad.yaml", "--server", n.url())
			if code != 1 || !strings.Contains(errOut, tc.want) {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s\nwant %q", code, out, errOut, tc.want)
			}
			if after := adminSnapshot(t, n, token); after != before {
				t.Fatalf("a refused document changed the server:\n%s", after)
			}
		})
	}
	// The server says the same to a client that sends the document alone:
	// a 400 naming the file, line and key, never a 500.
	req, _ := http.NewRequest(http.MethodPost, n.url()+"/admin/v1/provision?name=bad.yaml", strings.NewReader(good))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var apiErr struct{ Code, Message string }
	json.NewDecoder(resp.Body).Decode(&apiErr)
	resp.Body.Close()
	if resp.StatusCode != 400 || apiErr.Code != "InvalidProvisioning" ||
		!strings.Contains(apiErr.Message, `bad.yaml: line 6: accounts[0].voice_files[0].path: "prompts/ok.wav": the file was not sent with the document`) {
		t.Fatalf("document without its file: %d %+v", resp.StatusCode, apiErr)
	}
	if after := adminSnapshot(t, n, token); after != before {
		t.Fatalf("a refused document changed the server:\n%s", after)
	}
}
