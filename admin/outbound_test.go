package admin

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone/outbound"
	"github.com/dialtone-voice/dialtone/resource"
)

// The admin API is the operator's door: its URLs are trusted (loopback is
// fine, metadata never is), it shows who set each URL and whether a
// rotation runs, never a secret, and it lists the audit trail.
func TestOutboundThroughAdmin(t *testing.T) {
	e := newResEnv(t)
	client, err := outbound.New(outbound.Config{})
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(e.logs, nil))
	e.h = New(resource.New(e.store, t.TempDir(), logger, resource.WithURLChecker(client)), TokenList(token), logger)
	sub := "/admin/v1/accounts/" + resA + "/subscriptions/VoiceReport"
	var info SubscriptionInfo
	e.do("PUT", sub, `{"push_url":"http://127.0.0.1:9/r","push_secret":"admin-secret-1"}`).want(t, 200, &info)
	if !info.PushURLTrusted || !info.PushSecretSet || info.PushSecretPreviousUntil != nil {
		t.Errorf("subscription %+v", info)
	}
	before := time.Now()
	r := e.do("PUT", sub, `{"push_url":"http://127.0.0.1:9/r","push_secret":"admin-secret-2","push_secret_grace_seconds":3600}`)
	r.want(t, 200, &info)
	if info.PushSecretPreviousUntil == nil || info.PushSecretPreviousUntil.Before(before.Add(59*time.Minute)) || strings.Contains(r.body, "admin-secret") {
		t.Errorf("rotated subscription %s", r.body)
	}
	e.do("PUT", sub, `{"push_url":"http://169.254.169.254/latest/meta-data/"}`).wantField(t, "push_url")
	e.do("PUT", sub, `{"push_url":"http://127.0.0.1:9/r","push_secret_grace_seconds":60}`).wantField(t, "push_secret_grace_seconds")
	e.do("PUT", sub, `{"push_url":"http://127.0.0.1:9/r","push_secret":"x","push_secret_grace_seconds":-1}`).wantField(t, "push_secret_grace_seconds")

	set := "/admin/v1/accounts/" + resA + "/settings"
	var st SettingsInfo
	r = e.do("PUT", set, `{"smartcall_callback_url":"http://10.0.0.7/cb","smartcall_callback_secret":"admin-callback-1"}`)
	r.want(t, 200, &st)
	if !st.SmartCallCallbackTrusted || !st.SmartCallCallbackSecret || strings.Contains(r.body, "admin-callback") {
		t.Errorf("settings %s", r.body)
	}
	e.do("PUT", set, `{"smartcall_callback_url":"http://metadata.google.internal/"}`).wantField(t, "smartcall_callback_url")

	var audit struct{ Audit []AuditInfo }
	r = e.do("GET", "/admin/v1/audit?account="+resA, "")
	r.want(t, 200, &audit)
	if len(audit.Audit) != 3 || strings.Contains(r.body, "admin-secret") || strings.Contains(r.body, "admin-callback") {
		t.Fatalf("audit %s", r.body)
	}
	for _, a := range audit.Audit {
		if a.Actor != "admin-api" || a.AccountUID != resA || a.At.IsZero() {
			t.Errorf("audit record %+v", a)
		}
	}
	if a := audit.Audit[len(audit.Audit)-1]; a.Resource != "subscription" || a.Detail["push_secret"] != "set" || a.Detail["push_url_trusted"] != "true" {
		t.Errorf("oldest record %+v", a)
	}
	e.do("GET", "/admin/v1/audit?account="+resA+"&resource=settings&limit=1", "").want(t, 200, &audit)
	if len(audit.Audit) != 1 || audit.Audit[0].Detail["smartcall_callback_secret"] != "set" {
		t.Errorf("settings records %+v", audit.Audit)
	}
	e.do("GET", "/admin/v1/audit?account="+resA+"&limit=1&before="+audit.Audit[0].ID, "").want(t, 200, &audit)
	if len(audit.Audit) != 1 || audit.Audit[0].Resource != "subscription" {
		t.Errorf("next page %+v", audit.Audit)
	}
	e.do("GET", "/admin/v1/audit?account="+resB, "").want(t, 200, &audit)
	if len(audit.Audit) != 0 {
		t.Errorf("account B's audit %+v", audit.Audit)
	}
	e.do("GET", "/admin/v1/audit?account=x", "").wantField(t, "account")
	e.do("GET", "/admin/v1/audit?limit=0", "").wantField(t, "limit")
	e.do("GET", "/admin/v1/audit?before=nope", "").wantField(t, "before")
	if strings.Contains(e.logs.String(), "admin-secret") || strings.Contains(e.logs.String(), "admin-callback") {
		t.Error("a secret is in the logs")
	}
}
