package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/provision"
	"github.com/dialtone-voice/dialtone/resource"
	"github.com/dialtone-voice/dialtone/secret"
	"github.com/dialtone-voice/dialtone/sqlite"
)

const (
	token     = "test-admin-token-0123456789"
	demoUID   = "1234567890123456"
	demoKeyID = "LTAIdemo00000000000001"
	demoSec   = "demoSecret000000000000000000001"
)

// syncBuffer collects logs from concurrent handlers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type env struct {
	t     *testing.T
	store dialtone.Store
	h     http.Handler
	logs  *syncBuffer
}

// newEnv serves the admin API over the real SQLite store; at the end it
// checks that no secret and not the token reached the log.
func newEnv(t *testing.T, tok string) *env {
	t.Helper()
	sealer, err := secret.NewSealer(make([]byte, secret.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "db"), sealer)
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	voiceDir := t.TempDir()
	e := &env{t: t, store: st, logs: logs,
		h: New(resource.New(st, voiceDir, slog.New(slog.NewTextHandler(logs, nil))), TokenList(tok),
			slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))}
	t.Cleanup(func() {
		st.Close()
		out := logs.String()
		for _, s := range []string{token, demoSec, "0123456789abcdef"} {
			if strings.Contains(out, s) {
				t.Errorf("log contains a secret %q:\n%s", s, out)
			}
		}
	})
	return e
}

type response struct {
	status int
	header http.Header
	body   string
}

func (e *env) do(method, path, body string, hdr ...string) response {
	e.t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			req.Header.Del(hdr[i])
		} else {
			req.Header.Set(hdr[i], hdr[i+1])
		}
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	return response{rec.Code, rec.Header(), rec.Body.String()}
}

func (r response) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(r.body), v); err != nil {
		t.Fatalf("body %q: %v", r.body, err)
	}
}

func (r response) wantError(t *testing.T, status int, code string) APIError {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q", ct)
	}
	var e APIError
	r.decode(t, &e)
	if e.Code != code || e.Message == "" {
		t.Fatalf("error %+v, want code %s with a message", e, code)
	}
	return e
}

// examplePath is the repository's provisioning example.
var examplePath = filepath.Join("..", "examples", "provisioning.yaml")

func exampleYAML(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// exampleDocument is the example with the files it names, as `dialtone
// apply` sends it.
func exampleDocument(t *testing.T) Document {
	t.Helper()
	yaml := []byte(exampleYAML(t))
	doc, err := provision.Parse(yaml, examplePath)
	if err != nil {
		t.Fatal(err)
	}
	files, err := provision.ReadFiles(doc, provision.DirFiles(filepath.Dir(examplePath)))
	if err != nil {
		t.Fatal(err)
	}
	return Document{Name: examplePath, YAML: yaml, Files: files}
}

// applyExample posts the example with its files.
func (e *env) applyExample() response {
	e.t.Helper()
	req, err := NewApplyRequest(context.Background(), "http://dialtone.test", token, exampleDocument(e.t))
	if err != nil {
		e.t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	return response{rec.Code, rec.Header(), rec.Body.String()}
}

func TestAuth(t *testing.T) {
	e := newEnv(t, token)
	e.do("GET", "/admin/v1/accounts", "", "Authorization", "").wantError(t, 401, CodeUnauthorized)
	r := e.do("GET", "/admin/v1/accounts", "", "Authorization", "Bearer wrong")
	r.wantError(t, 401, CodeUnauthorized)
	if r.header.Get("WWW-Authenticate") == "" {
		t.Error("401 without WWW-Authenticate")
	}
	e.do("GET", "/admin/v1/accounts", "", "Authorization", "Basic "+token).wantError(t, 401, CodeUnauthorized)
	e.do("GET", "/admin/v1/accounts", "", "Authorization", "Bearer "+token+"x").wantError(t, 401, CodeUnauthorized)
	// Unknown paths are not revealed before authentication.
	e.do("GET", "/admin/nothing", "", "Authorization", "").wantError(t, 401, CodeUnauthorized)
	if r := e.do("GET", "/admin/v1/accounts", "", "Authorization", "bearer "+token); r.status != 200 {
		t.Errorf("lower-case scheme: %d %s", r.status, r.body)
	}
}

func TestDisabled(t *testing.T) {
	e := newEnv(t, "")
	for _, tok := range []string{"", "Bearer ", "Bearer " + token} {
		er := e.do("POST", "/admin/v1/provision", exampleYAML(t), "Authorization", tok).wantError(t, 403, CodeForbidden)
		if !strings.Contains(er.Message, "DIALTONE_ADMIN_TOKEN") {
			t.Errorf("message %q does not say how to enable the API", er.Message)
		}
	}
	if _, err := e.store.GetAccount(context.Background(), demoUID); !errors.Is(err, dialtone.ErrNotFound) {
		t.Error("disabled API applied the document")
	}
}

func TestProvision(t *testing.T) {
	e := newEnv(t, token)
	// A document that names files must come with them: the server never
	// reads them from its own disk.
	er := e.do("POST", "/admin/v1/provision", exampleYAML(t), "Content-Type", "application/yaml").wantError(t, 400, CodeInvalidProvisioning)
	if !strings.Contains(er.Message, `accounts[0].voice_files[0].path: "prompts/welcome.wav": the file was not sent with the document`) {
		t.Errorf("message %q", er.Message)
	}
	if all, _ := e.store.ListAccounts(context.Background()); len(all) != 0 {
		t.Errorf("%d accounts after a refused document", len(all))
	}
	r := e.applyExample()
	if r.status != 200 {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	var res Result
	r.decode(t, &res)
	if res.AccountsCreated != 1 || res.KeysCreated != 1 || len(res.Accounts) != 1 || res.Accounts[0].UID != demoUID || res.Accounts[0].VoiceFiles.Created != 1 {
		t.Errorf("result %+v", res)
	}
	r = e.applyExample()
	r.decode(t, &res)
	if r.status != 200 || res.AccountsUnchanged != 1 || res.KeysUnchanged != 1 || res.AccountsCreated+res.AccountsUpdated+res.KeysCreated+res.KeysUpdated != 0 {
		t.Errorf("second apply: %d %+v", r.status, res)
	}
	if all, _ := e.store.ListAccounts(context.Background()); len(all) != 1 {
		t.Errorf("%d accounts after two applies", len(all))
	}
	// A plain YAML body without files works as before, named by ?name=.
	r = e.do("POST", "/admin/v1/provision?name=small.yaml", "accounts:\n  - {uid: \"42\", name: other}\n", "Content-Type", "text/plain")
	r.decode(t, &res)
	if r.status != 200 || res.AccountsCreated != 1 {
		t.Errorf("plain YAML: %d %+v", r.status, res)
	}
	er = e.do("POST", "/admin/v1/provision?name=small.yaml", "accounts:\n  - {uid: \"42\", name: other, status: gone}\n").wantError(t, 400, CodeInvalidProvisioning)
	if !strings.HasPrefix(er.Message, "small.yaml: line 2: accounts[0].status") {
		t.Errorf("message %q does not start with the document's name, line and key", er.Message)
	}
}

func TestProvisionInvalid(t *testing.T) {
	e := newEnv(t, token)
	doc := "accounts:\n  - name: a\n    status: actve\n    access_keys:\n      - id: K\n        secrets: \"0123456789abcdef\"\n"
	er := e.do("POST", "/admin/v1/provision", doc).wantError(t, 400, CodeInvalidProvisioning)
	for _, want := range []string{`line 3: accounts[0].status: "actve"`, `line 6: accounts[0].access_keys[0]: unknown key "secrets"`} {
		if !strings.Contains(er.Message, want) {
			t.Errorf("message lacks %q:\n%s", want, er.Message)
		}
	}
	if strings.Contains(er.Message, "0123456789abcdef") {
		t.Error("message shows the secret")
	}
	e.do("POST", "/admin/v1/provision", "a: [\n").wantError(t, 400, CodeInvalidProvisioning)
	big := "# " + strings.Repeat("x", 10<<20) + "\n"
	e.do("POST", "/admin/v1/provision", big).wantError(t, 413, CodeRequestTooLarge)
}

func TestProvisionConflict(t *testing.T) {
	e := newEnv(t, token)
	if r := e.applyExample(); r.status != 200 {
		t.Fatal(r.body)
	}
	doc := "accounts:\n  - uid: \"7\"\n    name: other\n    access_keys: [{id: " + demoKeyID + ", secret: \"0123456789abcdef\"}]\n"
	er := e.do("POST", "/admin/v1/provision", doc).wantError(t, 409, CodeConflict)
	if !strings.Contains(er.Message, demoKeyID) || strings.Contains(er.Message, demoUID) {
		t.Errorf("message %q should name the key but not its owner", er.Message)
	}
}

func TestAccountsAndKeys(t *testing.T) {
	e := newEnv(t, token)
	if r := e.applyExample(); r.status != 200 {
		t.Fatal(r.body)
	}
	if r := e.do("POST", "/admin/v1/provision", "accounts:\n  - {uid: \"42\", name: other, products: [tts]}\n"); r.status != 200 {
		t.Fatal(r.body)
	}

	r := e.do("GET", "/admin/v1/accounts", "")
	var list struct{ Accounts []AccountInfo }
	r.decode(t, &list)
	if r.status != 200 || len(list.Accounts) != 2 {
		t.Fatalf("list: %d %s", r.status, r.body)
	}
	r = e.do("GET", "/admin/v1/accounts/42", "")
	var acct AccountInfo
	r.decode(t, &acct)
	if acct.UID != "42" || acct.AllProducts || len(acct.Products) != 1 || acct.Status != "active" {
		t.Errorf("account 42: %s", r.body)
	}
	e.do("GET", "/admin/v1/accounts/999", "").wantError(t, 404, CodeAccountNotFound)
	e.do("GET", "/admin/v1/accounts/abc", "").wantError(t, 404, CodeAccountNotFound)
	e.do("GET", "/admin/v1/accounts/999/keys", "").wantError(t, 404, CodeAccountNotFound)

	// Create a key: the secret is shown once.
	r = e.do("POST", "/admin/v1/accounts/42/keys", `{"actions":["SingleCallByTts"]}`)
	var nk NewKey
	r.decode(t, &nk)
	if r.status != 201 || !strings.HasPrefix(nk.ID, "LTAI") || len(nk.ID) != 24 || len(nk.Secret) != 30 || !nk.Enabled || nk.AccountUID != "42" {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	stored, err := e.store.GetAccessKey(context.Background(), nk.ID)
	if err != nil || stored.Secret != nk.Secret {
		t.Fatalf("stored key: %+v %v", stored, err)
	}
	r = e.do("POST", "/admin/v1/accounts/42/keys", "")
	var nk2 NewKey
	r.decode(t, &nk2)
	if r.status != 201 || nk2.ID == nk.ID || len(nk2.Actions) != 1 || nk2.Actions[0] != "*" {
		t.Errorf("create without body: %d %s", r.status, r.body)
	}
	e.do("POST", "/admin/v1/accounts/42/keys", `{"actions":[]}`).wantError(t, 400, CodeInvalidRequest)
	e.do("POST", "/admin/v1/accounts/42/keys", `{"secret":"mine"}`).wantError(t, 400, CodeInvalidRequest)
	e.do("POST", "/admin/v1/accounts/999/keys", "").wantError(t, 404, CodeAccountNotFound)

	// Lists never carry secrets.
	for _, path := range []string{"/admin/v1/accounts", "/admin/v1/accounts/42", "/admin/v1/accounts/42/keys", "/admin/v1/accounts/" + demoUID + "/keys"} {
		r := e.do("GET", path, "")
		if r.status != 200 {
			t.Fatalf("GET %s: %d %s", path, r.status, r.body)
		}
		for _, s := range []string{nk.Secret, nk2.Secret, demoSec, `"secret"`} {
			if strings.Contains(r.body, s) {
				t.Errorf("GET %s shows a secret: %s", path, r.body)
			}
		}
	}
	r = e.do("GET", "/admin/v1/accounts/42/keys", "")
	var keys struct{ Keys []KeyInfo }
	r.decode(t, &keys)
	if len(keys.Keys) != 2 {
		t.Errorf("keys of 42: %s", r.body)
	}

	// Patch.
	r = e.do("PATCH", "/admin/v1/accounts/42/keys/"+nk.ID, `{"enabled":false,"actions":["IvrCall","SingleCallByTts"]}`)
	var ki KeyInfo
	r.decode(t, &ki)
	if r.status != 200 || ki.Enabled || len(ki.Actions) != 2 {
		t.Errorf("patch: %d %s", r.status, r.body)
	}
	if k, _ := e.store.GetAccessKey(context.Background(), nk.ID); k.Enabled || k.Secret != nk.Secret || !k.CreatedAt.Equal(stored.CreatedAt) {
		t.Errorf("after patch: %+v", k)
	}
	e.do("PATCH", "/admin/v1/accounts/42/keys/"+nk.ID, `{}`).wantError(t, 400, CodeInvalidRequest)
	e.do("PATCH", "/admin/v1/accounts/42/keys/"+nk.ID, `{"actions":["bad action"]}`).wantError(t, 400, CodeInvalidRequest)
	e.do("PATCH", "/admin/v1/accounts/42/keys/"+nk.ID, `{"enabled":"no"}`).wantError(t, 400, CodeInvalidRequest)
	e.do("PATCH", "/admin/v1/accounts/42/keys/NOPE", `{"enabled":true}`).wantError(t, 404, CodeKeyNotFound)
	// Another account's key is not found, not forbidden: no oracle.
	e.do("PATCH", "/admin/v1/accounts/42/keys/"+demoKeyID, `{"enabled":false}`).wantError(t, 404, CodeKeyNotFound)
	e.do("DELETE", "/admin/v1/accounts/42/keys/"+demoKeyID, "").wantError(t, 404, CodeKeyNotFound)
	if k, err := e.store.GetAccessKey(context.Background(), demoKeyID); err != nil || !k.Enabled {
		t.Errorf("cross-account request changed the key: %+v %v", k, err)
	}

	// Delete.
	if r := e.do("DELETE", "/admin/v1/accounts/42/keys/"+nk.ID, ""); r.status != 204 {
		t.Errorf("delete: %d %s", r.status, r.body)
	}
	if _, err := e.store.GetAccessKey(context.Background(), nk.ID); !errors.Is(err, dialtone.ErrNotFound) {
		t.Errorf("deleted key still there: %v", err)
	}
	e.do("DELETE", "/admin/v1/accounts/42/keys/"+nk.ID, "").wantError(t, 404, CodeKeyNotFound)
}

func TestRouting(t *testing.T) {
	e := newEnv(t, token)
	r := e.do("PUT", "/admin/v1/provision", "")
	r.wantError(t, 405, CodeMethodNotAllowed)
	if r.header.Get("Allow") != "POST" {
		t.Errorf("Allow = %q", r.header.Get("Allow"))
	}
	e.do("GET", "/admin/v2/whatever", "").wantError(t, 404, CodeNotFound)
}

func TestApplyClient(t *testing.T) {
	e := newEnv(t, token)
	srv := httptest.NewServer(e.h)
	defer srv.Close()
	ctx := context.Background()

	dry := exampleDocument(t)
	dry.DryRun = true
	res, err := Apply(ctx, srv.URL+"/", token, dry, srv.Client())
	if err != nil || !res.DryRun || res.AccountsCreated != 1 {
		t.Fatalf("dry run = %+v, %v", res, err)
	}
	if all, _ := e.store.ListAccounts(ctx); len(all) != 0 {
		t.Fatalf("a dry run created %d accounts", len(all))
	}
	res, err = Apply(ctx, srv.URL+"/", token, exampleDocument(t), srv.Client())
	if err != nil || res.AccountsCreated != 1 || res.DryRun {
		t.Fatalf("Apply = %+v, %v", res, err)
	}
	res, err = Apply(ctx, srv.URL, token, exampleDocument(t), nil)
	if err != nil || res.AccountsUnchanged != 1 {
		t.Fatalf("second Apply = %+v, %v", res, err)
	}
	// Bad audio is the document's problem: 400 naming the file, line and key.
	bad := exampleDocument(t)
	bad.Files["prompts/welcome.wav"] = []byte("RIFF but not really")
	_, err = Apply(ctx, srv.URL, token, bad, srv.Client())
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 400 ||
		!strings.Contains(err.Error(), fmt.Sprintf("%s: line %d: accounts[0].voice_files[0].path: \"prompts/welcome.wav\" is not usable audio", examplePath, exampleLine(t, "path: prompts/welcome.wav"))) {
		t.Errorf("bad audio: %v", err)
	}
	for _, tc := range []struct{ part, want string }{
		{"--x\r\nContent-Disposition: form-data; name=\"stray\"\r\n\r\nx\r\n--x--\r\n", "unexpected part"},
		{"--x\r\nContent-Disposition: form-data; name=\"file:a.wav\"\r\n\r\nx\r\n--x--\r\n", "the document is missing"},
	} {
		req, _ := http.NewRequest("POST", srv.URL+"/admin/v1/provision", strings.NewReader(tc.part))
		req.Header.Set("Content-Type", "multipart/form-data; boundary=x")
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 400 || !strings.Contains(string(body), tc.want) {
			t.Errorf("multipart %q: %d %s", tc.part, resp.StatusCode, body)
		}
	}

	_, err = Apply(ctx, srv.URL, token, Document{YAML: []byte("accounts:\n  - name: a\n    status: actve\n")}, srv.Client())
	if !errors.As(err, &apiErr) || apiErr.Status != 400 || !strings.Contains(err.Error(), `line 3: accounts[0].status: "actve"`) {
		t.Errorf("invalid document: %v", err)
	}

	_, err = Apply(ctx, srv.URL, "wrong", Document{YAML: []byte("{}")}, srv.Client())
	if !errors.As(err, &apiErr) || apiErr.Status != 401 || !strings.Contains(err.Error(), "token") || strings.Contains(err.Error(), "wrong\"") {
		t.Errorf("wrong token: %v", err)
	}

	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(404)
		io.WriteString(w, "404 page not found")
	}))
	defer other.Close()
	_, err = Apply(ctx, other.URL, token, Document{YAML: []byte("{}")}, other.Client())
	if err == nil || !strings.Contains(err.Error(), "404") || !strings.Contains(err.Error(), "page not found") {
		t.Errorf("non-Dialtone server: %v", err)
	}
}

// exampleLine is the line of examples/provisioning.yaml that holds text.
func exampleLine(t *testing.T, text string) int {
	t.Helper()
	b, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(string(b), "\n") {
		if strings.Contains(line, text) {
			return i + 1
		}
	}
	t.Fatalf("%s has no %q", examplePath, text)
	return 0
}
