package console_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone/internal/dnstest"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/console"
	"github.com/dialtone-voice/dialtone/outbound"
	"github.com/dialtone-voice/dialtone/resource"
)

// An account user of the console enters push and callback URLs through an
// HTTP session with its CSRF token. The egress policy refuses, when they
// are entered, every spelling of an address the user may not reach, and a
// host name that resolves to one (answered by a test DNS server on
// loopback); the operator's allow-list lifts what it names; a redirect is
// never followed; and nothing of an answer but its status and the receipt
// format's code and msg is shown to the user.

// egressFixture is the console over a resource service and a test push
// sender that share one outbound client, whose policy allows allow and
// which resolves names with the test DNS server.
func egressFixture(t *testing.T, allow ...string) *fixture {
	t.Helper()
	f := newFixture(t)
	d := dnstest.New(t)
	d.Set("loopback.test", "127.0.0.1")
	d.Set("private.test", "10.1.2.3")
	policy, err := outbound.NewPolicy(allow...)
	must(t, err)
	client, err := outbound.New(outbound.Config{Policy: policy, Resolver: d.Resolver()})
	must(t, err)
	t.Cleanup(client.CloseIdleConnections)
	res := resource.New(f.store, t.TempDir(), nil, resource.WithURLChecker(client))
	c, err := console.New(console.Config{Store: f.store, Resources: res, Outbound: client, Now: f.clock.Now, DataDir: t.TempDir()})
	must(t, err)
	f.srv.Close()
	f.srv = httptest.NewServer(c)
	t.Cleanup(f.srv.Close)
	return f
}

var messageRE = regexp.MustCompile(`(?s)<p class="(flash|error)"[^>]*>(.*?)</p>`)

// submit posts a form and follows its redirect; it returns the message
// of the page it leads to and whether it is an error.
func (b *browser) submit(csrf, path string, form url.Values) (msg string, isErr bool) {
	b.t.Helper()
	form.Set("csrf", csrf)
	st, _, h := b.do("POST", path, form, nil)
	if st != http.StatusSeeOther {
		b.t.Fatalf("POST %s: %d, want a redirect", path, st)
	}
	_, page, _ := b.do("GET", h.Get("Location"), nil, nil)
	m := messageRE.FindStringSubmatch(page)
	if m == nil {
		return "", false
	}
	return unescape(m[2]), m[1] == "error"
}

func unescape(s string) string {
	return strings.NewReplacer("&#34;", `"`, "&quot;", `"`, "&#39;", "'", "&amp;", "&", "&lt;", "<", "&gt;", ">").Replace(s)
}

// spellings are the addresses an account user must not reach unless the
// operator allows them, with the rule that refuses each and whether
// --egress-allow 127.0.0.1 lifts it.
func spellings(port string) []struct {
	url, rule string
	allowed   bool
} {
	return []struct {
		url, rule string
		allowed   bool
	}{
		{"http://127.0.0.1:" + port + "/r", "loopback", true},
		{"http://10.0.0.1/r", "private", false},
		{"http://169.254.169.254/latest/meta-data/", "metadata", false},
		{"http://[::1]:" + port + "/r", "loopback", false},
		{"http://0.0.0.0:" + port + "/r", "unspecified", false},
		{"http://2130706433:" + port + "/r", "loopback", true},         // decimal
		{"http://0177.0.0.1:" + port + "/r", "loopback", true},         // octal
		{"http://[::ffff:127.0.0.1]:" + port + "/r", "loopback", true}, // IPv4-mapped IPv6
		{"http://loopback.test:" + port + "/r", "loopback", true},      // a name resolving to loopback
		{"http://private.test/r", "private", false},                    // a name resolving to a private address
		{"http://metadata.google.internal/computeMetadata/v1/", "metadata", false},
	}
}

func TestEgressRefusedAtEntry(t *testing.T) {
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{"code":0}`) }))
	defer rcv.Close()
	_, port, _ := net.SplitHostPort(rcv.Listener.Addr().String())
	for _, allow := range [][]string{nil, {"127.0.0.1"}} {
		f := egressFixture(t, allow...)
		alice := f.browser(t)
		csrf := alice.mustSignIn("alice", "alice-pass")
		ctx := context.Background()
		for _, sp := range spellings(port) {
			refused := allow == nil || !sp.allowed
			// The push URL, on the receipts page.
			msg, isErr := alice.submit(csrf, "/console/receipts", url.Values{"type": {dialtone.MsgVoiceReport}, "push_url": {sp.url}})
			t.Logf("allow %v, %s: %s", allow, sp.url, msg)
			sub, err := f.store.GetSubscription(ctx, acctA, dialtone.MsgVoiceReport)
			switch {
			case refused && (!isErr || !strings.Contains(msg, "Push URL: ") || !strings.Contains(msg, "refused by the egress policy (rule "+sp.rule+")")):
				t.Errorf("allow %v, push URL %s: %q, want a refusal naming the rule %s", allow, sp.url, msg, sp.rule)
			case refused && err == nil && sub.PushURL == sp.url:
				t.Errorf("allow %v, push URL %s: refused but stored", allow, sp.url)
			case !refused && (isErr || err != nil || sub.PushURL != sp.url || sub.PushURLTrusted):
				t.Errorf("allow %v, push URL %s: %q, stored %+v %v, want it stored as an account user's", allow, sp.url, msg, sub, err)
			}
			// The SmartCall callback URL, on its page.
			msg, isErr = alice.submit(csrf, "/console/callback", url.Values{"smartcall_callback_url": {sp.url}})
			st, err := f.store.GetAccountSettings(ctx, acctA)
			must(t, err)
			switch {
			case refused && (!isErr || !strings.Contains(msg, "SmartCall callback URL: ") || !strings.Contains(msg, "(rule "+sp.rule+")")):
				t.Errorf("allow %v, callback URL %s: %q, want a refusal naming the rule %s", allow, sp.url, msg, sp.rule)
			case refused && st.SmartCallCallbackURL == sp.url:
				t.Errorf("allow %v, callback URL %s: refused but stored", allow, sp.url)
			case !refused && (isErr || st.SmartCallCallbackURL != sp.url || st.SmartCallCallbackTrusted):
				t.Errorf("allow %v, callback URL %s: %q, stored %q (trusted %v)", allow, sp.url, msg, st.SmartCallCallbackURL, st.SmartCallCallbackTrusted)
			}
		}
	}
	// An operator's URLs are trusted: loopback is fine without an
	// allow-list, cloud metadata never is.
	f := egressFixture(t)
	op := f.browser(t)
	csrf := op.mustSignIn("admin", "operator-pass")
	if msg, isErr := op.submit(csrf, "/console/receipts?acct="+acctA, url.Values{"type": {dialtone.MsgVoiceReport}, "push_url": {rcv.URL + "/r"}}); isErr {
		t.Errorf("operator's loopback push URL refused: %q", msg)
	}
	sub, err := f.store.GetSubscription(context.Background(), acctA, dialtone.MsgVoiceReport)
	if err != nil || !sub.PushURLTrusted {
		t.Errorf("operator's push URL stored as %+v, %v; want trusted", sub, err)
	}
	if msg, isErr := op.submit(csrf, "/console/callback?acct="+acctA, url.Values{"smartcall_callback_url": {"http://169.254.169.254/"}}); !isErr || !strings.Contains(msg, "rule metadata") {
		t.Errorf("operator's metadata callback URL: %q", msg)
	}
	// Re-saved by the account user, the operator's URL keeps its trust.
	alice := f.browser(t)
	csrf = alice.mustSignIn("alice", "alice-pass")
	if msg, isErr := alice.submit(csrf, "/console/receipts", url.Values{"type": {dialtone.MsgVoiceReport}, "queue": {"on"}, "push_url": {rcv.URL + "/r"}}); isErr {
		t.Errorf("re-saving the operator's URL: %q", msg)
	}
	if sub, err := f.store.GetSubscription(context.Background(), acctA, dialtone.MsgVoiceReport); err != nil || !sub.PushURLTrusted || !sub.Queue {
		t.Errorf("after the account user's re-save: %+v, %v", sub, err)
	}
}

// A receiver the operator allowed that redirects elsewhere is not
// followed, to a refused address or to an allowed one; and an account
// user sees of any answer only its status and, in the receipt format, its
// code and msg, while the operator sees its first bytes.
func TestTestPushRedirectAndNothingReflected(t *testing.T) {
	var targetHits atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		targetHits.Add(1)
		io.WriteString(w, `{"code":0}`)
	}))
	defer target.Close()
	answers := map[string]func(w http.ResponseWriter, r *http.Request){
		"/to-metadata": func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/", http.StatusFound)
		},
		"/to-allowed": func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, target.URL+"/", http.StatusTemporaryRedirect)
		},
		"/internal": func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusOK)
			io.WriteString(w, "root:x:0:0:INTERNAL-SECRET-DATA")
		},
		"/receipt-format": func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, `{"code": 7, "msg": "queue full", "detail": "INTERNAL-SECRET-DATA"}`)
		},
	}
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		answers[r.URL.Path](w, r)
	}))
	defer rcv.Close()
	f := egressFixture(t, "127.0.0.1")
	alice := f.browser(t)
	csrf := alice.mustSignIn("alice", "alice-pass")
	op := f.browser(t)
	opCSRF := op.mustSignIn("admin", "operator-pass")
	for _, c := range []struct {
		path          string
		want, wantNot []string
	}{
		{"/to-metadata", []string{"not accepted: HTTP 302"}, []string{"169.254"}},
		{"/to-allowed", []string{"not accepted: HTTP 307"}, nil},
		{"/internal", []string{"HTTP 200", "not the receipt format", "not shown"}, []string{"INTERNAL-SECRET-DATA", "root:x"}},
		{"/receipt-format", []string{"not accepted: HTTP 503", "code 7", `msg "queue full"`}, []string{"INTERNAL-SECRET-DATA", "detail"}},
	} {
		if msg, isErr := alice.submit(csrf, "/console/receipts", url.Values{"type": {dialtone.MsgVoiceReport}, "push_url": {rcv.URL + c.path}}); isErr {
			t.Fatalf("%s: %q", c.path, msg)
		}
		msg, _ := alice.submit(csrf, "/console/receipts/test", url.Values{"type": {dialtone.MsgVoiceReport}})
		t.Logf("test push to %s: %s", c.path, msg)
		for _, w := range c.want {
			if !strings.Contains(msg, w) {
				t.Errorf("%s: the account user's message %q lacks %q", c.path, msg, w)
			}
		}
		_, page, _ := alice.do("GET", "/console/receipts", nil, nil)
		for _, w := range c.wantNot {
			if strings.Contains(msg, w) || strings.Contains(page, w) {
				t.Errorf("%s: the account user is shown %q:\n%s", c.path, w, msg)
			}
		}
	}
	if n := targetHits.Load(); n != 0 {
		t.Errorf("a redirect was followed: the target got %d requests", n)
	}
	// The operator may read the first bytes of an answer, in the message
	// and on the page.
	msg, _ := op.submit(opCSRF, "/console/receipts/test?acct="+acctA, url.Values{"type": {dialtone.MsgVoiceReport}})
	_, page, _ := op.do("GET", "/console/receipts?acct="+acctA, nil, nil)
	if !strings.Contains(msg, "INTERNAL-SECRET-DATA") || !strings.Contains(page, "INTERNAL-SECRET-DATA") {
		t.Errorf("the operator does not see the answer's start: %q", msg)
	}
}

// The callback's secret is set and rotated on its page; the page never
// shows it, and the operator's audit page records who did it, without the
// secret. Account users have no audit page.
func TestCallbackSecretRotationAndAudit(t *testing.T) {
	f := egressFixture(t)
	op := f.browser(t)
	csrf := op.mustSignIn("admin", "operator-pass")
	ctx := context.Background()
	if msg, isErr := op.submit(csrf, "/console/callback?acct="+acctA, url.Values{"smartcall_callback_url": {"http://127.0.0.1:9/cb"},
		"smartcall_callback_secret": {"first-callback-secret"}}); isErr {
		t.Fatalf("set: %q", msg)
	}
	alice := f.browser(t)
	aliceCSRF := alice.mustSignIn("alice", "alice-pass")
	// The account user rotates it with a day's grace, keeping the
	// operator's URL (and its trust).
	if msg, isErr := alice.submit(aliceCSRF, "/console/callback", url.Values{"smartcall_callback_url": {"http://127.0.0.1:9/cb"},
		"smartcall_callback_secret": {"second-callback-secret"}, "smartcall_callback_secret_grace_seconds": {"86400"}}); isErr {
		t.Fatalf("rotate: %q", msg)
	}
	st, err := f.store.GetAccountSettings(ctx, acctA)
	must(t, err)
	k := st.SmartCallCallbackSecret
	if k.Current != "second-callback-secret" || k.Previous != "first-callback-secret" || !k.Rotating(f.clock.Now().Add(23*time.Hour)) ||
		k.Rotating(f.clock.Now().Add(25*time.Hour)) || !st.SmartCallCallbackTrusted {
		t.Errorf("after the rotation: %#v trusted %v", k, st.SmartCallCallbackTrusted)
	}
	_, page, _ := alice.do("GET", "/console/callback", nil, nil)
	if !strings.Contains(page, `id="cb-rotating"`) || strings.Contains(page, "-callback-secret") {
		t.Errorf("callback page: rotation not shown, or a secret shown")
	}
	if st, _, _ := alice.do("GET", "/console/audit", nil, nil); st != http.StatusNotFound {
		t.Errorf("an account user's audit page: %d, want 404", st)
	}
	_, page, _ = op.do("GET", "/console/audit?acct="+acctA, nil, nil)
	for _, want := range []string{"console:alice", "console:admin", "smartcall_callback_secret=rotated", "smartcall_callback_secret=set"} {
		if !strings.Contains(page, want) {
			t.Errorf("audit page lacks %q", want)
		}
	}
	if strings.Contains(page, "-callback-secret") {
		t.Error("the audit page shows a secret")
	}
}

// One account never reads or redrives another's receipts: retry now takes
// only the signed-in account's dead letters, and its attempts are its own.
func TestReceiptsIsolation(t *testing.T) {
	f := egressFixture(t)
	ctx := context.Background()
	now := f.clock.Now()
	// Subscribed, so that the receipt waits for the routing below (one of
	// no subscription is routed to nowhere as it is written).
	must(t, f.store.PutSubscription(ctx, &dialtone.Subscription{AccountUID: acctA, MessageType: dialtone.MsgVoiceReport,
		PushURL: "https://a.example/only-a", CreatedAt: now, UpdatedAt: now}))
	must(t, f.store.CreateCall(ctx, &dialtone.Call{ID: "iso-1", AccountUID: acctA, Kind: dialtone.KindTTS, Callee: "13800000000",
		State: dialtone.CallQueued, CreatedAt: now}, nil))
	c, err := f.store.GetCall(ctx, acctA, "iso-1")
	must(t, err)
	c.State = dialtone.CallEnded
	must(t, f.store.UpdateCall(ctx, &dialtone.CallChange{Call: c, Receipts: []dialtone.Receipt{{ID: "iso-1-1-VoiceReport",
		MessageType: dialtone.MsgVoiceReport, Body: []byte(`{"call_id":"iso-1","secret-of-a":"x"}`), CreatedAt: now}}}))
	_, err = f.store.RouteReceipts(ctx, []dialtone.RouteReceipt{{ReceiptID: "iso-1-1-VoiceReport", Push: &dialtone.PushDelivery{
		ID: "iso-1-1-VoiceReport", AccountUID: acctA, MessageType: dialtone.MsgVoiceReport, Body: []byte(`{}`), CreatedAt: now, DueAt: now}}}, now)
	must(t, err)
	_, err = f.store.ClaimPushDeliveries(ctx, now, now.Add(time.Minute), 10)
	must(t, err)
	must(t, f.store.FailPushDeliveries(ctx, []dialtone.PushFailure{{ID: "iso-1-1-VoiceReport", Error: "HTTP 500", Dead: true}}))
	must(t, f.store.RecordPushAttempt(ctx, &dialtone.PushAttempt{AccountUID: acctA, MessageType: dialtone.MsgVoiceReport, At: now,
		URL: "https://a.example/only-a", HTTPStatus: 500, Error: "HTTP 500", ReceiptIDs: []string{"iso-1-1-VoiceReport"}, Count: 1, Dead: true}))

	bob := f.browser(t)
	csrf := bob.mustSignIn("bob", "bob-pass")
	msg, isErr := bob.submit(csrf, "/console/receipts/retry", url.Values{"id": {"iso-1-1-VoiceReport"}})
	if !isErr || !strings.Contains(msg, "not a dead letter of this account") {
		t.Errorf("bob retrying alice's dead letter: %q", msg)
	}
	if dead, _ := f.store.ListDeadLetters(ctx, acctA, 0); len(dead) != 1 {
		t.Errorf("alice's dead letter after bob's attempt: %+v", dead)
	}
	_, page, _ := bob.do("GET", "/console/receipts", nil, nil)
	for _, leak := range []string{"iso-1", "only-a", "secret-of-a"} {
		if strings.Contains(page, leak) {
			t.Errorf("bob's receipts page shows %q", leak)
		}
	}
	if st, _, _ := bob.do("GET", "/console/receipts?call=iso-1", nil, nil); st != http.StatusNotFound {
		t.Errorf("bob on alice's call's receipts: %d, want 404", st)
	}
	// Alice sees it all, and retries it.
	alice := f.browser(t)
	csrf = alice.mustSignIn("alice", "alice-pass")
	_, page, _ = alice.do("GET", "/console/receipts?call=iso-1", nil, nil)
	for _, want := range []string{"secret-of-a", "only-a", "dead letter"} {
		if !strings.Contains(page, want) {
			t.Errorf("alice's page lacks %q", want)
		}
	}
	if msg, isErr := alice.submit(csrf, "/console/receipts/retry", url.Values{"id": {"iso-1-1-VoiceReport"}, "call": {"iso-1"}}); isErr ||
		!strings.Contains(msg, "being pushed again") {
		t.Errorf("alice's retry now: %q", msg)
	}
	if dead, _ := f.store.ListDeadLetters(ctx, acctA, 0); len(dead) != 0 {
		t.Errorf("still dead after retry now: %+v", dead)
	}
}
