package resource_test

// The front doors agree: one table of valid and invalid inputs goes
// through the admin API (JSON), the console (forms) and provisioning
// (YAML), and each door gives the same verdict, since each only decodes
// and calls the resource service, whose resources check themselves.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/admin"
	"github.com/dialtone-voice/dialtone/console"
	"github.com/dialtone-voice/dialtone/provision"
	"github.com/dialtone-voice/dialtone/resource"
	"github.com/dialtone-voice/dialtone/secret"
	"github.com/dialtone-voice/dialtone/sqlite"
)

// input is one resource to create, as named fields; every door writes them
// in its own encoding.
type input struct {
	kind   string // "number" or "template"
	fields map[string]string
	valid  bool
	why    string
}

var table = []input{
	{"number", map[string]string{"number": "057188880000", "concurrency": "10"}, true, "digits"},
	{"number", map[string]string{"number": "+8657188880000", "concurrency": "3"}, true, "a leading + (the console used to refuse it)"},
	{"number", map[string]string{"number": "123", "concurrency": "1"}, true, "3 digits (provisioning used to refuse it)"},
	{"number", map[string]string{"number": "12", "concurrency": "1"}, false, "too short"},
	{"number", map[string]string{"number": "0571-8888", "concurrency": "1"}, false, "a dash"},
	{"number", map[string]string{"number": "057100000002", "concurrency": "0"}, false, "no calls at all"},
	{"number", map[string]string{"number": "057100000003", "concurrency": "100001"}, false, "too many calls"},
	{"template", map[string]string{"kind": "notification", "content": "Hi ${name}", "voice": "en+f3"}, true, "a voice variant (the admin API used to refuse it)"},
	{"template", map[string]string{"kind": "verification", "content": "您的验证码是${code}", "voice": ""}, true, "no voice"},
	{"template", map[string]string{"kind": "notification", "content": "Hi", "voice": "-v"}, false, "a voice that reads as an option"},
	{"template", map[string]string{"kind": "notification", "content": "Hi", "voice": "../x"}, false, "a voice that names a file"},
	{"template", map[string]string{"kind": "notification", "content": "Hi ${a-b}", "voice": ""}, false, "a bad variable"},
	{"template", map[string]string{"kind": "notification", "content": " ", "voice": ""}, false, "no text"},
	{"template", map[string]string{"kind": "notification", "content": strings.Repeat("长", 501), "voice": ""}, false, "too long"},
	{"template", map[string]string{"kind": "marketing", "content": "Hi", "voice": ""}, false, "an unknown kind"},
}

// door creates one input in the account and reports whether it was taken.
type door func(t *testing.T, acct string, in input, n int) bool

func TestFrontDoorsAgree(t *testing.T) {
	sealer, err := secret.NewSealer(make([]byte, secret.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "db"), sealer, sqlite.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc := resource.New(st, t.TempDir(), nil)
	ctx := context.Background()
	for _, uid := range []string{"101", "102", "103"} {
		if _, err := svc.PutAccount(ctx, dialtone.Account{UID: uid, Name: "door " + uid, Status: dialtone.AccountActive, VoiceService: true}); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := svc.PutConsoleUser(ctx, dialtone.ConsoleUserInput{Username: "ops", Password: "ops-password", Operator: true}); err != nil {
		t.Fatal(err)
	}
	doors := map[string]struct {
		acct string
		try  door
	}{
		"admin JSON":   {"101", adminDoor(t, svc)},
		"console form": {"102", consoleDoor(t, st, svc)},
		"YAML":         {"103", yamlDoor(svc)},
	}
	for i, in := range table {
		for name, d := range doors {
			if got := d.try(t, d.acct, in, i); got != in.valid {
				t.Errorf("%s: %s %v (%s): taken %v, want %v", name, in.kind, in.fields, in.why, got, in.valid)
			}
		}
	}
}

func adminDoor(t *testing.T, svc *resource.Service) door {
	h := admin.New(svc, admin.TokenList("door-token"), nil)
	return func(t *testing.T, acct string, in input, _ int) bool {
		body := map[string]any{}
		for k, v := range in.fields {
			body[k] = v
		}
		path := "/admin/v1/accounts/" + acct + "/tts-templates"
		if in.kind == "number" {
			path = "/admin/v1/accounts/" + acct + "/numbers"
			var c int
			fmt.Sscan(in.fields["concurrency"], &c)
			body["concurrency"] = c
		}
		b, _ := json.Marshal(body)
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(string(b)))
		req.Header.Set("Authorization", "Bearer door-token")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusCreated && rec.Code != http.StatusBadRequest {
			t.Fatalf("admin %s: %d %s", path, rec.Code, rec.Body)
		}
		return rec.Code == http.StatusCreated
	}
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func consoleDoor(t *testing.T, st *sqlite.Store, svc *resource.Service) door {
	c, err := console.New(console.Config{Store: st, Resources: svc})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(c)
	t.Cleanup(srv.Close)
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path string) string {
		resp, err := client.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	post := func(path string, form url.Values) *http.Response {
		resp, err := client.PostForm(srv.URL+path, form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	csrf := func(page string) string {
		m := csrfRE.FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("no CSRF token in %.300s", page)
		}
		return m[1]
	}
	if resp := post("/console/signin", url.Values{"csrf": {csrf(get("/console/signin"))}, "username": {"ops"}, "password": {"ops-password"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", resp.StatusCode)
	}
	token := csrf(get("/console/numbers?acct=102"))
	return func(t *testing.T, acct string, in input, _ int) bool {
		form := url.Values{"csrf": {token}}
		for k, v := range in.fields {
			form.Set(k, v)
		}
		path := "/console/templates?acct=" + acct
		if in.kind == "number" {
			path = "/console/numbers?acct=" + acct
		}
		resp := post(path, form)
		loc := resp.Header.Get("Location")
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/console/") {
			t.Fatalf("console %s: %d to %q", path, resp.StatusCode, loc)
		}
		// The verdict is the one-time message on the page the POST
		// redirects to.
		page := get(loc)
		return strings.Contains(page, `class="flash"`) && !strings.Contains(page, `class="error"`)
	}
}

func yamlDoor(svc *resource.Service) door {
	return func(t *testing.T, acct string, in input, n int) bool {
		var b strings.Builder
		fmt.Fprintf(&b, "accounts:\n  - uid: %q\n    name: door %s\n", acct, acct)
		if in.kind == "number" {
			fmt.Fprintf(&b, "    numbers:\n      - {number: %q, concurrency: %s}\n", in.fields["number"], in.fields["concurrency"])
		} else {
			fmt.Fprintf(&b, "    tts_templates:\n      - {code: TTS_door%d, kind: %q, content: %q, voice: %q}\n", n, in.fields["kind"], in.fields["content"], in.fields["voice"])
		}
		doc, err := provision.Parse([]byte(b.String()), "door.yaml")
		if err != nil {
			var pe *provision.Error
			if !strings.Contains(err.Error(), "door.yaml: line ") || !errors.As(err, &pe) {
				t.Fatalf("YAML: not a document problem: %v", err)
			}
			return false
		}
		if _, err := provision.Apply(context.Background(), svc, doc); err != nil {
			t.Fatalf("YAML: a document that parsed did not apply: %v", err)
		}
		return true
	}
}
