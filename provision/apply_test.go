package provision

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/media"
	"github.com/dialtone-voice/dialtone/resource"
	"github.com/dialtone-voice/dialtone/secret"
	"github.com/dialtone-voice/dialtone/sqlite"
)

// newStore opens the real SQLite store in a temporary directory: Apply's
// idempotency depends on how the store round-trips nil lists and times, which
// a fake would only imitate.
func newStore(t *testing.T) dialtone.Store {
	t.Helper()
	sealer, err := secret.NewSealer(make([]byte, secret.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "db"), sealer)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	dir := t.TempDir()
	services.Store(dialtone.Store(st), resource.New(st, dir, nil))
	dataDirs.Store(dialtone.Store(st), dir)
	return st
}

func mustParse(t *testing.T, in string) *Document {
	t.Helper()
	doc, err := Parse([]byte(in), "")
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func TestApplyExampleIdempotent(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	doc := parseExample(t)
	opts := exampleOptions()
	res, err := Apply(ctx, svcOf(st), doc, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if res.AccountsCreated != 1 || res.KeysCreated != 1 || res.AccountsUpdated+res.KeysUpdated != 0 {
		t.Errorf("first apply = %+v", res)
	}
	want := AppliedAccount{UID: "1234567890123456", Name: "demo", Action: ActionCreated, Keys: Counts{Created: 1}, Numbers: Counts{Created: 1},
		Templates: Counts{Created: 2}, VoiceFiles: Counts{Created: 1}, Subscriptions: Counts{Created: 2}, Settings: ActionUpdated}
	if len(res.Accounts) != 1 || res.Accounts[0] != want || res.ConsoleUsersCreated != 2 || res.Blacklist != ActionUpdated {
		t.Errorf("first apply = %+v", res)
	}
	if got, wantText := res.Summary(), "account 1234567890123456 (demo) created: 1 access key created, 1 number created, 2 TTS templates created, "+
		"1 voice file created, 2 subscriptions created, settings updated\nconsole users: 2 created\nsimulated network created\noperator blacklist updated\n"; got != wantText {
		t.Errorf("summary:\n%s\nwant:\n%s", got, wantText)
	}
	acct1, _ := st.GetAccount(ctx, "1234567890123456")
	key1, _ := st.GetAccessKey(ctx, "LTAIdemo00000000000001")

	res, err = Apply(ctx, svcOf(st), doc, opts...)
	if err != nil {
		t.Fatal(err)
	}
	checkExampleResources(t, st, dataDirOf(st))
	want = AppliedAccount{UID: "1234567890123456", Name: "demo", Action: ActionUnchanged, Keys: Counts{Unchanged: 1}, Numbers: Counts{Unchanged: 1},
		Templates: Counts{Unchanged: 2}, VoiceFiles: Counts{Unchanged: 1}, Subscriptions: Counts{Unchanged: 2}, Settings: ActionUnchanged}
	if len(res.Accounts) != 1 || res.Accounts[0] != want || res.AccountsUnchanged != 1 || res.KeysUnchanged != 1 || res.ConsoleUsersUnchanged != 2 {
		t.Errorf("second apply = %+v, want %+v", res, want)
	}
	if got := res.Summary(); got != "account 1234567890123456 (demo) unchanged\nconsole users: 2 unchanged\nsimulated network unchanged\noperator blacklist unchanged\n" {
		t.Errorf("summary of a second apply:\n%s", got)
	}
	accts, _ := st.ListAccounts(ctx)
	keys, _ := st.ListAccessKeys(ctx, "1234567890123456")
	if len(accts) != 1 || len(keys) != 1 {
		t.Fatalf("rows: %d accounts, %d keys", len(accts), len(keys))
	}
	acct2, _ := st.GetAccount(ctx, "1234567890123456")
	key2, _ := st.GetAccessKey(ctx, "LTAIdemo00000000000001")
	if !acct1.CreatedAt.Equal(acct2.CreatedAt) || !acct1.UpdatedAt.Equal(acct2.UpdatedAt) || !key1.CreatedAt.Equal(key2.CreatedAt) {
		t.Error("re-applying an unchanged file touched the rows")
	}
	if key2.Secret != "demoSecret000000000000000000001" || !key2.Enabled || !slices.Equal(key2.Actions, []string{"*"}) {
		t.Errorf("key = %+v", key2)
	}
	if acct2.Name != "demo" || acct2.Status != dialtone.AccountActive || !acct2.VoiceService || !slices.Equal(acct2.Features, dialtone.AllFeatures) {
		t.Errorf("account = %+v", acct2)
	}
}

// parseExample parses the repository's provisioning example.
func parseExample(t *testing.T) *Document {
	t.Helper()
	data, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := Parse(data, examplePath)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// exampleOptions apply the example with its files read from its directory.
func exampleOptions() []ApplyOption {
	return []ApplyOption{WithFiles(DirFiles(filepath.Dir(examplePath)))}
}

// services are the resource services of the test stores (newStore), each
// keeping voice files under a temporary directory of its own.
var services, dataDirs sync.Map // dialtone.Store -> *resource.Service, string

func svcOf(st dialtone.Store) *resource.Service {
	s, _ := services.Load(st)
	return s.(*resource.Service)
}

// dataDirOf is where the service of st keeps voice files.
func dataDirOf(st dialtone.Store) string {
	d, _ := dataDirs.Load(st)
	return d.(string)
}

func TestApplyUpdates(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	if _, err := Apply(ctx, svcOf(st), mustParse(t, `
accounts:
  - uid: "100"
    name: shop
    access_keys:
      - {id: AK1, secret: "0123456789abcdef"}
      - {id: AK2, secret: "0123456789abcdef"}
`)); err != nil {
		t.Fatal(err)
	}
	before, _ := st.GetAccessKey(ctx, "AK1")
	res, err := Apply(ctx, svcOf(st), mustParse(t, `
accounts:
  - uid: "100"
    name: shop
    status: suspended
    products: [tts]
    rate_limits: {SingleCallByTts: 2}
    access_keys:
      - {id: AK1, secret: "fedcba9876543210", enabled: false, actions: [SingleCallByTts]}
`))
	if err != nil {
		t.Fatal(err)
	}
	if res.AccountsUpdated != 1 || res.KeysUpdated != 1 || res.KeysCreated != 0 {
		t.Errorf("result = %+v", res)
	}
	a, _ := st.GetAccount(ctx, "100")
	if a.Status != dialtone.AccountSuspended || !slices.Equal(a.Features, []dialtone.Feature{dialtone.FeatureTTS}) || a.RateLimits["SingleCallByTts"] != 2 {
		t.Errorf("account = %+v", a)
	}
	k, _ := st.GetAccessKey(ctx, "AK1")
	if k.Secret != "fedcba9876543210" || k.Enabled || !slices.Equal(k.Actions, []string{"SingleCallByTts"}) || !k.CreatedAt.Equal(before.CreatedAt) {
		t.Errorf("key = %+v (created %v before)", k, before.CreatedAt)
	}
	// Keys the file no longer lists stay.
	if _, err := st.GetAccessKey(ctx, "AK2"); err != nil {
		t.Errorf("unlisted key: %v", err)
	}
}

func TestApplyGeneratesUIDOnce(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	doc := mustParse(t, "accounts:\n  - name: nouid\n    access_keys: [{id: AK9, secret: \"0123456789abcdef\"}]\n")
	r1, err := Apply(ctx, svcOf(st), doc)
	if err != nil {
		t.Fatal(err)
	}
	uid := r1.Accounts[0].UID
	if len(uid) != 16 || !dialtone.ValidUID(uid) || r1.Accounts[0].Action != ActionCreated {
		t.Fatalf("result = %+v", r1)
	}
	r2, err := Apply(ctx, svcOf(st), mustParse(t, "accounts:\n  - name: nouid\n    access_keys: [{id: AK9, secret: \"0123456789abcdef\"}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if r2.Accounts[0].UID != uid || r2.AccountsUnchanged != 1 || r2.KeysUnchanged != 1 {
		t.Errorf("second apply = %+v, want the account %s matched by name", r2, uid)
	}
	if all, _ := st.ListAccounts(ctx); len(all) != 1 {
		t.Errorf("%d accounts, want 1", len(all))
	}
}

func TestApplyKeyOfAnotherAccount(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	if _, err := Apply(ctx, svcOf(st), mustParse(t, "accounts:\n  - uid: \"1\"\n    name: a\n    access_keys: [{id: SHARED, secret: \"0123456789abcdef\"}]\n")); err != nil {
		t.Fatal(err)
	}
	_, err := Apply(ctx, svcOf(st), mustParse(t, `
accounts:
  - uid: "2"
    name: b
    access_keys: [{id: SHARED, secret: "secretOfAccountB"}]
`))
	if !errors.Is(err, dialtone.ErrConflict) || !strings.Contains(err.Error(), "SHARED") || !strings.Contains(err.Error(), "line 5") {
		t.Fatalf("err = %v; want a conflict naming the key and line", err)
	}
	if strings.Contains(err.Error(), "secretOfAccountB") || strings.Contains(err.Error(), "0123456789abcdef") {
		t.Errorf("error shows a secret: %v", err)
	}
	// Conflicts are found before anything is written.
	if _, err := st.GetAccount(ctx, "2"); !errors.Is(err, dialtone.ErrNotFound) {
		t.Errorf("account 2 was created despite the conflict: %v", err)
	}
	if k, _ := st.GetAccessKey(ctx, "SHARED"); k.AccountUID != "1" || k.Secret != "0123456789abcdef" {
		t.Errorf("key changed: account %s", k.AccountUID)
	}
}

func TestApplyAmbiguousName(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	for _, uid := range []string{"1", "2"} {
		if err := st.PutAccount(ctx, &dialtone.Account{UID: uid, Name: "twin", Status: dialtone.AccountActive}); err != nil {
			t.Fatal(err)
		}
	}
	_, err := Apply(ctx, svcOf(st), mustParse(t, "accounts:\n  - name: twin\n"))
	if !errors.Is(err, dialtone.ErrConflict) || !strings.Contains(err.Error(), "twin") {
		t.Fatalf("err = %v", err)
	}
}

func TestApplyEmpty(t *testing.T) {
	res, err := Apply(context.Background(), svcOf(newStore(t)), mustParse(t, ""))
	if err != nil || res.AccountsCreated+res.AccountsUpdated+res.AccountsUnchanged != 0 {
		t.Fatalf("Apply(empty) = %+v, %v", res, err)
	}
}

// checkExampleResources checks what the example file stores beyond
// accounts and keys: numbers, templates, the imported voice file, flow
// control and the callback URL.
func checkExampleResources(t *testing.T, st dialtone.Store, voiceDir string) {
	t.Helper()
	ctx := context.Background()
	uid := "1234567890123456"
	nums, err := st.ListNumbers(ctx, uid)
	if err != nil || len(nums) != 1 || nums[0].Number != "057188880000" || nums[0].Concurrency != 10 {
		t.Fatalf("numbers %+v %v", nums, err)
	}
	tpl, err := st.GetTemplate(ctx, uid, "TTS_100001")
	if err != nil || tpl.Kind != dialtone.TemplateVerification || tpl.Status != dialtone.ReviewApproved || !strings.Contains(tpl.Content, "${code}") {
		t.Fatalf("template %+v %v", tpl, err)
	}
	vf, err := st.GetVoiceFile(ctx, uid, "e271f3f2-e155-4366-a9f4-0fe55765b3ec.wav")
	if err != nil || vf.Format != "wav" || vf.Duration < 900*time.Millisecond || vf.Duration > 1100*time.Millisecond {
		t.Fatalf("voice file %+v %v", vf, err)
	}
	if a, err := media.LoadVoiceFile(voiceDir, vf.StoredPath); err != nil || a.Duration() < 900*time.Millisecond {
		t.Fatalf("stored audio: %v", err)
	}
	set, err := st.GetAccountSettings(ctx, uid)
	if err != nil || set.FlowControl != (dialtone.FlowControl{PerMinute: 1, PerHour: 5, PerDay: 20}) || set.SmartCallCallbackURL != "http://127.0.0.1:9998/smartcall" {
		t.Fatalf("settings %+v %v", set, err)
	}
}

func TestApplyBlacklists(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	doc, err := Parse([]byte("blacklist: [赌博, ' spam ']\naccounts:\n  - uid: \"5\"\n    name: b\n    blacklist: [casino]\n    flow_control: {per_minute: 0, per_hour: 3, per_day: 9}\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if _, err := Apply(ctx, svcOf(st), doc); err != nil {
			t.Fatal(err)
		}
	}
	g, _ := st.GetAccountSettings(ctx, "")
	a, _ := st.GetAccountSettings(ctx, "5")
	if strings.Join(g.Blacklist, ",") != "赌博,spam" || strings.Join(a.Blacklist, ",") != "casino" || a.FlowControl != (dialtone.FlowControl{PerHour: 3, PerDay: 9}) {
		t.Fatalf("global %+v account %+v", g, a)
	}
	// Voice files need somewhere to go.
	doc, _ = Parse([]byte("accounts:\n  - name: v\n    voice_files: [{code: a.wav, path: ../examples/prompts/welcome.wav, kind: notification}]\n"), "")
	if _, err := Apply(ctx, resource.New(st, "", nil), doc, WithFiles(DirFiles("."))); !errors.Is(err, resource.ErrNoDataDir) || !strings.Contains(err.Error(), "line 3") {
		t.Fatalf("no data directory: %v", err)
	}
}

// TestApplyTemplateRemark: a template's remark is read from YAML, checked
// at its key's line and stored.
func TestApplyTemplateRemark(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	doc := mustParse(t, "accounts:\n  - uid: \"100\"\n    name: a\n    tts_templates:\n      - {code: TTS_7, kind: notification, content: hi, remark: from YAML}\n")
	if _, err := Apply(ctx, svcOf(st), doc); err != nil {
		t.Fatal(err)
	}
	if got, err := st.GetTemplate(ctx, "100", "TTS_7"); err != nil || got.Remark != "from YAML" {
		t.Fatalf("stored %+v, %v", got, err)
	}
	_, err := Parse([]byte("accounts:\n  - name: a\n    tts_templates:\n      - code: TTS_8\n        kind: notification\n        content: hi\n        remark: \" padded\"\n"), "r.yaml")
	if err == nil || !strings.Contains(err.Error(), "r.yaml: line 7: accounts[0].tts_templates[0].remark: must be at most 500 characters") {
		t.Fatalf("a bad remark: %v", err)
	}
}
