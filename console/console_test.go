package console_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/console"
	"github.com/dialtone-voice/dialtone/resource"
	"github.com/dialtone-voice/dialtone/secret"
	"github.com/dialtone-voice/dialtone/sqlite"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type fixture struct {
	store *sqlite.Store
	srv   *httptest.Server
	clock *clock
}

const (
	acctA = "1001"
	acctB = "2002"
)

func openStore(t testing.TB) *sqlite.Store {
	t.Helper()
	key := make([]byte, 32)
	sealer, err := secret.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "t.db"), sealer, sqlite.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	st := openStore(t)
	ctx := context.Background()
	clk := &clock{t: time.Now()}
	for _, uid := range []string{acctA, acctB} {
		must(t, st.PutAccount(ctx, &dialtone.Account{UID: uid, Name: "acct " + uid, Status: dialtone.AccountActive, VoiceService: true, CreatedAt: clk.Now(), UpdatedAt: clk.Now()}))
	}
	must(t, putUser(ctx, st, "admin", "", "operator-pass"))
	must(t, putUser(ctx, st, "alice", acctA, "alice-pass"))
	must(t, putUser(ctx, st, "bob", acctB, "bob-pass"))
	c, err := console.New(console.Config{Store: st, Now: clk.Now, DataDir: t.TempDir()})
	must(t, err)
	srv := httptest.NewServer(c)
	t.Cleanup(srv.Close)
	return &fixture{store: st, srv: srv, clock: clk}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

type browser struct {
	t      *testing.T
	f      *fixture
	client *http.Client
}

func (f *fixture) browser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, f: f, client: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

func (b *browser) do(method, path string, form url.Values, header http.Header) (int, string, http.Header) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.f.srv.URL+path, body)
	must(b.t, err)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := b.client.Do(req)
	must(b.t, err)
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(data), resp.Header
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func token(t *testing.T, page string) string {
	t.Helper()
	m := csrfRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF token in page:\n%.500s", page)
	}
	return m[1]
}

// signIn signs in and returns the session's CSRF token.
func (b *browser) signIn(user, pass string) (status int, body string) {
	b.t.Helper()
	_, page, _ := b.do("GET", "/console/signin", nil, nil)
	st, body, _ := b.do("POST", "/console/signin", url.Values{"csrf": {token(b.t, page)}, "username": {user}, "password": {pass}}, nil)
	return st, body
}

func (b *browser) mustSignIn(user, pass string) string {
	b.t.Helper()
	if st, body := b.signIn(user, pass); st != http.StatusSeeOther {
		b.t.Fatalf("sign-in as %s: %d\n%.400s", user, st, body)
	}
	st, page, _ := b.do("GET", "/console/keys", nil, nil)
	if st != http.StatusOK {
		b.t.Fatalf("keys page after sign-in: %d", st)
	}
	return token(b.t, page)
}

func TestSignInRequired(t *testing.T) {
	f := newFixture(t)
	b := f.browser(t)
	st, _, h := b.do("GET", "/console/calls", nil, nil)
	if st != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/console/signin") {
		t.Fatalf("unsigned GET: %d %s, want a redirect to sign-in", st, h.Get("Location"))
	}
	st, _, _ = b.do("POST", "/console/keys", url.Values{}, nil)
	if st != http.StatusUnauthorized {
		t.Errorf("unsigned POST: %d, want 401", st)
	}
	if st, _ := b.signIn("alice", "wrong-password"); st != http.StatusUnauthorized {
		t.Errorf("wrong password: %d, want 401", st)
	}
	if st, _ := b.signIn("nobody", "whatever1"); st != http.StatusUnauthorized {
		t.Errorf("unknown user: %d, want 401", st)
	}
}

func TestSessionCookie(t *testing.T) {
	f := newFixture(t)
	b := f.browser(t)
	_, page, _ := b.do("GET", "/console/signin", nil, nil)
	_, _, h := b.do("POST", "/console/signin", url.Values{"csrf": {token(t, page)}, "username": {"alice"}, "password": {"alice-pass"}}, nil)
	var ck string
	for _, c := range h.Values("Set-Cookie") {
		if strings.HasPrefix(c, "dialtone_console=") {
			ck = c
		}
	}
	for _, want := range []string{"HttpOnly", "SameSite=Strict", "Path=/console/"} {
		if !strings.Contains(ck, want) {
			t.Errorf("session cookie %q lacks %s", ck, want)
		}
	}
	val := strings.TrimPrefix(strings.Split(ck, ";")[0], "dialtone_console=")
	if len(val) < 43 { // 32 bytes in unpadded base64
		t.Errorf("session ID %q is shorter than 32 random bytes", val)
	}
}

func TestSignInFormCSRF(t *testing.T) {
	f := newFixture(t)
	b := f.browser(t)
	// No pre-session cookie and token: a cross-site sign-in is refused.
	st, _, _ := b.do("POST", "/console/signin", url.Values{"username": {"alice"}, "password": {"alice-pass"}}, nil)
	if st != http.StatusForbidden {
		t.Errorf("sign-in without token: %d, want 403", st)
	}
}

func TestCSRF(t *testing.T) {
	f := newFixture(t)
	b := f.browser(t)
	tok := b.mustSignIn("alice", "alice-pass")
	for _, tc := range []struct {
		name   string
		form   url.Values
		header http.Header
		want   int
	}{
		{"missing", url.Values{"actions": {""}}, nil, http.StatusForbidden},
		{"wrong", url.Values{"csrf": {"x" + tok}, "actions": {""}}, nil, http.StatusForbidden},
		{"wrong header", url.Values{"actions": {""}}, http.Header{"X-Csrf-Token": {"nope"}}, http.StatusForbidden},
		{"foreign origin", url.Values{"csrf": {tok}}, http.Header{"Origin": {"https://evil.example"}}, http.StatusForbidden},
		{"right", url.Values{"csrf": {tok}, "actions": {""}}, nil, http.StatusSeeOther},
		{"right header", url.Values{"actions": {""}}, http.Header{"X-Csrf-Token": {tok}}, http.StatusSeeOther},
	} {
		st, body, _ := b.do("POST", "/console/keys", tc.form, tc.header)
		if st != tc.want {
			t.Errorf("%s: POST /console/keys = %d, want %d\n%.300s", tc.name, st, tc.want, body)
		}
	}
	keys, err := f.store.ListAccessKeys(context.Background(), acctA)
	must(t, err)
	if len(keys) != 2 {
		t.Errorf("%d keys created, want 2 (only the requests with the token)", len(keys))
	}
	// The create answers with a redirect (a reload repeats nothing); the
	// page it leads to shows the last key's secret once, and never again.
	_, page, _ := b.do("GET", "/console/keys", nil, nil)
	_, again, _ := b.do("GET", "/console/keys", nil, nil)
	shown := 0
	for _, k := range keys {
		full, _ := f.store.GetAccessKey(context.Background(), k.ID)
		if strings.Contains(page, full.Secret) {
			shown++
		}
		if strings.Contains(again, full.Secret) {
			t.Error("the keys page shows a secret a second time")
		}
	}
	if shown != 1 {
		t.Errorf("the page after the create shows %d secrets, want 1", shown)
	}
	if keys2, _ := f.store.ListAccessKeys(context.Background(), acctA); len(keys2) != len(keys) {
		t.Error("loading the keys page created a key")
	}
}

func TestSessionExpiry(t *testing.T) {
	f := newFixture(t)
	b := f.browser(t)
	b.mustSignIn("alice", "alice-pass")
	f.clock.Add(29 * time.Minute)
	if st, _, _ := b.do("GET", "/console/overview", nil, nil); st != http.StatusOK {
		t.Fatalf("after 29 idle minutes: %d, want 200", st)
	}
	f.clock.Add(31 * time.Minute)
	st, _, h := b.do("GET", "/console/overview", nil, nil)
	if st != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/console/signin") {
		t.Fatalf("after 31 idle minutes: %d %s, want a redirect to sign-in", st, h.Get("Location"))
	}

	// Absolute limit: active every 20 minutes, still out after 12 hours.
	b.mustSignIn("alice", "alice-pass")
	for elapsed := time.Duration(0); elapsed < 12*time.Hour-20*time.Minute; elapsed += 20 * time.Minute {
		f.clock.Add(20 * time.Minute)
		if st, _, _ := b.do("GET", "/console/overview", nil, nil); st != http.StatusOK {
			t.Fatalf("active session refused after %v: %d", elapsed+20*time.Minute, st)
		}
	}
	f.clock.Add(21 * time.Minute)
	if st, _, _ := b.do("GET", "/console/overview", nil, nil); st != http.StatusSeeOther {
		t.Fatalf("after 12 h: %d, want a redirect to sign-in", st)
	}
}

func TestSignOut(t *testing.T) {
	f := newFixture(t)
	b := f.browser(t)
	tok := b.mustSignIn("alice", "alice-pass")
	jarCookies := b.client.Jar.Cookies(mustURL(t, f.srv.URL+"/console/"))
	if st, _, _ := b.do("POST", "/console/signout", url.Values{"csrf": {tok}}, nil); st != http.StatusSeeOther {
		t.Fatalf("sign-out: %d", st)
	}
	// The old cookie, replayed, no longer works: the session is gone on
	// the server, not just in the browser.
	replay := f.browser(t)
	replay.client.Jar.SetCookies(mustURL(t, f.srv.URL+"/console/"), jarCookies)
	if st, _, _ := replay.do("GET", "/console/overview", nil, nil); st != http.StatusSeeOther {
		t.Errorf("old session after sign-out: %d, want a redirect", st)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	u, err := url.Parse(s)
	must(t, err)
	return u
}

func TestAccountIsolation(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	call := &dialtone.Call{ID: "100000000001^1000000001", AccountUID: acctA, Kind: dialtone.KindTTS, Callee: "13800000001",
		OutID: "secret-order", State: dialtone.CallEnded, StatusCode: dialtone.StatusCompleted, CreatedAt: f.clock.Now()}
	must(t, f.store.CreateCall(ctx, call, nil))
	must(t, f.store.PutTemplate(ctx, &dialtone.TTSTemplate{AccountUID: acctA, Code: "TTS_1", Kind: dialtone.TemplateNotification, Content: "你好", Status: dialtone.ReviewPending, CreatedAt: f.clock.Now(), UpdatedAt: f.clock.Now()}))

	bob := f.browser(t)
	tok := bob.mustSignIn("bob", "bob-pass")
	for _, path := range []string{
		"/console/calls/" + url.PathEscape(call.ID),
		"/console/calls/" + url.PathEscape(call.ID) + "?acct=" + acctA,
		"/console/templates/preview?code=TTS_1&acct=" + acctA,
		"/console/network",
		"/console/users",
	} {
		if st, body, _ := bob.do("GET", path, nil, nil); st != http.StatusNotFound {
			t.Errorf("bob GET %s = %d, want 404", path, st)
		} else if strings.Contains(body, "secret-order") {
			t.Errorf("bob GET %s shows account A's data", path)
		}
	}
	if _, body, _ := bob.do("GET", "/console/calls?acct="+acctA, nil, nil); strings.Contains(body, call.ID) {
		t.Error("bob's call list shows account A's call")
	}
	// Operator-only writes are refused, and another account's template
	// cannot be deleted by naming it.
	if st, _, _ := bob.do("POST", "/console/templates/review", url.Values{"csrf": {tok}, "code": {"TTS_1"}, "status": {"approved"}}, nil); st != http.StatusNotFound {
		t.Errorf("bob approving: %d, want 404", st)
	}
	if st, _, _ := bob.do("POST", "/console/templates/delete", url.Values{"csrf": {tok}, "code": {"TTS_1"}}, nil); st != http.StatusNotFound {
		t.Errorf("bob deleting A's template: %d, want 404", st)
	}

	alice := f.browser(t)
	alice.mustSignIn("alice", "alice-pass")
	if st, body, _ := alice.do("GET", "/console/calls/"+url.PathEscape(call.ID), nil, nil); st != http.StatusOK || !strings.Contains(body, "secret-order") {
		t.Errorf("alice's own call: %d", st)
	}
	admin := f.browser(t)
	admin.mustSignIn("admin", "operator-pass")
	if st, _, _ := admin.do("GET", "/console/calls/"+url.PathEscape(call.ID)+"?acct="+acctA, nil, nil); st != http.StatusOK {
		t.Errorf("operator viewing account A's call: %d", st)
	}
}

func TestSignInRateLimit(t *testing.T) {
	f := newFixture(t)
	b := f.browser(t)
	for i := 0; i < 5; i++ {
		if st, _ := b.signIn("alice", "wrong-password"); st != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d, want 401", i+1, st)
		}
	}
	st, body := b.signIn("alice", "alice-pass")
	if st != http.StatusTooManyRequests || !strings.Contains(body, "Too many sign-in attempts") {
		t.Fatalf("6th attempt: %d, want 429 with a clear message\n%.300s", st, body)
	}
	// Per username: another address cannot keep guessing alice either
	// (all test requests share an address, so check the per-user limit
	// through a new window for the address only after it reopens).
	f.clock.Add(61 * time.Second)
	if st, _ := b.signIn("alice", "alice-pass"); st != http.StatusSeeOther {
		t.Fatalf("after the window: %d, want a successful sign-in", st)
	}
}

func TestPasswordHash(t *testing.T) {
	h, err := console.HashPassword("s3cret 密码")
	must(t, err)
	if !strings.HasPrefix(h, "$argon2id$") || strings.Contains(h, "s3cret") {
		t.Errorf("hash %q", h)
	}
	if !console.VerifyPassword(h, "s3cret 密码") || console.VerifyPassword(h, "s3cret") || console.VerifyPassword("garbage", "x") {
		t.Error("VerifyPassword")
	}
	h2, _ := console.HashPassword("s3cret 密码")
	if h == h2 {
		t.Error("two hashes of one password are equal: no salt")
	}
}

func TestPagesRender(t *testing.T) {
	f := newFixture(t)
	admin := f.browser(t)
	admin.mustSignIn("admin", "operator-pass")
	for _, p := range []string{"overview", "numbers", "templates", "voicefiles", "keys", "receipts", "settings", "calls", "network", "explorer", "users"} {
		st, body, h := admin.do("GET", "/console/"+p+"?acct="+acctA, nil, nil)
		if st != http.StatusOK {
			t.Errorf("GET %s: %d\n%.500s", p, st, body)
			continue
		}
		if ct := h.Get("Content-Type"); ct != "text/html; charset=utf-8" {
			t.Errorf("%s Content-Type %q", p, ct)
		}
		if !strings.Contains(body, `<meta charset="utf-8">`) {
			t.Errorf("%s lacks the charset", p)
		}
	}
}

func TestEventStream(t *testing.T) {
	f := newFixture(t)
	b := f.browser(t)
	b.mustSignIn("alice", "alice-pass")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", f.srv.URL+"/console/events", nil)
	resp, err := b.client.Do(req)
	must(t, err)
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("Content-Type %q", ct)
	}
	lines := make(chan string, 100)
	go func() {
		defer close(lines)
		buf := make([]byte, 4096)
		var acc string
		for {
			n, err := resp.Body.Read(buf)
			acc += string(buf[:n])
			for {
				i := strings.Index(acc, "\n")
				if i < 0 {
					break
				}
				lines <- acc[:i]
				acc = acc[i+1:]
			}
			if err != nil {
				return
			}
		}
	}()
	// The first update carries the live count; then a new call and its
	// progress arrive as changes.
	wait := func(want string) {
		t.Helper()
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("stream ended before %q", want)
				}
				if strings.HasPrefix(l, "data: ") && strings.Contains(l, want) {
					return
				}
			case <-ctx.Done():
				t.Fatalf("no %q on the stream", want)
			}
		}
	}
	wait(`"live":0`)
	c := &dialtone.Call{ID: "200000000001^1", AccountUID: acctA, Kind: dialtone.KindTTS, Callee: "13800000001", State: dialtone.CallRinging, CreatedAt: f.clock.Now()}
	must(t, f.store.CreateCall(context.Background(), c, nil))
	wait(`"state":"ringing"`)
	c.State, c.StatusCode = dialtone.CallEnded, dialtone.StatusCompleted
	must(t, f.store.UpdateCall(context.Background(), &dialtone.CallChange{Call: c}))
	wait(`"status_code":"200000"`)
	// Another account's calls never show up on alice's stream.
	other := &dialtone.Call{ID: "200000000002^2", AccountUID: acctB, Kind: dialtone.KindTTS, Callee: "1", State: dialtone.CallRinging, CreatedAt: f.clock.Now()}
	must(t, f.store.CreateCall(context.Background(), other, nil))
	timeout := time.After(1500 * time.Millisecond)
	for {
		select {
		case l := <-lines:
			if strings.Contains(l, other.ID) {
				t.Fatal("account B's call on account A's stream")
			}
		case <-timeout:
			return
		}
	}
}

func TestExplorerValidationAndCode(t *testing.T) {
	f := newFixture(t)
	b := f.browser(t)
	tok := b.mustSignIn("alice", "alice-pass")
	h := http.Header{"X-Csrf-Token": {tok}, "Content-Type": {"application/json"}}
	post := func(path, body string) (int, string) {
		req, _ := http.NewRequest("POST", f.srv.URL+path, strings.NewReader(body))
		req.Header = h.Clone()
		resp, err := b.client.Do(req)
		must(t, err)
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(data)
	}
	st, body := post("/console/explorer/send", `{"action":"SingleCallByTts","key":"x","params":{"PlayTimes":"9","TtsParam":"nope"}}`)
	for _, want := range []string{"CalledNumber is required", "PlayTimes must be between 1 and 3", "TtsParam must be a JSON object", "TtsCode is required"} {
		if st != http.StatusBadRequest || !strings.Contains(body, want) {
			t.Errorf("invalid send: %d, want 400 with %q\n%s", st, want, body)
		}
	}
	st, body = post("/console/explorer/code", `{"action":"IvrCall","params":{"CalledNumber":"13800000001","CalledShowNumber":"057188880000","StartCode":"TTS_1","MenuKeyMap":"[{\"Key\":\"1\",\"Code\":\"TTS_2\"}]","PlayTimes":"2"}}`)
	if st != http.StatusOK {
		t.Fatalf("code: %d %s", st, body)
	}
	for _, want := range []string{"IvrCallRequestMenuKeyMap", "tea.Int64(2)", `MenuKeyMap.1.Key`, `TeaPair(\"playTimes\", 2L)`, "setPlayTimes(2L)", "menu_key_map",
		"new IvrCallRequest([", "PlayTimes = 2L", "@alicloud/rpc-client", "@alicloud/openapi-client", "c.IvrCall(ctx, sdk.IvrCall{", "openssl dgst -sha1 -hmac"} {
		if !strings.Contains(body, want) {
			t.Errorf("snippets lack %q", want)
		}
	}
	if strings.Contains(body, "secret") && strings.Contains(body, "Secret\":\"") {
		t.Error("snippets carry a secret")
	}
}

// putUser creates or changes a console user (an operator for account "")
// through the resource service, as the console's Users page does.
func putUser(ctx context.Context, st dialtone.Store, name, account, password string) error {
	_, _, err := resource.New(st, "", nil).PutConsoleUser(ctx, dialtone.ConsoleUserInput{Username: name, Password: password,
		AccountUID: account, Operator: account == ""})
	return err
}

// TestTemplateRemarkForm: the new template form takes a remark (decoded by
// its JSON name like the other fields), the list shows it, and a refused
// remark comes back with its label and what was typed.
func TestTemplateRemarkForm(t *testing.T) {
	f := newFixture(t)
	b := f.browser(t)
	tok := b.mustSignIn("alice", "alice-pass")
	st, _, _ := b.do("POST", "/console/templates", url.Values{"csrf": {tok}, "kind": {"notification"}, "content": {"Hi ${name}"}, "remark": {"for the shipping team"}}, nil)
	if st != http.StatusSeeOther {
		t.Fatalf("create: %d", st)
	}
	ts, err := f.store.ListTemplates(context.Background(), acctA)
	must(t, err)
	found := false
	for _, tp := range ts {
		found = found || tp.Remark == "for the shipping team"
	}
	if !found {
		t.Fatalf("no template with the remark: %+v", ts)
	}
	if _, page, _ := b.do("GET", "/console/templates", nil, nil); !strings.Contains(page, "for the shipping team") {
		t.Error("the list does not show the remark")
	}
	b.do("POST", "/console/templates", url.Values{"csrf": {tok}, "kind": {"notification"}, "content": {"Bye"}, "remark": {strings.Repeat("x", 501)}}, nil)
	_, page, _ := b.do("GET", "/console/templates", nil, nil)
	if !strings.Contains(page, "Not saved: Remark: must be at most 500 characters") || !strings.Contains(page, ">Bye</textarea>") {
		t.Errorf("the refusal page:\n%.2000s", page)
	}
}

// TestFirstLanding: an operator who has not chosen an account lands on one
// with data (here the second account, which has a number), not on an empty
// one; once chosen, the choice is kept.
func TestFirstLanding(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	must(t, f.store.PutNumber(ctx, &dialtone.Number{AccountUID: acctB, Number: "057100000001", Concurrency: 1}))
	b := f.browser(t)
	b.mustSignIn("admin", "operator-pass")
	_, page, _ := b.do("GET", "/console/overview", nil, nil)
	if !strings.Contains(page, `data-account="`+acctB+`"`) {
		t.Fatalf("the operator landed elsewhere than on %s (the account with data):\n%.600s", acctB, page)
	}
	b.do("GET", "/console/numbers?acct="+acctA, nil, nil)
	if _, page, _ = b.do("GET", "/console/overview", nil, nil); !strings.Contains(page, `data-account="`+acctA+`"`) {
		t.Error("the operator's choice of account was not kept")
	}
}
