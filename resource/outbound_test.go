package resource

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/outbound"
)

// countingChecker is the outbound client's check, counted.
type countingChecker struct {
	c *outbound.Client
	n atomic.Int32
}

func (c *countingChecker) CheckURL(ctx context.Context, raw string, trusted bool) error {
	c.n.Add(1)
	return c.c.CheckURL(ctx, raw, trusted)
}

func checkedEnv(t *testing.T) (*env, *countingChecker) {
	t.Helper()
	e := newEnv(t)
	client, err := outbound.New(outbound.Config{})
	if err != nil {
		t.Fatal(err)
	}
	chk := &countingChecker{c: client}
	e.svc.urls = chk
	return e, chk
}

func operator() context.Context {
	return dialtone.WithTrusted(dialtone.WithActor(context.Background(), "admin-api"))
}

func TestOutboundURLsCheckedAtEntry(t *testing.T) {
	e, chk := checkedEnv(t)
	user := ctx() // an account user's change: not trusted
	_, _, err := e.svc.PutSubscription(user, "100", dialtone.MsgVoiceReport, dialtone.SubscriptionUpdate{PushURL: "http://0x7f.1:8080/r"})
	wantInvalid(t, err, "push_url")
	if !strings.Contains(err.Error(), "refused by the egress policy (rule loopback)") || strings.HasPrefix(err.Error(), "push_url: outbound:") {
		t.Errorf("refusal: %v", err)
	}
	if _, err := e.store.GetSubscription(user, "100", dialtone.MsgVoiceReport); !errors.Is(err, dialtone.ErrNotFound) {
		t.Errorf("a refused URL was stored: %v", err)
	}
	// The operator's URL may reach loopback, and is stored as trusted.
	sub, _, err := e.svc.PutSubscription(operator(), "100", dialtone.MsgVoiceReport, dialtone.SubscriptionUpdate{PushURL: "http://127.0.0.1:8080/r"})
	if err != nil || !sub.PushURLTrusted {
		t.Fatalf("operator's loopback URL: %+v, %v", sub, err)
	}
	// Metadata is refused whoever sets it.
	_, _, err = e.svc.PutSubscription(operator(), "100", dialtone.MsgVoiceReport, dialtone.SubscriptionUpdate{PushURL: "http://169.254.169.254/"})
	wantInvalid(t, err, "push_url")
	// The account user saves the operator's URL again (to turn the queue
	// on): not checked again, and the trust is kept.
	before := chk.n.Load()
	sub, _, err = e.svc.PutSubscription(user, "100", dialtone.MsgVoiceReport, dialtone.SubscriptionUpdate{Queue: true, PushURL: "http://127.0.0.1:8080/r"})
	if err != nil || !sub.PushURLTrusted || !sub.Queue || chk.n.Load() != before {
		t.Errorf("re-saved by the account user: %+v, %v, checks %d -> %d", sub, err, before, chk.n.Load())
	}
	// Another URL by the account user is its own: untrusted, checked.
	sub, _, err = e.svc.PutSubscription(user, "100", dialtone.MsgVoiceReport, dialtone.SubscriptionUpdate{PushURL: "http://93.184.216.34/r"})
	if err != nil || sub.PushURLTrusted {
		t.Errorf("the account user's public URL: %+v, %v", sub, err)
	}

	// The SmartCall callback URL follows the same rules.
	bad := "http://[::ffff:10.0.0.1]/cb"
	_, _, err = e.svc.UpdateSettings(user, "100", dialtone.SettingsUpdate{SmartCallCallbackURL: &bad})
	wantInvalid(t, err, "smartcall_callback_url")
	if !strings.Contains(err.Error(), "rule private") {
		t.Errorf("refusal: %v", err)
	}
	loop := "http://127.0.0.1:9/cb"
	st, _, err := e.svc.UpdateSettings(operator(), "100", dialtone.SettingsUpdate{SmartCallCallbackURL: &loop})
	if err != nil || !st.SmartCallCallbackTrusted {
		t.Fatalf("operator's callback URL: %+v, %v", st, err)
	}
	perMinute := 3
	st, _, err = e.svc.UpdateSettings(user, "100", dialtone.SettingsUpdate{FlowControl: &dialtone.FlowControlUpdate{PerMinute: &perMinute}})
	if err != nil || !st.SmartCallCallbackTrusted || st.SmartCallCallbackURL != loop {
		t.Errorf("another setting changed by the account user: %+v, %v", st, err)
	}
	none := ""
	st, _, err = e.svc.UpdateSettings(operator(), "100", dialtone.SettingsUpdate{SmartCallCallbackURL: &none})
	if err != nil || st.SmartCallCallbackTrusted {
		t.Errorf("no callback URL, yet trusted: %+v, %v", st, err)
	}
}

func TestSecretRotation(t *testing.T) {
	e := newEnv(t)
	now := time.Now()
	first, second := "first-push-secret", "second-push-secret"
	u := dialtone.SubscriptionUpdate{PushURL: "https://example.com/r", PushSecret: &first}
	if _, _, err := e.svc.PutSubscription(ctx(), "100", dialtone.MsgVoiceReport, u); err != nil {
		t.Fatal(err)
	}
	day := int64(86400)
	u.PushSecret, u.PushSecretGraceSeconds = &second, &day
	sub, action, err := e.svc.PutSubscription(ctx(), "100", dialtone.MsgVoiceReport, u)
	k := sub.PushSigning()
	if err != nil || action != Updated || k.Current != second || k.Previous != first || !k.Rotating(now.Add(23*time.Hour)) || k.Rotating(now.Add(25*time.Hour)) {
		t.Fatalf("rotated: %#v %s, %v", k, action, err)
	}
	// The same document applied again changes nothing (its grace included).
	if again, action, err := e.svc.PutSubscription(ctx(), "100", dialtone.MsgVoiceReport, u); err != nil || action != Unchanged ||
		again.PushSecretPreviousUntil != sub.PushSecretPreviousUntil {
		t.Errorf("applied again: %s, %v", action, err)
	}
	// A grace needs a new secret, and is at most 7 days.
	_, _, err = e.svc.PutSubscription(ctx(), "100", dialtone.MsgVoiceReport, dialtone.SubscriptionUpdate{PushURL: "https://example.com/r", PushSecretGraceSeconds: &day})
	wantInvalid(t, err, "push_secret_grace_seconds")
	long := int64(8 * 86400)
	_, _, err = e.svc.PutSubscription(ctx(), "100", dialtone.MsgVoiceReport, dialtone.SubscriptionUpdate{PushURL: "https://example.com/r", PushSecret: &first, PushSecretGraceSeconds: &long})
	wantInvalid(t, err, "push_secret_grace_seconds")
	// Without a grace the old secret ends at once.
	third := "third-push-secret"
	sub, _, err = e.svc.PutSubscription(ctx(), "100", dialtone.MsgVoiceReport, dialtone.SubscriptionUpdate{PushURL: "https://example.com/r", PushSecret: &third})
	if err != nil || sub.PushSecret != third || sub.PushSecretPrevious != "" {
		t.Errorf("replaced without a grace: %#v, %v", sub.PushSigning(), err)
	}

	// The callback's secret, the same way.
	cb, s1, s2 := "https://example.com/cb", "first-callback-secret", "second-callback-secret"
	if _, _, err := e.svc.UpdateSettings(ctx(), "100", dialtone.SettingsUpdate{SmartCallCallbackURL: &cb, SmartCallCallbackSecret: &s1}); err != nil {
		t.Fatal(err)
	}
	hour := int64(3600)
	st, _, err := e.svc.UpdateSettings(ctx(), "100", dialtone.SettingsUpdate{SmartCallCallbackSecret: &s2, SmartCallCallbackSecretGraceSeconds: &hour})
	if kk := st.SmartCallCallbackSecret; err != nil || kk.Current != s2 || kk.Previous != s1 || !kk.Rotating(now.Add(59*time.Minute)) {
		t.Fatalf("callback rotated: %#v, %v", kk, err)
	}
	_, _, err = e.svc.UpdateSettings(ctx(), "100", dialtone.SettingsUpdate{SmartCallCallbackSecretGraceSeconds: &hour})
	wantInvalid(t, err, "smartcall_callback_secret_grace_seconds")
	// Without a URL there is nothing to sign: the secret goes with it.
	none := ""
	st, _, err = e.svc.UpdateSettings(ctx(), "100", dialtone.SettingsUpdate{SmartCallCallbackURL: &none})
	if err != nil || st.SmartCallCallbackSecret != (dialtone.SigningSecret{}) {
		t.Errorf("callback URL removed: %#v, %v", st.SmartCallCallbackSecret, err)
	}
	_, _, err = e.svc.UpdateSettings(ctx(), "100", dialtone.SettingsUpdate{SmartCallCallbackSecret: &s1})
	wantInvalid(t, err, "smartcall_callback_secret")

	// The audit says what happened to each secret, never the secret.
	recs, err := e.store.ListAudit(ctx(), dialtone.AuditFilter{AccountUID: "100"})
	if err != nil {
		t.Fatal(err)
	}
	var changes []string
	for _, r := range recs {
		for k, v := range r.Detail {
			if strings.Contains(v, "-secret") {
				t.Errorf("audit record %s holds a secret in %s", r.ID, k)
			}
		}
		switch r.Resource {
		case "subscription":
			changes = append(changes, "push:"+r.Detail["push_secret"])
		case "settings":
			changes = append(changes, "callback:"+r.Detail["smartcall_callback_secret"])
		}
		if r.Actor != "test" {
			t.Errorf("audit actor %q", r.Actor)
		}
	}
	// Records of one millisecond have no order among them: compare sorted.
	slices.Sort(changes)
	want := "callback:removed callback:rotated callback:set push:changed push:rotated push:set"
	if got := strings.Join(changes, " "); got != want {
		t.Errorf("audit: %s, want %s", got, want)
	}
	for _, secret := range []string{first, second, third, s1, s2} {
		if strings.Contains(e.audit.String(), secret) {
			t.Errorf("the audit log holds %s", secret)
		}
	}
}

// The audit is stored in the change's transaction: a change that fails,
// or a preview, leaves none.
func TestAuditStoredWithTheChange(t *testing.T) {
	e := newEnv(t)
	count := func() int {
		recs, err := e.store.ListAudit(ctx(), dialtone.AuditFilter{AccountUID: "100"})
		if err != nil {
			t.Fatal(err)
		}
		return len(recs)
	}
	base := count()
	boom := errors.New("boom")
	err := e.svc.Atomic(ctx(), func(ctx context.Context, tx *Service) error {
		if _, err := tx.CreateNumber(ctx, dialtone.Number{AccountUID: "100", Number: "057100000001", Concurrency: 1}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) || count() != base {
		t.Errorf("a failed change left audit records: %v, %d -> %d", err, base, count())
	}
	if err := e.svc.Preview(ctx(), func(ctx context.Context, tx *Service) error {
		_, err := tx.CreateNumber(ctx, dialtone.Number{AccountUID: "100", Number: "057100000002", Concurrency: 1})
		return err
	}); err != nil || count() != base {
		t.Errorf("a preview left audit records: %v, %d -> %d", err, base, count())
	}
	if _, err := e.svc.CreateNumber(ctx(), dialtone.Number{AccountUID: "100", Number: "057100000003", Concurrency: 1}); err != nil {
		t.Fatal(err)
	}
	recs, _ := e.store.ListAudit(ctx(), dialtone.AuditFilter{AccountUID: "100", Resource: "number"})
	if len(recs) != 1 || recs[0].ResourceID != "057100000003" || recs[0].Action != "created" || recs[0].Actor != "test" || recs[0].Detail["concurrency"] != "1" {
		t.Errorf("audit of the number: %+v", recs)
	}
}
