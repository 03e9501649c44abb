package console_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/carrier/sim"
	"github.com/dialtone-voice/dialtone/console"
)

// realClock drives the simulated network in wall time.
type realClock struct{}

func (realClock) Now() time.Time                                  { return time.Now() }
func (realClock) NewTimer(d time.Duration) *time.Timer            { return time.NewTimer(d) }
func (realClock) AfterFunc(d time.Duration, f func()) *time.Timer { return time.AfterFunc(d, f) }

// storeFixture serves whichever console cur holds, each over the same store
// with store-backed sessions: swapping it is a node restart (or another
// node behind a load balancer).
func storeFixture(t *testing.T, net console.Network) (*fixture, func()) {
	t.Helper()
	f := newFixture(t)
	var cur atomic.Pointer[console.Console]
	build := func() {
		c, err := console.New(console.Config{Store: f.store, Now: f.clock.Now, DataDir: t.TempDir(), Net: net,
			Sessions: console.NewStoreSessions(f.store)})
		must(t, err)
		cur.Store(c)
	}
	build()
	f.srv.Close()
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { cur.Load().ServeHTTP(w, r) }))
	t.Cleanup(f.srv.Close)
	return f, build
}

func TestStoreSessionsSurviveRestartAndEndWithTheUser(t *testing.T) {
	f, restart := storeFixture(t, nil)
	b := f.browser(t)
	csrf := b.mustSignIn("alice", "alice-pass")
	restart()
	if st, _, _ := b.do("GET", "/console/keys", nil, nil); st != http.StatusOK {
		t.Fatalf("after a restart the session is gone: %d", st)
	}
	// The CSRF token is the session's, so it survives with it.
	st, _, _ := b.do("POST", "/console/keys", url.Values{"csrf": {csrf}}, nil)
	if st != http.StatusSeeOther {
		t.Errorf("POST with the old CSRF token after a restart: %d", st)
	}
	// The store holds a hash of the cookie, never the cookie.
	u, _ := url.Parse(f.srv.URL + "/console/")
	for _, ck := range b.client.Jar.Cookies(u) {
		if _, err := f.store.GetConsoleSession(context.Background(), ck.Value); err == nil {
			t.Error("the store finds a session by its raw cookie value")
		}
	}
	// A new password (set anywhere, e.g. on another node) ends the session.
	must(t, putUser(context.Background(), f.store, "alice", acctA, "alice-new-pass"))
	if st, _, _ := b.do("GET", "/console/keys", nil, nil); st != http.StatusSeeOther {
		t.Errorf("session after a password change: %d, want a redirect to sign-in", st)
	}
	b.mustSignIn("alice", "alice-new-pass")
	must(t, f.store.DeleteConsoleUser(context.Background(), "alice"))
	if st, _, _ := b.do("GET", "/console/keys", nil, nil); st != http.StatusSeeOther {
		t.Errorf("session of a deleted user: %d, want a redirect to sign-in", st)
	}
}

func TestNetworkPageListsAndEditsSubscribers(t *testing.T) {
	net := sim.New(&sim.Config{TimeScale: 1, Default: sim.DefaultBehavior, Subscribers: []sim.Subscriber{
		{Number: "13800000001", Behavior: sim.Behavior{Result: sim.ResultAnswer, AnswerAfter: 8 * time.Second}},
	}}, realClock{})
	net.SetBehavior("13800000009", sim.Behavior{Result: sim.ResultBusy})
	f, _ := storeFixture(t, net)
	b := f.browser(t)
	b.mustSignIn("admin", "operator-pass")
	st, page, _ := b.do("GET", "/console/network?edit=13800000001", nil, nil)
	if st != http.StatusOK || !strings.Contains(page, `data-number="13800000009"`) || !strings.Contains(page, `value="8s"`) {
		t.Fatalf("network page %d does not list both subscribers or prefill the edited one:\n%.3000s", st, page)
	}
	st, _, hdr := b.do("POST", "/console/network", url.Values{"csrf": {token(t, page)}, "number": {"13800000001"},
		"result": {"answer"}, "answer_after": {"1s"}, "hangup_after": {"3s"}, "dtmf": {"p1:1#"}, "say": {"你好\n再见"}}, nil)
	if st != http.StatusSeeOther || strings.Contains(hdr.Get("Location"), "error") {
		t.Fatalf("save: %d %s", st, hdr.Get("Location"))
	}
	got := net.Behavior("13800000001")
	if got.AnswerAfter != time.Second || got.HangupAfter != 3*time.Second || len(got.DTMF) != 1 || got.DTMF[0].Digits != "1#" || len(got.Say) != 2 {
		t.Errorf("behaviour after edit = %+v", got)
	}
	// An account user has no network page.
	a := f.browser(t)
	a.mustSignIn("alice", "alice-pass")
	if st, _, _ := a.do("GET", "/console/network", nil, nil); st != http.StatusNotFound {
		t.Errorf("account user on the network page: %d", st)
	}
}

func TestTestReceiptIsRecorded(t *testing.T) {
	var hits atomic.Int32
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = io.WriteString(w, `{"code":0,"msg":"成功"}`)
	}))
	defer recv.Close()
	f, _ := storeFixture(t, nil)
	ctx := context.Background()
	must(t, f.store.PutSubscription(ctx, &dialtone.Subscription{AccountUID: acctA, MessageType: dialtone.MsgVoiceReport,
		PushURL: recv.URL + "/r", PushURLTrusted: true, PushSecret: "push-secret-value", CreatedAt: f.clock.Now(), UpdatedAt: f.clock.Now()}))
	b := f.browser(t)
	csrf := b.mustSignIn("alice", "alice-pass")
	st, _, _ := b.do("POST", "/console/receipts/test", url.Values{"csrf": {csrf}, "type": {dialtone.MsgVoiceReport}}, nil)
	if st != http.StatusSeeOther || hits.Load() != 1 {
		t.Fatalf("test receipt: %d, receiver hit %d times", st, hits.Load())
	}
	res, err := f.store.ListPushAttempts(ctx, dialtone.PushAttemptFilter{AccountUID: acctA, MessageType: dialtone.MsgVoiceReport})
	must(t, err)
	if len(res) != 1 || !res[0].Test || res[0].HTTPStatus != 200 || res[0].Error != "" {
		t.Fatalf("recorded results %+v", res)
	}
	_, page, _ := b.do("GET", "/console/receipts", nil, nil)
	if !strings.Contains(page, `id="tests-VoiceReport"`) || !strings.Contains(page, "accepted") || strings.Contains(page, "push-secret-value") {
		t.Errorf("receipts page lacks the result or shows the secret:\n%.3000s", page)
	}
	// Another account sees none of it.
	o := f.browser(t)
	o.mustSignIn("bob", "bob-pass")
	if _, page, _ := o.do("GET", "/console/receipts", nil, nil); strings.Contains(page, recv.URL) {
		t.Error("account B sees account A's push results")
	}
}
