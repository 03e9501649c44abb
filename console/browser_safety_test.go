package console_test

import (
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/dialtone-voice/dialtone/internal/browsertest"
)

var apiRequestsLine = regexp.MustCompile(`(?m)^dialtone_api_requests_total\{[^}]*\} ([0-9.e+]+)$`)

// apiRequests sums dialtone_api_requests_total of the node at base.
func apiRequests(t *testing.T, base string) float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var sum float64
	for _, m := range apiRequestsLine.FindAllStringSubmatch(string(b), -1) {
		v, err := strconv.ParseFloat(m[1], 64)
		if err != nil {
			t.Fatal(err)
		}
		sum += v
	}
	return sum
}

// TestBrowserOnlyDialtoneSpeaks: text in the URL never reaches the page;
// a reload after creating a key creates nothing and shows the secret no
// more; the favicon is served and a walk over every page leaves the API's
// metrics alone.
func TestBrowserOnlyDialtoneSpeaks(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	base := startNode(t)
	s := browsertest.New(t, base, "console-safety")
	s.SignIn("admin", adminPassword)

	before := apiRequests(t, base)
	for _, p := range []string{"overview", "numbers", "templates", "voicefiles", "keys", "receipts", "settings", "calls", "network", "explorer", "users"} {
		s.Do(p, chromedp.Navigate(base+"/console/"+p+"?acct=1001&error=Zq1+account+suspended&msg=Zq2+call+us&flash=Zq3+pay+here"), chromedp.WaitVisible("main h1"))
		if body := s.Text("body"); strings.Contains(body, "Zq") {
			t.Errorf("%s shows text from its URL:\n%.600s", p, body)
		}
		if n := s.Eval(`String([...document.querySelectorAll(".flash, .error")].filter(e => !e.hidden).length)`); n != "0" {
			t.Errorf("%s shows %s messages nobody left", p, n)
		}
	}
	if st := s.Eval(`(() => { const x = new XMLHttpRequest(); x.open("GET", "/favicon.ico", false); x.send(); return x.status + " " + x.getResponseHeader("content-type"); })()`); st != "200 image/x-icon" {
		t.Errorf("/favicon.ico from the page: %s", st)
	}
	if after := apiRequests(t, base); after != before {
		t.Errorf("a walk over the console moved dialtone_api_requests_total from %v to %v", before, after)
	}

	// Create a key: its secret is shown once, after a redirect.
	keyRows := `String(document.querySelectorAll("table tbody tr code").length)`
	s.Do("keys", chromedp.Navigate(base+"/console/keys?acct=1001"), chromedp.WaitVisible("#scope-all-new"))
	n0 := s.Eval(keyRows)
	s.Do("create key", chromedp.Submit("#scope-all-new"), chromedp.WaitVisible("#new-key-secret"))
	if u := s.Eval(`location.pathname + location.search`); u != "/console/keys" {
		t.Errorf("after the POST the browser is at %q, want the keys page by a redirect", u)
	}
	n1 := s.Eval(keyRows)
	if n1 == n0 {
		t.Fatalf("no key was added (%s rows)", n1)
	}
	s.Do("reload", chromedp.Reload(), chromedp.WaitVisible("#scope-all-new"))
	if n2 := s.Eval(keyRows); n2 != n1 {
		t.Errorf("a reload after creating a key changed the keys from %s to %s", n1, n2)
	}
	if s.Eval(`document.querySelector("#new-key-secret") ? "shown" : ""`) != "" {
		t.Error("the secret is shown again after a reload")
	}

	// Actions are chosen from the API's list; choosing none is refused
	// with the field's label.
	s.Do("key with no action",
		chromedp.Click("#scope-some-new"),
		chromedp.Submit("#scope-some-new"),
		chromedp.WaitVisible(".error"),
	)
	if msg := s.Text(".error"); !strings.Contains(msg, "Allowed actions: must not be empty") {
		t.Errorf("refusal: %q", msg)
	}
	if n := s.Eval(`String(document.querySelectorAll(".actions-choice input[type=checkbox][id^=act-new-]").length)`); n != "9" {
		t.Errorf("the new key form offers %s actions, want the API's 9", n)
	}
	s.Do("key for TTS calls only",
		chromedp.Click("#scope-some-new"),
		chromedp.Click("#act-new-SingleCallByTts"),
		chromedp.Submit("#scope-some-new"),
		chromedp.WaitVisible("#new-key-id"),
	)
	id := s.Text("#new-key-id")
	if cell := s.Eval(fmt.Sprintf(`[...document.querySelectorAll("tbody tr")].find(r => r.textContent.includes(%q)).cells[2].firstChild.textContent.trim()`, id)); cell != "SingleCallByTts" {
		t.Errorf("the new key's actions read %q", cell)
	}
}

// TestBrowserRoles: a console user's role is chosen on creation and does
// not change by adding the same name again or by changing the password;
// the last operator is offered neither delete nor demotion; a password of
// spaces is refused with the field named by its label and what was typed
// kept.
func TestBrowserRoles(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	base := startNode(t)
	s := browsertest.New(t, base, "console-roles")
	s.SignIn("admin", adminPassword)
	role := func(user string) string {
		return s.Eval(fmt.Sprintf(`(document.querySelector('tr[data-user=%q]') || {dataset: {role: "none"}}).dataset.role`, user))
	}

	// No role chosen: refused by the server too (the browser's own check
	// is taken away), with the typed name kept.
	s.Do("add user without a role",
		chromedp.Navigate(base+"/console/users"),
		chromedp.WaitVisible("#u-name"),
		chromedp.SendKeys("#u-name", "carol"),
		chromedp.SendKeys("#u-pass", "carol-password"),
		browsertest.Run(`document.querySelectorAll("#add-user [required]").forEach(e => e.required = false)`),
		chromedp.Submit("#u-name"),
		chromedp.WaitVisible(".error"),
	)
	if msg := s.Text(".error"); !strings.Contains(msg, "Role: choose operator") {
		t.Errorf("refusal: %q", msg)
	}
	if v := s.Eval(`document.querySelector("#u-name").value`); v != "carol" {
		t.Errorf("the typed username is %q after the refusal", v)
	}
	if role("carol") != "none" {
		t.Fatal("carol was created without a role")
	}

	s.Do("add carol to account 2002",
		chromedp.Click("#u-role-acct"),
		chromedp.SetValue("#u-acct", "2002"),
		chromedp.SendKeys("#u-pass", "carol-password"),
		chromedp.Submit("#u-name"),
		chromedp.WaitVisible(".flash"),
	)
	if r := role("carol"); r != "account" {
		t.Fatalf("carol's role is %q", r)
	}
	// Adding carol again as an operator changes nothing.
	s.Do("add carol again as operator",
		chromedp.Navigate(base+"/console/users"),
		chromedp.WaitVisible("#u-name"),
		chromedp.SendKeys("#u-name", "carol"),
		chromedp.SendKeys("#u-pass", "another-password"),
		chromedp.Click("#u-role-op"),
		chromedp.Submit("#u-name"),
		chromedp.WaitVisible(".error"),
	)
	if r := role("carol"); r != "account" {
		t.Fatalf("re-adding carol made her %q", r)
	}
	// A password of ten spaces is refused, named by its label.
	s.Do("spaces as a password",
		chromedp.Navigate(base+"/console/users"),
		chromedp.WaitVisible("#u-name"),
		chromedp.Click(`tr[data-user="carol"] details summary`),
		chromedp.SendKeys(`#pw-carol`, "          "),
		chromedp.Submit(`#pw-carol`),
		chromedp.WaitVisible(".error"),
	)
	if msg := s.Text(".error"); !strings.HasPrefix(msg, "Not saved: Password:") {
		t.Errorf("refusal: %q", msg)
	}
	s.Do("change carol's password",
		chromedp.Navigate(base+"/console/users"),
		chromedp.WaitVisible("#u-name"),
		chromedp.Click(`tr[data-user="carol"] details summary`),
		chromedp.SendKeys(`#pw-carol`, "carol-new-password"),
		chromedp.Submit(`#pw-carol`),
		chromedp.WaitVisible(".flash"),
	)
	if r := role("carol"); r != "account" {
		t.Fatalf("a password change made carol %q", r)
	}
	// The last operator: nothing offered that would be refused.
	if n := s.Eval(`String(document.querySelectorAll('tr[data-user="admin"] button.danger, tr[data-user="admin"] form[action="/console/users/role"]').length)`); n != "0" {
		t.Errorf("the last operator is offered %s delete or role forms", n)
	}
	if n := s.Eval(`String(document.querySelectorAll('tr[data-user="carol"] button.danger').length)`); n != "1" {
		t.Errorf("carol is offered %s delete buttons", n)
	}
	s.Shot("users")

	// Carol signs in with her new password and sees her account only.
	s.Do("sign out", chromedp.Click(`form[action="/console/signout"] button`), chromedp.WaitVisible("#username"))
	s.SignIn("carol", "carol-new-password")
	if body := s.Text("body"); strings.Contains(body, "演示账号") {
		t.Error("carol sees account 1001")
	}
}

// TestBrowserNetworkChecked: the simulated network's form is checked with
// the network model's own rules when it is saved; the refusal names the
// fields by their labels and keeps what was typed.
func TestBrowserNetworkChecked(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	base := startNode(t)
	s := browsertest.New(t, base, "console-network")
	s.SignIn("admin", adminPassword)
	long := strings.Repeat("很长", 300)
	s.Do("a subscriber out of bounds",
		chromedp.Navigate(base+"/console/network?edit=13800000001"),
		chromedp.WaitVisible("#sn-hangup"),
		chromedp.SetValue("#sn-hangup", "9999h"),
		chromedp.SetValue("#sn-say", "hello\n"+long),
		chromedp.SetValue("#sn-answer", "soon"),
		chromedp.Submit("#sn-hangup"),
		chromedp.WaitVisible(".error"),
	)
	msg := s.Text(".error")
	for _, want := range []string{"Hang up after: must be at most 24h", "Says, item 2: has 600 characters, more than 500", `Answer after: "soon" is not a duration`} {
		if !strings.Contains(msg, want) {
			t.Errorf("refusal %q lacks %q", msg, want)
		}
	}
	if got := s.Eval(`document.querySelector("#sn-hangup").value + "|" + document.querySelector("#sn-answer").value`); got != "9999h|soon" {
		t.Errorf("the form holds %q after the refusal, want what was typed", got)
	}
	if n := s.Eval(`String(document.querySelectorAll("#sn-form [aria-invalid=true]").length)`); n != "3" {
		t.Errorf("%s inputs marked invalid, want 3", n)
	}
	s.Shot("network-refused")
	// Nothing was saved: the subscriber still hangs up as before.
	s.Do("network", chromedp.Navigate(base+"/console/network"), chromedp.WaitVisible(`tr[data-number="13800000001"]`))
	if row := s.Text(`tr[data-number="13800000001"]`); strings.Contains(row, "9999h") {
		t.Errorf("the refused change was saved: %s", row)
	}
}
