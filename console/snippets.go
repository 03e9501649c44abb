package console

import (
	"encoding/json"
	"fmt"
	"go/format"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/dialtone-voice/dialtone/pop"
)

// Snippets show an Explorer call as code, one per library of ClientLibs,
// each pointed at this node. The secret is read from the environment
// (ALIBABA_CLOUD_ACCESS_KEY_SECRET) in every snippet: the console never
// puts it in the browser.

// Snippet is one library's code for one call, as the page shows it.
type Snippet struct {
	ID           string `json:"id"`
	Generation   string `json:"generation"`
	Title        string `json:"title"` // the generation's title
	Language     string `json:"language"`
	Package      string `json:"package,omitempty"`
	Version      string `json:"version,omitempty"`
	Install      string `json:"install,omitempty"`
	InstallLabel string `json:"install_label,omitempty"`
	File         string `json:"file"`
	Run          string `json:"run"`
	Note         string `json:"note"`
	RunByTests   string `json:"run_by_tests,omitempty"`
	Code         string `json:"code"`
}

// secretEnv is where every snippet reads the secret from.
const secretEnv = "ALIBABA_CLOUD_ACCESS_KEY_SECRET"

// apiVersion is Dyvmsapi's version.
const apiVersion = "2017-05-25"

type menuItem struct{ Key, Code, TtsParams string }

// snippetCall is one Explorer call as the writers see it.
type snippetCall struct {
	action string
	plain  []Param           // parameters with a value, in definition order (MenuKeyMap apart)
	vals   map[string]string // values of plain by name
	menu   []menuItem        // IvrCall's MenuKeyMap
	wire   map[string]string // everything as sent (MenuKeyMap.N.* expanded)
	host   string            // host:port of the node
	scheme string            // http or https
	keyID  string
}

func newSnippetCall(def *ActionDef, wire map[string]string, host, scheme, keyID string) *snippetCall {
	c := &snippetCall{action: def.Name, vals: wire, wire: wire, host: host, scheme: scheme, keyID: keyID}
	for _, p := range def.Params {
		if p.Type == TMenuMap {
			for i := 1; ; i++ {
				pre := fmt.Sprintf("%s.%d.", p.Name, i)
				if wire[pre+"Key"] == "" && wire[pre+"Code"] == "" {
					break
				}
				c.menu = append(c.menu, menuItem{wire[pre+"Key"], wire[pre+"Code"], wire[pre+"TtsParams"]})
			}
			continue
		}
		if _, ok := wire[p.Name]; ok {
			c.plain = append(c.plain, p)
		}
	}
	return c
}

// snippets writes the call for every library of ClientLibs, in its order.
func snippets(def *ActionDef, wire map[string]string, host, scheme, keyID string) []Snippet {
	c := newSnippetCall(def, wire, host, scheme, keyID)
	writers := map[string]func(*snippetCall) string{
		"go-seed":       goSeed,
		"java-seed":     javaSeed,
		"python-seed":   pythonSeed,
		"node-seed":     nodeSeed,
		"csharp-seed":   csharpSeed,
		"php-seed":      phpSeed,
		"go-newest":     goNewest,
		"java-newest":   javaNewest,
		"python-newest": pythonNewest,
		"node-newest":   nodeNewest,
		"go-dialtone":   goDialtone,
		"curl":          curlSnippet,
	}
	out := make([]Snippet, 0, len(ClientLibs))
	for _, l := range ClientLibs {
		code := writers[l.ID](c)
		if strings.HasSuffix(l.File, ".go") {
			// gofmt's layout (aligned struct fields) is easier to get from
			// gofmt itself than to reproduce by hand.
			if b, err := format.Source([]byte(code)); err == nil {
				code = string(b)
			}
		}
		out = append(out, Snippet{ID: l.ID, Generation: l.Generation, Title: GenerationTitles[l.Generation], Language: l.Language,
			Package: l.Package, Version: l.Version, Install: l.Install(), InstallLabel: l.InstallLabel(),
			File: l.File, Run: l.Run, Note: l.Note, RunByTests: l.RunByTests, Code: code})
	}
	return out
}

// Which SDKs lack what. Each typed SDK was generated from the API's
// metadata of its day: later parameters are missing from older models, and
// the newest generation dropped ClickToDial (Java 4.0.0 also CancelCall).
var (
	// seedLacks: SmartCall parameters added after the tea-rpc generation
	// (dyvmsapi-20170525 v1.2.1, Python 1.0.2; assumed for .NET and PHP 0.1.0).
	seedLacks = map[string]bool{"StreamAsr": true, "BackgroundFileCode": true, "EnableITN": true, "NoiseThreshold": true}
	// javaSeedLacks: Java 1.0.2 is a little newer and has StreamAsr.
	javaSeedLacks = map[string]bool{"BackgroundFileCode": true, "EnableITN": true, "NoiseThreshold": true}
	// Actions no longer in the newest typed clients: they go through the
	// same client's generic entry point (CallApi / callApi / call_api).
	newestLacksGo     = map[string]bool{"ClickToDial": true}
	newestLacksJava   = map[string]bool{"ClickToDial": true, "CancelCall": true}
	newestLacksPython = map[string]bool{"ClickToDial": true}
)

func q(s string) string { return strconv.Quote(s) }

// cq is a double-quoted C# string (strconv.Quote's \x escapes differ in
// C#: control characters become \uXXXX).
func cq(s string) string { return cQuote(s, false) }

// jq is a double-quoted Java string. Java reads \uXXXX before it reads the
// program (\u000a would end the line), so control characters become octal
// escapes.
func jq(s string) string { return cQuote(s, true) }

func cQuote(s string, octal bool) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case (r < 0x20 || r == 0x7f) && octal:
			fmt.Fprintf(&b, `\%03o`, r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func sortedWire(wire map[string]string) []string {
	keys := make([]string, 0, len(wire))
	for k := range wire {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// lowerFirst gives the field name of the Java, TypeScript and PHP models
// (CalledNumber -> calledNumber, EnableITN -> enableITN).
func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// snake turns a parameter name into the Python SDK's attribute name
// (CalledNumber -> called_number, EnableITN -> enable_itn).
func snake(s string) string {
	rs := []rune(s)
	var b strings.Builder
	for i, r := range rs {
		if unicode.IsUpper(r) && i > 0 && (unicode.IsLower(rs[i-1]) || unicode.IsDigit(rs[i-1]) ||
			(i+1 < len(rs) && unicode.IsLower(rs[i+1]) && unicode.IsUpper(rs[i-1]))) {
			b.WriteByte('_')
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// notSent is the comment for a parameter a typed SDK has no field for.
func notSent(name, sdk string) string {
	return fmt.Sprintf("%s is not in %s: not sent (the other snippets send it)", name, sdk)
}

// seedMenuTtsParams: the tea-rpc models mark TtsParams of a menu item
// required (Go v1.2.1 and Python 1.0.2 refuse the request without it);
// "{}" means no variables.
func seedMenuTtsParams(m menuItem) string {
	if m.TtsParams == "" {
		return "{}"
	}
	return m.TtsParams
}

// ---- Go ----

// goValue is a value in a tea model: tea.Int, tea.Int32... by the SDK's
// field type.
func goValue(p Param, v string, intType string) string {
	switch p.Type {
	case TInt32:
		if intType == "int" {
			return "tea.Int(" + v + ")"
		}
		return "tea.Int32(" + v + ")"
	case TInt64:
		return "tea.Int64(" + v + ")"
	case TBool:
		return "tea.Bool(" + v + ")"
	case TFloat:
		return "tea.Float64(" + v + ")"
	}
	return "tea.String(" + q(v) + ")"
}

func goSeed(c *snippetCall) string {
	const sdk = "dyvmsapi-20170525 v1.2.1"
	var b strings.Builder
	b.WriteString("// " + c.action + " with github.com/alibabacloud-go/dyvmsapi-20170525 v1.2.1 (tea-rpc), as in the seed's Go samples.\n")
	b.WriteString("package main\n\nimport (\n\t\"fmt\"\n\t\"os\"\n\n\tdyvmsapi \"github.com/alibabacloud-go/dyvmsapi-20170525/client\"\n\trpc \"github.com/alibabacloud-go/tea-rpc/client\"\n\t\"github.com/alibabacloud-go/tea/tea\"\n)\n\n")
	b.WriteString("// CreateClient is the seed's CreateClient, with Dialtone as the endpoint.\n")
	b.WriteString("func CreateClient(accessKeyId *string, accessKeySecret *string, regionId *string) (*dyvmsapi.Client, error) {\n")
	b.WriteString("\tconfig := &rpc.Config{}\n\t// 您的AccessKey ID\n\tconfig.AccessKeyId = accessKeyId\n\t// 您的AccessKey Secret\n\tconfig.AccessKeySecret = accessKeySecret\n\t// 您的可用区ID\n\tconfig.RegionId = regionId\n")
	fmt.Fprintf(&b, "\t// Dialtone instead of dyvmsapi.aliyuncs.com\n\tconfig.Endpoint = tea.String(%s)\n\tconfig.Protocol = tea.String(%s)\n\treturn dyvmsapi.NewClient(config)\n}\n\n", q(c.host), q(c.scheme))
	b.WriteString("func main() {\n")
	fmt.Fprintf(&b, "\tclient, err := CreateClient(tea.String(%s), tea.String(os.Getenv(%s)), tea.String(\"cn-hangzhou\"))\n\tif err != nil {\n\t\tpanic(err)\n\t}\n", q(c.keyID), q(secretEnv))
	fmt.Fprintf(&b, "\trequest := &dyvmsapi.%sRequest{\n", c.action)
	for _, p := range c.plain {
		if c.action == "SmartCall" && seedLacks[p.Name] {
			fmt.Fprintf(&b, "\t\t// %s\n", notSent(p.Name, sdk))
			continue
		}
		fmt.Fprintf(&b, "\t\t%s: %s,\n", p.Name, goValue(p, c.vals[p.Name], "int"))
	}
	if len(c.menu) > 0 {
		b.WriteString("\t\t// TtsParams is required in each item by this SDK version; {} means no variables.\n")
		b.WriteString("\t\tMenuKeyMap: []*dyvmsapi.IvrCallRequestMenuKeyMap{\n")
		for _, m := range c.menu {
			fmt.Fprintf(&b, "\t\t\t{Key: tea.String(%s), Code: tea.String(%s), TtsParams: tea.String(%s)},\n", q(m.Key), q(m.Code), q(seedMenuTtsParams(m)))
		}
		b.WriteString("\t\t},\n")
	}
	fmt.Fprintf(&b, "\t}\n\tresponse, err := client.%s(request)\n\tif err != nil {\n\t\tpanic(err)\n\t}\n\tfmt.Println(response)\n}\n", c.action)
	return b.String()
}

func goNewest(c *snippetCall) string {
	var b strings.Builder
	generic := newestLacksGo[c.action]
	b.WriteString("// " + c.action + " with github.com/alibabacloud-go/dyvmsapi-20170525/v6 v6.0.0 (darabonba).\n")
	b.WriteString("package main\n\nimport (\n\t\"fmt\"\n\t\"os\"\n\n\topenapiutil \"github.com/alibabacloud-go/darabonba-openapi/v2/utils\"\n\tdyvmsapi \"github.com/alibabacloud-go/dyvmsapi-20170525/v6/client\"\n")
	if generic {
		b.WriteString("\t\"github.com/alibabacloud-go/tea/dara\"\n")
	}
	b.WriteString("\t\"github.com/alibabacloud-go/tea/tea\"\n)\n\nfunc main() {\n")
	fmt.Fprintf(&b, "\tclient, err := dyvmsapi.NewClient(&openapiutil.Config{\n\t\tAccessKeyId: tea.String(%s),\n\t\tAccessKeySecret: tea.String(os.Getenv(%s)),\n\t\t// Dialtone instead of dyvmsapi.aliyuncs.com\n\t\tEndpoint: tea.String(%s),\n\t\tProtocol: tea.String(%s),\n\t})\n\tif err != nil {\n\t\tpanic(err)\n\t}\n", q(c.keyID), q(secretEnv), q(c.host), q(c.scheme))
	if generic {
		fmt.Fprintf(&b, "\t// %s is no longer in this SDK's typed API: the client's generic CallApi sends it.\n", c.action)
		fmt.Fprintf(&b, "\tparams := &openapiutil.Params{\n\t\tAction: tea.String(%s),\n\t\tVersion: tea.String(%q),\n\t\tProtocol: tea.String(\"HTTP\"),\n\t\tPathname: tea.String(\"/\"),\n\t\tMethod: tea.String(\"POST\"),\n\t\tAuthType: tea.String(\"AK\"),\n\t\tStyle: tea.String(\"RPC\"),\n\t\tReqBodyType: tea.String(\"formData\"),\n\t\tBodyType: tea.String(\"json\"),\n\t}\n", q(c.action), apiVersion)
		b.WriteString("\trequest := &openapiutil.OpenApiRequest{Query: map[string]*string{\n")
		for _, k := range sortedWire(c.wire) {
			fmt.Fprintf(&b, "\t\t%s: tea.String(%s),\n", q(k), q(c.wire[k]))
		}
		b.WriteString("\t}}\n\tresponse, err := client.CallApi(params, request, &dara.RuntimeOptions{})\n\tif err != nil {\n\t\tpanic(err)\n\t}\n\tfmt.Println(tea.Prettify(response[\"body\"]))\n}\n")
		return b.String()
	}
	fmt.Fprintf(&b, "\tresponse, err := client.%s(&dyvmsapi.%sRequest{\n", c.action, c.action)
	for _, p := range c.plain {
		fmt.Fprintf(&b, "\t\t%s: %s,\n", p.Name, goValue(p, c.vals[p.Name], "int32"))
	}
	if len(c.menu) > 0 {
		b.WriteString("\t\tMenuKeyMap: []*dyvmsapi.IvrCallRequestMenuKeyMap{\n")
		for _, m := range c.menu {
			fmt.Fprintf(&b, "\t\t\t{Key: tea.String(%s), Code: tea.String(%s)", q(m.Key), q(m.Code))
			if m.TtsParams != "" {
				fmt.Fprintf(&b, ", TtsParams: tea.String(%s)", q(m.TtsParams))
			}
			b.WriteString("},\n")
		}
		b.WriteString("\t\t},\n")
	}
	b.WriteString("\t})\n\tif err != nil {\n\t\tpanic(err)\n\t}\n\tfmt.Println(response.Body)\n}\n")
	return b.String()
}

// stringMap reads a JSON object whose values are all strings, as the
// Dialtone SDK's map[string]string fields take them.
func stringMap(v string) (map[string]string, bool) {
	var m map[string]string
	if json.Unmarshal([]byte(v), &m) != nil {
		return nil, false
	}
	return m, true
}

func goMapLit(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = q(k) + ": " + q(m[k])
	}
	return "map[string]string{" + strings.Join(parts, ", ") + "}"
}

// dialtoneField maps an Explorer parameter to the Dialtone SDK's request
// field: its Go name and how the value is written.
type dialtoneField struct {
	field string
	kind  string // str, int, bool, map, ms, secs, float, int64, notFalse, streamAsr
}

var dialtoneFields = map[string]map[string]dialtoneField{
	"SingleCallByVoice": {"CalledNumber": {"CalledNumber", "str"}, "CalledShowNumber": {"CalledShowNumber", "str"}, "VoiceCode": {"VoiceCode", "str"},
		"PlayTimes": {"PlayTimes", "int"}, "Volume": {"Volume", "int"}, "Speed": {"Speed", "int"}, "OutId": {"OutID", "str"}},
	"SingleCallByTts": {"CalledNumber": {"CalledNumber", "str"}, "CalledShowNumber": {"CalledShowNumber", "str"}, "TtsCode": {"TtsCode", "str"},
		"TtsParam": {"TtsParam", "map"}, "PlayTimes": {"PlayTimes", "int"}, "Volume": {"Volume", "int"}, "Speed": {"Speed", "int"}, "OutId": {"OutID", "str"}},
	"IvrCall": {"CalledNumber": {"CalledNumber", "str"}, "CalledShowNumber": {"CalledShowNumber", "str"}, "StartCode": {"StartCode", "str"},
		"StartTtsParams": {"StartTtsParams", "map"}, "PlayTimes": {"PlayTimes", "int"}, "ByeCode": {"ByeCode", "str"},
		"ByeTtsParams": {"ByeTtsParams", "map"}, "Timeout": {"Timeout", "ms"}, "OutId": {"OutID", "str"}},
	"ClickToDial": {"CallerShowNumber": {"CallerShowNumber", "str"}, "CallerNumber": {"CallerNumber", "str"}, "CalledShowNumber": {"CalledShowNumber", "str"},
		"CalledNumber": {"CalledNumber", "str"}, "RecordFlag": {"RecordFlag", "bool"}, "AsrFlag": {"AsrFlag", "bool"},
		"AsrModelId": {"AsrModelID", "str"}, "SessionTimeout": {"SessionTimeout", "secs"}, "OutId": {"OutID", "str"}},
	"SmartCall": {"CalledNumber": {"CalledNumber", "str"}, "CalledShowNumber": {"CalledShowNumber", "str"}, "VoiceCode": {"VoiceCode", "str"},
		"VoiceCodeParam": {"VoiceCodeParam", "map"}, "RecordFlag": {"RecordFlag", "bool"}, "Volume": {"Volume", "int"}, "Speed": {"Speed", "int"},
		"AsrModelId": {"AsrModelID", "str"}, "AsrBaseId": {"AsrBaseID", "str"}, "PauseTime": {"PauseTime", "ms"}, "MuteTime": {"MuteTime", "ms"},
		"ActionCodeBreak": {"DisableActionCodeBreak", "notFalse"}, "ActionCodeTimeBreak": {"ActionCodeTimeBreak", "ms"},
		"SessionTimeout": {"SessionTimeout", "secs"}, "DynamicId": {"DynamicID", "str"}, "EarlyMediaAsr": {"EarlyMediaAsr", "bool"},
		"TtsStyle": {"TtsStyle", "str"}, "TtsVolume": {"TtsVolume", "int"}, "TtsSpeed": {"TtsSpeed", "int"}, "TtsConf": {"TtsConf", "bool"},
		"StreamAsr": {"StreamAsr", "streamAsr"}, "BackgroundFileCode": {"BackgroundFileCode", "str"}, "EnableITN": {"EnableITN", "bool"},
		"NoiseThreshold": {"NoiseThreshold", "float"}, "OutId": {"OutID", "str"}},
}

// dialtoneStructs names the SDK's request type of each calling action.
var dialtoneStructs = map[string]string{"SingleCallByVoice": "VoiceCall", "SingleCallByTts": "TtsCall", "IvrCall": "IvrCall",
	"ClickToDial": "ClickToDial", "SmartCall": "SmartCall"}

// dialtoneTyped writes the fields of the SDK's typed request, or reports
// that a value cannot be said that way (the SDK omits zero values, and its
// maps take string values only): the snippet then uses Client.Do.
func dialtoneTyped(c *snippetCall) (fields []string, usesTime, ok bool) {
	table := dialtoneFields[c.action]
	for _, p := range c.plain {
		f, known := table[p.Name]
		v := c.vals[p.Name]
		if !known {
			return nil, false, false
		}
		var lit string
		switch f.kind {
		case "str":
			lit = q(v)
		case "int":
			if v == "0" {
				return nil, false, false
			}
			lit = v
		case "bool":
			if v != "true" {
				continue // false is the server's default: the SDK omits it
			}
			lit = "true"
		case "notFalse":
			if v == "true" {
				continue // ActionCodeBreak=true is the server's default
			}
			lit = "true"
		case "streamAsr":
			if v == "0" {
				continue
			}
			lit = "true"
		case "map":
			m, isStrings := stringMap(v)
			if !isStrings || len(m) == 0 {
				return nil, false, false
			}
			lit = goMapLit(m)
		case "ms", "secs":
			if v == "0" {
				return nil, false, false
			}
			unit := "time.Millisecond"
			if f.kind == "secs" {
				unit = "time.Second"
			}
			lit, usesTime = v+" * "+unit, true
		case "float":
			if n, err := strconv.ParseFloat(v, 64); err != nil || n == 0 {
				return nil, false, false
			}
			lit = v
		}
		fields = append(fields, f.field+": "+lit)
	}
	if len(c.menu) > 0 {
		items := make([]string, 0, len(c.menu))
		for _, m := range c.menu {
			item := "{Key: " + q(m.Key) + ", Code: " + q(m.Code)
			if m.TtsParams != "" {
				tp, isStrings := stringMap(m.TtsParams)
				if !isStrings {
					return nil, false, false
				}
				if len(tp) > 0 {
					item += ", TtsParams: " + goMapLit(tp)
				}
			}
			items = append(items, item+"}")
		}
		fields = append(fields, "MenuKeyMap: []sdk.MenuItem{\n\t\t\t"+strings.Join(items, ",\n\t\t\t")+",\n\t\t}")
	}
	return fields, usesTime, true
}

func goDialtone(c *snippetCall) string {
	endpoint := c.scheme + "://" + c.host
	var body strings.Builder
	usesTime := false
	result := ""
	switch c.action {
	case "CancelCall":
		fmt.Fprintf(&body, "\tcancelled, err := c.CancelCall(ctx, %s)\n", q(c.vals["CallId"]))
		result = "\tfmt.Println(\"cancelled:\", cancelled)\n"
	case "SmartCallOperate":
		fmt.Fprintf(&body, "\tstatus, err := c.SmartCallOperate(ctx, %s, %s, %s)\n", q(c.vals["CallId"]), q(c.vals["Command"]), q(c.vals["Param"]))
		result = "\tfmt.Println(\"status:\", status)\n"
	case "QueryCallDetailByCallId":
		usesTime = true
		fmt.Fprintf(&body, "\tdetail, err := c.QueryCallDetailByCallId(ctx, sdk.CallDetailQuery{\n\t\tCallID: %s,\n\t\tProdID: %s,\n\t\tQueryDate: time.UnixMilli(%s),\n\t})\n",
			q(c.vals["CallId"]), orZero(c.vals["ProdId"]), orZero(c.vals["QueryDate"]))
		result = "\tif detail == nil {\n\t\tfmt.Println(\"no such call for that ProdId and day\")\n\t\treturn\n\t}\n\tfmt.Println(\"state:\", detail.State, detail.StateDesc)\n"
	default:
		fields, t, ok := dialtoneTyped(c)
		if ok {
			usesTime = t
			fmt.Fprintf(&body, "\tcall, err := c.%s(ctx, sdk.%s{\n", c.action, dialtoneStructs[c.action])
			for _, f := range fields {
				fmt.Fprintf(&body, "\t\t%s,\n", f)
			}
			body.WriteString("\t})\n")
			result = "\tfmt.Println(\"CallId:\", call.CallID)\n"
			break
		}
		// Client.Do sends the parameters exactly as given.
		body.WriteString("\t// Do sends the parameters as given (the typed request omits zero values\n\t// and takes string template variables only).\n")
		fmt.Fprintf(&body, "\tres, err := c.Do(ctx, %s, map[string]string{\n", q(c.action))
		for _, k := range sortedWire(c.wire) {
			fmt.Fprintf(&body, "\t\t%s: %s,\n", q(k), q(c.wire[k]))
		}
		body.WriteString("\t}, false)\n")
		result = "\tfmt.Println(\"CallId:\", res[\"CallId\"])\n"
	}
	var b strings.Builder
	b.WriteString("// " + c.action + " with Dialtone's Go SDK (package sdk).\n")
	b.WriteString("package main\n\nimport (\n\t\"context\"\n\t\"fmt\"\n\t\"os\"\n")
	if usesTime {
		b.WriteString("\t\"time\"\n")
	}
	b.WriteString("\n\t\"github.com/dialtone-voice/dialtone/sdk\"\n)\n\nfunc main() {\n")
	fmt.Fprintf(&b, "\tc, err := sdk.New(sdk.Config{\n\t\tAccessKeyID: %s,\n\t\tAccessKeySecret: os.Getenv(sdk.EnvAccessKeySecret),\n\t\tEndpoint: %s,\n\t})\n\tif err != nil {\n\t\tpanic(err)\n\t}\n\tctx := context.Background()\n", q(c.keyID), q(endpoint))
	b.WriteString(body.String())
	b.WriteString("\tif err != nil {\n\t\tpanic(err)\n\t}\n")
	b.WriteString(result)
	b.WriteString("}\n")
	return b.String()
}

func orZero(s string) string {
	if s == "" {
		return "0"
	}
	return s
}

// ---- Java ----

// javaValue is a Java literal of the model's field type.
func javaValue(p Param, v string) string {
	switch p.Type {
	case TInt64:
		return v + "L"
	case TInt32, TBool:
		return v
	case TFloat:
		if !strings.ContainsAny(v, ".eE") {
			return v + ".0"
		}
		return v
	}
	return jq(v)
}

const javaModels = "com.aliyun.dyvmsapi20170525.models."

func javaMenu(c *snippetCall, indent string) string {
	items := make([]string, 0, len(c.menu))
	for _, m := range c.menu {
		it := fmt.Sprintf("new %sIvrCallRequest.IvrCallRequestMenuKeyMap().setKey(%s).setCode(%s)", javaModels, jq(m.Key), jq(m.Code))
		if m.TtsParams != "" {
			it += fmt.Sprintf(".setTtsParams(%s)", jq(m.TtsParams))
		}
		items = append(items, it)
	}
	return "java.util.Arrays.asList(\n" + indent + strings.Join(items, ",\n"+indent) + ")"
}

func javaSeed(c *snippetCall) string {
	const sdk = "com.aliyun:dyvmsapi20170525 1.0.2"
	var b strings.Builder
	b.WriteString("// " + c.action + " with com.aliyun:dyvmsapi20170525 1.0.2, as in the seed's Java samples.\n")
	b.WriteString("import com.aliyun.tea.*;\n\npublic class Example {\n\n")
	b.WriteString("    /** The seed's createClient, with Dialtone as the endpoint. */\n")
	b.WriteString("    public static com.aliyun.dyvmsapi20170525.Client createClient(String accessKeyId, String accessKeySecret, String regionId) throws Exception {\n")
	b.WriteString("        // 1.0.2 takes com.aliyun.teaopenapi.models.Config (the seed's 0.0.2 took com.aliyun.tearpc.models.Config, same fields)\n")
	b.WriteString("        com.aliyun.teaopenapi.models.Config config = new com.aliyun.teaopenapi.models.Config();\n")
	b.WriteString("        // 您的AccessKey ID\n        config.accessKeyId = accessKeyId;\n        // 您的AccessKey Secret\n        config.accessKeySecret = accessKeySecret;\n        // 您的可用区ID\n        config.regionId = regionId;\n")
	fmt.Fprintf(&b, "        // Dialtone instead of dyvmsapi.aliyuncs.com\n        config.endpoint = %s;\n        config.protocol = %s;\n        return new com.aliyun.dyvmsapi20170525.Client(config);\n    }\n\n", jq(c.host), jq(c.scheme))
	b.WriteString("    public static void main(String[] args) throws Exception {\n")
	fmt.Fprintf(&b, "        com.aliyun.dyvmsapi20170525.Client client = Example.createClient(%s, System.getenv(%s), \"cn-hangzhou\");\n", jq(c.keyID), jq(secretEnv))
	fmt.Fprintf(&b, "        %[1]s%[2]sRequest request = %[1]s%[2]sRequest.build(TeaConverter.buildMap(\n", javaModels, c.action)
	var pairs []string
	var skipped []string
	for _, p := range c.plain {
		if c.action == "SmartCall" && javaSeedLacks[p.Name] {
			skipped = append(skipped, p.Name)
			continue
		}
		pairs = append(pairs, fmt.Sprintf("            new TeaPair(%s, %s)", jq(lowerFirst(p.Name)), javaValue(p, c.vals[p.Name])))
	}
	b.WriteString(strings.Join(pairs, ",\n"))
	b.WriteString("\n        ));\n")
	for _, name := range skipped {
		fmt.Fprintf(&b, "        // %s\n", notSent(name, sdk))
	}
	if len(c.menu) > 0 {
		fmt.Fprintf(&b, "        request.menuKeyMap = %s;\n", javaMenu(c, "                "))
	}
	fmt.Fprintf(&b, "        %s%sResponse response = client.%s(request);\n", javaModels, c.action, lowerFirst(c.action))
	b.WriteString("        System.out.println(com.aliyun.teautil.Common.toJSONString(response.body.toMap()));\n    }\n}\n")
	return b.String()
}

func javaNewest(c *snippetCall) string {
	var b strings.Builder
	b.WriteString("// " + c.action + " with com.aliyun:dyvmsapi20170525 4.0.0 (darabonba).\n")
	b.WriteString("public class Example {\n    public static void main(String[] args) throws Exception {\n")
	b.WriteString("        com.aliyun.teaopenapi.models.Config config = new com.aliyun.teaopenapi.models.Config()\n")
	fmt.Fprintf(&b, "                .setAccessKeyId(%s)\n                .setAccessKeySecret(System.getenv(%s));\n", jq(c.keyID), jq(secretEnv))
	fmt.Fprintf(&b, "        // Dialtone instead of dyvmsapi.aliyuncs.com\n        config.endpoint = %s;\n        config.protocol = %s;\n", jq(c.host), jq(c.scheme))
	b.WriteString("        com.aliyun.dyvmsapi20170525.Client client = new com.aliyun.dyvmsapi20170525.Client(config);\n")
	if newestLacksJava[c.action] {
		fmt.Fprintf(&b, "        // %s is no longer in this SDK's typed API: the client's generic callApi sends it.\n", c.action)
		fmt.Fprintf(&b, "        com.aliyun.teaopenapi.models.Params params = new com.aliyun.teaopenapi.models.Params()\n                .setAction(%s).setVersion(%q).setProtocol(\"HTTP\").setPathname(\"/\")\n                .setMethod(\"POST\").setAuthType(\"AK\").setStyle(\"RPC\").setReqBodyType(\"formData\").setBodyType(\"json\");\n", jq(c.action), apiVersion)
		b.WriteString("        java.util.Map<String, String> query = new java.util.TreeMap<>();\n")
		for _, k := range sortedWire(c.wire) {
			fmt.Fprintf(&b, "        query.put(%s, %s);\n", jq(k), jq(c.wire[k]))
		}
		b.WriteString("        java.util.Map<String, ?> response = client.callApi(params, new com.aliyun.teaopenapi.models.OpenApiRequest().setQuery(query), new com.aliyun.teautil.models.RuntimeOptions());\n")
		b.WriteString("        System.out.println(com.aliyun.teautil.Common.toJSONString(response.get(\"body\")));\n    }\n}\n")
		return b.String()
	}
	fmt.Fprintf(&b, "        %[1]s%[2]sRequest request = new %[1]s%[2]sRequest()", javaModels, c.action)
	for _, p := range c.plain {
		fmt.Fprintf(&b, "\n                .set%s(%s)", p.Name, javaValue(p, c.vals[p.Name]))
	}
	if len(c.menu) > 0 {
		fmt.Fprintf(&b, "\n                .setMenuKeyMap(%s)", javaMenu(c, "                        "))
	}
	b.WriteString(";\n")
	fmt.Fprintf(&b, "        %s%sResponse response = client.%s(request);\n", javaModels, c.action, lowerFirst(c.action))
	b.WriteString("        System.out.println(com.aliyun.teautil.Common.toJSONString(response.body.toMap()));\n    }\n}\n")
	return b.String()
}

// ---- Python ----

func pyValue(p Param, v string) string {
	switch p.Type {
	case TInt32, TInt64, TFloat:
		return v
	case TBool:
		if v == "true" {
			return "True"
		}
		return "False"
	}
	return q(v)
}

func pythonSeed(c *snippetCall) string {
	const sdk = "alibabacloud_dyvmsapi20170525 1.0.2"
	var b strings.Builder
	b.WriteString("# " + c.action + " with alibabacloud_dyvmsapi20170525 1.0.2 (tea-rpc), as in the seed's Python samples.\n")
	b.WriteString("import json\nimport os\n\nfrom alibabacloud_dyvmsapi20170525.client import Client as DyvmsapiClientClient\nfrom alibabacloud_tea_rpc import models as _rpc_models\nfrom alibabacloud_dyvmsapi20170525 import models as dyvmsapi_client_models\n\n\n")
	b.WriteString("def create_client(access_key_id, access_key_secret, region_id):\n    \"\"\"The seed's create_client, with Dialtone as the endpoint.\"\"\"\n    config = _rpc_models.Config()\n")
	b.WriteString("    # 您的AccessKey ID\n    config.access_key_id = access_key_id\n    # 您的AccessKey Secret\n    config.access_key_secret = access_key_secret\n    # 您的可用区ID\n    config.region_id = region_id\n")
	fmt.Fprintf(&b, "    # Dialtone instead of dyvmsapi.aliyuncs.com\n    config.endpoint = %s\n    config.protocol = %s\n    return DyvmsapiClientClient(config)\n\n\n", q(c.host), q(c.scheme))
	fmt.Fprintf(&b, "client = create_client(%s, os.environ[%s], \"cn-hangzhou\")\n", q(c.keyID), q(secretEnv))
	fmt.Fprintf(&b, "request = dyvmsapi_client_models.%sRequest(\n", c.action)
	var skipped []string
	for _, p := range c.plain {
		if c.action == "SmartCall" && seedLacks[p.Name] {
			skipped = append(skipped, p.Name)
			continue
		}
		fmt.Fprintf(&b, "    %s=%s,\n", snake(p.Name), pyValue(p, c.vals[p.Name]))
	}
	b.WriteString(")\n")
	for _, name := range skipped {
		fmt.Fprintf(&b, "# %s\n", notSent(name, sdk))
	}
	if len(c.menu) > 0 {
		b.WriteString("# This version drops a menu_key_map given to the constructor, and requires\n# tts_params in each item ({} means no variables).\nrequest.menu_key_map = [\n")
		for _, m := range c.menu {
			fmt.Fprintf(&b, "    dyvmsapi_client_models.IvrCallRequestMenuKeyMap(key=%s, code=%s, tts_params=%s),\n", q(m.Key), q(m.Code), q(seedMenuTtsParams(m)))
		}
		b.WriteString("]\n")
	}
	fmt.Fprintf(&b, "response = client.%s(request)\nprint(json.dumps(response.to_map(), ensure_ascii=False))\n", snake(c.action))
	return b.String()
}

func pythonNewest(c *snippetCall) string {
	var b strings.Builder
	b.WriteString("# " + c.action + " with alibabacloud_dyvmsapi20170525 5.3.0 (darabonba).\n")
	b.WriteString("import json\nimport os\n\nfrom alibabacloud_tea_openapi import models as open_api_models\nfrom alibabacloud_dyvmsapi20170525.client import Client\nfrom alibabacloud_dyvmsapi20170525 import models as dyvmsapi_models\n")
	generic := newestLacksPython[c.action]
	if generic {
		b.WriteString("from alibabacloud_tea_openapi import utils_models as open_api_util_models\nfrom darabonba.runtime import RuntimeOptions\n")
	}
	fmt.Fprintf(&b, "\nconfig = open_api_models.Config(\n    access_key_id=%s,\n    access_key_secret=os.environ[%s],\n)\n", q(c.keyID), q(secretEnv))
	fmt.Fprintf(&b, "# Dialtone instead of dyvmsapi.aliyuncs.com\nconfig.endpoint = %s\nconfig.protocol = %s\nclient = Client(config)\n", q(c.host), q(c.scheme))
	if generic {
		fmt.Fprintf(&b, "# %s is no longer in this SDK's typed API: the client's generic call_api sends it.\n", c.action)
		fmt.Fprintf(&b, "params = open_api_util_models.Params(action=%s, version=%q, protocol=\"HTTP\", pathname=\"/\", method=\"POST\",\n                                     auth_type=\"AK\", style=\"RPC\", req_body_type=\"formData\", body_type=\"json\")\n", q(c.action), apiVersion)
		b.WriteString("request = open_api_util_models.OpenApiRequest(query={\n")
		for _, k := range sortedWire(c.wire) {
			fmt.Fprintf(&b, "    %s: %s,\n", q(k), q(c.wire[k]))
		}
		b.WriteString("})\nresponse = client.call_api(params, request, RuntimeOptions())\nprint(json.dumps(response[\"body\"], ensure_ascii=False))\n")
		return b.String()
	}
	fmt.Fprintf(&b, "request = dyvmsapi_models.%sRequest(\n", c.action)
	for _, p := range c.plain {
		fmt.Fprintf(&b, "    %s=%s,\n", snake(p.Name), pyValue(p, c.vals[p.Name]))
	}
	if len(c.menu) > 0 {
		b.WriteString("    menu_key_map=[\n")
		for _, m := range c.menu {
			fmt.Fprintf(&b, "        dyvmsapi_models.%sRequestMenuKeyMap(key=%s, code=%s", c.action, q(m.Key), q(m.Code))
			if m.TtsParams != "" {
				fmt.Fprintf(&b, ", tts_params=%s", q(m.TtsParams))
			}
			b.WriteString("),\n")
		}
		b.WriteString("    ],\n")
	}
	fmt.Fprintf(&b, ")\nresponse = client.%s(request)\nprint(json.dumps(response.body.to_map(), ensure_ascii=False))\n", snake(c.action))
	return b.String()
}

// ---- Node.js (CommonJS) ----

// jsString is a single-quoted JavaScript string.
func jsString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\n", `\n`, "\r", `\r`, "\u2028", `\u2028`, "\u2029", `\u2029`).Replace(s) + "'"
}

// jsKey is an object key: bare when it is an identifier.
func jsKey(k string) string {
	for i, r := range k {
		if !(r == '_' || r == '$' || unicode.IsLetter(r) || i > 0 && unicode.IsDigit(r)) || r > unicode.MaxASCII {
			return jsString(k)
		}
	}
	return k
}

func jsValue(p Param, v string) string {
	switch p.Type {
	case TInt32, TInt64, TFloat, TBool:
		return v
	}
	return jsString(v)
}

const nodeRunMain = "\nmain().catch((err) => {\n  console.error(err);\n  process.exit(1);\n});\n"

func nodeSeed(c *snippetCall) string {
	var b strings.Builder
	b.WriteString("// " + c.action + " with @alicloud/rpc-client 1.3.2 (tea-rpc).\n// CommonJS: save as example.js and run with: node example.js\n'use strict';\n\nconst RPC = require('@alicloud/rpc-client');\n\n")
	b.WriteString("async function main() {\n  const config = new RPC.Config({\n")
	fmt.Fprintf(&b, "    accessKeyId: %s,\n    accessKeySecret: process.env.%s,\n    regionId: 'cn-hangzhou',\n    // Dialtone instead of dyvmsapi.aliyuncs.com\n    endpoint: %s,\n    protocol: %s,\n  });\n", jsString(c.keyID), secretEnv, jsString(c.host), jsString(c.scheme))
	b.WriteString("  const client = new RPC.default(config);\n")
	fmt.Fprintf(&b, "  // The request @alicloud/dyvmsapi20170525 1.x's %s() sends.\n", lowerFirst(c.action))
	fmt.Fprintf(&b, "  const response = await client.doRequest(%s, 'HTTPS', 'POST', %s, 'AK', null, {\n", jsString(c.action), jsString(apiVersion))
	for _, p := range c.plain {
		fmt.Fprintf(&b, "    %s: %s,\n", p.Name, jsValue(p, c.vals[p.Name]))
	}
	if len(c.menu) > 0 {
		b.WriteString("    MenuKeyMap: [\n")
		for _, m := range c.menu {
			fmt.Fprintf(&b, "      { Key: %s, Code: %s", jsString(m.Key), jsString(m.Code))
			if m.TtsParams != "" {
				fmt.Fprintf(&b, ", TtsParams: %s", jsString(m.TtsParams))
			}
			b.WriteString(" },\n")
		}
		b.WriteString("    ],\n")
	}
	b.WriteString("  }, {});\n  console.log(JSON.stringify(response));\n}\n")
	b.WriteString(nodeRunMain)
	return b.String()
}

func nodeNewest(c *snippetCall) string {
	var b strings.Builder
	b.WriteString("// " + c.action + " with @alicloud/openapi-client 0.4.15 (darabonba).\n// CommonJS: save as example.js and run with: node example.js\n'use strict';\n\nconst OpenApi = require('@alicloud/openapi-client');\n\n")
	b.WriteString("async function main() {\n  const client = new OpenApi.default(new OpenApi.Config({\n")
	fmt.Fprintf(&b, "    accessKeyId: %s,\n    accessKeySecret: process.env.%s,\n    // Dialtone instead of dyvmsapi.aliyuncs.com\n    endpoint: %s,\n    protocol: %s,\n  }));\n", jsString(c.keyID), secretEnv, jsString(c.host), jsString(c.scheme))
	fmt.Fprintf(&b, "  const params = new OpenApi.Params({\n    action: %s,\n    version: %s,\n    protocol: 'HTTP',\n    pathname: '/',\n    method: 'POST',\n    authType: 'AK',\n    style: 'RPC',\n    reqBodyType: 'formData',\n    bodyType: 'json',\n  });\n", jsString(c.action), jsString(apiVersion))
	b.WriteString("  const request = new OpenApi.OpenApiRequest({\n    query: {\n")
	for _, k := range sortedWire(c.wire) {
		fmt.Fprintf(&b, "      %s: %s,\n", jsKey(k), jsString(c.wire[k]))
	}
	b.WriteString("    },\n  });\n  const response = await client.callApi(params, request, {});\n  console.log(JSON.stringify(response.body));\n}\n")
	b.WriteString(nodeRunMain)
	return b.String()
}

// ---- C# ----

func csValue(p Param, v string) string {
	switch p.Type {
	case TInt32, TBool, TFloat:
		return v
	case TInt64:
		return v + "L"
	}
	return cq(v)
}

func csharpSeed(c *snippetCall) string {
	const ns = "AlibabaCloud.SDK.Dyvmsapi20170525"
	var b strings.Builder
	b.WriteString("// " + c.action + " with AlibabaCloud.SDK.Dyvmsapi20170525 0.1.0 (tea-rpc), as in the seed's .NET samples.\n")
	b.WriteString("using System;\nusing System.Collections.Generic;\n\nnamespace Example\n{\n    public class Program\n    {\n")
	b.WriteString("        // The seed's CreateClient, with Dialtone as the endpoint.\n")
	fmt.Fprintf(&b, "        public static %s.Client CreateClient(string accessKeyId, string accessKeySecret, string regionId)\n        {\n", ns)
	b.WriteString("            AlibabaCloud.RPCClient.Models.Config config = new AlibabaCloud.RPCClient.Models.Config();\n")
	b.WriteString("            // 您的AccessKey ID\n            config.AccessKeyId = accessKeyId;\n            // 您的AccessKey Secret\n            config.AccessKeySecret = accessKeySecret;\n            // 您的可用区ID\n            config.RegionId = regionId;\n")
	fmt.Fprintf(&b, "            // Dialtone instead of dyvmsapi.aliyuncs.com\n            config.Endpoint = %s;\n            config.Protocol = %s;\n            return new %s.Client(config);\n        }\n\n", cq(c.host), cq(c.scheme), ns)
	b.WriteString("        public static void Main(string[] args)\n        {\n")
	fmt.Fprintf(&b, "            %s.Client client = CreateClient(%s, Environment.GetEnvironmentVariable(%s), \"cn-hangzhou\");\n", ns, cq(c.keyID), cq(secretEnv))
	fmt.Fprintf(&b, "            %[1]s.Models.%[2]sRequest request = new %[1]s.Models.%[2]sRequest\n            {\n", ns, c.action)
	for _, p := range c.plain {
		if c.action == "SmartCall" && seedLacks[p.Name] {
			fmt.Fprintf(&b, "                // %s\n", notSent(p.Name, "AlibabaCloud.SDK.Dyvmsapi20170525 0.1.0"))
			continue
		}
		fmt.Fprintf(&b, "                %s = %s,\n", p.Name, csValue(p, c.vals[p.Name]))
	}
	if len(c.menu) > 0 {
		fmt.Fprintf(&b, "                MenuKeyMap = new List<%[1]s.Models.IvrCallRequest.IvrCallRequestMenuKeyMap>\n                {\n", ns)
		for _, m := range c.menu {
			fmt.Fprintf(&b, "                    new %s.Models.IvrCallRequest.IvrCallRequestMenuKeyMap { Key = %s, Code = %s, TtsParams = %s },\n", ns, cq(m.Key), cq(m.Code), cq(seedMenuTtsParams(m)))
		}
		b.WriteString("                },\n")
	}
	b.WriteString("            };\n")
	fmt.Fprintf(&b, "            %s.Models.%sResponse response = client.%s(request);\n", ns, c.action, c.action)
	b.WriteString("            Console.WriteLine(AlibabaCloud.TeaUtil.Common.ToJSONString(response.ToMap()));\n        }\n    }\n}\n")
	return b.String()
}

// ---- PHP ----

// phpQuote makes a single-quoted PHP string, where "$name$" stays literal.
func phpQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

func phpValue(p Param, v string) string {
	switch p.Type {
	case TInt32, TInt64, TFloat, TBool:
		return v
	}
	return phpQuote(v)
}

func phpSeed(c *snippetCall) string {
	const models = `AlibabaCloud\SDK\Dyvmsapi\V20170525\Models\`
	var b strings.Builder
	b.WriteString("<?php\n// " + c.action + " with alibabacloud/dyvmsapi-20170525 0.1.0 (tea-rpc), as in the seed's PHP samples.\n")
	b.WriteString("require __DIR__ . '/vendor/autoload.php';\n\nuse AlibabaCloud\\SDK\\Dyvmsapi\\V20170525\\Dyvmsapi;\nuse AlibabaCloud\\Tea\\Rpc\\Rpc\\Config;\n")
	fmt.Fprintf(&b, "use %s%sRequest;\n", models, c.action)
	if len(c.menu) > 0 {
		fmt.Fprintf(&b, "use %sIvrCallRequest\\menuKeyMap;\n", models)
	}
	b.WriteString("\n// The seed's createClient, with Dialtone as the endpoint.\nfunction createClient($accessKeyId, $accessKeySecret, $regionId)\n{\n    $config = new Config([]);\n")
	b.WriteString("    // 您的AccessKey ID\n    $config->accessKeyId = $accessKeyId;\n    // 您的AccessKey Secret\n    $config->accessKeySecret = $accessKeySecret;\n    // 您的可用区ID\n    $config->regionId = $regionId;\n")
	fmt.Fprintf(&b, "    // Dialtone instead of dyvmsapi.aliyuncs.com\n    $config->endpoint = %s;\n    $config->protocol = %s;\n    return new Dyvmsapi($config);\n}\n\n", phpQuote(c.host), phpQuote(c.scheme))
	fmt.Fprintf(&b, "$client = createClient(%s, getenv(%s), 'cn-hangzhou');\n", phpQuote(c.keyID), phpQuote(secretEnv))
	fmt.Fprintf(&b, "$request = new %sRequest([\n", c.action)
	for _, p := range c.plain {
		if c.action == "SmartCall" && seedLacks[p.Name] {
			fmt.Fprintf(&b, "    // %s\n", notSent(p.Name, "alibabacloud/dyvmsapi-20170525 0.1.0"))
			continue
		}
		fmt.Fprintf(&b, "    %s => %s,\n", phpQuote(lowerFirst(p.Name)), phpValue(p, c.vals[p.Name]))
	}
	if len(c.menu) > 0 {
		b.WriteString("    'menuKeyMap' => [\n")
		for _, m := range c.menu {
			fmt.Fprintf(&b, "        new menuKeyMap(['key' => %s, 'code' => %s, 'ttsParams' => %s]),\n", phpQuote(m.Key), phpQuote(m.Code), phpQuote(seedMenuTtsParams(m)))
		}
		b.WriteString("    ],\n")
	}
	fmt.Fprintf(&b, "]);\n$response = $client->%s($request);\necho json_encode($response->toMap(), JSON_UNESCAPED_UNICODE), PHP_EOL;\n", lowerFirst(c.action))
	return b.String()
}

// ---- curl ----

// curl placeholders: values that survive pop.Encode unchanged and are then
// replaced by the shell variables computed at run time.
const (
	curlNonce     = "DIALTONENONCEPLACEHOLDER"
	curlTimestamp = "DIALTONETIMESTAMPPLACEHOLDER"
)

// curlSnippet signs in the shell, so that the command can be run again
// (a fresh timestamp and nonce each time) and the secret stays in the
// user's environment. The canonical query is built here, sorted and
// percent-encoded as POP does (pop.CanonicalQuery); the shell only fills
// in the timestamp and nonce, encodes the whole query once more for the
// string to sign (only '%', '&' and '=' occur in it), and computes the
// HMAC-SHA1 with openssl.
func curlSnippet(c *snippetCall) string {
	params := map[string]string{
		"AccessKeyId":      c.keyID,
		"Action":           c.action,
		"Format":           "JSON",
		"RegionId":         "cn-hangzhou",
		"SignatureMethod":  "HMAC-SHA1",
		"SignatureNonce":   curlNonce,
		"SignatureVersion": "1.0",
		"Timestamp":        curlTimestamp,
		"Version":          apiVersion,
	}
	for k, v := range c.wire {
		params[k] = v
	}
	query := pop.CanonicalQuery(params)
	query = strings.Replace(query, curlNonce, "${nonce}", 1)
	query = strings.Replace(query, curlTimestamp, "${timestamp}", 1)
	var b strings.Builder
	b.WriteString("#!/usr/bin/env bash\n# " + c.action + " with curl, signed here (POP RPC signature v1, HMAC-SHA1).\n")
	b.WriteString("# Needs bash, curl and openssl; reads the secret from " + secretEnv + ".\nset -euo pipefail\n")
	b.WriteString("timestamp=$(date -u +%Y-%m-%dT%H%%3A%M%%3A%SZ)\nnonce=$(openssl rand -hex 16)\n")
	fmt.Fprintf(&b, "query='%s'\n", strings.NewReplacer("${nonce}", "'\"${nonce}\"'", "${timestamp}", "'\"${timestamp}\"'").Replace(query))
	b.WriteString("string_to_sign=\"POST&%2F&$(printf '%s' \"$query\" | sed -e 's/%/%25/g' -e 's/&/%26/g' -e 's/=/%3D/g')\"\n")
	b.WriteString("signature=$(printf '%s' \"$string_to_sign\" | openssl dgst -sha1 -hmac \"${" + secretEnv + "}&\" -binary | openssl base64 -A |\n  sed -e 's/+/%2B/g' -e 's/\\//%2F/g' -e 's/=/%3D/g')\n")
	fmt.Fprintf(&b, "curl -sS -X POST '%s://%s/' \\\n  -H 'Content-Type: application/x-www-form-urlencoded' \\\n  --data \"${query}&Signature=${signature}\"\necho\n", c.scheme, c.host)
	return b.String()
}
