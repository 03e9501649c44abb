package resource

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/media"
	"github.com/dialtone-voice/dialtone/secret"
	"github.com/dialtone-voice/dialtone/sqlite"
)

// env is a service over a real SQLite store with one account, "100", and
// the audit log in a buffer.
type env struct {
	svc   *Service
	store dialtone.Store
	audit *syncBuffer
	data  string
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func newEnv(t *testing.T) *env {
	t.Helper()
	sealer, err := secret.NewSealer(make([]byte, secret.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "db"), sealer, sqlite.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &env{store: st, audit: &syncBuffer{}, data: t.TempDir()}
	e.svc = New(st, e.data, slog.New(slog.NewTextHandler(e.audit, nil)))
	if _, err := e.svc.PutAccount(ctx(), dialtone.Account{UID: "100", Name: "a", Status: dialtone.AccountActive, VoiceService: true}); err != nil {
		t.Fatal(err)
	}
	return e
}

func ctx() context.Context { return dialtone.WithActor(context.Background(), "test") }

func wantInvalid(t *testing.T, err error, field string) {
	t.Helper()
	var ie *dialtone.InvalidError
	if !errors.As(err, &ie) || ie.Field != field {
		t.Fatalf("error %v, want an InvalidError naming %q", err, field)
	}
}

func TestNumbers(t *testing.T) {
	e := newEnv(t)
	n, err := e.svc.CreateNumber(ctx(), dialtone.Number{AccountUID: "100", Number: "+8657188880000", Concurrency: 3})
	if err != nil || n.CreatedAt.IsZero() {
		t.Fatalf("CreateNumber = %+v, %v", n, err)
	}
	_, err = e.svc.CreateNumber(ctx(), dialtone.Number{AccountUID: "100", Number: "+8657188880000", Concurrency: 3})
	if !errors.Is(err, dialtone.ErrConflict) {
		t.Fatalf("second CreateNumber: %v", err)
	}
	for _, bad := range []dialtone.Number{{Number: "12", Concurrency: 1}, {Number: "0571-8888", Concurrency: 1}, {Number: "057188880001", Concurrency: 0}} {
		bad.AccountUID = "100"
		_, err := e.svc.CreateNumber(ctx(), bad)
		var ie *dialtone.InvalidError
		if !errors.As(err, &ie) {
			t.Errorf("CreateNumber(%+v) = %v, want invalid", bad, err)
		}
	}
	if _, action, err := e.svc.PutNumber(ctx(), dialtone.Number{AccountUID: "100", Number: "+8657188880000", Concurrency: 3}); err != nil || action != Unchanged {
		t.Fatalf("PutNumber unchanged = %s, %v", action, err)
	}
	got, action, err := e.svc.PutNumber(ctx(), dialtone.Number{AccountUID: "100", Number: "+8657188880000", Concurrency: 4})
	if err != nil || action != Updated || !got.CreatedAt.Equal(n.CreatedAt) {
		t.Fatalf("PutNumber update = %+v %s, %v", got, action, err)
	}
	if _, err := e.svc.UpdateNumber(ctx(), "100", "+8657188880000", 0); err == nil {
		t.Fatal("UpdateNumber to 0 accepted")
	}
	if _, err := e.svc.UpdateNumber(ctx(), "100", "057100000000", 2); !errors.Is(err, dialtone.ErrNotFound) {
		t.Fatalf("UpdateNumber of a number not there: %v", err)
	}
	if err := e.svc.DeleteNumber(ctx(), "100", "+8657188880000"); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.DeleteNumber(ctx(), "100", "+8657188880000"); !errors.Is(err, dialtone.ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	// Another account's number is not there for this one.
	if _, err := e.svc.CreateNumber(ctx(), dialtone.Number{AccountUID: "999", Number: "057100000000", Concurrency: 1}); !errors.Is(err, dialtone.ErrNotFound) {
		t.Fatalf("number of an account that does not exist: %v", err)
	}
	log := e.audit.String()
	for _, want := range []string{`msg=audit actor=test account=100 resource=number id=+8657188880000 action=created concurrency=3`,
		`action=updated concurrency=4`, `action=deleted`} {
		if !strings.Contains(log, want) {
			t.Errorf("audit lacks %q:\n%s", want, log)
		}
	}
	if strings.Count(log, "resource=number") != 3 {
		t.Errorf("audit has %d number records, want 3 (refused and unchanged changes are not audited):\n%s", strings.Count(log, "resource=number"), log)
	}
}

func TestTemplates(t *testing.T) {
	e := newEnv(t)
	tpl, err := e.svc.CreateTemplate(ctx(), dialtone.TTSTemplate{AccountUID: "100", Kind: dialtone.TemplateNotification, Content: "Hi ${name}"})
	if err != nil || !strings.HasPrefix(tpl.Code, "TTS_") || tpl.Status != dialtone.ReviewPending {
		t.Fatalf("CreateTemplate = %+v, %v", tpl, err)
	}
	// The documented rules, where the copies used to disagree: '-' and '_'
	// in codes, a voice variant.
	if _, err := e.svc.CreateTemplate(ctx(), dialtone.TTSTemplate{AccountUID: "100", Code: "TTS_a-b_1", Kind: dialtone.TemplateVerification,
		Content: "code ${code}", Voice: "en+f3", Status: dialtone.ReviewApproved}); err != nil {
		t.Fatalf("a code with - and _, a voice variant: %v", err)
	}
	for field, bad := range map[string]dialtone.TTSTemplate{
		"code":    {Code: "TTS_a b", Kind: dialtone.TemplateVerification, Content: "x"},
		"kind":    {Kind: "voice", Content: "x"},
		"content": {Kind: dialtone.TemplateVerification, Content: "Hi ${a-b}"},
		"voice":   {Kind: dialtone.TemplateVerification, Content: "x", Voice: "-v"},
		"status":  {Kind: dialtone.TemplateVerification, Content: "x", Status: "done"},
	} {
		bad.AccountUID = "100"
		_, err := e.svc.CreateTemplate(ctx(), bad)
		wantInvalid(t, err, field)
	}
	// Approve, then a change of the text takes it back to review; a change
	// of nothing does not.
	if tpl, err = e.svc.ReviewTemplate(ctx(), "100", tpl.Code, dialtone.ReviewApproved, ""); err != nil || tpl.Status != dialtone.ReviewApproved {
		t.Fatalf("approve: %+v %v", tpl, err)
	}
	same := "Hi ${name}"
	if tpl, err = e.svc.UpdateTemplate(ctx(), "100", tpl.Code, dialtone.TemplateUpdate{Content: &same}); err != nil || tpl.Status != dialtone.ReviewApproved {
		t.Fatalf("unchanged update: %+v %v", tpl, err)
	}
	other := "Bye ${name}"
	if tpl, err = e.svc.UpdateTemplate(ctx(), "100", tpl.Code, dialtone.TemplateUpdate{Content: &other}); err != nil || tpl.Status != dialtone.ReviewPending {
		t.Fatalf("update: %+v %v", tpl, err)
	}
	_, err = e.svc.UpdateTemplate(ctx(), "100", tpl.Code, dialtone.TemplateUpdate{})
	wantInvalid(t, err, "")
	_, err = e.svc.ReviewTemplate(ctx(), "100", tpl.Code, dialtone.ReviewApproved, "why")
	wantInvalid(t, err, "reason")
	if _, err := e.svc.ReviewTemplate(ctx(), "100", tpl.Code, dialtone.ReviewRejected, "mentions a competitor"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(e.audit.String(), `action=rejected reason="mentions a competitor"`) {
		t.Errorf("the rejection's reason is not in the audit:\n%s", e.audit)
	}
}

// wav makes a short tone.
func wav(t *testing.T) []byte {
	t.Helper()
	s := make([]int16, 8000)
	for i := range s {
		s[i] = int16(8000 * math.Sin(2*math.Pi*440*float64(i)/8000))
	}
	var b bytes.Buffer
	if err := media.EncodeWAV(&b, s, 8000, 1); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestVoiceFiles(t *testing.T) {
	e := newEnv(t)
	f, err := e.svc.CreateVoiceFile(ctx(), dialtone.VoiceFile{AccountUID: "100", Kind: dialtone.VoiceFileNotification}, wav(t))
	if err != nil || !strings.HasSuffix(f.Code, ".wav") || f.Status != dialtone.ReviewPending || f.Duration.Seconds() != 1 {
		t.Fatalf("CreateVoiceFile = %+v, %v", f, err)
	}
	if _, err := os.Stat(filepath.Join(e.data, filepath.FromSlash(f.StoredPath))); err != nil {
		t.Fatalf("audio not stored: %v", err)
	}
	_, err = e.svc.CreateVoiceFile(ctx(), dialtone.VoiceFile{AccountUID: "100", Code: f.Code, Kind: dialtone.VoiceFileNotification}, wav(t))
	if !errors.Is(err, dialtone.ErrConflict) {
		t.Fatalf("same code again: %v", err)
	}
	_, err = e.svc.CreateVoiceFile(ctx(), dialtone.VoiceFile{AccountUID: "100", Code: "..x.wav", Kind: dialtone.VoiceFileNotification}, wav(t))
	wantInvalid(t, err, "code")
	_, err = e.svc.CreateVoiceFile(ctx(), dialtone.VoiceFile{AccountUID: "100", Kind: dialtone.VoiceFileNotification}, []byte("not audio"))
	var de *dialtone.Error
	if !errors.As(err, &de) || de.Code != dialtone.CodeVoiceFileIllegal {
		t.Fatalf("bad audio: %v", err)
	}
	if _, err := e.svc.ReviewVoiceFile(ctx(), "100", f.Code, dialtone.ReviewApproved, ""); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.DeleteVoiceFile(ctx(), "100", f.Code); err != nil {
		t.Fatal(err)
	}
}

func TestSettingsAndSubscriptions(t *testing.T) {
	e := newEnv(t)
	zero, url := 0, "http://127.0.0.1:9/cb"
	st, action, err := e.svc.UpdateSettings(ctx(), "100", dialtone.SettingsUpdate{
		FlowControl: &dialtone.FlowControlUpdate{PerMinute: &zero}, SmartCallCallbackURL: &url, Blacklist: &[]string{" casino ", "casino", "赌博"}})
	if err != nil || action != Updated || st.FlowControl.PerMinute != 0 || st.FlowControl.PerHour != 5 || strings.Join(st.Blacklist, ",") != "casino,赌博" {
		t.Fatalf("UpdateSettings = %+v %s, %v", st, action, err)
	}
	if _, action, _ := e.svc.UpdateSettings(ctx(), "100", dialtone.SettingsUpdate{SmartCallCallbackURL: &url}); action != Unchanged {
		t.Errorf("the same URL again: %s", action)
	}
	ftp := "ftp://x"
	_, _, err = e.svc.UpdateSettings(ctx(), "100", dialtone.SettingsUpdate{SmartCallCallbackURL: &ftp})
	wantInvalid(t, err, "smartcall_callback_url")
	_, _, err = e.svc.UpdateSettings(ctx(), "100", dialtone.SettingsUpdate{Blacklist: &[]string{"ok", " "}})
	wantInvalid(t, err, "blacklist[1]")

	secretValue := "s3cret"
	sub, action, err := e.svc.PutSubscription(ctx(), "100", dialtone.MsgVoiceReport, dialtone.SubscriptionUpdate{Queue: true, PushURL: "https://example.com/r", PushSecret: &secretValue})
	if err != nil || action != Created || sub.PushSecret != "s3cret" {
		t.Fatalf("PutSubscription = %+v %s, %v", sub, action, err)
	}
	// Without the push URL the kept secret goes too.
	sub, _, err = e.svc.PutSubscription(ctx(), "100", dialtone.MsgVoiceReport, dialtone.SubscriptionUpdate{Queue: true})
	if err != nil || sub.PushSecret != "" {
		t.Fatalf("queue only: %+v, %v", sub, err)
	}
	_, _, err = e.svc.PutSubscription(ctx(), "100", dialtone.MsgVoiceReport, dialtone.SubscriptionUpdate{})
	wantInvalid(t, err, "")
	_, _, err = e.svc.PutSubscription(ctx(), "100", "Nope", dialtone.SubscriptionUpdate{Queue: true})
	wantInvalid(t, err, "message_type")
	if strings.Contains(e.audit.String(), "s3cret") {
		t.Errorf("the push secret is in the audit:\n%s", e.audit)
	}
}

func TestKeysAndUsers(t *testing.T) {
	e := newEnv(t)
	k, err := e.svc.CreateAccessKey(ctx(), "100", dialtone.KeyUpdate{})
	if err != nil || !strings.HasPrefix(k.ID, "LTAI") || !k.Enabled || len(k.Secret) != 30 {
		t.Fatalf("CreateAccessKey = %+v, %v", k, err)
	}
	_, err = e.svc.UpdateAccessKey(ctx(), "100", k.ID, dialtone.KeyUpdate{Actions: &[]string{}})
	wantInvalid(t, err, "actions")
	if _, err := e.svc.UpdateAccessKey(ctx(), "200", k.ID, dialtone.KeyUpdate{Actions: &[]string{"*"}}); !errors.Is(err, dialtone.ErrNotFound) {
		t.Fatalf("another account's key: %v", err)
	}
	if _, err := e.svc.PutAccount(ctx(), dialtone.Account{UID: "200", Name: "b", Status: dialtone.AccountActive}); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.PutAccessKey(ctx(), dialtone.AccessKey{ID: k.ID, AccountUID: "200", Secret: "0123456789abcdefgh", Enabled: true})
	if !errors.Is(err, dialtone.ErrConflict) || strings.Contains(err.Error(), "100") {
		t.Fatalf("a key of another account: %v", err)
	}
	if strings.Contains(e.audit.String(), k.Secret) {
		t.Fatal("a key secret is in the audit")
	}

	_, _, err = e.svc.PutConsoleUser(ctx(), dialtone.ConsoleUserInput{Username: "ops", Password: "          ", Operator: true})
	wantInvalid(t, err, "password")
	u, action, err := e.svc.PutConsoleUser(ctx(), dialtone.ConsoleUserInput{Username: "ops", Password: "long-enough-pw", Operator: true})
	if err != nil || action != Created || !u.Operator() {
		t.Fatalf("PutConsoleUser = %+v %s, %v", u, action, err)
	}
	if _, action, _ := e.svc.PutConsoleUser(ctx(), dialtone.ConsoleUserInput{Username: "ops", Password: "long-enough-pw", Operator: true}); action != Unchanged {
		t.Errorf("same password again: %s", action)
	}
	if _, _, err := e.svc.PutConsoleUser(ctx(), dialtone.ConsoleUserInput{Username: "li", Password: "long-enough-pw", AccountUID: "404"}); !errors.Is(err, dialtone.ErrNotFound) {
		t.Fatalf("a user of no account: %v", err)
	}
	if strings.Contains(e.audit.String(), "long-enough-pw") {
		t.Fatal("a password is in the audit")
	}
}

// TestConsoleUserRoles: a role is chosen on creation and changes only by
// its own action; a password change keeps the role; the last operator can
// be neither demoted nor deleted, by any door.
func TestConsoleUserRoles(t *testing.T) {
	e := newEnv(t)
	get := func(name string) *dialtone.ConsoleUser {
		t.Helper()
		u, err := e.svc.store.GetConsoleUser(ctx(), name)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	if _, err := e.svc.CreateConsoleUser(ctx(), dialtone.ConsoleUserInput{Username: "li", Password: "long-enough-pw"}); err == nil {
		t.Fatal("a user without a role was created")
	} else {
		wantInvalid(t, err, "account")
	}
	if _, err := e.svc.CreateConsoleUser(ctx(), dialtone.ConsoleUserInput{Username: "ops", Password: "long-enough-pw", Operator: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.CreateConsoleUser(ctx(), dialtone.ConsoleUserInput{Username: "li", Password: "long-enough-pw", AccountUID: "100"}); err != nil {
		t.Fatal(err)
	}
	// Creating again under the same name changes nothing.
	_, err := e.svc.CreateConsoleUser(ctx(), dialtone.ConsoleUserInput{Username: "li", Password: "another-password", Operator: true})
	if !errors.Is(err, dialtone.ErrConflict) || get("li").AccountUID != "100" {
		t.Fatalf("create over an existing user: %v, account %q", err, get("li").AccountUID)
	}
	hash := get("li").PasswordHash
	if err := e.svc.SetConsoleUserPassword(ctx(), "li", "          "); err == nil {
		t.Fatal("a password of spaces was accepted")
	}
	if err := e.svc.SetConsoleUserPassword(ctx(), "li", "a-new-password"); err != nil {
		t.Fatal(err)
	}
	if u := get("li"); u.AccountUID != "100" || u.PasswordHash == hash {
		t.Fatalf("after a password change: account %q, hash changed %v", u.AccountUID, u.PasswordHash != hash)
	}
	// The last operator stays one.
	for name, err := range map[string]error{
		"delete":   e.svc.DeleteConsoleUser(ctx(), "ops"),
		"set role": e.svc.SetConsoleUserRole(ctx(), "ops", "100"),
		"put": func() error {
			_, _, err := e.svc.PutConsoleUser(ctx(), dialtone.ConsoleUserInput{Username: "ops", Password: "long-enough-pw", AccountUID: "100"})
			return err
		}(),
	} {
		if !errors.Is(err, dialtone.ErrConflict) || !strings.Contains(err.Error(), "last operator") {
			t.Errorf("%s of the last operator: %v", name, err)
		}
	}
	if !get("ops").Operator() {
		t.Fatal("the last operator was demoted")
	}
	// With a second operator, the first can go.
	if err := e.svc.SetConsoleUserRole(ctx(), "li", ""); err != nil || !get("li").Operator() {
		t.Fatalf("make li an operator: %v", err)
	}
	if err := e.svc.SetConsoleUserRole(ctx(), "ops", "100"); err != nil || get("ops").AccountUID != "100" {
		t.Fatalf("demote ops: %v", err)
	}
	if err := e.svc.SetConsoleUserRole(ctx(), "ops", "404"); !errors.Is(err, dialtone.ErrNotFound) {
		t.Fatalf("a role in no account: %v", err)
	}
	if !LastOperator([]dialtone.ConsoleUser{*get("li"), *get("ops")}, "li") || LastOperator([]dialtone.ConsoleUser{*get("li"), *get("ops")}, "ops") {
		t.Fatal("LastOperator")
	}
}

// TestAtomicAndPreview: changes made through Atomic commit together or not
// at all, and are audited only once committed; Preview keeps nothing and
// writes no audio.
func TestAtomicAndPreview(t *testing.T) {
	e := newEnv(t)
	boom := errors.New("boom")
	err := e.svc.Atomic(ctx(), func(ctx context.Context, tx *Service) error {
		if _, err := tx.CreateNumber(ctx, dialtone.Number{AccountUID: "100", Number: "057100000001", Concurrency: 1}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if _, err := e.store.GetNumber(context.Background(), "100", "057100000001"); !errors.Is(err, dialtone.ErrNotFound) {
		t.Fatalf("a number of a failed transaction: %v", err)
	}
	if strings.Contains(e.audit.String(), "057100000001") {
		t.Fatalf("a change of a failed transaction was audited:\n%s", e.audit)
	}
	err = e.svc.Preview(ctx(), func(ctx context.Context, tx *Service) error {
		if _, err := tx.CreateNumber(ctx, dialtone.Number{AccountUID: "100", Number: "057100000002", Concurrency: 1}); err != nil {
			return err
		}
		_, err := tx.CreateVoiceFile(ctx, dialtone.VoiceFile{AccountUID: "100", Code: "p.wav", Kind: dialtone.VoiceFileNotification}, wav(t))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.GetNumber(context.Background(), "100", "057100000002"); !errors.Is(err, dialtone.ErrNotFound) {
		t.Fatalf("a number of a preview: %v", err)
	}
	if entries, _ := os.ReadDir(e.data); len(entries) != 0 {
		t.Fatalf("a preview wrote %d entries under the data directory", len(entries))
	}
	if strings.Contains(e.audit.String(), "057100000002") {
		t.Fatal("a preview was audited")
	}
}
