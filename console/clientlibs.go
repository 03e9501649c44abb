package console

import (
	"fmt"
	"strings"
)

// The client libraries whose code the API Explorer shows, in the order the
// page shows them: first the generation the seed document's samples use
// (tea-rpc, "SDK参考（新版）" §3–4), then the newest generation of the same
// SDKs (darabonba), then Dialtone's own Go SDK and curl.
//
// This table is the one place that names a library and its version. The
// versions are the ones the compatibility suite pins and runs (compat/go.mod,
// compat/node/package.json, compat/java/*/pom.xml, compat/python/*.in, and
// for the two languages it cannot run here, compat/samples/dotnet and
// compat/samples/php); TestClientLibsMatchCompatPins holds them together.

// Snippet generations.
const (
	GenSeed     = "seed"     // tea-rpc: the generation of the seed's samples
	GenNewest   = "newest"   // darabonba: the newest generation of the same SDKs
	GenDialtone = "dialtone" // Dialtone's Go SDK and a plain curl
)

// GenerationTitles names the generations on the page.
var GenerationTitles = map[string]string{
	GenSeed:     "Seed samples' generation (tea-rpc) 种子文档同代 SDK",
	GenNewest:   "Newest generation (darabonba) 最新一代 SDK",
	GenDialtone: "Dialtone SDK and curl",
}

// Package ecosystems: they decide the install line.
const (
	EcoGo       = "go"
	EcoMaven    = "maven"
	EcoPyPI     = "pypi"
	EcoNPM      = "npm"
	EcoNuGet    = "nuget"
	EcoComposer = "composer"
	EcoNone     = "" // curl: nothing to install beyond curl and openssl
)

// ClientLib is one library a snippet is written for.
type ClientLib struct {
	ID         string // the snippet's ID, e.g. "go-seed"
	Generation string
	Language   string // as shown on the tab
	Ecosystem  string
	// Package is the Go module path, the Maven groupId:artifactId, or the
	// PyPI, npm, NuGet or Packagist name.
	Package string
	Version string
	// File is the name to save the snippet as; Run how to run it.
	File string
	Run  string
	// Note says what the reader must know: how this differs from the seed,
	// or why a call goes through the generic entry point.
	Note string
	// RunByTests says which of Dialtone's tests run this snippet against a
	// server; empty when none can (the registry is not reachable from the
	// machines that run the tests).
	RunByTests string
}

// ClientLibs is the table, in page order.
var ClientLibs = []ClientLib{
	{ID: "go-seed", Generation: GenSeed, Language: "Go", Ecosystem: EcoGo,
		Package: "github.com/alibabacloud-go/dyvmsapi-20170525", Version: "v1.2.1",
		File: "main.go", Run: "go run main.go",
		Note:       "The seed's Go sample (tea-rpc): rpc.Config with Endpoint and Protocol pointing at Dialtone.",
		RunByTests: "compat TestExplorerSnippets (built in compat/, run against a server)"},
	{ID: "java-seed", Generation: GenSeed, Language: "Java", Ecosystem: EcoMaven,
		Package: "com.aliyun:dyvmsapi20170525", Version: "1.0.2",
		File: "Example.java", Run: "java -cp <classpath> Example.java",
		Note: "The seed names version 0.0.2, which Maven Central does not serve; 1.0.2 is the oldest it has. " +
			"Its Client takes com.aliyun.teaopenapi.models.Config (the seed's com.aliyun.tearpc.models.Config has the same fields).",
		RunByTests: "compat TestJavaClients (ExplorerSnippetsTest in module tea-1.0.2)"},
	{ID: "python-seed", Generation: GenSeed, Language: "Python", Ecosystem: EcoPyPI,
		Package: "alibabacloud_dyvmsapi20170525", Version: "1.0.2",
		File: "example.py", Run: "python3 example.py",
		Note:       "The seed's Python sample: alibabacloud_tea_rpc's Config (installed with the package).",
		RunByTests: "compat TestPythonClients (test_explorer_snippets.py in the tea-rpc venv)"},
	{ID: "node-seed", Generation: GenSeed, Language: "Node.js", Ecosystem: EcoNPM,
		Package: "@alicloud/rpc-client", Version: "1.3.2",
		File: "example.js", Run: "node example.js",
		Note: "CommonJS: save as example.js and run with plain node example.js (no ES module, no TypeScript compiler needed). " +
			"The seed's TypeScript imports @alicloud/dyvmsapi20170525 1.x, whose client is a subclass of this @alicloud/rpc-client " +
			"and whose methods make exactly this doRequest call; Dialtone pins and tests the base client because the typed package " +
			"is not on the registry its test machines reach.",
		RunByTests: "compat TestExplorerSnippets (run with node in compat/node)"},
	{ID: "csharp-seed", Generation: GenSeed, Language: "C#", Ecosystem: EcoNuGet,
		Package: "AlibabaCloud.SDK.Dyvmsapi20170525", Version: "0.1.0",
		File: "Program.cs", Run: "dotnet run",
		Note: "The seed's .NET sample and its install line. Not run by Dialtone's tests: NuGet is not reachable from its test machines."},
	{ID: "php-seed", Generation: GenSeed, Language: "PHP", Ecosystem: EcoComposer,
		Package: "alibabacloud/dyvmsapi-20170525", Version: "0.1.0",
		File: "example.php", Run: "php example.php",
		Note: "The seed's PHP sample (AlibabaCloud\\Tea\\Rpc\\Rpc\\Config). Not run by Dialtone's tests: Packagist is not reachable from its test machines."},

	{ID: "go-newest", Generation: GenNewest, Language: "Go", Ecosystem: EcoGo,
		Package: "github.com/alibabacloud-go/dyvmsapi-20170525/v6", Version: "v6.0.0",
		File: "main.go", Run: "go run main.go",
		Note:       "darabonba (dara) client; V3 signature. Actions the SDK dropped (ClickToDial) go through the same client's generic CallApi.",
		RunByTests: "compat TestExplorerSnippets (built in compat/, run against a server)"},
	{ID: "java-newest", Generation: GenNewest, Language: "Java", Ecosystem: EcoMaven,
		Package: "com.aliyun:dyvmsapi20170525", Version: "4.0.0",
		File: "Example.java", Run: "java -cp <classpath> Example.java",
		Note:       "darabonba client; actions the SDK dropped (ClickToDial, CancelCall) go through the same client's generic callApi.",
		RunByTests: "compat TestJavaClients (ExplorerSnippetsTest in module tea-4.0.0)"},
	{ID: "python-newest", Generation: GenNewest, Language: "Python", Ecosystem: EcoPyPI,
		Package: "alibabacloud_dyvmsapi20170525", Version: "5.3.0",
		File: "example.py", Run: "python3 example.py",
		Note:       "darabonba client; V3 signature. Actions the SDK dropped (ClickToDial) go through the same client's generic call_api.",
		RunByTests: "compat TestPythonClients (test_explorer_snippets.py in the newest venv)"},
	{ID: "node-newest", Generation: GenNewest, Language: "Node.js", Ecosystem: EcoNPM,
		Package: "@alicloud/openapi-client", Version: "0.4.15",
		File: "example.js", Run: "node example.js",
		Note: "CommonJS: save as example.js and run with plain node example.js. The darabonba OpenAPI client that the newest " +
			"@alicloud/dyvmsapi20170525 is generated on, called through its generic callApi (V3 signature).",
		RunByTests: "compat TestExplorerSnippets (run with node in compat/node)"},

	{ID: "go-dialtone", Generation: GenDialtone, Language: "Go (Dialtone SDK)", Ecosystem: EcoGo,
		Package: "github.com/dialtone-voice/dialtone", Version: "latest",
		File: "main.go", Run: "go run main.go",
		Note:       "Dialtone's own client (package sdk): plain Go types, retries for reads, typed errors.",
		RunByTests: "compat TestExplorerSnippets (built in the product module, run against a server)"},
	{ID: "curl", Generation: GenDialtone, Language: "curl", Ecosystem: EcoNone,
		File: "call.sh", Run: "bash call.sh",
		Note: "Signs in the shell (RPC signature v1, HMAC-SHA1 with openssl) with a fresh timestamp and nonce each run, from " +
			"ALIBABA_CLOUD_ACCESS_KEY_SECRET: the secret never leaves your machine and the command can be run again. Needs bash, curl and openssl.",
		RunByTests: "compat TestExplorerSnippets (run with bash)"},
}

// Install is the line (or Maven block) that brings the library.
func (l ClientLib) Install() string {
	switch l.Ecosystem {
	case EcoGo:
		pkg := l.Package
		if l.ID == "go-dialtone" {
			pkg += "/sdk"
		}
		return fmt.Sprintf("go get %s@%s", pkg, l.Version)
	case EcoMaven:
		group, artifact, _ := strings.Cut(l.Package, ":")
		return fmt.Sprintf("<dependency>\n  <groupId>%s</groupId>\n  <artifactId>%s</artifactId>\n  <version>%s</version>\n</dependency>", group, artifact, l.Version)
	case EcoPyPI:
		return fmt.Sprintf("pip install %s==%s", l.Package, l.Version)
	case EcoNPM:
		return fmt.Sprintf("npm install %s@%s", l.Package, l.Version)
	case EcoNuGet:
		return fmt.Sprintf("dotnet add package %s --version %s", l.Package, l.Version)
	case EcoComposer:
		return fmt.Sprintf("composer require %s:%s", l.Package, l.Version)
	}
	return ""
}

// InstallLabel says what kind of install line Install is.
func (l ClientLib) InstallLabel() string {
	switch l.Ecosystem {
	case EcoMaven:
		return "Maven dependency (pom.xml)"
	case EcoNone:
		return ""
	}
	return "Install"
}

// clientLib finds a library of the table by snippet ID.
func clientLib(id string) ClientLib {
	for _, l := range ClientLibs {
		if l.ID == id {
			return l
		}
	}
	panic("console: no client library " + id)
}
