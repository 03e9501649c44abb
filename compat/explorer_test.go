package compat

// The console's API Explorer code, taken from the same endpoint the page
// uses (POST /console/explorer/code) and run as a user would copy it:
// TestExplorerSnippets builds every Go snippet (the official clients inside
// this module, Dialtone's SDK inside the product's), runs the Go, Node and
// curl snippets against a calls server, and follows each call to its
// final state on the server (200000). The Java and Python snippets are
// written for the Java and Python suites by clients_test.go.

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// explorerSnippet is one library's code as /console/explorer/code answers it.
type explorerSnippet struct {
	ID       string `json:"id"`
	Language string `json:"language"`
	Package  string `json:"package"`
	Version  string `json:"version"`
	Install  string `json:"install"`
	File     string `json:"file"`
	Code     string `json:"code"`
}

// explorerParam is a parameter of the page's action table (data-actions).
type explorerParam struct {
	Name     string
	Type     string
	Required bool
	HasRange bool
	Min, Max int64
	MaxLen   int
	Enum     []string
	Example  string
}

// explorerConsole is a console session of the calls account's user.
type explorerConsole struct {
	hc   *http.Client
	base string
	csrf string
	page string // the Explorer page's HTML
}

func newExplorerConsole(t *testing.T, s *dialtone) *explorerConsole {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	ec := &explorerConsole{
		hc:   &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		base: "http://" + s.addr,
	}
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	m := csrf.FindStringSubmatch(ec.get(t, "/console/signin"))
	if m == nil {
		t.Fatal("no CSRF token on the sign-in page")
	}
	resp, err := ec.hc.PostForm(ec.base+"/console/signin", url.Values{"csrf": {m[1]}, "username": {consoleUser}, "password": {consolePass}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("console sign-in: %d", resp.StatusCode)
	}
	ec.page = ec.get(t, "/console/explorer")
	if m = regexp.MustCompile(`data-csrf="([^"]+)"`).FindStringSubmatch(ec.page); m == nil {
		if m = csrf.FindStringSubmatch(ec.page); m == nil {
			t.Fatal("no CSRF token on the Explorer page")
		}
	}
	ec.csrf = m[1]
	return ec
}

func (ec *explorerConsole) get(t *testing.T, path string) string {
	t.Helper()
	resp, err := ec.hc.Get(ec.base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d\n%.500s", path, resp.StatusCode, b)
	}
	return string(b)
}

// code asks the Explorer for the code of one call, signed with the calls
// account's key, and returns the snippets by ID.
func (ec *explorerConsole) code(t *testing.T, action string, params map[string]string) map[string]explorerSnippet {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"action": action, "key": callsAK, "params": params})
	req, _ := http.NewRequest(http.MethodPost, ec.base+"/console/explorer/code", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", ec.csrf)
	resp, err := ec.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var res struct {
		Problems []string          `json:"problems"`
		Snippets []explorerSnippet `json:"snippets"`
	}
	if err := json.Unmarshal(b, &res); err != nil || resp.StatusCode != http.StatusOK || len(res.Problems) > 0 || len(res.Snippets) == 0 {
		t.Fatalf("Explorer code for %s: %d %v\n%s", action, resp.StatusCode, err, b)
	}
	out := map[string]explorerSnippet{}
	for _, s := range res.Snippets {
		out[s.ID] = s
	}
	return out
}

// actions reads the page's action table (the form is generated from it).
func (ec *explorerConsole) actions(t *testing.T) map[string][]explorerParam {
	t.Helper()
	m := regexp.MustCompile(`data-actions="([^"]*)"`).FindStringSubmatch(ec.page)
	if m == nil {
		t.Fatal("the Explorer page has no data-actions")
	}
	var defs []struct {
		Name   string
		Params []explorerParam
	}
	if err := json.Unmarshal([]byte(html.UnescapeString(m[1])), &defs); err != nil {
		t.Fatalf("data-actions: %v", err)
	}
	out := map[string][]explorerParam{}
	for _, d := range defs {
		out[d.Name] = d.Params
	}
	return out
}

// everyParam gives every parameter a valid value, so that every field of
// every typed request is written (and type-checked by the compiler).
func everyParam(params []explorerParam) map[string]string {
	in := map[string]string{}
	for _, p := range params {
		v := p.Example
		switch {
		case len(p.Enum) > 0:
			v = p.Enum[len(p.Enum)-1]
		case p.Type == "int32" || p.Type == "int64":
			if p.HasRange {
				v = strconv.FormatInt(p.Min+(p.Max-p.Min)/2, 10)
			} else if _, err := strconv.ParseInt(v, 10, 64); err != nil {
				v = "1700000000000"
			}
		case p.Type == "bool":
			v = "true"
		case p.Type == "float64":
			v = "0.5"
		case p.Type == "json" && v == "":
			v = `{"name":"值"}`
		case v == "":
			v = "x-" + strings.ToLower(p.Name)
		}
		if p.MaxLen > 0 && len([]rune(v)) > p.MaxLen {
			v = string([]rune(v)[:p.MaxLen])
		}
		in[p.Name] = v
	}
	return in
}

// snippetDir makes a directory for generated programs inside a module:
// its name starts with "_", so that ./... never matches it if it stays.
func snippetDir(t *testing.T, moduleDir string) string {
	t.Helper()
	dir, err := os.MkdirTemp(moduleDir, "_explorer-snippets-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// goBuild builds the package main of each directory under dir (relative
// to moduleDir) into bin, in one go command.
func goBuild(t *testing.T, moduleDir, dir, bin string, names []string) {
	t.Helper()
	args := []string{"build", "-o", bin + string(filepath.Separator)}
	rel, _ := filepath.Rel(moduleDir, dir)
	for _, n := range names {
		args = append(args, "./"+filepath.ToSlash(filepath.Join(rel, n)))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = moduleDir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s (in %s): %v\n%s", strings.Join(args, " "), moduleDir, err, out)
	}
}

// npmCI installs compat/node's pinned packages once.
func npmCI(t *testing.T, dir string) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(dir, "node_modules")); err == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm ci in %s: %v\n%s", dir, err, out)
	}
}

// calledID finds the CallId a snippet printed: JSON ("CallId": "…") or
// the Dialtone SDK's "CallId: …".
var calledID = regexp.MustCompile(`"?CallId"?\s*:\s*"?([^"\s,}]+)`)

// runSnippet runs one program with the secret in the environment, as the
// page tells the user, and returns the CallId it printed.
func runSnippet(t *testing.T, name string, dir string, command ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, command[0], command[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "ALIBABA_CLOUD_ACCESS_KEY_SECRET="+callsSecret)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", name, err, out)
	}
	m := calledID.FindStringSubmatch(string(out))
	if m == nil || !strings.Contains(string(out), "OK") && !strings.Contains(string(out), "CallId:") {
		t.Fatalf("%s printed no CallId of an accepted call:\n%s", name, out)
	}
	return m[1]
}

// waitServerState waits (bounded) until the server's record of the call
// has a final state, and returns it.
func waitServerState(t *testing.T, s *dialtone, callID string) string {
	t.Helper()
	deadline := time.Now().Add(callsDeadline)
	for {
		var ev struct {
			Call map[string]any `json:"call"`
		}
		adminGet(t, s, "/admin/v1/accounts/"+callsUID+"/calls/"+url.PathEscape(callID)+"/events", &ev)
		st, _ := ev.Call["state"].(string)
		if st != "" && !liveStates[st] {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("call %s: no final state within %v (last %q)", callID, callsDeadline, st)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// runnableSnippets are the snippets this test runs, with how.
var runnableSnippets = []struct {
	id     string
	module string // "compat" or "product" for Go; "" otherwise
}{
	{"go-seed", "compat"}, {"go-newest", "compat"}, {"go-dialtone", "product"},
	{"node-seed", ""}, {"node-newest", ""}, {"curl", ""},
}

func TestExplorerSnippets(t *testing.T) {
	for _, tool := range []string{"node", "npm", "bash", "curl", "openssl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found: the Explorer's snippets need it (scripts/install-deps.sh)", tool)
		}
	}
	nodeDir, err := filepath.Abs("node")
	if err != nil {
		t.Fatal(err)
	}
	npmCI(t, nodeDir)
	compatDir, _ := filepath.Abs(".")
	productDir, _ := filepath.Abs("..")

	s := startCallsServer(t, newSmartCallback(t))
	ec := newExplorerConsole(t, s)

	// Every Go snippet of every action, with every parameter given, builds
	// (the official clients in this module, Dialtone's SDK in the product's).
	t.Run("build every action", func(t *testing.T) {
		dirs := map[string]string{"compat": snippetDir(t, compatDir), "product": snippetDir(t, productDir)}
		names := map[string][]string{}
		for action, params := range ec.actions(t) {
			for name, in := range map[string]map[string]string{"all": everyParam(params), "required": required(params, everyParam(params))} {
				snips := ec.code(t, action, in)
				for _, r := range runnableSnippets {
					if r.module == "" {
						continue
					}
					sn, ok := snips[r.id]
					if !ok {
						t.Fatalf("no %s snippet for %s", r.id, action)
					}
					pkg := fmt.Sprintf("%s-%s-%s", r.id, strings.ToLower(action), name)
					write(t, filepath.Join(dirs[r.module], pkg, "main.go"), sn.Code)
					names[r.module] = append(names[r.module], pkg)
				}
			}
		}
		bin := t.TempDir()
		goBuild(t, compatDir, dirs["compat"], bin, names["compat"])
		goBuild(t, productDir, dirs["product"], bin, names["product"])
	})

	// The calls: each runnable snippet places each call of explorerCalls,
	// which ends answered (200000) on the server.
	goDirs := map[string]string{"compat": snippetDir(t, compatDir), "product": snippetDir(t, productDir)}
	jsDir := snippetDir(t, nodeDir)
	shDir := t.TempDir()
	bin := t.TempDir()
	type placed struct{ id, call string }
	var run []placed
	goNames := map[string][]string{}
	for _, c := range explorerCalls {
		snips := ec.code(t, c.action, c.params)
		for _, r := range runnableSnippets {
			sn := snips[r.id]
			if sn.Install == "" && r.id != "curl" {
				t.Errorf("%s has no install line", r.id)
			}
			name := r.id + "-" + c.name
			switch {
			case r.module != "":
				write(t, filepath.Join(goDirs[r.module], name, "main.go"), sn.Code)
				goNames[r.module] = append(goNames[r.module], name)
			case strings.HasPrefix(r.id, "node-"):
				write(t, filepath.Join(jsDir, name+".js"), sn.Code)
			default:
				write(t, filepath.Join(shDir, name+".sh"), sn.Code)
			}
			run = append(run, placed{r.id, name})
		}
	}
	goBuild(t, compatDir, goDirs["compat"], bin, goNames["compat"])
	goBuild(t, productDir, goDirs["product"], bin, goNames["product"])

	var summary strings.Builder
	for _, p := range run {
		t.Run(p.call, func(t *testing.T) {
			var callID string
			switch {
			case strings.HasPrefix(p.id, "go-"):
				callID = runSnippet(t, p.call, bin, filepath.Join(bin, p.call))
			case strings.HasPrefix(p.id, "node-"):
				// Plain `node example.js`, as the page says (CommonJS).
				callID = runSnippet(t, p.call, jsDir, "node", p.call+".js")
			default:
				callID = runSnippet(t, p.call, shDir, "bash", p.call+".sh")
			}
			st := waitServerState(t, s, callID)
			fmt.Fprintf(&summary, "  %-28s %s %s\n", p.call, callID, st)
			if st != "200000" {
				t.Errorf("%s: call %s ended %s, want 200000\n%s", p.call, callID, st, events(t, s, callID))
			}
		})
	}
	t.Logf("Explorer snippets run:\n%s", summary.String())
}

// required keeps the required parameters of in.
func required(params []explorerParam, in map[string]string) map[string]string {
	out := map[string]string{}
	for _, p := range params {
		if p.Required {
			out[p.Name] = in[p.Name]
		}
	}
	return out
}
