package console

import (
	"encoding/json"
	"encoding/xml"
	"go/format"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// fullParams gives every parameter of an action a valid value (the
// example where it has one), so that every branch of the writers runs.
func fullParams(def *ActionDef) map[string]string {
	in := map[string]string{}
	for _, p := range def.Params {
		v := p.Example
		switch {
		case len(p.Enum) > 0:
			v = p.Enum[len(p.Enum)-1]
		case p.Type == TInt32 || p.Type == TInt64:
			if p.HasRange {
				v = strconv.FormatInt(p.Min+(p.Max-p.Min)/2, 10)
			} else if _, err := strconv.ParseInt(v, 10, 64); err != nil {
				v = "1700000000000"
			}
		case p.Type == TBool:
			v = "false"
		case p.Type == TFloat:
			v = "0.5"
		case p.Type == TJSON && v == "":
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

// requiredParams keeps the required ones.
func requiredParams(def *ActionDef) map[string]string {
	in := fullParams(def)
	for _, p := range def.Params {
		if !p.Required {
			delete(in, p.Name)
		}
	}
	return in
}

func TestSnippetsFullParamsAreValid(t *testing.T) {
	for _, def := range Actions {
		if _, problems := expandParams(&def, fullParams(&def)); len(problems) > 0 {
			t.Errorf("%s: the test's values are refused: %v", def.Name, problems)
		}
	}
}

// Every Go snippet is gofmt-clean, for every action, with every parameter
// and with the required ones only.
func TestSnippetsGoFormatted(t *testing.T) {
	for _, def := range Actions {
		for name, params := range map[string]map[string]string{"all": fullParams(&def), "required": requiredParams(&def)} {
			wire, _ := expandParams(&def, params)
			for _, s := range snippets(&def, wire, "127.0.0.1:8080", "http", "LTAIexample") {
				if !strings.HasSuffix(s.File, ".go") {
					continue
				}
				formatted, err := format.Source([]byte(s.Code))
				if err != nil {
					t.Errorf("%s %s (%s params): not Go: %v\n%s", def.Name, s.ID, name, err, s.Code)
					continue
				}
				if string(formatted) != s.Code {
					t.Errorf("%s %s (%s params): not gofmt-clean\n%s", def.Name, s.ID, name, s.Code)
				}
			}
		}
	}
}

// The page's order: the seed's generation, then the newest, then Dialtone;
// every library has its snippet, install line and what the page says of it.
func TestSnippetsOrderAndInstallLines(t *testing.T) {
	def, _ := actionDef("SingleCallByTts")
	wire, _ := expandParams(def, fullParams(def))
	got := snippets(def, wire, "127.0.0.1:8080", "http", "LTAIexample")
	if len(got) != len(ClientLibs) {
		t.Fatalf("%d snippets for %d libraries", len(got), len(ClientLibs))
	}
	rank := map[string]int{GenSeed: 0, GenNewest: 1, GenDialtone: 2}
	for i, s := range got {
		if s.ID != ClientLibs[i].ID || s.Install != ClientLibs[i].Install() || s.Code == "" || s.Note == "" {
			t.Errorf("snippet %d: %+v", i, s)
		}
		if i > 0 && rank[s.Generation] < rank[got[i-1].Generation] {
			t.Errorf("%s (%s) comes after %s (%s)", s.ID, s.Generation, got[i-1].ID, got[i-1].Generation)
		}
		if strings.Contains(s.Code, "consoleSecret") || !strings.Contains(s.Code, secretEnv) && !strings.Contains(s.Code, "sdk.EnvAccessKeySecret") {
			t.Errorf("%s does not read the secret from %s:\n%s", s.ID, secretEnv, s.Code)
		}
	}
	if got[0].ID != "go-seed" || !strings.Contains(got[0].Code, `rpc "github.com/alibabacloud-go/tea-rpc/client"`) {
		t.Errorf("the first snippet is not the seed's tea-rpc Go:\n%s", got[0].Code)
	}
	want := map[string]string{
		"go-seed":       "go get github.com/alibabacloud-go/dyvmsapi-20170525@v1.2.1",
		"go-newest":     "go get github.com/alibabacloud-go/dyvmsapi-20170525/v6@v6.0.0",
		"java-seed":     "<dependency>\n  <groupId>com.aliyun</groupId>\n  <artifactId>dyvmsapi20170525</artifactId>\n  <version>1.0.2</version>\n</dependency>",
		"python-seed":   "pip install alibabacloud_dyvmsapi20170525==1.0.2",
		"node-seed":     "npm install @alicloud/rpc-client@1.3.2",
		"csharp-seed":   "dotnet add package AlibabaCloud.SDK.Dyvmsapi20170525 --version 0.1.0",
		"php-seed":      "composer require alibabacloud/dyvmsapi-20170525:0.1.0",
		"python-newest": "pip install alibabacloud_dyvmsapi20170525==5.3.0",
		"node-newest":   "npm install @alicloud/openapi-client@0.4.15",
	}
	for id, line := range want {
		if l := clientLib(id).Install(); l != line {
			t.Errorf("%s install line %q, want %q", id, l, line)
		}
	}
}

// The Node snippets are CommonJS that plain `node example.js` runs, and
// the page says so.
func TestSnippetsNodeIsCommonJS(t *testing.T) {
	def, _ := actionDef("IvrCall")
	wire, _ := expandParams(def, fullParams(def))
	for _, s := range snippets(def, wire, "127.0.0.1:8080", "http", "LTAIexample") {
		if s.Language != "Node.js" {
			continue
		}
		if !strings.Contains(s.Code, "require(") || strings.Contains(s.Code, "import ") || strings.Contains(s.Code, "await client") && !strings.Contains(s.Code, "async function main") {
			t.Errorf("%s is not plain CommonJS:\n%s", s.ID, s.Code)
		}
		if !strings.Contains(s.Note, "CommonJS") || !strings.Contains(s.Code, "node example.js") || s.Run != "node example.js" {
			t.Errorf("%s does not say how it runs: note %q run %q", s.ID, s.Note, s.Run)
		}
	}
}

// ---- the table against the compatibility suite's pins ----

func readCompat(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "compat", path))
	if err != nil {
		t.Fatalf("compat pins: %v", err)
	}
	return string(b)
}

// goModVersion is the version compat/go.mod requires of a module.
func goModVersion(t *testing.T, gomod, module string) string {
	m := regexp.MustCompile(`(?m)^\s*(?:require\s+)?` + regexp.QuoteMeta(module) + `\s+(v\S+)`).FindStringSubmatch(gomod)
	if m == nil {
		t.Errorf("compat/go.mod does not require %s", module)
		return ""
	}
	return m[1]
}

// pomVersions lists groupId:artifactId -> version of a pom's dependencies.
func pomVersions(t *testing.T, pom string) map[string]string {
	var doc struct {
		Deps []struct {
			Group    string `xml:"groupId"`
			Artifact string `xml:"artifactId"`
			Version  string `xml:"version"`
		} `xml:"dependencies>dependency"`
	}
	if err := xml.Unmarshal([]byte(pom), &doc); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, d := range doc.Deps {
		out[d.Group+":"+d.Artifact] = d.Version
	}
	return out
}

// pipPin is the version a requirements .in file pins (names compared as
// pip does: case and -/_ do not matter).
func pipPin(t *testing.T, file, pkg string) string {
	norm := func(s string) string { return strings.ToLower(strings.ReplaceAll(s, "_", "-")) }
	for _, line := range strings.Split(readCompat(t, file), "\n") {
		name, version, ok := strings.Cut(strings.TrimSpace(line), "==")
		if ok && norm(name) == norm(pkg) {
			return strings.Fields(version)[0]
		}
	}
	t.Errorf("compat/%s does not pin %s", file, pkg)
	return ""
}

func TestClientLibsMatchCompatPins(t *testing.T) {
	gomod := readCompat(t, "go.mod")
	var npm struct {
		Dependencies map[string]string `json:"dependencies"`
	}
	if err := json.Unmarshal([]byte(readCompat(t, "node/package.json")), &npm); err != nil {
		t.Fatal(err)
	}
	var composer struct {
		Require map[string]string `json:"require"`
	}
	if err := json.Unmarshal([]byte(readCompat(t, "samples/php/composer.json")), &composer); err != nil {
		t.Fatal(err)
	}
	var csproj struct {
		Refs []struct {
			Include string `xml:"Include,attr"`
			Version string `xml:"Version,attr"`
		} `xml:"ItemGroup>PackageReference"`
	}
	if err := xml.Unmarshal([]byte(readCompat(t, "samples/dotnet/Samples.csproj")), &csproj); err != nil {
		t.Fatal(err)
	}
	nuget := map[string]string{}
	for _, r := range csproj.Refs {
		nuget[r.Include] = r.Version
	}
	// The Java modules: the one each generation's snippets run in.
	javaModule := map[string]string{"java-seed": "java/tea-1.0.2/pom.xml", "java-newest": "java/tea-4.0.0/pom.xml"}
	// The Python lock inputs: one venv per generation.
	pythonIn := map[string]string{"python-seed": "python/requirements-rpc.in", "python-newest": "python/requirements.in"}
	for _, l := range ClientLibs {
		var pinned string
		switch l.Ecosystem {
		case EcoGo:
			if l.ID == "go-dialtone" {
				continue // the product itself
			}
			pinned = goModVersion(t, gomod, l.Package)
		case EcoNPM:
			pinned = npm.Dependencies[l.Package]
		case EcoMaven:
			pinned = pomVersions(t, readCompat(t, javaModule[l.ID]))[l.Package]
		case EcoPyPI:
			pinned = pipPin(t, pythonIn[l.ID], l.Package)
		case EcoNuGet:
			pinned = nuget[l.Package]
		case EcoComposer:
			pinned = composer.Require[l.Package]
		case EcoNone:
			continue
		}
		if pinned != l.Version {
			t.Errorf("%s: the Explorer shows %s %s; compat pins %q", l.ID, l.Package, l.Version, pinned)
		}
	}
}
