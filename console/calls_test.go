package console_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/carrier/sim"
	"github.com/dialtone-voice/dialtone/console"
)

// fakeCalls records the hang-ups the console asks for.
type fakeCalls struct {
	mu     sync.Mutex
	asked  []string // account/call
	answer bool
	err    error
}

func (f *fakeCalls) Cancel(_ context.Context, acct, id string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, acct+"/"+id)
	return f.answer, f.err
}

func (f *fakeCalls) calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.asked...)
}

// fakeNet is a simulated network that only keeps transcripts.
type fakeNet struct {
	tx map[string][]sim.TranscriptEntry
}

func (n *fakeNet) SetBehavior(string, sim.Behavior)           {}
func (n *fakeNet) Behavior(string) sim.Behavior               { return sim.DefaultBehavior }
func (n *fakeNet) Subscribers() []sim.Subscriber              { return nil }
func (n *fakeNet) Transcript(id string) []sim.TranscriptEntry { return n.tx[id] }

// callsFixture is newFixture with a hang-up path and a network.
func callsFixture(t *testing.T, calls console.CallControl, net console.Network) *fixture {
	t.Helper()
	f := newFixture(t)
	c, err := console.New(console.Config{Store: f.store, Now: f.clock.Now, DataDir: t.TempDir(), Calls: calls, Net: net})
	must(t, err)
	f.srv.Close()
	f.srv = httptest.NewServer(c)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fixture) call(t *testing.T, c *dialtone.Call) *dialtone.Call {
	t.Helper()
	if c.Kind == "" {
		c.Kind = dialtone.KindTTS
	}
	if c.CreatedAt.IsZero() {
		c.CreatedAt = f.clock.Now()
	}
	must(t, f.store.CreateCall(context.Background(), c, nil))
	return c
}

var flashRE = regexp.MustCompile(`<p class="(flash|error)" role="[a-z]+">([^<]*)</p>`)

// TestCallHangUp: the button is offered on a live call only; it asks the
// call path to cancel the account's call and answers with a redirect whose
// page carries the outcome; an ended call, another account's call and a
// POST without the CSRF token are refused without asking.
func TestCallHangUp(t *testing.T) {
	fc := &fakeCalls{answer: true}
	f := callsFixture(t, fc, nil)
	now := f.clock.Now()
	live := f.call(t, &dialtone.Call{ID: "200000000001^1000000001", AccountUID: acctA, Callee: "13800000001",
		State: dialtone.CallAnswered, A: dialtone.LegTimes{Originate: now, Start: now}})
	ended := f.call(t, &dialtone.Call{ID: "200000000002^1000000002", AccountUID: acctA, Callee: "13800000001",
		State: dialtone.CallEnded, StatusCode: dialtone.StatusCompleted, HangupDirection: dialtone.HangupMachine})

	alice := f.browser(t)
	tok := alice.mustSignIn("alice", "alice-pass")
	path := func(c *dialtone.Call) string { return "/console/calls/" + url.PathEscape(c.ID) }
	_, page, _ := alice.do("GET", path(live), nil, nil)
	if !strings.Contains(page, `id="hangup-form"`) {
		t.Error("no hang-up button on a live call")
	}
	_, page, _ = alice.do("GET", path(ended), nil, nil)
	if strings.Contains(page, `id="hangup-form"`) {
		t.Error("a hang-up button on an ended call")
	}
	if !strings.Contains(page, "Platform 机器") {
		t.Errorf("hang-up direction not bilingual:\n%s", page)
	}

	// Without the token: refused, nothing asked.
	if st, _, _ := alice.do("POST", path(live)+"/hangup", url.Values{}, nil); st != http.StatusForbidden {
		t.Errorf("hang-up without CSRF: %d, want 403", st)
	}
	// Another account's user: not found, nothing asked.
	bob := f.browser(t)
	btok := bob.mustSignIn("bob", "bob-pass")
	if st, _, _ := bob.do("POST", path(live)+"/hangup?acct="+acctA, url.Values{"csrf": {btok}}, nil); st != http.StatusNotFound {
		t.Errorf("bob hanging up alice's call: %d, want 404", st)
	}
	if got := fc.calls(); len(got) != 0 {
		t.Fatalf("refused hang-ups reached the call path: %v", got)
	}

	// The live call: cancelled through the call path, then shown again.
	st, _, h := alice.do("POST", path(live)+"/hangup", url.Values{"csrf": {tok}}, nil)
	if st != http.StatusSeeOther || h.Get("Location") != path(live) {
		t.Fatalf("hang-up: %d to %q, want 303 to %s", st, h.Get("Location"), path(live))
	}
	if got := fc.calls(); len(got) != 1 || got[0] != acctA+"/"+live.ID {
		t.Errorf("call path asked %v", got)
	}
	_, page, _ = alice.do("GET", h.Get("Location"), nil, nil)
	if m := flashRE.FindStringSubmatch(page); m == nil || m[1] != "flash" || !strings.Contains(m[2], "Hung up") {
		t.Errorf("after the hang-up the page says %v", m)
	}
	// The message is shown once.
	if _, page, _ = alice.do("GET", path(live), nil, nil); flashRE.MatchString(page) {
		t.Error("the hang-up message is shown again")
	}

	// An ended call is refused cleanly, without asking.
	st, _, h = alice.do("POST", path(ended)+"/hangup", url.Values{"csrf": {tok}}, nil)
	if st != http.StatusSeeOther {
		t.Fatalf("hang-up of an ended call: %d", st)
	}
	_, page, _ = alice.do("GET", h.Get("Location"), nil, nil)
	if m := flashRE.FindStringSubmatch(page); m == nil || m[1] != "error" || !strings.Contains(m[2], "already ended") {
		t.Errorf("hang-up of an ended call says %v", m)
	}
	if got := fc.calls(); len(got) != 1 {
		t.Errorf("an ended call reached the call path: %v", got)
	}

	// The call ended between the page and the click.
	fc.answer = false
	_, _, h = alice.do("POST", path(live)+"/hangup", url.Values{"csrf": {tok}}, nil)
	_, page, _ = alice.do("GET", h.Get("Location"), nil, nil)
	if m := flashRE.FindStringSubmatch(page); m == nil || m[1] != "error" || !strings.Contains(m[2], "ended before") {
		t.Errorf("a hang-up that found the call ended says %v", m)
	}
}

// TestCallHangUpWithoutEngine: a console without a call path offers no
// button and refuses the POST in words.
func TestCallHangUpWithoutEngine(t *testing.T) {
	f := callsFixture(t, nil, nil)
	live := f.call(t, &dialtone.Call{ID: "200000000003^1000000003", AccountUID: acctA, State: dialtone.CallRinging})
	alice := f.browser(t)
	tok := alice.mustSignIn("alice", "alice-pass")
	p := "/console/calls/" + url.PathEscape(live.ID)
	if _, page, _ := alice.do("GET", p, nil, nil); strings.Contains(page, `id="hangup-form"`) {
		t.Error("a hang-up button without a call path")
	}
	_, _, h := alice.do("POST", p+"/hangup", url.Values{"csrf": {tok}}, nil)
	_, page, _ := alice.do("GET", h.Get("Location"), nil, nil)
	if m := flashRE.FindStringSubmatch(page); m == nil || m[1] != "error" {
		t.Errorf("hang-up without a call path says %v", m)
	}
}

// TestCallListReadable: outcome classes on the rows, a live call's running
// duration, substring filters, and an empty result that names its filters.
func TestCallListReadable(t *testing.T) {
	f := callsFixture(t, nil, nil)
	now := f.clock.Now()
	mk := func(id, callee, outID string, state dialtone.CallState, code, smart string, age time.Duration) {
		f.call(t, &dialtone.Call{ID: id, AccountUID: acctA, Callee: callee, OutID: outID, State: state,
			StatusCode: code, SmartStatusCode: smart, CreatedAt: now.Add(-age), A: dialtone.LegTimes{Start: now.Add(-age + time.Second)}})
	}
	mk("c-answered", "13912345678", "Order-42", dialtone.CallEnded, "200000", "ANSWERED", 5*time.Minute)
	mk("c-busy", "13800000002", "order_43", dialtone.CallEnded, "200002", "USER_BUSY", 4*time.Minute)
	mk("c-cancel", "13800000003", "x", dialtone.CallEnded, "200003", "CANCEL", 3*time.Minute)
	mk("c-live", "13800000004", "live-1", dialtone.CallAnswered, "", "", 30*time.Second)
	f.call(t, &dialtone.Call{ID: "c-other", AccountUID: acctB, Callee: "13912345678", OutID: "Order-42", State: dialtone.CallEnded, StatusCode: "200000"})

	alice := f.browser(t)
	alice.mustSignIn("alice", "alice-pass")
	_, page, _ := alice.do("GET", "/console/calls", nil, nil)
	for id, want := range map[string]string{"c-answered": "answered", "c-busy": "busy", "c-cancel": "cancelled", "c-live": "live"} {
		re := regexp.MustCompile(`data-call="` + id + `" data-state="[a-z]+" data-outcome="([a-z-]+)"`)
		if m := re.FindStringSubmatch(page); m == nil || m[1] != want {
			t.Errorf("row %s: outcome %v, want %s", id, m, want)
		}
	}
	if !strings.Contains(page, `class="badge outcome-answered"`) || !strings.Contains(page, `class="badge outcome-busy"`) {
		t.Error("answered and busy calls do not get their own badges")
	}
	// The live call counts from its answer, 29 s ago.
	if m := regexp.MustCompile(`data-since="(\d+)" data-now="(\d+)">(\d+) s<`).FindStringSubmatch(page); m == nil || m[3] != "29" {
		t.Errorf("live duration %v, want 29 s counting", m)
	}

	list := func(q string) string {
		t.Helper()
		_, page, _ := alice.do("GET", "/console/calls?"+q, nil, nil)
		return page
	}
	if p := list("number=2345"); !strings.Contains(p, `data-call="c-answered"`) || strings.Contains(p, `data-call="c-busy"`) || strings.Contains(p, "c-other") {
		t.Error("number=2345 does not find exactly the call to 13912345678 of the account")
	}
	if p := list("outid=ORDER"); !strings.Contains(p, `data-call="c-answered"`) || !strings.Contains(p, `data-call="c-busy"`) || strings.Contains(p, `data-call="c-live"`) {
		t.Error("outid=ORDER does not find both orders")
	}
	if p := list("outid=r_4"); !strings.Contains(p, `data-call="c-busy"`) || strings.Contains(p, `data-call="c-answered"`) {
		t.Error("outid=r_4 treats _ as a wildcard")
	}
	p := list("from=2026-12-01&to=2026-12-03&number=0571&outid=zz")
	want := "No calls from 2026-12-01 to 2026-12-03 whose number contains 0571 and whose OutId contains zz"
	if !strings.Contains(html.UnescapeString(p), want) {
		t.Errorf("empty result does not say %q:\n%s", want, p)
	}
	if p := list("status=200005"); !strings.Contains(p, "No calls with status 200005") {
		t.Error("empty result by status does not say so")
	}
	if p := list("fragment=rows&number=999999"); !strings.Contains(p, "whose number contains 999999") || strings.Contains(p, "<html") {
		t.Error("the live-refresh fragment does not carry the explanation")
	}
}

// TestCallPageTranscript: the simulated subscriber's record is a table in
// China time with words for what happened, not a struct dump; the call
// links to its receipts, which are shown for the account's calls only.
func TestCallPageTranscript(t *testing.T) {
	at := time.Date(2026, 12, 1, 2, 3, 4, 500e6, time.UTC) // 10:03:04.500 CST
	c := &dialtone.Call{ID: "300000000001^1000000001", AccountUID: acctA, Callee: "13800000001",
		State: dialtone.CallEnded, StatusCode: dialtone.StatusCompleted, HangupDirection: dialtone.HangupUser}
	net := &fakeNet{tx: map[string][]sim.TranscriptEntry{c.ID: {
		{At: at, Leg: "A", Kind: "originate", Text: "13800000001"},
		{At: at.Add(time.Second), Leg: "A", Kind: "play", Text: "TTS_1", Interrupted: true},
		{At: at.Add(2 * time.Second), Leg: "A", Kind: "hangup", By: "subscriber"},
	}}}
	f := callsFixture(t, nil, net)
	f.call(t, c)
	other := f.call(t, &dialtone.Call{ID: "300000000002^1000000002", AccountUID: acctB, State: dialtone.CallEnded})
	alice := f.browser(t)
	alice.mustSignIn("alice", "alice-pass")
	_, page, _ := alice.do("GET", "/console/calls/"+url.PathEscape(c.ID), nil, nil)
	for _, want := range []string{
		`<td data-label="Time (CST)">2026-12-01 10:03:04.500</td><td data-label="Leg">A</td><td data-label="What happened">The call was placed 呼出</td>`,
		"Heard a prompt 听到提示音", "TTS_1 (cut short 被打断)", "by the subscriber 用户挂机",
		"Subscriber 用户",
		`href="/console/receipts?call=300000000001%5e1000000001"`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("call page lacks %q", want)
		}
	}
	if strings.Contains(page, "{At:") || strings.Contains(page, "UTC") {
		t.Error("the transcript is a struct dump or in UTC")
	}
	st, page, _ := alice.do("GET", "/console/receipts?call="+url.QueryEscape(c.ID), nil, nil)
	if st != http.StatusOK || !strings.Contains(page, `id="receipts-call"`) || !strings.Contains(page, fmt.Sprintf("Receipts of call 通话回执 %s", c.ID)) {
		t.Errorf("receipts of the call: %d", st)
	}
	if st, _, _ := alice.do("GET", "/console/receipts?call="+url.QueryEscape(other.ID), nil, nil); st != http.StatusNotFound {
		t.Errorf("receipts of another account's call: %d, want 404", st)
	}
}
